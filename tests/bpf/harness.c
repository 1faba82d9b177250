// SPDX-License-Identifier: GPL-2.0-only
/* The datapath test runners' harness: see harness.h. */
#include "harness.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/diag.h"
#include "base/log.h"
#include "kernel/maps.h"
#include "kernel/state.h"

/* ---- named cases */

static FILE *results_file;
static unsigned results_count[3];

static void results_field(const char *s)
{
	/* one line per case: tabs and newlines of free text become spaces */
	for (; s && *s; s++)
		fputc(*s == '\t' || *s == '\n' ? ' ' : *s, results_file);
}

void result(int status, const char *name, const char *reason)
{
	static const char *const word[] = { "PASS", "FAIL", "SKIP" };
	static int opened;

	results_count[status]++;
	if (!opened) {
		const char *path = getenv("AMLG_TEST_RESULTS");

		opened = 1;
		results_file = path && *path ? fopen(path, "w") : NULL;
	}
	if (!results_file)
		return;
	fprintf(results_file, "%s\t", word[status]);
	results_field(name);
	fputc('\t', results_file);
	results_field(reason);
	fputc('\n', results_file);
	fflush(results_file);
}

int results_end(void)
{
	printf("%u passed, %u failed, %u skipped\n", results_count[RESULT_PASS],
	       results_count[RESULT_FAIL], results_count[RESULT_SKIP]);
	if (results_file)
		fclose(results_file);
	return results_count[RESULT_FAIL] ? 1 : 0;
}

void report(const char *group, const char *name, bool ok, const char *fmt, ...)
{
	char full[256], why[512] = "";
	va_list ap;

	snprintf(full, sizeof(full), "%s%s%s", group ? group : "", group ? "/" : "", name);
	if (!ok) {
		va_start(ap, fmt);
		vsnprintf(why, sizeof(why), fmt, ap);
		va_end(ap);
	}
	printf("[%s] %s%s%s\n", full, ok ? "PASS" : "FAIL", ok ? "" : ": ", why);
	result(ok ? RESULT_PASS : RESULT_FAIL, full, why);
}

void harness_start(void)
{
	if (geteuid() != 0) {
		printf("needs root (BPF_PROG_TEST_RUN)\n");
		exit(77);
	}
	log_libbpf_init();
}

/* ---- policies */

int compile_text(const char *text, int mode, struct compiled_policy *cp)
{
	return compiled_policy_text("test.policy", text, mode, NULL, cp);
}

const char *rule_flow(const struct compiled *c, unsigned rule)
{
	const struct crule *r = rule == AMLG_RULE_NONE ? NULL : compiled_rule(c, rule);

	return r ? r->flow : NULL;
}

static struct offline shared[INSTANCE_KINDS];
static bool shared_open[INSTANCE_KINDS];

int shared_instance(int kind, const struct compiled *c, struct offline **out)
{
	static int (*const open[INSTANCE_KINDS])(struct offline *, const struct compiled *,
						 unsigned) = { offline_open, offline_open_batch,
							       offline_open_both };
	struct offline *o = &shared[kind];
	int err;

	if (shared_open[kind]) {
		err = offline_reset(o, c);
	} else {
		err = open[kind](o, c, 0);
		shared_open[kind] = !err;
	}
	*out = o;
	return err;
}

void shared_instances_close(void)
{
	for (int k = 0; k < INSTANCE_KINDS; k++)
		if (shared_open[k]) {
			offline_close(&shared[k]);
			shared_open[k] = false;
		}
}

int load_text(const char *text, int mode, int kind, struct compiled_policy *cp,
	      struct offline **out)
{
	int err = compile_text(text, mode, cp);

	return err ? err : shared_instance(kind, cp->c, out);
}

/* ---- packets */

int run_packet(struct offline *o, const struct pkt_spec *s, unsigned dir, uint64_t now,
	       struct offline_verdict *v)
{
	uint8_t f[PKT_MAX];
	size_t len = pkt_build(s, f, sizeof(f));

	if (!len)
		return -EINVAL;
	return offline_run(o, f, len, dir, now, v);
}

int read_stats(struct offline *o, struct amlg_stats *out)
{
	struct amlg_state st;
	int err = state_read_maps(&o->maps, "test", &st);

	if (err)
		return err;
	*out = st.stats;
	state_free(&st);
	return 0;
}

/* ---- events */

static int ev_sink_add(void *ctx, void *data, size_t size)
{
	struct ev_sink *s = ctx;

	if (s->n < sizeof(s->ev) / sizeof(s->ev[0]) && event_decode(data, size, &s->ev[s->n]) == 0)
		s->n++;
	return 0;
}

struct ring_buffer *ev_sink_open(struct ev_sink *sink, struct offline *o)
{
	memset(sink, 0, sizeof(*sink));
	sink->rb = ring_buffer__new(o->maps.fd[M_EVENTS], ev_sink_add, sink, NULL);
	return sink->rb;
}

unsigned ev_sink_drain(struct ev_sink *sink)
{
	if (sink->rb)
		ring_buffer__consume(sink->rb);
	return sink->n;
}

void ev_sink_close(struct ev_sink *sink)
{
	ring_buffer__free(sink->rb);
	sink->rb = NULL;
}
