// SPDX-License-Identifier: GPL-2.0-only
/* explain's story of a violation: the nearest rules, counted, listed and named right. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "unit.h"
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile/compile.h"
#include "base/diag.h"
#include "offline/explain.h"
#include "policy/policy.h"

/* What explain prints for a violation (the datapath's verdict given, no kernel needed). */
static char *story(const char *text, const char *dir, const char *src, uint16_t sport,
		   const char *dst, uint16_t dport)
{
	struct compile_opts o = { .mode = -1 };
	struct offline_verdict v = { .verdict = AMLG_VERDICT_VIOLATION,
				     .reason = AMLG_REASON_NO_RULE,
				     .rule = AMLG_RULE_NONE };
	struct explain_query q = { .proto = 6, .family = 4, .sport = sport, .dport = dport };
	struct compiled *c = NULL;
	struct policy *p = NULL;
	struct diag d;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	q.dir = !strcmp(dir, "out") ? AMLG_DIR_OUT : AMLG_DIR_IN;
	assert_int_equal(inet_pton(AF_INET, src, q.saddr), 1);
	assert_int_equal(inet_pton(AF_INET, dst, q.daddr), 1);
	diag_init(&d);
	assert_int_equal(policy_parse_string("t.policy", text, NULL, 0, &d, &p), 0);
	assert_int_equal(compile_policy(p, &o, &d, &c), 0);
	f = open_memstream(&buf, &len);
	explain_print(f, c, &q, &v);
	fclose(f);
	compiled_free(c);
	policy_free(p);
	diag_free(&d);
	return buf;
}

/* Thirteen near rules: five listed, the rest counted. */
static void test_and_more(void **state)
{
	char text[2048];
	size_t o = 0;
	char *s;

	o += (size_t)sprintf(text + o, "platform off\n");
	for (int i = 1; i <= 13; i++)
		o += (size_t)sprintf(text + o, "allow out tcp port 443 to 192.0.2.%d flow F%d\n", i,
				     i);
	s = story(text, "out", "10.0.0.4", 40000, "203.0.113.9", 443);
	assert_non_null(strstr(s, "protocol and port matched, address did not (13 rules):\n"));
	assert_non_null(strstr(s, "  F5 t.policy:6: tcp port 443 to 192.0.2.5/32\n"));
	assert_null(strstr(s, "F6 "));
	assert_non_null(strstr(s, "  and 8 more\n"));
	free(s);
}

/* One rule is "1 rule"; an empty set says so instead of "to" and nothing. */
static void test_one_rule_and_empty_set(void **state)
{
	char *s = story("platform off\nset none = { }\n"
			"allow out tcp port 443 to @none flow EMPTY optional\n",
			"out", "10.0.0.4", 40000, "203.0.113.9", 443);

	assert_non_null(strstr(s, "(1 rule):\n"));
	assert_non_null(strstr(s, "  EMPTY t.policy:3: tcp port 443 to nothing (an empty set: "
				  "the rule matches no address)\n"));
	assert_null(strstr(s, "and 0 more"));
	free(s);
}

/* SSH to another local address: the remote side and the port fit, the local one does not. */
static void test_local_endpoint(void **state)
{
	char *s = story("platform off\nallow in tcp port 22 from any to 10.0.0.4 flow SSH\n", "in",
			"198.51.100.9", 40000, "10.0.0.5", 22);

	assert_non_null(strstr(s, "protocol, port and remote address matched, the local address "
				  "did not (1 rule):\n  SSH t.policy:2: tcp port 22, local "
				  "10.0.0.4/32\n"));
	assert_null(strstr(s, "protocol and port matched, address did not"));
	free(s);
}

UNIT_TESTS(NULL, NULL, cmocka_unit_test(test_and_more),
	   cmocka_unit_test(test_one_rule_and_empty_set), cmocka_unit_test(test_local_endpoint))
