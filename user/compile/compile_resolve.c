// SPDX-License-Identifier: GPL-2.0-only
/*
 * Endpoint resolution: every item of a rule's remote and local endpoint becomes prefixes (any,
 * CIDRs, service tags through the tag resolver), each side is merged, and a side that matches no
 * address is reported.  A rule that matches nothing is almost always a mistake (a tag missing
 * from this cloud, an empty set), and since its bit would simply never be set, it would fail
 * silently: so it is an error unless the rule says "optional".
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile_internal.h"

#define EMPTY_SHOWN 3 /* items named in a "matches no address" message */

static const struct prefix any4 = { .family = 4, .len = 0 };
static const struct prefix any6 = { .family = 6, .len = 0 };

static char *strfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *strfmt(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	s = malloc((size_t)n + 1);
	if (!s)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

static char *item_text(const struct ep_item *it)
{
	char buf[PREFIX_STRLEN];

	switch (it->kind) {
	case EP_ANY:
		return strfmt("any");
	case EP_CIDR:
		return strfmt("%s", prefix_str(&it->pfx, buf, sizeof(buf)));
	case EP_TAG:
		return strfmt("tag:%s", it->name);
	case EP_HOST:
		return strfmt("host:%s", it->name);
	}
	return strfmt("?");
}

/* How resolving one side went, for the checks after merging. */
struct side_result {
	size_t nitems;
	size_t nhosts;
	bool failed; /* an item could not be resolved; that error is enough */
};

static int resolve_tag(const struct ep_item *it, const struct tag_resolver *tags,
		       struct prefix_list *out, struct item_res *res, struct diag *d,
		       struct side_result *sr)
{
	size_t nerrors = d->nerrors;
	int err;

	if (!tags) {
		diag_error(d, it->loc, "service tag '%s' needs a tag file", it->name);
		diag_hint(d, "give --tags FILE or a 'tags \"FILE\"' statement");
		sr->failed = true;
		return 0;
	}
	err = tags->resolve(tags->ctx, it, out, &res->note, d);
	if (err == -ENOMEM)
		return err;
	if (err) {
		/* The resolver promises a diagnostic; never fail without one. */
		if (d->nerrors == nerrors)
			diag_error(d, it->loc, "cannot resolve service tag '%s': %s", it->name,
				   strerror(-err));
		sr->failed = true;
	}
	return 0;
}

static int resolve_item(const struct ep_item *it, const struct tag_resolver *tags,
			struct prefix_list *out, struct item_res *res, struct diag *d,
			struct side_result *sr)
{
	size_t first = out->n;
	int err = 0;

	res->kind = it->kind;
	res->text = item_text(it);
	if (!res->text)
		return -ENOMEM;
	switch (it->kind) {
	case EP_ANY:
		err = prefix_list_add(out, &any4);
		if (!err)
			err = prefix_list_add(out, &any6);
		break;
	case EP_CIDR:
		err = prefix_list_add(out, &it->pfx);
		break;
	case EP_TAG:
		err = resolve_tag(it, tags, out, res, d, sr);
		break;
	case EP_HOST:
		/* Addresses come from DNS answers at run time (compile_hosts.c, bpf/dns.h). */
		sr->nhosts++;
		if (res->side == AMLG_SIDE_LOCAL) {
			diag_error(d, it->loc, "host name '%s' as a local endpoint", it->name);
			diag_hint(d, "host names are learned from the answers the protected side "
				     "receives: use them for the remote endpoint");
			sr->failed = true;
		}
		break;
	}
	if (err)
		return err;
	/* Count only what this item appended: a side may have thousands of items. */
	for (size_t i = first; i < out->n; i++) {
		res->n4 += out->v[i].family == 4;
		err = prefix_list_add(&res->pfx, &out->v[i]);
		if (err)
			return err;
	}
	res->n6 = out->n - first - res->n4;
	prefix_list_merge(&res->pfx);
	return 0;
}

static int resolve_side(struct crule *cr, const struct endpoint *ep, uint8_t side,
			const struct tag_resolver *tags, struct diag *d, struct side_result *sr)
{
	struct prefix_list *out = side == AMLG_SIDE_LOCAL ? &cr->local : &cr->remote;

	sr->nitems = ep->n;
	for (size_t i = 0; i < ep->n; i++) {
		struct item_res *res = &cr->res[cr->nres++];
		int err;

		res->item = cr->platform ? NULL : &ep->items[i];
		res->side = side;
		err = resolve_item(&ep->items[i], tags, out, res, d, sr);
		if (err)
			return err;
	}
	/* Nothing to merge in an empty side, and prefix.c would qsort(NULL, 0). */
	if (out->n)
		prefix_list_merge(out);
	cr->nhosts += sr->nhosts;
	return 0;
}

static const char *empty_why(const struct item_res *res)
{
	switch (res->kind) {
	case EP_TAG:
		return "has no prefixes";
	case EP_HOST:
		return "has only addresses learned from DNS";
	default:
		return "resolved to nothing";
	}
}

/* Name the items of a side that came out empty: "tag:X has no prefixes, host:y ...". */
static void describe_empty(const struct crule *cr, uint8_t side, char *buf, size_t sz)
{
	size_t len = 0, shown = 0, more = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < cr->nres; i++) {
		const struct item_res *res = &cr->res[i];
		const char *set = res->item ? res->item->set : NULL;

		if (res->side != side || res->n4 + res->n6)
			continue;
		if (shown == EMPTY_SHOWN || len >= sz) {
			more++;
			continue;
		}
		len += (size_t)snprintf(buf + len, sz - len, "%s%s%s%s%s %s", shown ? ", " : "",
					res->text, set ? " (in @" : "", set ? set : "",
					set ? ")" : "", empty_why(res));
		shown++;
	}
	if (!shown)
		snprintf(buf, sz, "the %s endpoint is an empty set",
			 side == AMLG_SIDE_LOCAL ? "local" : "remote");
	else if (more && len < sz)
		snprintf(buf + len, sz - len, ", and %zu more", more);
}

/*
 * A side with no prefix: an error unless the rule is optional, or has host items (their
 * addresses are learned from DNS while traffic flows).
 */
static void check_empty(const struct crule *cr, const struct rule *r, uint8_t side,
			const struct side_result *sr, struct diag *d)
{
	const struct prefix_list *l = side == AMLG_SIDE_LOCAL ? &cr->local : &cr->remote;
	const char *what = side == AMLG_SIDE_LOCAL ? "local address" : "address";
	char why[256];

	if (l->n || sr->failed)
		return;
	describe_empty(cr, side, why, sizeof(why));
	if (sr->nhosts) {
		return;
	} else if (r->optional) {
		diag_warning(d, r->loc, "optional rule matches no %s: %s", what, why);
	} else {
		diag_error(d, r->loc, "rule matches no %s: %s", what, why);
		diag_hint(d, "mark the rule 'optional' if it may match nothing, e.g. a tag that "
			     "this cloud lacks");
	}
}

/* Remote IPv4 only and local IPv6 only (or the reverse) can never both match one packet. */
static void check_families(const struct crule *cr, const struct rule *r, struct diag *d)
{
	size_t r4 = prefix_list_count(&cr->remote, 4), r6 = cr->remote.n - r4;
	size_t l4 = prefix_list_count(&cr->local, 4), l6 = cr->local.n - l4;

	if (!cr->has_local || !cr->remote.n || !cr->local.n)
		return;
	if ((!r6 && !l4) || (!r4 && !l6))
		diag_warning(d, r->loc,
			     "rule can never match: its remote side is IPv%d only and "
			     "its local side IPv%d only",
			     r4 ? 4 : 6, l4 ? 4 : 6);
}

int compile_resolve(struct crule *cr, const struct rule *r, const struct tag_resolver *tags,
		    struct diag *d)
{
	struct side_result rs = { 0 }, ls = { 0 };
	size_t nitems = r->remote.n + (r->has_local ? r->local.n : 0);
	int err;

	cr->has_local = r->has_local;
	cr->res = calloc(nitems ? nitems : 1, sizeof(*cr->res));
	if (!cr->res)
		return -ENOMEM;
	err = resolve_side(cr, &r->remote, AMLG_SIDE_REMOTE, tags, d, &rs);
	if (!err && r->has_local)
		err = resolve_side(cr, &r->local, AMLG_SIDE_LOCAL, tags, d, &ls);
	if (err)
		return err;
	check_empty(cr, r, AMLG_SIDE_REMOTE, &rs, d);
	if (r->has_local)
		check_empty(cr, r, AMLG_SIDE_LOCAL, &ls, d);
	check_families(cr, r, d);
	return 0;
}
