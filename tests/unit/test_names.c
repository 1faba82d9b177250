// SPDX-License-Identifier: GPL-2.0-only
/* The names of the datapath's numbers (user/base/names.c): fixed spellings, round trips, fallbacks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"

#include "bpf/amlguard_abi.h"
#include "base/names.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The spellings are part of the interface: logs, status and JSON consumers depend on them. */
static void test_reason_names(void **state)
{
	static const struct {
		unsigned reason;
		const char *name;
	} cases[] = {
		{ AMLG_REASON_NONE, "none" },
		{ AMLG_REASON_NO_RULE, "no-rule" },
		{ AMLG_REASON_PORT, "port" },
		{ AMLG_REASON_PROTO, "proto" },
		{ AMLG_REASON_MALFORMED, "malformed" },
		{ AMLG_REASON_FRAGMENT, "fragment" },
		{ AMLG_REASON_NON_IP, "non-ip" },
		{ AMLG_REASON_NO_POLICY, "no-policy" },
		{ AMLG_REASON_SNI_MISMATCH, "sni-mismatch" },
		{ AMLG_REASON_NO_SNI, "no-sni" },
		{ AMLG_REASON_MALFORMED_DNS, "malformed-dns" },
		{ AMLG_REASON_SNI_SPLIT, "sni-split" },
	};

	assert_int_equal(ARRAY_SIZE(cases), AMLG_REASON_MAX);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		assert_string_equal(reason_str(cases[i].reason), cases[i].name);
		assert_int_equal(reason_parse(cases[i].name), cases[i].reason);
	}
}

static void test_reason_round_trip(void **state)
{
	for (unsigned i = 0; i < AMLG_REASON_MAX; i++) {
		const char *s = reason_str(i);

		assert_string_not_equal(s, "unknown");
		assert_int_equal(reason_parse(s), (int)i);
		/* No two reasons share a name. */
		for (unsigned j = 0; j < i; j++)
			assert_string_not_equal(reason_str(j), s);
	}
}

static void test_reason_unknown(void **state)
{
	assert_string_equal(reason_str(AMLG_REASON_MAX), "unknown");
	assert_string_equal(reason_str(255), "unknown");
	assert_string_equal(reason_str(~0u), "unknown");
	assert_int_equal(reason_parse("unknown"), -1);
	assert_int_equal(reason_parse(""), -1);
	assert_int_equal(reason_parse("No-Rule"), -1); /* names are case-sensitive */
	assert_int_equal(reason_parse("no-rule "), -1);
	assert_int_equal(reason_parse("no_rule"), -1);
}

static void test_match_names(void **state)
{
	static const struct {
		unsigned match;
		const char *name;
	} cases[] = {
		{ AMLG_MATCH_NONE, "none" },	 { AMLG_MATCH_RULE, "rule" },
		{ AMLG_MATCH_CT, "conntrack" },	 { AMLG_MATCH_RELATED, "related" },
		{ AMLG_MATCH_LINK, "link" },	 { AMLG_MATCH_FRAG, "fragment" },
		{ AMLG_MATCH_PICKUP, "pickup" },
	};

	assert_int_equal(ARRAY_SIZE(cases), AMLG_MATCH_MAX);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		assert_string_equal(match_str(cases[i].match), cases[i].name);
	assert_string_equal(match_str(AMLG_MATCH_MAX), "unknown");
	assert_string_equal(match_str(1000), "unknown");
}

static void test_mode_names(void **state)
{
	assert_string_equal(mode_str(AMLG_MODE_AUDIT), "audit");
	assert_string_equal(mode_str(AMLG_MODE_ENFORCE), "enforce");
	assert_int_equal(mode_parse("audit"), AMLG_MODE_AUDIT);
	assert_int_equal(mode_parse("enforce"), AMLG_MODE_ENFORCE);
	assert_int_equal(mode_parse(mode_str(AMLG_MODE_AUDIT)), AMLG_MODE_AUDIT);
	assert_int_equal(mode_parse(mode_str(AMLG_MODE_ENFORCE)), AMLG_MODE_ENFORCE);
	assert_int_equal(mode_parse("Enforce"), -1);
	assert_int_equal(mode_parse("drop"), -1);
	assert_int_equal(mode_parse(""), -1);
}

static void test_role_names(void **state)
{
	assert_string_equal(role_str(AMLG_ROLE_HOST), "host");
	assert_string_equal(role_str(AMLG_ROLE_GATEWAY), "gateway");
	assert_int_equal(role_parse("host"), AMLG_ROLE_HOST);
	assert_int_equal(role_parse("gateway"), AMLG_ROLE_GATEWAY);
	assert_int_equal(role_parse(role_str(AMLG_ROLE_HOST)), AMLG_ROLE_HOST);
	assert_int_equal(role_parse(role_str(AMLG_ROLE_GATEWAY)), AMLG_ROLE_GATEWAY);
	assert_int_equal(role_parse("Gateway"), -1);
	assert_int_equal(role_parse("router"), -1);
	assert_int_equal(role_parse(""), -1);
}

static void test_l4_names(void **state)
{
	char buf[8];

	memset(buf, 'x', sizeof(buf));
	assert_string_equal(l4_str(AMLG_PROTO_TCP, buf, sizeof(buf)), "tcp");
	assert_string_equal(l4_str(AMLG_PROTO_UDP, buf, sizeof(buf)), "udp");
	assert_string_equal(l4_str(AMLG_PROTO_ICMP, buf, sizeof(buf)), "icmp");
	assert_string_equal(l4_str(AMLG_PROTO_ICMPV6, buf, sizeof(buf)), "icmpv6");
	/* The names are constants: buf is left alone. */
	assert_int_equal(buf[0], 'x');

	/* Anything else is its number, written into buf. */
	assert_ptr_equal(l4_str(0, buf, sizeof(buf)), buf);
	assert_string_equal(buf, "0");
	assert_string_equal(l4_str(47, buf, sizeof(buf)), "47");
	assert_string_equal(l4_str(132, buf, sizeof(buf)), "132");
	assert_string_equal(l4_str(255, buf, sizeof(buf)), "255");
	/* A short buffer is cut, never overrun. */
	assert_string_equal(l4_str(255, buf, 3), "25");
}

static void test_hex(void **state)
{
	static const uint8_t bytes[] = { 0x00, 0x01, 0x0f, 0x10, 0xab, 0xcd, 0xef, 0xff };
	uint8_t sha[32];
	char buf[2 * sizeof(sha) + 1];

	assert_ptr_equal(hex_str(bytes, sizeof(bytes), buf), buf);
	assert_string_equal(buf, "00010f10abcdefff");
	assert_string_equal(hex_str(bytes, 1, buf), "00");
	memset(buf, 'x', sizeof(buf));
	assert_string_equal(hex_str(bytes, 0, buf), "");

	for (unsigned i = 0; i < sizeof(sha); i++)
		sha[i] = (uint8_t)(0xa0 + i);
	hex_str(sha, sizeof(sha), buf);
	assert_int_equal(strlen(buf), 64);
	assert_string_equal(buf,
			    "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf");
}

UNIT_TESTS(NULL, NULL, cmocka_unit_test(test_reason_names),
	   cmocka_unit_test(test_reason_round_trip), cmocka_unit_test(test_reason_unknown),
	   cmocka_unit_test(test_match_names), cmocka_unit_test(test_mode_names),
	   cmocka_unit_test(test_role_names), cmocka_unit_test(test_l4_names),
	   cmocka_unit_test(test_hex))
