// SPDX-License-Identifier: GPL-2.0-only
/*
 * The policy compiler's driver: numbers the rules (platform rules first), resolves their
 * endpoints, then builds the LPM, port and class tables (compile_resolve.c, compile_lpm.c,
 * compile_ports.c, compile_class.c).  Problems are collected in the diag; the tables are only
 * built when there are none, so a policy either compiles whole or not at all.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compile_internal.h"

/*
 * What every Azure VM needs whatever the policy says: Azure DNS, the VM agent and wire server,
 * load-balancer probes, instance metadata and DHCP.  It is policy text so that "compile" shows
 * it like any rule and a policy can switch it off ("platform off").
 */
const char amlg_platform_policy[] =
	"allow out udp port 53 to 168.63.129.16 flow PLATFORM-DNS comment \"Azure DNS\"\n"
	"allow out tcp port 53 to 168.63.129.16 flow PLATFORM-DNS comment \"Azure DNS\"\n"
	"allow out tcp port { 80, 32526 } to 168.63.129.16 flow PLATFORM-WIRESERVER "
	"comment \"VM agent and wire server\"\n"
	"allow in tcp from 168.63.129.16 flow PLATFORM-LB-PROBE "
	"comment \"load-balancer health probes\"\n"
	"allow out tcp port 80 to 169.254.169.254 flow PLATFORM-IMDS "
	"comment \"instance metadata\"\n"
	"allow out udp port 67 to { 255.255.255.255, 168.63.129.16 } flow PLATFORM-DHCP\n"
	"allow in udp port 68 from 168.63.129.16 flow PLATFORM-DHCP\n"
	"allow out udp port 547 to ff02::1:2 flow PLATFORM-DHCPV6\n"
	"allow in udp port 546 from fe80::/10 flow PLATFORM-DHCPV6\n";

#define PLATFORM_ORIGIN "platform"

/* A rule to compile, before it has a bit. */
struct src_rule {
	const struct rule *r;
	bool platform;
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Copy s into dst; when it does not fit keep its end, which names the file, behind "...". */
static void copy_tail(char *dst, size_t sz, const char *s, const char *suffix)
{
	size_t len = strlen(s), slen = strlen(suffix), keep = sz - 1 - slen;
	char *p = dst;

	if (len > keep) {
		memcpy(p, "...", 3);
		p += 3;
		s += len - (keep - 3);
		len = keep - 3;
	}
	memcpy(p, s, len);
	memcpy(p + len, suffix, slen + 1);
}

static void set_origin(struct crule *cr, const struct rule *r)
{
	char line[16];

	if (cr->platform) {
		snprintf(cr->origin, sizeof(cr->origin), PLATFORM_ORIGIN);
		return;
	}
	snprintf(line, sizeof(line), ":%u", r->loc.line);
	copy_tail(cr->origin, sizeof(cr->origin), r->loc.file ? r->loc.file : "?", line);
}

static void set_flow(struct crule *cr, const struct rule *r, struct diag *d)
{
	if (!r->flow) {
		cr->flow[0] = '\0';
		return;
	}
	/* The datapath's rule metadata has a fixed size; cutting an ID must not go unnoticed. */
	if (strlen(r->flow) >= sizeof(cr->flow))
		diag_warning(d, r->flow_loc, "flow ID longer than %zu characters is cut short",
			     sizeof(cr->flow) - 1);
	snprintf(cr->flow, sizeof(cr->flow), "%s", r->flow);
}

static bool proto_valid(uint8_t proto)
{
	return proto == AMLG_PROTO_ANY || proto == AMLG_PROTO_TCP || proto == AMLG_PROTO_UDP ||
	       proto == AMLG_PROTO_ICMP || proto == AMLG_PROTO_ICMPV6;
}

static int init_rule(struct crule *cr, const struct src_rule *s, unsigned bit, struct diag *d)
{
	const struct rule *r = s->r;

	cr->dir = r->dir;
	cr->bit = (uint16_t)bit;
	cr->proto = r->proto;
	cr->platform = s->platform;
	cr->src = s->platform ? NULL : r;
	set_origin(cr, r);
	set_flow(cr, r, d);
	if (r->nports) {
		cr->ports = malloc(r->nports * sizeof(*cr->ports));
		if (!cr->ports)
			return -ENOMEM;
		memcpy(cr->ports, r->ports, r->nports * sizeof(*cr->ports));
		cr->nports = r->nports;
	}
	return 0;
}

/* Platform rules first, then the policy's, each in written order. */
static int gather(const struct policy *p, const struct policy *plat, struct src_rule **out,
		  size_t *n)
{
	size_t nplat = plat ? plat->nrules : 0;
	struct src_rule *v = calloc(nplat + p->nrules + 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < nplat; i++)
		v[i] = (struct src_rule){ .r = &plat->rules[i], .platform = true };
	for (size_t i = 0; i < p->nrules; i++)
		v[nplat + i] = (struct src_rule){ .r = &p->rules[i] };
	*out = v;
	*n = nplat + p->nrules;
	return 0;
}

/*
 * A rule is a bit in a fixed-size bitmap: a direction holds AMLG_MAX_RULES.  Report the first
 * rule over the limit (the rest would only repeat it) and drop the excess, so that the other
 * rules are still checked.  Rules the datapath cannot represent are dropped the same way.
 */
static size_t number_rules(struct src_rule *v, size_t n, unsigned count[AMLG_DIRS], struct diag *d)
{
	unsigned nplat[AMLG_DIRS] = { 0 };
	bool over[AMLG_DIRS] = { false };
	size_t kept = 0;

	for (size_t i = 0; i < n; i++) {
		const struct rule *r = v[i].r;

		if (r->dir >= AMLG_DIRS || !proto_valid(r->proto)) {
			diag_error(d, r->loc, "rule has an invalid direction (%u) or protocol (%u)",
				   r->dir, r->proto);
			continue;
		}
		if (count[r->dir] == AMLG_MAX_RULES) {
			if (!over[r->dir]) {
				diag_error(d, r->loc, "too many '%s' rules: the limit is %d",
					   dir_name(r->dir), AMLG_MAX_RULES);
				if (nplat[r->dir])
					diag_hint(d, "%u of them are built-in platform rules",
						  nplat[r->dir]);
			}
			over[r->dir] = true;
			continue;
		}
		count[r->dir]++;
		nplat[r->dir] += v[i].platform;
		v[kept++] = v[i];
	}
	return kept;
}

static int build_rules(struct compiled *c, struct src_rule *v, size_t n,
		       const struct compile_opts *o, struct diag *d)
{
	unsigned bits[AMLG_DIRS] = { 0 };
	int err = 0;

	n = number_rules(v, n, c->nrules_dir, d);
	c->rules = calloc(n ? n : 1, sizeof(*c->rules));
	if (!c->rules)
		return -ENOMEM;
	c->nrules = n;
	for (size_t i = 0; i < n && !err; i++) {
		unsigned dir = v[i].r->dir, bit = bits[dir]++;
		/* Out rules by bit, then in rules by bit. */
		struct crule *cr = &c->rules[(dir == AMLG_DIR_IN ? c->nrules_dir[0] : 0) + bit];

		err = init_rule(cr, &v[i], bit, d);
		if (!err)
			err = compile_resolve(cr, v[i].r, o->tags, d);
	}
	return err;
}

static void set_header(struct compiled *c, const struct policy *p, const struct compile_opts *o)
{
	unsigned most = c->nrules_dir[0] > c->nrules_dir[1] ? c->nrules_dir[0] : c->nrules_dir[1];

	c->mode = o->mode >= 0 ? o->mode : p->mode;
	c->nwords = most ? (most + 63) / 64 : 1;
	if (p->platform)
		c->flags |= AMLG_PF_PLATFORM;
	for (size_t i = 0; i < c->nrules; i++) {
		if (c->rules[i].has_local)
			c->flags |= c->rules[i].dir == AMLG_DIR_OUT ? AMLG_PF_HAS_LOCAL_OUT :
								      AMLG_PF_HAS_LOCAL_IN;
	}
	copy_tail(c->path, sizeof(c->path), p->path ? p->path : "", "");
	memcpy(c->sha256, p->sha256, sizeof(c->sha256));
	c->noflows = p->noflows;
	c->nnoflows = p->nnoflows;
	/* DNS learning trusts the policy's resolvers, or Azure DNS when it names none */
	c->nresolvers = p->nresolvers;
	for (size_t i = 0; i < p->nresolvers && i < AMLG_RESOLVERS_MAX; i++)
		c->resolvers[i] = p->resolvers[i];
	if (!c->nresolvers && prefix_parse_loose(POLICY_DNS_RESOLVER, &c->resolvers[0]) == 0)
		c->nresolvers = 1;
	c->dns_ttl_floor = p->dns_ttl_floor;
	c->dns_grace = p->dns_grace;
	c->sni_mode = p->sni_mode;
}

static int build_tables(struct compiled *c)
{
	struct class_table t;
	int err;

	err = class_table_init(&t);
	if (!err)
		err = compile_lpm(c, &t);
	if (!err)
		err = compile_ports(c, &t);
	if (!err)
		err = compile_hosts(c, &t);
	if (!err)
		class_table_move(&t, c);
	class_table_free(&t);
	return err;
}

int compile_policy(const struct policy *p, const struct compile_opts *o, struct diag *d,
		   struct compiled **out)
{
	static const struct compile_opts defaults = { .mode = -1 };
	uint64_t start = now_us();
	size_t nerrors = d->nerrors, nsrc = 0;
	struct policy *plat = NULL;
	struct src_rule *src = NULL;
	struct compiled *c;
	int err;

	*out = NULL;
	if (!o)
		o = &defaults;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (p->platform) {
		err = policy_parse_string(PLATFORM_ORIGIN, amlg_platform_policy, NULL, 0, d, &plat);
		if (err)
			goto out;
	}
	err = gather(p, plat, &src, &nsrc);
	if (!err)
		err = build_rules(c, src, nsrc, o, d);
	if (!err && d->nerrors > nerrors)
		err = -EINVAL;
	if (err)
		goto out;
	set_header(c, p, o);
	err = build_tables(c);
	if (err)
		goto out;
	c->compile_us = (uint32_t)(now_us() - start);
	*out = c;
	c = NULL;
out:
	free(src);
	policy_free(plat);
	compiled_free(c);
	return err;
}

static void crule_free(struct crule *cr)
{
	free(cr->ports);
	prefix_list_free(&cr->remote);
	prefix_list_free(&cr->local);
	for (size_t i = 0; i < cr->nres; i++) {
		free(cr->res[i].text);
		free(cr->res[i].note);
		prefix_list_free(&cr->res[i].pfx);
	}
	free(cr->res);
}

void compiled_free(struct compiled *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nrules; i++)
		crule_free(&c->rules[i]);
	free(c->rules);
	free(c->lpm4);
	free(c->lpm6);
	free(c->classes);
	free(c->ports);
	free(c->hosts);
	free(c);
}

const struct crule *compiled_rule(const struct compiled *c, unsigned id)
{
	unsigned dir = id / AMLG_MAX_RULES, bit = id % AMLG_MAX_RULES;

	if (!c || dir >= AMLG_DIRS || bit >= c->nrules_dir[dir])
		return NULL;
	return &c->rules[(dir == AMLG_DIR_IN ? c->nrules_dir[0] : 0) + bit];
}
