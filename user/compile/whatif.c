// SPDX-License-Identifier: GPL-2.0-only
/* What a change of policy variables opens and closes, and the variables as compile shows them. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "compile/whatif.h"

struct sbuf {
	char *s;
	size_t n, cap;
	bool oom;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		size_t room = b->cap - b->n;

		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->n : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if ((size_t)n < room) {
			b->n += (size_t)n;
			return;
		}
		char *s = realloc(b->s, b->cap + (size_t)n + 64);

		if (!s) {
			b->oom = true;
			return;
		}
		b->s = s;
		b->cap += (size_t)n + 64;
	}
}

/* "in tcp port 29876-29877 from tag:BatchNodeManagement", the remote items as written. */
static void rule_text(const struct crule *cr, struct sbuf *b)
{
	size_t shown = 0;

	sb_printf(b, "%s %s port ", dir_name(cr->dir), proto_name(cr->proto));
	if (!cr->nports)
		sb_printf(b, "any");
	for (size_t i = 0; i < cr->nports; i++) {
		sb_printf(b, "%s%u", i ? "," : "", cr->ports[i].lo);
		if (cr->ports[i].hi != cr->ports[i].lo)
			sb_printf(b, "-%u", cr->ports[i].hi);
	}
	sb_printf(b, " %s ", cr->dir == AMLG_DIR_OUT ? "to" : "from");
	for (size_t i = 0; i < cr->nres; i++) {
		const struct item_res *r = &cr->res[i];
		const char *set = r->item ? r->item->set : NULL;
		bool dup = false;

		if (r->side != AMLG_SIDE_REMOTE)
			continue;
		/* a set is named once, not item by item */
		for (size_t j = 0; set && j < i; j++)
			dup |= cr->res[j].item && cr->res[j].item->set &&
			       !strcmp(cr->res[j].item->set, set);
		if (dup)
			continue;
		sb_printf(b, "%s%s%s", shown++ ? ", " : "", set ? "@" : "", set ? set : r->text);
	}
	if (!shown)
		sb_printf(b, "{ }"); /* an empty set: the rule matches nothing */
}

/* Every rule of the flow ID, "; "-separated; NULL when there is none (or no memory). */
static char *flow_rules(const struct compiled *c, const char *flow, bool *oom)
{
	struct sbuf b = { 0 };
	size_t n = 0;

	for (size_t i = 0; i < c->nrules; i++) {
		const struct crule *cr = &c->rules[i];

		if (cr->platform || strcmp(cr->flow, flow))
			continue;
		if (n++)
			sb_printf(&b, "; ");
		rule_text(cr, &b);
	}
	if (b.oom) {
		*oom = true;
		free(b.s);
		return NULL;
	}
	return b.s;
}

static const char *noflow_of(const struct compiled *c, const char *flow)
{
	for (size_t i = 0; i < c->nnoflows; i++)
		if (!strcmp(c->noflows[i].flow, flow))
			return c->noflows[i].comment;
	return NULL;
}

static bool seen(const struct whatif *w, const char *flow)
{
	for (size_t i = 0; i < w->n; i++)
		if (!strcmp(w->v[i].flow, flow))
			return true;
	return false;
}

/* The flow IDs of either compile, in the order of a's rules then b's. */
static int compare_flow(const struct compiled *a, const struct compiled *b, const char *flow,
			struct whatif *out)
{
	struct whatif_flow *v, f = { 0 };
	bool oom = false;

	if (!flow[0] || seen(out, flow))
		return 0;
	f.now = flow_rules(a, flow, &oom);
	f.then = flow_rules(b, flow, &oom);
	if (oom)
		goto nomem;
	if (f.now && f.then && !strcmp(f.now, f.then)) {
		free(f.now);
		free(f.then);
		return 0;
	}
	snprintf(f.flow, sizeof(f.flow), "%s", flow);
	f.kind = !f.now ? WHATIF_OPENS : !f.then ? WHATIF_CLOSES : WHATIF_CHANGES;
	f.noflow = !f.now ? noflow_of(a, flow) : !f.then ? noflow_of(b, flow) : NULL;
	v = realloc(out->v, (out->n + 1) * sizeof(*v));
	if (!v)
		goto nomem;
	out->v = v;
	out->v[out->n++] = f;
	return 0;
nomem:
	free(f.now);
	free(f.then);
	return -ENOMEM;
}

int whatif_compare(const struct compiled *a, const struct compiled *b, struct whatif *out)
{
	int err = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; !err && i < a->nrules; i++)
		if (!a->rules[i].platform)
			err = compare_flow(a, b, a->rules[i].flow, out);
	for (size_t i = 0; !err && i < b->nrules; i++)
		if (!b->rules[i].platform)
			err = compare_flow(a, b, b->rules[i].flow, out);
	if (err)
		whatif_free(out);
	return err;
}

void whatif_free(struct whatif *w)
{
	for (size_t i = 0; i < w->n; i++) {
		free(w->v[i].now);
		free(w->v[i].then);
	}
	free(w->v);
	memset(w, 0, sizeof(*w));
}

static const char *value_of(const struct policy *p, const char *name)
{
	for (size_t i = 0; i < p->nvars; i++)
		if (!strcmp(p->vars[i].name, name))
			return p->vars[i].value;
	return NULL;
}

void whatif_heading(const struct policy *p, const struct var_def *set, size_t nset, char *buf,
		    size_t sz)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < nset && n < sz; i++) {
		const char *now = value_of(p, set[i].name);

		n += (size_t)snprintf(buf + n, sz - n, "%s%s=%s (now %s)", i ? ", " : "",
				      set[i].name, set[i].value, now ? now : "undefined");
	}
}

static const char *const kind_names[] = { "opens", "closes", "changes" };

void whatif_print(const struct whatif *w, const char *heading, FILE *f)
{
	fprintf(f, "\nwhat if %s: %zu flow ID%s opened, closed or changed\n", heading, w->n,
		w->n == 1 ? "" : "s");
	for (size_t i = 0; i < w->n; i++) {
		const struct whatif_flow *x = &w->v[i];

		fprintf(f, "  %-7s %-24s %s\n", kind_names[x->kind], x->flow,
			x->kind == WHATIF_CLOSES ? x->now : x->then);
		if (x->kind == WHATIF_CHANGES)
			fprintf(f, "  %-7s %-24s was: %s\n", "", "", x->now);
		if (x->noflow)
			fprintf(f, "  %-7s %-24s %s: noflow \"%s\"\n", "", "",
				x->kind == WHATIF_OPENS ? "now" : "then", x->noflow);
	}
}

json_t *whatif_json(const struct whatif *w, const struct policy *p, const struct var_def *set,
		    size_t nset)
{
	json_t *vars = json_array(), *flows = json_array();

	for (size_t i = 0; i < nset; i++) {
		const char *now = value_of(p, set[i].name);

		json_array_append_new(vars, json_pack("{s:s, s:s, s:s?}", "name", set[i].name,
						      "value", set[i].value, "now", now));
	}
	for (size_t i = 0; i < w->n; i++) {
		const struct whatif_flow *x = &w->v[i];

		json_array_append_new(flows,
				      json_pack("{s:s, s:s, s:s?, s:s?, s:s?}", "flow", x->flow,
						"change", kind_names[x->kind], "now", x->now,
						"then", x->then, "noflow", x->noflow));
	}
	return json_pack("{s:o, s:o}", "set", vars, "flows", flows);
}

void policy_vars_print(const struct policy *p, FILE *f)
{
	size_t n = 0;

	for (size_t i = 0; i < p->nvars; i++) {
		const struct policy_var *v = &p->vars[i];

		if (!v->value)
			continue;
		fprintf(f, "%s%s=%s%s", n++ ? ", " : "variables: ", v->name, v->value,
			v->from_cli ? " (--var)" : "");
	}
	if (n)
		fputc('\n', f);
}

json_t *policy_vars_json(const struct policy *p)
{
	json_t *a = json_array();

	for (size_t i = 0; i < p->nvars; i++) {
		const struct policy_var *v = &p->vars[i];

		if (v->value)
			json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "name", v->name,
							   "value", v->value, "from",
							   v->from_cli ? "var" : "define"));
	}
	return a;
}
