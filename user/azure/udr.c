// SPDX-License-Identifier: GPL-2.0-only
/* The forced-tunneling route list: regional BatchNodeManagement and AzureMachineLearning. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/prefix_set.h"
#include "azure/udr.h"

static const char *const services[2] = { "BatchNodeManagement", "AzureMachineLearning" };

static const char *region_of(const struct policy *p)
{
	for (size_t i = 0; i < p->nvars; i++)
		if (!strcmp(p->vars[i].name, "region"))
			return p->vars[i].value;
	return NULL;
}

/* Is the published tag e the service or one of its regional tags? */
static bool of_service(const struct tag_entry *e, const char *svc)
{
	size_t n = strlen(svc);

	return !strncasecmp(e->name, svc, n) && (!e->name[n] || e->name[n] == '.');
}

static bool uses(const struct policy *p, const struct tag_db *db, const char *svc)
{
	for (size_t i = 0; i < p->nrules; i++) {
		const struct endpoint *eps[2] = { &p->rules[i].remote, &p->rules[i].local };

		for (int s = 0; s < 2; s++) {
			for (size_t j = 0; j < eps[s]->n; j++) {
				const struct ep_item *it = &eps[s]->items[j];
				const struct tag_entry *e;
				bool alias;

				if (it->kind != EP_TAG)
					continue;
				e = tags_lookup(db, it->name, &alias);
				if (e && of_service(e, svc))
					return true;
			}
		}
	}
	return false;
}

static int add_routes(struct udr_plan *u, const struct tag_entry *e, struct prefix_list *taken,
		      bool ipv6)
{
	struct prefix_list l = { 0 }, fresh = { 0 };
	unsigned num = 0;
	struct udr_route *v;
	int err;

	err = tags_prefixes(e, &l);
	if (!err)
		err = prefix_list_subtract(&l, taken, &fresh);
	if (!err)
		err = prefix_list_append(taken, &l);
	v = err ? NULL : realloc(u->v, (u->n + fresh.n + 1) * sizeof(*v));
	if (!err && !v)
		err = -ENOMEM;
	for (size_t i = 0; !err && i < fresh.n; i++) {
		struct udr_route *r;

		if (fresh.v[i].family == 6 && !ipv6) {
			u->skipped6++;
			continue;
		}
		r = &v[u->n++];
		r->pfx = fresh.v[i];
		r->tag = e->name;
		snprintf(r->name, sizeof(r->name), "%.70s-%03u", e->name, ++num);
		if (r->pfx.family == 4)
			u->n4++;
		else
			u->n6++;
	}
	if (v)
		u->v = v;
	prefix_list_free(&l);
	prefix_list_free(&fresh);
	return err;
}

int udr_plan(const struct policy *p, const struct tag_db *db, bool ipv6, struct udr_plan *out,
	     char *msg, size_t msz, char *hint, size_t hsz)
{
	struct prefix_list taken = { 0 };
	char name[256];
	int err = 0;

	memset(out, 0, sizeof(*out));
	msg[0] = hint[0] = '\0';
	out->region = region_of(p);
	/* The shipped policies whose flows are global say "define region = unused". */
	if (!out->region || !out->region[0] || !strcmp(out->region, "unused")) {
		snprintf(msg, msz, "the policy sets no region");
		snprintf(hint, hsz, "give the compute's region: --var region=REGION");
		return -EINVAL;
	}
	for (int s = 0; s < 2 && !err; s++) {
		const struct tag_entry *e;
		bool alias;

		if (!uses(p, db, services[s]))
			continue;
		snprintf(name, sizeof(name), "%s.%s", services[s], out->region);
		e = tags_lookup(db, name, &alias);
		if (!e) {
			tags_explain_unknown(db, name, msg, msz, hint, hsz);
			err = -EINVAL;
			break;
		}
		out->tags[s] = e->name;
		err = add_routes(out, e, &taken, ipv6);
	}
	prefix_list_free(&taken);
	if (err)
		udr_plan_free(out);
	return err;
}

void udr_plan_free(struct udr_plan *u)
{
	free(u->v);
	u->v = NULL;
	u->n = u->n4 = u->n6 = 0;
}
