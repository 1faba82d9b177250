// SPDX-License-Identifier: GPL-2.0-only
/*
 * amlguard tags: what a service-tag file holds (list, show) and what changed between two of
 * them (diff), for every tag or for the tags a policy uses.  No kernel.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "cli/policy_opts.h"
#include "base/log.h"
#include "compile/tags_diff.h"
#include "compile/whatif.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: amlguard tags list --tags FILE [-j]\n"
		"       amlguard tags show NAME --tags FILE [-j]\n"
		"       amlguard tags diff OLD NEW [-p POLICY [--var NAME=VALUE]...\n"
		"                                  [--what-if NAME=VALUE]...] [-j]\n\n"
		"FILE is Microsoft's \"Azure IP Ranges and Service Tags\" JSON as downloaded\n"
		"(ServiceTags_Public_YYYYMMDD.json, ..._AzureGovernment_..., ..._China_...), or\n"
		"the output of 'az network list-service-tags --location REGION -o json'; it may\n"
		"be gzip-compressed.\n\n"
		"list: every tag with its IPv4 and IPv6 prefix counts, region and system service.\n"
		"show: the prefixes of one tag, merged (NAME as a policy writes it: any case,\n"
		"      Name or Name.Region, the documented aliases Keyvault and ContainerRegistry).\n"
		"diff: the addresses added and removed per tag between two files, for the tags\n"
		"      POLICY uses (every tag without -p).  --what-if also compares the tags and\n"
		"      the flow IDs (compiled against NEW) of POLICY with NAME=VALUE instead of\n"
		"      its current value: which flow IDs that change opens, closes or changes.\n"
		"      Exit status 0: no change of addresses, 1: changes, 2: error.\n");
}

static json_t *db_json(const struct tag_db *db)
{
	return json_pack("{s:s, s:s, s:I, s:s?, s:I, s:I, s:I}", "file", db->path, "cloud",
			 db->cloud, "change", (json_int_t)db->change, "date",
			 db->date[0] ? db->date : NULL, "tags", (json_int_t)db->n, "prefixes4",
			 (json_int_t)db->n4, "prefixes6", (json_int_t)db->n6);
}

static json_t *prefixes_json(const struct prefix_list *l)
{
	json_t *a = json_array();
	char buf[PREFIX_STRLEN];

	for (size_t i = 0; a && i < l->n; i++)
		json_array_append_new(a, json_string(prefix_str(&l->v[i], buf, sizeof(buf))));
	return a;
}

static void print_prefixes(const char *lead, const struct prefix_list *l)
{
	char buf[PREFIX_STRLEN];

	for (size_t i = 0; i < l->n; i++)
		printf("%s%s\n", lead, prefix_str(&l->v[i], buf, sizeof(buf)));
}

static int open_db(const char *path, struct tag_db **db)
{
	struct tag_error e;
	int err;

	if (!path) {
		pr_err("tags: no service-tag file given (--tags FILE)");
		pr_hint("download it from Microsoft (\"Azure IP Ranges and Service Tags\")");
		return -EINVAL;
	}
	err = tags_load(path, db, &e);
	if (!err)
		return 0;
	if (e.line)
		pr_err("%s:%u:%u: invalid service-tag file: %s", path, e.line, e.col, e.msg);
	else
		pr_err("%s: invalid service-tag file: %s", path, e.msg);
	return err;
}

static int do_list(const char *path)
{
	struct tag_db *db;
	char desc[512];
	json_t *o, *a;
	int err = open_db(path, &db);

	if (err)
		return err;
	if (json_output) {
		o = db_json(db);
		a = json_array();
		for (size_t i = 0; i < db->n; i++) {
			const struct tag_entry *e = &db->v[i];

			json_array_append_new(
				a, json_pack("{s:s, s:s, s:i, s:s, s:I, s:I, s:I}", "name", e->name,
					     "region", e->region, "region_id", (int)e->region_id,
					     "service", e->service, "change", (json_int_t)e->change,
					     "prefixes4", (json_int_t)e->n4, "prefixes6",
					     (json_int_t)e->n6));
		}
		json_object_set_new(o, "values", a);
		json_print(o);
	} else {
		printf("%s: %zu tags, %zu IPv4 and %zu IPv6 prefixes\n",
		       tags_describe(db, desc, sizeof(desc)), db->n, db->n4, db->n6);
		printf("%-48s %6s %6s  %-22s %s\n", "NAME", "IPV4", "IPV6", "REGION", "SERVICE");
		for (size_t i = 0; i < db->n; i++) {
			const struct tag_entry *e = &db->v[i];

			printf("%-48s %6zu %6zu  %-22s %s\n", e->name, e->n4, e->n6,
			       e->region[0] ? e->region : "-", e->service[0] ? e->service : "-");
		}
	}
	tags_free(db);
	return 0;
}

static int do_show(const char *path, const char *name)
{
	struct prefix_list l = { 0 };
	const struct tag_entry *e;
	char msg[512], hint[512], desc[512];
	struct tag_db *db;
	bool alias;
	int err = open_db(path, &db);

	if (err)
		return err;
	e = tags_lookup(db, name, &alias);
	if (!e) {
		tags_explain_unknown(db, name, msg, sizeof(msg), hint, sizeof(hint));
		pr_err("%s", msg);
		if (hint[0])
			pr_hint("%s", hint);
		tags_free(db);
		return -ENOENT;
	}
	err = tags_prefixes(e, &l);
	if (err)
		goto out;
	if (json_output) {
		json_print(json_pack("{s:s, s:s, s:b, s:s, s:s, s:I, s:I, s:I, s:o, s:o}", "name",
				     name, "published", e->name, "alias", alias, "region",
				     e->region, "service", e->service, "change",
				     (json_int_t)e->change, "prefixes4",
				     (json_int_t)prefix_list_count(&l, 4), "prefixes6",
				     (json_int_t)prefix_list_count(&l, 6), "prefixes",
				     prefixes_json(&l), "tags", db_json(db)));
	} else {
		printf("%s: region %s, system service %s, changeNumber %u\n", e->name,
		       e->region[0] ? e->region : "-", e->service[0] ? e->service : "-", e->change);
		if (alias)
			printf("('%s' is the documents' spelling: an alias)\n", name);
		printf("from %s\n", tags_describe(db, desc, sizeof(desc)));
		printf("%zu IPv4 and %zu IPv6 prefixes published, %zu and %zu after merging:\n",
		       e->n4, e->n6, prefix_list_count(&l, 4), prefix_list_count(&l, 6));
		print_prefixes("  ", &l);
	}
out:
	prefix_list_free(&l);
	tags_free(db);
	return err;
}

static json_t *change_json(const struct tag_change *c)
{
	return json_pack("{s:s, s:s?, s:s?, s:o, s:o}", "name", c->name, "old",
			 c->old ? c->old->name : NULL, "new", c->new ? c->new->name : NULL, "added",
			 prefixes_json(&c->added), "removed", prefixes_json(&c->removed));
}

static void print_change(const struct tag_change *c)
{
	const char *shown = c->new ? c->new->name : c->old ? c->old->name : c->name;

	if (!c->old && !c->new) {
		printf("%s: in neither file\n", c->name);
		return;
	}
	printf("%s:", shown);
	if (!c->old)
		printf(" new tag,");
	else if (!c->new)
		printf(" tag removed,");
	printf(" +%zu -%zu prefixes\n", c->added.n, c->removed.n);
	print_prefixes("  + ", &c->added);
	print_prefixes("  - ", &c->removed);
}

static int print_diff(const struct tag_db *a, const struct tag_db *b, const struct tag_diff *d,
		      const char *policy, const struct whatif *w, const char *heading, json_t *wj)
{
	char da[512], db_[512];
	json_t *arr;
	size_t same = 0;

	if (json_output) {
		arr = json_array();
		for (size_t i = 0; i < d->n; i++) {
			const struct tag_change *c = &d->v[i];

			/* Without a policy, only what changed: the files hold thousands of tags. */
			if (policy || c->added.n || c->removed.n || !c->old != !c->new)
				json_array_append_new(arr, change_json(c));
		}
		json_print(json_pack("{s:o, s:o, s:s?, s:I, s:I, s:o, s:o*}", "old", db_json(a),
				     "new", db_json(b), "policy", policy, "compared",
				     (json_int_t)d->n, "changed", (json_int_t)d->changed, "tags",
				     arr, "what_if", wj));
		return 0;
	}
	printf("old: %s\nnew: %s\n", tags_describe(a, da, sizeof(da)),
	       tags_describe(b, db_, sizeof(db_)));
	printf("%zu tag%s compared%s%s%s, %zu changed\n", d->n, d->n == 1 ? "" : "s",
	       policy ? " (the tags " : "", policy ? policy : "", policy ? " uses)" : "",
	       d->changed);
	for (size_t i = 0; i < d->n; i++) {
		const struct tag_change *c = &d->v[i];

		if (c->added.n || c->removed.n || !c->old != !c->new || (!c->old && !c->new))
			print_change(c);
		else
			same++;
	}
	if (same && policy) {
		printf("unchanged:");
		for (size_t i = 0; i < d->n; i++)
			if (!d->v[i].added.n && !d->v[i].removed.n && d->v[i].old && d->v[i].new)
				printf(" %s", d->v[i].new->name);
		printf("\n");
	}
	if (w)
		whatif_print(w, heading, stdout);
	return 0;
}

/* The tag names of both policies, each once, the current one's first. */
static int union_names(const struct policy *p, const struct policy *p2, const char ***names,
		       size_t *n)
{
	const char **a = NULL, **b = NULL, **u;
	size_t na = 0, nb = 0;
	int err = tags_policy_names(p, &a, &na);

	if (!err && p2)
		err = tags_policy_names(p2, &b, &nb);
	u = err ? NULL : calloc(na + nb + 1, sizeof(*u));
	if (!err && !u)
		err = -ENOMEM;
	if (!err) {
		memcpy(u, a, na * sizeof(*u));
		*n = na;
		for (size_t i = 0; i < nb; i++) {
			size_t j;

			for (j = 0; j < *n && strcasecmp(u[j], b[i]); j++)
				;
			if (j == *n)
				u[(*n)++] = b[i];
		}
		*names = u;
	}
	free(a);
	free(b);
	return err;
}

static int do_diff(const char *oldp, const char *newp, const struct pipeline_opts *pa,
		   const struct whatif_set *set)
{
	struct tag_db *a = NULL, *b = NULL, *ptags = NULL;
	struct compiled *c = NULL, *c2 = NULL;
	struct policy *p = NULL, *p2 = NULL;
	struct pipeline_opts pn = *pa;
	const char **names = NULL;
	struct tag_diff d = { 0 };
	struct whatif w = { 0 };
	char heading[512] = "";
	json_t *wj = NULL;
	size_t n = 0;
	int err;

	if (set->n && !pa->policy) {
		pr_err("tags diff: --what-if needs a policy (-p POLICY)");
		return -EINVAL;
	}
	if (pa->policy && set->n) {
		/* both settings compiled against the new file: the flows as they will be */
		pn.tags = newp;
		err = cli_compile(&pn, &c, &p, NULL);
		if (!err)
			err = cli_whatif(&pn, set, c, &w, &c2, &p2);
		if (!err) {
			whatif_heading(p, set->v, set->n, heading, sizeof(heading));
			wj = json_output ? whatif_json(&w, p, set->v, set->n) : NULL;
		}
	} else if (pa->policy) {
		err = cli_load(pa, &p, &ptags);
		tags_free(ptags);
	} else {
		err = 0;
	}
	if (!err && p)
		err = union_names(p, p2, &names, &n);
	if (err)
		goto out;
	err = open_db(oldp, &a);
	if (!err)
		err = open_db(newp, &b);
	if (err)
		goto out;
	if (strcmp(a->cloud, b->cloud))
		pr_warn("comparing files of different clouds: %s and %s", a->cloud, b->cloud);
	err = tags_diff(a, b, p ? names : NULL, n, &d);
	if (!err) {
		err = print_diff(a, b, &d, pa->policy, set->n ? &w : NULL, heading, wj);
		wj = NULL;
	}
	if (!err)
		err = d.changed ? 1 : 0;
out:
	json_decref(wj);
	tags_diff_free(&d);
	whatif_free(&w);
	free(names);
	tags_free(a);
	tags_free(b);
	compiled_free(c2);
	policy_free(p2);
	compiled_free(c);
	policy_free(p);
	return err;
}

struct tags_cfg {
	struct pipeline_opts po;
	struct whatif_set set;
};

static const struct cli_opt opts[] = {
	CLI_OPTS_POLICY(struct tags_cfg, po),
	CLI_OPT_FUNC(struct tags_cfg, set, "what-if", 0, "NAME=VALUE", whatif_opt,
		     "diff: the flow IDs with this value instead (repeatable)"),
	CLI_OPT_JSON,
	CLI_OPT_END,
};

static const struct cli_cmd cmd = { .name = "tags", .usage = usage, .opts = opts };

int do_tags(int argc, char **argv)
{
	struct tags_cfg cfg = { .po = PIPELINE_OPTS_INIT };
	const char *sub;
	int first, err, npos;

	err = cli_parse(&cmd, &cfg, argc, argv, &first);
	if (err)
		return err > 0 ? 0 : err;
	npos = argc - first;
	sub = npos > 0 ? argv[first] : "";
	if (cfg.set.n && strcmp(sub, "diff")) {
		pr_err("tags %s: --what-if belongs to 'tags diff'", sub);
		return -EINVAL;
	}
	if (!strcmp(sub, "list") && npos == 1)
		return do_list(cfg.po.tags);
	if (!strcmp(sub, "show") && npos == 2)
		return do_show(cfg.po.tags, argv[first + 1]);
	if (!strcmp(sub, "diff") && npos == 3) {
		if (cfg.po.tags) {
			pr_err("tags diff: the two files are OLD and NEW, not --tags");
			return -EINVAL;
		}
		return do_diff(argv[first + 1], argv[first + 2], &cfg.po, &cfg.set);
	}
	if (json_output)
		pr_err("tags: expected 'list', 'show NAME' or 'diff OLD NEW'");
	else
		usage(stderr);
	return -EINVAL;
}
