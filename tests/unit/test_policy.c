// SPDX-License-Identifier: GPL-2.0-only
/*
 * The policy parser: every statement and form parses to the expected values, and every error is
 * reported at its exact file:line:col with its hint, all of them in one run.
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
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bpf/amlguard_abi.h"
#include "compile/compile.h"
#include "base/diag.h"
#include "policy/policy.h"
#include "policy_fixture.h"

static void assert_cidr(const struct ep_item *it, const char *want)
{
	char buf[PREFIX_STRLEN];

	assert_int_equal(it->kind, EP_CIDR);
	assert_string_equal(prefix_str(&it->pfx, buf, sizeof(buf)), want);
}

static void assert_named(const struct ep_item *it, enum ep_kind kind, const char *name)
{
	assert_int_equal(it->kind, kind);
	assert_non_null(it->name);
	assert_string_equal(it->name, name);
}

static void assert_ports(const struct rule *r, const struct port_range *want, size_t n)
{
	assert_int_equal(r->nports, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(r->ports[i].lo, want[i].lo);
		assert_int_equal(r->ports[i].hi, want[i].hi);
	}
}

/* ---- what parses --------------------------------------------------------------------------- */

static void test_minimal_rule_and_defaults(void **state)
{
	const struct rule *r;

	parse_ok("allow out tcp to any\n");
	assert_string_equal(pol->path, "t.policy");
	assert_int_equal(pol->mode, AMLG_MODE_AUDIT);
	assert_false(pol->mode_set);
	assert_true(pol->platform);
	assert_null(pol->tags_path);
	assert_int_equal(pol->nvars, 0);
	assert_int_equal(pol->nfiles, 1);
	assert_string_equal(pol->files[0].path, "t.policy");
	assert_int_equal(pol->nrules, 1);
	r = &pol->rules[0];
	assert_int_equal(r->dir, AMLG_DIR_OUT);
	assert_int_equal(r->proto, AMLG_PROTO_TCP);
	assert_int_equal(r->nports, 0);
	assert_null(r->ports);
	assert_int_equal(r->remote.n, 1);
	assert_int_equal(r->remote.items[0].kind, EP_ANY);
	assert_null(r->remote.items[0].set);
	assert_loc(r->remote.items[0].loc, "t.policy", 1, 18, 3);
	assert_false(r->has_local);
	assert_int_equal(r->local.n, 0);
	assert_null(r->flow);
	assert_null(r->comment);
	assert_false(r->optional);
	assert_loc(r->loc, "t.policy", 1, 1, 5);
}

static void test_empty_policy(void **state)
{
	parse_ok("");
	assert_int_equal(pol->nrules, 0);
	teardown(state);
	setup(state);
	parse_ok("# only a comment\n\n   \t\n");
	assert_int_equal(pol->nrules, 0);
}

static void test_mode_platform_tags(void **state)
{
	parse_ok("mode enforce\n"
		 "platform off # no built-in rules\n"
		 "tags \"tags/public.json\"\n");
	assert_int_equal(pol->mode, AMLG_MODE_ENFORCE);
	assert_true(pol->mode_set);
	assert_loc(pol->mode_loc, "t.policy", 1, 1, 4);
	assert_false(pol->platform);
	assert_loc(pol->platform_loc, "t.policy", 2, 1, 8);
	/* A string's tags path is relative to the cwd, like its includes. */
	assert_string_equal(pol->tags_path, "tags/public.json");
	assert_loc(pol->tags_loc, "t.policy", 3, 6, 18);
	teardown(state);
	setup(state);
	parse_ok("mode audit\nplatform on\n");
	assert_int_equal(pol->mode, AMLG_MODE_AUDIT);
	assert_true(pol->mode_set);
	assert_true(pol->platform);
}

static void test_protocols_and_directions(void **state)
{
	static const struct {
		const char *word;
		int proto;
	} protos[] = {
		{ "tcp", AMLG_PROTO_TCP },   { "udp", AMLG_PROTO_UDP },
		{ "icmp", AMLG_PROTO_ICMP }, { "icmpv6", AMLG_PROTO_ICMPV6 },
		{ "any", AMLG_PROTO_ANY },
	};
	char text[128];

	for (size_t i = 0; i < ARRAY_SIZE(protos); i++) {
		snprintf(text, sizeof(text), "allow in %s from 10.0.0.0/8\n", protos[i].word);
		parse_ok(text);
		assert_int_equal(pol->rules[0].dir, AMLG_DIR_IN);
		assert_int_equal(pol->rules[0].proto, protos[i].proto);
		assert_string_equal(proto_name(protos[i].proto), protos[i].word);
		teardown(state);
		setup(state);
	}
	assert_string_equal(dir_name(AMLG_DIR_OUT), "out");
	assert_string_equal(dir_name(AMLG_DIR_IN), "in");
	for (size_t i = 0; policy_protocols[i]; i++)
		assert_string_equal(policy_protocols[i], protos[i].word);
	assert_string_equal(policy_statements[0], "allow");
	assert_string_equal(policy_statements[7], "noflow");
	assert_string_equal(policy_statements[8], "resolver");
	assert_string_equal(policy_statements[9], "dns");
	assert_string_equal(policy_statements[10], "sni");
	assert_null(policy_statements[11]);
}

static void test_ports(void **state)
{
	static const struct port_range one[] = { { 443, 443 } };
	static const struct port_range range[] = { { 29876, 29877 } };
	static const struct port_range list[] = {
		{ 443, 443 }, { 8000, 8100 }, { 8787, 8787 }, { 18881, 18881 }
	};
	static const struct port_range merged[] = {
		{ 1, 1 }, { 80, 90 }, { 443, 443 }, { 65535, 65535 }
	};

	parse_ok("allow out tcp port 443 to any\n"
		 "allow in tcp port 29876-29877 from tag:BatchNodeManagement\n"
		 "allow out tcp port { 18881, 443, 8787, 8000-8100 } to any\n"
		 "allow out udp port { 443, 80, 81-90, 85, 1, 65535, 90 } to any\n"
		 "allow out any port any to any\n"
		 "allow out any port 53 to any\n");
	assert_int_equal(pol->nrules, 6);
	assert_ports(&pol->rules[0], one, 1);
	assert_ports(&pol->rules[1], range, 1);
	assert_ports(&pol->rules[2], list, ARRAY_SIZE(list));
	assert_ports(&pol->rules[3], merged, ARRAY_SIZE(merged));
	assert_int_equal(pol->rules[4].nports, 0);
	assert_int_equal(pol->rules[5].proto, AMLG_PROTO_ANY);
	assert_int_equal(pol->rules[5].nports, 1);
}

static void test_endpoint_kinds(void **state)
{
	const struct endpoint *e;

	parse_ok("allow out tcp to { 10.1.0.0/16, 192.0.2.7, fd00::/8, 2001:db8::1, any,\n"
		 "\ttag:Storage, tag:Storage.WestUS, tag:AzureFrontDoor.FrontEnd,\n"
		 "\thost:*.Blob.Core.Windows.NET, host:pypi.org., host:*pytorch.org,\n"
		 "\thost:graph.windows.net, host:under_score.example.com }\n");
	e = &pol->rules[0].remote;
	assert_int_equal(e->n, 13);
	assert_cidr(&e->items[0], "10.1.0.0/16");
	assert_loc(e->items[0].loc, "t.policy", 1, 20, 11);
	assert_cidr(&e->items[1], "192.0.2.7/32");
	assert_cidr(&e->items[2], "fd00::/8");
	assert_int_equal(e->items[2].pfx.family, 6);
	assert_cidr(&e->items[3], "2001:db8::1/128");
	assert_int_equal(e->items[4].kind, EP_ANY);
	assert_named(&e->items[5], EP_TAG, "Storage");
	assert_loc(e->items[5].loc, "t.policy", 2, 2, 11);
	assert_named(&e->items[6], EP_TAG, "Storage.WestUS");
	/* Tag case is kept: the tag resolver compares case-insensitively. */
	assert_named(&e->items[7], EP_TAG, "AzureFrontDoor.FrontEnd");
	/* Host patterns are stored lower case, without the trailing dot. */
	assert_named(&e->items[8], EP_HOST, "*.blob.core.windows.net");
	assert_loc(e->items[8].loc, "t.policy", 3, 2, 28);
	assert_named(&e->items[9], EP_HOST, "pypi.org");
	assert_named(&e->items[10], EP_HOST, "*pytorch.org");
	assert_named(&e->items[11], EP_HOST, "graph.windows.net");
	assert_named(&e->items[12], EP_HOST, "under_score.example.com");
	for (size_t i = 0; i < e->n; i++)
		assert_null(e->items[i].set);
}

static void test_host_patterns(void **state)
{
	static const char *const valid[] = {
		"example.com",	"*.example.com", /* any name below example.com */
		"*pytorch.org", /* pytorch.org and any name ending in it */
		"pypi.org.", /* fully qualified */
		"a-b.c_d.e1",	"xn--bcher-kva.example", "*blob.core.chinacloudapi.cn",
	};
	static const char *const invalid[] = {
		"a..b", /* empty label */
		"*.", /* nothing after the wildcard */
		"*",
		"foo*bar.com", /* wildcard inside */
		"*.*.example.com",
		"localhost", /* one label */
		"*.com",
		"*com",
		".example.com",
		"example.com..", /* one trailing dot is removed, not two */
		"ex:ample.com", /* not a DNS character */
	};
	char text[512], label[70];

	for (size_t i = 0; i < ARRAY_SIZE(valid); i++) {
		snprintf(text, sizeof(text), "allow out tcp to host:%s\n", valid[i]);
		parse_ok(text);
		teardown(state);
		setup(state);
	}
	for (size_t i = 0; i < ARRAY_SIZE(invalid); i++) {
		snprintf(text, sizeof(text), "allow out tcp to host:%s\n", invalid[i]);
		assert_int_equal(policy_parse_string("t.policy", text, NULL, 0, &dg, &pol),
				 -EINVAL);
		assert_int_equal(dg.nerrors, 1);
		assert_non_null(strstr(dg.msgs[0].msg, "invalid host pattern"));
		/* At the pattern, after "host:". */
		assert_int_equal(dg.msgs[0].loc.col, 23);
		teardown(state);
		setup(state);
	}

	/* Labels are up to 63 characters. */
	memset(label, 'a', 63);
	label[63] = '\0';
	snprintf(text, sizeof(text), "allow out tcp to host:%s.com\n", label);
	parse_ok(text);
	teardown(state);
	setup(state);
	snprintf(text, sizeof(text), "allow out tcp to host:%sa.com\n", label);
	assert_int_equal(policy_parse_string("t.policy", text, NULL, 0, &dg, &pol), -EINVAL);
	assert_int_equal(dg.nerrors, 1);
	assert_non_null(strstr(dg.msgs[0].msg, "is longer than 63 characters"));
}

static void test_host_lengths(void **state)
{
	char text[512], name[300];
	char *p = name;

	/* 4 labels of 61 + 3 dots + "a.bc" = 253. */
	for (int i = 0; i < 4; i++) {
		memset(p, 'x', 61);
		p[61] = '.';
		p += 62;
	}
	strcpy(p, "a.bc");
	assert_int_equal(strlen(name), 252);
	snprintf(text, sizeof(text), "allow out tcp to host:%s\n", name);
	parse_ok(text);
	teardown(state);
	setup(state);
	snprintf(text, sizeof(text), "allow out tcp to host:x%s\n", name);
	parse_ok(text);
	teardown(state);
	setup(state);
	snprintf(text, sizeof(text), "allow out tcp to host:xy%s\n", name);
	assert_int_equal(policy_parse_string("t.policy", text, NULL, 0, &dg, &pol), -EINVAL);
	assert_int_equal(dg.nerrors, 1);
	assert_non_null(strstr(dg.msgs[0].msg, ": longer than 253 characters"));
}

static void test_local_side(void **state)
{
	const struct rule *r;

	parse_ok("allow out tcp port 443 to tag:Storage from 10.1.2.0/24\n"
		 "allow in tcp port 22 from any to { 10.1.2.3, 10.1.2.4 }\n"
		 "allow out udp to any from any\n");
	r = &pol->rules[0];
	assert_true(r->has_local);
	assert_int_equal(r->local.n, 1);
	assert_cidr(&r->local.items[0], "10.1.2.0/24");
	assert_loc(r->local.items[0].loc, "t.policy", 1, 44, 11);
	r = &pol->rules[1];
	assert_int_equal(r->dir, AMLG_DIR_IN);
	assert_int_equal(r->remote.items[0].kind, EP_ANY);
	assert_true(r->has_local);
	assert_int_equal(r->local.n, 2);
	assert_cidr(&r->local.items[1], "10.1.2.4/32");
	r = &pol->rules[2];
	assert_true(r->has_local);
	assert_int_equal(r->local.items[0].kind, EP_ANY);
}

static void test_rule_options(void **state)
{
	const struct rule *r;

	parse_ok("allow out tcp to any flow COMPUTE-OUT-STORAGE optional comment \"x\"\n"
		 "allow out tcp to any comment \"say \\\"hi\\\" \\\\ bye\" optional flow A_1-2\n"
		 "allow in tcp from any optional to 10.0.0.0/8 flow 9LIVES\n");
	r = &pol->rules[0];
	assert_string_equal(r->flow, "COMPUTE-OUT-STORAGE");
	assert_loc(r->flow_loc, "t.policy", 1, 27, 19);
	assert_true(r->optional);
	assert_string_equal(r->comment, "x");
	r = &pol->rules[1];
	assert_string_equal(r->comment, "say \"hi\" \\ bye");
	assert_string_equal(r->flow, "A_1-2");
	assert_true(r->optional);
	r = &pol->rules[2];
	assert_true(r->optional);
	assert_true(r->has_local);
	assert_string_equal(r->flow, "9LIVES");
	assert_null(r->comment);
	teardown(state);
	setup(state);
	/* 47 characters is the limit. */
	parse_ok("allow out tcp to any flow AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n");
	assert_int_equal(strlen(pol->rules[0].flow), 47);
}

/* noflow: a documented flow ID without a packet rule, with its reason; shown by compile. */
static void test_noflow(void **state)
{
	static const struct var_def vars[] = { { "why", "switched off" } };
	struct compiled *c = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	parse_ok_vars("noflow PROFILING-NONE comment \"configuration only\"   # trailing comment\n"
		      "allow out tcp to any flow PY-HOSTS-X\n"
		      "noflow PY-HOSTS comment \"$why\"\n",
		      vars, 1);
	assert_int_equal(pol->nnoflows, 2);
	assert_string_equal(pol->noflows[0].flow, "PROFILING-NONE");
	assert_string_equal(pol->noflows[0].comment, "configuration only");
	assert_loc(pol->noflows[0].loc, "t.policy", 1, 8, 14);
	assert_string_equal(pol->noflows[1].flow, "PY-HOSTS");
	assert_string_equal(pol->noflows[1].comment, "switched off");
	assert_int_equal(pol->nrules, 1);
	assert_int_equal(compile_policy(pol, NULL, &dg, &c), 0);
	assert_int_equal(c->nnoflows, 2);
	f = open_memstream(&buf, &len);
	assert_int_equal(compiled_print(c, f, false, false), 0);
	fclose(f);
	assert_non_null(strstr(buf, "noflow PROFILING-NONE [t.policy:1]: configuration only\n"));
	assert_non_null(strstr(buf, "noflow PY-HOSTS [t.policy:3]: switched off\n"));
	free(buf);
	compiled_free(c);
}

static void test_multiline_lists(void **state)
{
	const struct rule *r;

	parse_ok("set storage = {\n"
		 "\t10.1.0.0/16,      # the private endpoint subnet\n"
		 "\n"
		 "\ttag:Storage.WestUS,\n"
		 "}\n"
		 "allow out tcp port {\n"
		 "\t443,\n"
		 "\t445 } to {\n"
		 "\t@storage, fd00::/8,\n"
		 "} flow COMPUTE-OUT-SMB\n"
		 "allow out udp to 1.1.1.1\n");
	assert_int_equal(pol->nrules, 2);
	r = &pol->rules[0];
	assert_int_equal(r->nports, 2);
	assert_int_equal(r->ports[1].lo, 445);
	assert_int_equal(r->remote.n, 3);
	assert_loc(r->remote.items[1].loc, "t.policy", 4, 2, 18);
	assert_loc(r->remote.items[2].loc, "t.policy", 9, 12, 8);
	assert_string_equal(r->flow, "COMPUTE-OUT-SMB");
	assert_int_equal(pol->rules[1].proto, AMLG_PROTO_UDP);
}

static void test_sets(void **state)
{
	const struct endpoint *e;

	parse_ok("set batch = { tag:BatchNodeManagement.WestUS, 10.0.0.0/8 }\n"
		 "set all = { @batch, host:*.batch.azure.com }\n"
		 "set empty = { }\n"
		 "set one = 192.0.2.0/24\n"
		 "allow in tcp port 29876-29877 from @all\n"
		 "allow out tcp to { @one, 198.51.100.0/24 } from @batch\n"
		 "allow out tcp to @empty optional\n");
	e = &pol->rules[0].remote;
	assert_int_equal(e->n, 3);
	/* Items remember the set they are written in and where. */
	assert_named(&e->items[0], EP_TAG, "BatchNodeManagement.WestUS");
	assert_string_equal(e->items[0].set, "batch");
	assert_loc(e->items[0].loc, "t.policy", 1, 15, 30);
	assert_cidr(&e->items[1], "10.0.0.0/8");
	assert_string_equal(e->items[1].set, "batch");
	assert_loc(e->items[1].loc, "t.policy", 1, 47, 10);
	assert_named(&e->items[2], EP_HOST, "*.batch.azure.com");
	assert_string_equal(e->items[2].set, "all");
	assert_loc(e->items[2].loc, "t.policy", 2, 21, 22);

	e = &pol->rules[1].remote;
	assert_int_equal(e->n, 2);
	assert_string_equal(e->items[0].set, "one");
	assert_cidr(&e->items[0], "192.0.2.0/24");
	assert_null(e->items[1].set);
	assert_int_equal(pol->rules[1].local.n, 2);
	assert_string_equal(pol->rules[1].local.items[0].set, "batch");

	/* An empty set gives an endpoint without items; the compiler decides (optional). */
	assert_int_equal(pol->rules[2].remote.n, 0);
	assert_true(pol->rules[2].optional);
}

static void test_variables(void **state)
{
	static const struct var_def cli[] = { { "region", "EastUS2" }, { "extra", "10.9.0.0/16" } };
	const struct policy_var *v;
	const struct rule *r;

	parse_ok_vars(
		"define region = westus\n"
		"define storage = \"myacct\"\n"
		"define m = enforce\n"
		"define unused = x\n"
		"mode $m\n"
		"allow out tcp to { tag:Storage.$region, host:${storage}.blob.core.windows.net,\n"
		"\t$extra } comment \"for $storage in ${region}\"\n",
		cli, 2);
	assert_int_equal(pol->mode, AMLG_MODE_ENFORCE);
	r = &pol->rules[0];
	assert_named(&r->remote.items[0], EP_TAG, "Storage.EastUS2");
	assert_named(&r->remote.items[1], EP_HOST, "myacct.blob.core.windows.net");
	assert_cidr(&r->remote.items[2], "10.9.0.0/16");
	/* The location of an item that came from a variable is the whole word. */
	assert_loc(r->remote.items[1].loc, "t.policy", 6, 41, 37);
	assert_string_equal(r->comment, "for myacct in EastUS2");

	assert_int_equal(pol->nvars, 5);
	v = &pol->vars[0];
	assert_string_equal(v->name, "region");
	assert_string_equal(v->value, "EastUS2"); /* --var wins over the define */
	assert_true(v->from_cli);
	assert_true(v->used);
	assert_loc(v->loc, "t.policy", 1, 8, 6);
	assert_loc(v->use_loc, "t.policy", 6, 32, 7);
	v = &pol->vars[1];
	assert_string_equal(v->name, "extra");
	assert_true(v->from_cli);
	assert_true(v->used);
	assert_null(v->loc.file); /* never defined: --var only */
	v = &pol->vars[2];
	assert_string_equal(v->name, "storage");
	assert_string_equal(v->value, "myacct");
	assert_false(v->from_cli);
	assert_true(v->used);
	v = &pol->vars[4];
	assert_string_equal(v->name, "unused");
	assert_false(v->used);
}

static void test_variable_cli_errors(void **state)
{
	static const char uses_region[] = "define region = westus\n"
					  "allow out tcp to tag:Storage.$region\n";
	static const struct var_def typo[] = { { "regoin", "eastus" } };
	static const struct var_def stray[] = { { "zzz", "1" } };
	static const struct var_def bad[] = { { "1x", "y" } };
	static const struct var_def twice[] = { { "region", "a" }, { "region", "b" } };
	static const struct var_def late[] = { { "r", "y" } };

	/* A typo in --var must never silently keep the default. */
	parse_fails_vars(uses_region, typo, 1,
			 "error: --var 'regoin' is neither defined nor used by the policy\n"
			 "  hint: did you mean 'region'?\n");
	teardown(state);
	setup(state);
	parse_fails_vars(uses_region, stray, 1,
			 "error: --var 'zzz' is neither defined nor used by the policy\n");
	teardown(state);
	setup(state);
	parse_fails_vars(uses_region, bad, 1,
			 "error: invalid --var name '1x'\n"
			 "  hint: a variable name is letters, digits and '_', not starting with a "
			 "digit\n");
	teardown(state);
	setup(state);
	parse_fails_vars(uses_region, twice, 2, "error: --var 'region' is given more than once\n");
	teardown(state);
	setup(state);
	parse_fails_vars("allow out tcp to tag:Storage.$r\n"
			 "define r = westus\n",
			 late, 1,
			 "t.policy:2:8: error: variable 'r' is defined after its first use\n"
			 "define r = westus\n"
			 "       ^\n"
			 "  hint: move the define above the first use\n"
			 "t.policy:1:30: note: 'r' is first used here\n"
			 "allow out tcp to tag:Storage.$r\n"
			 "                             ^~\n");
	teardown(state);
	setup(state);
	/* The --var of a statement skipped after an error is not "unused" on top of it. */
	parse_fails_vars("allow out tpc to tag:Storage.$r\n", late, 1,
			 "t.policy:1:11: error: unknown protocol 'tpc'\n"
			 "allow out tpc to tag:Storage.$r\n"
			 "          ^~~\n"
			 "  hint: did you mean 'tcp'?\n");
	teardown(state);
	setup(state);
	/* Defined but unused is fine, with or without --var. */
	parse_ok_vars("define a = 1\n", late, 0);
	teardown(state);
	setup(state);
	parse_ok_vars("define r = 1\n", late, 1);
	assert_string_equal(pol->vars[0].value, "y");
}

static void sha256(const char *text, size_t len, uint8_t out[32])
{
	assert_true(EVP_Digest(text, len, out, NULL, EVP_sha256(), NULL));
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;

	assert_non_null(f);
	buf = malloc(1 << 16);
	assert_non_null(buf);
	*len = fread(buf, 1, 1 << 16, f);
	fclose(f);
	return buf;
}

static void test_sha256(void **state)
{
	static const char text[] = "allow out tcp to any\n";
	uint8_t want[32];

	parse_ok(text);
	sha256(text, strlen(text), want);
	assert_memory_equal(pol->files[0].sha256, want, 32);
	assert_memory_equal(pol->sha256, want, 32);
}

static void test_includes(void **state)
{
	static const char *const files[] = { "inc_main.policy", "inc/sub-public.policy",
					     "inc/leaf.policy" };
	char *all = malloc(1 << 18);
	size_t alen = 0, len;
	uint8_t want[32];
	const struct rule *r;

	assert_non_null(all);
	assert_int_equal(policy_load("inc_main.policy", NULL, 0, &dg, &pol), 0);
	assert_int_equal(dg.n, 0);
	assert_string_equal(pol->path, "inc_main.policy");
	/* Files in the order read, each hashed, and the policy hash over all of them. */
	assert_int_equal(pol->nfiles, 3);
	for (size_t i = 0; i < 3; i++) {
		char *text = slurp(files[i], &len);

		assert_string_equal(pol->files[i].path, files[i]);
		sha256(text, len, want);
		assert_memory_equal(pol->files[i].sha256, want, 32);
		memcpy(all + alen, text, len);
		alen += len;
		free(text);
	}
	sha256(all, alen, want);
	assert_memory_equal(pol->sha256, want, 32);
	free(all);

	/* The leaf's rule comes first: it is read where the include stands. */
	assert_int_equal(pol->nrules, 2);
	r = &pol->rules[0];
	assert_int_equal(r->dir, AMLG_DIR_IN);
	assert_loc(r->loc, "inc/leaf.policy", 3, 1, 5);
	assert_named(&r->remote.items[0], EP_TAG, "BatchNodeManagement.westus");
	r = &pol->rules[1];
	assert_loc(r->loc, "inc_main.policy", 7, 1, 5);
	assert_string_equal(r->flow, "COMPUTE-OUT-STORAGE");
	assert_loc(r->flow_loc, "inc_main.policy", 7, 41, 19);
	assert_int_equal(r->remote.n, 2);
	assert_named(&r->remote.items[0], EP_TAG, "Storage.westus");
	assert_string_equal(r->remote.items[0].set, "storage");
	assert_loc(r->remote.items[0].loc, "inc/sub-public.policy", 3, 17, 19);
	assert_named(&r->remote.items[1], EP_HOST, "*.blob.core.windows.net");
	/* tags is relative to the file that says it. */
	assert_string_equal(pol->tags_path, "inc/../tags/public.json");
	assert_loc(pol->tags_loc, "inc/sub-public.policy", 4, 6, 21);
}

static void test_include_path_from_var(void **state)
{
	static const struct var_def china[] = { { "cloud", "china" } };

	assert_int_equal(policy_load("inc_main.policy", china, 1, &dg, &pol), 0);
	assert_int_equal(pol->nfiles, 2);
	assert_string_equal(pol->files[1].path, "inc/sub-china.policy");
	assert_string_equal(pol->tags_path, "inc/../tags/china.json");
	assert_int_equal(pol->nrules, 1);
	assert_int_equal(pol->rules[0].remote.n, 1);
	assert_true(pol->vars[0].from_cli);
}

static void test_include_absolute_and_cwd(void **state)
{
	assert_int_equal(policy_load(FIXTURES "/inc_main.policy", NULL, 0, &dg, &pol), 0);
	assert_string_equal(pol->files[1].path, FIXTURES "/inc/sub-public.policy");
	assert_string_equal(pol->tags_path, FIXTURES "/inc/../tags/public.json");
	teardown(state);
	setup(state);
	/* A string's includes are relative to the cwd. */
	parse_ok("define region = westus\ninclude \"inc/leaf.policy\"\n");
	assert_int_equal(pol->nfiles, 2);
	assert_string_equal(pol->files[1].path, "inc/leaf.policy");
	assert_loc(pol->rules[0].loc, "inc/leaf.policy", 3, 1, 5);
}

static void test_include_missing(void **state)
{
	char *out;

	/* The include fails at its location; the rest of the file is still checked. */
	assert_int_equal(policy_load("missing_inc.policy", NULL, 0, &dg, &pol), -EINVAL);
	assert_null(pol);
	out = printed();
	assert_string_equal(out,
			    "missing_inc.policy:3:9: error: cannot read 'does-not-exist.policy': "
			    "No such file or directory\n"
			    "include \"does-not-exist.policy\"\n"
			    "        ^~~~~~~~~~~~~~~~~~~~~~~\n"
			    "missing_inc.policy:4:20: error: port 0 is out of range 1-65535\n"
			    "allow out tcp port 0 to any\n"
			    "                   ^\n");
	free(out);
	teardown(state);
	setup(state);
	parse_fails(
		"include \"inc\"\n",
		"t.policy:1:9: error: cannot read 'inc': it is a directory, not a regular file\n"
		"include \"inc\"\n"
		"        ^~~~~\n");
	/* a FIFO would block the parser (and the daemon's SIGHUP) forever: refused at once */
	{
		char fifo[64], text[128], expect[512], caret[64];

		snprintf(fifo, sizeof(fifo), "/tmp/amlg-fifo-%d.policy", (int)getpid());
		snprintf(text, sizeof(text), "include \"%s\"\n", fifo);
		memset(caret, '~', sizeof(caret));
		snprintf(expect, sizeof(expect),
			 "t.policy:1:9: error: cannot read '%s': it is a FIFO, not a regular file\n"
			 "%s        ^%.*s\n",
			 fifo, text, (int)strlen(fifo) + 1, caret);
		teardown(state);
		setup(state);
		unlink(fifo);
		assert_int_equal(mkfifo(fifo, 0600), 0);
		parse_fails(text, expect);
		unlink(fifo);
	}
}

static void test_include_cycle(void **state)
{
	char *out;

	assert_int_equal(policy_load("cycle_a.policy", NULL, 0, &dg, &pol), -EINVAL);
	assert_null(pol);
	out = printed();
	assert_string_equal(out, "cycle_b.policy:3:9: error: include cycle: cycle_a.policy -> "
				 "cycle_b.policy -> cycle_a.policy\n"
				 "include \"cycle_a.policy\"\n"
				 "        ^~~~~~~~~~~~~~~~\n");
	free(out);
	assert_int_equal(dg.nerrors, 1);
}

/* Doubling variables and sets stop at a limit, with the line that crosses it. */
static void test_expansion_limits(void **state)
{
	char *text = malloc(1 << 16), *out;
	size_t o = 0;

	assert_non_null(text);
	o += (size_t)sprintf(text + o, "define v0 = \"xxxxxxxx\"\n");
	for (int i = 1; i <= 40; i++)
		o += (size_t)sprintf(text + o, "define v%d = \"$v%d$v%d\"\n", i, i - 1, i - 1);
	sprintf(text + o, "allow out tcp port 443 to 192.0.2.1 flow \"$v40\"\n");
	assert_int_equal(policy_parse_string("t.policy", text, NULL, 0, &dg, &pol), -EINVAL);
	/* v13 is 8 << 13 = 65536 bytes, the most: v14 is too long */
	assert_int_equal(dg.nerrors, 1);
	assert_int_equal(dg.msgs[0].loc.line, 15);
	assert_int_equal(dg.msgs[0].loc.col, 19);
	assert_string_equal(dg.msgs[0].msg,
			    "'$v13' makes this value longer than 65536 bytes (65536 + 65536)");
	teardown(state);
	setup(state);
	o = 0;
	o += (size_t)sprintf(text + o, "set s0 = { 192.0.2.1, 192.0.2.2, 192.0.2.3, 192.0.2.4 }\n");
	for (int i = 1; i <= 40; i++)
		o += (size_t)sprintf(text + o, "set s%d = { @s%d, @s%d }\n", i, i - 1, i - 1);
	sprintf(text + o, "allow out tcp port 443 to @s40\n");
	assert_int_equal(policy_parse_string("t.policy", text, NULL, 0, &dg, &pol), -EINVAL);
	out = printed();
	/* 4 << 14 = 65536 endpoints in s14: s15 is too long */
	assert_non_null(strstr(out, "t.policy:16:19: error: '@s14' makes this list longer than "
				    "65536 endpoints (65536 + 65536)\n"));
	free(out);
	teardown(state);
	setup(state);
	o = 0;
	o += (size_t)sprintf(text + o, "set s0 = { 192.0.2.1 }\n");
	for (int i = 1; i <= 20; i++)
		o += (size_t)sprintf(text + o, "set s%d = { @s%d }\n", i, i - 1);
	assert_int_equal(policy_parse_string("t.policy", text, NULL, 0, &dg, &pol), -EINVAL);
	out = printed();
	assert_non_null(strstr(
		out, "t.policy:17:13: error: sets nested more than 16 deep through '@s15'\n"));
	free(out);
	free(text);
}

/* A million errors are counted, fifty are printed, and printing is quick. */
/* Parse n copies of one bad line; the milliseconds it took, and what was printed in *out. */
static double parse_bad_lines(size_t n, char **out)
{
	static const char line[] = "allow out tcp port 0 to any\n";
	size_t len = strlen(line);
	char *text = malloc(n * len + 1);
	struct timespec t0, t1;

	assert_non_null(text);
	for (size_t i = 0; i < n; i++)
		memcpy(text + i * len, line, len);
	text[n * len] = '\0';
	diag_free(&dg);
	diag_init(&dg);
	policy_free(pol);
	pol = NULL;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(policy_parse_string("t.policy", text, NULL, 0, &dg, &pol), -EINVAL);
	*out = printed();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	free(text);
	return (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
}

static void test_error_cap(void **state)
{
	size_t n = 100000;
	double small = 1e30, big = 1e30;
	char *out;

	/* the cost grows with the number of lines, not its square: 4 times the lines, measured
	 * side by side (the best of two runs each), stays well under 16 times the time */
	for (int i = 0; i < 2; i++) {
		double t = parse_bad_lines(n / 4, &out);

		small = t < small ? t : small;
		free(out);
		t = parse_bad_lines(n, &out);
		big = t < big ? t : big;
		if (i == 0)
			free(out);
	}
	print_message("%zu lines %.0f ms, %zu lines %.0f ms\n", n / 4, small, n, big);
	assert_true(big < 8 * small + 50);
	assert_int_equal(dg.nerrors, n);
	assert_int_equal(dg.n, DIAG_MAX_MSGS);
	/* the same words on every line: said once, with where else */
	assert_non_null(strstr(out, "t.policy:1:20: error: port 0"));
	assert_non_null(strstr(out, "  the same at t.policy:2:20, t.policy:3:20, t.policy:4:20, "
				    "t.policy:5:20, t.policy:6:20 and 44 more places\n"));
	assert_null(strstr(out, "t.policy:51:20"));
	assert_non_null(strstr(out, "\nand 99950 more errors (not shown)\n"));
	free(out);
}

/* A file that is not named *.policy is refused without a line of it in the messages. */
static void test_opaque_file(void **state)
{
	char dir[] = "/tmp/amlg-opaque-XXXXXX", path[96], text[160], *out;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/shadow", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("root:SECRETHASH:19000:0:99999:7:::\nbin:OTHERSECRET:19000:0:99999:7:::\n", f);
	fclose(f);
	snprintf(text, sizeof(text), "include \"%s\"\nallow out tcp port 443 to 192.0.2.1\n", path);
	assert_int_equal(policy_parse_string("t.policy", text, NULL, 0, &dg, &pol), -EINVAL);
	out = printed();
	assert_null(strstr(out, "SECRET"));
	assert_null(strstr(out, "root"));
	assert_non_null(strstr(out, "/shadow:1: error: not a policy file (its name does not end in "
				    ".policy): none of its lines are shown\n"));
	free(out);
	out = diag_json(&dg);
	assert_null(strstr(out, "SECRET"));
	free(out);
	unlink(path);
	rmdir(dir);
}

static void test_include_depth(void **state)
{
	char dir[] = "/tmp/amlg-depth-XXXXXX", path[64], *out;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	/* d0 includes d1 ... d17: sixteen nested includes are fine, the seventeenth is not. */
	for (int i = 0; i <= 17; i++) {
		snprintf(path, sizeof(path), "%s/d%d.policy", dir, i);
		f = fopen(path, "w");
		assert_non_null(f);
		if (i < 17)
			fprintf(f, "include \"d%d.policy\"\n", i + 1);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/d0.policy", dir);
	assert_int_equal(policy_load(path, NULL, 0, &dg, &pol), -EINVAL);
	assert_int_equal(dg.nerrors, 1);
	assert_int_equal(dg.msgs[0].loc.line, 1);
	assert_int_equal(dg.msgs[0].loc.col, 9);
	out = printed();
	assert_non_null(strstr(out, "/d16.policy:1:9: error: includes are nested more than 16 "
				    "deep\n"));
	free(out);
	for (int i = 0; i <= 17; i++) {
		snprintf(path, sizeof(path), "%s/d%d.policy", dir, i);
		unlink(path);
	}
	rmdir(dir);
}

static void test_load_missing_file(void **state)
{
	char *out;

	assert_int_equal(policy_load("no-such.policy", NULL, 0, &dg, &pol), -EINVAL);
	assert_null(pol);
	out = printed();
	assert_string_equal(out,
			    "error: cannot read 'no-such.policy': No such file or directory\n");
	free(out);
}

/* A file of no bytes (one being rewritten in place) is refused, at the top or included. */
static void test_load_empty_file(void **state)
{
	char dir[] = "/tmp/amlg-empty-XXXXXX", top[64], inc[64], *out;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(top, sizeof(top), "%s/top.policy", dir);
	snprintf(inc, sizeof(inc), "%s/site.policy", dir);
	f = fopen(inc, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(policy_load(inc, NULL, 0, &dg, &pol), -EINVAL);
	assert_null(pol);
	out = printed();
	assert_non_null(strstr(out, "error: '"));
	assert_non_null(strstr(out, "/site.policy' is empty: not a policy\n"
				    "  hint: a file being written? write the new policy beside it, "
				    "then rename it into place\n"));
	free(out);
	teardown(state);
	setup(state);
	f = fopen(top, "w");
	assert_non_null(f);
	fputs("allow out tcp port 443 to any\ninclude \"site.policy\"\n", f);
	fclose(f);
	assert_int_equal(policy_load(top, NULL, 0, &dg, &pol), -EINVAL);
	assert_int_equal(dg.nerrors, 1);
	assert_int_equal(dg.msgs[0].loc.line, 2);
	assert_int_equal(dg.msgs[0].loc.col, 9);
	unlink(top);
	unlink(inc);
	rmdir(dir);
}

static void test_all_errors_reported(void **state)
{
	parse_fails(
		"mode enforced\n"
		"allow out tpc to any\n"
		"set s = {\n"
		"\t10.0.0.1/24,\n"
		"\thost:a..b,\n"
		"\ttag:Storage,\n"
		"}\n"
		"allow out tcp port 0 to @s flow lower\n"
		"allow in tcp to any\n"
		"alow out tcp to any\n"
		"allow out tcp to any\n",
		"t.policy:1:6: error: unknown mode 'enforced'\n"
		"mode enforced\n"
		"     ^~~~~~~~\n"
		"  hint: did you mean 'enforce'?\n"
		"t.policy:2:11: error: unknown protocol 'tpc'\n"
		"allow out tpc to any\n"
		"          ^~~\n"
		"  hint: did you mean 'tcp'?\n"
		"t.policy:4:2: error: 10.0.0.1/24 has host bits set; did you mean 10.0.0.0/24?\n"
		"\t10.0.0.1/24,\n"
		"\t^~~~~~~~~~~\n"
		"  hint: for the single address write 10.0.0.1/32\n"
		"t.policy:5:7: error: invalid host pattern 'a..b': empty label\n"
		"\thost:a..b,\n"
		"\t     ^~~~\n"
		"t.policy:8:20: error: port 0 is out of range 1-65535\n"
		"allow out tcp port 0 to @s flow lower\n"
		"                   ^\n"
		"t.policy:8:33: error: invalid flow ID 'lower'\n"
		"allow out tcp port 0 to @s flow lower\n"
		"                                ^~~~~\n"
		"  hint: did you mean 'LOWER'?\n"
		"t.policy:9:14: error: expected 'from', got 'to'\n"
		"allow in tcp to any\n"
		"             ^~\n"
		"  hint: an 'in' rule names the remote endpoint first, with 'from'; 'to' may "
		"follow for the local side: allow in tcp from REMOTE to LOCAL\n"
		"t.policy:10:1: error: unknown statement 'alow'\n"
		"alow out tcp to any\n"
		"^~~~\n"
		"  hint: did you mean 'allow'?\n");
	assert_int_equal(dg.nerrors, 8);
}

static void test_recovery_inside_list(void **state)
{
	/* A syntax error inside a list skips to its '}', not into the middle of it. */
	parse_fails("set s = {\n"
		    "\t10.0.0.0/8 10.1.0.0/16,\n"
		    "\t10.2.0.0/16,\n"
		    "}\n"
		    "allow out tcp to @s\n"
		    "allow out tcp to bogus\n",
		    "t.policy:2:13: error: expected ',' or '}', got '10.1.0.0/16'\n"
		    "\t10.0.0.0/8 10.1.0.0/16,\n"
		    "\t           ^~~~~~~~~~~\n"
		    "  hint: separate the items of a list with ','\n"
		    "t.policy:6:18: error: unknown endpoint 'bogus'\n"
		    "allow out tcp to bogus\n"
		    "                 ^~~~~\n"
		    "  hint: an endpoint is an address or prefix, any, @set, tag:Name[.Region] or "
		    "host:pattern\n");
}

static void test_no_cascades(void **state)
{
	/*
	 * One mistake, one error: a broken define still defines its name, and an item with an
	 * undefined variable does not stop the check of the list it is in.
	 */
	parse_fails(
		"define r = $undef\n"
		"allow out tcp to tag:Storage.$r\n"
		"define q x\n"
		"allow out tcp port $q to { $r, $nope, host:a..b } flow $q comment \"$r\"\n",
		"t.policy:1:12: error: undefined variable 'undef'\n"
		"define r = $undef\n"
		"           ^~~~~~\n"
		"  hint: define it above with 'define undef = VALUE', or pass --var undef=VALUE\n"
		"t.policy:3:10: error: expected '=', got 'x'\n"
		"define q x\n"
		"         ^\n"
		"  hint: define q = VALUE\n"
		"t.policy:4:32: error: undefined variable 'nope'\n"
		"allow out tcp port $q to { $r, $nope, host:a..b } flow $q comment \"$r\"\n"
		"                               ^~~~~\n"
		"  hint: define it above with 'define nope = VALUE', or pass --var nope=VALUE\n"
		"t.policy:4:44: error: invalid host pattern 'a..b': empty label\n"
		"allow out tcp port $q to { $r, $nope, host:a..b } flow $q comment \"$r\"\n"
		"                                           ^~~~\n");
	assert_int_equal(dg.nerrors, 4);
}

static void test_crlf_and_utf8(void **state)
{
	parse_ok("# caf\xc3\xa9\r\nallow out tcp to any comment \"na\xc3\xafve\"\r\n");
	assert_int_equal(pol->nrules, 1);
	assert_string_equal(pol->rules[0].comment, "na\xc3\xafve");
}

/* ---- every error message ------------------------------------------------------------------ */

static const struct {
	const char *name;
	const char *src;
	const char *expect; /* all of diag_print's output */
} error_cases[] = {
	{ "bad_char_semicolon", "allow out tcp to any;\n",
	  "t.policy:1:21: error: unexpected character ';'\n"
	  "allow out tcp to any;\n"
	  "                    ^\n"
	  "  hint: a statement ends at the end of its line; no ';' is needed\n" },
	{ "bad_char_quote", "allow out tcp to 'x'\n",
	  "t.policy:1:18: error: unexpected character \"'\"\n"
	  "allow out tcp to 'x'\n"
	  "                 ^\n"
	  "  hint: strings are written in double quotes\n" },
	{ "bad_char_bracket", "allow out tcp to [fd00::1]\n",
	  "t.policy:1:18: error: unexpected character '['\n"
	  "allow out tcp to [fd00::1]\n"
	  "                 ^\n"
	  "  hint: write IPv6 addresses without brackets, like fd00::1\n" },
	{ "bad_char_plain", "allow out tcp to any !\n",
	  "t.policy:1:22: error: unexpected character '!'\n"
	  "allow out tcp to any !\n"
	  "                     ^\n" },
	{ "bad_byte", "allow out tcp to \xc3\xa9\n",
	  "t.policy:1:18: error: unexpected byte 0xc3\n"
	  "allow out tcp to \xc3\xa9\n"
	  "                 ^\n"
	  "  hint: only comments and strings may contain non-ASCII text\n" },
	{ "unterminated_string", "allow out tcp to any comment \"abc\n",
	  "t.policy:1:30: error: unterminated string\n"
	  "allow out tcp to any comment \"abc\n"
	  "                             ^~~~\n"
	  "  hint: close it with '\"' on the same line\n" },
	{ "dollar_without_name", "allow out tcp to tag:$1\n",
	  "t.policy:1:22: error: '$' must be followed by a variable name\n"
	  "allow out tcp to tag:$1\n"
	  "                     ^\n"
	  "  hint: write $name or ${name}; a name is letters, digits and '_'\n" },
	{ "dollar_brace_unclosed", "allow out tcp to host:${storage.blob.core.windows.net\n",
	  "t.policy:1:23: error: missing '}' after '${storage'\n"
	  "allow out tcp to host:${storage.blob.core.windows.net\n"
	  "                      ^~~~~~~~~\n" },
	{ "undefined_var_suggest",
	  "define region = westus\n"
	  "allow out tcp to tag:Storage.$regoin\n",
	  "t.policy:2:30: error: undefined variable 'regoin'\n"
	  "allow out tcp to tag:Storage.$regoin\n"
	  "                             ^~~~~~~\n"
	  "  hint: did you mean 'region'?\n" },
	{ "undefined_var", "allow out tcp to tag:Storage.${region}\n",
	  "t.policy:1:30: error: undefined variable 'region'\n"
	  "allow out tcp to tag:Storage.${region}\n"
	  "                             ^~~~~~~~~\n"
	  "  hint: define it above with 'define region = VALUE', or pass --var region=VALUE\n" },
	{ "unknown_escape", "allow out tcp to any comment \"a\\tb\"\n",
	  "t.policy:1:32: error: unknown escape sequence '\\t'\n"
	  "allow out tcp to any comment \"a\\tb\"\n"
	  "                               ^~\n"
	  "  hint: inside a string only \\\" and \\\\ are escapes\n" },
	{ "var_redefined",
	  "define a = 1\n"
	  "define a = 2\n",
	  "t.policy:2:8: error: variable 'a' is already defined\n"
	  "define a = 2\n"
	  "       ^\n"
	  "t.policy:1:8: note: 'a' was first defined here\n"
	  "define a = 1\n"
	  "       ^\n" },
	{ "define_after_use",
	  "allow out tcp to tag:Storage.$r\n"
	  "define r = westus\n",
	  "t.policy:1:30: error: undefined variable 'r'\n"
	  "allow out tcp to tag:Storage.$r\n"
	  "                             ^~\n"
	  "  hint: define it above with 'define r = VALUE', or pass --var r=VALUE\n"
	  "t.policy:2:8: note: 'r' is defined here, after its first use\n"
	  "define r = westus\n"
	  "       ^\n"
	  "  hint: move the define above the first use\n" },
	{ "define_with_dollar", "define $region = westus\n",
	  "t.policy:1:8: error: write the name without '$' in a define\n"
	  "define $region = westus\n"
	  "       ^~~~~~~\n"
	  "  hint: define region = ...\n" },
	{ "define_bad_name", "define 1x = y\n",
	  "t.policy:1:8: error: invalid variable name '1x'\n"
	  "define 1x = y\n"
	  "       ^~\n"
	  "  hint: a variable name is letters, digits and '_', not starting with a digit\n" },
	{ "define_no_equals", "define x y\n",
	  "t.policy:1:10: error: expected '=', got 'y'\n"
	  "define x y\n"
	  "         ^\n"
	  "  hint: define x = VALUE\n" },
	{ "define_no_value", "define x =\n",
	  "t.policy:1:11: error: expected a value (a word or a \"string\") after '='\n"
	  "define x =\n"
	  "          ^\n" },
	{ "define_two_values", "define x = a b\n",
	  "t.policy:1:14: error: unexpected 'b' at the end of the statement\n"
	  "define x = a b\n"
	  "             ^\n" },
	{ "tag_missing", "allow out tcp to tag:\n",
	  "t.policy:1:18: error: missing service tag name after 'tag:'\n"
	  "allow out tcp to tag:\n"
	  "                 ^~~~\n"
	  "  hint: write tag:Name or tag:Name.Region, like tag:Storage.WestUS\n" },
	{ "tag_trailing_dot", "allow out tcp to tag:Storage.\n",
	  "t.policy:1:22: error: invalid service tag 'Storage.'\n"
	  "allow out tcp to tag:Storage.\n"
	  "                     ^~~~~~~~\n"
	  "  hint: a service tag is Name or Name.Region of letters and digits, like Storage.Wes"
	  "tUS\n" },
	{ "tag_two_dots", "allow out tcp to tag:Storage.West.US\n",
	  "t.policy:1:22: error: invalid service tag 'Storage.West.US'\n"
	  "allow out tcp to tag:Storage.West.US\n"
	  "                     ^~~~~~~~~~~~~~~\n"
	  "  hint: a service tag is Name or Name.Region of letters and digits, like Storage.Wes"
	  "tUS\n" },
	{ "tag_dash", "allow out tcp to tag:Azure-Cloud\n",
	  "t.policy:1:22: error: invalid service tag 'Azure-Cloud'\n"
	  "allow out tcp to tag:Azure-Cloud\n"
	  "                     ^~~~~~~~~~~\n"
	  "  hint: a service tag is Name or Name.Region of letters and digits, like Storage.Wes"
	  "tUS\n" },
	{ "tag_var_expanded",
	  "define r = West-US\n"
	  "allow out tcp to tag:Storage.$r\n",
	  "t.policy:2:18: error: invalid service tag 'Storage.West-US'\n"
	  "allow out tcp to tag:Storage.$r\n"
	  "                 ^~~~~~~~~~~~~~\n"
	  "  hint: a service tag is Name or Name.Region of letters and digits, like Storage.Wes"
	  "tUS\n" },
	{ "host_missing", "allow out tcp to host:\n",
	  "t.policy:1:18: error: missing host pattern after 'host:'\n"
	  "allow out tcp to host:\n"
	  "                 ^~~~~\n"
	  "  hint: write host:name.tld, host:*.name.tld or host:*name.tld\n" },
	{ "host_star_dot", "allow out tcp to host:*.\n",
	  "t.policy:1:23: error: invalid host pattern '*.': a wildcard must be followed by a do"
	  "main, like *.example.com\n"
	  "allow out tcp to host:*.\n"
	  "                      ^~\n" },
	{ "host_empty_label", "allow out tcp to host:a..b\n",
	  "t.policy:1:23: error: invalid host pattern 'a..b': empty label\n"
	  "allow out tcp to host:a..b\n"
	  "                      ^~~~\n" },
	{ "host_star_inside", "allow out tcp to host:foo*bar.com\n",
	  "t.policy:1:23: error: invalid host pattern 'foo*bar.com': '*' is only allowed at the"
	  " start, as in *.example.com or *example.com\n"
	  "allow out tcp to host:foo*bar.com\n"
	  "                      ^~~~~~~~~~~\n" },
	{ "host_bad_char", "allow out tcp to host:example.com/path\n",
	  "t.policy:1:23: error: invalid host pattern 'example.com/path': invalid character '/'"
	  "\n"
	  "allow out tcp to host:example.com/path\n"
	  "                      ^~~~~~~~~~~~~~~~\n" },
	{ "host_one_label", "allow out tcp to host:localhost\n",
	  "t.policy:1:23: error: invalid host pattern 'localhost': a pattern needs at least a n"
	  "ame and a top-level domain, like example.com\n"
	  "allow out tcp to host:localhost\n"
	  "                      ^~~~~~~~~\n" },
	{ "host_star_tld", "allow out tcp to host:*.com\n",
	  "t.policy:1:23: error: invalid host pattern '*.com': a pattern needs at least a name "
	  "and a top-level domain, like example.com\n"
	  "allow out tcp to host:*.com\n"
	  "                      ^~~~~\n" },
	{ "host_leading_dot", "allow out tcp to host:.example.com\n",
	  "t.policy:1:23: error: invalid host pattern '.example.com': empty label\n"
	  "allow out tcp to host:.example.com\n"
	  "                      ^~~~~~~~~~~~\n" },
	{ "cidr_host_bits", "allow out tcp to 10.0.0.1/24\n",
	  "t.policy:1:18: error: 10.0.0.1/24 has host bits set; did you mean 10.0.0.0/24?\n"
	  "allow out tcp to 10.0.0.1/24\n"
	  "                 ^~~~~~~~~~~\n"
	  "  hint: for the single address write 10.0.0.1/32\n" },
	{ "cidr6_host_bits", "allow in tcp from fd00::1/64\n",
	  "t.policy:1:19: error: fd00::1/64 has host bits set; did you mean fd00::/64?\n"
	  "allow in tcp from fd00::1/64\n"
	  "                  ^~~~~~~~~~\n"
	  "  hint: for the single address write fd00::1/128\n" },
	{ "address_invalid", "allow out tcp to 10.0.0.300\n",
	  "t.policy:1:18: error: invalid address or prefix '10.0.0.300'\n"
	  "allow out tcp to 10.0.0.300\n"
	  "                 ^~~~~~~~~~\n"
	  "  hint: write an IPv4 or IPv6 address or prefix, like 10.1.0.0/16 or fd00::/8\n" },
	{ "prefix_too_long", "allow out tcp to 10.0.0.0/33\n",
	  "t.policy:1:18: error: invalid address or prefix '10.0.0.0/33'\n"
	  "allow out tcp to 10.0.0.0/33\n"
	  "                 ^~~~~~~~~~~\n"
	  "  hint: write an IPv4 or IPv6 address or prefix, like 10.1.0.0/16 or fd00::/8\n" },
	{ "prefix6_too_long", "allow out tcp to fd00::/129\n",
	  "t.policy:1:18: error: invalid address or prefix 'fd00::/129'\n"
	  "allow out tcp to fd00::/129\n"
	  "                 ^~~~~~~~~~\n"
	  "  hint: write an IPv4 or IPv6 address or prefix, like 10.1.0.0/16 or fd00::/8\n" },
	{ "set_self", "set a = { 10.0.0.0/8, @a }\n",
	  "t.policy:1:23: error: set 'a' refers to itself\n"
	  "set a = { 10.0.0.0/8, @a }\n"
	  "                      ^~\n"
	  "  hint: a set may use the sets defined above it, not itself\n" },
	{ "set_undefined_suggest",
	  "set storage = { any }\n"
	  "allow out tcp to @storag\n",
	  "t.policy:2:18: error: undefined set '@storag'\n"
	  "allow out tcp to @storag\n"
	  "                 ^~~~~~~\n"
	  "  hint: did you mean '@storage'?\n" },
	{ "set_undefined", "allow out tcp to @nope\n",
	  "t.policy:1:18: error: undefined set '@nope'\n"
	  "allow out tcp to @nope\n"
	  "                 ^~~~~\n"
	  "  hint: define it above with 'set nope = { ... }'\n" },
	{ "set_defined_later",
	  "set a = { @b }\n"
	  "set b = { any }\n",
	  "t.policy:1:11: error: undefined set '@b'\n"
	  "set a = { @b }\n"
	  "          ^~\n"
	  "  hint: define it above with 'set b = { ... }'\n" },
	{ "kind_suggest", "allow out tcp to hots:example.com\n",
	  "t.policy:1:18: error: unknown endpoint kind 'hots:'\n"
	  "allow out tcp to hots:example.com\n"
	  "                 ^~~~~~~~~~~~~~~~\n"
	  "  hint: did you mean 'host:example.com'?\n" },
	{ "kind_case", "allow out tcp to Tag:Storage\n",
	  "t.policy:1:18: error: unknown endpoint kind 'Tag:'\n"
	  "allow out tcp to Tag:Storage\n"
	  "                 ^~~~~~~~~~~\n"
	  "  hint: did you mean 'tag:Storage'?\n" },
	{ "kind_unknown", "allow out tcp to dns:example.com\n",
	  "t.policy:1:18: error: unknown endpoint kind 'dns:'\n"
	  "allow out tcp to dns:example.com\n"
	  "                 ^~~~~~~~~~~~~~~\n"
	  "  hint: the kinds are tag:Name[.Region] and host:pattern\n" },
	{ "endpoint_any_case", "allow out tcp to ANY\n",
	  "t.policy:1:18: error: unknown endpoint 'ANY'\n"
	  "allow out tcp to ANY\n"
	  "                 ^~~\n"
	  "  hint: did you mean 'any'?\n" },
	{ "endpoint_tag_like", "allow out tcp to Storage.WestUS\n",
	  "t.policy:1:18: error: unknown endpoint 'Storage.WestUS'\n"
	  "allow out tcp to Storage.WestUS\n"
	  "                 ^~~~~~~~~~~~~~\n"
	  "  hint: did you mean 'tag:Storage.WestUS'?\n" },
	{ "endpoint_host_like", "allow out tcp to pypi.org\n",
	  "t.policy:1:18: error: unknown endpoint 'pypi.org'\n"
	  "allow out tcp to pypi.org\n"
	  "                 ^~~~~~~~\n"
	  "  hint: did you mean 'host:pypi.org'?\n" },
	{ "endpoint_unknown", "allow out tcp to storage\n",
	  "t.policy:1:18: error: unknown endpoint 'storage'\n"
	  "allow out tcp to storage\n"
	  "                 ^~~~~~~\n"
	  "  hint: an endpoint is an address or prefix, any, @set, tag:Name[.Region] or host:pa"
	  "ttern\n" },
	{ "statement_brace", "{ any }\n",
	  "t.policy:1:1: error: expected a statement, got '{'\n"
	  "{ any }\n"
	  "^\n" },
	{ "statement_string", "\"allow\"\n",
	  "t.policy:1:1: error: expected a statement, got string \"allow\"\n"
	  "\"allow\"\n"
	  "^~~~~~~\n" },
	{ "statement_suggest", "alow out tcp to any\n",
	  "t.policy:1:1: error: unknown statement 'alow'\n"
	  "alow out tcp to any\n"
	  "^~~~\n"
	  "  hint: did you mean 'allow'?\n" },
	{ "statement_case", "Allow out tcp to any\n",
	  "t.policy:1:1: error: unknown statement 'Allow'\n"
	  "Allow out tcp to any\n"
	  "^~~~~\n"
	  "  hint: did you mean 'allow'?\n" },
	{ "statement_deny", "deny out tcp to any\n",
	  "t.policy:1:1: error: unknown statement 'deny'\n"
	  "deny out tcp to any\n"
	  "^~~~\n"
	  "  hint: a policy lists only what is allowed; everything else is a violation (reporte"
	  "d in audit mode, dropped in enforce mode)\n" },
	{ "statement_unknown", "permit out tcp to any\n",
	  "t.policy:1:1: error: unknown statement 'permit'\n"
	  "permit out tcp to any\n"
	  "^~~~~~\n"
	  "  hint: the statements are allow, define, set, include, tags, mode, platform, noflow, "
	  "resolver, dns and sni\n" },
	{ "direction_missing", "allow\n",
	  "t.policy:1:6: error: expected 'out' or 'in' after 'allow'\n"
	  "allow\n"
	  "     ^\n" },
	{ "direction_is_proto", "allow tcp to any\n",
	  "t.policy:1:7: error: expected 'out' or 'in', got 'tcp'\n"
	  "allow tcp to any\n"
	  "      ^~~\n"
	  "  hint: the direction comes first: allow out tcp ...\n" },
	{ "direction_suggest", "allow ot tcp to any\n",
	  "t.policy:1:7: error: unknown direction 'ot'\n"
	  "allow ot tcp to any\n"
	  "      ^~\n"
	  "  hint: did you mean 'out'?\n" },
	{ "direction_unknown", "allow egress tcp to any\n",
	  "t.policy:1:7: error: unknown direction 'egress'\n"
	  "allow egress tcp to any\n"
	  "      ^~~~~~\n"
	  "  hint: a rule is 'allow out ...' (the protected side initiates) or 'allow in ...'\n" },
	{ "proto_missing", "allow out\n",
	  "t.policy:1:10: error: expected a protocol after 'out'\n"
	  "allow out\n"
	  "         ^\n" },
	{ "proto_missing_before_port", "allow out port 443 to any\n",
	  "t.policy:1:11: error: expected a protocol before 'port'\n"
	  "allow out port 443 to any\n"
	  "          ^~~~\n"
	  "  hint: the protocols are tcp, udp, icmp, icmpv6 and any\n" },
	{ "proto_suggest", "allow out tpc to any\n",
	  "t.policy:1:11: error: unknown protocol 'tpc'\n"
	  "allow out tpc to any\n"
	  "          ^~~\n"
	  "  hint: did you mean 'tcp'?\n" },
	{ "proto_unknown", "allow out gre to any\n",
	  "t.policy:1:11: error: unknown protocol 'gre'\n"
	  "allow out gre to any\n"
	  "          ^~~\n"
	  "  hint: the protocols are tcp, udp, icmp, icmpv6 and any\n" },
	{ "port_with_icmp", "allow out icmp port 80 to any\n",
	  "t.policy:1:16: error: ports only apply to tcp, udp or any\n"
	  "allow out icmp port 80 to any\n"
	  "               ^~~~\n"
	  "  hint: remove 'port' from this icmp rule\n" },
	{ "port_with_icmpv6", "allow in icmpv6 port any from any\n",
	  "t.policy:1:17: error: ports only apply to tcp, udp or any\n"
	  "allow in icmpv6 port any from any\n"
	  "                ^~~~\n"
	  "  hint: remove 'port' from this icmpv6 rule\n" },
	{ "port_missing", "allow out tcp port\n",
	  "t.policy:1:19: error: expected a port, a range or a { } list after 'port'\n"
	  "allow out tcp port\n"
	  "                  ^\n" },
	{ "port_zero", "allow out tcp port 0 to any\n",
	  "t.policy:1:20: error: port 0 is out of range 1-65535\n"
	  "allow out tcp port 0 to any\n"
	  "                   ^\n" },
	{ "port_too_big", "allow out tcp port 65536 to any\n",
	  "t.policy:1:20: error: port 65536 is out of range 1-65535\n"
	  "allow out tcp port 65536 to any\n"
	  "                   ^~~~~\n" },
	{ "port_range_end_too_big", "allow out tcp port 8000-70000 to any\n",
	  "t.policy:1:25: error: port 70000 is out of range 1-65535\n"
	  "allow out tcp port 8000-70000 to any\n"
	  "                        ^~~~~\n" },
	{ "port_range_reversed", "allow out tcp port 9000-8000 to any\n",
	  "t.policy:1:20: error: invalid port range 9000-8000: 9000 is greater than 8000\n"
	  "allow out tcp port 9000-8000 to any\n"
	  "                   ^~~~~~~~~\n"
	  "  hint: did you mean 8000-9000?\n" },
	{ "port_service_name", "allow out tcp port https to any\n",
	  "t.policy:1:20: error: invalid port 'https'\n"
	  "allow out tcp port https to any\n"
	  "                   ^~~~~\n"
	  "  hint: did you mean 443?\n" },
	{ "port_not_number", "allow out tcp port 44x to any\n",
	  "t.policy:1:20: error: invalid port '44x'\n"
	  "allow out tcp port 44x to any\n"
	  "                   ^~~\n"
	  "  hint: a port is a number from 1 to 65535, a range like 8000-8100 or a list like { "
	  "80, 443 }\n" },
	{ "port_half_range", "allow out tcp port 8000- to any\n",
	  "t.policy:1:20: error: invalid port '8000-'\n"
	  "allow out tcp port 8000- to any\n"
	  "                   ^~~~~\n"
	  "  hint: a port is a number from 1 to 65535, a range like 8000-8100 or a list like { "
	  "80, 443 }\n" },
	{ "port_any_in_list", "allow out tcp port { 80, any } to any\n",
	  "t.policy:1:26: error: 'any' cannot be part of a port list\n"
	  "allow out tcp port { 80, any } to any\n"
	  "                         ^~~\n"
	  "  hint: write 'port any', or leave 'port' out\n" },
	{ "port_list_empty", "allow out tcp port { } to any\n",
	  "t.policy:1:20: error: empty list\n"
	  "allow out tcp port { } to any\n"
	  "                   ^~~\n"
	  "  hint: a list needs at least one item\n" },
	{ "port_twice", "allow out tcp port 80 port 443 to any\n",
	  "t.policy:1:23: error: 'port' is given twice\n"
	  "allow out tcp port 80 port 443 to any\n"
	  "                      ^~~~\n"
	  "  hint: list several ports as { 80, 443 }\n" },
	{ "port_after_endpoint", "allow out tcp to any port 443\n",
	  "t.policy:1:22: error: 'port' must come before 'to'\n"
	  "allow out tcp to any port 443\n"
	  "                     ^~~~\n"
	  "  hint: the ports follow the protocol: allow out tcp port PORTS to ...\n" },
	{ "port_list_bad_items", "allow out udp port { 0, 53, 70000 } to any\n",
	  "t.policy:1:22: error: port 0 is out of range 1-65535\n"
	  "allow out udp port { 0, 53, 70000 } to any\n"
	  "                     ^\n"
	  "t.policy:1:29: error: port 70000 is out of range 1-65535\n"
	  "allow out udp port { 0, 53, 70000 } to any\n"
	  "                            ^~~~~\n" },
	{ "remote_missing_out", "allow out tcp port 443\n",
	  "t.policy:1:23: error: expected 'to' and the remote endpoint after '443'\n"
	  "allow out tcp port 443\n"
	  "                      ^\n" },
	{ "remote_missing_in", "allow in udp\n",
	  "t.policy:1:13: error: expected 'from' and the remote endpoint after 'udp'\n"
	  "allow in udp\n"
	  "            ^\n" },
	{ "out_with_from_first", "allow out tcp from 10.0.0.0/8\n",
	  "t.policy:1:15: error: expected 'to', got 'from'\n"
	  "allow out tcp from 10.0.0.0/8\n"
	  "              ^~~~\n"
	  "  hint: an 'out' rule names the remote endpoint first, with 'to'; 'from' may follow "
	  "for the local side: allow out tcp to REMOTE from LOCAL\n" },
	{ "in_with_to_first", "allow in tcp to 10.0.0.0/8\n",
	  "t.policy:1:14: error: expected 'from', got 'to'\n"
	  "allow in tcp to 10.0.0.0/8\n"
	  "             ^~\n"
	  "  hint: an 'in' rule names the remote endpoint first, with 'from'; 'to' may follow f"
	  "or the local side: allow in tcp from REMOTE to LOCAL\n" },
	{ "endpoint_without_to", "allow out tcp tag:Storage\n",
	  "t.policy:1:15: error: expected 'to', got 'tag:Storage'\n"
	  "allow out tcp tag:Storage\n"
	  "              ^~~~~~~~~~~\n"
	  "  hint: write 'to' before the remote endpoint\n" },
	{ "to_misspelled", "allow out tcp too any\n",
	  "t.policy:1:15: error: expected 'to', got 'too'\n"
	  "allow out tcp too any\n"
	  "              ^~~\n"
	  "  hint: did you mean 'to'?\n" },
	{ "endpoint_missing", "allow out tcp to\n",
	  "t.policy:1:17: error: expected an endpoint after 'to'\n"
	  "allow out tcp to\n"
	  "                ^\n" },
	{ "endpoint_is_string", "allow out tcp to \"10.0.0.0/8\"\n",
	  "t.policy:1:18: error: expected an endpoint, got string \"10.0.0.0/8\"\n"
	  "allow out tcp to \"10.0.0.0/8\"\n"
	  "                 ^~~~~~~~~~~~\n" },
	{ "list_missing_comma", "allow out tcp to { 1.2.3.4 5.6.7.8 }\n",
	  "t.policy:1:28: error: expected ',' or '}', got '5.6.7.8'\n"
	  "allow out tcp to { 1.2.3.4 5.6.7.8 }\n"
	  "                           ^~~~~~~\n"
	  "  hint: separate the items of a list with ','\n" },
	{ "list_double_comma", "allow out tcp to { 1.2.3.4,, 5.6.7.8 }\n",
	  "t.policy:1:28: error: expected an endpoint, got ','\n"
	  "allow out tcp to { 1.2.3.4,, 5.6.7.8 }\n"
	  "                           ^\n" },
	{ "list_not_closed",
	  "set s = { 1.2.3.4,\n"
	  "allow out tcp to @s\n",
	  "t.policy:1:9: error: '{' is not closed\n"
	  "set s = { 1.2.3.4,\n"
	  "        ^\n"
	  "  hint: end the list with '}' before the next statement\n" },
	{ "list_not_closed_eof",
	  "allow out tcp to { 1.2.3.4,\n"
	  "  5.6.7.8",
	  "t.policy:1:18: error: '{' is not closed\n"
	  "allow out tcp to { 1.2.3.4,\n"
	  "                 ^\n"
	  "  hint: end the list with '}' before the next statement\n" },
	{ "list_empty_endpoints", "allow out tcp to { }\n",
	  "t.policy:1:18: error: empty list\n"
	  "allow out tcp to { }\n"
	  "                 ^~~\n"
	  "  hint: a list needs at least one item\n" },
	{ "optional_twice", "allow out tcp to any optional optional\n",
	  "t.policy:1:31: error: 'optional' is given twice\n"
	  "allow out tcp to any optional optional\n"
	  "                              ^~~~~~~~\n"
	  "  hint: each part of a rule may appear once\n" },
	{ "local_twice", "allow out tcp to any from 10.0.0.0/8 from any\n",
	  "t.policy:1:38: error: 'from' is given twice\n"
	  "allow out tcp to any from 10.0.0.0/8 from any\n"
	  "                                     ^~~~\n"
	  "  hint: each part of a rule may appear once\n" },
	{ "flow_missing", "allow out tcp to any flow\n",
	  "t.policy:1:26: error: expected a flow ID after 'flow'\n"
	  "allow out tcp to any flow\n"
	  "                         ^\n" },
	{ "flow_too_long",
	  "allow out tcp to any flow AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
	  "t.policy:1:27: error: flow ID 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' is "
	  "48 characters long; the limit is 47\n"
	  "allow out tcp to any flow AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
	  "                          ^~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n" },
	{ "flow_lower_case", "allow out tcp to any flow compute-out\n",
	  "t.policy:1:27: error: invalid flow ID 'compute-out'\n"
	  "allow out tcp to any flow compute-out\n"
	  "                          ^~~~~~~~~~~\n"
	  "  hint: did you mean 'COMPUTE-OUT'?\n" },
	{ "flow_invalid", "allow out tcp to any flow X.Y\n",
	  "t.policy:1:27: error: invalid flow ID 'X.Y'\n"
	  "allow out tcp to any flow X.Y\n"
	  "                          ^~~\n"
	  "  hint: a flow ID is upper-case letters, digits, '-' and '_', like COMPUTE-OUT-STORA"
	  "GE\n" },
	{ "flow_twice", "allow out tcp to any flow A flow B\n",
	  "t.policy:1:29: error: 'flow' is given twice\n"
	  "allow out tcp to any flow A flow B\n"
	  "                            ^~~~\n"
	  "  hint: each part of a rule may appear once\n" },
	{ "comment_not_string", "allow out tcp to any comment hello\n",
	  "t.policy:1:30: error: expected a quoted string, got 'hello'\n"
	  "allow out tcp to any comment hello\n"
	  "                             ^~~~~\n"
	  "  hint: comment \"text\"\n" },
	{ "comment_twice", "allow out tcp to any comment \"a\" comment \"b\"\n",
	  "t.policy:1:34: error: 'comment' is given twice\n"
	  "allow out tcp to any comment \"a\" comment \"b\"\n"
	  "                                 ^~~~~~~\n"
	  "  hint: each part of a rule may appear once\n" },
	{ "remote_twice", "allow out tcp to any to 10.0.0.0/8\n",
	  "t.policy:1:22: error: 'to' is given twice\n"
	  "allow out tcp to any to 10.0.0.0/8\n"
	  "                     ^~\n"
	  "  hint: list several endpoints in one 'to { a, b }'\n" },
	{ "option_suggest", "allow out tcp to any flwo X\n",
	  "t.policy:1:22: error: unknown rule option 'flwo'\n"
	  "allow out tcp to any flwo X\n"
	  "                     ^~~~\n"
	  "  hint: did you mean 'flow'?\n" },
	{ "option_endpoint_like", "allow out tcp to 1.2.3.4 5.6.7.8\n",
	  "t.policy:1:26: error: unknown rule option '5.6.7.8'\n"
	  "allow out tcp to 1.2.3.4 5.6.7.8\n"
	  "                         ^~~~~~~\n"
	  "  hint: list several endpoints as { a, b }\n" },
	{ "option_unknown", "allow out tcp to any because\n",
	  "t.policy:1:22: error: unknown rule option 'because'\n"
	  "allow out tcp to any because\n"
	  "                     ^~~~~~~\n"
	  "  hint: after the endpoints come flow ID, optional and comment \"text\"\n" },
	{ "rule_comma", "allow out tcp to 1.2.3.4, 5.6.7.8\n",
	  "t.policy:1:25: error: unexpected ','\n"
	  "allow out tcp to 1.2.3.4, 5.6.7.8\n"
	  "                        ^\n"
	  "  hint: list several endpoints as { a, b }\n" },
	{ "rule_string", "allow out tcp to any \"why\"\n",
	  "t.policy:1:22: error: unexpected string \"why\"\n"
	  "allow out tcp to any \"why\"\n"
	  "                     ^~~~~\n"
	  "  hint: a comment is written comment \"text\"\n" },
	{ "rule_brace", "allow out tcp to any }\n",
	  "t.policy:1:22: error: unexpected '}' at the end of the statement\n"
	  "allow out tcp to any }\n"
	  "                     ^\n" },
	{ "mode_suggest", "mode enforced\n",
	  "t.policy:1:6: error: unknown mode 'enforced'\n"
	  "mode enforced\n"
	  "     ^~~~~~~~\n"
	  "  hint: did you mean 'enforce'?\n" },
	{ "mode_unknown", "mode strict\n",
	  "t.policy:1:6: error: unknown mode 'strict'\n"
	  "mode strict\n"
	  "     ^~~~~~\n"
	  "  hint: the mode is 'audit' or 'enforce'\n" },
	{ "mode_missing", "mode\n",
	  "t.policy:1:5: error: expected 'audit' or 'enforce' after 'mode'\n"
	  "mode\n"
	  "    ^\n" },
	{ "mode_twice",
	  "mode audit\n"
	  "mode enforce\n",
	  "t.policy:2:1: error: 'mode' is already set\n"
	  "mode enforce\n"
	  "^~~~\n"
	  "  hint: 'mode' may appear once across the policy and its includes\n"
	  "t.policy:1:1: note: first set here\n"
	  "mode audit\n"
	  "^~~~\n" },
	{ "mode_trailing", "mode audit now\n",
	  "t.policy:1:12: error: unexpected 'now' at the end of the statement\n"
	  "mode audit now\n"
	  "           ^~~\n" },
	{ "platform_unknown", "platform yes\n",
	  "t.policy:1:10: error: unknown platform setting 'yes'\n"
	  "platform yes\n"
	  "         ^~~\n"
	  "  hint: the platform setting is 'on' or 'off'\n" },
	{ "platform_suggest", "platform of\n",
	  "t.policy:1:10: error: unknown platform setting 'of'\n"
	  "platform of\n"
	  "         ^~\n"
	  "  hint: did you mean 'on'?\n" },
	{ "platform_twice",
	  "platform off\n"
	  "platform on\n",
	  "t.policy:2:1: error: 'platform' is already set\n"
	  "platform on\n"
	  "^~~~~~~~\n"
	  "  hint: 'platform' may appear once across the policy and its includes\n"
	  "t.policy:1:1: note: first set here\n"
	  "platform off\n"
	  "^~~~~~~~\n" },
	{ "set_with_at", "set @s = { any }\n",
	  "t.policy:1:5: error: write the name without '@' in a set\n"
	  "set @s = { any }\n"
	  "    ^~\n"
	  "  hint: set s = ...\n" },
	{ "set_bad_name", "set 1s = { any }\n",
	  "t.policy:1:5: error: invalid set name '1s'\n"
	  "set 1s = { any }\n"
	  "    ^~\n"
	  "  hint: a set name is letters, digits, '_' and '-', starting with a letter or '_'\n" },
	{ "set_redefined",
	  "set s = { any }\n"
	  "set s = { 10.0.0.0/8 }\n",
	  "t.policy:2:5: error: set 's' is already defined\n"
	  "set s = { 10.0.0.0/8 }\n"
	  "    ^\n"
	  "t.policy:1:5: note: 's' was first defined here\n"
	  "set s = { any }\n"
	  "    ^\n" },
	{ "set_no_equals", "set s { any }\n",
	  "t.policy:1:7: error: expected '=', got '{'\n"
	  "set s { any }\n"
	  "      ^\n"
	  "  hint: set s = { ENDPOINT, ... }\n" },
	{ "set_no_value", "set s =\n",
	  "t.policy:1:8: error: expected an endpoint after '='\n"
	  "set s =\n"
	  "       ^\n" },
	{ "include_not_string", "include inc.policy\n",
	  "t.policy:1:9: error: expected a quoted file name, got 'inc.policy'\n"
	  "include inc.policy\n"
	  "        ^~~~~~~~~~\n"
	  "  hint: include \"inc.policy\"\n" },
	{ "include_empty", "include \"\"\n",
	  "t.policy:1:9: error: empty file name\n"
	  "include \"\"\n"
	  "        ^~\n" },
	{ "include_trailing", "include \"a.policy\" b\n",
	  "t.policy:1:20: error: unexpected 'b' at the end of the statement\n"
	  "include \"a.policy\" b\n"
	  "                   ^\n" },
	{ "include_missing", "include \"no-such.policy\"\n",
	  "t.policy:1:9: error: cannot read 'no-such.policy': No such file or directory\n"
	  "include \"no-such.policy\"\n"
	  "        ^~~~~~~~~~~~~~~~\n" },
	{ "noflow_no_reason", "noflow PROFILING-NONE\n",
	  "t.policy:1:22: error: expected 'comment' and the reason after 'PROFILING-NONE'\n"
	  "noflow PROFILING-NONE\n"
	  "                     ^\n"
	  "  hint: noflow FLOW-ID comment \"why this flow has no packet rule\"\n" },
	{ "noflow_no_id", "noflow\n",
	  "t.policy:1:7: error: expected a flow ID after 'noflow'\n"
	  "noflow\n"
	  "      ^\n" },
	{ "noflow_bad_id", "noflow profiling-none comment \"x\"\n",
	  "t.policy:1:8: error: invalid flow ID 'profiling-none'\n"
	  "noflow profiling-none comment \"x\"\n"
	  "       ^~~~~~~~~~~~~~\n"
	  "  hint: did you mean 'PROFILING-NONE'?\n" },
	{ "noflow_blank_reason", "noflow A comment \"  \"\n",
	  "t.policy:1:18: error: a 'noflow' needs a reason\n"
	  "noflow A comment \"  \"\n"
	  "                 ^~~~\n"
	  "  hint: say why the flow has no packet rule, e.g. comment \"configuration only: the "
	  "service reaches storage over the Azure backbone\"\n" },
	{ "noflow_reason_word", "noflow A comment x\n",
	  "t.policy:1:18: error: expected a quoted string, got 'x'\n"
	  "noflow A comment x\n"
	  "                 ^\n"
	  "  hint: noflow FLOW-ID comment \"why this flow has no packet rule\"\n" },
	{ "noflow_extra", "noflow A comment \"x\" optional\n",
	  "t.policy:1:22: error: unexpected 'optional' at the end of the statement\n"
	  "noflow A comment \"x\" optional\n"
	  "                     ^~~~~~~~\n" },
	{ "noflow_twice",
	  "noflow A comment \"x\"\n"
	  "noflow A comment \"y\"\n",
	  "t.policy:2:8: error: flow ID 'A' is already declared 'noflow'\n"
	  "noflow A comment \"y\"\n"
	  "       ^\n"
	  "t.policy:1:8: note: first declared here\n"
	  "noflow A comment \"x\"\n"
	  "       ^\n" },
	{ "noflow_and_rule",
	  "allow out tcp to any flow A\n"
	  "noflow A comment \"x\"\n",
	  "t.policy:2:8: error: flow ID 'A' is declared 'noflow' but a rule implements it\n"
	  "noflow A comment \"x\"\n"
	  "       ^\n"
	  "  hint: remove the 'noflow' or the rule\n"
	  "t.policy:1:27: note: the rule with flow A\n"
	  "allow out tcp to any flow A\n"
	  "                          ^\n" },
	{ "noflow_misspelled", "noflw A comment \"x\"\n",
	  "t.policy:1:1: error: unknown statement 'noflw'\n"
	  "noflw A comment \"x\"\n"
	  "^~~~~\n"
	  "  hint: did you mean 'noflow'?\n" },
	{ "tags_missing", "tags\n",
	  "t.policy:1:5: error: expected a quoted file name after 'tags'\n"
	  "tags\n"
	  "    ^\n"
	  "  hint: tags \"FILE\"\n" },
	{ "tags_twice",
	  "tags \"a.json\"\n"
	  "tags \"b.json\"\n",
	  "t.policy:2:1: error: 'tags' is already set\n"
	  "tags \"b.json\"\n"
	  "^~~~\n"
	  "  hint: 'tags' may appear once across the policy and its includes\n"
	  "t.policy:1:6: note: first set here\n"
	  "tags \"a.json\"\n"
	  "     ^~~~~~~~\n" },
};

static void test_error_messages(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(error_cases); i++) {
		int err = policy_parse_string("t.policy", error_cases[i].src, NULL, 0, &dg, &pol);
		char *out = printed();

		if (err != -EINVAL || pol || strcmp(out, error_cases[i].expect))
			print_message("case %s:\n%s", error_cases[i].name, out);
		assert_int_equal(err, -EINVAL);
		assert_null(pol);
		assert_string_equal(out, error_cases[i].expect);
		free(out);
		teardown(state);
		setup(state);
	}
}

UNIT_TESTS(group_setup, NULL,
	   cmocka_unit_test_setup_teardown(test_minimal_rule_and_defaults, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_empty_policy, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_load_empty_file, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_mode_platform_tags, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_protocols_and_directions, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_ports, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_endpoint_kinds, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_host_patterns, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_host_lengths, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_local_side, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_rule_options, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_noflow, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_multiline_lists, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_sets, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_variables, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_variable_cli_errors, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_sha256, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_includes, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_include_path_from_var, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_include_absolute_and_cwd, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_include_missing, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_include_cycle, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_include_depth, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_expansion_limits, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_error_cap, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_opaque_file, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_load_missing_file, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_all_errors_reported, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_recovery_inside_list, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_no_cascades, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_crlf_and_utf8, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_error_messages, setup, teardown))
