// SPDX-License-Identifier: GPL-2.0-only
/* The report of "check": per-packet verdicts grouped into flows, and a per-flow-ID summary. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "offline/check.h"
#include "base/event.h"
#include "base/json_text.h"
#include "base/names.h"
#include "base/prefix.h"

int check_init(struct check_report *r, const struct compiled *c)
{
	memset(r, 0, sizeof(*r));
	r->c = c;
	r->cap = 1024;
	r->flows = calloc(r->cap, sizeof(*r->flows));
	return r->flows ? 0 : -ENOMEM;
}

void check_free(struct check_report *r)
{
	free(r->flows);
	free(r->error);
	free(r->truncated);
	memset(r, 0, sizeof(*r));
}

static uint64_t mix(uint64_t h, uint64_t w)
{
	h ^= w * 0x9e3779b97f4a7c15ull;
	return (h << 31 | h >> 33) * 0xff51afd7ed558ccdull;
}

/* Over whole words: this runs once per packet of a capture. */
static uint64_t flow_hash(const struct check_flow *k)
{
	uint64_t h = (uint64_t)k->family | (uint64_t)k->proto << 8 | (uint64_t)k->reason_key << 16 |
		     (uint64_t)k->lport << 24 | (uint64_t)k->rport << 40;
	uint64_t w[5];

	memcpy(w, k->laddr, 16);
	memcpy(w + 2, k->raddr, 16);
	w[4] = (uint64_t)k->nvlan | (uint64_t)k->vlan[0] << 8 | (uint64_t)k->vlan[1] << 24;
	for (int i = 0; i < 5; i++)
		h = mix(h, w[i]);
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 29);
}

static bool same_key(const struct check_flow *a, const struct check_flow *b)
{
	return a->family == b->family && a->proto == b->proto && a->reason_key == b->reason_key &&
	       a->lport == b->lport && a->rport == b->rport && a->nvlan == b->nvlan &&
	       a->vlan[0] == b->vlan[0] && a->vlan[1] == b->vlan[1] &&
	       !memcmp(a->laddr, b->laddr, 16) && !memcmp(a->raddr, b->raddr, 16);
}

static struct check_flow *slot_for(struct check_flow *v, size_t cap, const struct check_flow *k)
{
	size_t i = (size_t)flow_hash(k) & (cap - 1);

	while (v[i].used && !same_key(&v[i], k))
		i = (i + 1) & (cap - 1);
	return &v[i];
}

static int grow(struct check_report *r)
{
	size_t cap = r->cap * 2;
	struct check_flow *v = calloc(cap, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < r->cap; i++)
		if (r->flows[i].used)
			*slot_for(v, cap, &r->flows[i]) = r->flows[i];
	r->last = NULL;
	free(r->flows);
	r->flows = v;
	r->cap = cap;
	return 0;
}

/*
 * The key: the flow from the protected side, ports (or the ICMP echo identifier) only for those
 * that have them, on the VLANs the packet had: the same addresses on two VLANs are two flows.
 */
static void key_of(const struct amlg_batch_res *res, struct check_flow *k)
{
	bool out = res->dir == AMLG_DIR_OUT;

	memset(k, 0, sizeof(*k));
	k->nvlan = res->nvlan < 2 ? res->nvlan : 2;
	for (int i = 0; i < k->nvlan; i++)
		k->vlan[i] = res->vlan[i];
	k->family = res->family;
	k->proto = res->family ? res->proto : 0;
	if (res->verdict == AMLG_VERDICT_VIOLATION &&
	    (res->reason == AMLG_REASON_MALFORMED || res->reason == AMLG_REASON_NON_IP))
		k->reason_key = res->reason;
	if (!res->family)
		return;
	memcpy(k->laddr, out ? res->saddr : res->daddr, 16);
	memcpy(k->raddr, out ? res->daddr : res->saddr, 16);
	if (!k->reason_key) {
		k->lport = out ? res->sport : res->dport;
		k->rport = out ? res->dport : res->sport;
	}
}

static bool is_echo(const struct amlg_batch_res *res)
{
	if (res->proto == AMLG_PROTO_ICMP)
		return res->icmp_type == 0 || res->icmp_type == 8;
	if (res->proto == AMLG_PROTO_ICMPV6)
		return res->icmp_type == 128 || res->icmp_type == 129;
	return false;
}

int check_add(struct check_report *r, const struct amlg_batch_res *res, uint32_t len,
	      uint64_t ts_ns, uint64_t number)
{
	struct check_flow k, *f;
	bool viol = res->verdict == AMLG_VERDICT_VIOLATION;

	if (!r->packets || ts_ns < r->first_ts)
		r->first_ts = ts_ns;
	if (ts_ns > r->last_ts)
		r->last_ts = ts_ns;
	r->packets++;
	r->bytes += len;
	if (res->foreign) {
		r->foreign++;
		return 0;
	}
	r->events += res->event;
	if ((r->n + 1) * 2 > r->cap && grow(r))
		return -ENOMEM;
	key_of(res, &k);
	/* packets of a flow tend to come in runs */
	f = r->last && same_key(r->last, &k) ? r->last : slot_for(r->flows, r->cap, &k);
	r->last = f;
	if (!f->used) {
		bool reply = res->match == AMLG_MATCH_PICKUP;

		*f = k;
		f->used = true;
		r->n++;
		/* A flow picked up from its reply was opened by the other side. */
		f->dir = reply ? !res->dir : res->dir;
		memcpy(f->saddr, reply ? res->daddr : res->saddr, 16);
		memcpy(f->daddr, reply ? res->saddr : res->daddr, 16);
		f->sport = reply ? res->dport : res->sport;
		f->dport = reply ? res->sport : res->dport;
		f->verdict = res->verdict;
		f->reason = res->reason;
		f->match = res->match;
		f->rule = res->rule;
		f->echo = is_echo(res) && !k.reason_key;
		f->first_ts = ts_ns;
		f->first_number = number;
	} else if (viol && f->verdict != AMLG_VERDICT_VIOLATION) {
		f->verdict = res->verdict;
		f->reason = res->reason;
		f->rule = res->rule;
	}
	f->packets++;
	f->bytes += len;
	f->last_ts = ts_ns;
	if (viol) {
		f->violating_packets++;
		r->violating_packets++;
	}
	return 0;
}

size_t check_violating_flows(const struct check_report *r)
{
	size_t n = 0;

	for (size_t i = 0; i < r->cap; i++)
		n += r->flows[i].used && r->flows[i].verdict == AMLG_VERDICT_VIOLATION;
	return n;
}

static int by_verdict_then_time(const void *a, const void *b)
{
	const struct check_flow *x = *(const struct check_flow *const *)a;
	const struct check_flow *y = *(const struct check_flow *const *)b;

	if (x->verdict != y->verdict)
		return x->verdict == AMLG_VERDICT_VIOLATION ? -1 : 1;
	if (x->first_number != y->first_number)
		return x->first_number < y->first_number ? -1 : 1;
	return 0;
}

/* The flows in report order; caller frees. */
static const struct check_flow **sorted(const struct check_report *r)
{
	const struct check_flow **v = calloc(r->n ? r->n : 1, sizeof(*v));
	size_t n = 0;

	if (!v)
		return NULL;
	for (size_t i = 0; i < r->cap; i++)
		if (r->flows[i].used)
			v[n++] = &r->flows[i];
	qsort(v, n, sizeof(*v), by_verdict_then_time);
	return v;
}

static const struct crule *flow_rule(const struct check_report *r, const struct check_flow *f)
{
	return f->rule == AMLG_RULE_NONE ? NULL : compiled_rule(r->c, f->rule);
}

static bool ported(uint8_t proto)
{
	return proto == AMLG_PROTO_TCP || proto == AMLG_PROTO_UDP;
}

static void endpoint(const struct check_flow *f, bool src, char *buf, size_t sz)
{
	char a[48];
	const uint8_t *addr = src ? f->saddr : f->daddr;
	uint16_t port = src ? f->sport : f->dport;

	int n;

	if (!f->family) {
		n = snprintf(buf, sz, "-");
	} else {
		addr_str(f->family, addr, a, sizeof(a));
		if (ported(f->proto) && !f->reason_key)
			n = snprintf(buf, sz, f->family == 6 ? "[%s]:%u" : "%s:%u", a, port);
		else if (f->echo && src)
			n = snprintf(buf, sz, "%s id %u", a, port);
		else
			n = snprintf(buf, sz, "%s", a);
	}
	/* the source's VLANs: "vlan 100", "vlan 100.200" */
	if (src && f->nvlan && n > 0 && (size_t)n < sz)
		n += snprintf(buf + n, sz - (size_t)n, " vlan %u", f->vlan[0]);
	if (src && f->nvlan > 1 && n > 0 && (size_t)n < sz)
		snprintf(buf + n, sz - (size_t)n, ".%u", f->vlan[1]);
}

/* Packets and flows per flow ID, in rule order. */
struct flow_use {
	const char *flow;
	uint64_t flows, packets;
	bool platform;
};

static size_t flow_ids(const struct check_report *r, struct flow_use **out)
{
	struct flow_use *u = calloc(r->c->nrules + 1, sizeof(*u));
	size_t n = 0;

	*out = u;
	if (!u)
		return 0;
	for (size_t i = 0; i < r->c->nrules; i++) {
		const struct crule *cr = &r->c->rules[i];
		size_t j;

		if (!cr->flow[0])
			continue;
		for (j = 0; j < n && strcmp(u[j].flow, cr->flow); j++)
			;
		if (j == n) {
			u[n].flow = cr->flow;
			u[n++].platform = cr->platform;
		}
	}
	for (size_t i = 0; i < r->cap; i++) {
		const struct check_flow *f = &r->flows[i];
		const struct crule *cr;

		if (!f->used || f->verdict != AMLG_VERDICT_ALLOW || !(cr = flow_rule(r, f)))
			continue;
		for (size_t j = 0; j < n; j++) {
			if (!strcmp(u[j].flow, cr->flow)) {
				u[j].flows++;
				u[j].packets += f->packets;
			}
		}
	}
	return n;
}

void check_print(const struct check_report *r, FILE *f)
{
	const struct check_flow **v = sorted(r);
	size_t nviol = check_violating_flows(r), nu;
	struct flow_use *u;
	char src[80], dst[80], p[8], ts[48];
	int section = -1;

	if (!v)
		return;
	for (size_t i = 0; i < r->n; i++) {
		const struct check_flow *fl = v[i];
		const struct crule *cr = flow_rule(r, fl);
		bool viol = fl->verdict == AMLG_VERDICT_VIOLATION;

		if (section != viol) {
			section = viol;
			fprintf(f, "%s%s\n", i ? "\n" : "", viol ? "VIOLATIONS" : "ALLOWED");
			fprintf(f, "  %-3s %-6s %-41s %-41s %-10s %8s %10s  %s\n", "DIR", "PROTO",
				"SOURCE", "DESTINATION", viol ? "REASON" : "MATCH", "PACKETS",
				"BYTES", viol ? "NEAR RULE" : "FLOW ID (RULE)");
		}
		endpoint(fl, true, src, sizeof(src));
		endpoint(fl, false, dst, sizeof(dst));
		fprintf(f, "  %-3s %-6s %-41s %-41s %-10s %8llu %10llu  ",
			fl->dir == AMLG_DIR_OUT ? "out" : "in",
			fl->family ? l4_str(fl->proto, p, sizeof(p)) : "-", src, dst,
			viol ? reason_str(fl->reason) : match_str(fl->match),
			(unsigned long long)fl->packets, (unsigned long long)fl->bytes);
		if (cr)
			fprintf(f, "%s (%s)\n", cr->flow[0] ? cr->flow : "-", cr->origin);
		else
			fprintf(f, "-\n");
	}
	nu = flow_ids(r, &u);
	fprintf(f, "\nFLOW IDS\n");
	for (size_t j = 0; j < nu; j++)
		if (u[j].packets)
			fprintf(f, "  %-28s %6llu flows %10llu packets\n", u[j].flow,
				(unsigned long long)u[j].flows, (unsigned long long)u[j].packets);
	fprintf(f, "  never seen:");
	for (size_t j = 0, k = 0; j < nu; j++)
		if (!u[j].packets && !u[j].platform)
			fprintf(f, "%s %s", k++ ? "," : "", u[j].flow);
	fputc('\n', f);
	free(u);
	fprintf(f, "\n%llu packets, %zu flows: %zu violating (%llu packets), %zu allowed",
		(unsigned long long)r->packets, r->n, nviol,
		(unsigned long long)r->violating_packets, r->n - nviol);
	if (r->foreign)
		fprintf(f, "; %llu packets between two non-local addresses not judged",
			(unsigned long long)r->foreign);
	if (r->packets)
		fprintf(f, "\nfrom %s", time_str(r->first_ts, ts, sizeof(ts)));
	if (r->packets)
		fprintf(f, " to %s", time_str(r->last_ts, ts, sizeof(ts)));
	fputc('\n', f);
	free(v);
}

static json_t *addr_json(const struct check_flow *fl, const uint8_t *a)
{
	char buf[48];

	return fl->family ? json_string(addr_str(fl->family, a, buf, sizeof(buf))) : json_null();
}

static json_t *flow_json(const struct check_report *r, const struct check_flow *fl)
{
	const struct crule *cr = flow_rule(r, fl);
	bool viol = fl->verdict == AMLG_VERDICT_VIOLATION,
	     port = ported(fl->proto) && !fl->reason_key;
	char p[8], t1[48], t2[48];
	json_t *o = json_object(), *vlan = json_array();

	for (int i = 0; i < fl->nvlan; i++)
		json_array_append_new(vlan, json_integer(fl->vlan[i]));
	if (r->capture)
		json_object_set_new(o, "capture", json_string(r->capture));
	json_object_set_new(o, "dir", json_string(fl->dir == AMLG_DIR_OUT ? "out" : "in"));
	json_object_set_new(o, "proto",
			    fl->family ? json_string(l4_str(fl->proto, p, sizeof(p))) :
					 json_null());
	json_object_set_new(o, "src", addr_json(fl, fl->saddr));
	json_object_set_new(o, "sport", port ? json_integer(fl->sport) : json_null());
	json_object_set_new(o, "dst", addr_json(fl, fl->daddr));
	json_object_set_new(o, "dport", port ? json_integer(fl->dport) : json_null());
	json_object_set_new(o, "icmp_id", fl->echo ? json_integer(fl->sport) : json_null());
	json_object_set_new(o, "vlan", vlan);
	json_object_set_new(o, "verdict", json_string(viol ? "violation" : "allow"));
	json_object_set_new(o, "reason", viol ? json_string(reason_str(fl->reason)) : json_null());
	json_object_set_new(o, "match", json_string(match_str(fl->match)));
	json_object_set_new(o, "rule", json_str_escaped(cr ? cr->origin : NULL));
	json_object_set_new(o, "flow", json_str_escaped(cr && cr->flow[0] ? cr->flow : NULL));
	json_object_set_new(o, "packets", json_integer((json_int_t)fl->packets));
	json_object_set_new(o, "bytes", json_integer((json_int_t)fl->bytes));
	json_object_set_new(o, "violating_packets",
			    json_integer((json_int_t)fl->violating_packets));
	json_object_set_new(o, "first_ts", json_string(time_str(fl->first_ts, t1, sizeof(t1))));
	json_object_set_new(o, "last_ts", json_string(time_str(fl->last_ts, t2, sizeof(t2))));
	json_object_set_new(o, "first_packet", json_integer((json_int_t)fl->first_number));
	return o;
}

static void dump_line(json_t *o, FILE *f)
{
	json_dumpf(o, f, JSON_COMPACT);
	fputc('\n', f);
	json_decref(o);
}

void check_print_json(const struct check_report *r, FILE *f)
{
	const struct check_flow **v = sorted(r);
	json_t *used = json_object(), *never = json_array(), *s;
	struct flow_use *u;
	size_t nu, nviol = check_violating_flows(r);
	char t1[48], t2[48];

	if (!v)
		return;
	for (size_t i = 0; i < r->n; i++)
		dump_line(flow_json(r, v[i]), f);
	nu = flow_ids(r, &u);
	for (size_t j = 0; j < nu; j++) {
		if (u[j].packets)
			json_object_set_new(used, u[j].flow,
					    json_pack("{s:I, s:I}", "flows", (json_int_t)u[j].flows,
						      "packets", (json_int_t)u[j].packets));
		else if (!u[j].platform)
			json_array_append_new(never, json_str_escaped(u[j].flow));
	}
	free(u);
	s = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o}", "packets",
		      (json_int_t)r->packets, "bytes", (json_int_t)r->bytes, "flows",
		      (json_int_t)r->n, "violating_flows", (json_int_t)nviol, "violating_packets",
		      (json_int_t)r->violating_packets, "allowed_flows", (json_int_t)(r->n - nviol),
		      "foreign_packets", (json_int_t)r->foreign, "flow_ids_used", used,
		      "flow_ids_never_seen", never);
	json_object_set_new(s, "first_ts",
			    r->packets ? json_string(time_str(r->first_ts, t1, sizeof(t1))) :
					 json_null());
	json_object_set_new(s, "last_ts",
			    r->packets ? json_string(time_str(r->last_ts, t2, sizeof(t2))) :
					 json_null());
	json_object_set_new(s, "error", r->error ? json_string(r->error) : json_null());
	json_object_set_new(s, "truncated", r->truncated ? json_string(r->truncated) : json_null());
	if (r->capture)
		json_object_set_new(s, "capture", json_string(r->capture));
	dump_line(json_pack("{s:o}", "summary", s), f);
	free(v);
}
