// SPDX-License-Identifier: GPL-2.0-only
/*
 * "explain": the story behind one datapath verdict.
 *
 * The verdict, the reason and the allowing rule are the datapath's own: the CLI runs the
 * packet through the loaded program (offline_run()).  Only the "nearest rules" of a violation
 * are worked out here, in userspace, from the compiled rules (find_nearest(), explain_cover()):
 * the datapath keeps no record of the rules it did not match, so this is a second reading of
 * the same compiled policy, for the message only, never for the verdict.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "offline/explain.h"
#include "base/json_text.h"
#include "base/names.h"
#include "base/prefix.h"

#define NEAR_MAX 5

static int parse_proto(const char *s)
{
	static const struct {
		const char *name;
		int proto;
	} names[] = { { "tcp", AMLG_PROTO_TCP },
		      { "udp", AMLG_PROTO_UDP },
		      { "icmp", AMLG_PROTO_ICMP },
		      { "icmpv6", AMLG_PROTO_ICMPV6 } };
	char *end;
	long n;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i].name))
			return names[i].proto;
	n = strtol(s, &end, 10);
	return *end || n < 0 || n > 255 ? -1 : (int)n;
}

/* "a.b.c.d", "a.b.c.d:port", "x::y", "[x::y]:port". */
static int parse_endpoint(const char *s, uint8_t *family, uint8_t *addr, uint16_t *port,
			  bool *has_port)
{
	char buf[64];
	const char *colon, *a = s, *p = NULL;
	size_t alen;

	*has_port = false;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close)
			return -EINVAL;
		a = s + 1;
		alen = (size_t)(close - a);
		if (close[1] == ':')
			p = close + 2;
		else if (close[1])
			return -EINVAL;
	} else {
		colon = strchr(s, ':');
		/* one colon: v4 with a port; more: a bare IPv6 address */
		if (colon && !strchr(colon + 1, ':')) {
			alen = (size_t)(colon - s);
			p = colon + 1;
		} else {
			alen = strlen(s);
		}
	}
	if (alen == 0 || alen >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, a, alen);
	buf[alen] = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, buf, addr) == 1)
		*family = 4;
	else if (inet_pton(AF_INET6, buf, addr) == 1)
		*family = 6;
	else
		return -EINVAL;
	if (p) {
		char *end;
		long n = strtol(p, &end, 10);

		if (!*p || *end || n < 0 || n > 65535)
			return -EINVAL;
		*port = (uint16_t)n;
		*has_port = true;
	}
	return 0;
}

int explain_parse(int argc, char **argv, struct explain_query *q, char *err, size_t errsz)
{
	uint8_t f2;
	bool sp, dp;
	int proto;

	memset(q, 0, sizeof(*q));
	if (argc != 4) {
		snprintf(err, errsz, "expected DIR PROTO SRC[:PORT] DST[:PORT], got %d words",
			 argc);
		return -EINVAL;
	}
	if (!strcmp(argv[0], "out")) {
		q->dir = AMLG_DIR_OUT;
	} else if (!strcmp(argv[0], "in")) {
		q->dir = AMLG_DIR_IN;
	} else {
		snprintf(err, errsz, "'%s': the direction is 'out' or 'in'", argv[0]);
		return -EINVAL;
	}
	proto = parse_proto(argv[1]);
	if (proto < 0) {
		snprintf(err, errsz, "'%s': a protocol is tcp, udp, icmp, icmpv6 or a number 0-255",
			 argv[1]);
		return -EINVAL;
	}
	q->proto = (uint8_t)proto;
	if (parse_endpoint(argv[2], &q->family, q->saddr, &q->sport, &sp)) {
		snprintf(err, errsz, "'%s': not an address, address:port or [IPv6]:port", argv[2]);
		return -EINVAL;
	}
	if (parse_endpoint(argv[3], &f2, q->daddr, &q->dport, &dp)) {
		snprintf(err, errsz, "'%s': not an address, address:port or [IPv6]:port", argv[3]);
		return -EINVAL;
	}
	if (f2 != q->family) {
		snprintf(err, errsz, "'%s' and '%s' are not of the same address family", argv[2],
			 argv[3]);
		return -EINVAL;
	}
	if ((q->proto == AMLG_PROTO_TCP || q->proto == AMLG_PROTO_UDP) && !dp) {
		snprintf(err, errsz, "'%s': %s needs a destination port", argv[3], argv[1]);
		return -EINVAL;
	}
	if (!sp)
		q->sport = q->proto == AMLG_PROTO_TCP || q->proto == AMLG_PROTO_UDP ? 40000 : 1;
	if (q->proto == AMLG_PROTO_ICMP)
		q->icmp_type = 8;
	else if (q->proto == AMLG_PROTO_ICMPV6)
		q->icmp_type = 128;
	return 0;
}

bool explain_cover(const struct crule *r, uint8_t side, int family, const uint8_t *addr,
		   const struct item_res **res, const struct prefix **pfx)
{
	const struct item_res *best = NULL;
	const struct prefix *bp = NULL;

	if (side == AMLG_SIDE_LOCAL && !r->has_local) {
		*res = NULL;
		*pfx = NULL;
		return true;
	}
	for (size_t i = 0; i < r->nres; i++) {
		const struct item_res *ir = &r->res[i];

		if (ir->side != side)
			continue;
		for (size_t j = 0; j < ir->pfx.n; j++) {
			const struct prefix *p = &ir->pfx.v[j];

			if (prefix_has_addr(p, family, addr) && (!bp || p->len > bp->len)) {
				best = ir;
				bp = p;
			}
		}
	}
	*res = best;
	*pfx = bp;
	return best != NULL;
}

bool explain_proto(const struct crule *r, uint8_t proto)
{
	if (r->proto == AMLG_PROTO_ANY)
		return !r->nports || proto == AMLG_PROTO_TCP || proto == AMLG_PROTO_UDP;
	return r->proto == proto;
}

bool explain_port(const struct crule *r, uint8_t proto, uint16_t port)
{
	if (!explain_proto(r, proto))
		return false;
	if (!r->nports || (proto != AMLG_PROTO_TCP && proto != AMLG_PROTO_UDP))
		return true;
	for (size_t i = 0; i < r->nports; i++)
		if (port >= r->ports[i].lo && port <= r->ports[i].hi)
			return true;
	return false;
}

static const uint8_t *remote_of(const struct explain_query *q)
{
	return q->dir == AMLG_DIR_OUT ? q->daddr : q->saddr;
}

static const uint8_t *local_of(const struct explain_query *q)
{
	return q->dir == AMLG_DIR_OUT ? q->saddr : q->daddr;
}

static bool ported(uint8_t proto)
{
	return proto == AMLG_PROTO_TCP || proto == AMLG_PROTO_UDP;
}

static char *ports_str(const struct crule *r, char *buf, size_t sz)
{
	size_t n = 0;

	if (!r->nports) {
		snprintf(buf, sz, "any");
		return buf;
	}
	buf[0] = '\0';
	for (size_t i = 0; i < r->nports && n < sz; i++) {
		if (r->ports[i].lo == r->ports[i].hi)
			n += (size_t)snprintf(buf + n, sz - n, "%s%u", i ? "," : "",
					      r->ports[i].lo);
		else
			n += (size_t)snprintf(buf + n, sz - n, "%s%u-%u", i ? "," : "",
					      r->ports[i].lo, r->ports[i].hi);
	}
	return buf;
}

static const char *rule_proto(const struct crule *r, char *buf, unsigned sz)
{
	return r->proto == AMLG_PROTO_ANY ? "any" : l4_str(r->proto, buf, sz);
}

/*
 * The rules that came nearest: address covered but not port/protocol, or the reverse.  Derived
 * in userspace from the compiled rules, not by the datapath (see the top of this file).
 */
struct nearest {
	const struct crule *addr[NEAR_MAX], *port[NEAR_MAX], *local[NEAR_MAX];
	size_t naddr, nport, nlocal;
};

static void find_nearest(const struct compiled *c, const struct explain_query *q,
			 struct nearest *nr)
{
	memset(nr, 0, sizeof(*nr));
	for (size_t i = 0; i < c->nrules; i++) {
		const struct crule *r = &c->rules[i];
		const struct item_res *ir;
		const struct prefix *p;
		bool a, l, pt;

		if (r->dir != q->dir)
			continue;
		a = explain_cover(r, AMLG_SIDE_REMOTE, q->family, remote_of(q), &ir, &p);
		l = explain_cover(r, AMLG_SIDE_LOCAL, q->family, local_of(q), &ir, &p);
		pt = explain_port(r, q->proto, q->dport);
		if (a && l && !pt) {
			if (nr->naddr < NEAR_MAX)
				nr->addr[nr->naddr] = r;
			nr->naddr++;
		} else if (pt && a && !l) {
			/* the remote side and the port fit: it is this host's address that does not */
			if (nr->nlocal < NEAR_MAX)
				nr->local[nr->nlocal] = r;
			nr->nlocal++;
		} else if (pt && !a) {
			if (nr->nport < NEAR_MAX)
				nr->port[nr->nport] = r;
			nr->nport++;
		}
	}
}

static void endpoint_str(const struct explain_query *q, bool src, char *buf, size_t sz)
{
	char a[48];

	addr_str(q->family, src ? q->saddr : q->daddr, a, sizeof(a));
	if (ported(q->proto))
		snprintf(buf, sz, q->family == 6 ? "[%s]:%u" : "%s:%u", a,
			 src ? q->sport : q->dport);
	else
		snprintf(buf, sz, "%s", a);
}

static void print_cover(FILE *f, const char *what, int family, const uint8_t *addr,
			const struct item_res *ir, const struct prefix *p)
{
	char a[48], pb[PREFIX_STRLEN];

	addr_str(family, addr, a, sizeof(a));
	if (!ir) {
		fprintf(f, "  %s %s: the rule takes any local address\n", what, a);
		return;
	}
	fprintf(f, "  %s %s is in %s", what, a, ir->text);
	if (ir->item && ir->item->set)
		fprintf(f, " (member of @%s)", ir->item->set);
	fprintf(f, ", prefix %s", prefix_str(p, pb, sizeof(pb)));
	if (ir->note)
		fprintf(f, " [%s]", ir->note);
	fputc('\n', f);
}

/* The items of one side of a rule, or what an empty one means. */
static void print_side(FILE *f, const struct crule *n, int side)
{
	size_t k = 0;

	for (size_t j = 0; j < n->nres; j++) {
		if (n->res[j].side != side)
			continue;
		fprintf(f, " %s", n->res[j].text);
		k++;
	}
	if (!k)
		fprintf(f, " nothing (an empty set: the rule matches no address)");
	fputc('\n', f);
}

/* After the first NEAR_MAX of a list: how many were left out. */
static void print_more(FILE *f, size_t n)
{
	if (n > NEAR_MAX)
		fprintf(f, "  and %zu more\n", n - NEAR_MAX);
}

void explain_print(FILE *f, const struct compiled *c, const struct explain_query *q,
		   const struct offline_verdict *v)
{
	const struct crule *r = v->rule == AMLG_RULE_NONE ? NULL : compiled_rule(c, v->rule);
	char src[64], dst[64], pb[8], ports[128];
	const struct item_res *ir;
	const struct prefix *p;

	endpoint_str(q, true, src, sizeof(src));
	endpoint_str(q, false, dst, sizeof(dst));
	fprintf(f, "%s %s %s -> %s\n", q->dir == AMLG_DIR_OUT ? "out" : "in",
		l4_str(q->proto, pb, sizeof(pb)), src, dst);
	if (v->verdict == AMLG_VERDICT_ALLOW) {
		fprintf(f, "verdict: allow (match: %s)\n", match_str(v->match));
		if (r) {
			fprintf(f, "rule:    %u, flow %s, %s\n", v->rule,
				r->flow[0] ? r->flow : "-", r->origin);
			fprintf(f, "why:\n");
			if (explain_cover(r, AMLG_SIDE_REMOTE, q->family, remote_of(q), &ir, &p))
				print_cover(f, "remote", q->family, remote_of(q), ir, p);
			if (r->has_local &&
			    explain_cover(r, AMLG_SIDE_LOCAL, q->family, local_of(q), &ir, &p))
				print_cover(f, "local", q->family, local_of(q), ir, p);
			if (ported(q->proto))
				fprintf(f, "  port %u: the rule takes %s port %s\n", q->dport,
					rule_proto(r, pb, sizeof(pb)),
					ports_str(r, ports, sizeof(ports)));
			else
				fprintf(f, "  protocol %s: the rule takes %s\n",
					l4_str(q->proto, pb, sizeof(pb)),
					rule_proto(r, ports, sizeof(ports)));
		}
		return;
	}
	fprintf(f, "verdict: violation, reason %s (%s in %s mode)\n", reason_str(v->reason),
		v->dropped ? "dropped" : "passed", mode_str((unsigned)c->mode));
	{
		struct nearest nr;

		find_nearest(c, q, &nr);
		if (!nr.naddr && !nr.nport && !nr.nlocal)
			fprintf(f, "no rule in this direction covers the address or the port\n");
		if (nr.naddr)
			fprintf(f, "address matched, protocol or port did not (%zu rule%s):\n",
				nr.naddr, nr.naddr == 1 ? "" : "s");
		for (size_t i = 0; i < nr.naddr && i < NEAR_MAX; i++) {
			const struct crule *n = nr.addr[i];

			fprintf(f, "  %s %s: %s port %s\n", n->flow[0] ? n->flow : "-", n->origin,
				rule_proto(n, pb, sizeof(pb)), ports_str(n, ports, sizeof(ports)));
			if (explain_cover(n, AMLG_SIDE_REMOTE, q->family, remote_of(q), &ir, &p))
				print_cover(f, "  remote", q->family, remote_of(q), ir, p);
		}
		print_more(f, nr.naddr);
		if (nr.nlocal)
			fprintf(f,
				"protocol, port and remote address matched, the local address did "
				"not (%zu rule%s):\n",
				nr.nlocal, nr.nlocal == 1 ? "" : "s");
		for (size_t i = 0; i < nr.nlocal && i < NEAR_MAX; i++) {
			const struct crule *n = nr.local[i];

			fprintf(f, "  %s %s: %s port %s, local", n->flow[0] ? n->flow : "-",
				n->origin, rule_proto(n, pb, sizeof(pb)),
				ports_str(n, ports, sizeof(ports)));
			print_side(f, n, AMLG_SIDE_LOCAL);
		}
		print_more(f, nr.nlocal);
		if (nr.nport)
			fprintf(f, "protocol and port matched, address did not (%zu rule%s):\n",
				nr.nport, nr.nport == 1 ? "" : "s");
		for (size_t i = 0; i < nr.nport && i < NEAR_MAX; i++) {
			const struct crule *n = nr.port[i];

			fprintf(f, "  %s %s: %s port %s %s", n->flow[0] ? n->flow : "-", n->origin,
				rule_proto(n, pb, sizeof(pb)), ports_str(n, ports, sizeof(ports)),
				q->dir == AMLG_DIR_OUT ? "to" : "from");
			print_side(f, n, AMLG_SIDE_REMOTE);
		}
		print_more(f, nr.nport);
	}
}

static json_t *cover_json(int family, const uint8_t *addr, const struct item_res *ir,
			  const struct prefix *p)
{
	char a[48], pb[PREFIX_STRLEN];
	json_t *o = json_pack("{s:s}", "address", addr_str(family, addr, a, sizeof(a)));

	json_object_set_new(o, "item", json_str_escaped(ir ? ir->text : NULL));
	json_object_set_new(o, "set",
			    ir && ir->item && ir->item->set ? json_str_escaped(ir->item->set) :
							      json_null());
	json_object_set_new(o, "prefix",
			    p ? json_string(prefix_str(p, pb, sizeof(pb))) : json_null());
	json_object_set_new(o, "note", json_str_escaped(ir ? ir->note : NULL));
	return o;
}

static json_t *rule_json(const struct crule *r)
{
	char pb[8], ports[128];

	return json_pack("{s:i, s:o, s:o, s:s, s:s}", "id", AMLG_RULE_ID(r->dir, r->bit), "flow",
			 json_str_escaped(r->flow[0] ? r->flow : NULL), "origin",
			 json_str_escaped(r->origin), "proto", rule_proto(r, pb, sizeof(pb)),
			 "ports", ports_str(r, ports, sizeof(ports)));
}

json_t *explain_json(const struct compiled *c, const struct explain_query *q,
		     const struct offline_verdict *v)
{
	const struct crule *r = v->rule == AMLG_RULE_NONE ? NULL : compiled_rule(c, v->rule);
	char s[48], d[48], pb[8];
	const struct item_res *ir;
	const struct prefix *p;
	json_t *o;

	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "dir",
		      q->dir == AMLG_DIR_OUT ? "out" : "in", "proto",
		      l4_str(q->proto, pb, sizeof(pb)), "src",
		      addr_str(q->family, q->saddr, s, sizeof(s)), "dst",
		      addr_str(q->family, q->daddr, d, sizeof(d)), "verdict",
		      v->verdict == AMLG_VERDICT_ALLOW ? "allow" : "violation", "match",
		      match_str(v->match));
	json_object_set_new(o, "sport", ported(q->proto) ? json_integer(q->sport) : json_null());
	json_object_set_new(o, "dport", ported(q->proto) ? json_integer(q->dport) : json_null());
	json_object_set_new(o, "reason",
			    v->verdict == AMLG_VERDICT_ALLOW ? json_null() :
							       json_string(reason_str(v->reason)));
	json_object_set_new(o, "dropped", json_boolean(v->dropped));
	if (v->verdict == AMLG_VERDICT_ALLOW && r) {
		json_t *jr = rule_json(r);

		if (explain_cover(r, AMLG_SIDE_REMOTE, q->family, remote_of(q), &ir, &p))
			json_object_set_new(jr, "remote",
					    cover_json(q->family, remote_of(q), ir, p));
		if (r->has_local &&
		    explain_cover(r, AMLG_SIDE_LOCAL, q->family, local_of(q), &ir, &p))
			json_object_set_new(jr, "local", cover_json(q->family, local_of(q), ir, p));
		json_object_set_new(o, "rule", jr);
		json_object_set_new(o, "flow", json_str_escaped(r->flow[0] ? r->flow : NULL));
	} else {
		struct nearest nr;
		json_t *a = json_array(), *pt = json_array(), *lc = json_array();

		find_nearest(c, q, &nr);
		for (size_t i = 0; i < nr.naddr && i < NEAR_MAX; i++) {
			json_t *jr = rule_json(nr.addr[i]);

			if (explain_cover(nr.addr[i], AMLG_SIDE_REMOTE, q->family, remote_of(q),
					  &ir, &p))
				json_object_set_new(jr, "remote",
						    cover_json(q->family, remote_of(q), ir, p));
			json_array_append_new(a, jr);
		}
		for (size_t i = 0; i < nr.nport && i < NEAR_MAX; i++)
			json_array_append_new(pt, rule_json(nr.port[i]));
		for (size_t i = 0; i < nr.nlocal && i < NEAR_MAX; i++)
			json_array_append_new(lc, rule_json(nr.local[i]));
		/*
		 * As in check -j and log: for a violation, rule and flow name the rule whose
		 * address matched but not the port or protocol (reason port, proto), else null.
		 */
		json_object_set_new(o, "rule", r ? rule_json(r) : json_null());
		json_object_set_new(o, "flow",
				    r && r->flow[0] ? json_string(r->flow) : json_null());
		json_object_set_new(o, "address_matched_port_did_not", a);
		json_object_set_new(o, "port_matched_address_did_not", pt);
		json_object_set_new(o, "address_matched_total", json_integer((json_int_t)nr.naddr));
		json_object_set_new(o, "port_matched_total", json_integer((json_int_t)nr.nport));
		json_object_set_new(o, "remote_matched_local_did_not", lc);
		json_object_set_new(o, "remote_matched_local_did_not_total",
				    json_integer((json_int_t)nr.nlocal));
	}
	return o;
}
