// SPDX-License-Identifier: GPL-2.0-only
/* The policy options of the commands, and the compile pipeline called with them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/policy_opts.h"
#include "base/log.h"
#include "base/names.h"
#include "compile/whatif.h"

/*
 * NAME=VALUE into set (at most max, a name once), for --var and --what-if.  The name is
 * allocated and lives until exit, like the option strings themselves.
 */
static int add_def(const char *opt, const char *arg, struct var_def *set, size_t *n, size_t max)
{
	const char *eq = strchr(arg, '=');
	char *name;

	if (!eq || eq == arg) {
		pr_err("--%s %s: expected NAME=VALUE", opt, arg);
		return -EINVAL;
	}
	if (*n == max) {
		pr_err("--%s %s: more than %zu variables", opt, arg, max);
		return -EINVAL;
	}
	name = strndup(arg, (size_t)(eq - arg));
	if (!name)
		return -ENOMEM;
	for (size_t i = 0; i < *n; i++) {
		if (!strcmp(set[i].name, name)) {
			pr_err("--%s %s: variable '%s' given twice", opt, arg, name);
			free(name);
			return -EINVAL;
		}
	}
	set[*n].name = name;
	set[*n].value = eq + 1;
	(*n)++;
	return 0;
}

int policy_opt_path(void *dst, const char *arg, const struct cli_opt *o)
{
	((struct pipeline_opts *)dst)->policy = arg;
	return 0;
}

int policy_opt_var(void *dst, const char *arg, const struct cli_opt *o)
{
	struct pipeline_opts *po = dst;

	return add_def(o->name, arg, po->vars, &po->nvars, PIPELINE_MAX_VARS) ? -EINVAL : 0;
}

int policy_opt_tags(void *dst, const char *arg, const struct cli_opt *o)
{
	((struct pipeline_opts *)dst)->tags = arg;
	return 0;
}

int policy_opt_mode(void *dst, const char *arg, const struct cli_opt *o)
{
	struct pipeline_opts *po = dst;

	po->mode = mode_parse(arg);
	if (po->mode < 0) {
		pr_err("--mode %s: expected 'audit' or 'enforce'", arg);
		return -EINVAL;
	}
	return 0;
}

int whatif_opt(void *dst, const char *arg, const struct cli_opt *o)
{
	struct whatif_set *set = dst;

	return add_def(o->name, arg, set->v, &set->n, WHATIF_MAX) ? -EINVAL : 0;
}

static int policy_given(const struct pipeline_opts *po)
{
	if (po->policy)
		return 0;
	pr_err("no policy given (-p POLICY)");
	return -EINVAL;
}

int cli_compile(const struct pipeline_opts *po, struct compiled **c, struct policy **p,
		struct tag_db **db)
{
	*c = NULL;
	if (db)
		*db = NULL;
	return policy_given(po) ?: pipeline_compile_db(po, json_output, c, p, db);
}

int cli_load(const struct pipeline_opts *po, struct policy **p, struct tag_db **db)
{
	*p = NULL;
	*db = NULL;
	return policy_given(po) ?: pipeline_load(po, json_output, p, db);
}

int cli_whatif(const struct pipeline_opts *po, const struct whatif_set *set,
	       const struct compiled *base, struct whatif *out, struct compiled **alt,
	       struct policy **altp)
{
	struct pipeline_opts b = *po;
	int err;

	*alt = NULL;
	*altp = NULL;
	b.quiet = true;
	for (size_t i = 0; i < set->n; i++) {
		size_t j;

		for (j = 0; j < b.nvars && strcmp(b.vars[j].name, set->v[i].name); j++)
			;
		if (j == b.nvars) {
			if (b.nvars == PIPELINE_MAX_VARS) {
				pr_err("--what-if %s: more than %d variables", set->v[i].name,
				       PIPELINE_MAX_VARS);
				return -EINVAL;
			}
			b.nvars++;
		}
		b.vars[j] = set->v[i];
	}
	err = pipeline_compile(&b, json_output, alt, altp);
	if (err) {
		/* under -j the diagnostics are the error: one JSON value */
		if (!json_output)
			pr_err("--what-if: the policy does not compile with those values");
		return err;
	}
	return whatif_compare(base, *alt, out);
}
