/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * From a policy file to a compiled policy: parse (with the caller's variables), open the
 * service-tag file, resolve, compile, with the diagnostics printed the compiler way.  The
 * caller says what to compile in a plain structure; the command line, the daemon and its
 * configuration file fill it each their own way.
 */
#ifndef AMLG_COMPILE_PIPELINE_H
#define AMLG_COMPILE_PIPELINE_H

#include <stdbool.h>

#include "compile/compile.h"
#include "policy/policy.h"

#define PIPELINE_MAX_VARS 64

struct pipeline_opts {
	const char *policy; /* the policy file */
	const char *tags; /* a service-tag file overriding the policy's 'tags'; NULL: its own */
	struct var_def vars[PIPELINE_MAX_VARS]; /* values overriding the policy's 'define's */
	size_t nvars;
	int mode; /* -1: the policy's own */
	bool quiet; /* warnings of a successful compile are not printed (errors are) */
};

/* The defaults: no tags file, variables or mode of the caller's */
#define PIPELINE_OPTS_INIT \
	{                  \
		.mode = -1 \
	}

void pipeline_opts_init(struct pipeline_opts *o);

/*
 * Parse, resolve and compile.  Diagnostics go to stderr (or as a JSON array on stdout with
 * json).  Returns 0, or -EINVAL for a policy with errors, or another -errno.  The compiled
 * tables point into the policy: free *out before *pol.
 */
int pipeline_compile(const struct pipeline_opts *o, bool json, struct compiled **out,
		     struct policy **pol);

struct tag_db;
/* The same, handing back the tag file the policy resolved against (NULL without one). */
int pipeline_compile_db(const struct pipeline_opts *o, bool json, struct compiled **out,
			struct policy **pol, struct tag_db **db);

/*
 * Parse the policy and open its tag file (o->tags, else its 'tags' statement; *tags NULL when
 * there is none), without compiling: for callers that only need the policy's variables and
 * tags.  Diagnostics are printed as by pipeline_compile.  Returns 0, -EINVAL or -ENOMEM.
 */
int pipeline_load(const struct pipeline_opts *o, bool json, struct policy **pol,
		  struct tag_db **tags);

#endif
