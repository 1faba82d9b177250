// SPDX-License-Identifier: GPL-2.0-only
/* From a policy file to a compiled policy. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "compile/pipeline.h"
#include "base/log.h"
#include "compile/tags.h"

void pipeline_opts_init(struct pipeline_opts *o)
{
	*o = (struct pipeline_opts)PIPELINE_OPTS_INIT;
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

/*
 * Print the diagnostics and release them: with json a failure is the JSON list on stdout,
 * warnings of a success go to stderr (none when quiet); without json a failure ends with
 * "amlguard: POLICY: N errors" and what.  0, or err (-EINVAL for errors without one).
 */
static int report(const struct pipeline_opts *o, struct diag *d, int err, bool json,
		  const char *what)
{
	bool failed = err || diag_failed(d);

	if (d->n && (!o->quiet || failed))
		print_diags(d, json && failed);
	if (failed && !json)
		fprintf(stderr, "amlguard: %s: %zu error%s%s\n", o->policy, d->nerrors,
			d->nerrors == 1 ? "" : "s", what);
	diag_free(d);
	return failed ? (err ? err : -EINVAL) : 0;
}

int pipeline_compile(const struct pipeline_opts *o, bool json, struct compiled **out,
		     struct policy **pol)
{
	return pipeline_compile_db(o, json, out, pol, NULL);
}

int pipeline_compile_db(const struct pipeline_opts *o, bool json, struct compiled **out,
			struct policy **pol, struct tag_db **db)
{
	struct compile_opts co = { .mode = o->mode };
	struct tag_db *tags = NULL;
	struct tag_resolver tr;
	struct policy *p = NULL;
	struct diag d;
	int err;

	*out = NULL;
	if (db)
		*db = NULL;
	if (!o->policy) {
		pr_err("no policy file given");
		return -EINVAL;
	}
	diag_init(&d);
	err = policy_load(o->policy, o->vars, o->nvars, &d, &p);
	/* --tags overrides the policy's own 'tags' statement. */
	if (!err)
		err = tags_open_for_policy(o->tags, p, &d, &tags);
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
	err = report(o, &d, err, json, ", nothing was loaded");
	if (err) {
		compiled_free(*out);
		*out = NULL;
		policy_free(p);
		return err;
	}
	*pol = p;
	return 0;
}

int pipeline_load(const struct pipeline_opts *o, bool json, struct policy **pol,
		  struct tag_db **tags)
{
	struct policy *p = NULL;
	struct diag d;
	int err;

	*pol = NULL;
	*tags = NULL;
	if (!o->policy) {
		pr_err("no policy file given");
		return -EINVAL;
	}
	diag_init(&d);
	err = policy_load(o->policy, o->vars, o->nvars, &d, &p);
	if (!err)
		err = tags_open_for_policy(o->tags, p, &d, tags);
	err = report(o, &d, err, json, "");
	if (err) {
		tags_free(*tags);
		*tags = NULL;
		policy_free(p);
		return err;
	}
	*pol = p;
	return 0;
}
