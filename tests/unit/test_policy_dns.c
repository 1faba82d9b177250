// SPDX-License-Identifier: GPL-2.0-only
/*
 * The statements that tune host rules (user/policy/policy_dns.c): resolver, dns ttl-floor, dns grace
 * and sni parse to the expected fields, have their defaults when absent, reach the compiled
 * policy, and every mistake is reported at its file:line:col with its hint.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* open_memstream */
#endif
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "unit.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpf/amlguard_abi.h"
#include "compile/compile.h"
#include "policy/policy.h"
#include "policy_fixture.h"

static void assert_addr(const struct prefix *p, const char *want)
{
	char buf[PREFIX_STRLEN];

	assert_string_equal(prefix_str(p, buf, sizeof(buf)), want);
}

/* ---- defaults */

static void test_defaults(void **state)
{
	parse_ok("allow out tcp port 443 to host:pypi.org\n");
	assert_int_equal(pol->nresolvers, 0);
	assert_null(pol->resolvers);
	assert_int_equal(pol->dns_ttl_floor, 5);
	assert_int_equal(pol->dns_grace, 30);
	assert_int_equal(pol->sni_mode, AMLG_SNI_REQUIRE);
	assert_false(pol->ttl_floor_set);
	assert_false(pol->grace_set);
	assert_false(pol->sni_set);
	/* the header's names for them say the same */
	assert_int_equal(POLICY_DNS_TTL_FLOOR, 5);
	assert_int_equal(POLICY_DNS_GRACE, 30);
	assert_string_equal(POLICY_DNS_RESOLVER, "168.63.129.16");
}

/* ---- resolver */

static void test_resolver_one(void **state)
{
	parse_ok("mode audit\n"
		 "resolver 198.51.100.53   # the VNet's own DNS server\n");
	assert_int_equal(pol->nresolvers, 1);
	assert_int_equal(pol->resolvers[0].family, 4);
	assert_int_equal(pol->resolvers[0].len, 32);
	assert_addr(&pol->resolvers[0], "198.51.100.53/32");
	assert_loc(pol->resolvers_loc, "t.policy", 2, 1, 8);
}

static void test_resolver_list(void **state)
{
	parse_ok("resolver {\n"
		 "\t10.0.0.4,\n"
		 "\t2001:db8::53,\n"
		 "\t10.0.0.5/32,   # a /32 is one address too\n"
		 "}\n");
	assert_int_equal(pol->nresolvers, 3);
	/* in the order written */
	assert_addr(&pol->resolvers[0], "10.0.0.4/32");
	assert_int_equal(pol->resolvers[1].family, 6);
	assert_int_equal(pol->resolvers[1].len, 128);
	assert_addr(&pol->resolvers[1], "2001:db8::53/128");
	assert_addr(&pol->resolvers[2], "10.0.0.5/32");
	assert_loc(pol->resolvers_loc, "t.policy", 1, 1, 8);
}

static void test_resolver_max(void **state)
{
	parse_ok("resolver { 192.0.2.1, 192.0.2.2, 192.0.2.3, 192.0.2.4,\n"
		 "\t192.0.2.5, 192.0.2.6, 192.0.2.7, 2001:db8::8 }\n");
	assert_int_equal(pol->nresolvers, AMLG_RESOLVERS_MAX);
	assert_addr(&pol->resolvers[6], "192.0.2.7/32");
	assert_addr(&pol->resolvers[7], "2001:db8::8/128");
}

static void test_resolver_vars(void **state)
{
	static const struct var_def vars[] = { { "dns2", "192.0.2.99" } };

	parse_ok_vars("define dns1 = 192.0.2.53\n"
		      "define dns2 = 192.0.2.54\n"
		      "resolver { $dns1, ${dns2} }\n",
		      vars, ARRAY_SIZE(vars));
	assert_int_equal(pol->nresolvers, 2);
	assert_addr(&pol->resolvers[0], "192.0.2.53/32");
	assert_addr(&pol->resolvers[1], "192.0.2.99/32"); /* --var wins */
}

/* ---- dns ttl-floor, dns grace */

static void test_dns_settings(void **state)
{
	parse_ok("dns ttl-floor 60\n"
		 "dns grace 120\n");
	assert_int_equal(pol->dns_ttl_floor, 60);
	assert_int_equal(pol->dns_grace, 120);
	assert_true(pol->ttl_floor_set);
	assert_true(pol->grace_set);
	assert_loc(pol->ttl_floor_loc, "t.policy", 1, 1, 3);
	assert_loc(pol->grace_loc, "t.policy", 2, 1, 3);
	/* the other one keeps its default */
	teardown(state);
	setup(state);
	parse_ok("dns grace 7\n");
	assert_int_equal(pol->dns_ttl_floor, 5);
	assert_false(pol->ttl_floor_set);
	assert_int_equal(pol->dns_grace, 7);
}

static void test_dns_bounds(void **state)
{
	parse_ok("dns ttl-floor 0\n"
		 "dns grace 86400\n");
	assert_int_equal(pol->dns_ttl_floor, 0);
	assert_true(pol->ttl_floor_set); /* 0 is a value, not "absent" */
	assert_int_equal(pol->dns_grace, 86400);
	teardown(state);
	setup(state);
	parse_ok("dns ttl-floor 86400\n"
		 "dns grace 0\n");
	assert_int_equal(pol->dns_ttl_floor, 86400);
	assert_int_equal(pol->dns_grace, 0);
	teardown(state);
	setup(state);
	/* leading zeros are still decimal */
	parse_ok("dns grace 0010\n");
	assert_int_equal(pol->dns_grace, 10);
}

static void test_dns_vars(void **state)
{
	static const struct var_def vars[] = { { "floor", "300" } };

	parse_ok_vars("define floor = 60\n"
		      "dns ttl-floor $floor\n",
		      vars, ARRAY_SIZE(vars));
	assert_int_equal(pol->dns_ttl_floor, 300);
}

/* ---- sni */

static void test_sni_modes(void **state)
{
	static const struct {
		const char *text;
		int mode;
	} cases[] = {
		{ "sni require\n", AMLG_SNI_REQUIRE },
		{ "sni allow-missing\n", AMLG_SNI_ALLOW_MISSING },
		{ "sni off\n", AMLG_SNI_OFF },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		parse_ok(cases[i].text);
		assert_int_equal(pol->sni_mode, cases[i].mode);
		assert_true(pol->sni_set);
		assert_loc(pol->sni_loc, "t.policy", 1, 1, 3);
		teardown(state);
		setup(state);
	}
}

/* ---- all of them, across an include */

static void test_include(void **state)
{
	parse_ok("resolver 192.0.2.53\n"
		 "include \"dns_settings.policy\"\n"
		 "dns ttl-floor 1\n");
	assert_int_equal(pol->sni_mode, AMLG_SNI_OFF);
	assert_int_equal(pol->dns_grace, 0);
	assert_int_equal(pol->dns_ttl_floor, 1);
	assert_int_equal(pol->nresolvers, 1);
	assert_loc(pol->sni_loc, "dns_settings.policy", 3, 1, 3);
	assert_loc(pol->grace_loc, "dns_settings.policy", 4, 1, 3);
}

/* ---- into the compiled policy */

static struct compiled *compile_text(const char *text)
{
	struct compiled *c = NULL;

	parse_ok(text);
	assert_int_equal(compile_policy(pol, NULL, &dg, &c), 0);
	assert_non_null(c);
	return c;
}

static void test_compiled_defaults(void **state)
{
	struct compiled *c = compile_text("allow out tcp port 443 to host:*.example.com\n");

	assert_true(c->flags & AMLG_PF_HOSTS);
	/* no resolver named: Azure DNS */
	assert_int_equal(c->nresolvers, 1);
	assert_addr(&c->resolvers[0], "168.63.129.16/32");
	assert_int_equal(c->dns_ttl_floor, 5);
	assert_int_equal(c->dns_grace, 30);
	assert_int_equal(c->sni_mode, AMLG_SNI_REQUIRE);
	compiled_free(c);
}

static void test_compiled_settings(void **state)
{
	struct compiled *c = compile_text("resolver { 198.51.100.53, 2001:db8::53 }\n"
					  "dns ttl-floor 0\n"
					  "dns grace 15\n"
					  "sni allow-missing\n"
					  "allow out tcp port 443 to host:pypi.org\n");

	/* the policy's resolvers replace Azure DNS, they do not add to it */
	assert_int_equal(c->nresolvers, 2);
	assert_addr(&c->resolvers[0], "198.51.100.53/32");
	assert_addr(&c->resolvers[1], "2001:db8::53/128");
	assert_int_equal(c->dns_ttl_floor, 0);
	assert_int_equal(c->dns_grace, 15);
	assert_int_equal(c->sni_mode, AMLG_SNI_ALLOW_MISSING);
	compiled_free(c);
}

/* ---- errors: everything diag_print says */

static const struct {
	const char *name, *text, *expect;
} errors[] = {
	{ "resolver_missing", "resolver\n",
	  "t.policy:1:9: error: expected an IPv4 or IPv6 address after 'resolver'\n"
	  "resolver\n"
	  "        ^\n" },
	{ "resolver_name", "resolver dns.example.com\n",
	  "t.policy:1:10: error: 'dns.example.com' is not an address\n"
	  "resolver dns.example.com\n"
	  "         ^~~~~~~~~~~~~~~\n"
	  "  hint: a resolver is one server: 168.63.129.16, or 2001:db8::53\n" },
	{ "resolver_prefix", "resolver 10.0.0.0/8\n",
	  "t.policy:1:10: error: '10.0.0.0/8' is not an address\n"
	  "resolver 10.0.0.0/8\n"
	  "         ^~~~~~~~~~\n"
	  "  hint: a resolver is one server: 168.63.129.16, or 2001:db8::53\n" },
	{ "resolver_hostbits", "resolver 10.0.0.4/24\n",
	  "t.policy:1:10: error: '10.0.0.4/24' is not an address\n"
	  "resolver 10.0.0.4/24\n"
	  "         ^~~~~~~~~~~\n"
	  "  hint: a resolver is one server: 168.63.129.16, or 2001:db8::53\n" },
	{ "resolver_any", "resolver any\n",
	  "t.policy:1:10: error: 'any' is not an address\n"
	  "resolver any\n"
	  "         ^~~\n"
	  "  hint: a resolver is one server: 168.63.129.16, or 2001:db8::53\n" },
	{ "resolver_string", "resolver \"192.0.2.53\"\n",
	  "t.policy:1:10: error: expected an IPv4 or IPv6 address, got string \"192.0.2.53\"\n"
	  "resolver \"192.0.2.53\"\n"
	  "         ^~~~~~~~~~~~\n" },
	{ "resolver_empty", "resolver { }\n",
	  "t.policy:1:10: error: empty list\n"
	  "resolver { }\n"
	  "         ^~~\n"
	  "  hint: a list needs at least one item\n" },
	{ "resolver_two_words", "resolver 192.0.2.1 192.0.2.2\n",
	  "t.policy:1:20: error: unexpected '192.0.2.2' at the end of the statement\n"
	  "resolver 192.0.2.1 192.0.2.2\n"
	  "                   ^~~~~~~~~\n" },
	/* every bad item of a list, each once */
	{ "resolver_list_items", "resolver { 192.0.2.1, fd00::/8, dns.example }\n",
	  "t.policy:1:23: error: 'fd00::/8' is not an address\n"
	  "resolver { 192.0.2.1, fd00::/8, dns.example }\n"
	  "                      ^~~~~~~~\n"
	  "  hint: a resolver is one server: 168.63.129.16, or 2001:db8::53\n"
	  "t.policy:1:33: error: 'dns.example' is not an address\n"
	  "resolver { 192.0.2.1, fd00::/8, dns.example }\n"
	  "                                ^~~~~~~~~~~\n"
	  "  hint: a resolver is one server: 168.63.129.16, or 2001:db8::53\n" },
	{ "resolver_too_many",
	  "resolver { 192.0.2.1, 192.0.2.2, 192.0.2.3, 192.0.2.4, 192.0.2.5,\n"
	  "\t192.0.2.6, 192.0.2.7, 192.0.2.8, 192.0.2.9 }\n",
	  "t.policy:2:35: error: more than 8 resolvers\n"
	  "\t192.0.2.6, 192.0.2.7, 192.0.2.8, 192.0.2.9 }\n"
	  "\t                                 ^~~~~~~~~\n" },
	{ "resolver_twice",
	  "resolver 192.0.2.1\n"
	  "allow out tcp to host:pypi.org\n"
	  "resolver 192.0.2.2\n",
	  "t.policy:3:1: error: 'resolver' is already set\n"
	  "resolver 192.0.2.2\n"
	  "^~~~~~~~\n"
	  "  hint: 'resolver' may appear once across the policy and its includes\n"
	  "t.policy:1:1: note: first set here\n"
	  "resolver 192.0.2.1\n"
	  "^~~~~~~~\n" },
	{ "dns_missing", "dns\n",
	  "t.policy:1:4: error: expected 'ttl-floor' or 'grace' after 'dns'\n"
	  "dns\n"
	  "   ^\n" },
	{ "dns_suggest", "dns ttlfloor 5\n",
	  "t.policy:1:5: error: unknown dns setting 'ttlfloor'\n"
	  "dns ttlfloor 5\n"
	  "    ^~~~~~~~\n"
	  "  hint: did you mean 'ttl-floor'?\n" },
	{ "dns_suggest_grace", "dns Grace 5\n",
	  "t.policy:1:5: error: unknown dns setting 'Grace'\n"
	  "dns Grace 5\n"
	  "    ^~~~~\n"
	  "  hint: did you mean 'grace'?\n" },
	{ "dns_unknown", "dns ttl 5\n",
	  "t.policy:1:5: error: unknown dns setting 'ttl'\n"
	  "dns ttl 5\n"
	  "    ^~~\n"
	  "  hint: the dns settings are ttl-floor and grace\n" },
	{ "dns_no_value", "dns ttl-floor\n",
	  "t.policy:1:14: error: expected a number of seconds after 'ttl-floor'\n"
	  "dns ttl-floor\n"
	  "             ^\n" },
	{ "dns_negative", "dns ttl-floor -1\n",
	  "t.policy:1:15: error: '-1' is not a number of seconds from 0 to 86400\n"
	  "dns ttl-floor -1\n"
	  "              ^~\n" },
	{ "dns_negative_zero", "dns grace -0\n",
	  "t.policy:1:11: error: '-0' is not a number of seconds from 0 to 86400\n"
	  "dns grace -0\n"
	  "          ^~\n" },
	/* strtoul() would negate this into 1 */
	{ "dns_negative_wrap", "dns ttl-floor -18446744073709551615\n",
	  "t.policy:1:15: error: '-18446744073709551615' is not a number of seconds from 0 to "
	  "86400\n"
	  "dns ttl-floor -18446744073709551615\n"
	  "              ^~~~~~~~~~~~~~~~~~~~~\n" },
	{ "dns_too_big", "dns grace 86401\n",
	  "t.policy:1:11: error: '86401' is not a number of seconds from 0 to 86400\n"
	  "dns grace 86401\n"
	  "          ^~~~~\n" },
	{ "dns_overflow", "dns grace 18446744073709551617\n",
	  "t.policy:1:11: error: '18446744073709551617' is not a number of seconds from 0 to "
	  "86400\n"
	  "dns grace 18446744073709551617\n"
	  "          ^~~~~~~~~~~~~~~~~~~~\n" },
	{ "dns_unit", "dns grace 30s\n",
	  "t.policy:1:11: error: '30s' is not a number of seconds from 0 to 86400\n"
	  "dns grace 30s\n"
	  "          ^~~\n" },
	{ "dns_hex", "dns grace 0x10\n",
	  "t.policy:1:11: error: '0x10' is not a number of seconds from 0 to 86400\n"
	  "dns grace 0x10\n"
	  "          ^~~~\n" },
	{ "dns_string", "dns grace \"5\"\n",
	  "t.policy:1:11: error: expected a number of seconds, got string \"5\"\n"
	  "dns grace \"5\"\n"
	  "          ^~~\n" },
	{ "dns_extra", "dns grace 5 10\n",
	  "t.policy:1:13: error: unexpected '10' at the end of the statement\n"
	  "dns grace 5 10\n"
	  "            ^~\n" },
	{ "dns_floor_twice",
	  "dns ttl-floor 10\n"
	  "dns grace 10\n"
	  "dns ttl-floor 20\n",
	  "t.policy:3:1: error: 'dns ttl-floor' is already set\n"
	  "dns ttl-floor 20\n"
	  "^~~\n"
	  "  hint: 'dns ttl-floor' may appear once across the policy and its includes\n"
	  "t.policy:1:1: note: first set here\n"
	  "dns ttl-floor 10\n"
	  "^~~\n" },
	{ "dns_grace_twice",
	  "dns grace 10\n"
	  "dns grace 10\n",
	  "t.policy:2:1: error: 'dns grace' is already set\n"
	  "dns grace 10\n"
	  "^~~\n"
	  "  hint: 'dns grace' may appear once across the policy and its includes\n"
	  "t.policy:1:1: note: first set here\n"
	  "dns grace 10\n"
	  "^~~\n" },
	{ "sni_missing", "sni\n",
	  "t.policy:1:4: error: expected 'require', 'allow-missing' or 'off' after 'sni'\n"
	  "sni\n"
	  "   ^\n" },
	{ "sni_suggest", "sni requre\n",
	  "t.policy:1:5: error: unknown sni setting 'requre'\n"
	  "sni requre\n"
	  "    ^~~~~~\n"
	  "  hint: did you mean 'require'?\n" },
	{ "sni_suggest_underscore", "sni allow_missing\n",
	  "t.policy:1:5: error: unknown sni setting 'allow_missing'\n"
	  "sni allow_missing\n"
	  "    ^~~~~~~~~~~~~\n"
	  "  hint: did you mean 'allow-missing'?\n" },
	{ "sni_case", "sni OFF\n",
	  "t.policy:1:5: error: unknown sni setting 'OFF'\n"
	  "sni OFF\n"
	  "    ^~~\n"
	  "  hint: did you mean 'off'?\n" },
	{ "sni_unknown", "sni enforce\n",
	  "t.policy:1:5: error: unknown sni setting 'enforce'\n"
	  "sni enforce\n"
	  "    ^~~~~~~\n"
	  "  hint: sni is require, allow-missing or off\n" },
	{ "sni_string", "sni \"off\"\n",
	  "t.policy:1:5: error: expected 'require', 'allow-missing' or 'off', got string \"off\"\n"
	  "sni \"off\"\n"
	  "    ^~~~~\n" },
	{ "sni_extra", "sni off please\n",
	  "t.policy:1:9: error: unexpected 'please' at the end of the statement\n"
	  "sni off please\n"
	  "        ^~~~~~\n" },
	{ "sni_twice",
	  "sni off\n"
	  "sni require\n",
	  "t.policy:2:1: error: 'sni' is already set\n"
	  "sni require\n"
	  "^~~\n"
	  "  hint: 'sni' may appear once across the policy and its includes\n"
	  "t.policy:1:1: note: first set here\n"
	  "sni off\n"
	  "^~~\n" },
	/* the first one in an included file: the note points into it */
	{ "sni_twice_include",
	  "include \"dns_settings.policy\"\n"
	  "sni require\n",
	  "t.policy:2:1: error: 'sni' is already set\n"
	  "sni require\n"
	  "^~~\n"
	  "  hint: 'sni' may appear once across the policy and its includes\n"
	  "dns_settings.policy:3:1: note: first set here\n"
	  "sni off\n"
	  "^~~\n" },
	/* all mistakes of a policy in one run, one error each */
	{ "several",
	  "resolver fd00::/64\n"
	  "dns ttl-floor -5\n"
	  "sni never\n"
	  "dns grace 1d\n",
	  "t.policy:1:10: error: 'fd00::/64' is not an address\n"
	  "resolver fd00::/64\n"
	  "         ^~~~~~~~~\n"
	  "  hint: a resolver is one server: 168.63.129.16, or 2001:db8::53\n"
	  "t.policy:2:15: error: '-5' is not a number of seconds from 0 to 86400\n"
	  "dns ttl-floor -5\n"
	  "              ^~\n"
	  "t.policy:3:5: error: unknown sni setting 'never'\n"
	  "sni never\n"
	  "    ^~~~~\n"
	  "  hint: sni is require, allow-missing or off\n"
	  "t.policy:4:11: error: '1d' is not a number of seconds from 0 to 86400\n"
	  "dns grace 1d\n"
	  "          ^~\n" },
};

static void test_errors(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(errors); i++) {
		int err = policy_parse_string("t.policy", errors[i].text, NULL, 0, &dg, &pol);
		char *out = printed();

		if (err != -EINVAL || pol || strcmp(out, errors[i].expect))
			fail_msg("[%s] expected:\n%sgot (%d):\n%s", errors[i].name,
				 errors[i].expect, err, out);
		free(out);
		teardown(state);
		setup(state);
	}
}

UNIT_TESTS(group_setup, NULL, cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_resolver_one, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_resolver_list, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_resolver_max, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_resolver_vars, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_dns_settings, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_dns_bounds, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_dns_vars, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_sni_modes, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_include, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_compiled_defaults, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_compiled_settings, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_errors, setup, teardown))
