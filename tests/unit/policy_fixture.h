/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The fixture of the policy parser's unit tests: every test gets a fresh diag (dg) and frees
 * what it parsed (pol), even when an assertion fails; the group runs in the fixture directory,
 * to which relative include paths in the tests and in the fixtures are relative.  Include it
 * after cmocka.h.
 */
#ifndef AMLG_TEST_POLICY_FIXTURE_H
#define AMLG_TEST_POLICY_FIXTURE_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/diag.h"
#include "policy/policy.h"
#include "memout.h"

#define FIXTURES AMLG_SOURCE_DIR "/tests/unit/policies"
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static struct diag dg;
static struct policy *pol;

static inline int setup(void **state)
{
	(void)state;
	diag_init(&dg);
	pol = NULL;
	return 0;
}

static inline int teardown(void **state)
{
	(void)state;
	policy_free(pol);
	pol = NULL;
	diag_free(&dg);
	return 0;
}

static inline int group_setup(void **state)
{
	(void)state;
	return chdir(FIXTURES);
}

/* What diag_print says of dg; the caller frees it. */
static inline char *printed(void)
{
	struct memout m;

	diag_print(&dg, memout_open(&m));
	return memout_close(&m);
}

/* Parse text (as "t.policy") that must parse without a diagnostic, into pol. */
static inline void parse_ok_vars(const char *text, const struct var_def *vars, size_t nvars)
{
	int err = policy_parse_string("t.policy", text, vars, nvars, &dg, &pol);

	if (err || dg.n) {
		char *out = printed();

		print_message("%s", out);
		free(out);
	}
	assert_int_equal(err, 0);
	assert_int_equal(dg.n, 0);
	assert_non_null(pol);
}

static inline void parse_ok(const char *text)
{
	parse_ok_vars(text, NULL, 0);
}

/* Parse text that must fail; compare everything diag_print says. */
static inline void parse_fails_vars(const char *text, const struct var_def *vars, size_t nvars,
				    const char *expect)
{
	int err = policy_parse_string("t.policy", text, vars, nvars, &dg, &pol);
	char *out = printed();

	assert_int_equal(err, -EINVAL);
	assert_null(pol);
	assert_true(diag_failed(&dg));
	assert_string_equal(out, expect);
	free(out);
}

static inline void parse_fails(const char *text, const char *expect)
{
	parse_fails_vars(text, NULL, 0, expect);
}

static inline void assert_loc(struct srcloc loc, const char *file, unsigned line, unsigned col,
			      unsigned len)
{
	assert_non_null(loc.file);
	assert_string_equal(loc.file, file);
	assert_int_equal(loc.line, line);
	assert_int_equal(loc.col, col);
	assert_int_equal(loc.len, len);
}

#endif
