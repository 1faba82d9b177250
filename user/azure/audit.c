// SPDX-License-Identifier: GPL-2.0-only
/*
 * "audit": Azure rule sets translated into the policy language and judged, with the policy,
 * by the one datapath (see audit.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "azure/audit.h"
#include "offline/explain.h"
#include "base/hostpat.h"
#include "base/log.h"
#include "offline/pktgen.h"
#include "base/prefix_set.h"

#define AZ_FLOW_PREFIX "AZ-"
#define PROBES_PER_RULE_MAX 200000
#define GAP_SAMPLES_MAX 32
#define LB_ADDR "168.63.129.16/32"

/* ---- translation */

struct xlate {
	FILE *f;
	const struct audit_opts *o;
	struct prefix_list vnet; /* VirtualNetwork: the VNet and 168.63.129.16 */
	struct prefix_list internet; /* everything outside it */
};

static void put_list(FILE *f, const struct prefix_list *l, bool *first)
{
	char buf[PREFIX_STRLEN];

	for (size_t i = 0; i < l->n; i++) {
		fprintf(f, "%s%s", *first ? "" : ", ", prefix_str(&l->v[i], buf, sizeof(buf)));
		*first = false;
	}
}

/* The items of one side; *any when it is "*".  -EINVAL with err for an unknown name. */
static int put_side(struct xlate *x, char **v, size_t n, bool *any, char *err, size_t errsz)
{
	bool first = true;

	*any = false;
	for (size_t i = 0; i < n; i++) {
		const char *a = v[i];

		if (!strcmp(a, "*") || !strcasecmp(a, "Any")) {
			*any = true;
			return 0;
		}
	}
	fputc('{', x->f);
	for (size_t i = 0; i < n; i++) {
		const char *a = v[i];
		char buf[PREFIX_STRLEN];
		struct prefix p;
		bool alias;

		if (!strcasecmp(a, "VirtualNetwork")) {
			put_list(x->f, &x->vnet, &first);
		} else if (!strcasecmp(a, "Internet")) {
			put_list(x->f, &x->internet, &first);
		} else if (!strcasecmp(a, "AzureLoadBalancer")) {
			fprintf(x->f, "%s%s", first ? "" : ", ", LB_ADDR);
			first = false;
		} else if (!prefix_parse_loose(a, &p)) {
			fprintf(x->f, "%s%s", first ? "" : ", ", prefix_str(&p, buf, sizeof(buf)));
			first = false;
		} else if (x->o->db && tags_lookup(x->o->db, a, &alias)) {
			fprintf(x->f, "%stag:%s", first ? "" : ", ", a);
			first = false;
		} else {
			snprintf(err, errsz, "'%s' is no address, prefix or service tag%s", a,
				 x->o->db ? " of the tag file" : " (no tag file given: --tags)");
			return -EINVAL;
		}
	}
	fputc('}', x->f);
	return 0;
}

static void put_ports(FILE *f, const struct az_rule *r)
{
	if (!r->nports)
		return;
	fprintf(f, " port {");
	for (size_t i = 0; i < r->nports; i++) {
		if (r->ports[i].lo == r->ports[i].hi)
			fprintf(f, "%s%u", i ? ", " : " ", r->ports[i].lo);
		else
			fprintf(f, "%s%u-%u", i ? ", " : " ", r->ports[i].lo, r->ports[i].hi);
	}
	fprintf(f, " }");
}

/* One Azure rule as policy rules: one per protocol the policy language separates. */
static int put_rule(struct xlate *x, const struct az_rule *r, size_t idx, uint8_t dir, char *err,
		    size_t errsz)
{
	const char *protos[4];
	size_t np = 0;
	char *remote = NULL, *local = NULL;
	size_t rl = 0, ll = 0;
	bool rany, lany;
	FILE *save = x->f;
	int ret;

	if (r->protos == AZ_P_ALL) {
		protos[np++] = "any";
	} else {
		if (r->protos & AZ_P_TCP)
			protos[np++] = "tcp";
		if (r->protos & AZ_P_UDP)
			protos[np++] = "udp";
		if (r->protos & AZ_P_ICMP) {
			protos[np++] = "icmp";
			protos[np++] = "icmpv6";
		}
	}
	/* the remote side is the destination of outbound traffic, the source of inbound */
	x->f = open_memstream(&remote, &rl);
	if (!x->f)
		return -ENOMEM;
	ret = put_side(x, dir == AMLG_DIR_OUT ? r->dst : r->src,
		       dir == AMLG_DIR_OUT ? r->ndst : r->nsrc, &rany, err, errsz);
	fclose(x->f);
	x->f = open_memstream(&local, &ll);
	if (!x->f) {
		free(remote);
		x->f = save;
		return -ENOMEM;
	}
	if (!ret)
		ret = put_side(x, dir == AMLG_DIR_OUT ? r->src : r->dst,
			       dir == AMLG_DIR_OUT ? r->nsrc : r->ndst, &lany, err, errsz);
	fclose(x->f);
	x->f = save;
	for (size_t i = 0; i < np && !ret; i++) {
		bool ported = strcmp(protos[i], "icmp") && strcmp(protos[i], "icmpv6");

		fprintf(x->f, "allow %s %s", dir == AMLG_DIR_OUT ? "out" : "in", protos[i]);
		if (ported)
			put_ports(x->f, r);
		fprintf(x->f, " %s %s", dir == AMLG_DIR_OUT ? "to" : "from", rany ? "any" : remote);
		if (!lany)
			fprintf(x->f, " %s %s", dir == AMLG_DIR_OUT ? "from" : "to", local);
		fprintf(x->f, " flow " AZ_FLOW_PREFIX "%zu optional\n", idx);
	}
	free(remote);
	free(local);
	return ret;
}

static int internet_of(const struct prefix_list *vnet, struct prefix_list *out)
{
	struct prefix_list all = { 0 };
	struct prefix p;
	int err;

	prefix_parse("0.0.0.0/0", &p, NULL);
	err = prefix_list_add(&all, &p);
	prefix_parse("::/0", &p, NULL);
	if (!err)
		err = prefix_list_add(&all, &p);
	if (!err)
		err = prefix_list_subtract(&all, vnet, out);
	prefix_list_free(&all);
	return err;
}

int az_compile(struct az_set *s, const struct audit_opts *o)
{
	struct xlate x = { .o = o };
	struct compile_opts co = { .mode = AMLG_MODE_ENFORCE };
	struct tag_resolver tr;
	char err[512] = "", name[300];
	size_t len = 0;
	struct prefix lb;
	struct diag d;
	int ret;

	prefix_parse(LB_ADDR, &lb, NULL);
	if (prefix_list_append(&x.vnet, &o->vnet) || prefix_list_add(&x.vnet, &lb))
		return -ENOMEM;
	prefix_list_merge(&x.vnet);
	ret = internet_of(&x.vnet, &x.internet);
	if (ret)
		goto out;
	x.f = open_memstream(&s->text, &len);
	if (!x.f) {
		ret = -ENOMEM;
		goto out;
	}
	fprintf(x.f, "platform off\nmode enforce\n");
	for (size_t i = 0; i < s->n && !ret; i++) {
		const struct az_rule *r = &s->v[i];

		if (r->app || r->asg || r->protos == AZ_P_OTHER || (!r->nsrc && !r->ndst))
			continue; /* judged by name, not resolvable, or no packet of ours */
		if (r->fqdns && !r->ndst)
			continue;
		/* a firewall's rules judge outbound traffic: source local, destination remote */
		ret = put_rule(&x, r, i, r->dir, err, sizeof(err));
		if (ret == -EINVAL)
			pr_err("audit: %s: rule '%s': %s", s->file, r->name, err);
	}
	fclose(x.f);
	if (ret)
		goto out;
	snprintf(name, sizeof(name), "%s (as a policy)", s->file);
	diag_init(&d);
	ret = policy_parse_string(name, s->text, NULL, 0, &d, &s->pol);
	if (!ret) {
		if (o->db) {
			tags_resolver_init(&tr, o->db);
			co.tags = &tr;
		}
		ret = compile_policy(s->pol, &co, &d, &s->c);
	}
	if (ret || diag_failed(&d)) {
		diag_print(&d, stderr);
		pr_err("audit: %s: the rules could not be translated", s->file);
		ret = ret ? ret : -EINVAL;
	}
	diag_free(&d);
	if (!ret) {
		ret = offline_open(&s->o, s->c, 0);
		s->loaded = !ret;
		if (ret)
			pr_err("audit: cannot load the datapath: %s", strerror(-ret));
	}
out:
	prefix_list_free(&x.vnet);
	prefix_list_free(&x.internet);
	return ret;
}

/* ---- packets */

struct probe {
	uint8_t dir, proto, family;
	uint8_t local[16], remote[16];
	uint16_t dport;
};

struct runner {
	uint64_t ts;
	uint16_t sport;
};

static int run(struct runner *rn, struct offline *o, const struct probe *p,
	       struct offline_verdict *v)
{
	char a[64], b[64];
	struct pkt_spec s = { 0 };
	uint8_t frame[PKT_MAX];
	size_t len;

	addr_str(p->family, p->dir == AMLG_DIR_OUT ? p->local : p->remote, a, sizeof(a));
	addr_str(p->family, p->dir == AMLG_DIR_OUT ? p->remote : p->local, b, sizeof(b));
	s.src = a;
	s.dst = b;
	s.proto = p->proto;
	/* every probe is a flow of its own: no reply of an earlier one */
	rn->sport = rn->sport >= 60000 ? 20000 : rn->sport + 1;
	s.sport = rn->sport;
	s.dport = p->dport;
	if (p->proto == AMLG_PROTO_ICMP)
		s.icmp_type = 8;
	else if (p->proto == AMLG_PROTO_ICMPV6)
		s.icmp_type = 128;
	len = pkt_build(&s, frame, sizeof(frame));
	if (!len)
		return -EINVAL;
	return offline_run(o, frame, len, p->dir, ++rn->ts * 1000, v);
}

/* The Azure rule (index into s->v) that decides the probe in s, or -1 (no rule: denied). */
static int az_decide(struct runner *rn, struct az_set *s, const struct probe *p, int *idx)
{
	struct offline_verdict v;
	const struct crule *r;
	int err = run(rn, &s->o, p, &v);

	*idx = -1;
	if (err)
		return err;
	if (v.verdict != AMLG_VERDICT_ALLOW || v.rule == AMLG_RULE_NONE)
		return 0;
	r = compiled_rule(s->c, v.rule);
	if (r && !strncmp(r->flow, AZ_FLOW_PREFIX, strlen(AZ_FLOW_PREFIX)))
		*idx = atoi(r->flow + strlen(AZ_FLOW_PREFIX));
	return 0;
}

/*
 * Azure's verdict over every rule set: inbound traffic meets the sets in the order given
 * (the subnet's NSG, then the NIC's), outbound in the reverse order; the firewall judges
 * outbound traffic.  *set and *idx name the first deny (or, when allowed, the rule of the
 * first set).
 */
static int az_verdict(struct runner *rn, struct az_set *sets, size_t n, const struct probe *p,
		      bool *allow, int *set, int *idx)
{
	*allow = true;
	*set = -1;
	*idx = -1;
	for (size_t k = 0; k < n; k++) {
		size_t i = p->dir == AMLG_DIR_IN ? k : n - 1 - k;
		int r, err;

		if (sets[i].fw && p->dir == AMLG_DIR_IN)
			continue;
		err = az_decide(rn, &sets[i], p, &r);
		if (err)
			return err;
		if (*set < 0) {
			*set = (int)i;
			*idx = r;
		}
		if (r < 0 || !sets[i].v[r].allow) {
			*allow = false;
			*set = (int)i;
			*idx = r;
			return 0;
		}
	}
	return 0;
}

static void last_addr(const struct prefix *p, uint8_t *out)
{
	unsigned bits = prefix_bits(p->family);

	memcpy(out, p->addr, 16);
	for (unsigned b = p->len; b < bits; b++)
		out[b / 8] |= (uint8_t)(0x80 >> (b % 8));
}

/* Both ends of a prefix; of /0, the addresses next to them. */
static size_t ends(const struct prefix *p, uint8_t out[2][16])
{
	unsigned last = p->family == 4 ? 3 : 15;

	memcpy(out[0], p->addr, 16);
	last_addr(p, out[1]);
	if (p->len == 0) {
		out[0][last] |= 1;
		out[1][last] &= 0xfe;
	}
	return memcmp(out[0], out[1], 16) ? 2 : 1;
}

/* A local address of the VNet (its first usable one, .4 in Azure) for a family, if any. */
static bool vnet_addr(const struct audit_opts *o, uint8_t family, uint8_t *out)
{
	for (size_t i = 0; i < o->vnet.n; i++) {
		const struct prefix *p = &o->vnet.v[i];

		if (p->family != family)
			continue;
		memcpy(out, p->addr, 16);
		if (prefix_bits(family) - p->len >= 3)
			out[family == 4 ? 3 : 15] |= 4;
		return true;
	}
	return false;
}

static int protos_of(const struct crule *r, uint8_t family, uint8_t *v)
{
	int n = 0;

	switch (r->proto) {
	case AMLG_PROTO_ICMP:
		if (family == 4)
			v[n++] = AMLG_PROTO_ICMP;
		break;
	case AMLG_PROTO_ICMPV6:
		if (family == 6)
			v[n++] = AMLG_PROTO_ICMPV6;
		break;
	case AMLG_PROTO_ANY:
		v[n++] = AMLG_PROTO_TCP;
		v[n++] = AMLG_PROTO_UDP;
		if (!r->nports)
			v[n++] = family == 4 ? AMLG_PROTO_ICMP : AMLG_PROTO_ICMPV6;
		break;
	default:
		v[n++] = r->proto;
	}
	return n;
}

static size_t ports_of(const struct crule *r, uint8_t proto, uint16_t *v, size_t max)
{
	size_t n = 0;

	if (proto != AMLG_PROTO_TCP && proto != AMLG_PROTO_UDP) {
		v[n++] = 0;
		return n;
	}
	if (!r->nports) {
		v[n++] = 1;
		v[n++] = 65535;
		return n;
	}
	for (size_t i = 0; i < r->nports && n + 2 <= max; i++) {
		v[n++] = r->ports[i].lo;
		if (r->ports[i].hi != r->ports[i].lo)
			v[n++] = r->ports[i].hi;
	}
	return n;
}

static json_t *probe_json(const struct probe *p)
{
	char l[64], r[64], s[160];
	const char *pn = p->proto == AMLG_PROTO_TCP  ? "tcp" :
			 p->proto == AMLG_PROTO_UDP  ? "udp" :
			 p->proto == AMLG_PROTO_ICMP ? "icmp" :
						       "icmpv6";
	bool v6 = p->family == 6, ported = p->dport != 0;

	addr_str(p->family, p->local, l, sizeof(l));
	addr_str(p->family, p->remote, r, sizeof(r));
	if (p->dir == AMLG_DIR_OUT)
		snprintf(s, sizeof(s), "out %s %s %s%s%s%s", pn, l, v6 && ported ? "[" : "", r,
			 v6 && ported ? "]" : "", "");
	else
		snprintf(s, sizeof(s), "in %s %s %s%s%s", pn, r, v6 && ported ? "[" : "", l,
			 v6 && ported ? "]" : "");
	if (ported) {
		size_t n = strlen(s);

		snprintf(s + n, sizeof(s) - n, ":%u", p->dport);
	}
	return json_string(s);
}

static json_t *rule_ref(const struct az_set *sets, int set, int idx)
{
	const struct az_rule *r;
	json_t *ref;

	if (set < 0)
		return json_null();
	if (idx < 0)
		return json_pack("{s:s, s:s, s:n, s:s}", "set", sets[set].name, "rule",
				 sets[set].fw ? "(no rule: the firewall denies by default)" :
						"(no rule)",
				 "priority", "access", "Deny");
	r = &sets[set].v[idx];
	ref = json_pack("{s:s, s:s, s:i, s:s}", "set", sets[set].name, "rule", r->name, "priority",
			r->priority, "access", r->allow ? "Allow" : "Deny");
	if (ref && r->where)
		json_object_set_new(ref, "collection", json_string(r->where));
	return ref;
}

/* ---- documented flows through the Azure rules */

struct flow_acc {
	char flow[AMLG_ORIGIN_MAX + 4];
	char origin[AMLG_ORIGIN_MAX];
	size_t probes, blocked, unjudged;
	json_t *by; /* blocking rules, de-duplicated by name */
	json_t *example;
	json_t *notes;
};

static struct flow_acc *flow_get(struct flow_acc **v, size_t *n, const struct crule *r)
{
	char name[AMLG_ORIGIN_MAX + 4];
	struct flow_acc *nv;

	if (r->flow[0])
		snprintf(name, sizeof(name), "%s", r->flow);
	else
		snprintf(name, sizeof(name), "(%s)", r->origin);
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i].flow, name))
			return &(*v)[i];
	nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv)
		return NULL;
	*v = nv;
	memset(&nv[*n], 0, sizeof(nv[0]));
	memcpy(nv[*n].flow, name, sizeof(name));
	snprintf(nv[*n].origin, sizeof(nv[*n].origin), "%s", r->origin);
	nv[*n].by = json_array();
	nv[*n].notes = json_array();
	return &nv[(*n)++];
}

static void add_by(json_t *by, json_t *ref)
{
	size_t i;
	json_t *e;

	json_array_foreach(by, i, e)
		if (json_equal(e, ref)) {
			json_decref(ref);
			return;
		}
	json_array_append_new(by, ref);
}

/* Does the firewall pattern fw take every name the policy's pattern pol matches? */
static bool fqdn_covers(const char *fw, const char *pol)
{
	const char *fs, *ps;
	size_t fl, pl;

	if (!strcmp(fw, "*"))
		return true;
	if (pol[0] != '*')
		return hostpat_match(fw, pol) > 0;
	if (fw[0] != '*')
		return false;
	fs = fw + 1;
	ps = pol + 1;
	fl = strlen(fs);
	pl = strlen(ps);
	return pl >= fl && !strcasecmp(ps + pl - fl, fs);
}

/* A network rule that takes TCP to that port for every destination, or for the name. */
static bool net_rule_takes(const struct az_rule *r, const char *pattern, uint16_t port)
{
	bool dst = false, src = false, ported = !r->nports;

	if (r->app || r->asg || !(r->protos & AZ_P_TCP))
		return false;
	for (size_t i = 0; i < r->nports; i++)
		ported |= port >= r->ports[i].lo && port <= r->ports[i].hi;
	for (size_t i = 0; i < r->ndst; i++)
		dst |= !strcmp(r->dst[i], "*");
	for (size_t i = 0; i < r->nfqdns; i++)
		dst |= fqdn_covers(r->fqdns[i], pattern);
	for (size_t i = 0; i < r->nsrc; i++)
		src |= !strcmp(r->src[i], "*");
	return ported && dst && src;
}

static bool app_has_port(const struct az_rule *r, uint16_t port)
{
	for (size_t i = 0; i < r->napp_ports; i++)
		if (r->app_ports[i] == port)
			return true;
	return false;
}

/* Host rules against the firewall's application rules, by name. */
static void judge_hosts(const struct crule *r, struct az_set *sets, size_t nsets,
			struct flow_acc *fa)
{
	bool fw = false;

	for (size_t k = 0; k < nsets; k++)
		fw |= sets[k].fw;
	if (!fw) {
		json_array_append_new(fa->notes,
				      json_string("host rules not judged: an NSG matches "
						  "addresses, which DNS gives at run time"));
		return;
	}
	for (size_t i = 0; i < r->nres; i++) {
		const struct item_res *ir = &r->res[i];
		uint16_t ports[64];
		size_t np = 0;

		if (ir->kind != EP_HOST || !ir->item)
			continue;
		if (r->proto != AMLG_PROTO_TCP || r->dir != AMLG_DIR_OUT) {
			json_array_append_new(fa->notes,
					      json_sprintf("%s: not TCP out: no application rule "
							   "judges it",
							   ir->text));
			continue;
		}
		if (!r->nports)
			ports[np++] = 443;
		for (size_t j = 0; j < r->nports && np + 2 <= 64; j++) {
			ports[np++] = r->ports[j].lo;
			if (r->ports[j].hi != r->ports[j].lo)
				ports[np++] = r->ports[j].hi;
		}
		for (size_t j = 0; j < np; j++) {
			int set = -1, idx = -1;

			for (size_t k = 0; k < nsets && idx < 0; k++) {
				if (!sets[k].fw)
					continue;
				set = (int)k;
				/* network rules come first: one for every address decides */
				for (size_t q = 0; q < sets[k].n && idx < 0; q++)
					if (net_rule_takes(&sets[k].v[q], ir->item->name, ports[j]))
						idx = (int)q;
				for (size_t q = 0; q < sets[k].n && idx < 0; q++) {
					const struct az_rule *a = &sets[k].v[q];

					if (!a->app || !app_has_port(a, ports[j]))
						continue;
					for (size_t f = 0; f < a->nfqdns; f++)
						if (fqdn_covers(a->fqdns[f], ir->item->name)) {
							idx = (int)q;
							break;
						}
				}
			}
			fa->probes++;
			if (idx < 0 || !sets[set].v[idx].allow) {
				fa->blocked++;
				add_by(fa->by, rule_ref(sets, set, idx));
				if (!fa->example)
					fa->example = json_sprintf("out tcp %s:%u (by name)",
								   ir->item->name, ports[j]);
			}
		}
	}
}

static int judge_flow(struct runner *rn, const struct crule *r, struct az_set *sets, size_t nsets,
		      const struct audit_opts *o, struct flow_acc *fa)
{
	uint8_t locals[2][64][16], e[2][16];
	size_t nloc[2] = { 0, 0 }, done = 0;

	/* local addresses: the ends of the rule's local prefixes, or one of the VNet */
	for (int f = 0; f < 2; f++) {
		uint8_t family = f ? 6 : 4;

		if (!r->has_local) {
			nloc[f] = vnet_addr(o, family, locals[f][0]);
			continue;
		}
		for (size_t i = 0; i < r->local.n && nloc[f] + 2 <= 64; i++) {
			if (r->local.v[i].family != family)
				continue;
			for (size_t k = 0, m = ends(&r->local.v[i], e); k < m; k++)
				memcpy(locals[f][nloc[f]++], e[k], 16);
		}
	}
	for (size_t i = 0; i < r->nres; i++) {
		const struct item_res *ir = &r->res[i];

		if (ir->side != AMLG_SIDE_REMOTE || ir->kind == EP_HOST)
			continue;
		for (size_t j = 0; j < ir->pfx.n && done < PROBES_PER_RULE_MAX; j++) {
			const struct prefix *pf = &ir->pfx.v[j];
			int f = pf->family == 6;
			uint8_t protos[3];
			int nproto = protos_of(r, pf->family, protos);
			size_t m = ends(pf, e);

			if (!nloc[f]) {
				fa->probes += 0;
				continue;
			}
			for (int pi = 0; pi < nproto; pi++) {
				uint16_t ports[130];
				size_t np = ports_of(r, protos[pi], ports, 130);

				for (size_t k = 0; k < m; k++)
					for (size_t l = 0; l < nloc[f]; l++)
						for (size_t q = 0; q < np; q++) {
							struct probe p = { .dir = r->dir,
									   .proto = protos[pi],
									   .family = pf->family,
									   .dport = ports[q] };
							bool allow;
							int set, idx, err;

							memcpy(p.local, locals[f][l], 16);
							memcpy(p.remote, e[k], 16);
							err = az_verdict(rn, sets, nsets, &p,
									 &allow, &set, &idx);
							if (err)
								return err;
							if (set < 0) {
								fa->unjudged++;
								continue;
							}
							fa->probes++;
							done++;
							if (allow)
								continue;
							fa->blocked++;
							add_by(fa->by, rule_ref(sets, set, idx));
							if (!fa->example)
								fa->example = probe_json(&p);
						}
			}
		}
	}
	if (!nloc[1] && !r->has_local)
		for (size_t i = 0; i < r->nres; i++)
			if (r->res[i].side == AMLG_SIDE_REMOTE && r->res[i].n6) {
				json_array_append_new(fa->notes,
						      json_string("IPv6 not probed: no IPv6 range "
								  "of the VNet given"));
				break;
			}
	if (fa->unjudged && !fa->probes)
		json_array_append_new(fa->notes,
				      json_string("inbound: no rule set given judges it "
						  "(a firewall judges outbound traffic)"));
	if (r->nhosts)
		judge_hosts(r, sets, nsets, fa);
	return 0;
}

/* ---- Azure rules against the policy */

struct excess {
	size_t probes, excess, shadowed, blocked;
	json_t *example;
	json_t *covered; /* flow IDs */
};

static void add_flow(json_t *l, const char *flow)
{
	size_t i;
	json_t *e;

	json_array_foreach(l, i, e)
		if (!strcmp(json_string_value(e), flow))
			return;
	json_array_append_new(l, json_string(flow));
}

/* The policy's remote prefixes for a direction, protocol and port: what is documented there. */
static int policy_remote(const struct compiled *pc, uint8_t dir, uint8_t proto, uint16_t port,
			 struct prefix_list *out)
{
	for (size_t i = 0; i < pc->nrules; i++) {
		const struct crule *r = &pc->rules[i];

		if (r->dir != dir ||
		    !(port ? explain_port(r, proto, port) : explain_proto(r, proto)))
			continue;
		if (prefix_list_append(out, &r->remote))
			return -ENOMEM;
	}
	prefix_list_merge(out);
	return 0;
}

static int intersect(const struct prefix_list *a, const struct prefix_list *b,
		     struct prefix_list *out)
{
	struct prefix_list d = { 0 };
	int err = prefix_list_subtract(a, b, &d);

	if (!err)
		err = prefix_list_subtract(a, &d, out);
	prefix_list_free(&d);
	return err;
}

static int judge_az_rule(struct runner *rn, struct offline *po, const struct compiled *pc,
			 struct az_set *sets, size_t nsets, size_t si, const struct crule *ar,
			 size_t ai, const struct audit_opts *o, struct excess *ex)
{
	struct prefix_list locals = { 0 };
	uint8_t la[2][64][16], e[2][16];
	size_t nla[2] = { 0, 0 };
	struct crule tmp = *ar;
	uint8_t protos[3];
	int err = 0;

	/* local addresses: those of the rule inside the VNet */
	if (ar->has_local) {
		err = intersect(&ar->local, &o->vnet, &locals);
		if (err)
			return err;
		for (size_t i = 0; i < locals.n; i++) {
			int f = locals.v[i].family == 6;

			for (size_t k = 0, m = ends(&locals.v[i], e); k < m && nla[f] < 64; k++)
				memcpy(la[f][nla[f]++], e[k], 16);
		}
		prefix_list_free(&locals);
	} else {
		nla[0] = vnet_addr(o, 4, la[0][0]);
		nla[1] = vnet_addr(o, 6, la[1][0]);
	}
	for (int f = 0; f < 2; f++) {
		uint8_t family = f ? 6 : 4;
		int nproto = protos_of(&tmp, family, protos);

		if (!nla[f])
			continue;
		for (int pi = 0; pi < nproto; pi++) {
			uint16_t ports[130];
			size_t np = ports_of(&tmp, protos[pi], ports, 130);

			/* and the policy's ports inside the rule's: what it documents there */
			for (size_t i = 0; np && ports[0] && i < pc->nrules; i++) {
				uint16_t pp[130];
				size_t npp;

				if (pc->rules[i].dir != ar->dir ||
				    !explain_proto(&pc->rules[i], protos[pi]))
					continue;
				npp = ports_of(&pc->rules[i], protos[pi], pp, 130);
				for (size_t k = 0; k < npp && np < 130; k++) {
					bool dup = false;

					for (size_t m = 0; m < np; m++)
						dup |= ports[m] == pp[k];
					if (!dup && explain_port(ar, protos[pi], pp[k]))
						ports[np++] = pp[k];
				}
			}
			for (size_t q = 0; q < np; q++) {
				struct prefix_list doc = { 0 }, gap = { 0 }, fam = { 0 };
				struct prefix_list cand = { 0 };

				for (size_t i = 0; i < ar->remote.n; i++)
					if (ar->remote.v[i].family == family &&
					    prefix_list_add(&fam, &ar->remote.v[i]))
						err = -ENOMEM;
				if (!err)
					err = policy_remote(pc, ar->dir, protos[pi], ports[q],
							    &doc);
				if (!err)
					err = prefix_list_subtract(&fam, &doc, &gap);
				/* the rule's own prefixes, then the gaps the policy leaves in them */
				if (!err)
					err = prefix_list_append(&cand, &fam);
				for (size_t i = 0; !err && i < gap.n && i < GAP_SAMPLES_MAX; i++)
					err = prefix_list_add(&cand, &gap.v[i]);
				/* and what the policy documents inside them: the covering flows */
				if (!err) {
					struct prefix_list in = { 0 };

					err = intersect(&fam, &doc, &in);
					for (size_t i = 0; !err && i < in.n && i < GAP_SAMPLES_MAX;
					     i++)
						err = prefix_list_add(&cand, &in.v[i]);
					prefix_list_free(&in);
				}
				for (size_t i = 0; !err && i < cand.n; i++) {
					size_t m = ends(&cand.v[i], e);

					for (size_t k = 0; !err && k < m; k++)
						for (size_t l = 0; !err && l < nla[f]; l++) {
							struct probe p = { .dir = ar->dir,
									   .proto = protos[pi],
									   .family = family,
									   .dport = ports[q] };
							struct offline_verdict v;
							const struct crule *pr;
							bool allow;
							int set, idx, own;

							memcpy(p.local, la[f][l], 16);
							memcpy(p.remote, e[k], 16);
							err = az_decide(rn, &sets[si], &p, &own);
							if (err)
								break;
							ex->probes++;
							if (own != (int)ai) {
								ex->shadowed++;
								continue;
							}
							err = az_verdict(rn, sets, nsets, &p,
									 &allow, &set, &idx);
							if (err)
								break;
							if (!allow) {
								ex->blocked++;
								continue;
							}
							err = run(rn, po, &p, &v);
							if (err)
								break;
							pr = v.verdict == AMLG_VERDICT_ALLOW &&
									     v.rule !=
										     AMLG_RULE_NONE ?
								     compiled_rule(pc, v.rule) :
								     NULL;
							if (pr) {
								add_flow(ex->covered,
									 pr->flow[0] ? pr->flow :
										       pr->origin);
								continue;
							}
							ex->excess++;
							if (!ex->example)
								ex->example = probe_json(&p);
						}
				}
				prefix_list_free(&doc);
				prefix_list_free(&gap);
				prefix_list_free(&fam);
				prefix_list_free(&cand);
				if (err)
					return err;
			}
		}
	}
	return 0;
}

/* Application rules: names beyond the policy's host patterns. */
static json_t *judge_app_rule(const struct compiled *pc, const struct az_rule *a)
{
	json_t *beyond = json_array(), *covered = json_array();

	for (size_t f = 0; f < a->nfqdns; f++) {
		bool ok = false;

		for (size_t i = 0; i < pc->nrules && !ok; i++) {
			const struct crule *r = &pc->rules[i];
			bool ports = true;

			if (r->dir != AMLG_DIR_OUT || !explain_proto(r, AMLG_PROTO_TCP))
				continue;
			for (size_t k = 0; k < a->napp_ports; k++)
				ports &= explain_port(r, AMLG_PROTO_TCP, a->app_ports[k]);
			for (size_t k = 0; ports && k < r->nres && !ok; k++)
				if (r->res[k].kind == EP_HOST && r->res[k].item &&
				    fqdn_covers(r->res[k].item->name, a->fqdns[f])) {
					ok = true;
					add_flow(covered, r->flow);
				}
		}
		if (!ok)
			json_array_append_new(beyond, json_string(a->fqdns[f]));
	}
	return json_pack("{s:o, s:o}", "beyond", beyond, "covered", covered);
}

int audit_run(const struct compiled *c, struct az_set *sets, size_t nsets,
	      const struct audit_opts *o, json_t **report, size_t *findings)
{
	struct runner rn = { .ts = 1, .sport = 20000 };
	struct flow_acc *fv = NULL;
	size_t nf = 0, nblocked = 0, nexcess = 0;
	json_t *flows = json_array(), *rules = json_array(), *jsets = json_array();
	json_t *notes = json_array();
	struct offline po = { 0 };
	int err;

	*report = NULL;
	err = offline_open(&po, c, 0);
	if (err) {
		pr_err("audit: cannot load the datapath: %s", strerror(-err));
		goto out;
	}
	for (size_t i = 0; i < c->nrules && !err; i++) {
		const struct crule *r = &c->rules[i];
		struct flow_acc *fa;

		if (r->platform)
			continue;
		fa = flow_get(&fv, &nf, r);
		if (!fa) {
			err = -ENOMEM;
			break;
		}
		err = judge_flow(&rn, r, sets, nsets, o, fa);
	}
	for (size_t i = 0; i < nf && !err; i++) {
		struct flow_acc *fa = &fv[i];
		const char *verdict = fa->blocked ? "blocked" :
				      fa->probes  ? "allowed" :
						    "not judged";

		nblocked += fa->blocked != 0;
		json_array_append_new(flows,
				      json_pack("{s:s, s:s, s:s, s:I, s:I, s:O, s:O?, s:O}", "flow",
						fa->flow, "origin", fa->origin, "verdict", verdict,
						"probes", (json_int_t)fa->probes, "blocked",
						(json_int_t)fa->blocked, "blocked_by", fa->by,
						"example", fa->example, "notes", fa->notes));
	}
	for (size_t si = 0; si < nsets && !err; si++) {
		struct az_set *s = &sets[si];

		json_array_append_new(jsets,
				      json_pack("{s:s, s:s, s:s, s:I}", "file", s->file, "name",
						s->name, "kind", s->fw ? "firewall" : "nsg",
						"rules", (json_int_t)s->n));
		for (size_t ai = 0; ai < s->n && !err; ai++) {
			const struct az_rule *a = &s->v[ai];
			struct excess ex = { .covered = json_array() };
			json_t *ref = rule_ref(sets, (int)si, (int)ai), *j;
			bool any = false;

			if (!a->allow) {
				json_decref(ref);
				json_decref(ex.covered);
				continue;
			}
			if (a->app) {
				j = judge_app_rule(c, a);
				if (json_array_size(json_object_get(j, "beyond"))) {
					nexcess++;
					json_object_update(ref, j);
					json_object_set_new(ref, "verdict",
							    json_string("allows more"));
					json_array_append(rules, ref);
				}
				json_decref(j);
				json_decref(ref);
				json_decref(ex.covered);
				continue;
			}
			if (a->asg || a->src_ports)
				json_array_append_new(
					notes,
					json_sprintf("%s: %s: %s not modelled", s->name, a->name,
						     a->asg ? "application security groups "
							      "or IP groups" :
							      "source port ranges"));
			for (size_t k = 0; k < s->c->nrules && !err; k++) {
				const struct crule *ar = &s->c->rules[k];

				if (strncmp(ar->flow, AZ_FLOW_PREFIX, strlen(AZ_FLOW_PREFIX)) ||
				    (size_t)atoi(ar->flow + strlen(AZ_FLOW_PREFIX)) != ai)
					continue;
				any = true;
				err = judge_az_rule(&rn, &po, c, sets, nsets, si, ar, ai, o, &ex);
			}
			if (err || !any) {
				json_decref(ref);
				json_decref(ex.covered);
				json_decref(ex.example);
				continue;
			}
			nexcess += ex.excess != 0;
			json_object_set_new(ref, "direction",
					    json_string(a->dir == AMLG_DIR_OUT ? "out" : "in"));
			json_object_set_new(ref, "verdict",
					    json_string(ex.excess  ? "allows more" :
							!ex.probes ? "not judged" :
							ex.shadowed == ex.probes ?
								     "shadowed" :
								     "within the policy"));
			json_object_set_new(ref, "probes", json_integer((json_int_t)ex.probes));
			json_object_set_new(ref, "excess", json_integer((json_int_t)ex.excess));
			json_object_set_new(ref, "shadowed", json_integer((json_int_t)ex.shadowed));
			json_object_set_new(ref, "example", ex.example ? ex.example : json_null());
			json_object_set_new(ref, "covered_by", ex.covered);
			json_array_append_new(rules, ref);
		}
	}
	if (err)
		goto out;
	*findings = nblocked + nexcess;
	*report = json_pack("{s:o, s:s, s:o, s:o, s:o, s:{s:I, s:I, s:b}}", "rule_sets", jsets,
			    "policy", c->path, "flows", flows, "rules", rules, "notes", notes,
			    "summary", "flows_blocked", (json_int_t)nblocked, "rules_allowing_more",
			    (json_int_t)nexcess, "exact", !nblocked && !nexcess);
	flows = rules = jsets = notes = NULL;
	if (!*report)
		err = -ENOMEM;
out:
	if (po.skel)
		offline_close(&po);
	for (size_t i = 0; i < nf; i++) {
		json_decref(fv[i].by);
		json_decref(fv[i].example);
		json_decref(fv[i].notes);
	}
	free(fv);
	json_decref(flows);
	json_decref(rules);
	json_decref(jsets);
	json_decref(notes);
	return err;
}

static const char *prio(const json_t *o, char *buf, size_t sz)
{
	const json_t *p = json_object_get(o, "priority");

	if (!json_is_integer(p))
		return "-";
	snprintf(buf, sz, "%lld", (long long)json_integer_value(p));
	return buf;
}

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "-";
}

void audit_print(FILE *f, const json_t *rep)
{
	const json_t *e, *sum = json_object_get(rep, "summary");
	char pb[24];
	size_t i, j;

	fprintf(f, "audit of %s against", jstr(rep, "policy"));
	json_array_foreach(json_object_get(rep, "rule_sets"), i, e)
		fprintf(f, "%s %s %s (%s, %lld rules)", i ? "," : "", jstr(e, "kind"),
			jstr(e, "name"), jstr(e, "file"),
			(long long)json_integer_value(json_object_get(e, "rules")));
	fprintf(f, "\n\nDocumented flows:\n%-28s %-10s %7s %7s  %s\n", "FLOW", "VERDICT", "PROBES",
		"BLOCKED", "BLOCKED BY / EXAMPLE");
	json_array_foreach(json_object_get(rep, "flows"), i, e) {
		const json_t *b, *n;

		fprintf(f, "%-28s %-10s %7lld %7lld", jstr(e, "flow"), jstr(e, "verdict"),
			(long long)json_integer_value(json_object_get(e, "probes")),
			(long long)json_integer_value(json_object_get(e, "blocked")));
		json_array_foreach(json_object_get(e, "blocked_by"), j, b)
			fprintf(f, "%s%s/%s (%s, priority %s)", j ? ", " : "  ", jstr(b, "set"),
				jstr(b, "rule"), jstr(b, "access"), prio(b, pb, sizeof(pb)));
		if (json_is_string(json_object_get(e, "example")))
			fprintf(f, "\n%-28s e.g. %s", "", jstr(e, "example"));
		json_array_foreach(json_object_get(e, "notes"), j, n)
			fprintf(f, "\n%-28s note: %s", "", json_string_value(n));
		fputc('\n', f);
	}
	fprintf(f, "\nAzure rules that allow more than the policy:\n");
	j = 0;
	json_array_foreach(json_object_get(rep, "rules"), i, e) {
		const json_t *fl;
		size_t k;

		if (strcmp(jstr(e, "verdict"), "allows more"))
			continue;
		j++;
		fprintf(f, "%s/%s (priority %s, %s): %s", jstr(e, "set"), jstr(e, "rule"),
			prio(e, pb, sizeof(pb)), jstr(e, "direction"), jstr(e, "verdict"));
		if (json_object_get(e, "excess"))
			fprintf(f, ", %lld of %lld probes outside the policy",
				(long long)json_integer_value(json_object_get(e, "excess")),
				(long long)json_integer_value(json_object_get(e, "probes")));
		if (json_is_string(json_object_get(e, "example")))
			fprintf(f, "\n    e.g. %s", jstr(e, "example"));
		json_array_foreach(json_object_get(e, "beyond"), k, fl)
			fprintf(f, "%s%s", k ? ", " : "\n    names: ", json_string_value(fl));
		json_array_foreach(json_object_get(e, "covered_by"), k, fl)
			fprintf(f, "%s%s", k ? ", " : "\n    the policy covers part of it: ",
				json_string_value(fl));
		json_array_foreach(json_object_get(e, "covered"), k, fl)
			fprintf(f, "%s%s", k ? ", " : "\n    the policy covers part of it: ",
				json_string_value(fl));
		fputc('\n', f);
	}
	if (!j)
		fprintf(f, "none\n");
	j = 0;
	json_array_foreach(json_object_get(rep, "rules"), i, e) {
		if (strcmp(jstr(e, "verdict"), "shadowed"))
			continue;
		fprintf(f, "%s%s/%s (priority %s, %s)",
			j++ ? ", " : "\nAllow rules that earlier rules shadow entirely: ",
			jstr(e, "set"), jstr(e, "rule"), prio(e, pb, sizeof(pb)),
			jstr(e, "direction"));
	}
	if (j)
		fputc('\n', f);
	json_array_foreach(json_object_get(rep, "notes"), i, e)
		fprintf(f, "note: %s\n", json_string_value(e));
	fprintf(f, "\n%lld documented flow%s blocked, %lld rule%s allowing more: %s\n",
		(long long)json_integer_value(json_object_get(sum, "flows_blocked")),
		json_integer_value(json_object_get(sum, "flows_blocked")) == 1 ? "" : "s",
		(long long)json_integer_value(json_object_get(sum, "rules_allowing_more")),
		json_integer_value(json_object_get(sum, "rules_allowing_more")) == 1 ? "" : "s",
		json_is_true(json_object_get(sum, "exact")) ? "the rules allow exactly the policy" :
							      "the rules differ from the policy");
}
