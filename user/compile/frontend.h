/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * From command-line arguments to a compiled policy: the options every policy-taking command
 * shares (-p POLICY, --var k=v, --tags FILE, --mode), and the parse -> resolve -> compile chain
 * with its diagnostics printed the compiler way.
 */
#ifndef AMLG_COMPILE_FRONTEND_H
#define AMLG_COMPILE_FRONTEND_H

#include <getopt.h>
#include <stdbool.h>

#include "compile/compile.h"
#include "policy/policy.h"

#define FRONTEND_MAX_VARS 64

enum {
	OPT_VAR = 1000,
	OPT_TAGS,
	OPT_MODE,
	OPT_ROLE,
	OPT_CT_SIZE,
	OPT_FIRST_FREE, /* commands number their own long options from here */
};

struct policy_args {
	const char *policy;
	const char *tags;
	struct var_def vars[FRONTEND_MAX_VARS];
	size_t nvars;
	int mode; /* -1: the policy's own */
	bool quiet; /* warnings of a successful compile are not printed (errors are) */
};

/* getopt_long entries for the shared options; end a command's table with these. */
#define FRONTEND_LONG_OPTS                                                                       \
	{ "policy", required_argument, NULL, 'p' }, { "var", required_argument, NULL, OPT_VAR }, \
		{ "tags", required_argument, NULL, OPT_TAGS },                                   \
	{                                                                                        \
		"mode", required_argument, NULL, OPT_MODE                                        \
	}

void policy_args_init(struct policy_args *a);
/* Handle one option: 1 if it was a shared one, 0 if not, -EINVAL (message printed) if bad. */
int policy_args_opt(struct policy_args *a, int opt, const char *arg);
/*
 * Parse, resolve and compile.  Diagnostics go to stderr (or as a JSON array on stdout with
 * json).  Returns 0, or -EINVAL for a policy with errors, or another -errno.  The compiled
 * tables point into the policy: free *out before *pol.
 */
int frontend_compile(const struct policy_args *a, bool json, struct compiled **out,
		     struct policy **pol);

struct tag_db;
/* The same, handing back the tag file the policy resolved against (NULL without one). */
int frontend_compile_db(const struct policy_args *a, bool json, struct compiled **out,
			struct policy **pol, struct tag_db **db);

/*
 * Parse the policy and open its tag file (--tags, else its 'tags' statement; *tags NULL when
 * there is none), without compiling: for commands that only need the policy's variables and
 * tags.  Diagnostics are printed as by frontend_compile.  Returns 0, -EINVAL or -ENOMEM.
 */
int frontend_load(const struct policy_args *a, bool json, struct policy **pol,
		  struct tag_db **tags);

struct whatif;
#define WHATIF_MAX 16
/* --what-if NAME=VALUE: add it to set (at most WHATIF_MAX; a name once).  0 or -EINVAL. */
int whatif_arg(struct var_def *set, size_t *nset, const char *arg);
/*
 * Compile the policy of a once more with the variables of set overriding its --var values
 * (warnings not repeated), and compare it with base, its compile with a's own values.  *alt
 * and *altp hold the second compile (free *alt before *altp).  0, -EINVAL or -ENOMEM.
 */
int frontend_whatif(const struct policy_args *a, const struct var_def *set, size_t nset, bool json,
		    const struct compiled *base, struct whatif *out, struct compiled **alt,
		    struct policy **altp);

#endif
