// SPDX-License-Identifier: GPL-2.0-only
/*
 * A policy as the security rules of an Azure network security group (ARM's JSON shape).
 *
 * Every rule of the policy becomes one or more NSG rules, in the policy's order, per direction:
 * one per protocol (an NSG protocol is one of Tcp, Udp, Icmp or *; "any" with ports is Tcp and
 * Udp, since an NSG's "*" would take ICMP at any port), per service tag on either side (a rule
 * takes at most one tag) and per address family of the prefix lists.  Priorities are
 * 100, 100 + step, 100 + 2 step, ... per direction in that order (step 10 unless
 * --priority-step says otherwise, smaller when the rules would not fit below 4096), the
 * optional deny-all rule 4096.  Names are the flow ID, then FLOW-2, FLOW-3 ...; descriptions
 * carry the flow ID, the comment and file:line.  The platform rules are not exported: Azure
 * does not filter its own DNS, DHCP, IMDS and wire-server traffic with NSGs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azure/export.h"
#include "export_int.h"
#include "base/log.h"

struct nsg_rule {
	json_t *props; /* without priority yet */
	char name[NSG_NAME_MAX + 1];
	uint8_t dir;
	size_t nsrc, ndst;
};

struct nsg_build {
	struct nsg_rule *v;
	size_t n;
	size_t ndir[AMLG_DIRS];
};

/* One side as an NSG address field: "*", a tag, or a list of one family. */
struct nsg_addr {
	const char *single; /* "*" or a tag */
	const struct prefix_list *pfx;
	int family; /* 0: any family */
};

static json_t *addr_json(const struct nsg_addr *a, size_t *count)
{
	char buf[PREFIX_STRLEN];
	json_t *l;

	if (a->single) {
		*count = 1;
		return json_string(a->single);
	}
	*count = a->pfx->n;
	if (a->pfx->n == 1)
		return json_string(prefix_str(&a->pfx->v[0], buf, sizeof(buf)));
	l = json_array();
	for (size_t i = 0; l && i < a->pfx->n; i++)
		json_array_append_new(l, json_string(prefix_str(&a->pfx->v[i], buf, sizeof(buf))));
	return l;
}

static size_t addr_groups(const struct xaddrs *a, struct nsg_addr *g, size_t max)
{
	size_t n = 0;

	if (a->any) {
		g[n++] = (struct nsg_addr){ .single = "*" };
		return n;
	}
	for (size_t i = 0; i < a->ntags && n < max; i++)
		g[n++] = (struct nsg_addr){ .single = a->tags[i] };
	for (int f = 0; f < 2 && n < max; f++)
		if (a->pfx[f].n)
			g[n++] = (struct nsg_addr){ .pfx = &a->pfx[f], .family = f ? 6 : 4 };
	return n;
}

static int unique_name(struct nsg_build *b, const struct crule *r, char *out)
{
	char base[NSG_NAME_MAX + 1];

	export_rule_name(r, base, sizeof(base));
	for (unsigned k = 1;; k++) {
		bool taken = false;

		if (k == 1)
			snprintf(out, NSG_NAME_MAX + 1, "%s", base);
		else
			snprintf(out, NSG_NAME_MAX + 1, "%.70s-%u", base, k);
		for (size_t i = 0; i < b->n && !taken; i++)
			taken = !strcmp(b->v[i].name, out);
		if (!taken)
			return 0;
	}
}

static int add_rule(struct nsg_build *b, const struct crule *r, const char *proto,
		    const struct nsg_addr *src, const struct nsg_addr *dst, const char *extra)
{
	struct nsg_rule *nv = realloc(b->v, (b->n + 1) * sizeof(*b->v)), *nr;
	char desc[NSG_DESC_MAX + 1], pbuf[16];
	json_t *p, *ports, *s, *d;
	bool ported = strcmp(proto, "Icmp") && r->nports;

	if (!nv)
		return -ENOMEM;
	b->v = nv;
	nr = &nv[b->n];
	memset(nr, 0, sizeof(*nr));
	unique_name(b, r, nr->name);
	nr->dir = r->dir;
	export_describe(r, extra, desc, sizeof(desc));
	s = addr_json(src, &nr->nsrc);
	d = addr_json(dst, &nr->ndst);
	p = json_pack("{s:s, s:s, s:s, s:s, s:s}", "description", desc, "protocol", proto,
		      "sourcePortRange", "*", "access", "Allow", "direction",
		      r->dir == AMLG_DIR_OUT ? "Outbound" : "Inbound");
	if (!p || !s || !d) {
		json_decref(p);
		json_decref(s);
		json_decref(d);
		return -ENOMEM;
	}
	json_object_set_new(p, json_is_array(s) ? "sourceAddressPrefixes" : "sourceAddressPrefix",
			    s);
	json_object_set_new(
		p, json_is_array(d) ? "destinationAddressPrefixes" : "destinationAddressPrefix", d);
	if (!ported) {
		json_object_set_new(p, "destinationPortRange", json_string("*"));
	} else if (r->nports == 1) {
		export_port_str(&r->ports[0], pbuf, sizeof(pbuf));
		json_object_set_new(p, "destinationPortRange", json_string(pbuf));
	} else {
		ports = json_array();
		for (size_t i = 0; ports && i < r->nports; i++) {
			export_port_str(&r->ports[i], pbuf, sizeof(pbuf));
			json_array_append_new(ports, json_string(pbuf));
		}
		json_object_set_new(p, "destinationPortRanges", ports);
	}
	nr->props = p;
	b->n++;
	b->ndir[r->dir]++;
	return 0;
}

static int export_rule(struct export_ctx *x, struct nsg_build *b, const struct crule *r)
{
	static const char *const tcpudp[] = { "Tcp", "Udp" };
	struct nsg_addr lg[XADDRS_TAGS_MAX + 3], rg[XADDRS_TAGS_MAX + 3];
	const char *const *protos;
	const char *one[1];
	struct xaddrs la, ra;
	size_t nl, nr, np;
	int err;

	err = xaddrs_both(x, r, &la, &ra);
	if (err)
		goto out;
	for (size_t i = 0; i < r->nres && !err; i++)
		if (r->res[i].kind == EP_HOST)
			err = export_gap(x, r, true, r->res[i].text,
					 "an NSG matches addresses, not names or TLS server names "
					 "(SNI): use Azure Firewall application rules (export "
					 "--format azfw)");
	nl = addr_groups(&la, lg, sizeof(lg) / sizeof(lg[0]));
	nr = addr_groups(&ra, rg, sizeof(rg) / sizeof(rg[0]));
	if (err || !nr || !nl)
		goto out;
	switch (r->proto) {
	case AMLG_PROTO_TCP:
	case AMLG_PROTO_UDP:
	case AMLG_PROTO_ICMP:
		one[0] = r->proto == AMLG_PROTO_TCP ? "Tcp" :
			 r->proto == AMLG_PROTO_UDP ? "Udp" :
						      "Icmp";
		protos = one;
		np = 1;
		break;
	case AMLG_PROTO_ICMPV6:
		/* An NSG's Icmp is both ICMP and ICMPv6; IPv6 prefixes keep it to IPv6. */
		one[0] = "Icmp";
		protos = one;
		np = 1;
		if (ra.any || ra.ntags || la.ntags || ra.pfx[0].n) {
			err = export_gap(x, r, false, "icmpv6",
					 "an NSG's Icmp takes ICMP of both families: with '*' or "
					 "a tag it allows ICMPv4 too");
			if (err)
				goto out;
		}
		break;
	default:
		if (r->nports) {
			protos = tcpudp;
			np = 2;
		} else {
			one[0] = "*";
			protos = one;
			np = 1;
		}
		break;
	}
	for (size_t p = 0; p < np && !err; p++)
		for (size_t i = 0; i < nl && !err; i++)
			for (size_t j = 0; j < nr && !err; j++) {
				const struct nsg_addr *src, *dst;

				if (lg[i].family && rg[j].family && lg[i].family != rg[j].family)
					continue;
				src = r->dir == AMLG_DIR_OUT ? &lg[i] : &rg[j];
				dst = r->dir == AMLG_DIR_OUT ? &rg[j] : &lg[i];
				err = add_rule(b, r, protos[p], src, dst, NULL);
			}
out:
	xaddrs_free(&la);
	xaddrs_free(&ra);
	return err;
}

static int deny_rest(struct nsg_build *b, uint8_t dir)
{
	struct nsg_rule *nv = realloc(b->v, (b->n + 1) * sizeof(*b->v)), *nr;

	if (!nv)
		return -ENOMEM;
	b->v = nv;
	nr = &nv[b->n];
	memset(nr, 0, sizeof(*nr));
	snprintf(nr->name, sizeof(nr->name), "amlguard-deny-rest-%s",
		 dir == AMLG_DIR_OUT ? "out" : "in");
	nr->dir = dir;
	nr->nsrc = nr->ndst = 1;
	nr->props = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s}", "description",
			      "amlguard: everything the policy does not allow (export --deny-rest)",
			      "protocol", "*", "sourcePortRange", "*", "destinationPortRange", "*",
			      "sourceAddressPrefix", "*", "destinationAddressPrefix", "*", "access",
			      "Deny", "direction", dir == AMLG_DIR_OUT ? "Outbound" : "Inbound",
			      "priority", NSG_PRIO_MAX, "name", "");
	if (!nr->props)
		return -ENOMEM;
	json_object_del(nr->props, "name");
	b->n++;
	b->ndir[dir]++;
	return 0;
}

int export_nsg(struct export_ctx *x, json_t **out, size_t *nrules, size_t *nprefixes)
{
	struct nsg_build b = { 0 };
	size_t nsrc = 0, ndst = 0, next[AMLG_DIRS] = { 0 };
	int step = x->o->prio_step > 0 ? x->o->prio_step : 10, err = 0;
	int room = NSG_PRIO_MAX - (x->o->deny_rest ? 1 : 0) - NSG_PRIO_MIN;
	int dstep[AMLG_DIRS];
	json_t *rules = NULL;
	bool platform = false;

	*out = NULL;
	for (size_t i = 0; i < x->c->nrules && !err; i++) {
		const struct crule *r = &x->c->rules[i];

		if (r->platform) {
			platform = true;
			continue;
		}
		err = export_rule(x, &b, r);
	}
	if (!err && platform)
		err = export_gap(x, NULL, false, "platform",
				 "the platform rules (Azure DNS, DHCP, IMDS, the wire server at "
				 "168.63.129.16) are not exported: NSGs do not filter them");
	for (uint8_t d = 0; d < AMLG_DIRS && !err && x->o->deny_rest; d++)
		err = deny_rest(&b, d);
	if (err)
		goto out;
	for (size_t i = 0; i < b.n; i++) {
		nsrc += b.v[i].nsrc;
		ndst += b.v[i].ndst;
	}
	*nrules = b.n;
	*nprefixes = nsrc + ndst;
	if (b.n > NSG_RULES_MAX) {
		pr_err("export: %s: %zu security rules; an NSG holds at most %d", x->c->path, b.n,
		       NSG_RULES_MAX);
		pr_hint("split the policy, or use service tags instead of long address lists");
		err = -E2BIG;
		goto out;
	}
	if (nsrc > NSG_ADDRS_MAX || ndst > NSG_ADDRS_MAX) {
		pr_err("export: %s: %zu source and %zu destination addresses and ranges; an NSG "
		       "takes at most %d of each",
		       x->c->path, nsrc, ndst, NSG_ADDRS_MAX);
		pr_hint("use service tags instead of their prefixes, or Azure Firewall");
		err = -E2BIG;
		goto out;
	}
	/* Priorities: 100 + step * k, the step made smaller when the rules would not fit. */
	for (int d = 0; d < AMLG_DIRS; d++) {
		size_t n = b.ndir[d] - (x->o->deny_rest ? 1 : 0);

		dstep[d] = step;
		if (n > 1 && (size_t)step * (n - 1) > (size_t)room)
			dstep[d] = room / (int)(n - 1);
		if (dstep[d] < 1) {
			pr_err("export: %s: %zu %s rules do not fit the priorities %d-%d",
			       x->c->path, n, d == AMLG_DIR_OUT ? "outbound" : "inbound",
			       NSG_PRIO_MIN, NSG_PRIO_MAX);
			err = -E2BIG;
			goto out;
		}
	}
	rules = json_array();
	if (!rules) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < b.n; i++) {
		struct nsg_rule *nr = &b.v[i];

		if (!json_object_get(nr->props, "priority"))
			json_object_set_new(
				nr->props, "priority",
				json_integer(NSG_PRIO_MIN + dstep[nr->dir] * (int)next[nr->dir]++));
		json_array_append_new(rules, json_pack("{s:s, s:O}", "name", nr->name, "properties",
						       nr->props));
	}
	*out = json_pack("{s:s, s:s, s:{s:o}}", "name", x->o->name, "type",
			 "Microsoft.Network/networkSecurityGroups", "properties", "securityRules",
			 rules);
	if (!*out)
		err = -ENOMEM;
out:
	for (size_t i = 0; i < b.n; i++)
		json_decref(b.v[i].props);
	free(b.v);
	return err;
}

json_t *export_nsg_template(const struct export_ctx *x, json_t *nsg)
{
	json_t *rules = json_object_get(json_object_get(nsg, "properties"), "securityRules");

	return json_pack(
		"{s:s, s:s, s:{s:{s:s, s:s}, s:{s:s, s:s}}, s:[{s:s, s:s, s:s, s:s, s:{s:O}}]}",
		"$schema",
		"https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
		"contentVersion", "1.0.0.0", "parameters", "nsgName", "type", "string",
		"defaultValue", x->o->name, "location", "type", "string", "defaultValue",
		"[resourceGroup().location]", "resources", "type",
		"Microsoft.Network/networkSecurityGroups", "apiVersion", "2023-09-01", "name",
		"[parameters('nsgName')]", "location", "[parameters('location')]", "properties",
		"securityRules", rules);
}
