/* SPDX-License-Identifier: GPL-2.0-only */
/* Policy text, parsed and compiled in one call: for the datapath tests and the benchmarks. */
#ifndef AMLG_TEST_CPOLICY_H
#define AMLG_TEST_CPOLICY_H

#include "compile/compile.h"
#include "policy/policy.h"

/* A parsed policy and what it compiled to (the compiled tables may point into it). */
struct compiled_policy {
	struct policy *p;
	struct compiled *c;
};

/*
 * Parse text (named name in messages) and compile it in mode (AMLG_MODE_*, or -1: the
 * policy's own) with tags (may be NULL).  Any diagnostic is printed to stderr and fails it.
 * 0 or -errno; on failure *cp holds what was made, for compiled_policy_free.
 */
int compiled_policy_text(const char *name, const char *text, int mode,
			 const struct tag_resolver *tags, struct compiled_policy *cp);
void compiled_policy_free(struct compiled_policy *cp);

#endif
