// SPDX-License-Identifier: GPL-2.0-only
/* Per-tag differences between two service-tag files, as address sets. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/prefix_set.h"
#include "compile/tags_diff.h"

static int entry_prefixes(const struct tag_entry *e, struct prefix_list *l)
{
	return e ? tags_prefixes(e, l) : 0;
}

static int compare(struct tag_change *c)
{
	struct prefix_list o = { 0 }, n = { 0 };
	int err;

	err = entry_prefixes(c->old, &o);
	if (!err)
		err = entry_prefixes(c->new, &n);
	if (!err)
		err = prefix_list_subtract(&n, &o, &c->added);
	if (!err)
		err = prefix_list_subtract(&o, &n, &c->removed);
	prefix_list_free(&o);
	prefix_list_free(&n);
	return err;
}

static int add_change(struct tag_diff *d, const char *name, const struct tag_entry *old,
		      const struct tag_entry *new)
{
	struct tag_change *c = &d->v[d->n];
	int err;

	memset(c, 0, sizeof(*c));
	c->name = strdup(name);
	if (!c->name)
		return -ENOMEM;
	d->n++;
	c->old = old;
	c->new = new;
	err = compare(c);
	if (err)
		return err;
	if (c->added.n || c->removed.n || !old != !new)
		d->changed++;
	return 0;
}

/* Every tag of either file, in name order (both tables are sorted case-insensitively). */
static int diff_all(const struct tag_db *a, const struct tag_db *b, struct tag_diff *d)
{
	size_t i = 0, j = 0;
	int err = 0;

	while (!err && (i < a->n || j < b->n)) {
		int c = i == a->n ? 1 : j == b->n ? -1 : strcasecmp(a->v[i].name, b->v[j].name);
		const struct tag_entry *ea = c <= 0 ? &a->v[i] : NULL,
				       *eb = c >= 0 ? &b->v[j] : NULL;

		err = add_change(d, eb ? eb->name : ea->name, ea, eb);
		i += ea != NULL;
		j += eb != NULL;
	}
	return err;
}

int tags_diff(const struct tag_db *old, const struct tag_db *new, const char *const *names,
	      size_t nnames, struct tag_diff *out)
{
	size_t cap = names ? nnames : old->n + new->n;
	int err = 0;
	bool alias;

	memset(out, 0, sizeof(*out));
	out->v = calloc(cap + 1, sizeof(*out->v));
	if (!out->v)
		return -ENOMEM;
	if (!names)
		return diff_all(old, new, out);
	for (size_t i = 0; i < nnames && !err; i++)
		err = add_change(out, names[i], tags_lookup(old, names[i], &alias),
				 tags_lookup(new, names[i], &alias));
	return err;
}

void tags_diff_free(struct tag_diff *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].name);
		prefix_list_free(&d->v[i].added);
		prefix_list_free(&d->v[i].removed);
	}
	free(d->v);
	memset(d, 0, sizeof(*d));
}

static bool seen(const char **v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(v[i], name))
			return true;
	return false;
}

static void add_names(const struct endpoint *ep, const char **v, size_t *n)
{
	for (size_t i = 0; i < ep->n; i++) {
		const struct ep_item *it = &ep->items[i];

		if (it->kind == EP_TAG && !seen(v, *n, it->name))
			v[(*n)++] = it->name;
	}
}

int tags_policy_names(const struct policy *p, const char ***out, size_t *n)
{
	size_t cap = 0;
	const char **v;

	for (size_t i = 0; i < p->nrules; i++)
		cap += p->rules[i].remote.n + p->rules[i].local.n;
	v = calloc(cap + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	*n = 0;
	for (size_t i = 0; i < p->nrules; i++) {
		add_names(&p->rules[i].remote, v, n);
		add_names(&p->rules[i].local, v, n);
	}
	*out = v;
	return 0;
}
