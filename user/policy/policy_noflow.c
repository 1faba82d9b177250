// SPDX-License-Identifier: GPL-2.0-only
/*
 * noflow FLOW-ID comment "reason": a documented flow ID that this policy has no packet rule
 * for, and why (PROFILING-NONE is configuration, not traffic; Front Door is not needed in
 * Azure China; a host group that is switched off).  It keeps every documented flow accounted
 * for in every policy: a flow is either allowed by a rule or declared absent, with a reason,
 * never just missing.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy_int.h"

#define NOFLOW_USAGE "noflow FLOW-ID comment \"why this flow has no packet rule\""

static bool blank(const char *s)
{
	for (; *s; s++)
		if (!isspace((unsigned char)*s))
			return false;
	return true;
}

static const struct noflow *find(const struct policy *pol, const char *flow)
{
	for (size_t i = 0; i < pol->nnoflows; i++)
		if (!strcmp(pol->noflows[i].flow, flow))
			return &pol->noflows[i];
	return NULL;
}

static int add(struct pctx *c, char *flow, struct srcloc loc, char *comment)
{
	struct policy *pol = c->p->pol;
	const struct noflow *old = find(pol, flow);
	struct noflow *v;
	char *origin;

	if (old) {
		diag_error(c->p->d, loc, "flow ID '%s' is already declared 'noflow'", flow);
		diag_note(c->p->d, old->loc, "first declared here");
		return -EINVAL;
	}
	if (asprintf(&origin, "%s:%u", loc.file ? loc.file : "?", loc.line) < 0)
		return -ENOMEM;
	v = realloc(pol->noflows, (pol->nnoflows + 1) * sizeof(*v));
	if (!v) {
		free(origin);
		return -ENOMEM;
	}
	pol->noflows = v;
	v[pol->nnoflows++] =
		(struct noflow){ .flow = flow, .comment = comment, .origin = origin, .loc = loc };
	return 0;
}

/* The reason: comment "text", required and not blank. */
static int parse_reason(struct pctx *c, char **comment)
{
	int err;

	if (!pol_is_word(c, "comment"))
		return pol_expected(c, "'comment' and the reason", NOFLOW_USAGE);
	err = pol_advance(c);
	if (err)
		return err;
	if (c->tok.kind != T_STRING)
		return pol_expected(c, "a quoted string", NOFLOW_USAGE);
	if (!c->text) {
		c->failed = true; /* an undefined variable, reported */
	} else if (blank(c->text)) {
		diag_error(c->p->d, c->tok.loc, "a 'noflow' needs a reason");
		diag_hint(c->p->d,
			  "say why the flow has no packet rule, e.g. comment \"configuration "
			  "only: the service reaches storage over the Azure backbone\"");
		c->failed = true;
	} else {
		*comment = strdup(c->text);
		if (!*comment)
			return -ENOMEM;
	}
	return pol_advance(c);
}

int pol_parse_noflow(struct pctx *c)
{
	struct rule id = { 0 };
	char *comment = NULL;
	int err;

	err = pol_advance(c);
	err = err ? err : pol_parse_flow(c, &id);
	err = err ? err : parse_reason(c, &comment);
	err = err ? err : pol_expect_end(c);
	if (!err && !c->failed && id.flow && comment) {
		err = add(c, id.flow, id.flow_loc, comment);
		if (!err)
			return 0;
		c->failed = err == -EINVAL;
		err = err == -EINVAL ? 0 : err;
	}
	free(id.flow);
	free(comment);
	return err;
}

void pol_noflow_check(struct parser *p)
{
	const struct policy *pol = p->pol;

	for (size_t i = 0; i < pol->nnoflows; i++) {
		const struct noflow *nf = &pol->noflows[i];

		for (size_t j = 0; j < pol->nrules; j++) {
			const struct rule *r = &pol->rules[j];

			if (!r->flow || strcmp(r->flow, nf->flow))
				continue;
			diag_error(p->d, nf->loc,
				   "flow ID '%s' is declared 'noflow' but a rule "
				   "implements it",
				   nf->flow);
			diag_hint(p->d, "remove the 'noflow' or the rule");
			diag_note(p->d, r->flow_loc, "the rule with flow %s", nf->flow);
			break;
		}
	}
}

void pol_noflows_free(struct noflow *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].flow);
		free(v[i].comment);
		free(v[i].origin);
	}
	free(v);
}
