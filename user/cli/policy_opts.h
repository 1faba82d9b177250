/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The options of every command that takes a policy (-p POLICY, --var NAME=VALUE, --tags FILE,
 * --mode), --what-if, and the compile pipeline called with them, errors as JSON under -j.
 */
#ifndef AMLG_CLI_POLICY_OPTS_H
#define AMLG_CLI_POLICY_OPTS_H

#include "cli/params.h"
#include "compile/pipeline.h"

int policy_opt_path(void *dst, const char *arg, const struct cli_opt *o);
int policy_opt_var(void *dst, const char *arg, const struct cli_opt *o);
int policy_opt_tags(void *dst, const char *arg, const struct cli_opt *o);
int policy_opt_mode(void *dst, const char *arg, const struct cli_opt *o);

/* The four options, into the struct pipeline_opts member of a command's configuration. */
#define CLI_OPTS_POLICY(type, member)                                                            \
	CLI_OPT_FUNC(type, member, "policy", 'p', "POLICY", policy_opt_path, "the policy file"), \
		CLI_OPT_FUNC(type, member, "var", 0, "NAME=VALUE", policy_opt_var,               \
			     "a value for a variable of the policy (repeatable)"),               \
		CLI_OPT_FUNC(type, member, "tags", 0, "FILE", policy_opt_tags,                   \
			     "the service-tag file, instead of the policy's own"),               \
		CLI_OPT_FUNC(type, member, "mode", 0, "audit|enforce", policy_opt_mode,          \
			     "instead of the policy's own mode")

#define WHATIF_MAX 16

/* --what-if NAME=VALUE, each name once */
struct whatif_set {
	struct var_def v[WHATIF_MAX];
	size_t n;
};

int whatif_opt(void *dst, const char *arg, const struct cli_opt *o);

/*
 * pipeline_compile() and pipeline_load() for a command: "no policy given (-p POLICY)" when
 * there is none, the diagnostics as JSON under -j.  db may be NULL.
 */
int cli_compile(const struct pipeline_opts *po, struct compiled **c, struct policy **p,
		struct tag_db **db);
int cli_load(const struct pipeline_opts *po, struct policy **p, struct tag_db **db);

struct whatif;
/*
 * Compile the policy of po once more with the variables of set overriding its --var values
 * (warnings not repeated), and compare it with base, its compile with po's own values.  *alt
 * and *altp hold the second compile (free *alt before *altp).  0, -EINVAL or -ENOMEM.
 */
int cli_whatif(const struct pipeline_opts *po, const struct whatif_set *set,
	       const struct compiled *base, struct whatif *out, struct compiled **alt,
	       struct policy **altp);

#endif
