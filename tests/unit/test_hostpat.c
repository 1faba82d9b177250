// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host patterns as the datapath matches them (user/base/hostpat.c): the hash, the key a pattern becomes,
 * and the matching semantics -- checked against a walk written the way bpf/names.h does it, and
 * through the parser, which hands the patterns over.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"

#include "bpf/amlguard_abi.h"
#include "base/diag.h"
#include "base/hostpat.h"
#include "policy/policy.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define B AMLG_NAME_HASH_BASE

/* ---- name_hash */

static void test_hash_values(void **state)
{
	assert_int_equal(name_hash("", 0), 0);
	assert_int_equal(name_hash("a", 1), 'a');
	assert_int_equal(name_hash("ab", 2), 'a' * B + 'b');
	assert_int_equal(name_hash("abc", 3), ('a' * B + 'b') * B + 'c');
	/* modulo 2^64: the same arithmetic as the datapath's __u64 */
	assert_int_equal(name_hash("a.b", 3), (uint64_t)'a' * B * B + (uint64_t)'.' * B + 'b');
	/* only n bytes count: the trailing dot is left out by the length, not by the hash */
	assert_int_equal(name_hash("pypi.org.", 8), name_hash("pypi.org", 8));
	/* bytes, not characters: case is the caller's business (names are lower-cased first) */
	assert_int_not_equal(name_hash("PyPI.org", 8), name_hash("pypi.org", 8));
	/* a high byte counts as 0..255, never as a negative char */
	assert_int_equal(name_hash("\xc3", 1), 0xc3);
	/* order matters */
	assert_int_not_equal(name_hash("ab", 2), name_hash("ba", 2));
}

/*
 * The datapath never hashes a name left to right: it walks it right to left, adding
 * c * B^position, so that the hash of every suffix is at hand.  Both must agree.
 */
static void test_hash_right_to_left(void **state)
{
	static const char *const names[] = {
		"a",
		"pypi.org",
		"download.pytorch.org",
		"ml-westus.blob.core.windows.net",
		"x1-y2.z3_under.example",
	};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		size_t n = strlen(names[i]);
		uint64_t h = 0, pw = 1;

		for (size_t j = 0; j < n; j++) {
			h += (uint64_t)(uint8_t)names[i][n - 1 - j] * pw;
			pw *= B;
			/* the suffix of length j + 1 */
			assert_int_equal(h, name_hash(names[i] + n - 1 - j, j + 1));
		}
	}
}

/* ---- hostpat_key */

static void key_ok(const char *pattern, uint8_t kind, const char *text)
{
	struct amlg_host_key k;
	char t[AMLG_NAME_MAX];

	/* garbage first: the key's padding and the text's tail must come out zero */
	memset(&k, 0xa5, sizeof(k));
	memset(t, 'Z', sizeof(t));
	assert_int_equal(hostpat_key(pattern, &k, t), 0);
	assert_int_equal(k.kind, kind);
	assert_int_equal(k.len, strlen(text));
	assert_int_equal(k.hash, name_hash(text, strlen(text)));
	for (size_t i = 0; i < sizeof(k.pad); i++)
		assert_int_equal(k.pad[i], 0);
	assert_string_equal(t, text);
	for (size_t i = strlen(text); i < AMLG_NAME_MAX; i++)
		assert_int_equal(t[i], 0);
}

static void test_key_kinds(void **state)
{
	key_ok("pypi.org", AMLG_HOST_EXACT, "pypi.org");
	key_ok("*.blob.core.windows.net", AMLG_HOST_DOTWILD, "blob.core.windows.net");
	key_ok("*pytorch.org", AMLG_HOST_CHARWILD, "pytorch.org");
	/* "*.x" keeps no dot in the text: the dot is what DOTWILD checks before the suffix */
	key_ok("*.a.b", AMLG_HOST_DOTWILD, "a.b");
	/* punycode is plain text to the datapath */
	key_ok("xn--bcher-kva.example", AMLG_HOST_EXACT, "xn--bcher-kva.example");
	/* a single character after "*" or "*." */
	key_ok("*a", AMLG_HOST_CHARWILD, "a");
	key_ok("*.a", AMLG_HOST_DOTWILD, "a");
}

/* The same text in three kinds is three keys: the table holds them side by side. */
static void test_key_distinct(void **state)
{
	struct amlg_host_key a, b, c;
	char t[AMLG_NAME_MAX];

	assert_int_equal(hostpat_key("example.com", &a, t), 0);
	assert_int_equal(hostpat_key("*.example.com", &b, t), 0);
	assert_int_equal(hostpat_key("*example.com", &c, t), 0);
	assert_int_equal(a.hash, b.hash);
	assert_int_equal(b.hash, c.hash);
	assert_int_equal(a.len, c.len);
	assert_memory_not_equal(&a, &b, sizeof(a));
	assert_memory_not_equal(&b, &c, sizeof(b));
	assert_memory_not_equal(&a, &c, sizeof(a));
}

static void test_key_invalid(void **state)
{
	static const char *const bad[] = {
		"", /* nothing */
		"*", /* nothing after the wildcard */
		"*.",
		"**",
		"**.example.com",
		"*.*.example.com",
		"foo*bar.com", /* a wildcard anywhere but at the start */
		"example.*",
		"*example.*",
	};
	struct amlg_host_key k;
	char t[AMLG_NAME_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (hostpat_key(bad[i], &k, t) != -EINVAL)
			fail_msg("'%s' gave a key", bad[i]);
	}
}

/* The text must fit the datapath's NUL-padded AMLG_NAME_MAX bytes with its NUL. */
static void test_key_lengths(void **state)
{
	struct amlg_host_key k;
	char name[AMLG_NAME_MAX + 8], t[AMLG_NAME_MAX];

	memset(name, 'a', sizeof(name));
	name[AMLG_NAME_MAX - 1] = '\0'; /* 255 characters */
	assert_int_equal(hostpat_key(name, &k, t), 0);
	assert_int_equal(k.len, AMLG_NAME_MAX - 1);
	name[AMLG_NAME_MAX - 1] = 'a';
	name[AMLG_NAME_MAX] = '\0'; /* 256 */
	assert_int_equal(hostpat_key(name, &k, t), -EINVAL);
	/* the wildcard is not part of the text */
	name[0] = '*';
	name[1] = '.';
	name[AMLG_NAME_MAX] = 'a';
	name[AMLG_NAME_MAX + 1] = '\0'; /* "*." and 255 */
	assert_int_equal(hostpat_key(name, &k, t), 0);
	assert_int_equal(k.kind, AMLG_HOST_DOTWILD);
	assert_int_equal(k.len, AMLG_NAME_MAX - 1);
	name[AMLG_NAME_MAX + 1] = 'a';
	name[AMLG_NAME_MAX + 2] = '\0'; /* "*." and 256 */
	assert_int_equal(hostpat_key(name, &k, t), -EINVAL);
	name[1] = 'a'; /* "*" and 257 */
	assert_int_equal(hostpat_key(name, &k, t), -EINVAL);
}

/* ---- hostpat_match */

static const struct {
	const char *pattern, *name;
	int match;
} match_cases[] = {
	/* exact: that name only, in any case, with or without its trailing dot */
	{ "pypi.org", "pypi.org", 1 },
	{ "pypi.org", "PyPI.ORG", 1 },
	{ "pypi.org", "pypi.org.", 1 },
	{ "pypi.org", "pypi.org..", 0 }, /* one trailing dot, not two */
	{ "pypi.org", "files.pypi.org", 0 },
	{ "pypi.org", "ypi.org", 0 },
	{ "pypi.org", "xpypi.org", 0 },
	{ "pypi.org", "pypi.org.evil.example", 0 },
	{ "pypi.org", "pypi.or", 0 },
	{ "pypi.org", "", 0 },
	{ "pypi.org", ".", 0 },
	/* "*.suffix": every name below suffix, at any depth, never suffix itself */
	{ "*.example.com", "example.com", 0 },
	{ "*.example.com", "example.com.", 0 },
	{ "*.example.com", "a.example.com", 1 },
	{ "*.example.com", "a.b.example.com", 1 },
	{ "*.example.com", "A.B.Example.COM.", 1 },
	{ "*.example.com", "aexample.com", 0 }, /* the label boundary counts */
	{ "*.example.com", "a-example.com", 0 },
	{ "*.example.com", "a.example.com.evil.net", 0 },
	{ "*.example.com", "a.example.co", 0 },
	{ "*.example.com", "com", 0 },
	/* "*suffix": suffix and every name ending in it, label boundary or not */
	{ "*pytorch.org", "pytorch.org", 1 },
	{ "*pytorch.org", "download.pytorch.org", 1 },
	{ "*pytorch.org", "Download.PyTorch.org.", 1 },
	{ "*pytorch.org", "notpytorch.org", 1 },
	{ "*pytorch.org", "ytorch.org", 0 },
	{ "*pytorch.org", "pytorch.org.evil.net", 0 },
	{ "*pytorch.org", "pytorch.org2", 0 },
	/* labels of digits, '-' and '_' are plain bytes */
	{ "*.under_score.example", "x.under_score.example", 1 },
	{ "*.under_score.example", "x.under-score.example", 0 },
	{ "10.0.0.1.example", "10.0.0.1.example", 1 },
	/* IDNs: patterns are punycode (the parser refuses non-ASCII); UTF-8 never matches it */
	{ "xn--bcher-kva.example", "XN--BCHER-KVA.example", 1 },
	{ "xn--bcher-kva.example",
	  "b\xc3\xbc"
	  "cher.example",
	  0 },
	{ "*.xn--bcher-kva.example", "shop.xn--bcher-kva.example", 1 },
	/* a pattern that has no key matches nothing, not even itself */
	{ "*", "a.com", 0 },
	{ "*", "*", 0 },
	{ "", "", 0 },
	{ "a*b.com", "a*b.com", 0 },
	{ "a*b.com", "axb.com", 0 },
	{ "*.*.com", "a.b.com", 0 },
};

static void test_match_table(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(match_cases); i++) {
		int m = hostpat_match(match_cases[i].pattern, match_cases[i].name);

		if (m != match_cases[i].match)
			fail_msg("'%s' against '%s': expected %d, got %d", match_cases[i].name,
				 match_cases[i].pattern, match_cases[i].match, m);
	}
}

/* The length limit: a name of 255 characters still matches. */
static void test_match_long(void **state)
{
	char name[AMLG_NAME_MAX];

	memset(name, 'a', sizeof(name));
	memcpy(name + AMLG_NAME_MAX - 1 - strlen(".example.com"), ".example.com",
	       strlen(".example.com"));
	name[AMLG_NAME_MAX - 1] = '\0';
	assert_int_equal(strlen(name), 255);
	assert_int_equal(hostpat_match("*.example.com", name), 1);
	assert_int_equal(hostpat_match("*example.com", name), 1);
	assert_int_equal(hostpat_match(name, name), 1);
	assert_int_equal(hostpat_match("example.com", name), 0);
}

/*
 * What bpf/names.h does for one name against one key: the name lower-cased without its trailing
 * dot, walked right to left; the whole name tries exact keys, a suffix after a dot "*." keys,
 * every suffix "*" keys; a hit needs the hash, the length and the text.
 */
static int walk_match(const struct amlg_host_key *k, const char *text, const char *name)
{
	char low[AMLG_NAME_MAX];
	size_t n = strlen(name);
	uint64_t h = 0, pw = 1;

	if (n >= AMLG_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		low[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 'a' - 'A' : name[i]);
	if (n && low[n - 1] == '.')
		n--;
	for (size_t j = 0; j < n; j++) {
		size_t i = n - 1 - j, slen = j + 1;
		uint8_t kind = 0;

		h += (uint64_t)(uint8_t)low[i] * pw;
		pw *= B;
		if (slen != k->len || h != k->hash || memcmp(low + i, text, slen))
			continue;
		kind = i == 0 ? AMLG_HOST_EXACT : low[i - 1] == '.' ? AMLG_HOST_DOTWILD : 0;
		if (k->kind == AMLG_HOST_CHARWILD || k->kind == kind)
			return 1;
	}
	return 0;
}

/* hostpat_match() is what explain, fqdn listings and the tests believe the datapath does. */
static void test_match_as_datapath(void **state)
{
	static const char *const patterns[] = {
		"example.com", "*.example.com", "*example.com", "a.example.com", "*.a.example.com",
		"*e.com",      "*.com.example", "b.c",		"*.c",		 "*c",
	};
	static const char *const names[] = {
		"example.com",
		"a.example.com",
		"b.a.example.com",
		"xexample.com",
		"x-example.com",
		"EXAMPLE.COM.",
		"com.example",
		"a.com.example",
		"e.com",
		"b.c",
		"a.b.c",
		"abc",
		"c",
		"",
		".",
		"..example.com",
	};
	struct amlg_host_key k;
	char text[AMLG_NAME_MAX];
	unsigned hits = 0;

	for (size_t p = 0; p < ARRAY_SIZE(patterns); p++) {
		assert_int_equal(hostpat_key(patterns[p], &k, text), 0);
		for (size_t n = 0; n < ARRAY_SIZE(names); n++) {
			int want = walk_match(&k, text, names[n]);

			if (hostpat_match(patterns[p], names[n]) != want)
				fail_msg("'%s' against '%s': hostpat_match %d, datapath walk %d",
					 names[n], patterns[p], !want, want);
			hits += (unsigned)want;
		}
	}
	/* both ways occur: the comparison is not vacuous */
	assert_true(hits > 10);
	assert_true(hits < ARRAY_SIZE(patterns) * ARRAY_SIZE(names) / 2);
}

/* ---- through the parser: what "host:" hands over is a valid key, folded and without its dot */

static void test_parser_to_key(void **state)
{
	static const struct {
		const char *written, *stored, *text;
		uint8_t kind;
		const char *name; /* one that matches */
	} cases[] = {
		{ "PyPI.Org.", "pypi.org", "pypi.org", AMLG_HOST_EXACT, "PYPI.org" },
		{ "*.Blob.Core.Windows.NET", "*.blob.core.windows.net", "blob.core.windows.net",
		  AMLG_HOST_DOTWILD, "acct.blob.core.windows.net" },
		{ "*PyTorch.org.", "*pytorch.org", "pytorch.org", AMLG_HOST_CHARWILD,
		  "download.pytorch.org" },
		{ "XN--BCHER-KVA.example", "xn--bcher-kva.example", "xn--bcher-kva.example",
		  AMLG_HOST_EXACT, "xn--bcher-kva.example." },
	};
	char text[64];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct ep_item *it;
		struct amlg_host_key k;
		char t[AMLG_NAME_MAX];
		struct policy *pol = NULL;
		struct diag d;

		diag_init(&d);
		snprintf(text, sizeof(text), "allow out tcp to host:%s\n", cases[i].written);
		assert_int_equal(policy_parse_string("t.policy", text, NULL, 0, &d, &pol), 0);
		assert_int_equal(pol->rules[0].remote.n, 1);
		it = &pol->rules[0].remote.items[0];
		assert_int_equal(it->kind, EP_HOST);
		assert_string_equal(it->name, cases[i].stored);
		assert_int_equal(hostpat_key(it->name, &k, t), 0);
		assert_int_equal(k.kind, cases[i].kind);
		assert_string_equal(t, cases[i].text);
		assert_int_equal(hostpat_match(it->name, cases[i].name), 1);
		policy_free(pol);
		diag_free(&d);
	}
}

/* Invalid patterns stop at the parser, with the reason; hostpat never sees them. */
static void test_parser_rejects(void **state)
{
	static const struct {
		const char *written, *message;
	} cases[] = {
		{ "*.*.example.com",
		  "invalid host pattern '*.*.example.com': '*' is only allowed at "
		  "the start, as in *.example.com or *example.com" },
		{ "*com", "invalid host pattern '*com': a pattern needs at least a name and a "
			  "top-level domain, like example.com" },
		{ "example.com..", "invalid host pattern 'example.com..': empty label" },
		{ "a.-b_..com", "invalid host pattern 'a.-b_..com': empty label" },
		{ "*.", "invalid host pattern '*.': a wildcard must be followed by a domain, like "
			"*.example.com" },
		{ "*", "invalid host pattern '*': a wildcard must be followed by a domain, like "
		       "*.example.com" },
	};
	char text[128];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct policy *pol = NULL;
		struct diag d;

		diag_init(&d);
		snprintf(text, sizeof(text), "allow out tcp to host:%s\n", cases[i].written);
		assert_int_equal(policy_parse_string("t.policy", text, NULL, 0, &d, &pol), -EINVAL);
		assert_null(pol);
		assert_int_equal(d.nerrors, 1);
		assert_string_equal(d.msgs[0].msg, cases[i].message);
		assert_int_equal(d.msgs[0].loc.line, 1);
		assert_int_equal(d.msgs[0].loc.col, 23);
		diag_free(&d);
	}
}

/* A label of 64 characters: the message quotes its first 20. */
static void test_parser_long_label(void **state)
{
	char text[160], label[65];
	struct policy *pol = NULL;
	struct diag d;

	memset(label, 'q', 64);
	label[64] = '\0';
	snprintf(text, sizeof(text), "allow out tcp to host:*.%s.example.com\n", label);
	diag_init(&d);
	assert_int_equal(policy_parse_string("t.policy", text, NULL, 0, &d, &pol), -EINVAL);
	assert_int_equal(d.nerrors, 1);
	assert_string_equal(strchr(d.msgs[0].msg, ':'),
			    ": label 'qqqqqqqqqqqqqqqqqqqq...' is longer than 63 characters");
	assert_int_equal(d.msgs[0].loc.col, 23);
	diag_free(&d);
}

UNIT_TESTS(NULL, NULL, cmocka_unit_test(test_hash_values),
	   cmocka_unit_test(test_hash_right_to_left), cmocka_unit_test(test_key_kinds),
	   cmocka_unit_test(test_key_distinct), cmocka_unit_test(test_key_invalid),
	   cmocka_unit_test(test_key_lengths), cmocka_unit_test(test_match_table),
	   cmocka_unit_test(test_match_long), cmocka_unit_test(test_match_as_datapath),
	   cmocka_unit_test(test_parser_to_key), cmocka_unit_test(test_parser_rejects),
	   cmocka_unit_test(test_parser_long_label))
