// SPDX-License-Identifier: GPL-2.0-only
/* From command-line arguments to a compiled policy. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "compile/frontend.h"
#include "base/log.h"
#include "base/names.h"
#include "compile/tags.h"
#include "compile/whatif.h"

void policy_args_init(struct policy_args *a)
{
	memset(a, 0, sizeof(*a));
	a->mode = -1;
}

static int add_var(struct policy_args *a, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char *name;

	if (!eq || eq == arg) {
		pr_err("--var %s: expected NAME=VALUE", arg);
		return -EINVAL;
	}
	if (a->nvars == FRONTEND_MAX_VARS) {
		pr_err("--var %s: more than %d variables", arg, FRONTEND_MAX_VARS);
		return -EINVAL;
	}
	name = strndup(arg, (size_t)(eq - arg));
	if (!name)
		return -ENOMEM;
	for (size_t i = 0; i < a->nvars; i++) {
		if (!strcmp(a->vars[i].name, name)) {
			pr_err("--var %s: variable '%s' given twice", arg, name);
			free(name);
			return -EINVAL;
		}
	}
	/* Lives until exit: the option strings themselves do. */
	a->vars[a->nvars].name = name;
	a->vars[a->nvars].value = eq + 1;
	a->nvars++;
	return 0;
}

int policy_args_opt(struct policy_args *a, int opt, const char *arg)
{
	switch (opt) {
	case 'p':
		a->policy = arg;
		return 1;
	case OPT_VAR:
		return add_var(a, arg) ? -EINVAL : 1;
	case OPT_TAGS:
		a->tags = arg;
		return 1;
	case OPT_MODE:
		a->mode = mode_parse(arg);
		if (a->mode < 0) {
			pr_err("--mode %s: expected 'audit' or 'enforce'", arg);
			return -EINVAL;
		}
		return 1;
	default:
		return 0;
	}
}

static void print_diags(const struct diag *d, bool json)
{
	if (json) {
		char *s = diag_json(d);

		if (s) {
			puts(s);
			free(s);
		}
		return;
	}
	diag_print(d, stderr);
}

/*
 * The shipped policies pick their cloud with --var cloud=public|usgov|china (public by
 * default): with another cloud's tag file the errors are about tags that cloud lacks, when
 * the fix is the variable.  Say so.
 */
static void check_cloud(const struct policy *p, const struct tag_db *tags, struct diag *d,
			bool failed)
{
	static const struct {
		const char *file, *var;
	} clouds[] = { { "Public", "public" },
		       { "AzureGovernment", "usgov" },
		       { "China", "china" } };
	const char *want = NULL, *have = NULL;

	if (!p || !tags)
		return;
	for (size_t i = 0; i < sizeof(clouds) / sizeof(clouds[0]); i++)
		if (!strcasecmp(tags->cloud, clouds[i].file))
			want = clouds[i].var;
	for (size_t i = 0; i < p->nvars; i++)
		if (!strcmp(p->vars[i].name, "cloud"))
			have = p->vars[i].value;
	if (!want || !have || !strcasecmp(want, have))
		return;
	if (failed)
		diag_note(d, (struct srcloc){ 0 },
			  "the tag file is the %s cloud's, the policy's "
			  "cloud variable is '%s'",
			  tags->cloud, have);
	else
		diag_warning(d, (struct srcloc){ 0 },
			     "the tag file is the %s cloud's, the "
			     "policy's cloud variable is '%s'",
			     tags->cloud, have);
	diag_hint(d, "pass --var cloud=%s", want);
}

int frontend_compile(const struct policy_args *a, bool json, struct compiled **out,
		     struct policy **pol)
{
	return frontend_compile_db(a, json, out, pol, NULL);
}

int frontend_compile_db(const struct policy_args *a, bool json, struct compiled **out,
			struct policy **pol, struct tag_db **db)
{
	struct compile_opts co = { .mode = a->mode };
	struct tag_db *tags = NULL;
	struct tag_resolver tr;
	struct policy *p = NULL;
	struct diag d;
	int err;

	*out = NULL;
	if (db)
		*db = NULL;
	if (!a->policy) {
		pr_err("no policy given (-p POLICY)");
		return -EINVAL;
	}
	diag_init(&d);
	err = policy_load(a->policy, a->vars, a->nvars, &d, &p);
	/* --tags overrides the policy's own 'tags' statement. */
	if (!err)
		err = tags_open_for_policy(a->tags, p, &d, &tags);
	if (!err && tags) {
		tags_resolver_init(&tr, tags);
		co.tags = &tr;
	}
	if (!err)
		err = compile_policy(p, &co, &d, out);
	if (!err)
		tags_record(tags, *out);
	check_cloud(p, tags, &d, err || diag_failed(&d));
	if (db && !err && !diag_failed(&d)) {
		*db = tags;
		tags = NULL;
	}
	tags_free(tags);
	/* With -j a failure is the JSON diagnostics; warnings of a success go to stderr. */
	if (d.n && (!a->quiet || err || diag_failed(&d)))
		print_diags(&d, json && (err || diag_failed(&d)));
	if (err || diag_failed(&d)) {
		if (!json)
			fprintf(stderr, "amlguard: %s: %zu error%s, nothing was loaded\n",
				a->policy, d.nerrors, d.nerrors == 1 ? "" : "s");
		compiled_free(*out);
		*out = NULL;
		policy_free(p);
		diag_free(&d);
		return err ? err : -EINVAL;
	}
	diag_free(&d);
	*pol = p;
	return 0;
}

int frontend_load(const struct policy_args *a, bool json, struct policy **pol, struct tag_db **tags)
{
	struct policy *p = NULL;
	struct diag d;
	int err;

	*pol = NULL;
	*tags = NULL;
	if (!a->policy) {
		pr_err("no policy given (-p POLICY)");
		return -EINVAL;
	}
	diag_init(&d);
	err = policy_load(a->policy, a->vars, a->nvars, &d, &p);
	if (!err)
		err = tags_open_for_policy(a->tags, p, &d, tags);
	if (d.n)
		print_diags(&d, json && (err || diag_failed(&d)));
	if (err || diag_failed(&d)) {
		if (!json)
			fprintf(stderr, "amlguard: %s: %zu error%s\n", a->policy, d.nerrors,
				d.nerrors == 1 ? "" : "s");
		tags_free(*tags);
		*tags = NULL;
		policy_free(p);
		diag_free(&d);
		return err ? err : -EINVAL;
	}
	diag_free(&d);
	*pol = p;
	return 0;
}

int whatif_arg(struct var_def *set, size_t *nset, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char *name;

	if (!eq || eq == arg) {
		pr_err("--what-if %s: expected NAME=VALUE", arg);
		return -EINVAL;
	}
	if (*nset == WHATIF_MAX) {
		pr_err("--what-if %s: more than %d variables", arg, WHATIF_MAX);
		return -EINVAL;
	}
	name = strndup(arg, (size_t)(eq - arg));
	if (!name)
		return -ENOMEM;
	for (size_t i = 0; i < *nset; i++) {
		if (!strcmp(set[i].name, name)) {
			pr_err("--what-if %s: variable '%s' given twice", arg, name);
			free(name);
			return -EINVAL;
		}
	}
	/* Lives until exit, like the option strings themselves. */
	set[*nset].name = name;
	set[*nset].value = eq + 1;
	(*nset)++;
	return 0;
}

int frontend_whatif(const struct policy_args *a, const struct var_def *set, size_t nset, bool json,
		    const struct compiled *base, struct whatif *out, struct compiled **alt,
		    struct policy **altp)
{
	struct policy_args b = *a;
	int err;

	*alt = NULL;
	*altp = NULL;
	b.quiet = true;
	for (size_t i = 0; i < nset; i++) {
		size_t j;

		for (j = 0; j < b.nvars && strcmp(b.vars[j].name, set[i].name); j++)
			;
		if (j == b.nvars) {
			if (b.nvars == FRONTEND_MAX_VARS) {
				pr_err("--what-if %s: more than %d variables", set[i].name,
				       FRONTEND_MAX_VARS);
				return -EINVAL;
			}
			b.nvars++;
		}
		b.vars[j] = set[i];
	}
	err = frontend_compile(&b, json, alt, altp);
	if (err) {
		pr_err("--what-if: the policy does not compile with those values");
		return err;
	}
	return whatif_compare(base, *alt, out);
}
