// SPDX-License-Identifier: GPL-2.0-only
/*
 * Resolving tag: endpoints against a tag file.  A name is looked up whole (AzureMachineLearning
 * never matches AzureMachineLearningInference) and case-insensitively (the files mix
 * AzureCloud.eastus2 with Storage.EastUS2; documents write AzureFrontDoor.FrontEnd).  The AML
 * documents spell two tags differently from the published names; those spellings are aliases,
 * always reported in the compile output.  Anything else unknown is an error that names the
 * nearest published name.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "compile/tags.h"

#define NAME_MAX_LEN 256
#define REGIONS_SHOWN 6

/* The documents' spellings (see shared/aml-flows.md, "Tag names") and what Microsoft publishes. */
static const struct {
	const char *doc, *published;
} aliases[] = {
	{ "ContainerRegistry", "AzureContainerRegistry" },
	{ "Keyvault", "AzureKeyVault" },
};

/* The name with an alias's base replaced by the published one; false if no alias applies. */
static bool apply_alias(const char *name, char *buf, size_t sz)
{
	const char *dot = strchr(name, '.');
	size_t blen = dot ? (size_t)(dot - name) : strlen(name);

	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
		if (strlen(aliases[i].doc) != blen || strncasecmp(name, aliases[i].doc, blen))
			continue;
		snprintf(buf, sz, "%s%s", aliases[i].published, dot ? dot : "");
		return true;
	}
	return false;
}

const struct tag_entry *tags_lookup(const struct tag_db *db, const char *name, bool *alias)
{
	const struct tag_entry *e = tags_find(db, name);
	char buf[NAME_MAX_LEN];

	*alias = false;
	if (e || !apply_alias(name, buf, sizeof(buf)))
		return e;
	e = tags_find(db, buf);
	*alias = e != NULL;
	return e;
}

/* Does e's name start with base and a dot ("Storage" -> "Storage.EastUS2")? */
static bool is_regional_of(const struct tag_entry *e, const char *base, size_t blen)
{
	return strlen(e->name) > blen + 1 && e->name[blen] == '.' &&
	       !strncasecmp(e->name, base, blen);
}

/* Does any tag of the file end in ".<region>" (any case)? */
static bool region_anywhere(const struct tag_db *db, const char *region)
{
	size_t rl = strlen(region);

	for (size_t i = 0; i < db->n; i++) {
		const char *nm = db->v[i].name;
		size_t nl = strlen(nm);

		if (nl > rl + 1 && nm[nl - rl - 1] == '.' && !strcasecmp(nm + nl - rl, region))
			return true;
	}
	return false;
}

/*
 * An unknown "Name.Part" where other "Name.*" tags exist (an unknown region of a known tag, or
 * a sub-tag this cloud lacks, like AzureFrontDoor.FirstParty in Azure Government): suggest
 * among those parts only.
 */
static bool explain_region(const struct tag_db *db, const char *name, char *msg, size_t msz,
			   char *hint, size_t hsz)
{
	const char *dot = strchr(name, '.');
	size_t blen = dot ? (size_t)(dot - name) : 0, n = 0, len;
	const struct tag_entry *top;
	const char **parts;
	const char *best, *base = NULL;
	char top_name[NAME_MAX_LEN];

	if (!dot)
		return false;
	parts = calloc(db->n + 1, sizeof(*parts));
	if (!parts)
		return false;
	for (size_t i = 0; i < db->n; i++) {
		if (!is_regional_of(&db->v[i], name, blen))
			continue;
		parts[n++] = db->v[i].name + blen + 1;
		base = db->v[i].name;
	}
	if (!n) {
		free(parts);
		return false;
	}
	snprintf(top_name, sizeof(top_name), "%.*s", (int)blen, base);
	top = tags_find(db, top_name);
	best = diag_suggest(dot + 1, parts, n);
	if (top && !region_anywhere(db, dot + 1)) {
		/*
		 * No tag at all has this region: it is the region that is wrong (a --var region
		 * mistyped), and every regional tag would say so.  Said in the same words each
		 * time, the diagnostics print it once.
		 */
		snprintf(msg, msz, "no service tag in %s (cloud %s) has the region '%s'", db->path,
			 db->cloud, dot + 1);
		if (best) {
			snprintf(hint, hsz, "did you mean the region '%s'?", best);
			free(parts);
			return true;
		}
	} else if (top) {
		snprintf(msg, msz, "service tag '%s' has no region '%s' in %s (cloud %s)",
			 top->name, dot + 1, db->path, db->cloud);
	} else {
		snprintf(msg, msz, "unknown service tag '%s' in %s (cloud %s)", name, db->path,
			 db->cloud);
	}
	if (best) {
		snprintf(hint, hsz, "did you mean '%.*s.%s'?", (int)blen, base, best);
	} else {
		len = (size_t)snprintf(hint, hsz, "this file has %zu tag%s named %.*s.*: ", n,
				       n == 1 ? "" : "s", (int)blen, base);
		for (size_t i = 0; i < n && i < REGIONS_SHOWN && len < hsz; i++)
			len += (size_t)snprintf(hint + len, hsz - len, "%s%s", i ? ", " : "",
						parts[i]);
		if (n > REGIONS_SHOWN && len < hsz)
			snprintf(hint + len, hsz - len, ", ... ('amlguard tags list' shows all)");
	}
	free(parts);
	return true;
}

void tags_explain_unknown(const struct tag_db *db, const char *name, char *msg, size_t msz,
			  char *hint, size_t hsz)
{
	char aliased[NAME_MAX_LEN];
	const char **names;
	const char *best = NULL;

	hint[0] = '\0';
	/* Keyvault.Nowhere: the region of the published tag is what is wrong. */
	if (apply_alias(name, aliased, sizeof(aliased)) &&
	    explain_region(db, aliased, msg, msz, hint, hsz))
		return;
	if (explain_region(db, name, msg, msz, hint, hsz))
		return;
	snprintf(msg, msz, "unknown service tag '%s' in %s (cloud %s)", name, db->path, db->cloud);
	names = calloc(db->n + 1, sizeof(*names));
	if (names) {
		for (size_t i = 0; i < db->n; i++)
			names[i] = db->v[i].name;
		best = diag_suggest(name, names, db->n);
		free(names);
	}
	if (best)
		snprintf(hint, hsz, "did you mean '%s'?", best);
	else
		snprintf(hint, hsz, "'amlguard tags list --tags %s' lists the published names",
			 db->path);
}

/* ---- the compiler's tag_resolver */

static int resolve(void *ctx, const struct ep_item *item, struct prefix_list *out, char **note,
		   struct diag *d)
{
	const struct tag_db *db = ctx;
	const struct tag_entry *e;
	char msg[512], hint[512];
	bool alias;
	int err;

	e = tags_lookup(db, item->name, &alias);
	if (!e) {
		tags_explain_unknown(db, item->name, msg, sizeof(msg), hint, sizeof(hint));
		diag_error(d, item->loc, "%s", msg);
		if (hint[0])
			diag_hint(d, "%s", hint);
		return -ENOENT;
	}
	err = tags_prefixes(e, out);
	if (err)
		return err;
	/* Say which published tag a differently written name became. */
	if (alias && asprintf(note, "alias of %s", e->name) < 0)
		return -ENOMEM;
	if (!alias && strcmp(e->name, item->name) && asprintf(note, "as %s", e->name) < 0)
		return -ENOMEM;
	return 0;
}

void tags_resolver_init(struct tag_resolver *r, const struct tag_db *db)
{
	r->resolve = resolve;
	r->ctx = (void *)db;
}

void tags_record(const struct tag_db *db, struct compiled *c)
{
	if (!db || !c)
		return;
	c->tags_change = db->change;
	snprintf(c->tags_cloud, sizeof(c->tags_cloud), "%s", db->cloud);
	snprintf(c->tags_date, sizeof(c->tags_date), "%s", db->date);
	snprintf(c->tags_file, sizeof(c->tags_file), "%s", db->path);
}

int tags_open_for_policy(const char *cli_path, const struct policy *p, struct diag *d,
			 struct tag_db **out)
{
	const char *path = cli_path ? cli_path : p->tags_path;
	struct tag_error e;
	struct srcloc loc = { 0 };
	int err;

	*out = NULL;
	if (!path)
		return 0;
	err = tags_load(path, out, &e);
	if (!err)
		return 0;
	if (err == -ENOMEM)
		return err;
	if (e.line) {
		/* A position inside the tag file itself. */
		loc.file = diag_intern(d, path);
		loc.line = e.line;
		loc.col = e.col;
		diag_error(d, loc, "service-tag file: %s", e.msg);
	} else if (!cli_path) {
		diag_error(d, p->tags_loc, "service-tag file '%s': %s", path, e.msg);
	} else {
		loc.file = diag_intern(d, path);
		diag_error(d, loc, "service-tag file: %s", e.msg);
	}
	diag_hint(d, "use Microsoft's \"Azure IP Ranges and Service Tags\" JSON "
		     "(ServiceTags_Public_YYYYMMDD.json) as downloaded, or the output of "
		     "'az network list-service-tags --location REGION -o json'");
	return -EINVAL;
}
