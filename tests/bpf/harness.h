/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What every datapath test runner needs around the real BPF object:
 *
 *  - named cases, counted for scripts/test: each case's result goes, one line
 *    "PASS|FAIL|SKIP<TAB>name<TAB>reason", to the file named by $AMLG_TEST_RESULTS (ctest sets
 *    it; nothing is written without it), and results_end() prints the closing line
 *    "N passed, N failed, N skipped" that ctest's SKIP_REGULAR_EXPRESSION reads: a run with
 *    skipped cases and no failure is reported by ctest as skipped.  A skip is only for a kernel
 *    feature that is missing, never for data the test could make;
 *  - policy text compiled, and loaded into an offline instance shared by the whole run;
 *  - packets built and run, counters read, events collected from the ring buffer.
 */
#ifndef AMLG_TEST_HARNESS_H
#define AMLG_TEST_HARNESS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/event.h"
#include "compile/compile.h"
#include "kernel/loader.h"
#include "offline/pktgen.h"
#include "policy/policy.h"

#include "cpolicy.h"

/* ---- named cases */

enum { RESULT_PASS, RESULT_FAIL, RESULT_SKIP };

/* Record one case; reason may be NULL (a failure's details are printed by the runner). */
void result(int status, const char *name, const char *reason);

/* The closing line; the exit status: 1 if a case failed. */
int results_end(void);

/*
 * One case named "group/name" (name alone when group is NULL): "[group/name] PASS", or
 * "[group/name] FAIL: " and the formatted reason, on stdout; then its result line.
 */
void report(const char *group, const char *name, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Exits with 77 (skipped) unless root, then routes libbpf's messages to the log. */
void harness_start(void);

/* ---- policies */

/* Policy text compiled in mode (AMLG_MODE_*); a diagnostic is printed and fails it. */
int compile_text(const char *text, int mode, struct compiled_policy *cp);

/* The flow ID of a rule id under c, or NULL. */
const char *rule_flow(const struct compiled *c, unsigned rule);

/*
 * One loaded instance of each kind for the whole run, emptied and given the next policy between
 * uses (offline_reset): a load costs 0.1 s of verifier time.  SINGLE has the live entry
 * point, BATCH the batch one ("check"), BOTH both.
 */
enum { INSTANCE_SINGLE, INSTANCE_BATCH, INSTANCE_BOTH, INSTANCE_KINDS };
int shared_instance(int kind, const struct compiled *c, struct offline **out);
void shared_instances_close(void);

/* compile_text, then shared_instance of that kind with the result. */
int load_text(const char *text, int mode, int kind, struct compiled_policy *cp,
	      struct offline **out);

/* ---- packets */

/* One packet built from s and run in direction dir at now; -EINVAL when it cannot be built. */
int run_packet(struct offline *o, const struct pkt_spec *s, unsigned dir, uint64_t now,
	       struct offline_verdict *v);

/* The instance's counters. */
int read_stats(struct offline *o, struct amlg_stats *out);

/* ---- events */

struct ev_sink {
	struct amlg_event ev[16];
	unsigned n;
	struct ring_buffer *rb;
};

/* Collect the events of o's ring buffer into sink (the first 16); NULL rb on failure. */
struct ring_buffer *ev_sink_open(struct ev_sink *sink, struct offline *o);
/* What the ring buffer holds now, decoded into the sink; the number collected so far. */
unsigned ev_sink_drain(struct ev_sink *sink);
void ev_sink_close(struct ev_sink *sink);

#endif
