// SPDX-License-Identifier: GPL-2.0-only
/* Text that is not UTF-8 in JSON and in the metrics: escaped, never an empty answer. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "unit.h"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/json_text.h"
#include "metrics/metrics.h"

static void test_valid(void **state)
{
	assert_true(utf8_valid("", 0));
	assert_true(utf8_valid("policy.policy", 13));
	assert_true(utf8_valid("caf\xc3\xa9", 5));
	assert_true(utf8_valid("\xf0\x9f\x98\x80", 4));
	assert_false(utf8_valid("caf\xe9", 4)); /* Latin-1 */
	assert_false(utf8_valid("\xc0\xaf", 2)); /* overlong '/' */
	assert_false(utf8_valid("\xed\xa0\x80", 3)); /* a surrogate */
	assert_false(utf8_valid("\xf4\x90\x80\x80", 4)); /* past U+10FFFF */
	assert_false(utf8_valid("\xe2\x82", 2)); /* cut short */
}

static void test_escape(void **state)
{
	char *e = utf8_escape("bad\xff.policy caf\xc3\xa9 \xe9t\xe9");
	json_t *j;
	char *s;

	assert_string_equal(e, "bad\\xff.policy caf\xc3\xa9 \\xe9t\\xe9");
	free(e);
	/* jansson refuses the raw string; the escaped one goes through and reads back */
	assert_null(json_string("bad\xff"));
	j = json_pack("{s:o, s:o}", "path", json_str_escaped("bad\xff.policy"), "flow",
		      json_str_escaped(NULL));
	assert_non_null(j);
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(s, "{\"flow\":null,\"path\":\"bad\\\\xff.policy\"}");
	free(s);
	json_decref(j);
}

static void test_metrics_label(void **state)
{
	struct mlabel l[] = { { "policy", "/etc/p\xff\"q\".policy" } };
	struct mbuf b;

	mbuf_init(&b);
	metrics_family(&b, "amlguard_x", "gauge", "a test");
	metrics_u64(&b, "amlguard_x", l, 1, 1);
	assert_int_equal(b.err, 0);
	assert_true(utf8_valid(b.s, b.len));
	assert_non_null(strstr(b.s, "amlguard_x{policy=\"/etc/p\\\\xff\\\"q\\\".policy\"} 1\n"));
	mbuf_free(&b);
}

UNIT_TESTS(NULL, NULL, cmocka_unit_test(test_valid), cmocka_unit_test(test_escape),
	   cmocka_unit_test(test_metrics_label))
