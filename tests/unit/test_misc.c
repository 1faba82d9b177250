// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel-free corners of the map, state and table modules: pin directory names
 * (user/kernel/maps.c), summing per-CPU counters (user/kernel/state.c), and the default interface settings
 * (user/kernel/tables.c).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"

#include "kernel/maps.h"
#include "kernel/state.h"
#include "kernel/tables.h"

#define NSEC 1000000000ull

/* ---- pin_dir */

static void test_pin_dir(void **state)
{
	char buf[256];

	assert_int_equal(pin_dir("eth0", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/sys/fs/bpf/amlguard/eth0");
	assert_int_equal(pin_dir("veth-amlg.42", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/sys/fs/bpf/amlguard/veth-amlg.42");
	assert_int_equal(pin_dir("...", buf, sizeof(buf)), 0); /* a valid interface name */
	assert_string_equal(buf, "/sys/fs/bpf/amlguard/...");
}

static void test_pin_dir_bad(void **state)
{
	/* Names that would leave the pin root, or name no directory of their own. */
	static const char *const bad[] = { "", "/", "a/b", "../eth0", "eth0/", ".", ".." };
	char buf[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(buf, 'x', sizeof(buf));
		if (pin_dir(bad[i], buf, sizeof(buf)) != -EINVAL)
			fail_msg("'%s': accepted as %s", bad[i], buf);
		assert_string_equal(buf, "");
	}
}

static void test_pin_dir_fit(void **state)
{
	const char *want = "/sys/fs/bpf/amlguard/eth0";
	char buf[64];

	/* Exactly room for the terminator, then one byte short. */
	assert_int_equal(pin_dir("eth0", buf, strlen(want) + 1), 0);
	assert_string_equal(buf, want);
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(pin_dir("eth0", buf, strlen(want)), -EINVAL);
	assert_string_equal(buf, "");
	assert_int_equal(pin_dir("eth0", buf, 1), -EINVAL);
	assert_string_equal(buf, "");
}

/* ---- stats_sum */

static void fill(struct amlg_stats *s, uint64_t base)
{
	uint64_t *w = (uint64_t *)s;

	for (size_t i = 0; i < sizeof(*s) / sizeof(*w); i++)
		w[i] = base + i;
}

static void test_stats_sum(void **state)
{
	enum { CPUS = 3 };
	struct amlg_stats pc[CPUS], out;

	/* CPU c holds c * 1000 + word index in every word. */
	for (int c = 0; c < CPUS; c++)
		fill(&pc[c], (uint64_t)c * 1000);
	memset(&out, 0xff, sizeof(out));
	stats_sum(pc, CPUS, &out);

	/* Each counter: (0 + 1000 + 2000) + 3 * index. */
	assert_int_equal(out.packets[AMLG_DIR_OUT][AMLG_VERDICT_ALLOW], 3000 + 3 * 0);
	assert_int_equal(out.packets[AMLG_DIR_IN][AMLG_VERDICT_VIOLATION], 3000 + 3 * 3);
	assert_int_equal(out.bytes[0][0], 3000 + 3 * 4);
	assert_int_equal(out.dropped[AMLG_DIR_IN], 3000 + 3 * 9);
	assert_int_equal(out.reasons[0][AMLG_REASON_NO_RULE], 3000 + 3 * 11);
	assert_int_equal(out.reasons[1][AMLG_REASON_MAX - 1],
			 3000 + 3 * (10 + 2 * AMLG_REASON_MAX - 1));
	assert_int_equal(out.matches[0][0], 3000 + 3 * (10 + 2 * AMLG_REASON_MAX));
	assert_int_equal(out.events_sent,
			 3000 + 3 * (10 + 2 * AMLG_REASON_MAX + 2 * AMLG_MATCH_MAX));
	assert_int_equal(out.frag_created, out.events_sent + 3 * 7);
	/* Every counter word, generically. */
	for (size_t i = 0; i < offsetof(struct amlg_stats, tb_tokens) / sizeof(uint64_t); i++)
		assert_int_equal(((uint64_t *)&out)[i], 3000 + 3 * i);
	/* The token bucket is per-CPU state, not a count: no sum. */
	assert_int_equal(out.tb_tokens, 0);
	assert_int_equal(out.tb_last_ns, 0);
}

static void test_stats_sum_edges(void **state)
{
	struct amlg_stats pc[2], out;

	/* No CPU: all zero, whatever out held. */
	memset(pc, 0xff, sizeof(pc));
	memset(&out, 0xff, sizeof(out));
	stats_sum(pc, 0, &out);
	for (size_t i = 0; i < sizeof(out) / sizeof(uint64_t); i++)
		assert_int_equal(((uint64_t *)&out)[i], 0);

	/* One CPU: a copy but for the token bucket. */
	fill(&pc[0], 7);
	stats_sum(pc, 1, &out);
	assert_int_equal(out.packets[0][0], 7);
	assert_int_equal(out.frag_created, pc[0].frag_created);
	assert_int_equal(out.tb_tokens, 0);

	/* 64-bit counters do not wrap at 32 bits. */
	memset(pc, 0, sizeof(pc));
	pc[0].bytes[AMLG_DIR_OUT][0] = 0xffffffffull;
	pc[1].bytes[AMLG_DIR_OUT][0] = 0xffffffffull;
	stats_sum(pc, 2, &out);
	assert_int_equal(out.bytes[AMLG_DIR_OUT][0], 0x1fffffffeull);
}

/* ---- tables_default_cfg */

static void test_default_cfg(void **state)
{
	struct amlg_cfg cfg, zero;

	memset(&cfg, 0xff, sizeof(cfg));
	tables_default_cfg(&cfg, 7, AMLG_ROLE_GATEWAY);
	assert_int_equal(cfg.active, 0);
	assert_int_equal(cfg.role, AMLG_ROLE_GATEWAY);
	assert_int_equal(cfg.ifindex, 7);
	assert_int_equal(cfg.next_generation, 1);
	assert_int_equal(cfg.report_interval_ns, 10 * NSEC);
	assert_int_equal(cfg.ct_timeout_ns[0], 3600 * NSEC); /* tcp */
	assert_int_equal(cfg.ct_timeout_ns[1], 180 * NSEC); /* udp */
	assert_int_equal(cfg.ct_timeout_ns[2], 60 * NSEC); /* others */
	assert_int_equal(cfg.ct_closing_ns, 10 * NSEC);
	assert_int_equal(cfg.rate_per_sec, 1000);
	assert_int_equal(cfg.burst, 2000);
	assert_int_equal(cfg.snaplen, 128);
	assert_true(cfg.snaplen <= AMLG_SNAP_MAX);
	assert_true(cfg.burst >= cfg.rate_per_sec);
	assert_int_equal(cfg.flags, 0);
	assert_int_equal(cfg.pad, 0);

	/* Only role and ifindex depend on the arguments. */
	tables_default_cfg(&zero, 1, AMLG_ROLE_HOST);
	assert_int_equal(zero.role, AMLG_ROLE_HOST);
	assert_int_equal(zero.ifindex, 1);
	zero.role = cfg.role;
	zero.ifindex = cfg.ifindex;
	assert_memory_equal(&zero, &cfg, sizeof(cfg));
}

UNIT_TESTS(NULL, NULL, cmocka_unit_test(test_pin_dir), cmocka_unit_test(test_pin_dir_bad),
	   cmocka_unit_test(test_pin_dir_fit), cmocka_unit_test(test_stats_sum),
	   cmocka_unit_test(test_stats_sum_edges), cmocka_unit_test(test_default_cfg))
