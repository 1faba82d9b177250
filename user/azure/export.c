// SPDX-License-Identifier: GPL-2.0-only
/* What the export targets share: the gap list, tag names and a rule's addresses by kind. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azure/export.h"
#include "export_int.h"

static int gap_add(struct export_gap **v, size_t *n, const struct crule *r, const char *what,
		   const char *why)
{
	struct export_gap *nv = realloc(*v, (*n + 1) * sizeof(**v)), *g;

	if (!nv)
		return -ENOMEM;
	*v = nv;
	g = &nv[*n];
	memset(g, 0, sizeof(*g));
	snprintf(g->flow, sizeof(g->flow), "%s", r ? r->flow : "");
	snprintf(g->origin, sizeof(g->origin), "%s", r ? r->origin : "");
	g->what = strdup(what ? what : "");
	g->why = strdup(why);
	if (!g->what || !g->why) {
		free(g->what);
		free(g->why);
		return -ENOMEM;
	}
	(*n)++;
	return 0;
}

int export_gap(struct export_ctx *x, const struct crule *r, bool partial, const char *what,
	       const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (partial)
		return gap_add(&x->gaps, &x->ngaps, r, what, why);
	return gap_add(&x->notes, &x->nnotes, r, what, why);
}

static void gaps_free(struct export_gap *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].what);
		free(v[i].why);
	}
	free(v);
}

void export_ctx_free(struct export_ctx *x)
{
	gaps_free(x->gaps, x->ngaps);
	gaps_free(x->notes, x->nnotes);
	x->gaps = x->notes = NULL;
	x->ngaps = x->nnotes = 0;
}

const char *export_tag_name(const struct export_ctx *x, const struct item_res *ir)
{
	const struct tag_entry *e;
	bool alias;

	if (!ir->item)
		return ir->text + 4; /* "tag:" */
	if (x->db) {
		e = tags_lookup(x->db, ir->item->name, &alias);
		if (e)
			return e->name;
	}
	return ir->item->name;
}

int xaddrs_get(const struct export_ctx *x, const struct crule *r, uint8_t side, bool expand,
	       struct xaddrs *a)
{
	memset(a, 0, sizeof(*a));
	if (side == AMLG_SIDE_LOCAL && !r->has_local) {
		a->any = true;
		return 0;
	}
	for (size_t i = 0; i < r->nres; i++) {
		const struct item_res *ir = &r->res[i];
		const char *name;
		bool dup = false;

		if (ir->side != side)
			continue;
		switch (ir->kind) {
		case EP_ANY:
			a->any = true;
			break;
		case EP_HOST:
			a->nhosts++;
			break;
		case EP_TAG:
			if (expand)
				goto prefixes;
			name = export_tag_name(x, ir);
			for (size_t j = 0; j < a->ntags; j++)
				dup |= !strcmp(a->tags[j], name);
			if (dup)
				break;
			if (a->ntags == XADDRS_TAGS_MAX)
				return -E2BIG;
			a->tags[a->ntags++] = name;
			break;
		case EP_CIDR:
prefixes:
			for (size_t j = 0; j < ir->pfx.n; j++)
				if (prefix_list_add(&a->pfx[ir->pfx.v[j].family == 6],
						    &ir->pfx.v[j]))
					return -ENOMEM;
			break;
		}
	}
	prefix_list_merge(&a->pfx[0]);
	prefix_list_merge(&a->pfx[1]);
	return 0;
}

void xaddrs_free(struct xaddrs *a)
{
	prefix_list_free(&a->pfx[0]);
	prefix_list_free(&a->pfx[1]);
}

void export_rule_name(const struct crule *r, char *buf, size_t sz)
{
	const char *colon = strrchr(r->origin, ':');

	if (r->flow[0])
		snprintf(buf, sz, "%s", r->flow);
	else
		snprintf(buf, sz, "line-%s", colon ? colon + 1 : r->origin);
}

void export_describe(const struct crule *r, const char *extra, char *buf, size_t sz)
{
	const char *comment = r->src && r->src->comment ? r->src->comment : NULL;
	size_t n;

	snprintf(buf, sz, "%s%s%s%s%s (%s)", r->flow[0] ? r->flow : "no flow ID",
		 comment ? ": " : "", comment ? comment : "", extra ? "; " : "", extra ? extra : "",
		 r->origin);
	/* Cut on a character boundary: never in the middle of a UTF-8 sequence. */
	n = strlen(buf);
	if (n + 1 == sz) {
		while (n > 0 && ((unsigned char)buf[n - 1] & 0xc0) == 0x80)
			n--;
		if (n > 0 && ((unsigned char)buf[n - 1] & 0x80))
			n--;
		buf[n] = '\0';
	}
}

void export_port_str(const struct port_range *p, char *buf, size_t sz)
{
	if (p->lo == p->hi)
		snprintf(buf, sz, "%u", p->lo);
	else
		snprintf(buf, sz, "%u-%u", p->lo, p->hi);
}

int xaddrs_both(const struct export_ctx *x, const struct crule *r, struct xaddrs *local,
		struct xaddrs *remote)
{
	int err = xaddrs_get(x, r, AMLG_SIDE_LOCAL, false, local);

	return err ? err : xaddrs_get(x, r, AMLG_SIDE_REMOTE, false, remote);
}
