/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a change of policy variables does: the flow IDs it opens (a rule only with the new
 * values), closes (a rule only with the current ones) or changes (a rule in both, with other
 * ports, protocol or endpoints), from two compiles of the same policy.  And the variables
 * themselves, as compile shows them.
 */
#ifndef AMLG_COMPILE_WHATIF_H
#define AMLG_COMPILE_WHATIF_H

#include <jansson.h>
#include <stdio.h>

#include "compile/compile.h"
#include "policy/policy.h"

enum whatif_kind { WHATIF_OPENS, WHATIF_CLOSES, WHATIF_CHANGES };

struct whatif_flow {
	enum whatif_kind kind;
	char flow[AMLG_FLOW_MAX];
	char *now; /* the rule(s) with the current values ("" when none) */
	char *then; /* with the new values */
	const char *noflow; /* the reason the side without a rule gives, or NULL */
};

struct whatif {
	struct whatif_flow *v;
	size_t n;
};

/* Compare the compiles with the current (a) and the new values (b).  0 or -ENOMEM. */
int whatif_compare(const struct compiled *a, const struct compiled *b, struct whatif *out);
void whatif_free(struct whatif *w);

/* The overrides as "NAME=VALUE (now OLD), ..." for a heading; p has the current values. */
void whatif_heading(const struct policy *p, const struct var_def *set, size_t nset, char *buf,
		    size_t sz);
void whatif_print(const struct whatif *w, const char *heading, FILE *f);
json_t *whatif_json(const struct whatif *w, const struct policy *p, const struct var_def *set,
		    size_t nset);

/* The policy's variables: name, value, and whether --var gave it or a define's default. */
void policy_vars_print(const struct policy *p, FILE *f);
json_t *policy_vars_json(const struct policy *p);

#endif
