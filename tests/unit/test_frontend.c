// SPDX-License-Identifier: GPL-2.0-only
/*
 * From command-line options to a compiled policy (user/frontend.c): the shared options, and
 * compiling policy files written to a temporary directory, with the diagnostics captured from
 * stderr (text) or stdout (JSON).
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "stdcapture.h"
#include "compile/frontend.h"
#include "base/log.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static char tmpdir[] = "/tmp/amlg-frontend-XXXXXX";

static const struct {
	const char *name, *text;
} files[] = {
	{ "ok.policy", "platform off\n"
		       "mode enforce\n"
		       "define port = 443\n"
		       "allow out tcp port $port to 10.0.0.0/8 flow COMPUTE-OUT-STORAGE\n"
		       "allow in udp port 53 from 192.168.0.0/16\n" },
	{ "bad.policy", "platform off\n"
			"allow out tpc to any\n"
			"allow out tcp port 70000 to any\n" },
	{ "one.policy", "platform off\n"
			"allow out tcp port 70000 to any\n" },
	{ "cloud.policy", "platform off\n"
			  "define cloud = public\n"
			  "allow out tcp port 443 to tag:AzureFrontDoor.FirstParty flow FD\n" },
	{ "gov.json", "{\"changeNumber\": 1, \"cloud\": \"AzureGovernment\", \"values\": ["
		      "{\"name\": \"AzureFrontDoor.Frontend\", \"properties\": "
		      "{\"addressPrefixes\": [\"10.0.0.0/24\"]}}]}" },
	{ "warn.policy", "platform off\n"
			 "set none = { }\n"
			 "allow out tcp port 443 to @none flow COMPUTE-HOSTS optional\n"
			 "allow out tcp port 443 to 10.0.0.0/8\n" },
};

static char *path_of(const char *name)
{
	char *p = NULL;

	assert_true(asprintf(&p, "%s/%s", tmpdir, name) > 0);
	return p;
}

static int group_setup(void **state)
{
	if (!mkdtemp(tmpdir))
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		char *p = path_of(files[i].name);
		FILE *f = fopen(p, "w");

		free(p);
		if (!f || fputs(files[i].text, f) < 0 || fclose(f))
			return -1;
	}
	log_set_json(false);
	log_set_level(LOGL_INFO);
	return 0;
}

static int group_teardown(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		char *p = path_of(files[i].name);

		unlink(p);
		free(p);
	}
	return rmdir(tmpdir);
}

/* The variable names are allocated for the life of the process; tests give them back. */
static void args_free(struct policy_args *a)
{
	for (size_t i = 0; i < a->nvars; i++)
		free((char *)a->vars[i].name);
	a->nvars = 0;
}

/* policy_args_opt with stderr captured; returns its result, *err the text. */
static int opt_captured(struct policy_args *a, int opt, const char *arg, char **err)
{
	struct capture c;
	int ret;

	capture_start(&c, 2);
	ret = policy_args_opt(a, opt, arg);
	*err = capture_end(&c);
	return ret;
}

/* ---- options */

static void test_args_init(void **state)
{
	struct policy_args a;

	memset(&a, 0x5a, sizeof(a));
	policy_args_init(&a);
	assert_null(a.policy);
	assert_null(a.tags);
	assert_int_equal(a.nvars, 0);
	assert_int_equal(a.mode, -1);
}

static void test_args_shared(void **state)
{
	struct policy_args a;
	char *err;

	policy_args_init(&a);
	assert_int_equal(opt_captured(&a, 'p', "x.policy", &err), 1);
	assert_string_equal(err, "");
	free(err);
	assert_string_equal(a.policy, "x.policy");
	assert_int_equal(policy_args_opt(&a, OPT_TAGS, "ServiceTags_Public_20240101.json"), 1);
	assert_string_equal(a.tags, "ServiceTags_Public_20240101.json");
	/* The last -p wins, as with any option that takes one value. */
	assert_int_equal(policy_args_opt(&a, 'p', "y.policy"), 1);
	assert_string_equal(a.policy, "y.policy");

	/* Anything else is the command's own business, and changes nothing. */
	assert_int_equal(policy_args_opt(&a, 'i', "eth0"), 0);
	assert_int_equal(policy_args_opt(&a, 'j', NULL), 0);
	assert_int_equal(policy_args_opt(&a, OPT_ROLE, "gateway"), 0);
	assert_int_equal(policy_args_opt(&a, OPT_CT_SIZE, "1000"), 0);
	assert_int_equal(policy_args_opt(&a, OPT_FIRST_FREE, "x"), 0);
	assert_string_equal(a.policy, "y.policy");
	assert_int_equal(a.nvars, 0);
	assert_int_equal(a.mode, -1);
}

static void test_args_var(void **state)
{
	struct policy_args a;

	policy_args_init(&a);
	assert_int_equal(policy_args_opt(&a, OPT_VAR, "region=westus"), 1);
	assert_int_equal(policy_args_opt(&a, OPT_VAR, "q=a=b"), 1); /* the first '=' splits */
	assert_int_equal(policy_args_opt(&a, OPT_VAR, "empty="), 1);
	assert_int_equal(a.nvars, 3);
	assert_string_equal(a.vars[0].name, "region");
	assert_string_equal(a.vars[0].value, "westus");
	assert_string_equal(a.vars[1].name, "q");
	assert_string_equal(a.vars[1].value, "a=b");
	assert_string_equal(a.vars[2].name, "empty");
	assert_string_equal(a.vars[2].value, "");
	args_free(&a);
}

static void test_args_var_bad(void **state)
{
	static const struct {
		const char *arg, *err;
	} cases[] = {
		{ "region", "amlguard: error: --var region: expected NAME=VALUE\n" },
		{ "", "amlguard: error: --var : expected NAME=VALUE\n" },
		{ "=westus", "amlguard: error: --var =westus: expected NAME=VALUE\n" },
		{ "=", "amlguard: error: --var =: expected NAME=VALUE\n" },
		{ "region=eastus", "amlguard: error: --var region=eastus: variable 'region' given "
				   "twice\n" },
	};
	struct policy_args a;

	policy_args_init(&a);
	assert_int_equal(policy_args_opt(&a, OPT_VAR, "region=westus"), 1);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *err;

		assert_int_equal(opt_captured(&a, OPT_VAR, cases[i].arg, &err), -EINVAL);
		assert_string_equal(err, cases[i].err);
		free(err);
	}
	/* Nothing was added, the first value stands. */
	assert_int_equal(a.nvars, 1);
	assert_string_equal(a.vars[0].value, "westus");
	args_free(&a);
}

static void test_args_var_limit(void **state)
{
	struct policy_args a;
	char arg[32], *err;

	policy_args_init(&a);
	for (int i = 0; i < FRONTEND_MAX_VARS; i++) {
		snprintf(arg, sizeof(arg), "v%d=%d", i, i);
		assert_int_equal(policy_args_opt(&a, OPT_VAR, arg), 1);
	}
	assert_int_equal(a.nvars, FRONTEND_MAX_VARS);
	assert_int_equal(opt_captured(&a, OPT_VAR, "one_more=1", &err), -EINVAL);
	assert_string_equal(err, "amlguard: error: --var one_more=1: more than 64 variables\n");
	free(err);
	assert_int_equal(a.nvars, FRONTEND_MAX_VARS);
	args_free(&a);
}

static void test_args_mode(void **state)
{
	static const char *const bad[] = { "drop", "Enforce", "AUDIT", "", "enforce " };
	struct policy_args a;
	char *err, want[128];

	policy_args_init(&a);
	assert_int_equal(policy_args_opt(&a, OPT_MODE, "enforce"), 1);
	assert_int_equal(a.mode, AMLG_MODE_ENFORCE);
	assert_int_equal(policy_args_opt(&a, OPT_MODE, "audit"), 1);
	assert_int_equal(a.mode, AMLG_MODE_AUDIT);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(opt_captured(&a, OPT_MODE, bad[i], &err), -EINVAL);
		snprintf(want, sizeof(want),
			 "amlguard: error: --mode %s: expected 'audit' or 'enforce'\n", bad[i]);
		assert_string_equal(err, want);
		free(err);
	}
}

/* The long-option table as a command uses it, through getopt_long. */
static void test_args_getopt(void **state)
{
	static const struct option opts[] = {
		{ "iface", required_argument, NULL, 'i' },
		FRONTEND_LONG_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	char *argv[] = {
		"attach",     "-i",	"eth1",	  "--policy", "p.policy", "--var", "region=eastus",
		"--var=a=b",  "--tags", "t.json", "--mode",   "enforce",  "-p",	   "q.policy",
		"--mode=bad", NULL,
	};
	int argc = (int)ARRAY_SIZE(argv) - 1, opt, other = 0, bad = 0;
	struct policy_args a;
	struct capture c;
	char *err;

	policy_args_init(&a);
	optind = 0;
	opterr = 0;
	capture_start(&c, 2);
	while ((opt = getopt_long(argc, argv, "i:p:", opts, NULL)) != -1) {
		int r = policy_args_opt(&a, opt, optarg);

		if (r == 0)
			other++;
		else if (r < 0)
			bad++;
	}
	err = capture_end(&c);
	assert_int_equal(optind, argc);
	assert_int_equal(other, 1); /* -i */
	assert_int_equal(bad, 1); /* --mode=bad */
	assert_string_equal(err, "amlguard: error: --mode bad: expected 'audit' or 'enforce'\n");
	free(err);
	assert_string_equal(a.policy, "q.policy");
	assert_string_equal(a.tags, "t.json");
	assert_int_equal(a.nvars, 2);
	assert_string_equal(a.vars[0].name, "region");
	assert_string_equal(a.vars[0].value, "eastus");
	assert_string_equal(a.vars[1].name, "a");
	assert_string_equal(a.vars[1].value, "b");
	args_free(&a);
}

/* ---- compiling */

struct run {
	int ret;
	char *out, *err;
	struct compiled *c;
	struct policy *pol;
};

static void compile_captured(const struct policy_args *a, bool json, struct run *r)
{
	struct capture out, err;

	r->c = NULL;
	r->pol = NULL;
	capture_start(&out, 1);
	capture_start(&err, 2);
	r->ret = frontend_compile(a, json, &r->c, &r->pol);
	r->err = capture_end(&err);
	r->out = capture_end(&out);
}

static void run_free(struct run *r)
{
	compiled_free(r->c);
	policy_free(r->pol);
	free(r->out);
	free(r->err);
}

static void test_compile_ok(void **state)
{
	char *path = path_of("ok.policy"), *origin = NULL;
	const struct crule *cr;
	struct policy_args a;
	struct run r;

	policy_args_init(&a);
	assert_int_equal(policy_args_opt(&a, 'p', path), 1);
	compile_captured(&a, false, &r);
	assert_int_equal(r.ret, 0);
	assert_string_equal(r.err, "");
	assert_string_equal(r.out, "");
	assert_non_null(r.c);
	assert_non_null(r.pol);
	assert_int_equal(r.c->mode, AMLG_MODE_ENFORCE);
	assert_int_equal(r.c->nrules_dir[AMLG_DIR_OUT], 1);
	assert_int_equal(r.c->nrules_dir[AMLG_DIR_IN], 1);

	cr = compiled_rule(r.c, AMLG_RULE_ID(AMLG_DIR_OUT, 0));
	assert_non_null(cr);
	assert_int_equal(cr->proto, AMLG_PROTO_TCP);
	assert_int_equal(cr->nports, 1);
	assert_int_equal(cr->ports[0].lo, 443);
	assert_int_equal(cr->ports[0].hi, 443);
	assert_string_equal(cr->flow, "COMPUTE-OUT-STORAGE");
	assert_true(asprintf(&origin, "%s:4", path) > 0);
	assert_string_equal(cr->origin, origin);
	cr = compiled_rule(r.c, AMLG_RULE_ID(AMLG_DIR_IN, 0));
	assert_non_null(cr);
	assert_int_equal(cr->proto, AMLG_PROTO_UDP);
	assert_int_equal(cr->ports[0].lo, 53);
	run_free(&r);

	/* JSON output changes nothing for a clean policy. */
	compile_captured(&a, true, &r);
	assert_int_equal(r.ret, 0);
	assert_string_equal(r.err, "");
	assert_string_equal(r.out, "");
	run_free(&r);
	free(origin);
	free(path);
}

/* Another cloud's tag file with the policy's cloud variable left at public: say which to set. */
static void test_cloud_hint(void **state)
{
	char *path = path_of("cloud.policy"), *tags = path_of("gov.json");
	struct policy_args a;
	struct run r;

	policy_args_init(&a);
	assert_int_equal(policy_args_opt(&a, 'p', path), 1);
	assert_int_equal(policy_args_opt(&a, OPT_TAGS, tags), 1);
	compile_captured(&a, false, &r);
	assert_int_equal(r.ret, -EINVAL);
	assert_non_null(strstr(r.err, "note: the tag file is the AzureGovernment cloud's, the "
				      "policy's cloud variable is 'public'\n"
				      "  hint: pass --var cloud=usgov\n"));
	run_free(&r);
	free(path);
	free(tags);
}

static void test_compile_overrides(void **state)
{
	char *path = path_of("ok.policy");
	const struct crule *cr;
	struct policy_args a;
	struct run r;

	policy_args_init(&a);
	assert_int_equal(policy_args_opt(&a, 'p', path), 1);
	assert_int_equal(policy_args_opt(&a, OPT_MODE, "audit"), 1);
	assert_int_equal(policy_args_opt(&a, OPT_VAR, "port=8443"), 1);
	compile_captured(&a, false, &r);
	assert_int_equal(r.ret, 0);
	assert_string_equal(r.err, "");
	assert_int_equal(r.c->mode, AMLG_MODE_AUDIT);
	cr = compiled_rule(r.c, AMLG_RULE_ID(AMLG_DIR_OUT, 0));
	assert_non_null(cr);
	assert_int_equal(cr->ports[0].lo, 8443);
	run_free(&r);
	args_free(&a);
	free(path);
}

static void test_compile_no_policy(void **state)
{
	struct policy_args a;
	struct run r;

	policy_args_init(&a);
	compile_captured(&a, false, &r);
	assert_int_equal(r.ret, -EINVAL);
	assert_null(r.c);
	assert_string_equal(r.err, "amlguard: error: no policy given (-p POLICY)\n");
	assert_string_equal(r.out, "");
	run_free(&r);
}

static void test_compile_errors_text(void **state)
{
	char *path = path_of("bad.policy"), *want = NULL;
	struct policy_args a;
	struct run r;

	policy_args_init(&a);
	assert_int_equal(policy_args_opt(&a, 'p', path), 1);
	compile_captured(&a, false, &r);
	assert_int_equal(r.ret, -EINVAL);
	assert_null(r.c);
	assert_string_equal(r.out, "");
	/* Every error, with its source line and caret, then one summary line. */
	assert_true(asprintf(&want,
			     "%1$s:2:11: error: unknown protocol 'tpc'\n"
			     "allow out tpc to any\n"
			     "          ^~~\n"
			     "  hint: did you mean 'tcp'?\n"
			     "%1$s:3:20: error: port 70000 is out of range 1-65535\n"
			     "allow out tcp port 70000 to any\n"
			     "                   ^~~~~\n"
			     "amlguard: %1$s: 2 errors, nothing was loaded\n",
			     path) > 0);
	assert_string_equal(r.err, want);
	run_free(&r);
	free(want);
	free(path);

	/* One error: singular. */
	path = path_of("one.policy");
	policy_args_init(&a);
	assert_int_equal(policy_args_opt(&a, 'p', path), 1);
	compile_captured(&a, false, &r);
	assert_int_equal(r.ret, -EINVAL);
	assert_true(asprintf(&want, "amlguard: %s: 1 error, nothing was loaded\n", path) > 0);
	assert_true(strlen(r.err) > strlen(want));
	assert_string_equal(r.err + strlen(r.err) - strlen(want), want);
	run_free(&r);
	free(want);
	free(path);
}

static void assert_diag(const json_t *m, const char *file, unsigned line, unsigned col,
			const char *msg)
{
	assert_true(json_is_object(m));
	assert_string_equal(json_string_value(json_object_get(m, "level")), "error");
	assert_string_equal(json_string_value(json_object_get(m, "file")), file);
	assert_int_equal(json_integer_value(json_object_get(m, "line")), line);
	assert_int_equal(json_integer_value(json_object_get(m, "col")), col);
	assert_string_equal(json_string_value(json_object_get(m, "message")), msg);
}

static void test_compile_errors_json(void **state)
{
	char *path = path_of("bad.policy");
	struct policy_args a;
	json_error_t jerr;
	struct run r;
	json_t *arr;

	policy_args_init(&a);
	assert_int_equal(policy_args_opt(&a, 'p', path), 1);
	compile_captured(&a, true, &r);
	assert_int_equal(r.ret, -EINVAL);
	assert_null(r.c);
	/* The diagnostics are the output: nothing for people on stderr. */
	assert_string_equal(r.err, "");
	assert_true(strlen(r.out) > 0 && r.out[strlen(r.out) - 1] == '\n');
	arr = json_loads(r.out, 0, &jerr);
	if (!arr)
		fail_msg("not JSON: %s: %s", jerr.text, r.out);
	assert_true(json_is_array(arr));
	assert_int_equal(json_array_size(arr), 2);
	assert_diag(json_array_get(arr, 0), path, 2, 11, "unknown protocol 'tpc'");
	assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 0), "hint")),
			    "did you mean 'tcp'?");
	assert_diag(json_array_get(arr, 1), path, 3, 20, "port 70000 is out of range 1-65535");
	json_decref(arr);
	run_free(&r);
	free(path);
}

static void test_compile_warnings(void **state)
{
	char *path = path_of("warn.policy"), *want = NULL;
	struct policy_args a;
	struct run r;

	policy_args_init(&a);
	assert_int_equal(policy_args_opt(&a, 'p', path), 1);
	assert_true(asprintf(&want,
			     "%s:3:1: warning: optional rule matches no address: the remote "
			     "endpoint is an empty set\n",
			     path) > 0);

	/* Warnings do not fail the compile; they go to stderr, with -j too. */
	for (int json = 0; json < 2; json++) {
		compile_captured(&a, json, &r);
		assert_int_equal(r.ret, 0);
		assert_non_null(r.c);
		assert_int_equal(r.c->nrules_dir[AMLG_DIR_OUT], 2);
		assert_string_equal(r.out, "");
		assert_int_equal(strncmp(r.err, want, strlen(want)), 0);
		assert_null(strstr(r.err, "error"));
		assert_null(strstr(r.err, "nothing was loaded"));
		run_free(&r);
	}
	free(want);
	free(path);
}

static void test_compile_missing(void **state)
{
	char *path = path_of("does-not-exist.policy"), *want = NULL;
	struct policy_args a;
	struct run r;

	policy_args_init(&a);
	assert_int_equal(policy_args_opt(&a, 'p', path), 1);
	compile_captured(&a, false, &r);
	assert_int_equal(r.ret, -EINVAL);
	assert_null(r.c);
	assert_true(asprintf(&want,
			     "error: cannot read '%1$s': No such file or directory\n"
			     "amlguard: %1$s: 1 error, nothing was loaded\n",
			     path) > 0);
	assert_string_equal(r.err, want);
	run_free(&r);
	free(want);
	free(path);
}

static void test_compile_unknown_var(void **state)
{
	char *path = path_of("ok.policy");
	struct policy_args a;
	json_error_t jerr;
	struct run r;
	json_t *arr;

	policy_args_init(&a);
	assert_int_equal(policy_args_opt(&a, 'p', path), 1);
	assert_int_equal(policy_args_opt(&a, OPT_VAR, "prot=80"), 1);
	compile_captured(&a, true, &r);
	assert_int_equal(r.ret, -EINVAL);
	assert_null(r.c);
	assert_string_equal(r.err, "");
	arr = json_loads(r.out, 0, &jerr);
	assert_non_null(arr);
	assert_int_equal(json_array_size(arr), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 0), "message")),
			    "--var 'prot' is neither defined nor used by the policy");
	assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 0), "hint")),
			    "did you mean 'port'?");
	json_decref(arr);
	run_free(&r);
	args_free(&a);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_args_init),
		cmocka_unit_test(test_args_shared),
		cmocka_unit_test(test_args_var),
		cmocka_unit_test(test_args_var_bad),
		cmocka_unit_test(test_args_var_limit),
		cmocka_unit_test(test_args_mode),
		cmocka_unit_test(test_args_getopt),
		cmocka_unit_test(test_compile_ok),
		cmocka_unit_test(test_cloud_hint),
		cmocka_unit_test(test_compile_overrides),
		cmocka_unit_test(test_compile_no_policy),
		cmocka_unit_test(test_compile_errors_text),
		cmocka_unit_test(test_compile_errors_json),
		cmocka_unit_test(test_compile_warnings),
		cmocka_unit_test(test_compile_missing),
		cmocka_unit_test(test_compile_unknown_var),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
