// SPDX-License-Identifier: GPL-2.0-only
/* The Prometheus text format: names, escaping, numbers, and amlguard's families. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "unit.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "metrics/metrics.h"
#include "metrics/metrics_collect.h"
#include "metrics/metrics_textfile.h"
#include "base/vcount.h"

static void test_names(void **state)
{
	assert_true(metrics_valid_name("amlguard_packets_total"));
	assert_true(metrics_valid_name("a:b_c9"));
	assert_false(metrics_valid_name("9a"));
	assert_false(metrics_valid_name("a-b"));
	assert_false(metrics_valid_name(""));
	assert_true(metrics_valid_label("interface"));
	assert_false(metrics_valid_label("a:b"));
	assert_false(metrics_valid_label("__name__"));
	assert_false(metrics_valid_label("1x"));
}

static void test_escaping(void **state)
{
	struct mlabel l[] = { { "path", "C:\\p\"x\"\nend" }, { "flow", "" } };
	struct mbuf b;

	mbuf_init(&b);
	metrics_family(&b, "m_total", "counter", "help with \\ and \"quotes\"\nand a newline");
	metrics_u64(&b, "m_total", l, 2, 18446744073709551615ull);
	assert_int_equal(b.err, 0);
	assert_string_equal(b.s, "# HELP m_total help with \\\\ and \"quotes\"\\nand a newline\n"
				 "# TYPE m_total counter\n"
				 "m_total{path=\"C:\\\\p\\\"x\\\"\\nend\",flow=\"\"} "
				 "18446744073709551615\n");
	mbuf_free(&b);
}

static void test_numbers(void **state)
{
	struct mbuf b;

	mbuf_init(&b);
	metrics_f64(&b, "a", NULL, 0, 1732634340.123);
	metrics_f64(&b, "b", NULL, 0, 0.1);
	metrics_f64(&b, "c", NULL, 0, NAN);
	metrics_f64(&b, "d", NULL, 0, INFINITY);
	metrics_f64(&b, "e", NULL, 0, -INFINITY);
	metrics_u64(&b, "f", NULL, 0, 0);
	assert_string_equal(b.s, "a 1732634340.123\nb 0.1\nc NaN\nd +Inf\ne -Inf\nf 0\n");
	mbuf_free(&b);
}

static void test_bad_names_fail(void **state)
{
	struct mlabel l[] = { { "bad-label", "x" } };
	struct mbuf b;

	mbuf_init(&b);
	metrics_u64(&b, "ok", l, 1, 1);
	assert_int_equal(b.err, -EINVAL);
	mbuf_free(&b);
	mbuf_init(&b);
	metrics_family(&b, "bad name", "gauge", "x");
	assert_int_equal(b.err, -EINVAL);
	mbuf_free(&b);
}

/* A buffer that grows past its first allocation keeps everything. */
static void test_growth(void **state)
{
	struct mlabel l[] = { { "i", NULL } };
	char v[16];
	struct mbuf b;

	mbuf_init(&b);
	for (int i = 0; i < 5000; i++) {
		snprintf(v, sizeof(v), "%d", i);
		l[0].value = v;
		metrics_u64(&b, "x", l, 1, (uint64_t)i);
	}
	assert_int_equal(b.err, 0);
	assert_non_null(strstr(b.s, "x{i=\"0\"} 0\n"));
	assert_non_null(strstr(b.s, "x{i=\"4999\"} 4999\n"));
	assert_int_equal(strlen(b.s), b.len);
	mbuf_free(&b);
}

/* Count the lines of a family's samples (not its comments). */
static int samples(const char *text, const char *name)
{
	size_t n = strlen(name);
	int count = 0;

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, name, n) && (p[n] == '{' || p[n] == ' '))
			count++;
	return count;
}

static void test_render(void **state)
{
	struct rule_state *rules = calloc(AMLG_RULE_IDS, sizeof(*rules));
	struct iface_metrics im[2] = { { .ifname = "eth1", .ok = true },
				       { .ifname = "eth2", .ok = false } };
	struct daemon_metrics dm = { .alerts_on = true,
				     .alerts_started = 3,
				     .last_reload_ok = true };
	struct amlg_state *st = &im[0].st;
	struct mbuf b;

	assert_non_null(rules);
	st->rules = rules;
	st->prog_id[0] = st->prog_id[1] = 7;
	st->stats.packets[AMLG_DIR_OUT][0] = 10;
	st->stats.packets[AMLG_DIR_OUT][1] = 4;
	st->stats.bytes[AMLG_DIR_IN][0] = 1500;
	st->stats.reasons[AMLG_DIR_OUT][AMLG_REASON_NO_RULE] = 4;
	st->stats.events_ringbuf_full = 2;
	st->stats.events_ratelimited = 5;
	st->pcfg.generation = 9;
	st->pcfg.load_time_ns = 1700000000500000000ull;
	st->pcfg.tags_change = 321;
	st->pcfg.mode = AMLG_MODE_ENFORCE;
	snprintf(st->pcfg.path, sizeof(st->pcfg.path), "/etc/a \"b\".policy");
	st->ct_capacity = 65536;
	/* two rules of one flow ID are summed; one rule without a flow ID */
	for (int i = 0; i < 3; i++) {
		rules[i].info.used = 1;
		rules[i].info.dir = AMLG_DIR_OUT;
		rules[i].packets = 10u * (unsigned)(i + 1);
		rules[i].bytes = 100;
	}
	snprintf(rules[0].info.flow, AMLG_FLOW_MAX, "F-A");
	snprintf(rules[1].info.flow, AMLG_FLOW_MAX, "F-A");
	dm.sink_on[SINK_FILE] = true;
	dm.records[SINK_FILE] = 6;
	mbuf_init(&b);
	assert_int_equal(metrics_render(&b, im, 2, &dm), 0);
	assert_non_null(strstr(
		b.s,
		"amlguard_packets_total{interface=\"eth1\",direction=\"out\",verdict=\"allowed\"} 10\n"));
	assert_non_null(strstr(
		b.s,
		"amlguard_bytes_total{interface=\"eth1\",direction=\"in\",verdict=\"allowed\"} 1500\n"));
	assert_non_null(strstr(
		b.s,
		"amlguard_flow_packets_total{interface=\"eth1\",direction=\"out\",flow=\"F-A\"} 30\n"));
	assert_non_null(strstr(
		b.s,
		"amlguard_flow_packets_total{interface=\"eth1\",direction=\"out\",flow=\"\"} 30\n"));
	assert_non_null(strstr(
		b.s,
		"amlguard_violations_total{interface=\"eth1\",direction=\"out\",reason=\"no-rule\"} 4\n"));
	assert_non_null(strstr(
		b.s,
		"amlguard_events_dropped_total{interface=\"eth1\",cause=\"ringbuf_full\"} 2\n"));
	assert_non_null(strstr(
		b.s,
		"amlguard_events_dropped_total{interface=\"eth1\",cause=\"rate_limited\"} 5\n"));
	assert_non_null(strstr(b.s, "amlguard_policy_generation{interface=\"eth1\"} 9\n"));
	assert_non_null(strstr(
		b.s,
		"amlguard_policy_loaded_timestamp_seconds{interface=\"eth1\"} 1700000000.5\n"));
	assert_non_null(strstr(b.s, "amlguard_tags_change_number{interface=\"eth1\"} 321\n"));
	assert_non_null(strstr(b.s, "path=\"/etc/a \\\"b\\\".policy\""));
	assert_non_null(strstr(b.s, "amlguard_conntrack_capacity{interface=\"eth1\"} 65536\n"));
	assert_non_null(strstr(b.s, "amlguard_attached{interface=\"eth1\"} 1\n"));
	assert_non_null(strstr(b.s, "amlguard_attached{interface=\"eth2\"} 0\n"));
	assert_non_null(strstr(b.s, "amlguard_alerts_total{outcome=\"started\"} 3\n"));
	assert_non_null(strstr(b.s, "amlguard_sink_records_total{sink=\"file\"} 6\n"));
	/* an interface that could not be read has no traffic samples */
	assert_null(strstr(b.s, "amlguard_packets_total{interface=\"eth2\""));
	/* 2 directions x 2 verdicts; 2 directions x every reason but "none" */
	assert_int_equal(samples(b.s, "amlguard_packets_total"), 4);
	assert_int_equal(samples(b.s, "amlguard_violations_total"), 2 * (AMLG_REASON_MAX - 1));
	/* every family is announced once, and each counter's name ends in _total */
	for (const char *p = strstr(b.s, "# TYPE "); p; p = strstr(p + 1, "# TYPE ")) {
		char name[96], type[16];

		assert_int_equal(sscanf(p, "# TYPE %95s %15s", name, type), 2);
		if (!strcmp(type, "counter"))
			assert_non_null(strstr(name, "_total"));
	}
	mbuf_free(&b);
	free(rules);
}

/*
 * The metrics alerting rules use: the mode as a 0/1 pair, undeclared egress flows and flow-ID
 * violations by mode (every combination present from the start, so that the first one is an
 * increase), DNS learning, conntrack and the tag file's date.
 */
static void test_render_alerting(void **state)
{
	struct rule_state *rules = calloc(AMLG_RULE_IDS, sizeof(*rules));
	struct vcount *vc = calloc(1, sizeof(*vc));
	struct iface_metrics im[1] = { { .ifname = "eth1", .ok = true } };
	struct daemon_metrics dm = { .last_reload_ok = true };
	struct amlg_state *st = &im[0].st;
	char flow[16];
	struct mbuf b;

	assert_non_null(rules);
	assert_non_null(vc);
	st->rules = rules;
	st->pcfg.mode = AMLG_MODE_AUDIT;
	st->stats.dns_responses = 8;
	st->stats.dns_untrusted = 2;
	st->stats.dns_malformed = 3;
	st->stats.dns_evicted_live = 1;
	st->stats.ct_created = 40;
	/* F-A out (two rules), F-B out, F-A in: three (direction, flow) pairs */
	for (int i = 0; i < 4; i++) {
		rules[i].info.used = 1;
		rules[i].info.dir = i == 3 ? AMLG_DIR_IN : AMLG_DIR_OUT;
		snprintf(rules[i].info.flow, AMLG_FLOW_MAX, "%s", i == 2 ? "F-B" : "F-A");
	}
	vcount_undeclared(vc, AMLG_MODE_AUDIT, AMLG_REASON_NO_RULE);
	vcount_undeclared(vc, AMLG_MODE_AUDIT, AMLG_REASON_NO_RULE);
	vcount_undeclared(vc, AMLG_MODE_ENFORCE, AMLG_REASON_PORT);
	vcount_flow(vc, AMLG_MODE_AUDIT, AMLG_DIR_OUT, "F-B");
	vcount_flow(vc, AMLG_MODE_AUDIT, AMLG_DIR_OUT, "F-B");
	/* a flow ID of an earlier policy stays, with its count */
	vcount_flow(vc, AMLG_MODE_ENFORCE, AMLG_DIR_OUT, "OLD");
	im[0].vc = vc;
	im[0].tags_time = 1763424000; /* 2025-11-18 */
	mbuf_init(&b);
	assert_int_equal(metrics_render(&b, im, 1, &dm), 0);
	assert_non_null(strstr(b.s, "amlguard_mode{interface=\"eth1\",mode=\"audit\"} 1\n"));
	assert_non_null(strstr(b.s, "amlguard_mode{interface=\"eth1\",mode=\"enforce\"} 0\n"));
	assert_non_null(strstr(b.s, "amlguard_undeclared_egress_flows_total{interface=\"eth1\","
				    "mode=\"audit\",reason=\"no-rule\"} 2\n"));
	assert_non_null(strstr(b.s, "amlguard_undeclared_egress_flows_total{interface=\"eth1\","
				    "mode=\"enforce\",reason=\"port\"} 1\n"));
	assert_non_null(strstr(b.s, "amlguard_undeclared_egress_flows_total{interface=\"eth1\","
				    "mode=\"enforce\",reason=\"no-rule\"} 0\n"));
	assert_int_equal(samples(b.s, "amlguard_undeclared_egress_flows_total"),
			 2 * (AMLG_REASON_MAX - 1));
	assert_non_null(strstr(b.s, "amlguard_flow_violations_total{interface=\"eth1\","
				    "mode=\"audit\",direction=\"out\",flow=\"F-B\"} 2\n"));
	assert_non_null(strstr(b.s, "amlguard_flow_violations_total{interface=\"eth1\","
				    "mode=\"enforce\",direction=\"out\",flow=\"F-A\"} 0\n"));
	assert_non_null(strstr(b.s, "amlguard_flow_violations_total{interface=\"eth1\","
				    "mode=\"audit\",direction=\"in\",flow=\"F-A\"} 0\n"));
	assert_non_null(strstr(b.s, "amlguard_flow_violations_total{interface=\"eth1\","
				    "mode=\"enforce\",direction=\"out\",flow=\"OLD\"} 1\n"));
	/* (F-B out, OLD out, F-A out, F-A in) x 2 modes */
	assert_int_equal(samples(b.s, "amlguard_flow_violations_total"), 8);
	assert_non_null(strstr(b.s, "amlguard_dns_responses_total{interface=\"eth1\","
				    "resolver=\"untrusted\"} 2\n"));
	assert_non_null(strstr(b.s, "amlguard_dns_learning_failures_total{interface=\"eth1\","
				    "cause=\"malformed\"} 3\n"));
	assert_non_null(strstr(b.s, "amlguard_dns_learning_failures_total{interface=\"eth1\","
				    "cause=\"table_full\"} 1\n"));
	assert_non_null(strstr(b.s, "amlguard_conntrack_created_total{interface=\"eth1\"} 40\n"));
	assert_non_null(
		strstr(b.s, "amlguard_tags_timestamp_seconds{interface=\"eth1\"} 1763424000\n"));
	mbuf_free(&b);
	/* without the daemon's counts (no dm, no vc) the daemon's families are absent */
	im[0].vc = NULL;
	im[0].tags_time = 0;
	mbuf_init(&b);
	assert_int_equal(metrics_render(&b, im, 1, NULL), 0);
	assert_null(strstr(b.s, "amlguard_undeclared_egress_flows_total{"));
	assert_null(strstr(b.s, "amlguard_tags_timestamp_seconds{"));
	mbuf_free(&b);
	/* beyond VCOUNT_FLOWS pairs, the rest is summed under one label */
	memset(vc, 0, sizeof(*vc));
	for (int i = 0; i < VCOUNT_FLOWS + 5; i++) {
		snprintf(flow, sizeof(flow), "F%d", i);
		vcount_flow(vc, AMLG_MODE_ENFORCE, AMLG_DIR_IN, flow);
	}
	assert_int_equal(vc->nflows, VCOUNT_FLOWS);
	assert_int_equal(vc->other[AMLG_MODE_ENFORCE][AMLG_DIR_IN], 5);
	free(vc);
	free(rules);
}

/* The tag file's date: from the name, else the file's modification time, else none. */
static void test_tags_time(void **state)
{
	struct amlg_pcfg pc = { 0 };
	char path[] = "/tmp/amlg-tags-XXXXXX";
	struct timespec ts[2] = { { .tv_sec = 1700000000 }, { .tv_sec = 1700000000 } };
	int fd;

	assert_true(metrics_tags_time(&pc) == 0);
	pc.tags_change = 374;
	snprintf(pc.tags_date, sizeof(pc.tags_date), "20251020");
	assert_true(metrics_tags_time(&pc) == 1760918400.0);
	pc.tags_date[0] = '\0';
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(futimens(fd, ts), 0);
	close(fd);
	snprintf(pc.tags_file, sizeof(pc.tags_file), "%s", path);
	assert_true(metrics_tags_time(&pc) == 1700000000.0);
	unlink(path);
	assert_true(metrics_tags_time(&pc) == 0);
}

/*
 * The textfile is replaced through a temporary file nobody can predict or plant a link at
 * (the textfile directory belongs to node_exporter's user), readable by node_exporter,
 * writable by nobody else, whatever the umask; nothing is left behind.
 */
static void test_textfile(void **state)
{
	char dir[] = "/tmp/amlg-prom-XXXXXX", path[128], victim[128], link[160];
	const char text[] = "amlguard_up 1\n";
	struct stat st;
	mode_t old;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/amlguard.prom", dir);
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	/* the name the temporary file had before: a planted link there is not followed */
	snprintf(link, sizeof(link), "%s.%ld.tmp", path, (long)getpid());
	f = fopen(victim, "w");
	assert_non_null(f);
	fputs("untouched\n", f);
	fclose(f);
	assert_int_equal(symlink(victim, link), 0);
	old = umask(0);
	assert_int_equal(metrics_textfile_write(path, text, strlen(text)), 0);
	umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(st.st_size, (off_t)strlen(text));
	assert_int_equal(stat(victim, &st), 0);
	assert_int_equal(st.st_size, 10);
	unlink(link);
	unlink(victim);
	unlink(path);
	/* the directory is empty again: no temporary file left */
	assert_int_equal(rmdir(dir), 0);
}

UNIT_TESTS(NULL, NULL, cmocka_unit_test(test_names), cmocka_unit_test(test_escaping),
	   cmocka_unit_test(test_numbers), cmocka_unit_test(test_bad_names_fail),
	   cmocka_unit_test(test_growth), cmocka_unit_test(test_render),
	   cmocka_unit_test(test_render_alerting), cmocka_unit_test(test_tags_time),
	   cmocka_unit_test(test_textfile))
