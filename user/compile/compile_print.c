// SPDX-License-Identifier: GPL-2.0-only
/*
 * "amlguard compile" output: every rule with what each endpoint item resolved to, then the table
 * sizes, as a plain listing or as its JSON twin (jansson).
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "compile/compile.h"
#include "base/json_text.h"

/*
 * Kernel LPM trie node header (rcu head, two children, prefix length, flags); a trie of n
 * entries holds up to n - 1 intermediate nodes of the same size without a value.
 */
#define LPM_NODE_OVERHEAD 40
#define LPM_VALUE_SIZE sizeof(__u32)

static const char *const kind_names[AMLG_DIRS * 2] = {
	[AMLG_LPM_KIND(AMLG_DIR_OUT, AMLG_SIDE_REMOTE)] = "out-remote",
	[AMLG_LPM_KIND(AMLG_DIR_OUT, AMLG_SIDE_LOCAL)] = "out-local",
	[AMLG_LPM_KIND(AMLG_DIR_IN, AMLG_SIDE_REMOTE)] = "in-remote",
	[AMLG_LPM_KIND(AMLG_DIR_IN, AMLG_SIDE_LOCAL)] = "in-local",
};

static const char *ep_kind_name(enum ep_kind kind)
{
	switch (kind) {
	case EP_ANY:
		return "any";
	case EP_CIDR:
		return "cidr";
	case EP_TAG:
		return "tag";
	case EP_HOST:
		return "host";
	}
	return "?";
}

static const char *mode_name(int mode)
{
	return mode == AMLG_MODE_ENFORCE ? "enforce" : "audit";
}

/* Key bytes past prefixlen (kind, padding, address) plus the value, per entry. */
static size_t lpm_bytes(size_t n, size_t data)
{
	size_t node = LPM_NODE_OVERHEAD + data;

	return n ? n * (node + LPM_VALUE_SIZE) + (n - 1) * node : 0;
}

void compiled_stats(const struct compiled *c, struct compiled_stats *s)
{
	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < c->nlpm4; i++)
		s->lpm4[c->lpm4[i].kind]++;
	for (size_t i = 0; i < c->nlpm6; i++)
		s->lpm6[c->lpm6[i].kind]++;
	for (size_t i = 0; c->ports && i < AMLG_PORTS_PER_SLOT; i++)
		s->ports_used += c->ports[i] != AMLG_CLASS_EMPTY;
	s->nclasses = c->nclasses;
	s->nwords = c->nwords;
	s->mem_bytes = lpm_bytes(c->nlpm4, sizeof(struct amlg_lpm4_key) - sizeof(__u32)) +
		       lpm_bytes(c->nlpm6, sizeof(struct amlg_lpm6_key) - sizeof(__u32)) +
		       c->nclasses * sizeof(struct amlg_bitmap) +
		       c->nrules * sizeof(struct amlg_rule_info) +
		       AMLG_PORTS_PER_SLOT * sizeof(__u32) + sizeof(struct amlg_pcfg);
}

static void hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

/* "80,443,1000-2000" or "any". */
static void print_ports(const struct crule *cr, FILE *f)
{
	if (!cr->nports)
		fprintf(f, "any");
	for (size_t i = 0; i < cr->nports; i++) {
		const struct port_range *pr = &cr->ports[i];

		fprintf(f, "%s%u", i ? "," : "", pr->lo);
		if (pr->hi != pr->lo)
			fprintf(f, "-%u", pr->hi);
	}
}

static const char *item_set(const struct item_res *res)
{
	return res->item ? res->item->set : NULL;
}

/* ---- plain */

static void print_item(const struct item_res *res, FILE *f)
{
	const char *set = item_set(res);

	fprintf(f, "    %-6s %s", res->side == AMLG_SIDE_LOCAL ? "local" : "remote", res->text);
	if (set)
		fprintf(f, " (@%s)", set);
	fprintf(f, ": %zu IPv4, %zu IPv6", res->n4, res->n6);
	if (res->note)
		fprintf(f, " (%s)", res->note);
	fputc('\n', f);
}

static void print_prefixes(const char *side, const struct prefix_list *l, FILE *f)
{
	char buf[PREFIX_STRLEN];

	fprintf(f, "    %s prefixes (%zu):", side, l->n);
	for (size_t i = 0; i < l->n; i++)
		fprintf(f, "%s%s", i % 4 ? " " : "\n      ",
			prefix_str(&l->v[i], buf, sizeof(buf)));
	fputc('\n', f);
}

static void print_rule(const struct crule *cr, FILE *f, bool verbose)
{
	fprintf(f, "rule %u: %s %s port ", AMLG_RULE_ID(cr->dir, cr->bit), dir_name(cr->dir),
		proto_name(cr->proto));
	print_ports(cr, f);
	if (cr->flow[0])
		fprintf(f, " flow %s", cr->flow);
	fprintf(f, " [%s]\n", cr->origin);
	for (size_t i = 0; i < cr->nres; i++)
		print_item(&cr->res[i], f);
	if (!cr->has_local)
		fprintf(f, "    local  any\n");
	if (!verbose)
		return;
	print_prefixes("remote", &cr->remote, f);
	if (cr->has_local)
		print_prefixes("local", &cr->local, f);
}

/* Which service-tag data the tags came from: an auditor's first question. */
static void print_tags(const struct compiled *c, FILE *f)
{
	if (!c->tags_file[0]) {
		fprintf(f, "service tags: none\n");
		return;
	}
	fprintf(f, "service tags: %s (cloud %s, changeNumber %u%s%s)\n", c->tags_file,
		c->tags_cloud, c->tags_change, c->tags_date[0] ? ", date " : "", c->tags_date);
}

static void print_noflows(const struct compiled *c, FILE *f)
{
	for (size_t i = 0; i < c->nnoflows; i++) {
		const struct noflow *nf = &c->noflows[i];

		fprintf(f, "noflow %s [%s]: %s\n", nf->flow, nf->origin, nf->comment);
	}
}

static void print_kinds(const char *family, const size_t *n, FILE *f)
{
	fprintf(f, "  lpm %s entries:", family);
	for (unsigned k = 0; k < AMLG_DIRS * 2; k++)
		fprintf(f, " %s %zu", kind_names[k], n[k]);
	fputc('\n', f);
}

static const char *const sni_names[] = { "require", "allow-missing", "off" };

/* The rules (by flow ID) of a host pattern, as "A, B". */
static void host_rules(const struct compiled *c, const struct chost *h, char *buf, size_t sz)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < c->nrules && n < sz; i++) {
		const struct crule *cr = &c->rules[i];

		if (!((h->bm[cr->dir].w[cr->bit / 64] >> (cr->bit % 64)) & 1))
			continue;
		n += (size_t)snprintf(buf + n, sz - n, "%s%s", n ? ", " : "",
				      cr->flow[0] ? cr->flow : cr->origin);
	}
}

/* Host patterns, learned from DNS answers of the trusted resolvers at run time. */
static void print_hosts(const struct compiled *c, FILE *f)
{
	char a[PREFIX_STRLEN], rules[512];

	if (!c->nhosts)
		return;
	fprintf(f, "\nhost patterns (addresses learned from DNS answers):\n");
	for (size_t i = 0; i < c->nhosts; i++) {
		host_rules(c, &c->hosts[i], rules, sizeof(rules));
		fprintf(f, "  %-40s %s\n", c->hosts[i].pattern, rules);
	}
	fprintf(f, "  trusted resolvers:");
	for (size_t i = 0; i < c->nresolvers; i++)
		fprintf(f, " %s",
			addr_str(c->resolvers[i].family, c->resolvers[i].addr, a, sizeof(a)));
	fprintf(f, "\n  dns ttl-floor %us, grace %us; sni %s\n", c->dns_ttl_floor, c->dns_grace,
		sni_names[c->sni_mode % 3]);
}

static int print_plain(const struct compiled *c, FILE *f, bool verbose)
{
	struct compiled_stats s;
	char sha[65];

	compiled_stats(c, &s);
	hex(c->sha256, sizeof(c->sha256), sha);
	fprintf(f, "policy %s (sha256 %s)\n", c->path[0] ? c->path : "-", sha);
	fprintf(f, "mode %s, platform rules %s, %u out and %u in rules, compiled in %u us\n",
		mode_name(c->mode), c->flags & AMLG_PF_PLATFORM ? "on" : "off", c->nrules_dir[0],
		c->nrules_dir[1], c->compile_us);
	print_tags(c, f);
	fputc('\n', f);
	for (size_t i = 0; i < c->nrules; i++)
		print_rule(&c->rules[i], f, verbose);
	print_noflows(c, f);
	print_hosts(c, f);
	fprintf(f, "\ntables:\n");
	print_kinds("IPv4", s.lpm4, f);
	print_kinds("IPv6", s.lpm6, f);
	fprintf(f, "  classes %zu, bitmap words %u\n", s.nclasses, s.nwords);
	fprintf(f, "  port-table entries in use %zu of %u\n", s.ports_used, AMLG_PORTS_PER_SLOT);
	fprintf(f, "  local endpoints: out %s, in %s\n",
		c->flags & AMLG_PF_HAS_LOCAL_OUT ? "yes" : "no",
		c->flags & AMLG_PF_HAS_LOCAL_IN ? "yes" : "no");
	fprintf(f, "  estimated map memory %zu bytes\n", s.mem_bytes);
	return ferror(f) ? -EIO : 0;
}

/* ---- JSON */

/*
 * Built with json_pack: an "o" argument that is NULL (a failed allocation below) fails the whole
 * pack, and its references are stolen either way, so errors need no unwinding here.
 */
static json_t *json_item(const struct item_res *res)
{
	return json_pack("{s:s, s:o, s:o, s:I, s:I, s:o}", "kind", ep_kind_name(res->kind), "text",
			 json_str_escaped(res->text), "set", json_str_escaped(item_set(res)),
			 "prefixes4", (json_int_t)res->n4, "prefixes6", (json_int_t)res->n6, "note",
			 json_str_escaped(res->note));
}

static json_t *json_prefixes(const struct prefix_list *l)
{
	json_t *a = json_array();
	char buf[PREFIX_STRLEN];

	for (size_t i = 0; a && i < l->n; i++) {
		if (json_array_append_new(a, json_string(prefix_str(&l->v[i], buf, sizeof(buf))))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *json_side(const struct crule *cr, uint8_t side, bool verbose)
{
	const struct prefix_list *l = side == AMLG_SIDE_LOCAL ? &cr->local : &cr->remote;
	json_t *items = json_array();

	for (size_t i = 0; items && i < cr->nres; i++) {
		if (cr->res[i].side == side &&
		    json_array_append_new(items, json_item(&cr->res[i]))) {
			json_decref(items);
			return NULL;
		}
	}
	if (!verbose)
		return json_pack("{s:o}", "items", items);
	return json_pack("{s:o, s:o}", "items", items, "prefixes", json_prefixes(l));
}

/* [[lo, hi], ...]; [] = any port. */
static json_t *json_ports(const struct crule *cr)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < cr->nports; i++) {
		if (json_array_append_new(a, json_pack("[ii]", cr->ports[i].lo, cr->ports[i].hi))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *json_rule(const struct crule *cr, bool verbose)
{
	json_t *local = cr->has_local ? json_side(cr, AMLG_SIDE_LOCAL, verbose) : json_null();

	return json_pack("{s:i, s:s, s:s, s:o, s:o, s:o, s:b, s:I, s:o, s:o}", "id",
			 (int)AMLG_RULE_ID(cr->dir, cr->bit), "dir", dir_name(cr->dir), "proto",
			 proto_name(cr->proto), "ports", json_ports(cr), "flow",
			 json_str_escaped(cr->flow), "origin", json_str_escaped(cr->origin),
			 "platform", cr->platform, "hosts", (json_int_t)cr->nhosts, "remote",
			 json_side(cr, AMLG_SIDE_REMOTE, verbose), "local", local);
}

static json_t *json_kinds(const size_t *n)
{
	json_t *o = json_object();

	for (unsigned k = 0; o && k < AMLG_DIRS * 2; k++) {
		if (json_object_set_new(o, kind_names[k], json_integer((json_int_t)n[k]))) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

static json_t *json_tables(const struct compiled *c)
{
	struct compiled_stats s;

	compiled_stats(c, &s);
	return json_pack("{s:o, s:o, s:I, s:I, s:i, s:b, s:b, s:I}", "lpm4", json_kinds(s.lpm4),
			 "lpm6", json_kinds(s.lpm6), "classes", (json_int_t)s.nclasses,
			 "ports_in_use", (json_int_t)s.ports_used, "nwords", (int)s.nwords,
			 "has_local_out", !!(c->flags & AMLG_PF_HAS_LOCAL_OUT), "has_local_in",
			 !!(c->flags & AMLG_PF_HAS_LOCAL_IN), "memory_bytes",
			 (json_int_t)s.mem_bytes);
}

static json_t *json_tags(const struct compiled *c)
{
	if (!c->tags_file[0])
		return json_null();
	return json_pack("{s:o, s:o, s:I, s:s?}", "file", json_str_escaped(c->tags_file), "cloud",
			 json_str_escaped(c->tags_cloud), "change", (json_int_t)c->tags_change,
			 "date", c->tags_date[0] ? c->tags_date : NULL);
}

static json_t *json_noflows(const struct compiled *c)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < c->nnoflows; i++) {
		const struct noflow *nf = &c->noflows[i];

		if (json_array_append_new(a, json_pack("{s:o, s:o, s:o}", "flow",
						       json_str_escaped(nf->flow), "comment",
						       json_str_escaped(nf->comment), "origin",
						       json_str_escaped(nf->origin)))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *json_hosts(const struct compiled *c)
{
	json_t *o = json_object(), *pats = json_array(), *res = json_array();
	char a[PREFIX_STRLEN], rules[512];

	for (size_t i = 0; i < c->nhosts; i++) {
		host_rules(c, &c->hosts[i], rules, sizeof(rules));
		json_array_append_new(pats, json_pack("{s:o, s:o}", "pattern",
						      json_str_escaped(c->hosts[i].pattern),
						      "rules", json_str_escaped(rules)));
	}
	for (size_t i = 0; i < c->nresolvers; i++)
		json_array_append_new(res,
				      json_string(addr_str(c->resolvers[i].family,
							   c->resolvers[i].addr, a, sizeof(a))));
	json_object_set_new(o, "patterns", pats);
	json_object_set_new(o, "resolvers", res);
	json_object_set_new(o, "ttl_floor", json_integer(c->dns_ttl_floor));
	json_object_set_new(o, "grace", json_integer(c->dns_grace));
	json_object_set_new(o, "sni", json_string(sni_names[c->sni_mode % 3]));
	return o;
}

json_t *compiled_json(const struct compiled *c, bool verbose)
{
	json_t *rules = json_array();
	char sha[65];

	for (size_t i = 0; rules && i < c->nrules; i++) {
		if (json_array_append_new(rules, json_rule(&c->rules[i], verbose))) {
			json_decref(rules);
			return NULL;
		}
	}
	hex(c->sha256, sizeof(c->sha256), sha);
	return json_pack("{s:s, s:b, s:o, s:s, s:I, s:o, s:o, s:o, s:o, s:o}", "mode",
			 mode_name(c->mode), "platform", !!(c->flags & AMLG_PF_PLATFORM), "path",
			 json_str_escaped(c->path), "sha256", sha, "compile_us",
			 (json_int_t)c->compile_us, "tags", json_tags(c), "rules", rules, "noflow",
			 json_noflows(c), "hosts", json_hosts(c), "tables", json_tables(c));
}

int compiled_print(const struct compiled *c, FILE *f, bool json, bool verbose)
{
	json_t *root;
	int err;

	if (!json)
		return print_plain(c, f, verbose);
	root = compiled_json(c, verbose);
	if (!root)
		return -ENOMEM;
	err = json_dumpf(root, f, JSON_INDENT(2)) ? -EIO : 0;
	json_decref(root);
	if (!err && fputc('\n', f) == EOF)
		err = -EIO;
	return err;
}
