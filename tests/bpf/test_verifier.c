// SPDX-License-Identifier: GPL-2.0-only
/*
 * The verifier's work for each entry point, loaded on its own: the instructions it processed
 * (its BPF_LOG_STATS line) must stay within a budget.  Every "check", "explain", attach and
 * test pays this at each load; a change that multiplies the paths the verifier walks (a loop or
 * a block reached from many paths, inlined instead of a global function) shows here first, not
 * as a suite that is slow for no visible reason.
 *
 * The budget, AMLG_VERIFIER_BUDGET instructions, is about twice what the entry points take on
 * Linux 6.18 with clang 14 (71 to 77 k; before name decoding, the learned-host bitmap, the name
 * comparison and the parser's layers became global functions and the bitmap scans a bpf_loop()
 * callback they took 623 k, 1.35 s a load) and a sixth of the kernel's limit of 1 M.
 */
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amlguard.skel.h"
#include "amlguard_xdp.skel.h"
#include "bpf/amlguard_abi.h"
#include "harness.h"

#define AMLG_VERIFIER_BUDGET 160000
#define LOG_SIZE (1u << 20)

static char vlog[LOG_SIZE];

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* "processed N insns" of the statistics line, or -1. */
static long processed(const char *log)
{
	const char *p = strstr(log, "processed ");

	return p ? strtol(p + strlen("processed "), NULL, 10) : -1;
}

static void judge(const char *name, int err, double secs)
{
	long n = processed(vlog);

	if (err) {
		report("verifier", name, false, "the kernel refused it (%d); log tail: %s", err,
		       vlog + (strlen(vlog) > 400 ? strlen(vlog) - 400 : 0));
		return;
	}
	printf("  %s: %ld instructions processed, %.3f s\n", name, n, secs);
	report("verifier", name, n > 0 && n <= AMLG_VERIFIER_BUDGET,
	       "%ld instructions processed (budget %d)", n, AMLG_VERIFIER_BUDGET);
}

/* Load obj with only its program prog, the verifier's statistics into vlog, and judge them. */
static void load_alone(struct bpf_object *obj, const char *prog, const char *name)
{
	struct bpf_program *p;
	double t0;
	int err;

	bpf_object__for_each_program(p, obj) {
		bool mine = !strcmp(bpf_program__name(p), prog);

		bpf_program__set_autoload(p, mine);
		if (mine) {
			bpf_program__set_log_buf(p, vlog, sizeof(vlog));
			bpf_program__set_log_level(p, 4); /* BPF_LOG_STATS */
		}
	}
	vlog[0] = '\0';
	t0 = now_s();
	err = bpf_object__load(obj);
	judge(name, err, now_s() - t0);
}

/* One tc-object entry point of the role. */
static void tc_entry(const char *prog, unsigned role, const char *name)
{
	struct amlguard_bpf *s = amlguard_bpf__open();

	if (!s) {
		report("verifier", name, false, "cannot open the object");
		return;
	}
	s->rodata->amlg_role = role;
	load_alone(s->obj, prog, name);
	amlguard_bpf__destroy(s);
}

static void xdp_entry(unsigned role, const char *name)
{
	struct amlguard_xdp_bpf *x = amlguard_xdp_bpf__open();

	if (!x) {
		report("verifier", name, false, "cannot open the object");
		return;
	}
	x->rodata->amlg_role = role;
	load_alone(x->obj, "amlg_xdp", name);
	amlguard_xdp_bpf__destroy(x);
}

int main(void)
{
	harness_start();
	tc_entry("amlg_ingress", AMLG_ROLE_HOST, "amlg_ingress/host");
	tc_entry("amlg_egress", AMLG_ROLE_HOST, "amlg_egress/host");
	tc_entry("amlg_ingress", AMLG_ROLE_GATEWAY, "amlg_ingress/gateway");
	tc_entry("amlg_egress", AMLG_ROLE_GATEWAY, "amlg_egress/gateway");
	tc_entry("amlg_test", AMLG_ROLE_HOST, "amlg_test");
	tc_entry("amlg_batch_run", AMLG_ROLE_HOST, "amlg_batch_run");
	xdp_entry(AMLG_ROLE_GATEWAY, "amlg_xdp/gateway");
	return results_end();
}
