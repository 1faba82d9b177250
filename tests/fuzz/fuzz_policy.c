// SPDX-License-Identifier: GPL-2.0-only
/*
 * The policy language end to end: policy_parse_string() on the input, its includes read from
 * files, then the compiler (against a small tag file), the compile printers in both forms, the
 * tag names and forced-tunneling routes the policy would use, and the diagnostics printed the
 * compiler way (carets under arbitrary columns).
 *
 * Input: chunks separated by FUZZ_SEP.  The first is the policy; its first line may be
 * "#var NAME=VALUE ..." (the --var options, a comment to the parser).  The others are written
 * to inc1.policy, inc2.policy, ... in the working directory, where the shipped policies'
 * directories are also linked, so that their includes resolve.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compile/compile.h"
#include "base/diag.h"
#include "fuzz.h"
#include "base/log.h"
#include "policy/policy.h"
#include "compile/tags.h"
#include "compile/tags_diff.h"
#include "azure/udr.h"

#define MAX_VARS 8

/* The tags the shipped policies name, for EastUS2, on documentation addresses. */
static const char tags_json[] =
	"{\"changeNumber\": 7, \"cloud\": \"Public\", \"values\": ["
	"{\"name\": \"AzureMachineLearning\", \"properties\": {\"addressPrefixes\": "
	"[\"192.0.2.0/28\", \"2001:db8:1::/64\"]}},"
	"{\"name\": \"AzureMachineLearning.EastUS2\", \"properties\": {\"region\": \"eastus2\", "
	"\"addressPrefixes\": [\"192.0.2.0/29\"]}},"
	"{\"name\": \"BatchNodeManagement\", \"properties\": {\"addressPrefixes\": "
	"[\"192.0.2.16/28\"]}},"
	"{\"name\": \"BatchNodeManagement.EastUS2\", \"properties\": {\"region\": \"eastus2\", "
	"\"addressPrefixes\": [\"192.0.2.16/29\"]}},"
	"{\"name\": \"Storage\", \"properties\": {\"addressPrefixes\": [\"198.51.100.0/25\"]}},"
	"{\"name\": \"Storage.EastUS2\", \"properties\": {\"region\": \"eastus2\", "
	"\"addressPrefixes\": [\"198.51.100.0/26\", \"2001:db8:2::/48\"]}},"
	"{\"name\": \"AzureResourceManager\", \"properties\": {\"addressPrefixes\": "
	"[\"198.51.100.128/27\"]}},"
	"{\"name\": \"AzureFrontDoor.Frontend\", \"properties\": {\"addressPrefixes\": "
	"[\"198.51.100.160/27\"]}},"
	"{\"name\": \"AzureFrontDoor.FirstParty\", \"properties\": {\"addressPrefixes\": "
	"[\"198.51.100.192/27\"]}},"
	"{\"name\": \"AzureActiveDirectory\", \"properties\": {\"addressPrefixes\": "
	"[\"203.0.113.0/26\"]}},"
	"{\"name\": \"MicrosoftContainerRegistry\", \"properties\": {\"addressPrefixes\": "
	"[\"203.0.113.64/27\"]}},"
	"{\"name\": \"MicrosoftContainerRegistry.EastUS2\", \"properties\": {\"region\": "
	"\"eastus2\", \"addressPrefixes\": [\"203.0.113.64/28\"]}},"
	"{\"name\": \"AzureKeyVault.EastUS2\", \"properties\": {\"region\": \"eastus2\", "
	"\"addressPrefixes\": [\"203.0.113.96/28\"]}},"
	"{\"name\": \"AzureContainerRegistry.EastUS2\", \"properties\": {\"region\": "
	"\"eastus2\", \"addressPrefixes\": [\"203.0.113.112/28\"]}},"
	"{\"name\": \"Empty\", \"properties\": {\"addressPrefixes\": []}}]}";

static struct tag_db *db;
static struct tag_resolver resolver;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const dirs[] = { "clouds", "common", "hosts", "options", "site", "demo" };
	struct tag_error e;
	char src[512];

	log_set_level(LOGL_QUIET);
	fuzz_write(fuzz_path("tags.json"), tags_json, strlen(tags_json));
	if (tags_load(fuzz_path("tags.json"), &db, &e))
		fuzz_fail("the built-in tag file: %s", e.msg);
	tags_resolver_init(&resolver, db);
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(src, sizeof(src), "%s/policies/%s", AMLG_SOURCE_DIR, dirs[i]);
		if (symlink(src, fuzz_path(dirs[i])) && errno != EEXIST)
			fuzz_fail("symlink %s: %s", src, strerror(errno));
	}
	snprintf(src, sizeof(src), "%s/tests/unit/policies/inc", AMLG_SOURCE_DIR);
	if (symlink(src, fuzz_path("inc")) && errno != EEXIST)
		fuzz_fail("symlink %s: %s", src, strerror(errno));
	/* policy_parse_string() resolves includes against the working directory */
	if (chdir(fuzz_tmpdir()))
		fuzz_fail("chdir %s: %s", fuzz_tmpdir(), strerror(errno));
	return 0;
}

/* "#var a=1 b=2" on the first line: the --var options. */
static size_t parse_vars(char *text, struct var_def *vars, char *buf, size_t bufsz)
{
	size_t n = 0, len;
	char *save = NULL, *tok;

	if (strncmp(text, "#var ", 5))
		return 0;
	len = strcspn(text + 5, "\n");
	if (len >= bufsz)
		len = bufsz - 1;
	memcpy(buf, text + 5, len);
	buf[len] = '\0';
	for (tok = strtok_r(buf, " \t", &save); tok && n < MAX_VARS;
	     tok = strtok_r(NULL, " \t", &save)) {
		char *eq = strchr(tok, '=');

		if (!eq || eq == tok)
			continue;
		*eq = '\0';
		vars[n].name = tok;
		vars[n].value = eq + 1;
		n++;
	}
	return n;
}

static void use_compiled(const struct compiled *c)
{
	struct compiled_stats st;

	compiled_stats(c, &st);
	compiled_print(c, fuzz_null(), false, false);
	compiled_print(c, fuzz_null(), true, true);
	for (unsigned id = 0; id < AMLG_RULE_IDS; id++)
		compiled_rule(c, id);
}

static void use_policy(const struct policy *p)
{
	struct compile_opts o = { .mode = -1, .tags = &resolver };
	struct compiled *c = NULL;
	struct udr_plan u;
	const char **names = NULL;
	char msg[256], hint[256];
	size_t nnames = 0;
	struct diag d;

	if (tags_policy_names(p, &names, &nnames) == 0)
		free(names);
	if (udr_plan(p, db, true, &u, msg, sizeof(msg), hint, sizeof(hint)) == 0)
		udr_plan_free(&u);
	diag_init(&d);
	if (compile_policy(p, &o, &d, &c) == 0) {
		if (!c || diag_failed(&d))
			fuzz_fail("compile_policy() succeeded with errors or without a result");
		use_compiled(c);
		compiled_free(c);
	} else if (c || !diag_failed(&d)) {
		fuzz_fail("compile_policy() failed without an error message");
	}
	diag_print(&d, fuzz_null());
	free(diag_json(&d));
	diag_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *chunks[FUZZ_MAX_CHUNKS], name[32], varbuf[512];
	size_t lens[FUZZ_MAX_CHUNKS];
	struct var_def vars[MAX_VARS];
	struct policy *p = NULL;
	size_t n, nvars;
	struct diag d;
	int err;

	n = fuzz_split(data, size, chunks, lens, FUZZ_MAX_CHUNKS);
	/* included files are read whole: a NUL byte in one is the parser's problem */
	for (size_t i = 1; i < n; i++) {
		snprintf(name, sizeof(name), "inc%zu.policy", i);
		fuzz_write(name, chunks[i], lens[i]);
	}
	nvars = parse_vars(chunks[0], vars, varbuf, sizeof(varbuf));
	diag_init(&d);
	err = policy_parse_string("fuzz.policy", chunks[0], vars, nvars, &d, &p);
	if (!err != (p != NULL) || (!err && diag_failed(&d)) ||
	    (err == -EINVAL && !diag_failed(&d)))
		fuzz_fail("policy_parse_string() returned %d, policy %p, %zu errors", err,
			  (void *)p, d.nerrors);
	diag_print(&d, fuzz_null());
	free(diag_json(&d));
	if (p)
		use_policy(p);
	policy_free(p);
	diag_free(&d);
	for (size_t i = 1; i < n; i++) {
		snprintf(name, sizeof(name), "inc%zu.policy", i);
		unlink(name);
	}
	fuzz_free_chunks(chunks, n);
	return 0;
}
