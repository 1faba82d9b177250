// SPDX-License-Identifier: GPL-2.0-only
/*
 * From a policy file to a compiled policy (user/compile/pipeline.c): policy files written to a
 * temporary directory, compiled with the diagnostics captured from stderr (text) or stdout
 * (JSON).  The command-line options that fill struct pipeline_opts are the CLI's
 * (tests/integration/test_cli_json.sh).
 */
#include <errno.h>
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

#include "unit.h"

#include "stdcapture.h"
#include "compile/pipeline.h"
#include "base/log.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static char tmpdir[] = "/tmp/amlg-pipeline-XXXXXX";

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

/* ---- options */

static void test_opts_init(void **state)
{
	struct pipeline_opts o;

	memset(&o, 0x5a, sizeof(o));
	pipeline_opts_init(&o);
	assert_null(o.policy);
	assert_null(o.tags);
	assert_int_equal(o.nvars, 0);
	assert_int_equal(o.mode, -1);
	assert_false(o.quiet);
}

/* ---- compiling */

struct run {
	int ret;
	char *out, *err;
	struct compiled *c;
	struct policy *pol;
};

static void compile_captured(const struct pipeline_opts *a, bool json, struct run *r)
{
	struct capture out, err;

	r->c = NULL;
	r->pol = NULL;
	capture_start(&out, 1);
	capture_start(&err, 2);
	r->ret = pipeline_compile(a, json, &r->c, &r->pol);
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
	struct pipeline_opts a;
	struct run r;

	pipeline_opts_init(&a);
	a.policy = path;
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
	struct pipeline_opts a;
	struct run r;

	pipeline_opts_init(&a);
	a.policy = path;
	a.tags = tags;
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
	struct pipeline_opts a;
	struct run r;

	pipeline_opts_init(&a);
	a.policy = path;
	a.mode = AMLG_MODE_AUDIT;
	a.vars[a.nvars++] = (struct var_def){ "port", "8443" };
	compile_captured(&a, false, &r);
	assert_int_equal(r.ret, 0);
	assert_string_equal(r.err, "");
	assert_int_equal(r.c->mode, AMLG_MODE_AUDIT);
	cr = compiled_rule(r.c, AMLG_RULE_ID(AMLG_DIR_OUT, 0));
	assert_non_null(cr);
	assert_int_equal(cr->ports[0].lo, 8443);
	run_free(&r);
	free(path);
}

static void test_compile_no_policy(void **state)
{
	struct pipeline_opts a;
	struct run r;

	pipeline_opts_init(&a);
	compile_captured(&a, false, &r);
	assert_int_equal(r.ret, -EINVAL);
	assert_null(r.c);
	assert_string_equal(r.err, "amlguard: error: no policy file given\n");
	assert_string_equal(r.out, "");
	run_free(&r);
}

static void test_compile_errors_text(void **state)
{
	char *path = path_of("bad.policy"), *want = NULL;
	struct pipeline_opts a;
	struct run r;

	pipeline_opts_init(&a);
	a.policy = path;
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
	pipeline_opts_init(&a);
	a.policy = path;
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
	struct pipeline_opts a;
	json_error_t jerr;
	struct run r;
	json_t *arr;

	pipeline_opts_init(&a);
	a.policy = path;
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
	struct pipeline_opts a;
	struct run r;

	pipeline_opts_init(&a);
	a.policy = path;
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
	struct pipeline_opts a;
	struct run r;

	pipeline_opts_init(&a);
	a.policy = path;
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
	struct pipeline_opts a;
	json_error_t jerr;
	struct run r;
	json_t *arr;

	pipeline_opts_init(&a);
	a.policy = path;
	a.vars[a.nvars++] = (struct var_def){ "prot", "80" };
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
	free(path);
}

UNIT_TESTS(group_setup, group_teardown, cmocka_unit_test(test_opts_init),
	   cmocka_unit_test(test_compile_ok), cmocka_unit_test(test_cloud_hint),
	   cmocka_unit_test(test_compile_overrides), cmocka_unit_test(test_compile_no_policy),
	   cmocka_unit_test(test_compile_errors_text), cmocka_unit_test(test_compile_errors_json),
	   cmocka_unit_test(test_compile_warnings), cmocka_unit_test(test_compile_missing),
	   cmocka_unit_test(test_compile_unknown_var))
