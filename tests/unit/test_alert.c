// SPDX-License-Identifier: GPL-2.0-only
/* Alerts: de-duplication per flow, the rate with its summary, and the command runner. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "sinks/alert.h"
#include "sinks/alert_limit.h"

#define SEC 1000000000ull

static struct alert_key key(uint16_t sport, uint16_t dport)
{
	struct alert_key k = {
		.ifindex = 3, .family = 4, .proto = 6, .sport = sport, .dport = dport
	};

	k.saddr[0] = 192;
	k.daddr[0] = 203;
	return k;
}

static void test_dedupe_window(void **state)
{
	struct alert_limit l;
	struct alert_key a = key(1000, 443), b = key(1001, 443);

	assert_int_equal(alert_limit_init(&l, 10, 100, 60, 64), 0);
	assert_int_equal(alert_limit_check(&l, &a, 1 * SEC), ALERT_RUN);
	assert_int_equal(alert_limit_check(&l, &a, 2 * SEC), ALERT_DUPLICATE);
	/* another source port is another flow */
	assert_int_equal(alert_limit_check(&l, &b, 2 * SEC), ALERT_RUN);
	assert_int_equal(alert_limit_check(&l, &a, 10 * SEC), ALERT_DUPLICATE);
	/* the window counts from the alert, not from the last duplicate */
	assert_int_equal(alert_limit_check(&l, &a, 11 * SEC + 1), ALERT_RUN);
	alert_limit_free(&l);
}

static void test_no_window(void **state)
{
	struct alert_limit l;
	struct alert_key a = key(1, 2);

	assert_int_equal(alert_limit_init(&l, 0, 100, 60, 16), 0);
	assert_int_equal(alert_limit_check(&l, &a, SEC), ALERT_RUN);
	assert_int_equal(alert_limit_check(&l, &a, SEC), ALERT_RUN);
	alert_limit_free(&l);
}

static void test_rate_and_summary(void **state)
{
	struct alert_limit l;
	int run = 0, suppressed = 0;

	assert_int_equal(alert_limit_init(&l, 600, 3, 10, 64), 0);
	for (uint16_t p = 1; p <= 10; p++) {
		struct alert_key k = key(p, 443);

		switch (alert_limit_check(&l, &k, 100 * SEC + p)) {
		case ALERT_RUN:
			run++;
			break;
		case ALERT_SUPPRESSED:
			suppressed++;
			break;
		default:
			fail();
		}
	}
	assert_int_equal(run, 3);
	assert_int_equal(suppressed, 7);
	/* suppressed flows are remembered: not alerted again within the window */
	{
		struct alert_key k = key(5, 443);

		assert_int_equal(alert_limit_check(&l, &k, 101 * SEC), ALERT_DUPLICATE);
	}
	/* the summary is due once the period is over, and only once */
	assert_int_equal(alert_limit_summary(&l, 105 * SEC), 0);
	assert_int_equal(alert_limit_summary(&l, 110 * SEC + 1), 7);
	assert_int_equal(alert_limit_summary(&l, 111 * SEC), 0);
	/* a new period allows new alerts */
	{
		struct alert_key k = key(50, 443);

		assert_int_equal(alert_limit_check(&l, &k, 112 * SEC), ALERT_RUN);
	}
	alert_limit_free(&l);
}

/* Suppressions of a period that a new alert closed are not lost. */
static void test_summary_across_periods(void **state)
{
	struct alert_limit l;
	struct alert_key a = key(1, 1), b = key(2, 2), c = key(3, 3);

	assert_int_equal(alert_limit_init(&l, 600, 1, 10, 64), 0);
	assert_int_equal(alert_limit_check(&l, &a, 1 * SEC), ALERT_RUN);
	assert_int_equal(alert_limit_check(&l, &b, 2 * SEC), ALERT_SUPPRESSED);
	assert_int_equal(alert_limit_check(&l, &c, 20 * SEC), ALERT_RUN);
	assert_int_equal(alert_limit_summary(&l, 20 * SEC), 1);
	alert_limit_free(&l);
}

/* A full table forgets its oldest flows first, and keeps working. */
static void test_table_full(void **state)
{
	struct alert_limit l;

	assert_int_equal(alert_limit_init(&l, 600, 100000, 1, 16), 0);
	for (uint16_t p = 0; p < 1000; p++) {
		struct alert_key k = key(p, 80);

		assert_int_equal(alert_limit_check(&l, &k, SEC + p), ALERT_RUN);
	}
	{
		struct alert_key k = key(999, 80);

		assert_int_equal(alert_limit_check(&l, &k, SEC + 1000), ALERT_DUPLICATE);
	}
	alert_limit_free(&l);
}

/* ---- the runner, with real commands ---------------------------------------------------------- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

/* Reap and pump until nothing runs, or the deadline. */
static void drive(struct alert_runner *r, int epfd, unsigned ms)
{
	uint64_t end = now_ns() + ms * 1000000ull;

	while ((r->running || r->qlen) && now_ns() < end) {
		struct epoll_event ev[4];
		int n = epoll_wait(epfd, ev, 4, 10);

		for (int i = 0; i < n; i++)
			alert_on_writable(r, (unsigned)ev[i].data.u64);
		alert_reap(r, now_ns());
		alert_tick(r, now_ns());
	}
}

static char *slurp(const char *path)
{
	static char buf[1 << 20];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void test_runner(void **state)
{
	char dir[] = "/tmp/amlg-alert-XXXXXX", cmd[512], out[64];
	struct alert_runner r;
	int epfd = epoll_create1(0);
	char *big = malloc(200001);

	assert_non_null(mkdtemp(dir));
	snprintf(out, sizeof(out), "%s/out", dir);
	/* each run appends its input and records how many ran at once */
	snprintf(cmd, sizeof(cmd),
		 "mkdir %s/run.$$ && n=$(ls -d %s/run.* | wc -l) && echo $n >> %s/conc && "
		 "cat >> %s && echo >> %s && sleep 0.2; rmdir %s/run.$$",
		 dir, dir, dir, out, out, dir);
	assert_int_equal(alert_runner_init(&r, cmd, 2, 10, epfd, 0), 0);
	for (int i = 0; i < 5; i++) {
		char *p;

		assert_true(asprintf(&p, "{\"n\":%d}", i) > 0);
		alert_submit(&r, p, now_ns());
	}
	assert_true(r.running <= 2);
	assert_int_equal(r.qlen, 3);
	/* a payload larger than a pipe holds is written as the command reads it */
	memset(big, 'x', 200000);
	big[200000] = '\0';
	alert_submit(&r, big, now_ns());
	drive(&r, epfd, 10000);
	assert_int_equal(r.running, 0);
	assert_int_equal(r.started, 6);
	assert_int_equal(r.failed, 0);
	{
		char *s = slurp(out);

		assert_non_null(s);
		for (int i = 0; i < 5; i++) {
			char want[16];

			snprintf(want, sizeof(want), "{\"n\":%d}", i);
			assert_non_null(strstr(s, want));
		}
		assert_true(strlen(s) > 200000);
	}
	snprintf(out, sizeof(out), "%s/conc", dir);
	{
		char *s = slurp(out);

		assert_non_null(s);
		assert_null(strchr(s, '3'));
	}
	alert_runner_free(&r, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	close(epfd);
}

static void test_runner_failures(void **state)
{
	struct alert_runner r;
	int epfd = epoll_create1(0);

	/* exit status, a missing command, and a timeout are all failures */
	assert_int_equal(alert_runner_init(&r, "exit 3", 4, 10, epfd, 0), 0);
	alert_submit(&r, strdup("{}"), now_ns());
	drive(&r, epfd, 5000);
	assert_int_equal(r.failed, 1);
	alert_runner_free(&r, 0);

	assert_int_equal(alert_runner_init(&r, "/nonexistent/amlg-alert", 4, 10, epfd, 0), 0);
	alert_submit(&r, strdup("{}"), now_ns());
	drive(&r, epfd, 5000);
	assert_int_equal(r.failed, 1);
	alert_runner_free(&r, 0);

	assert_int_equal(alert_runner_init(&r, "sleep 30", 1, 1, epfd, 0), 0);
	alert_submit(&r, strdup("{}"), now_ns());
	drive(&r, epfd, 5000);
	assert_int_equal(r.running, 0);
	assert_int_equal(r.timed_out, 1);
	assert_int_equal(r.failed, 1);
	alert_runner_free(&r, 0);
	close(epfd);
}

/* More waiting than the queue holds: the rest is dropped and counted, never blocks. */
static void test_queue_full(void **state)
{
	struct alert_runner r;
	int epfd = epoll_create1(0);

	assert_int_equal(alert_runner_init(&r, "sleep 5", 1, 10, epfd, 0), 0);
	for (int i = 0; i < ALERT_QUEUE_MAX + 11; i++)
		alert_submit(&r, strdup("{}"), now_ns());
	assert_int_equal(r.running, 1);
	assert_int_equal(r.qlen, ALERT_QUEUE_MAX);
	assert_int_equal(r.dropped, 10);
	/* stopping kills what runs and frees what waits */
	alert_runner_free(&r, 0);
	close(epfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dedupe_window),
		cmocka_unit_test(test_no_window),
		cmocka_unit_test(test_rate_and_summary),
		cmocka_unit_test(test_summary_across_periods),
		cmocka_unit_test(test_table_full),
		cmocka_unit_test(test_runner),
		cmocka_unit_test(test_runner_failures),
		cmocka_unit_test(test_queue_full),
	};

	/* The runner reaps its children; SIGCHLD must not be ignored. */
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
