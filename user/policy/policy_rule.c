// SPDX-License-Identifier: GPL-2.0-only
/*
 * allow rules: direction, protocol, ports, endpoints and the rule options.  A bad value (a port out
 * of range, an unknown set) is reported and the rule parsed on, so that its other mistakes are
 * found too; the rule is then dropped.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bpf/amlguard_abi.h"
#include "policy_int.h"
#include "base/vec.h"

const char *const policy_protocols[] = { "tcp", "udp", "icmp", "icmpv6", "any", NULL };
static const int proto_values[] = { AMLG_PROTO_TCP, AMLG_PROTO_UDP, AMLG_PROTO_ICMP,
				    AMLG_PROTO_ICMPV6, AMLG_PROTO_ANY };
static const char *const directions[] = { "out", "in" };
static const char *const rule_options[] = { "flow", "optional", "comment", "port", "to", "from" };

const char *proto_name(int proto)
{
	for (size_t i = 0; i < ARRAY_SIZE(proto_values); i++)
		if (proto_values[i] == proto)
			return policy_protocols[i];
	return "unknown";
}

const char *dir_name(int dir)
{
	return dir == AMLG_DIR_IN ? "in" : dir == AMLG_DIR_OUT ? "out" : "unknown";
}

/* ---- ports ----------------------------------------------------------------------------------- */

struct port_buf {
	struct port_range *v;
	size_t n, cap;
};

static const struct {
	const char *name;
	unsigned port;
} services[] = {
	{ "ssh", 22 },	  { "dns", 53 },  { "domain", 53 },	   { "http", 80 },
	{ "https", 443 }, { "smb", 445 }, { "microsoft-ds", 445 },
};

/* A decimal port: -EINVAL if it is not a number, -ERANGE if it is outside 1..65535. */
static int port_value(const char *s, size_t n, unsigned *out)
{
	unsigned long v = 0;

	if (!n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -EINVAL;
		if (v <= 65535)
			v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -ERANGE;
	*out = (unsigned)v;
	return 0;
}

static struct srcloc part_loc(const struct pctx *c, size_t off, size_t len)
{
	struct srcloc loc = c->tok.loc;

	if (!c->vars && off + len <= loc.len) {
		loc.col += (unsigned)off;
		loc.len = (unsigned)len;
	}
	return loc;
}

static void bad_port(struct pctx *c, const char *t)
{
	diag_error(c->p->d, c->tok.loc, "invalid port '%s'", t);
	for (size_t i = 0; i < ARRAY_SIZE(services); i++) {
		if (!strcasecmp(t, services[i].name)) {
			diag_hint(c->p->d, "did you mean %u?", services[i].port);
			return;
		}
	}
	diag_hint(c->p->d, "a port is a number from 1 to 65535, a range like 8000-8100 or a list "
			   "like { 80, 443 }");
}

/* 443 or 8000-8100, appended to the port_buf. */
static int port_item(struct pctx *c, void *arg)
{
	struct port_buf *pb = arg;
	const char *t = c->text, *dash = strchr(t, '-');
	size_t n1 = dash ? (size_t)(dash - t) : strlen(t);
	unsigned lo = 0, hi = 0;
	int e1, e2;

	if (!strcmp(t, "any")) {
		diag_error(c->p->d, c->tok.loc, "'any' cannot be part of a port list");
		diag_hint(c->p->d, "write 'port any', or leave 'port' out");
		return -EINVAL;
	}
	e1 = port_value(t, n1, &lo);
	e2 = dash ? port_value(dash + 1, strlen(dash + 1), &hi) : 0;
	if (e1 == -EINVAL || e2 == -EINVAL) {
		bad_port(c, t);
		return -EINVAL;
	}
	if (e1 || e2) {
		size_t off = e1 ? 0 : n1 + 1, len = e1 ? n1 : strlen(dash + 1);

		diag_error(c->p->d, part_loc(c, off, len), "port %.*s is out of range 1-65535",
			   (int)len, t + off);
		return -EINVAL;
	}
	if (!dash)
		hi = lo;
	if (lo > hi) {
		diag_error(c->p->d, c->tok.loc, "invalid port range %s: %u is greater than %u", t,
			   lo, hi);
		diag_hint(c->p->d, "did you mean %u-%u?", hi, lo);
		return -EINVAL;
	}
	if (VEC_RESERVE(pb->v, pb->n, pb->cap, 4))
		return -ENOMEM;
	pb->v[pb->n++] = (struct port_range){ .lo = (uint16_t)lo, .hi = (uint16_t)hi };
	return 0;
}

static int range_cmp(const void *a, const void *b)
{
	const struct port_range *x = a, *y = b;

	return (int)x->lo - (int)y->lo;
}

/* Sort and join overlapping or adjacent ranges: { 443, 80, 81-90 } is 80-90, 443. */
static void merge_ports(struct port_range *v, size_t *n)
{
	size_t out = 0;

	if (!*n)
		return;
	qsort(v, *n, sizeof(*v), range_cmp);
	for (size_t i = 1; i < *n; i++) {
		if ((unsigned)v[i].lo <= (unsigned)v[out].hi + 1) {
			if (v[i].hi > v[out].hi)
				v[out].hi = v[i].hi;
		} else {
			v[++out] = v[i];
		}
	}
	*n = out + 1;
}

/* port PORTS, the current token being "port". */
static int parse_ports(struct pctx *c, struct rule *r)
{
	struct port_buf pb = { 0 };
	int err;

	if (r->proto == AMLG_PROTO_ICMP || r->proto == AMLG_PROTO_ICMPV6) {
		diag_error(c->p->d, c->tok.loc, "ports only apply to tcp, udp or any");
		diag_hint(c->p->d, "remove 'port' from this %s rule", proto_name(r->proto));
		c->failed = true;
	}
	err = pol_advance(c);
	if (err)
		return err;
	if (pol_is_word(c, "any")) {
		err = pol_advance(c);
	} else if (c->tok.kind == T_WORD) {
		err = c->text ? port_item(c, &pb) : -EINVAL;
		c->failed |= err == -EINVAL;
		err = err == -EINVAL ? 0 : err;
		err = err ? err : pol_advance(c);
	} else if (c->tok.kind == T_LBRACE) {
		err = pol_parse_list(c, port_item, &pb, "a port", false);
	} else {
		err = pol_expected(c, "a port, a range or a { } list", NULL);
	}
	merge_ports(pb.v, &pb.n);
	r->ports = pb.v;
	r->nports = pb.n;
	return err;
}

/* ---- endpoints ------------------------------------------------------------------------------- */

static int ep_item_fn(struct pctx *c, void *arg)
{
	return pol_ep_parse_item(c, arg);
}

/* ENDPOINTS: one endpoint or a { } list of them. */
int pol_parse_endpoints(struct pctx *c, struct ep_buf *b, bool allow_empty)
{
	int err;

	if (c->tok.kind == T_LBRACE)
		return pol_parse_list(c, ep_item_fn, b, "an endpoint", allow_empty);
	if (c->tok.kind != T_WORD)
		return pol_expected(c, "an endpoint", NULL);
	err = c->text ? pol_ep_parse_item(c, b) : -EINVAL;
	if (err == -ENOMEM)
		return err;
	c->failed |= err != 0;
	return pol_advance(c);
}

static void take_endpoint(struct endpoint *e, struct ep_buf *b)
{
	e->items = b->v;
	e->n = b->n;
	memset(b, 0, sizeof(*b));
}

/* ---- allow ----------------------------------------------------------------------------------- */

static void rule_clear(struct rule *r)
{
	free(r->ports);
	pol_ep_items_free(r->remote.items, r->remote.n);
	pol_ep_items_free(r->local.items, r->local.n);
	free(r->flow);
	free(r->comment);
	memset(r, 0, sizeof(*r));
}

static int add_rule(struct policy *pol, struct rule *r)
{
	struct rule *v = realloc(pol->rules, (pol->nrules + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	pol->rules = v;
	pol->rules[pol->nrules++] = *r;
	memset(r, 0, sizeof(*r));
	return 0;
}

static int parse_direction(struct pctx *c, struct rule *r)
{
	int i;

	if (c->tok.kind != T_WORD || !c->text)
		return pol_expected(c, "'out' or 'in'", NULL);
	i = pol_lookup(c->text, directions, ARRAY_SIZE(directions));
	if (i >= 0) {
		r->dir = i == 0 ? AMLG_DIR_OUT : AMLG_DIR_IN;
		return pol_advance(c);
	}
	if (pol_lookup(c->text, policy_protocols, ARRAY_SIZE(proto_values)) >= 0) {
		diag_error(c->p->d, c->tok.loc, "expected 'out' or 'in', got '%s'", c->text);
		diag_hint(c->p->d, "the direction comes first: allow out %s ...", c->text);
		return -EINVAL;
	}
	diag_error(c->p->d, c->tok.loc, "unknown direction '%s'", c->text);
	pol_hint_suggest(
		c, c->text, directions, ARRAY_SIZE(directions),
		"a rule is 'allow out ...' (the protected side initiates) or 'allow in ...'");
	return -EINVAL;
}

static int parse_proto(struct pctx *c, struct rule *r)
{
	int i;

	if (c->tok.kind != T_WORD || !c->text)
		return pol_expected(c, "a protocol", NULL);
	i = pol_lookup(c->text, policy_protocols, ARRAY_SIZE(proto_values));
	if (i >= 0) {
		r->proto = (uint8_t)proto_values[i];
		return pol_advance(c);
	}
	if (pol_lookup(c->text, rule_options, ARRAY_SIZE(rule_options)) >= 0) {
		diag_error(c->p->d, c->tok.loc, "expected a protocol before '%s'", c->text);
		diag_hint(c->p->d, "the protocols are tcp, udp, icmp, icmpv6 and any");
		return -EINVAL;
	}
	diag_error(c->p->d, c->tok.loc, "unknown protocol '%s'", c->text);
	pol_hint_suggest(c, c->text, policy_protocols, ARRAY_SIZE(proto_values),
			 "the protocols are tcp, udp, icmp, icmpv6 and any");
	return -EINVAL;
}

static bool endpoint_like(const char *w)
{
	return !strcmp(w, "any") || w[0] == '@' || !strncmp(w, "tag:", 4) ||
	       !strncmp(w, "host:", 5) || isdigit((unsigned char)w[0]) || strchr(w, ':');
}

/* The remote side: "to" for out rules, "from" for in rules. */
static int parse_remote(struct pctx *c, struct rule *r, const char *rkw, const char *lkw)
{
	struct ep_buf b = { 0 };
	int err;

	if (!pol_is_word(c, rkw)) {
		if (pol_at_end(c) || c->tok.kind != T_WORD || !c->text)
			return pol_expected(c,
					    r->dir == AMLG_DIR_OUT ?
						    "'to' and the remote endpoint" :
						    "'from' and the remote endpoint",
					    NULL);
		if (!strcmp(c->text, "port")) {
			diag_error(c->p->d, c->tok.loc, "'port' is given twice");
			diag_hint(c->p->d, "list several ports as { 80, 443 }");
			return -EINVAL;
		}
		diag_error(c->p->d, c->tok.loc, "expected '%s', got '%s'", rkw, c->text);
		if (!strcmp(c->text, lkw) && r->dir == AMLG_DIR_OUT)
			diag_hint(c->p->d,
				  "an 'out' rule names the remote endpoint first, with 'to'; "
				  "'from' may follow for the local side: allow out %s to "
				  "REMOTE from LOCAL",
				  proto_name(r->proto));
		else if (!strcmp(c->text, lkw))
			diag_hint(c->p->d,
				  "an 'in' rule names the remote endpoint first, with "
				  "'from'; 'to' may follow for the local side: allow in %s "
				  "from REMOTE to LOCAL",
				  proto_name(r->proto));
		else if (endpoint_like(c->text))
			diag_hint(c->p->d, "write '%s' before the remote endpoint", rkw);
		else
			pol_hint_suggest(c, c->text, &rkw, 1, NULL);
		return -EINVAL;
	}
	err = pol_advance(c);
	err = err ? err : pol_parse_endpoints(c, &b, false);
	take_endpoint(&r->remote, &b);
	return err;
}

enum { SEEN_LOCAL = 1, SEEN_FLOW = 2, SEEN_OPTIONAL = 4, SEEN_COMMENT = 8 };

static bool once(struct pctx *c, unsigned *seen, unsigned bit)
{
	if (!(*seen & bit)) {
		*seen |= bit;
		return true;
	}
	diag_error(c->p->d, c->tok.loc, "'%s' is given twice", c->text);
	diag_hint(c->p->d, "each part of a rule may appear once");
	return false;
}

static bool valid_flow(const char *s)
{
	if (!isupper((unsigned char)*s) && !isdigit((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!isupper((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '-' &&
		    *s != '_')
			return false;
	return true;
}

/* flow FLOW-ID, the current token being the ID (also the ID of a noflow statement). */
int pol_parse_flow(struct pctx *c, struct rule *r)
{
	char *up;

	if (c->tok.kind != T_WORD && c->tok.kind != T_STRING)
		return pol_expected(c, "a flow ID", NULL);
	r->flow_loc = c->tok.loc;
	if (!c->text) {
		c->failed = true; /* an undefined variable, reported */
	} else if (strlen(c->text) > POLICY_FLOW_MAX) {
		diag_error(c->p->d, c->tok.loc,
			   "flow ID '%s' is %zu characters long; the limit is %d", c->text,
			   strlen(c->text), POLICY_FLOW_MAX);
		c->failed = true;
	} else if (!valid_flow(c->text)) {
		diag_error(c->p->d, c->tok.loc, "invalid flow ID '%s'", c->text);
		up = strdup(c->text);
		if (!up)
			return -ENOMEM;
		for (char *q = up; *q; q++)
			*q = (char)toupper((unsigned char)*q);
		if (valid_flow(up))
			diag_hint(c->p->d, "did you mean '%s'?", up);
		else
			diag_hint(c->p->d, "a flow ID is upper-case letters, digits, '-' and '_', "
					   "like COMPUTE-OUT-STORAGE");
		free(up);
		c->failed = true;
	} else {
		r->flow = strdup(c->text);
		if (!r->flow)
			return -ENOMEM;
	}
	return pol_advance(c);
}

static int parse_option(struct pctx *c, struct rule *r, unsigned *seen, const char *rkw,
			const char *lkw)
{
	struct ep_buf b = { 0 };
	const char *w = c->text;
	int err;

	if (!strcmp(w, lkw)) {
		if (!once(c, seen, SEEN_LOCAL))
			return -EINVAL;
		r->has_local = true;
		err = pol_advance(c);
		err = err ? err : pol_parse_endpoints(c, &b, false);
		take_endpoint(&r->local, &b);
		return err;
	}
	if (!strcmp(w, "flow")) {
		if (!once(c, seen, SEEN_FLOW))
			return -EINVAL;
		err = pol_advance(c);
		return err ? err : pol_parse_flow(c, r);
	}
	if (!strcmp(w, "optional")) {
		if (!once(c, seen, SEEN_OPTIONAL))
			return -EINVAL;
		r->optional = true;
		return pol_advance(c);
	}
	if (!strcmp(w, "comment")) {
		if (!once(c, seen, SEEN_COMMENT))
			return -EINVAL;
		err = pol_advance(c);
		if (err)
			return err;
		if (c->tok.kind != T_STRING)
			return pol_expected(c, "a quoted string", "comment \"text\"");
		if (!c->text) {
			c->failed = true;
			return pol_advance(c);
		}
		r->comment = strdup(c->text);
		return r->comment ? pol_advance(c) : -ENOMEM;
	}
	if (!strcmp(w, "port")) {
		diag_error(c->p->d, c->tok.loc, "'port' must come before '%s'", rkw);
		diag_hint(c->p->d, "the ports follow the protocol: allow %s %s port PORTS %s ...",
			  dir_name(r->dir), proto_name(r->proto), rkw);
		return -EINVAL;
	}
	if (!strcmp(w, rkw)) {
		diag_error(c->p->d, c->tok.loc, "'%s' is given twice", rkw);
		diag_hint(c->p->d, "list several endpoints in one '%s { a, b }'", rkw);
		return -EINVAL;
	}
	diag_error(c->p->d, c->tok.loc, "unknown rule option '%s'", w);
	pol_hint_suggest(c, w, rule_options, ARRAY_SIZE(rule_options),
			 endpoint_like(w) ?
				 "list several endpoints as { a, b }" :
				 "after the endpoints come flow ID, optional and comment \"text\"");
	return -EINVAL;
}

/*
 * allow out PROTO [port PORTS] to ENDPOINTS [from ENDPOINTS] [flow ID] [optional] [comment "x"]
 * allow in  PROTO [port PORTS] from ENDPOINTS [to ENDPOINTS] [...]
 */
int pol_parse_allow(struct pctx *c)
{
	struct rule r = { .loc = c->tok.loc };
	const char *rkw, *lkw;
	unsigned seen = 0;
	char buf[64];
	int err;

	err = pol_advance(c);
	err = err ? err : parse_direction(c, &r);
	err = err ? err : parse_proto(c, &r);
	if (!err && pol_is_word(c, "port"))
		err = parse_ports(c, &r);
	rkw = r.dir == AMLG_DIR_OUT ? "to" : "from";
	lkw = r.dir == AMLG_DIR_OUT ? "from" : "to";
	err = err ? err : parse_remote(c, &r, rkw, lkw);
	while (!err && !pol_at_end(c)) {
		if (c->tok.kind == T_WORD && c->text) {
			err = parse_option(c, &r, &seen, rkw, lkw);
		} else if (c->tok.kind == T_COMMA) {
			diag_error(c->p->d, c->tok.loc, "unexpected ','");
			diag_hint(c->p->d, "list several endpoints as { a, b }");
			err = -EINVAL;
		} else if (c->tok.kind == T_STRING && c->text) {
			diag_error(c->p->d, c->tok.loc, "unexpected %s",
				   pol_tok_desc(&c->tok, buf, sizeof(buf)));
			diag_hint(c->p->d, "a comment is written comment \"text\"");
			err = -EINVAL;
		} else {
			err = pol_expect_end(c);
		}
	}
	if (!err && !c->failed)
		err = add_rule(c->p->pol, &r);
	rule_clear(&r);
	return err;
}
