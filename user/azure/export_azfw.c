// SPDX-License-Identifier: GPL-2.0-only
/*
 * A policy as an Azure Firewall Policy rule collection group (ARM's JSON shape): one Allow
 * collection of network rules (priority 100) for the addresses and service tags, one of
 * application rules (priority 200) for the host rules.  Rules keep the policy's order and its
 * flow IDs as names.  Network rules: source the policy's local side ("*" without one; for an
 * "in" rule the remote side), destination tags and CIDRs together, ports as the policy has
 * them.  Application rules: targetFqdns as the policy writes them, Https at each of the rule's
 * ports (Http at 80; Https 443 when the rule has no port).  Host rules of other protocols are
 * network rules with destinationFqdns, which need the firewall's DNS proxy.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azure/export.h"
#include "export_int.h"
#include "base/log.h"

struct azfw_build {
	json_t *net, *app;
	size_t combos;
};

static int add_addrs(json_t *l, const struct xaddrs *a)
{
	char buf[PREFIX_STRLEN];

	if (a->any)
		return json_array_append_new(l, json_string("*"));
	for (size_t i = 0; i < a->ntags; i++)
		if (json_array_append_new(l, json_string(a->tags[i])))
			return -ENOMEM;
	for (int f = 0; f < 2; f++)
		for (size_t i = 0; i < a->pfx[f].n; i++)
			if (json_array_append_new(
				    l, json_string(prefix_str(&a->pfx[f].v[i], buf, sizeof(buf)))))
				return -ENOMEM;
	return 0;
}

static json_t *ports_json(const struct crule *r, size_t *nports)
{
	json_t *l = json_array();
	char buf[16];

	*nports = 0;
	if (!l)
		return NULL;
	if (!r->nports || r->proto == AMLG_PROTO_ICMP || r->proto == AMLG_PROTO_ICMPV6) {
		json_array_append_new(l, json_string("*"));
		*nports = 1;
		return l;
	}
	for (size_t i = 0; i < r->nports; i++) {
		export_port_str(&r->ports[i], buf, sizeof(buf));
		json_array_append_new(l, json_string(buf));
		*nports += (size_t)(r->ports[i].hi - r->ports[i].lo) + 1;
	}
	return l;
}

static json_t *protos_json(const struct crule *r, size_t *n)
{
	switch (r->proto) {
	case AMLG_PROTO_TCP:
		*n = 1;
		return json_pack("[s]", "TCP");
	case AMLG_PROTO_UDP:
		*n = 1;
		return json_pack("[s]", "UDP");
	case AMLG_PROTO_ICMP:
	case AMLG_PROTO_ICMPV6:
		*n = 1;
		return json_pack("[s]", "ICMP");
	default:
		*n = r->nports ? 2 : 1;
		return r->nports ? json_pack("[ss]", "TCP", "UDP") : json_pack("[s]", "Any");
	}
}

static bool name_taken(const json_t *l, const char *name)
{
	size_t i;
	json_t *v;

	json_array_foreach(l, i, v)
		if (!strcmp(json_string_value(json_object_get(v, "name")), name))
			return true;
	return false;
}

static void unique(const json_t *l, const struct crule *r, char *out, size_t sz)
{
	char base[AMLG_FLOW_MAX + 16];

	export_rule_name(r, base, sizeof(base));
	snprintf(out, sz, "%s", base);
	for (unsigned k = 2; name_taken(l, out); k++)
		snprintf(out, sz, "%s-%u", base, k);
}

/* ceil(ports / 14), as Microsoft counts "unique source-destination combinations". */
static size_t port_units(size_t nports)
{
	return nports ? (nports + 13) / 14 : 1;
}

static int net_rule(struct azfw_build *b, const struct crule *r, const struct xaddrs *src,
		    const struct xaddrs *dst, json_t *fqdns)
{
	size_t nproto, nports, nsrc, ndst;
	json_t *s = json_array(), *d = json_array(), *rule;
	char name[96], desc[256];

	if (!s || !d || add_addrs(s, src) || add_addrs(d, dst)) {
		json_decref(s);
		json_decref(d);
		return -ENOMEM;
	}
	unique(b->net, r, name, sizeof(name));
	export_describe(r, fqdns ? "needs the firewall's DNS proxy" : NULL, desc, sizeof(desc));
	rule = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "ruleType", "NetworkRule", "name",
			 name, "description", desc, "ipProtocols", protos_json(r, &nproto),
			 "sourceAddresses", s, "destinationAddresses", d, "destinationPorts",
			 ports_json(r, &nports));
	if (!rule)
		return -ENOMEM;
	nsrc = json_array_size(s);
	ndst = json_array_size(d);
	if (fqdns) {
		json_object_set_new(rule, "destinationFqdns", fqdns);
		ndst += json_array_size(fqdns);
		if (!json_array_size(d))
			json_object_del(rule, "destinationAddresses");
	}
	b->combos += nproto * nsrc * ndst * port_units(nports);
	return json_array_append_new(b->net, rule);
}

static int app_rule(struct export_ctx *x, struct azfw_build *b, const struct crule *r,
		    const struct xaddrs *src, json_t *fqdns)
{
	json_t *protos = json_array(), *s = json_array(), *rule;
	char name[96], desc[256];

	if (!protos || !s || add_addrs(s, src))
		goto nomem;
	if (!r->nports)
		json_array_append_new(protos, json_pack("{s:s, s:i}", "protocolType", "Https",
							"port", 443));
	for (size_t i = 0; i < r->nports; i++) {
		const struct port_range *p = &r->ports[i];
		char what[32];

		export_port_str(p, what, sizeof(what));
		if (p->hi > AZFW_APP_PORT_MAX ||
		    (unsigned)(p->hi - p->lo) + 1 > AZFW_APP_PORTS_MAX) {
			if (export_gap(x, r, true, what,
				       "an application rule takes single ports up to %d (at most %d "
				       "of a range)",
				       AZFW_APP_PORT_MAX, AZFW_APP_PORTS_MAX))
				goto nomem;
			continue;
		}
		for (unsigned port = p->lo; port <= p->hi; port++)
			json_array_append_new(protos, json_pack("{s:s, s:i}", "protocolType",
								port == 80 ? "Http" : "Https",
								"port", (int)port));
	}
	if (!json_array_size(protos)) {
		json_decref(protos);
		json_decref(s);
		json_decref(fqdns);
		return 0;
	}
	unique(b->app, r, name, sizeof(name));
	export_describe(r, NULL, desc, sizeof(desc));
	rule = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "ruleType", "ApplicationRule", "name",
			 name, "description", desc, "protocols", protos, "sourceAddresses", s,
			 "targetFqdns", fqdns);
	if (!rule)
		return -ENOMEM;
	return json_array_append_new(b->app, rule);
nomem:
	json_decref(protos);
	json_decref(s);
	json_decref(fqdns);
	return -ENOMEM;
}

static int export_rule(struct export_ctx *x, struct azfw_build *b, const struct crule *r)
{
	struct xaddrs la, ra, none = { 0 };
	json_t *fqdns = NULL;
	int err;

	err = xaddrs_both(x, r, &la, &ra);
	if (err)
		goto out;
	if (ra.nhosts) {
		fqdns = json_array();
		for (size_t i = 0; fqdns && i < r->nres; i++)
			if (r->res[i].kind == EP_HOST && r->res[i].item)
				json_array_append_new(fqdns, json_string(r->res[i].item->name));
		if (!fqdns) {
			err = -ENOMEM;
			goto out;
		}
	}
	/* Addresses and tags: a network rule. */
	if (ra.any || ra.ntags || ra.pfx[0].n || ra.pfx[1].n) {
		if (r->dir == AMLG_DIR_OUT)
			err = net_rule(b, r, &la, &ra, NULL);
		else
			err = net_rule(b, r, &ra, &la, NULL);
	}
	if (err || !fqdns)
		goto out;
	if (r->dir == AMLG_DIR_OUT && r->proto == AMLG_PROTO_TCP) {
		err = app_rule(x, b, r, &la, fqdns);
	} else {
		err = export_gap(x, r, false, "host names",
				 "not TCP: a network rule with destinationFqdns, which needs the "
				 "firewall's DNS proxy");
		if (!err)
			err = net_rule(b, r, &la, &none, fqdns);
		else
			json_decref(fqdns);
	}
	fqdns = NULL;
out:
	json_decref(fqdns);
	xaddrs_free(&la);
	xaddrs_free(&ra);
	return err;
}

static json_t *collection(const char *name, int prio, json_t *rules)
{
	return json_pack("{s:s, s:s, s:i, s:{s:s}, s:O}", "ruleCollectionType",
			 "FirewallPolicyFilterRuleCollection", "name", name, "priority", prio,
			 "action", "type", "Allow", "rules", rules);
}

int export_azfw(struct export_ctx *x, json_t **out, size_t *nrules, size_t *ncombos)
{
	struct azfw_build b = { .net = json_array(), .app = json_array() };
	char netname[96], appname[96];
	json_t *colls = json_array();
	bool platform = false;
	size_t bytes;
	int err = 0;

	*out = NULL;
	if (!b.net || !b.app || !colls) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < x->c->nrules && !err; i++) {
		if (x->c->rules[i].platform) {
			platform = true;
			continue;
		}
		err = export_rule(x, &b, &x->c->rules[i]);
	}
	if (!err && platform)
		err = export_gap(x, NULL, false, "platform",
				 "the platform rules (Azure DNS, DHCP, IMDS, the wire server) are "
				 "not exported: that traffic does not pass the firewall");
	if (err)
		goto out;
	snprintf(netname, sizeof(netname), "%.80s-network", x->o->name);
	snprintf(appname, sizeof(appname), "%.80s-application", x->o->name);
	if (json_array_size(b.net))
		json_array_append_new(colls, collection(netname, 100, b.net));
	if (json_array_size(b.app))
		json_array_append_new(colls, collection(appname, 200, b.app));
	*nrules = json_array_size(b.net) + json_array_size(b.app);
	*ncombos = b.combos;
	if (b.combos > AZFW_COMBOS_MAX) {
		pr_err("export: %s: %zu unique source-destination combinations in network rules; "
		       "a firewall takes at most %d",
		       x->c->path, b.combos, AZFW_COMBOS_MAX);
		pr_hint("use service tags or IP groups instead of long address lists");
		err = -E2BIG;
		goto out;
	}
	*out = json_pack("{s:s, s:s, s:{s:i, s:O}}", "name", x->o->name, "type",
			 "Microsoft.Network/firewallPolicies/ruleCollectionGroups", "properties",
			 "priority", x->o->group_prio, "ruleCollections", colls);
	if (!*out) {
		err = -ENOMEM;
		goto out;
	}
	bytes = json_dumpb(colls, NULL, 0, JSON_COMPACT);
	if (bytes > AZFW_GROUP_BYTES_MAX) {
		pr_err("export: %s: the rules take %zu bytes; a rule collection group holds at "
		       "most %u",
		       x->c->path, bytes, AZFW_GROUP_BYTES_MAX);
		json_decref(*out);
		*out = NULL;
		err = -E2BIG;
	}
out:
	json_decref(b.net);
	json_decref(b.app);
	json_decref(colls);
	return err;
}
