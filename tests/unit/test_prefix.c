// SPDX-License-Identifier: GPL-2.0-only
/* Prefix parsing, printing, containment, ordering and merging (user/base/prefix.c). */
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

#include "base/prefix.h"

static struct prefix pfx(const char *s)
{
	struct prefix p;

	if (prefix_parse(s, &p, NULL))
		fail_msg("bad prefix in test: %s", s);
	return p;
}

static const char *pstr(const struct prefix *p)
{
	static char buf[4][PREFIX_STRLEN];
	static unsigned i;

	return prefix_str(p, buf[i++ % 4], PREFIX_STRLEN);
}

static void assert_parses(const char *in, int family, unsigned len, const char *out)
{
	struct prefix p;
	bool hostbits = true;

	assert_int_equal(prefix_parse(in, &p, &hostbits), 0);
	assert_false(hostbits);
	assert_int_equal(p.family, family);
	assert_int_equal(p.len, len);
	assert_string_equal(pstr(&p), out);
}

static void test_parse_v4(void **state)
{
	assert_parses("10.0.0.0/8", 4, 8, "10.0.0.0/8");
	assert_parses("192.168.1.7", 4, 32, "192.168.1.7/32");
	assert_parses("192.168.1.7/32", 4, 32, "192.168.1.7/32");
	assert_parses("0.0.0.0/0", 4, 0, "0.0.0.0/0");
	assert_parses("255.255.255.255", 4, 32, "255.255.255.255/32");
	assert_parses("10.0.0.0/08", 4, 8, "10.0.0.0/8");
}

static void test_parse_v6(void **state)
{
	assert_parses("::/0", 6, 0, "::/0");
	assert_parses("2001:db8::/32", 6, 32, "2001:db8::/32");
	assert_parses("2001:DB8:0:0:0:0:0:1", 6, 128, "2001:db8::1/128");
	assert_parses("fe80::/10", 6, 10, "fe80::/10");
	assert_parses("ff02::1:2", 6, 128, "ff02::1:2/128");
	/* A v4-mapped address is IPv6: it never matches an IPv4 packet. */
	assert_parses("::ffff:10.1.2.3", 6, 128, "::ffff:10.1.2.3/128");
	assert_parses("::1/128", 6, 128, "::1/128");
}

static void test_parse_host_bits(void **state)
{
	struct prefix p;
	bool hostbits = false;

	assert_int_equal(prefix_parse("10.0.0.1/24", &p, &hostbits), -EINVAL);
	assert_true(hostbits);
	hostbits = false;
	assert_int_equal(prefix_parse("2001:db8::1/64", &p, &hostbits), -EINVAL);
	assert_true(hostbits);
	/* The loose form keeps the network. */
	assert_int_equal(prefix_parse_loose("10.0.0.1/24", &p), 0);
	assert_string_equal(pstr(&p), "10.0.0.0/24");
	assert_int_equal(prefix_parse_loose("10.255.255.255/9", &p), 0);
	assert_string_equal(pstr(&p), "10.128.0.0/9");
	assert_int_equal(prefix_parse_loose("2001:db8:ffff::/33", &p), 0);
	assert_string_equal(pstr(&p), "2001:db8:8000::/33");
	/* hostbits may be NULL. */
	assert_int_equal(prefix_parse("10.0.0.1/24", &p, NULL), -EINVAL);
}

static void test_parse_bad(void **state)
{
	static const char *const bad[] = {
		"",
		"/8",
		"10.0.0",
		"10.0.0.0/",
		"10.0.0.0/33",
		"::/129",
		"10.0.0.0/-1",
		"10.0.0.0/+8",
		"10.0.0.0/ 8",
		"10.0.0.0/8x",
		"10.0.0.0/0008",
		"1.2.3.4.5",
		"256.0.0.0",
		"1:2:3:4:5:6:7:8:9",
		"::g",
		"garbage",
		"10.0.0.0/8/8",
		"1.2.3.4 ",
		" 1.2.3.4",
		"2001:db8:::/48",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	};
	struct prefix p;
	bool hostbits;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		hostbits = true;
		if (prefix_parse(bad[i], &p, &hostbits) != -EINVAL)
			fail_msg("'%s' parsed", bad[i]);
		assert_false(hostbits);
		assert_int_equal(prefix_parse_loose(bad[i], &p), -EINVAL);
	}
}

static void test_print(void **state)
{
	char buf[PREFIX_STRLEN], small[8];
	struct prefix p = pfx("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	uint8_t a4[4] = { 168, 63, 129, 16 };

	assert_string_equal(prefix_str(&p, buf, sizeof(buf)),
			    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
	assert_true(strlen(buf) < PREFIX_STRLEN);
	assert_string_equal(addr_str(4, a4, buf, sizeof(buf)), "168.63.129.16");
	p = pfx("2001:db8:0:1::/64");
	assert_string_equal(pstr(&p), "2001:db8:0:1::/64");
	/* A buffer too small is truncated, never overrun. */
	p = pfx("192.168.100.200");
	prefix_str(&p, small, sizeof(small));
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_int_equal(prefix_bits(4), 32);
	assert_int_equal(prefix_bits(6), 128);
}

static void test_contains(void **state)
{
	struct prefix a = pfx("10.0.0.0/8"), b = pfx("10.1.0.0/16"), c = pfx("11.0.0.0/8");
	struct prefix all4 = pfx("0.0.0.0/0"), all6 = pfx("::/0"), v6 = pfx("2001:db8::/32");
	struct prefix odd = pfx("10.1.128.0/17"), h = pfx("10.1.200.3");
	uint8_t addr[4] = { 10, 1, 200, 3 }, other[4] = { 10, 2, 0, 0 };

	assert_true(prefix_contains(&a, &b));
	assert_false(prefix_contains(&b, &a));
	assert_false(prefix_contains(&a, &c));
	assert_true(prefix_contains(&a, &a));
	assert_true(prefix_contains(&all4, &c));
	assert_false(prefix_contains(&all4, &v6));
	assert_false(prefix_contains(&all6, &a));
	assert_true(prefix_contains(&all6, &v6));
	assert_true(prefix_contains(&odd, &h));
	assert_true(prefix_contains(&b, &odd));
	assert_false(prefix_contains(&odd, &b));
	assert_true(prefix_has_addr(&odd, 4, addr));
	assert_false(prefix_has_addr(&odd, 4, other));
	assert_false(prefix_has_addr(&odd, 6, addr));
	assert_true(prefix_has_addr(&all4, 4, other));
}

static void test_cmp(void **state)
{
	struct prefix a = pfx("10.0.0.0/8"), b = pfx("10.0.0.0/16"), c = pfx("10.0.1.0/24");
	struct prefix v6 = pfx("::/0"), d = pfx("9.255.255.255");

	assert_true(prefix_cmp(&a, &b) < 0); /* same address: shorter first */
	assert_true(prefix_cmp(&b, &c) < 0);
	assert_true(prefix_cmp(&d, &a) < 0);
	assert_true(prefix_cmp(&c, &v6) < 0); /* IPv4 before IPv6 */
	assert_int_equal(prefix_cmp(&a, &a), 0);
}

static void list_of(struct prefix_list *l, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct prefix p = pfx(v[i]);

		assert_int_equal(prefix_list_add(l, &p), 0);
	}
}

static void assert_merges(const char *const *in, size_t nin, const char *const *out, size_t nout)
{
	struct prefix_list l = { 0 };

	list_of(&l, in, nin);
	prefix_list_merge(&l);
	if (l.n != nout) {
		for (size_t i = 0; i < l.n; i++)
			print_message("  got %s\n", pstr(&l.v[i]));
		fail_msg("merge gave %zu prefixes, expected %zu", l.n, nout);
	}
	for (size_t i = 0; i < nout; i++)
		assert_string_equal(pstr(&l.v[i]), out[i]);
	prefix_list_free(&l);
}

#define MERGES(in, out) \
	assert_merges(in, sizeof(in) / sizeof(in[0]), out, sizeof(out) / sizeof(out[0]))

static void test_merge_siblings(void **state)
{
	static const char *const in[] = { "10.0.0.128/25", "10.0.0.0/25" };
	static const char *const out[] = { "10.0.0.0/24" };
	/* Adjacent, but not halves of one parent. */
	static const char *const in2[] = { "10.0.0.128/25", "10.0.1.0/25" };
	static const char *const out2[] = { "10.0.0.128/25", "10.0.1.0/25" };
	/* Different lengths are not siblings. */
	static const char *const in3[] = { "10.0.0.0/25", "10.0.0.128/26" };
	static const char *const out3[] = { "10.0.0.0/25", "10.0.0.128/26" };

	MERGES(in, out);
	MERGES(in2, out2);
	MERGES(in3, out3);
}

static void test_merge_covered(void **state)
{
	static const char *const in[] = { "10.1.2.0/24", "10.0.0.0/8", "10.1.0.0/16", "10.0.0.0/8",
					  "11.0.0.1" };
	static const char *const out[] = { "10.0.0.0/8", "11.0.0.1/32" };
	static const char *const in2[] = { "1.2.3.4", "0.0.0.0/0", "2001:db8::/32" };
	static const char *const out2[] = { "0.0.0.0/0", "2001:db8::/32" };

	MERGES(in, out);
	MERGES(in2, out2);
}

static void test_merge_repeated(void **state)
{
	/* Four quarters: two joins, then one more. */
	static const char *const in[] = { "10.0.0.192/26", "10.0.0.0/26", "10.0.0.128/26",
					  "10.0.0.64/26" };
	static const char *const out[] = { "10.0.0.0/24" };
	/* Both halves of the whole address space. */
	static const char *const in2[] = { "128.0.0.0/1", "0.0.0.0/1" };
	static const char *const out2[] = { "0.0.0.0/0" };
	/* A /25 and two /26: the /26 join, then join the /25. */
	static const char *const in3[] = { "10.0.0.0/25", "10.0.0.128/26", "10.0.0.192/26" };
	static const char *const out3[] = { "10.0.0.0/24" };

	MERGES(in, out);
	MERGES(in2, out2);
	MERGES(in3, out3);
}

static void test_merge_mixed_families(void **state)
{
	/* 0.0.0.0/1 and ::/1 share bits but not a family: never joined. */
	static const char *const in[] = { "8000::/1", "0.0.0.0/1", "::/1", "2001:db8::1",
					  "128.0.0.0/1" };
	static const char *const out[] = { "0.0.0.0/0", "::/0" };
	static const char *const in2[] = { "::/1", "0.0.0.0/1" };
	static const char *const out2[] = { "0.0.0.0/1", "::/1" };
	struct prefix_list l = { 0 };

	MERGES(in, out);
	MERGES(in2, out2);
	list_of(&l, in2, 2);
	assert_int_equal(prefix_list_count(&l, 4), 1);
	assert_int_equal(prefix_list_count(&l, 6), 1);
	prefix_list_free(&l);
}

static void test_merge_empty_and_append(void **state)
{
	struct prefix_list a = { 0 }, b = { 0 };
	struct prefix p = pfx("10.0.0.0/8");

	prefix_list_merge(&a);
	assert_int_equal(a.n, 0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(prefix_list_add(&b, &p), 0);
	assert_int_equal(prefix_list_append(&a, &b), 0);
	assert_int_equal(a.n, 100);
	prefix_list_merge(&a);
	assert_int_equal(a.n, 1);
	prefix_list_free(&a);
	prefix_list_free(&b);
	assert_null(a.v);
	assert_int_equal(a.cap, 0);
}

/* Merging keeps the address set: check every /32 of a small space against the input. */
static void test_merge_preserves_set(void **state)
{
	struct prefix_list l = { 0 }, in = { 0 };
	uint32_t seed = 12345;

	for (int i = 0; i < 200; i++) {
		struct prefix p = { .family = 4 };

		seed = seed * 1103515245 + 12345;
		p.len = (uint8_t)(22 + (seed >> 16) % 11);
		p.addr[0] = 10;
		p.addr[2] = (uint8_t)((seed >> 8) & 7);
		p.addr[3] = (uint8_t)(seed >> 3);
		prefix_parse_loose(pstr(&p), &p);
		assert_int_equal(prefix_list_add(&l, &p), 0);
	}
	assert_int_equal(prefix_list_append(&in, &l), 0);
	prefix_list_merge(&l);
	for (unsigned a = 0; a < 8 * 256; a++) {
		uint8_t addr[4] = { 10, 0, (uint8_t)(a >> 8), (uint8_t)a };
		bool want = false, got = false;

		for (size_t i = 0; i < in.n; i++)
			want |= prefix_has_addr(&in.v[i], 4, addr);
		for (size_t i = 0; i < l.n; i++)
			got |= prefix_has_addr(&l.v[i], 4, addr);
		assert_int_equal(want, got);
	}
	/* And leaves nothing to merge: no prefix covers or is the sibling of its neighbour. */
	for (size_t i = 1; i < l.n; i++) {
		assert_false(prefix_contains(&l.v[i - 1], &l.v[i]));
		assert_true(prefix_cmp(&l.v[i - 1], &l.v[i]) < 0);
	}
	prefix_list_free(&l);
	prefix_list_free(&in);
}

/* "check --local" lists: items in order, empty ones skipped, the bad one named with why. */
static void test_list_parse(void **state)
{
	struct prefix_list l = { 0 };
	char bad[32], buf[PREFIX_STRLEN];
	bool hostbits;

	assert_int_equal(prefix_list_parse("10.0.0.0/8,,2001:db8::/32,", &l, bad, sizeof(bad),
					   &hostbits),
			 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(prefix_str(&l.v[1], buf, sizeof(buf)), "2001:db8::/32");
	assert_int_equal(prefix_list_parse("192.0.2.0/24,10.0.0.1/8", &l, bad, sizeof(bad),
					   &hostbits),
			 -EINVAL);
	assert_string_equal(bad, "10.0.0.1/8");
	assert_true(hostbits);
	assert_int_equal(prefix_list_parse("nonsense", &l, bad, sizeof(bad), &hostbits), -EINVAL);
	assert_string_equal(bad, "nonsense");
	assert_false(hostbits);
	assert_int_equal(l.n, 3);
	prefix_list_free(&l);
}

UNIT_TESTS(NULL, NULL, cmocka_unit_test(test_parse_v4), cmocka_unit_test(test_parse_v6),
	   cmocka_unit_test(test_parse_host_bits), cmocka_unit_test(test_parse_bad),
	   cmocka_unit_test(test_print), cmocka_unit_test(test_contains),
	   cmocka_unit_test(test_cmp), cmocka_unit_test(test_merge_siblings),
	   cmocka_unit_test(test_merge_covered), cmocka_unit_test(test_merge_repeated),
	   cmocka_unit_test(test_merge_mixed_families),
	   cmocka_unit_test(test_merge_empty_and_append),
	   cmocka_unit_test(test_merge_preserves_set), cmocka_unit_test(test_list_parse))
