// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reading Azure's rule sets for "audit": network security groups as ARM returns them
 * (properties.securityRules), as "az network nsg show" prints them (flattened), or inside an
 * ARM template; Azure Firewall policy rule collection groups likewise.  jansson reads them.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "azure/audit.h"

static void set_err(char *err, size_t sz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t sz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, sz, fmt, ap);
	va_end(ap);
}

/* A rule's own fields: under "properties" (ARM) or beside "name" (az's flattened output). */
static json_t *props_of(json_t *o)
{
	json_t *p = json_object_get(o, "properties");

	return json_is_object(p) ? p : o;
}

static json_t *load_json(const char *path, char *err, size_t errsz)
{
	json_error_t je;
	json_t *root = json_load_file(path, 0, &je);

	if (!root)
		set_err(err, errsz, "%s:%d:%d: invalid JSON: %s", path, je.line, je.column,
			je.text);
	return root;
}

static int strv_add(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(**v));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[*n] = strdup(s);
	if (!nv[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

/* "x" and/or ["x", ...] under two keys into one list. */
static int strings(json_t *p, const char *one, const char *many, char ***v, size_t *n,
		   const char *what, char *err, size_t errsz)
{
	json_t *s = one ? json_object_get(p, one) : NULL, *l = json_object_get(p, many), *e;
	size_t i;

	if (json_is_string(s) && json_string_length(s) && strv_add(v, n, json_string_value(s)))
		return -ENOMEM;
	if (l && !json_is_null(l) && !json_is_array(l)) {
		set_err(err, errsz, "%s: \"%s\" is not a list", what, many);
		return -EINVAL;
	}
	json_array_foreach(l, i, e) {
		if (!json_is_string(e)) {
			set_err(err, errsz, "%s: \"%s\"[%zu] is not a string", what, many, i);
			return -EINVAL;
		}
		if (strv_add(v, n, json_string_value(e)))
			return -ENOMEM;
	}
	return 0;
}

/* "*", "443", "29876-29877", "0-65535"; appends to r->ports (none = any). */
static int port_add(struct az_rule *r, const char *s, const char *what, char *err, size_t errsz)
{
	unsigned long lo, hi;
	char *end;
	struct port_range *nv;

	if (!strcmp(s, "*")) {
		r->nports = 0;
		free(r->ports);
		r->ports = NULL;
		return 1; /* any: the rest of the list does not matter */
	}
	lo = strtoul(s, &end, 10);
	hi = lo;
	if (*end == '-')
		hi = strtoul(end + 1, &end, 10);
	if (end == s || *end || lo > 65535 || hi > 65535 || lo > hi) {
		set_err(err, errsz, "%s: invalid port range '%s'", what, s);
		return -EINVAL;
	}
	if (lo == 0 && hi == 65535)
		return port_add(r, "*", what, err, errsz);
	if (hi == 0)
		return 0; /* port 0 alone: no TCP or UDP connection */
	nv = realloc(r->ports, (r->nports + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	r->ports = nv;
	nv[r->nports].lo = (uint16_t)(lo ? lo : 1);
	nv[r->nports].hi = (uint16_t)hi;
	r->nports++;
	return 0;
}

static int ports(struct az_rule *r, char **v, size_t n, const char *what, char *err, size_t errsz)
{
	int ret = 0;

	if (!n)
		return port_add(r, "*", what, err, errsz) < 0 ? -EINVAL : 0;
	for (size_t i = 0; i < n && ret == 0; i++)
		ret = port_add(r, v[i], what, err, errsz);
	return ret < 0 ? ret : 0;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static struct az_rule *rule_new(struct az_set *s)
{
	struct az_rule *nv = realloc(s->v, (s->n + 1) * sizeof(*nv));

	if (!nv)
		return NULL;
	s->v = nv;
	memset(&nv[s->n], 0, sizeof(nv[0]));
	return &nv[s->n++];
}

static unsigned nsg_proto(const char *p)
{
	if (!strcasecmp(p, "Tcp"))
		return AZ_P_TCP;
	if (!strcasecmp(p, "Udp"))
		return AZ_P_UDP;
	if (!strcasecmp(p, "Icmp"))
		return AZ_P_ICMP;
	if (!strcasecmp(p, "*") || !strcasecmp(p, "Any"))
		return AZ_P_ALL;
	if (!strcasecmp(p, "Esp") || !strcasecmp(p, "Ah"))
		return AZ_P_OTHER;
	return 0;
}

static int nsg_rule(struct az_set *s, json_t *o, bool deflt, size_t idx, char *err, size_t errsz)
{
	json_t *p = props_of(o), *jn = json_object_get(o, "name");
	const char *dir = json_string_value(json_object_get(p, "direction"));
	const char *acc = json_string_value(json_object_get(p, "access"));
	const char *proto = json_string_value(json_object_get(p, "protocol"));
	json_t *prio = json_object_get(p, "priority");
	char what[160], **pv = NULL;
	size_t npv = 0;
	struct az_rule *r;
	int e;

	snprintf(what, sizeof(what), "%s: %s[%zu] (%s)", s->file,
		 deflt ? "defaultSecurityRules" : "securityRules", idx,
		 json_is_string(jn) ? json_string_value(jn) : "no name");
	if (!json_is_string(jn) || !dir || !acc || !proto || !json_is_integer(prio)) {
		set_err(err, errsz,
			"%s: needs \"name\", \"priority\", \"direction\", \"access\" and \"protocol\"",
			what);
		return -EINVAL;
	}
	r = rule_new(s);
	if (!r)
		return -ENOMEM;
	r->name = strdup(json_string_value(jn));
	r->priority = (int)json_integer_value(prio);
	r->deflt = deflt;
	if (!r->name)
		return -ENOMEM;
	if (!strcasecmp(dir, "Inbound")) {
		r->dir = AMLG_DIR_IN;
	} else if (!strcasecmp(dir, "Outbound")) {
		r->dir = AMLG_DIR_OUT;
	} else {
		set_err(err, errsz, "%s: direction '%s' is neither Inbound nor Outbound", what,
			dir);
		return -EINVAL;
	}
	if (!strcasecmp(acc, "Allow")) {
		r->allow = true;
	} else if (strcasecmp(acc, "Deny")) {
		set_err(err, errsz, "%s: access '%s' is neither Allow nor Deny", what, acc);
		return -EINVAL;
	}
	r->protos = nsg_proto(proto);
	if (!r->protos) {
		set_err(err, errsz, "%s: unknown protocol '%s'", what, proto);
		return -EINVAL;
	}
	if (!deflt && (r->priority < 100 || r->priority > 4096)) {
		set_err(err, errsz, "%s: priority %d is outside 100-4096", what, r->priority);
		return -EINVAL;
	}
	e = strings(p, "sourceAddressPrefix", "sourceAddressPrefixes", &r->src, &r->nsrc, what, err,
		    errsz);
	if (!e)
		e = strings(p, "destinationAddressPrefix", "destinationAddressPrefixes", &r->dst,
			    &r->ndst, what, err, errsz);
	if (!e)
		e = strings(p, "destinationPortRange", "destinationPortRanges", &pv, &npv, what,
			    err, errsz);
	if (!e)
		e = ports(r, pv, npv, what, err, errsz);
	strv_free(pv, npv);
	pv = NULL;
	npv = 0;
	if (!e)
		e = strings(p, "sourcePortRange", "sourcePortRanges", &pv, &npv, what, err, errsz);
	for (size_t i = 0; !e && i < npv; i++)
		r->src_ports |= strcmp(pv[i], "*") != 0;
	strv_free(pv, npv);
	if (e)
		return e;
	r->asg = json_array_size(json_object_get(p, "sourceApplicationSecurityGroups")) ||
		 json_array_size(json_object_get(p, "destinationApplicationSecurityGroups"));
	if ((!r->nsrc || !r->ndst) && !r->asg) {
		set_err(err, errsz, "%s: no source or destination address prefix", what);
		return -EINVAL;
	}
	return 0;
}

/* Azure's six default rules, as every NSG has them. */
static int add_defaults(struct az_set *s)
{
	static const struct {
		const char *name;
		int prio;
		uint8_t dir;
		bool allow;
		const char *src, *dst;
	} d[] = {
		{ "AllowVnetInBound", 65000, AMLG_DIR_IN, true, "VirtualNetwork",
		  "VirtualNetwork" },
		{ "AllowAzureLoadBalancerInBound", 65001, AMLG_DIR_IN, true, "AzureLoadBalancer",
		  "*" },
		{ "DenyAllInBound", 65500, AMLG_DIR_IN, false, "*", "*" },
		{ "AllowVnetOutBound", 65000, AMLG_DIR_OUT, true, "VirtualNetwork",
		  "VirtualNetwork" },
		{ "AllowInternetOutBound", 65001, AMLG_DIR_OUT, true, "*", "Internet" },
		{ "DenyAllOutBound", 65500, AMLG_DIR_OUT, false, "*", "*" },
	};

	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		struct az_rule *r = rule_new(s);

		if (!r)
			return -ENOMEM;
		r->name = strdup(d[i].name);
		r->priority = d[i].prio;
		r->dir = d[i].dir;
		r->allow = d[i].allow;
		r->deflt = true;
		r->protos = AZ_P_ALL;
		if (!r->name || strv_add(&r->src, &r->nsrc, d[i].src) ||
		    strv_add(&r->dst, &r->ndst, d[i].dst))
			return -ENOMEM;
	}
	return 0;
}

static int cmp_rule(const void *a, const void *b)
{
	const struct az_rule *x = a, *y = b;

	if (x->dir != y->dir)
		return x->dir - y->dir;
	return x->priority - y->priority;
}

/* The resource of a type inside an ARM template, or the document itself. */
static json_t *unwrap(json_t *root, const char *type)
{
	json_t *res = json_object_get(root, "resources"), *e;
	size_t i;

	json_array_foreach(res, i, e) {
		const char *t = json_string_value(json_object_get(e, "type"));

		if (t && !strcasecmp(t, type))
			return e;
	}
	return root;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

int az_nsg_load(const char *path, struct az_set *s, char *err, size_t errsz)
{
	json_t *root = load_json(path, err, errsz), *nsg, *p, *rules, *defs, *e;
	const char *name;
	size_t i;
	int ret = 0;

	memset(s, 0, sizeof(*s));
	s->file = strdup(path);
	if (!root || !s->file)
		return root ? -ENOMEM : -EINVAL;
	nsg = json_is_array(root) ? root : unwrap(root, "Microsoft.Network/networkSecurityGroups");
	p = json_is_array(nsg) ? NULL : props_of(nsg);
	rules = p ? json_object_get(p, "securityRules") : nsg;
	defs = p ? json_object_get(p, "defaultSecurityRules") : NULL;
	name = json_is_array(nsg) ? NULL : json_string_value(json_object_get(nsg, "name"));
	s->name = strdup(name && !strchr(name, '[') ? name : base_name(path));
	if (!s->name) {
		ret = -ENOMEM;
		goto out;
	}
	if (!json_is_array(rules) && !(json_is_null(rules) || !rules)) {
		set_err(err, errsz, "%s: \"securityRules\" is not a list", path);
		ret = -EINVAL;
		goto out;
	}
	if (!rules && !json_is_object(p)) {
		set_err(err, errsz, "%s: not a network security group (no securityRules)", path);
		ret = -EINVAL;
		goto out;
	}
	json_array_foreach(rules, i, e)
		if ((ret = nsg_rule(s, e, false, i, err, errsz)))
			goto out;
	if (json_array_size(defs)) {
		json_array_foreach(defs, i, e)
			if ((ret = nsg_rule(s, e, true, i, err, errsz)))
				goto out;
	} else {
		ret = add_defaults(s);
		if (ret)
			goto out;
	}
	qsort(s->v, s->n, sizeof(*s->v), cmp_rule);
	for (i = 1; i < s->n; i++)
		if (s->v[i].dir == s->v[i - 1].dir && s->v[i].priority == s->v[i - 1].priority) {
			set_err(err, errsz, "%s: rules '%s' and '%s' have the same priority %d",
				path, s->v[i - 1].name, s->v[i].name, s->v[i].priority);
			ret = -EINVAL;
			goto out;
		}
out:
	json_decref(root);
	return ret;
}

/* ---- Azure Firewall */

struct fw_coll {
	json_t *c;
	int gprio, cprio;
	size_t order;
	const char *gname;
};

static int cmp_coll(const void *a, const void *b)
{
	const struct fw_coll *x = a, *y = b;

	if (x->gprio != y->gprio)
		return x->gprio - y->gprio;
	if (x->cprio != y->cprio)
		return x->cprio - y->cprio;
	return (x->order > y->order) - (x->order < y->order);
}

static int fw_rule(struct az_set *s, const struct fw_coll *fc, json_t *o, size_t idx, bool app,
		   char *err, size_t errsz)
{
	const char *cname = json_string_value(json_object_get(fc->c, "name"));
	const char *act =
		json_string_value(json_object_get(json_object_get(fc->c, "action"), "type"));
	const char *name = json_string_value(json_object_get(o, "name"));
	char what[256], **pv = NULL, where[200];
	size_t npv = 0, i;
	struct az_rule *r;
	json_t *e;
	int ret;

	snprintf(what, sizeof(what), "%s: %s/%s rules[%zu] (%s)", s->file,
		 fc->gname ? fc->gname : "", cname ? cname : "", idx, name ? name : "no name");
	if (!name || !act) {
		set_err(err, errsz, "%s: needs \"name\" and the collection's action.type", what);
		return -EINVAL;
	}
	r = rule_new(s);
	if (!r)
		return -ENOMEM;
	snprintf(where, sizeof(where), "%s/%s", fc->gname ? fc->gname : "?", cname ? cname : "?");
	r->name = strdup(name);
	r->where = strdup(where);
	if (!r->name || !r->where)
		return -ENOMEM;
	r->allow = !strcasecmp(act, "Allow");
	r->app = app;
	r->dir = AMLG_DIR_OUT;
	r->priority = (int)s->n;
	ret = strings(o, NULL, "sourceAddresses", &r->src, &r->nsrc, what, err, errsz);
	if (ret)
		return ret;
	r->asg = json_array_size(json_object_get(o, "sourceIpGroups")) ||
		 json_array_size(json_object_get(o, "destinationIpGroups"));
	if (app) {
		r->protos = AZ_P_TCP;
		ret = strings(o, NULL, "targetFqdns", &r->fqdns, &r->nfqdns, what, err, errsz);
		json_array_foreach(json_object_get(o, "protocols"), i, e) {
			json_t *port = json_object_get(e, "port");

			if (json_is_integer(port) && r->napp_ports < 64)
				r->app_ports[r->napp_ports++] = (uint16_t)json_integer_value(port);
		}
		return ret;
	}
	json_array_foreach(json_object_get(o, "ipProtocols"), i, e) {
		const char *pr = json_string_value(e);

		if (!pr) {
			set_err(err, errsz, "%s: ipProtocols[%zu] is not a string", what, i);
			return -EINVAL;
		}
		r->protos |= !strcasecmp(pr, "TCP")  ? AZ_P_TCP :
			     !strcasecmp(pr, "UDP")  ? AZ_P_UDP :
			     !strcasecmp(pr, "ICMP") ? AZ_P_ICMP :
			     !strcasecmp(pr, "Any")  ? AZ_P_ALL :
						       0;
	}
	if (!r->protos) {
		set_err(err, errsz, "%s: no known ipProtocols (TCP, UDP, ICMP, Any)", what);
		return -EINVAL;
	}
	ret = strings(o, NULL, "destinationAddresses", &r->dst, &r->ndst, what, err, errsz);
	if (!ret)
		ret = strings(o, NULL, "destinationFqdns", &r->fqdns, &r->nfqdns, what, err, errsz);
	if (!ret)
		ret = strings(o, NULL, "destinationPorts", &pv, &npv, what, err, errsz);
	if (!ret)
		ret = ports(r, pv, npv, what, err, errsz);
	strv_free(pv, npv);
	return ret;
}

static int fw_group(json_t *g, struct fw_coll **cv, size_t *nc, char *err, size_t errsz,
		    const char *path)
{
	json_t *p = props_of(g), *colls = json_object_get(p, "ruleCollections"), *c;
	json_t *prio = json_object_get(p, "priority");
	const char *gname = json_string_value(json_object_get(g, "name"));
	size_t i;

	if (!json_is_array(colls)) {
		set_err(err, errsz,
			"%s: not a firewall policy rule collection group (no "
			"ruleCollections)",
			path);
		return -EINVAL;
	}
	json_array_foreach(colls, i, c) {
		struct fw_coll *nv = realloc(*cv, (*nc + 1) * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		*cv = nv;
		nv[*nc] = (struct fw_coll){ .c = c,
					    .gprio = (int)json_integer_value(prio),
					    .cprio = (int)json_integer_value(
						    json_object_get(c, "priority")),
					    .order = *nc,
					    .gname = gname };
		(*nc)++;
	}
	return 0;
}

int az_fw_load(const char *path, struct az_set *s, char *err, size_t errsz)
{
	json_t *root = load_json(path, err, errsz), *g, *e;
	struct fw_coll *cv = NULL;
	size_t nc = 0, i;
	int ret = 0;

	if (!root)
		return -EINVAL;
	if (!s->file) {
		s->file = strdup(path);
		s->name = strdup(base_name(path));
		s->fw = true;
		if (!s->file || !s->name) {
			ret = -ENOMEM;
			goto out;
		}
	}
	if (json_is_array(root)) {
		json_array_foreach(root, i, g)
			if ((ret = fw_group(g, &cv, &nc, err, errsz, path)))
				goto out;
	} else {
		json_t *res = json_object_get(root, "resources");

		if (json_is_array(res)) {
			json_array_foreach(res, i, g) {
				const char *t = json_string_value(json_object_get(g, "type"));

				if (t && strcasestr(t, "ruleCollectionGroups") &&
				    (ret = fw_group(g, &cv, &nc, err, errsz, path)))
					goto out;
			}
		} else if ((ret = fw_group(root, &cv, &nc, err, errsz, path))) {
			goto out;
		}
	}
	qsort(cv, nc, sizeof(*cv), cmp_coll);
	/* Network rules before application rules, each by group and collection priority. */
	for (int pass = 0; pass < 2; pass++)
		for (size_t k = 0; k < nc; k++) {
			const char *type =
				json_string_value(json_object_get(cv[k].c, "ruleCollectionType"));

			if (!type || strcasecmp(type, "FirewallPolicyFilterRuleCollection"))
				continue; /* NAT collections translate, they do not filter */
			json_array_foreach(json_object_get(cv[k].c, "rules"), i, e) {
				const char *rt = json_string_value(json_object_get(e, "ruleType"));
				bool app = rt && !strcasecmp(rt, "ApplicationRule");

				if (!rt || (!app && strcasecmp(rt, "NetworkRule"))) {
					set_err(err, errsz,
						"%s: rule %zu of a filter collection has "
						"ruleType '%s'",
						path, i, rt ? rt : "(none)");
					ret = -EINVAL;
					goto out;
				}
				if (app != (pass == 1))
					continue;
				if ((ret = fw_rule(s, &cv[k], e, i, app, err, errsz)))
					goto out;
			}
		}
out:
	free(cv);
	json_decref(root);
	return ret;
}

void az_set_free(struct az_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct az_rule *r = &s->v[i];

		free(r->name);
		free(r->where);
		strv_free(r->src, r->nsrc);
		strv_free(r->dst, r->ndst);
		strv_free(r->fqdns, r->nfqdns);
		free(r->ports);
	}
	free(s->v);
	if (s->loaded)
		offline_close(&s->o);
	compiled_free(s->c);
	policy_free(s->pol);
	free(s->text);
	free(s->file);
	free(s->name);
	memset(s, 0, sizeof(*s));
}
