// SPDX-License-Identifier: GPL-2.0-only
/*
 * The policy compiler (user/compile/compile*.c): table contents, a userspace reference of the datapath's
 * lookup checked against expected verdicts, and a randomized comparison of that lookup with a
 * brute-force "first rule that covers the packet" over the source rules.
 */
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "unit.h"

#include "compile/compile.h"
#include "memout.h"
#include "base/hostpat.h"

#define TEST_FILE "test.pol"

/* ---- policies built by hand */

static struct policy *pol_new(bool platform)
{
	struct policy *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	p->path = strdup(TEST_FILE);
	p->platform = platform;
	p->mode = AMLG_MODE_AUDIT;
	return p;
}

static void add_item(struct endpoint *ep, const char *tok, unsigned line, unsigned col)
{
	struct ep_item *it;

	ep->items = realloc(ep->items, (ep->n + 1) * sizeof(*ep->items));
	assert_non_null(ep->items);
	it = &ep->items[ep->n++];
	memset(it, 0, sizeof(*it));
	it->loc = (struct srcloc){ .file = TEST_FILE, .line = line, .col = col, .len = 1 };
	if (!strcmp(tok, "any")) {
		it->kind = EP_ANY;
	} else if (!strncmp(tok, "tag:", 4)) {
		it->kind = EP_TAG;
		it->name = strdup(tok + 4);
	} else if (!strncmp(tok, "host:", 5)) {
		it->kind = EP_HOST;
		it->name = strdup(tok + 5);
	} else {
		it->kind = EP_CIDR;
		if (prefix_parse(tok, &it->pfx, NULL))
			fail_msg("bad prefix in test: %s", tok);
	}
}

/* Space-separated items: "10.0.0.0/8 tag:Storage host:x.example any". */
static void parse_items(struct endpoint *ep, const char *s, unsigned line)
{
	char *dup = strdup(s), *save = NULL;
	unsigned col = 1;

	for (char *t = strtok_r(dup, " ", &save); t; t = strtok_r(NULL, " ", &save))
		add_item(ep, t, line, col++);
	free(dup);
}

/* "80,443,1000-2000"; NULL = any port. */
static void parse_ports(struct rule *r, const char *s)
{
	char *dup, *save = NULL;

	if (!s)
		return;
	dup = strdup(s);
	for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(t, '-');
		struct port_range pr = { .lo = (uint16_t)atoi(t) };

		pr.hi = dash ? (uint16_t)atoi(dash + 1) : pr.lo;
		r->ports = realloc(r->ports, (r->nports + 1) * sizeof(pr));
		assert_non_null(r->ports);
		r->ports[r->nports++] = pr;
	}
	free(dup);
}

/*
 * Append a rule at line = its index + 1.  local NULL = no local endpoint.  The pointer is valid
 * until the next rule is added.
 */
static struct rule *pol_rule(struct policy *p, int dir, int proto, const char *ports,
			     const char *remote, const char *local)
{
	struct rule *r;
	unsigned line = (unsigned)p->nrules + 1;

	p->rules = realloc(p->rules, (p->nrules + 1) * sizeof(*p->rules));
	assert_non_null(p->rules);
	r = &p->rules[p->nrules++];
	memset(r, 0, sizeof(*r));
	r->dir = (uint8_t)dir;
	r->proto = (uint8_t)proto;
	r->loc = (struct srcloc){ .file = TEST_FILE, .line = line, .col = 1, .len = 5 };
	parse_ports(r, ports);
	parse_items(&r->remote, remote, line);
	if (local) {
		r->has_local = true;
		parse_items(&r->local, local, line);
	}
	return r;
}

static void free_ep(struct endpoint *ep)
{
	for (size_t i = 0; i < ep->n; i++) {
		free(ep->items[i].name);
		free(ep->items[i].set);
	}
	free(ep->items);
}

static void pol_free(struct policy *p)
{
	for (size_t i = 0; i < p->nrules; i++) {
		free_ep(&p->rules[i].remote);
		free_ep(&p->rules[i].local);
		free(p->rules[i].ports);
		free(p->rules[i].flow);
	}
	free(p->rules);
	free(p->path);
	free(p);
}

/* ---- a fake tag resolver */

struct fake_tag {
	const char *name;
	const char *prefixes[4];
	const char *note;
};

static const struct fake_tag fake_tags[] = {
	{ "Storage.EastUS", { "20.38.0.0/16", "20.150.0.0/17", "2603:1030::/32" }, NULL },
	{ "Keyvault.EastUS", { "40.0.0.0/24" }, "alias of AzureKeyVault.EastUS" },
	{ "Empty", { NULL }, NULL },
	{ "V6Only", { "2603:1040::/32" }, NULL },
};

static const struct fake_tag *fake_find(const char *name)
{
	for (size_t i = 0; i < sizeof(fake_tags) / sizeof(fake_tags[0]); i++)
		if (!strcmp(fake_tags[i].name, name))
			return &fake_tags[i];
	return NULL;
}

static int fake_resolve(void *ctx, const struct ep_item *item, struct prefix_list *out, char **note,
			struct diag *d)
{
	const struct fake_tag *t = fake_find(item->name);
	unsigned *calls = ctx;

	(*calls)++;
	if (!t) {
		diag_error(d, item->loc, "unknown service tag '%s'", item->name);
		return -ENOENT;
	}
	for (size_t i = 0; i < 4 && t->prefixes[i]; i++) {
		struct prefix p;

		assert_int_equal(prefix_parse(t->prefixes[i], &p, NULL), 0);
		assert_int_equal(prefix_list_add(out, &p), 0);
	}
	if (t->note)
		*note = strdup(t->note);
	return 0;
}

static unsigned fake_calls;
static const struct tag_resolver fake_resolver = { .resolve = fake_resolve, .ctx = &fake_calls };
static const struct compile_opts with_tags = { .mode = -1, .tags = &fake_resolver };

/* ---- compiling */

static struct compiled *compile_ok(const struct policy *p, const struct compile_opts *o,
				   struct diag *d)
{
	struct compiled *c = NULL;
	int err = compile_policy(p, o, d, &c);

	if (err) {
		diag_print(d, stderr);
		fail_msg("compile failed: %d", err);
	}
	assert_non_null(c);
	return c;
}

static struct compiled *compile_quiet(const struct policy *p, const struct compile_opts *o)
{
	struct diag d;
	struct compiled *c;

	diag_init(&d);
	c = compile_ok(p, o, &d);
	assert_int_equal(d.nwarnings, 0);
	diag_free(&d);
	return c;
}

static void compile_fails(const struct policy *p, const struct compile_opts *o, struct diag *d)
{
	struct compiled *c = (struct compiled *)1;

	assert_int_equal(compile_policy(p, o, d, &c), -EINVAL);
	assert_null(c);
	assert_true(diag_failed(d));
}

/* The first message of that level containing text, or NULL. */
static const struct diag_msg *find_msg(const struct diag *d, enum diag_level level,
				       const char *text)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->msgs[i].level == level && d->msgs[i].msg && strstr(d->msgs[i].msg, text))
			return &d->msgs[i];
	return NULL;
}

static const struct diag_msg *want_msg(const struct diag *d, enum diag_level level,
				       const char *text)
{
	const struct diag_msg *m = find_msg(d, level, text);

	if (!m) {
		diag_print(d, stderr);
		fail_msg("no %s containing '%s'", level == DIAG_ERROR ? "error" : "warning", text);
	}
	return m;
}

/* ---- the datapath's lookup, in userspace */

static struct prefix pfx(const char *s)
{
	struct prefix p;

	if (prefix_parse_loose(s, &p))
		fail_msg("bad address in test: %s", s);
	return p;
}

/* Longest match, by a plain scan: independent of the order the compiler wrote. */
static const struct clpm *lpm_match(const struct compiled *c, int family, unsigned kind,
				    const uint8_t *addr)
{
	const struct clpm *v = family == 4 ? c->lpm4 : c->lpm6, *best = NULL;
	size_t n = family == 4 ? c->nlpm4 : c->nlpm6;

	for (size_t i = 0; i < n; i++)
		if (v[i].kind == kind && prefix_has_addr(&v[i].pfx, family, addr) &&
		    (!best || v[i].pfx.len > best->pfx.len))
			best = &v[i];
	return best;
}

static struct amlg_bitmap lpm_class(const struct compiled *c, int family, unsigned kind,
				    const uint8_t *addr)
{
	const struct clpm *e = lpm_match(c, family, kind, addr);
	uint32_t cls = e ? e->cls : AMLG_CLASS_EMPTY;

	assert_true(cls < c->nclasses);
	return c->classes[cls];
}

static struct amlg_bitmap class_of(const struct compiled *c, uint32_t cls)
{
	assert_true(cls < c->nclasses);
	return c->classes[cls];
}

static unsigned pslot_of(int proto)
{
	switch (proto) {
	case AMLG_PROTO_TCP:
		return AMLG_PSLOT_TCP;
	case AMLG_PROTO_UDP:
		return AMLG_PSLOT_UDP;
	case AMLG_PROTO_ICMP:
		return AMLG_PSLOT_ICMP;
	case AMLG_PROTO_ICMPV6:
		return AMLG_PSLOT_ICMPV6;
	default:
		return AMLG_PSLOT_OTHER;
	}
}

/* Lowest set bit of a & b over the words in use, or -1. */
static int lowest(const struct compiled *c, const struct amlg_bitmap *a,
		  const struct amlg_bitmap *b)
{
	for (unsigned w = 0; w < c->nwords; w++) {
		uint64_t x = a->w[w] & b->w[w];

		if (x)
			return (int)(w * 64 + (unsigned)__builtin_ctzll(x));
	}
	return -1;
}

struct pkt {
	int dir;
	const char *remote, *local;
	int proto;
	unsigned dport;
};

struct verdict {
	int rule; /* global id of the allowing rule, or -1 */
	int reason; /* AMLG_REASON_* */
	int near; /* port reason: the rule that covers address and protocol; else -1 */
};

static struct verdict lookup_raw(const struct compiled *c, int dir, int family, const uint8_t *r,
				 const uint8_t *l, int proto, unsigned dport)
{
	unsigned pslot = pslot_of(proto);
	unsigned has_local = dir == AMLG_DIR_OUT ? AMLG_PF_HAS_LOCAL_OUT : AMLG_PF_HAS_LOCAL_IN;
	struct amlg_bitmap a = lpm_class(c, family, AMLG_LPM_KIND(dir, AMLG_SIDE_REMOTE), r);
	struct amlg_bitmap pm, pr = class_of(c, c->proto_cls[dir][pslot]);
	struct verdict v = { .rule = -1, .reason = AMLG_REASON_NONE, .near = -1 };
	int bit;

	if (c->flags & has_local) {
		struct amlg_bitmap lb =
			lpm_class(c, family, AMLG_LPM_KIND(dir, AMLG_SIDE_LOCAL), l);

		for (unsigned w = 0; w < AMLG_BM_WORDS; w++)
			a.w[w] &= lb.w[w];
	}
	if (pslot < AMLG_PORTED_PSLOTS)
		pm = class_of(c, c->ports[AMLG_PORT_IDX(0, dir, pslot, dport)]);
	else
		pm = pr;
	bit = lowest(c, &a, &pm);
	if (bit >= 0) {
		v.rule = AMLG_RULE_ID(dir, bit);
	} else if (lowest(c, &a, &a) < 0) {
		v.reason = AMLG_REASON_NO_RULE;
	} else if ((bit = lowest(c, &a, &pr)) < 0) {
		v.reason = AMLG_REASON_PROTO;
	} else {
		v.reason = AMLG_REASON_PORT;
		v.near = AMLG_RULE_ID(dir, bit);
	}
	return v;
}

static struct verdict lookup(const struct compiled *c, const struct pkt *k)
{
	struct prefix r = pfx(k->remote), l;

	/* No local address given: any will do, the rules under test do not narrow it. */
	if (k->local)
		l = pfx(k->local);
	else
		l = pfx(r.family == 4 ? "0.0.0.0" : "::");
	assert_int_equal(r.family, l.family);
	return lookup_raw(c, k->dir, r.family, r.addr, l.addr, k->proto, k->dport);
}

/* The class bitmap of the LPM entry with exactly this prefix and kind. */
static struct amlg_bitmap entry_bits(const struct compiled *c, unsigned kind, const char *text)
{
	struct prefix p = pfx(text);
	const struct clpm *v = p.family == 4 ? c->lpm4 : c->lpm6;
	size_t n = p.family == 4 ? c->nlpm4 : c->nlpm6;

	for (size_t i = 0; i < n; i++)
		if (v[i].kind == kind && !prefix_cmp(&v[i].pfx, &p))
			return class_of(c, v[i].cls);
	fail_msg("no LPM entry %s of kind %u", text, kind);
	return c->classes[0];
}

static uint64_t bits_of(const struct amlg_bitmap *bm)
{
	for (unsigned w = 1; w < AMLG_BM_WORDS; w++)
		assert_int_equal(bm->w[w], 0);
	return bm->w[0];
}

#define OUT_REMOTE AMLG_LPM_KIND(AMLG_DIR_OUT, AMLG_SIDE_REMOTE)
#define OUT_LOCAL AMLG_LPM_KIND(AMLG_DIR_OUT, AMLG_SIDE_LOCAL)
#define IN_REMOTE AMLG_LPM_KIND(AMLG_DIR_IN, AMLG_SIDE_REMOTE)
#define IN_LOCAL AMLG_LPM_KIND(AMLG_DIR_IN, AMLG_SIDE_LOCAL)
#define OUT AMLG_DIR_OUT
#define IN AMLG_DIR_IN
#define ANY AMLG_PROTO_ANY
#define TCP AMLG_PROTO_TCP
#define UDP AMLG_PROTO_UDP
#define ICMP AMLG_PROTO_ICMP
#define ICMP6 AMLG_PROTO_ICMPV6
#define GRE 47
#define IN_ID(bit) AMLG_RULE_ID(AMLG_DIR_IN, bit)

static void assert_entry(const struct compiled *c, unsigned kind, const char *text, uint64_t bits)
{
	struct amlg_bitmap bm = entry_bits(c, kind, text);

	if (bits_of(&bm) != bits)
		fail_msg("entry %s: bits %#llx, expected %#llx", text,
			 (unsigned long long)bits_of(&bm), (unsigned long long)bits);
}

/* Tables well formed: every class index in range, class 0 empty, classes distinct. */
static void assert_tables_sane(const struct compiled *c)
{
	struct amlg_bitmap empty = { 0 };

	assert_true(c->nclasses >= 1);
	assert_memory_equal(&c->classes[AMLG_CLASS_EMPTY], &empty, sizeof(empty));
	for (size_t i = 0; i < c->nlpm4; i++)
		assert_true(c->lpm4[i].cls < c->nclasses && c->lpm4[i].pfx.family == 4);
	for (size_t i = 0; i < c->nlpm6; i++)
		assert_true(c->lpm6[i].cls < c->nclasses && c->lpm6[i].pfx.family == 6);
	for (size_t i = 0; i < AMLG_PORTS_PER_SLOT; i++)
		assert_true(c->ports[i] < c->nclasses);
	for (unsigned d = 0; d < AMLG_DIRS; d++)
		for (unsigned s = 0; s < AMLG_PSLOTS; s++)
			assert_true(c->proto_cls[d][s] < c->nclasses);
	if (c->nclasses <= 2000)
		for (size_t i = 0; i < c->nclasses; i++)
			for (size_t j = i + 1; j < c->nclasses; j++)
				assert_true(memcmp(&c->classes[i], &c->classes[j],
						   sizeof(c->classes[i])));
	assert_true(c->nwords >= 1 && c->nwords <= AMLG_BM_WORDS);
}

/* ---- push-down */

static void test_pushdown_pair(void **state)
{
	struct policy *p = pol_new(false);
	struct compiled *c;

	pol_rule(p, OUT, TCP, NULL, "10.0.0.0/8", NULL);
	pol_rule(p, OUT, TCP, NULL, "10.1.0.0/16", NULL);
	c = compile_quiet(p, NULL);
	assert_tables_sane(c);
	assert_int_equal(c->nlpm4, 2);
	assert_int_equal(c->nlpm6, 0);
	assert_entry(c, OUT_REMOTE, "10.0.0.0/8", 0x1);
	assert_entry(c, OUT_REMOTE, "10.1.0.0/16", 0x3);
	compiled_free(c);
	pol_free(p);
}

static void test_pushdown_chain(void **state)
{
	struct policy *p = pol_new(false);
	struct compiled *c;

	/* Written most specific first: the order of rules must not matter to the push-down. */
	pol_rule(p, OUT, TCP, NULL, "10.1.2.0/24", NULL); /* A */
	pol_rule(p, OUT, TCP, NULL, "10.1.0.0/16", NULL); /* B */
	pol_rule(p, OUT, TCP, NULL, "10.0.0.0/8", NULL); /* C */
	pol_rule(p, OUT, TCP, NULL, "10.2.0.0/16 192.168.0.0/16", NULL); /* D */
	pol_rule(p, OUT, TCP, NULL, "10.1.2.128/25 10.1.3.0/24", NULL); /* E */
	c = compile_quiet(p, NULL);
	assert_tables_sane(c);
	assert_int_equal(c->nlpm4, 7);
	assert_entry(c, OUT_REMOTE, "10.0.0.0/8", 0x4);
	assert_entry(c, OUT_REMOTE, "10.1.0.0/16", 0x6);
	assert_entry(c, OUT_REMOTE, "10.1.2.0/24", 0x7);
	assert_entry(c, OUT_REMOTE, "10.1.2.128/25", 0x17);
	/* After leaving 10.1.2.0/24 the stack must fall back to 10.1.0.0/16. */
	assert_entry(c, OUT_REMOTE, "10.1.3.0/24", 0x16);
	/* A sibling of B under C carries C, not B. */
	assert_entry(c, OUT_REMOTE, "10.2.0.0/16", 0xc);
	/* Disjoint from everything. */
	assert_entry(c, OUT_REMOTE, "192.168.0.0/16", 0x8);
	compiled_free(c);
	pol_free(p);
}

static void test_pushdown_disjoint(void **state)
{
	struct policy *p = pol_new(false);
	struct compiled *c;

	pol_rule(p, IN, UDP, NULL, "10.0.0.0/8", NULL);
	pol_rule(p, IN, UDP, NULL, "11.0.0.0/8", NULL);
	pol_rule(p, IN, UDP, NULL, "12.0.0.0/8 10.0.0.0/8", NULL);
	c = compile_quiet(p, NULL);
	assert_int_equal(c->nlpm4, 3);
	assert_entry(c, IN_REMOTE, "10.0.0.0/8", 0x5);
	assert_entry(c, IN_REMOTE, "11.0.0.0/8", 0x2);
	assert_entry(c, IN_REMOTE, "12.0.0.0/8", 0x4);
	assert_int_equal(c->nrules_dir[OUT], 0);
	assert_int_equal(c->nrules_dir[IN], 3);
	compiled_free(c);
	pol_free(p);
}

static void test_pushdown_default_route(void **state)
{
	struct policy *p = pol_new(false);
	struct compiled *c;

	pol_rule(p, OUT, TCP, NULL, "10.0.0.0/8", NULL);
	pol_rule(p, OUT, TCP, NULL, "any", NULL);
	pol_rule(p, OUT, TCP, NULL, "0.0.0.0/0", NULL);
	pol_rule(p, OUT, TCP, NULL, "2001:db8::/32", NULL);
	c = compile_quiet(p, NULL);
	assert_int_equal(c->nlpm4, 2);
	assert_int_equal(c->nlpm6, 2);
	assert_entry(c, OUT_REMOTE, "0.0.0.0/0", 0x6);
	assert_entry(c, OUT_REMOTE, "10.0.0.0/8", 0x7);
	assert_entry(c, OUT_REMOTE, "::/0", 0x2);
	assert_entry(c, OUT_REMOTE, "2001:db8::/32", 0xa);
	/* The item "any" stands for both families. */
	assert_int_equal(c->rules[1].res[0].n4, 1);
	assert_int_equal(c->rules[1].res[0].n6, 1);
	assert_int_equal(c->rules[1].remote.n, 2);
	compiled_free(c);
	pol_free(p);
}

static void test_pushdown_ipv6(void **state)
{
	struct policy *p = pol_new(false);
	struct compiled *c;
	static const struct {
		struct pkt k;
		int rule;
	} cases[] = {
		/* Rule 0 covers it too, and comes first. */
		{ { OUT, "2001:db8:1:2::5", NULL, TCP, 443 }, 0 },
		{ { OUT, "2001:db8:1:2::5", NULL, TCP, 8443 }, 1 },
		{ { OUT, "2001:db8:1:3::5", NULL, TCP, 8443 }, -1 },
		{ { OUT, "2001:db8:1:3::5", NULL, TCP, 443 }, 0 },
		{ { OUT, "2001:db8:1::1", NULL, TCP, 443 }, 0 },
		{ { OUT, "2001:db9::1", NULL, TCP, 443 }, -1 },
		{ { OUT, "fe80::1", NULL, TCP, 443 }, 2 },
		{ { OUT, "::ffff:10.0.0.1", NULL, TCP, 443 }, -1 },
		{ { OUT, "10.0.0.1", NULL, TCP, 443 }, -1 },
	};

	pol_rule(p, OUT, TCP, "443", "2001:db8::/32", NULL);
	pol_rule(p, OUT, TCP, "443,8443", "2001:db8:1:2::/64", NULL);
	pol_rule(p, OUT, TCP, "443", "fe80::/10", NULL);
	c = compile_quiet(p, NULL);
	assert_tables_sane(c);
	assert_int_equal(c->nlpm4, 0);
	assert_int_equal(c->nlpm6, 3);
	assert_entry(c, OUT_REMOTE, "2001:db8::/32", 0x1);
	assert_entry(c, OUT_REMOTE, "2001:db8:1:2::/64", 0x3);
	assert_entry(c, OUT_REMOTE, "fe80::/10", 0x4);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct verdict v = lookup(c, &cases[i].k);

		if (v.rule != cases[i].rule)
			fail_msg("%s: rule %d, expected %d", cases[i].k.remote, v.rule,
				 cases[i].rule);
	}
	compiled_free(c);
	pol_free(p);
}

/* ---- verdicts through the reference lookup */

static void test_reference_verdicts(void **state)
{
	struct policy *p = pol_new(false);
	struct compiled *c;
	static const struct {
		struct pkt k;
		int rule, reason, near;
	} cases[] = {
		/* out 0: tcp 443 to 20.0.0.0/8; 1: tcp 80,8000-8080 to 20.1.0.0/16 */
		{ { OUT, "20.9.9.9", NULL, TCP, 443 }, 0, 0, -1 },
		{ { OUT, "20.1.0.1", NULL, TCP, 443 }, 0, 0, -1 },
		{ { OUT, "20.1.0.1", NULL, TCP, 8080 }, 1, 0, -1 },
		{ { OUT, "20.1.0.1", NULL, TCP, 8081 }, -1, AMLG_REASON_PORT, 0 },
		{ { OUT, "20.9.9.9", NULL, TCP, 80 }, -1, AMLG_REASON_PORT, 0 },
		{ { OUT, "20.9.9.9", NULL, UDP, 443 }, -1, AMLG_REASON_PROTO, -1 },
		{ { OUT, "21.0.0.1", NULL, TCP, 443 }, -1, AMLG_REASON_NO_RULE, -1 },
		/* out 2: udp 53 to 8.8.8.8; 3: icmp to 8.8.0.0/16 */
		{ { OUT, "8.8.8.8", NULL, UDP, 53 }, 2, 0, -1 },
		{ { OUT, "8.8.8.8", NULL, UDP, 54 }, -1, AMLG_REASON_PORT, 2 },
		{ { OUT, "8.8.8.8", NULL, ICMP, 0 }, 3, 0, -1 },
		{ { OUT, "8.8.4.4", NULL, ICMP, 0 }, 3, 0, -1 },
		{ { OUT, "8.8.4.4", NULL, UDP, 53 }, -1, AMLG_REASON_PROTO, -1 },
		{ { OUT, "8.8.8.8", NULL, TCP, 53 }, -1, AMLG_REASON_PROTO, -1 },
		{ { OUT, "8.8.8.8", NULL, GRE, 0 }, -1, AMLG_REASON_PROTO, -1 },
		/* out 4: any proto, any port to 30.0.0.0/8 */
		{ { OUT, "30.1.1.1", NULL, GRE, 0 }, 4, 0, -1 },
		{ { OUT, "30.1.1.1", NULL, ICMP, 0 }, 4, 0, -1 },
		{ { OUT, "30.1.1.1", NULL, UDP, 0 }, 4, 0, -1 },
		{ { OUT, "30.1.1.1", NULL, TCP, 65535 }, 4, 0, -1 },
		/* in 0: tcp 22 from any; in 1: any from 10.0.0.0/8 */
		{ { IN, "1.2.3.4", NULL, TCP, 22 }, IN_ID(0), 0, -1 },
		{ { IN, "1.2.3.4", NULL, TCP, 23 }, -1, AMLG_REASON_PORT, IN_ID(0) },
		{ { IN, "1.2.3.4", NULL, UDP, 22 }, -1, AMLG_REASON_PROTO, -1 },
		{ { IN, "10.2.3.4", NULL, TCP, 22 }, IN_ID(0), 0, -1 },
		{ { IN, "10.2.3.4", NULL, TCP, 23 }, IN_ID(1), 0, -1 },
		{ { IN, "2001:db8::1", NULL, TCP, 22 }, IN_ID(0), 0, -1 },
		{ { IN, "2001:db8::1", NULL, ICMP6, 0 }, -1, AMLG_REASON_PROTO, -1 },
		/* The out rules are not in the in tables. */
		{ { IN, "20.9.9.9", NULL, TCP, 443 }, -1, AMLG_REASON_PORT, IN_ID(0) },
		{ { OUT, "10.2.3.4", NULL, TCP, 22 }, -1, AMLG_REASON_NO_RULE, -1 },
	};

	pol_rule(p, OUT, TCP, "443", "20.0.0.0/8", NULL);
	pol_rule(p, OUT, TCP, "80,8000-8080", "20.1.0.0/16", NULL);
	pol_rule(p, OUT, UDP, "53", "8.8.8.8", NULL);
	pol_rule(p, OUT, ICMP, NULL, "8.8.0.0/16", NULL);
	pol_rule(p, OUT, ANY, NULL, "30.0.0.0/8", NULL);
	pol_rule(p, IN, TCP, "22", "any", NULL);
	pol_rule(p, IN, ANY, NULL, "10.0.0.0/8", NULL);
	c = compile_quiet(p, NULL);
	assert_tables_sane(c);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct verdict v = lookup(c, &cases[i].k);

		if (v.rule != cases[i].rule || v.reason != cases[i].reason ||
		    v.near != cases[i].near)
			fail_msg("case %zu (%s proto %d port %u): rule %d reason %d near %d, "
				 "expected %d %d %d",
				 i, cases[i].k.remote, cases[i].k.proto, cases[i].k.dport, v.rule,
				 v.reason, v.near, cases[i].rule, cases[i].reason, cases[i].near);
	}
	compiled_free(c);
	pol_free(p);
}

/* ---- ports and protocols */

static uint64_t port_bits(const struct compiled *c, int dir, unsigned pslot, unsigned port)
{
	struct amlg_bitmap bm = class_of(c, c->ports[AMLG_PORT_IDX(0, dir, pslot, port)]);

	return bits_of(&bm);
}

static uint64_t proto_bits(const struct compiled *c, int dir, unsigned pslot)
{
	struct amlg_bitmap bm = class_of(c, c->proto_cls[dir][pslot]);

	return bits_of(&bm);
}

static void test_port_boundaries(void **state)
{
	struct policy *p = pol_new(false);
	struct compiled *c;
	static const struct {
		unsigned port;
		uint64_t tcp, udp;
	} cases[] = {
		{ 0, 0, 0 },	  { 1, 0x01, 0 },     { 2, 0, 0 },	{ 69, 0, 0 },
		{ 70, 0x40, 0 },  { 80, 0x40, 0 },    { 90, 0x40, 0 },	{ 91, 0, 0 },
		{ 99, 0, 0 },	  { 100, 0x04, 0 },   { 149, 0x04, 0 }, { 150, 0x0c, 0x10 },
		{ 151, 0x0c, 0 }, { 200, 0x0c, 0 },   { 201, 0x08, 0 }, { 300, 0x08, 0 },
		{ 301, 0, 0 },	  { 442, 0, 0 },      { 443, 0x20, 0 }, { 444, 0, 0 },
		{ 65534, 0, 0 },  { 65535, 0x02, 0 },
	};

	pol_rule(p, OUT, TCP, "1", "any", NULL); /* 0x01 */
	pol_rule(p, OUT, TCP, "65535", "any", NULL); /* 0x02 */
	pol_rule(p, OUT, TCP, "100-200", "any", NULL); /* 0x04 */
	pol_rule(p, OUT, TCP, "150-300", "any", NULL); /* 0x08 */
	pol_rule(p, OUT, UDP, "150", "any", NULL); /* 0x10 */
	pol_rule(p, OUT, TCP, "443-443", "any", NULL); /* 0x20 */
	/* Its own ranges overlap: the overlap must not end the rule's coverage early. */
	pol_rule(p, OUT, TCP, "80,70-90,75-85", "any", NULL); /* 0x40 */
	c = compile_quiet(p, NULL);
	assert_tables_sane(c);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t tcp = port_bits(c, OUT, AMLG_PSLOT_TCP, cases[i].port);
		uint64_t udp = port_bits(c, OUT, AMLG_PSLOT_UDP, cases[i].port);

		if (tcp != cases[i].tcp || udp != cases[i].udp)
			fail_msg("port %u: tcp %#llx udp %#llx, expected %#llx %#llx",
				 cases[i].port, (unsigned long long)tcp, (unsigned long long)udp,
				 (unsigned long long)cases[i].tcp,
				 (unsigned long long)cases[i].udp);
		/* The in direction has no rule at all. */
		assert_int_equal(port_bits(c, IN, AMLG_PSLOT_TCP, cases[i].port), 0);
	}
	assert_int_equal(proto_bits(c, OUT, AMLG_PSLOT_TCP), 0x6f);
	assert_int_equal(proto_bits(c, OUT, AMLG_PSLOT_UDP), 0x10);
	compiled_free(c);
	pol_free(p);
}

static void test_proto_slots(void **state)
{
	struct policy *p = pol_new(false);
	struct compiled *c;
	static const unsigned probe[] = { 0, 1, 53, 443, 65535 };

	pol_rule(p, IN, ANY, NULL, "any", NULL); /* 0x01: every protocol, every port */
	pol_rule(p, IN, ANY, "53", "any", NULL); /* 0x02: tcp and udp 53 only */
	pol_rule(p, IN, TCP, NULL, "any", NULL); /* 0x04 */
	pol_rule(p, IN, UDP, "53", "any", NULL); /* 0x08 */
	pol_rule(p, IN, ICMP, NULL, "any", NULL); /* 0x10 */
	pol_rule(p, IN, ICMP6, NULL, "any", NULL); /* 0x20 */
	c = compile_quiet(p, NULL);
	assert_tables_sane(c);
	assert_int_equal(proto_bits(c, IN, AMLG_PSLOT_TCP), 0x07);
	assert_int_equal(proto_bits(c, IN, AMLG_PSLOT_UDP), 0x0b);
	assert_int_equal(proto_bits(c, IN, AMLG_PSLOT_ICMP), 0x11);
	assert_int_equal(proto_bits(c, IN, AMLG_PSLOT_ICMPV6), 0x21);
	assert_int_equal(proto_bits(c, IN, AMLG_PSLOT_OTHER), 0x01);
	for (size_t i = 0; i < sizeof(probe) / sizeof(probe[0]); i++) {
		uint64_t extra = probe[i] == 53 ? 0x02 : 0;

		assert_int_equal(port_bits(c, IN, AMLG_PSLOT_TCP, probe[i]), 0x05 | extra);
		assert_int_equal(port_bits(c, IN, AMLG_PSLOT_UDP, probe[i]),
				 0x01 | extra | (probe[i] == 53 ? 0x08 : 0));
	}
	for (unsigned s = 0; s < AMLG_PSLOTS; s++)
		assert_int_equal(proto_bits(c, OUT, s), 0);
	compiled_free(c);
	pol_free(p);
}

/* ---- local endpoints */

static void test_local_endpoint(void **state)
{
	struct policy *p = pol_new(false);
	struct compiled *c;
	static const struct {
		struct pkt k;
		int rule, reason;
	} cases[] = {
		{ { IN, "1.1.1.1", "10.0.0.5", TCP, 22 }, IN_ID(0), 0 },
		{ { IN, "1.1.1.1", "10.0.0.6", TCP, 22 }, IN_ID(1), 0 },
		/* Rule 1 takes any local address, at port 22 only. */
		{ { IN, "1.1.1.1", "10.0.0.6", TCP, 8443 }, -1, AMLG_REASON_PORT },
		{ { IN, "1.1.1.1", "10.0.0.5", TCP, 8443 }, -1, AMLG_REASON_PORT },
		{ { IN, "1.1.1.1", "10.0.1.7", TCP, 8443 }, IN_ID(2), 0 },
		{ { IN, "1.1.1.1", "10.0.1.7", TCP, 22 }, IN_ID(1), 0 },
		{ { IN, "2001:db8::1", "2001:db8:ffff::1", TCP, 22 }, IN_ID(1), 0 },
		{ { IN, "2001:db8::1", "fd00::1", TCP, 8443 }, IN_ID(3), 0 },
		{ { IN, "2001:db8::1", "fd01::1", TCP, 8443 }, -1, AMLG_REASON_PORT },
		{ { IN, "2001:db8::1", "fd01::1", UDP, 22 }, -1, AMLG_REASON_PROTO },
		/* No local rule in the out direction: its local address is not looked at. */
		{ { OUT, "1.1.1.1", "172.16.0.1", UDP, 53 }, 0, 0 },
	};

	pol_rule(p, IN, TCP, "22", "any", "10.0.0.5"); /* narrowed to one local address */
	pol_rule(p, IN, TCP, "22", "any", NULL); /* any local address */
	pol_rule(p, IN, TCP, "8443", "any", "10.0.1.0/24");
	pol_rule(p, IN, TCP, "8443", "any", "fd00::/16");
	pol_rule(p, OUT, UDP, "53", "1.1.1.1", NULL);
	c = compile_quiet(p, NULL);
	assert_tables_sane(c);
	assert_true(c->flags & AMLG_PF_HAS_LOCAL_IN);
	assert_false(c->flags & AMLG_PF_HAS_LOCAL_OUT);
	assert_false(c->flags & AMLG_PF_PLATFORM);
	/* The rule without a local endpoint sits in both local /0 and is pushed down from there. */
	assert_entry(c, IN_LOCAL, "0.0.0.0/0", 0x2);
	assert_entry(c, IN_LOCAL, "::/0", 0x2);
	assert_entry(c, IN_LOCAL, "10.0.0.5/32", 0x3);
	assert_entry(c, IN_LOCAL, "10.0.1.0/24", 0x6);
	assert_entry(c, IN_LOCAL, "fd00::/16", 0xa);
	for (size_t i = 0; i < c->nlpm4; i++)
		assert_int_not_equal(c->lpm4[i].kind, OUT_LOCAL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct verdict v = lookup(c, &cases[i].k);

		if (v.rule != cases[i].rule || v.reason != cases[i].reason)
			fail_msg("case %zu: rule %d reason %d, expected %d %d", i, v.rule, v.reason,
				 cases[i].rule, cases[i].reason);
	}
	compiled_free(c);
	pol_free(p);
}

static void test_local_flags_out(void **state)
{
	struct policy *p = pol_new(false);
	struct compiled *c;

	struct pkt in_local = { OUT, "1.1.1.1", "10.0.0.9", TCP, 443 };
	struct pkt off_local = { OUT, "1.1.1.1", "10.0.1.9", TCP, 443 };
	struct pkt v6 = { OUT, "2001:db8::1", "fd00::1", TCP, 443 };

	pol_rule(p, OUT, TCP, "443", "any", "10.0.0.0/24");
	c = compile_quiet(p, NULL);
	assert_int_equal(lookup(c, &in_local).rule, 0);
	assert_int_equal(lookup(c, &off_local).reason, AMLG_REASON_NO_RULE);
	assert_int_equal(lookup(c, &v6).reason, AMLG_REASON_NO_RULE);
	assert_int_equal(c->flags & (AMLG_PF_HAS_LOCAL_OUT | AMLG_PF_HAS_LOCAL_IN),
			 AMLG_PF_HAS_LOCAL_OUT);
	assert_true(c->rules[0].has_local);
	assert_int_equal(c->rules[0].local.n, 1);
	assert_entry(c, OUT_LOCAL, "10.0.0.0/24", 0x1);
	compiled_free(c);
	pol_free(p);
}

/* ---- classes */

static void test_class_dedup(void **state)
{
	struct policy *p = pol_new(false);
	struct compiled *c;
	char buf[4096 * 16], *s = buf;
	uint32_t cls;

	/* 2000 disjoint /24 (no two siblings, so none merge) for each of three rules. */
	for (unsigned i = 0; i < 2000; i++)
		s += sprintf(s, "%s10.%u.%u.0/24", i ? " " : "", i / 128, i % 128 * 2);
	pol_rule(p, OUT, TCP, "443", buf, NULL);
	pol_rule(p, IN, TCP, "443", buf, NULL);
	s = buf;
	for (unsigned i = 0; i < 2000; i++)
		s += sprintf(s, "%s11.%u.%u.128/25", i ? " " : "", i / 256, i % 256);
	pol_rule(p, OUT, TCP, "443", buf, NULL);
	c = compile_quiet(p, NULL);
	assert_tables_sane(c);
	assert_int_equal(c->nlpm4, 6000);
	/* empty, {0}, {1}, {0,1} at tcp 443 out: nothing else. */
	assert_int_equal(c->nclasses, 4);
	cls = c->lpm4[0].cls;
	for (size_t i = 0; i < c->nlpm4; i++)
		if (c->lpm4[i].kind == IN_REMOTE || c->lpm4[i].pfx.addr[0] == 10)
			assert_int_equal(c->lpm4[i].cls, cls);
	assert_int_equal(c->nwords, 1);
	compiled_free(c);
	pol_free(p);
}

/* ---- rule limits and numbering */

static void add_rules(struct policy *p, int dir, unsigned n)
{
	char buf[32];

	for (unsigned i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "10.%u.%u.0/24", i / 256, i % 256);
		pol_rule(p, dir, TCP, "443", buf, NULL);
	}
}

static void test_rule_limit_ok(void **state)
{
	struct policy *p = pol_new(false);
	struct compiled *c;
	struct pkt k = { OUT, "10.3.255.1", NULL, TCP, 443 };
	struct verdict v;

	add_rules(p, OUT, AMLG_MAX_RULES);
	add_rules(p, IN, 3);
	c = compile_quiet(p, NULL);
	assert_tables_sane(c);
	assert_int_equal(c->nrules_dir[OUT], AMLG_MAX_RULES);
	assert_int_equal(c->nrules_dir[IN], 3);
	assert_int_equal(c->nwords, AMLG_BM_WORDS);
	v = lookup(c, &k);
	assert_int_equal(v.rule, AMLG_MAX_RULES - 1);
	assert_non_null(compiled_rule(c, AMLG_MAX_RULES - 1));
	assert_int_equal(compiled_rule(c, AMLG_MAX_RULES - 1)->src->loc.line, AMLG_MAX_RULES);
	assert_int_equal(compiled_rule(c, IN_ID(2))->src->loc.line, AMLG_MAX_RULES + 3);
	assert_null(compiled_rule(c, IN_ID(3)));
	assert_null(compiled_rule(c, AMLG_RULE_IDS));
	compiled_free(c);
	pol_free(p);
}

static void test_rule_limit_over(void **state)
{
	struct policy *p = pol_new(false);
	const struct diag_msg *m;
	struct diag d;

	add_rules(p, IN, 2);
	add_rules(p, OUT, AMLG_MAX_RULES + 3);
	diag_init(&d);
	compile_fails(p, NULL, &d);
	/* One error, at the first rule over the limit. */
	assert_int_equal(d.nerrors, 1);
	m = want_msg(&d, DIAG_ERROR, "too many 'out' rules");
	assert_int_equal(m->loc.line, 2 + AMLG_MAX_RULES + 1);
	diag_free(&d);
	pol_free(p);
}

static void test_nwords(void **state)
{
	struct policy *p = pol_new(false);
	struct amlg_bitmap bm;
	struct compiled *c;

	c = compile_quiet(p, NULL);
	assert_int_equal(c->nwords, 1);
	assert_int_equal(c->nrules, 0);
	assert_int_equal(c->nclasses, 1);
	assert_null(compiled_rule(c, 0));
	compiled_free(c);
	add_rules(p, IN, 65);
	c = compile_quiet(p, NULL);
	assert_int_equal(c->nwords, 2);
	/* Rule 64 is the first bit of the second word. */
	bm = entry_bits(c, IN_REMOTE, "10.0.64.0/24");
	assert_int_equal(bm.w[0], 0);
	assert_int_equal(bm.w[1], 1);
	compiled_free(c);
	pol_free(p);
}

/* ---- empty endpoints, tags and hosts */

static void test_empty_set_error(void **state)
{
	struct policy *p = pol_new(false);
	const struct diag_msg *m;
	struct diag d;

	pol_rule(p, OUT, TCP, "443", "10.0.0.0/8", NULL);
	pol_rule(p, OUT, TCP, "443", "", NULL); /* an empty set */
	diag_init(&d);
	compile_fails(p, NULL, &d);
	m = want_msg(&d, DIAG_ERROR, "rule matches no address");
	assert_non_null(strstr(m->msg, "empty set"));
	assert_int_equal(m->loc.line, 2);
	assert_non_null(m->hint);
	diag_free(&d);
	pol_free(p);
}

static void test_empty_optional_warning(void **state)
{
	struct policy *p = pol_new(false);
	struct compiled *c;
	struct diag d;

	pol_rule(p, OUT, TCP, "443", "tag:Empty", NULL)->optional = true;
	pol_rule(p, OUT, TCP, "443", "10.0.0.0/8", NULL);
	diag_init(&d);
	c = compile_ok(p, &with_tags, &d);
	assert_int_equal(d.nerrors, 0);
	assert_int_equal(d.nwarnings, 1);
	want_msg(&d, DIAG_WARNING, "optional rule matches no address: tag:Empty has no prefixes");
	/* The rule keeps its bit and matches nothing. */
	assert_int_equal(c->nrules_dir[OUT], 2);
	assert_int_equal(c->nlpm4, 1);
	assert_entry(c, OUT_REMOTE, "10.0.0.0/8", 0x2);
	compiled_free(c);
	diag_free(&d);
	pol_free(p);
}

static void test_empty_tag_error(void **state)
{
	struct policy *p = pol_new(false);
	struct compiled *c;
	const struct diag_msg *m;
	struct diag d;

	pol_rule(p, OUT, TCP, "443", "tag:Empty", NULL);
	diag_init(&d);
	compile_fails(p, &with_tags, &d);
	m = want_msg(&d, DIAG_ERROR, "rule matches no address");
	assert_non_null(strstr(m->msg, "tag:Empty has no prefixes"));
	diag_free(&d);
	pol_free(p);

	/* With a host name the rule can match: its addresses are learned from DNS. */
	p = pol_new(false);
	pol_rule(p, OUT, TCP, "443", "tag:Empty host:x.example.com", NULL);
	diag_init(&d);
	c = compile_ok(p, &with_tags, &d);
	assert_int_equal(d.nerrors, 0);
	assert_int_equal(c->nhosts, 1);
	compiled_free(c);
	diag_free(&d);
	pol_free(p);
}

static void test_empty_local_error(void **state)
{
	struct policy *p = pol_new(false);
	const struct diag_msg *m;
	struct diag d;

	pol_rule(p, IN, TCP, "22", "any", "");
	pol_rule(p, IN, TCP, "22", "any", "tag:Empty")->optional = true;
	diag_init(&d);
	compile_fails(p, &with_tags, &d);
	assert_int_equal(d.nerrors, 1);
	m = want_msg(&d, DIAG_ERROR, "rule matches no local address");
	assert_non_null(strstr(m->msg, "local endpoint is an empty set"));
	assert_int_equal(m->loc.line, 1);
	want_msg(&d, DIAG_WARNING, "optional rule matches no local address: tag:Empty");
	diag_free(&d);
	pol_free(p);
}

static void test_empty_names_items(void **state)
{
	struct policy *p = pol_new(false);
	struct diag d;
	const struct diag_msg *m;

	pol_rule(p, OUT, TCP, "443", "tag:Empty tag:Empty tag:Empty tag:Empty tag:Empty", NULL);
	p->rules[0].remote.items[1].set = strdup("storage");
	diag_init(&d);
	compile_fails(p, &with_tags, &d);
	m = want_msg(&d, DIAG_ERROR, "rule matches no address");
	assert_non_null(strstr(m->msg, "tag:Empty (in @storage) has no prefixes"));
	assert_non_null(strstr(m->msg, "and 2 more"));
	diag_free(&d);
	pol_free(p);
}

/* The classes of host pattern i, per direction. */
static const struct amlg_bitmap *host_bm(const struct compiled *c, size_t i, int dir)
{
	return &c->classes[c->hosts[i].cls[dir]];
}

static void test_host_rules(void **state)
{
	struct policy *p = pol_new(false);
	struct compiled *c;
	struct diag d;
	const struct crule *cr;

	pol_rule(p, OUT, TCP, "443", "host:mcr.microsoft.com host:*.blob.core.windows.net", NULL);
	pol_rule(p, OUT, TCP, "443", "10.0.0.0/8 host:a.example host:*pytorch.org", NULL);
	pol_rule(p, IN, TCP, "22", "host:mcr.microsoft.com", NULL);
	p->dns_ttl_floor = 7;
	p->dns_grace = 9;
	p->sni_mode = AMLG_SNI_ALLOW_MISSING;
	diag_init(&d);
	c = compile_ok(p, NULL, &d);
	/* host-only rules are enforced through DNS learning: no warning */
	assert_int_equal(d.nerrors, 0);
	assert_int_equal(d.nwarnings, 0);
	cr = compiled_rule(c, 0);
	assert_int_equal(cr->nhosts, 2);
	assert_int_equal(cr->remote.n, 0);
	assert_string_equal(cr->res[1].text, "host:*.blob.core.windows.net");
	assert_ptr_equal(cr->res[1].item, &p->rules[0].remote.items[1]);
	assert_int_equal(compiled_rule(c, 1)->remote.n, 1);
	assert_entry(c, OUT_REMOTE, "10.0.0.0/8", 0x2);
	/* four distinct patterns, each with its rules per direction */
	assert_true(c->flags & AMLG_PF_HOSTS);
	assert_int_equal(c->nhosts, 4);
	assert_string_equal(c->hosts[0].pattern, "mcr.microsoft.com");
	assert_int_equal(c->hosts[0].key.kind, AMLG_HOST_EXACT);
	assert_string_equal(c->hosts[0].text, "mcr.microsoft.com");
	assert_int_equal(host_bm(c, 0, OUT)->w[0], 0x1);
	assert_int_equal(host_bm(c, 0, IN)->w[0], 0x1);
	assert_int_equal(c->hosts[1].key.kind, AMLG_HOST_DOTWILD);
	assert_string_equal(c->hosts[1].text, "blob.core.windows.net");
	assert_int_equal(c->hosts[1].key.len, strlen("blob.core.windows.net"));
	assert_int_equal(host_bm(c, 1, OUT)->w[0], 0x1);
	assert_int_equal(host_bm(c, 1, IN)->w[0], 0);
	assert_int_equal(c->hosts[3].key.kind, AMLG_HOST_CHARWILD);
	assert_string_equal(c->hosts[3].text, "pytorch.org");
	assert_int_equal(host_bm(c, 3, OUT)->w[0], 0x2);
	assert_true(c->host_lens[AMLG_HOST_DOTWILD - 1][0] >> strlen("blob.core.windows.net") & 1);
	assert_false(c->host_lens[AMLG_HOST_DOTWILD - 1][0] >> strlen("pytorch.org") & 1);
	assert_true(c->host_lens[AMLG_HOST_CHARWILD - 1][0] >> strlen("pytorch.org") & 1);
	/* the hash the datapath looks the pattern up by */
	assert_int_equal(c->hosts[3].key.hash, name_hash("pytorch.org", 11));
	/* no resolver named: Azure DNS; the policy's DNS and SNI settings */
	assert_int_equal(c->nresolvers, 1);
	assert_int_equal(c->resolvers[0].addr[0], 168);
	assert_int_equal(c->resolvers[0].addr[3], 16);
	assert_int_equal(c->dns_ttl_floor, 7);
	assert_int_equal(c->dns_grace, 9);
	assert_int_equal(c->sni_mode, AMLG_SNI_ALLOW_MISSING);
	compiled_free(c);
	diag_free(&d);
	pol_free(p);

	/* a host name is never a local endpoint */
	p = pol_new(false);
	pol_rule(p, OUT, TCP, "443", "any", "host:a.example");
	diag_init(&d);
	compile_fails(p, NULL, &d);
	want_msg(&d, DIAG_ERROR, "host name 'a.example' as a local endpoint");
	diag_free(&d);
	pol_free(p);
}

static void test_tag_needs_file(void **state)
{
	struct policy *p = pol_new(false);
	const struct diag_msg *m;
	struct diag d;

	pol_rule(p, OUT, TCP, "443", "10.0.0.0/8 tag:Storage.EastUS", NULL);
	diag_init(&d);
	compile_fails(p, NULL, &d);
	assert_int_equal(d.nerrors, 1);
	m = want_msg(&d, DIAG_ERROR, "service tag 'Storage.EastUS' needs a tag file");
	assert_int_equal(m->loc.col, 2);
	assert_non_null(m->hint);
	assert_non_null(strstr(m->hint, "--tags FILE"));
	diag_free(&d);
	pol_free(p);
}

static void test_fake_resolver(void **state)
{
	struct policy *p = pol_new(false);
	struct compiled *c;
	struct diag d;
	const struct crule *cr;
	struct pkt k6 = { OUT, "2603:1030::7", NULL, TCP, 443 };
	struct pkt k4 = { OUT, "20.150.127.255", NULL, TCP, 443 };

	pol_rule(p, OUT, TCP, "443", "tag:Keyvault.EastUS 40.0.0.0/23", NULL);
	pol_rule(p, OUT, TCP, "443", "tag:Storage.EastUS", NULL);
	fake_calls = 0;
	diag_init(&d);
	c = compile_ok(p, &with_tags, &d);
	assert_int_equal(d.n, 0);
	assert_int_equal(fake_calls, 2);
	cr = compiled_rule(c, 0);
	assert_int_equal(cr->nres, 2);
	assert_int_equal(cr->res[0].kind, EP_TAG);
	assert_string_equal(cr->res[0].text, "tag:Keyvault.EastUS");
	assert_string_equal(cr->res[0].note, "alias of AzureKeyVault.EastUS");
	assert_int_equal(cr->res[0].n4, 1);
	assert_int_equal(cr->res[0].n6, 0);
	assert_null(cr->res[1].note);
	/* Merged: the tag's /24 is inside the /23. */
	assert_int_equal(cr->remote.n, 1);
	cr = compiled_rule(c, 1);
	assert_int_equal(cr->res[0].n4, 2);
	assert_int_equal(cr->res[0].n6, 1);
	assert_int_equal(lookup(c, &k6).rule, 1);
	assert_int_equal(lookup(c, &k4).rule, 1);
	compiled_free(c);
	diag_free(&d);
	pol_free(p);
}

static void test_unknown_tag(void **state)
{
	struct policy *p = pol_new(false);
	struct diag d;

	pol_rule(p, OUT, TCP, "443", "tag:Nope", NULL);
	pol_rule(p, OUT, TCP, "443", "tag:AlsoNope 10.0.0.0/8", NULL);
	diag_init(&d);
	compile_fails(p, &with_tags, &d);
	/* The resolver's errors only: no "matches no address" on top of them. */
	assert_int_equal(d.nerrors, 2);
	want_msg(&d, DIAG_ERROR, "unknown service tag 'Nope'");
	want_msg(&d, DIAG_ERROR, "unknown service tag 'AlsoNope'");
	diag_free(&d);
	pol_free(p);
}

static void test_family_mismatch(void **state)
{
	struct policy *p = pol_new(false);
	struct compiled *c;
	struct diag d;

	pol_rule(p, IN, TCP, "443", "tag:V6Only", "10.0.0.0/24");
	diag_init(&d);
	c = compile_ok(p, &with_tags, &d);
	want_msg(&d, DIAG_WARNING, "rule can never match");
	compiled_free(c);
	diag_free(&d);
	pol_free(p);
}

/* ---- platform rules, origins, header */

static void test_platform_first(void **state)
{
	struct policy *p = pol_new(true);
	struct compiled *c;
	const struct crule *cr;
	unsigned nout, nin;
	struct pkt dns = { OUT, "168.63.129.16", NULL, UDP, 53 };
	struct pkt probe = { IN, "168.63.129.16", NULL, TCP, 8080 };
	struct pkt dhcp6 = { OUT, "ff02::1:2", NULL, UDP, 547 };
	struct pkt mine = { OUT, "10.1.1.1", NULL, TCP, 443 };
	struct verdict v;

	pol_rule(p, OUT, TCP, "443", "10.0.0.0/8", NULL)->flow = strdup("COMPUTE-OUT-AML");
	pol_rule(p, IN, TCP, "22", "any", NULL);
	c = compile_quiet(p, NULL);
	assert_tables_sane(c);
	assert_true(c->flags & AMLG_PF_PLATFORM);
	nout = c->nrules_dir[OUT] - 1;
	nin = c->nrules_dir[IN] - 1;
	assert_int_equal(nout, 6);
	assert_int_equal(nin, 3);
	for (unsigned i = 0; i < nout + nin; i++) {
		cr = compiled_rule(c, i < nout ? i : IN_ID(i - nout));
		assert_true(cr->platform);
		assert_null(cr->src);
		assert_string_equal(cr->origin, "platform");
		assert_int_equal(strncmp(cr->flow, "PLATFORM-", 9), 0);
		for (size_t j = 0; j < cr->nres; j++) {
			assert_null(cr->res[j].item);
			assert_non_null(cr->res[j].text);
		}
	}
	assert_string_equal(compiled_rule(c, 0)->flow, "PLATFORM-DNS");
	assert_string_equal(compiled_rule(c, 2)->flow, "PLATFORM-WIRESERVER");
	assert_string_equal(compiled_rule(c, 2)->res[0].text, "168.63.129.16/32");
	/* The policy's rules follow, in order. */
	cr = compiled_rule(c, nout);
	assert_false(cr->platform);
	assert_ptr_equal(cr->src, &p->rules[0]);
	assert_string_equal(cr->flow, "COMPUTE-OUT-AML");
	assert_string_equal(cr->origin, TEST_FILE ":1");
	cr = compiled_rule(c, IN_ID(nin));
	assert_string_equal(cr->flow, "");
	assert_string_equal(cr->origin, TEST_FILE ":2");
	v = lookup(c, &dns);
	assert_string_equal(compiled_rule(c, (unsigned)v.rule)->flow, "PLATFORM-DNS");
	v = lookup(c, &probe);
	assert_string_equal(compiled_rule(c, (unsigned)v.rule)->flow, "PLATFORM-LB-PROBE");
	v = lookup(c, &dhcp6);
	assert_string_equal(compiled_rule(c, (unsigned)v.rule)->flow, "PLATFORM-DHCPV6");
	v = lookup(c, &mine);
	assert_int_equal(v.rule, (int)nout);
	compiled_free(c);
	pol_free(p);
}

static void test_platform_off_mode_header(void **state)
{
	struct policy *p = pol_new(false);
	struct compiled *c;
	struct compile_opts enforce = { .mode = AMLG_MODE_ENFORCE };

	memset(p->sha256, 0xab, sizeof(p->sha256));
	p->mode = AMLG_MODE_AUDIT;
	pol_rule(p, OUT, TCP, "443", "10.0.0.0/8", NULL);
	c = compile_quiet(p, NULL);
	assert_int_equal(c->mode, AMLG_MODE_AUDIT);
	assert_int_equal(c->flags, 0);
	assert_string_equal(c->path, TEST_FILE);
	assert_memory_equal(c->sha256, p->sha256, 32);
	assert_int_equal(c->nrules_dir[OUT], 1);
	compiled_free(c);
	c = compile_quiet(p, &enforce);
	assert_int_equal(c->mode, AMLG_MODE_ENFORCE);
	compiled_free(c);
	p->mode = AMLG_MODE_ENFORCE;
	c = compile_quiet(p, NULL);
	assert_int_equal(c->mode, AMLG_MODE_ENFORCE);
	compiled_free(c);
	pol_free(p);
}

static void test_origin_tail(void **state)
{
	struct policy *p = pol_new(false);
	struct compiled *c;
	char path[300];
	const char *o;
	struct diag d;

	memset(path, 'd', sizeof(path));
	memcpy(path + sizeof(path) - 12, "/policy.aml", 12);
	pol_rule(p, OUT, TCP, "443", "10.0.0.0/8", NULL);
	p->rules[0].loc.file = path;
	p->rules[0].loc.line = 123456;
	p->rules[0].flow = strdup("A-FLOW-ID-THAT-IS-FAR-TOO-LONG-FOR-THE-RULE-METADATA");
	diag_init(&d);
	c = compile_ok(p, NULL, &d);
	o = c->rules[0].origin;
	assert_int_equal(strlen(o), AMLG_ORIGIN_MAX - 1);
	assert_int_equal(strncmp(o, "...ddd", 6), 0);
	assert_non_null(strstr(o, "/policy.aml:123456"));
	assert_int_equal(strcmp(o + strlen(o) - 18, "/policy.aml:123456"), 0);
	/* A flow ID cut short is said out loud. */
	assert_int_equal(strlen(c->rules[0].flow), AMLG_FLOW_MAX - 1);
	want_msg(&d, DIAG_WARNING, "flow ID longer than");
	compiled_free(c);
	diag_free(&d);
	pol_free(p);
}

/* ---- through the real parser */

static void test_parsed_policy(void **state)
{
	static const char text[] = "mode enforce\n"
				   "platform off\n"
				   "set web = { 10.1.0.0/16, 10.2.0.0/16 }\n"
				   "allow out tcp port { 443, 8000-8080 } to @web flow WEB\n"
				   "allow in tcp port 22 from any to 192.168.0.0/24 flow SSH\n"
				   "allow out udp port 53 to 8.8.8.8 flow DNS\n"
				   "allow out tcp port 443 to host:mcr.microsoft.com flow MCR\n";
	static const struct {
		struct pkt k;
		int rule, reason;
	} cases[] = {
		{ { OUT, "10.2.3.4", NULL, TCP, 8080 }, 0, 0 },
		{ { OUT, "10.2.3.4", NULL, TCP, 8081 }, -1, AMLG_REASON_PORT },
		{ { OUT, "10.3.3.4", NULL, TCP, 443 }, -1, AMLG_REASON_NO_RULE },
		{ { IN, "1.2.3.4", "192.168.0.9", TCP, 22 }, IN_ID(0), 0 },
		{ { IN, "1.2.3.4", "192.168.1.9", TCP, 22 }, -1, AMLG_REASON_NO_RULE },
		{ { OUT, "8.8.8.8", NULL, UDP, 53 }, 1, 0 },
	};
	struct policy *p = NULL;
	struct compiled *c;
	const struct crule *cr;
	struct diag d;

	diag_init(&d);
	if (policy_parse_string("inline.pol", text, NULL, 0, &d, &p)) {
		diag_print(&d, stderr);
		fail_msg("the parser rejected the test policy");
	}
	c = compile_ok(p, NULL, &d);
	assert_int_equal(c->mode, AMLG_MODE_ENFORCE);
	assert_false(c->flags & AMLG_PF_PLATFORM);
	assert_true(c->flags & AMLG_PF_HAS_LOCAL_IN);
	assert_int_equal(c->nrules_dir[OUT], 3);
	assert_int_equal(c->nrules_dir[IN], 1);
	cr = compiled_rule(c, 0);
	assert_string_equal(cr->flow, "WEB");
	assert_string_equal(cr->origin, "inline.pol:4");
	assert_int_equal(cr->nres, 2);
	assert_string_equal(cr->res[1].item->set, "web");
	assert_string_equal(compiled_rule(c, 2)->flow, "MCR");
	assert_int_equal(compiled_rule(c, 2)->nhosts, 1);
	assert_int_equal(c->nhosts, 1);
	assert_int_equal(d.nerrors, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct verdict v = lookup(c, &cases[i].k);

		if (v.rule != cases[i].rule || v.reason != cases[i].reason)
			fail_msg("case %zu: rule %d reason %d, expected %d %d", i, v.rule, v.reason,
				 cases[i].rule, cases[i].reason);
	}
	compiled_free(c);
	policy_free(p);
	diag_free(&d);
}

/* ---- printing */

static char *print_to_string(const struct compiled *c, bool json, bool verbose)
{
	struct memout m;

	assert_int_equal(compiled_print(c, memout_open(&m), json, verbose), 0);
	return memout_close(&m);
}

static void test_print(void **state)
{
	struct policy *p = pol_new(true);
	struct compiled *c;
	struct diag d;
	char *plain, *js;
	json_t *root, *rules, *r, *item, *tables;
	json_error_t jerr;
	size_t nplat;

	pol_rule(p, OUT, TCP, "443,8000-8080", "tag:Keyvault.EastUS host:x.example", NULL)->flow =
		strdup("COMPUTE-OUT-KV");
	pol_rule(p, IN, TCP, "22", "any", "10.0.0.0/24");
	diag_init(&d);
	c = compile_ok(p, &with_tags, &d);
	nplat = c->nrules_dir[OUT] - 1;

	plain = print_to_string(c, false, false);
	assert_non_null(strstr(plain, "port 443,8000-8080 flow COMPUTE-OUT-KV [" TEST_FILE ":1]"));
	assert_non_null(strstr(plain, "tag:Keyvault.EastUS: 1 IPv4, 0 IPv6 (alias of"));
	assert_non_null(strstr(plain, "host:x.example: 0 IPv4, 0 IPv6"));
	assert_non_null(strstr(plain, "host patterns (addresses learned from DNS answers)"));
	assert_non_null(strstr(plain, "x.example                                COMPUTE-OUT-KV"));
	assert_non_null(strstr(plain, "flow PLATFORM-DNS [platform]"));
	assert_non_null(strstr(plain, "classes"));
	assert_non_null(strstr(plain, "estimated map memory"));
	assert_null(strstr(plain, "40.0.0.0/24"));
	free(plain);
	plain = print_to_string(c, false, true);
	assert_non_null(strstr(plain, "40.0.0.0/24"));
	free(plain);

	js = print_to_string(c, true, true);
	root = json_loads(js, 0, &jerr);
	if (!root)
		fail_msg("bad JSON: %s", jerr.text);
	assert_string_equal(json_string_value(json_object_get(root, "mode")), "audit");
	assert_true(json_is_true(json_object_get(root, "platform")));
	rules = json_object_get(root, "rules");
	assert_int_equal(json_array_size(rules), c->nrules);
	r = json_array_get(rules, nplat);
	assert_int_equal(json_integer_value(json_object_get(r, "id")), nplat);
	assert_string_equal(json_string_value(json_object_get(r, "dir")), "out");
	assert_string_equal(json_string_value(json_object_get(r, "proto")), "tcp");
	assert_string_equal(json_string_value(json_object_get(r, "flow")), "COMPUTE-OUT-KV");
	assert_string_equal(json_string_value(json_object_get(r, "origin")), TEST_FILE ":1");
	assert_int_equal(json_integer_value(
				 json_array_get(json_array_get(json_object_get(r, "ports"), 1), 1)),
			 8080);
	assert_true(json_is_null(json_object_get(r, "local")));
	item = json_array_get(json_object_get(json_object_get(r, "remote"), "items"), 0);
	assert_string_equal(json_string_value(json_object_get(item, "kind")), "tag");
	assert_string_equal(json_string_value(json_object_get(item, "text")),
			    "tag:Keyvault.EastUS");
	assert_int_equal(json_integer_value(json_object_get(item, "prefixes4")), 1);
	assert_true(json_is_null(json_object_get(item, "set")));
	assert_string_equal(json_string_value(json_array_get(
				    json_object_get(json_object_get(r, "remote"), "prefixes"), 0)),
			    "40.0.0.0/24");
	item = json_array_get(json_object_get(json_object_get(r, "remote"), "items"), 1);
	assert_true(json_is_null(json_object_get(item, "note")));
	assert_string_equal(
		json_string_value(json_object_get(
			json_array_get(json_object_get(json_object_get(root, "hosts"), "patterns"),
				       0),
			"pattern")),
		"x.example");
	r = json_array_get(rules, c->nrules - 1);
	assert_true(json_is_object(json_object_get(r, "local")));
	assert_int_equal(json_array_size(json_object_get(r, "ports")), 1);
	tables = json_object_get(root, "tables");
	assert_int_equal(json_integer_value(json_object_get(tables, "classes")), c->nclasses);
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(tables, "lpm4"), "in-local")),
		1 + 1); /* 10.0.0.0/24 and the /0 of the platform rules */
	assert_true(json_integer_value(json_object_get(tables, "memory_bytes")) > 1 << 20);
	json_decref(root);
	free(js);
	/* Not verbose: no prefixes. */
	js = print_to_string(c, true, false);
	assert_null(strstr(js, "\"prefixes\""));
	free(js);
	compiled_free(c);
	diag_free(&d);
	pol_free(p);
}

/* ---- randomized: compiled tables against the rules themselves */

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)((rng >> 16) % n);
}

/*
 * Addresses in a small space (16k per family and side), so that random prefixes overlap each
 * other and random packets hit them.
 */
static void rnd_addr(int family, bool local, uint8_t *a)
{
	unsigned off = family == 4 ? 1 : 13;

	memset(a, 0, 16);
	if (family == 4) {
		a[0] = local ? 192 : 10;
	} else {
		a[0] = local ? 0xfd : 0x20;
		a[1] = 0x01;
	}
	a[off] = (uint8_t)rnd(4);
	a[off + 1] = (uint8_t)rnd(16);
	a[off + 2] = (uint8_t)rnd(256);
}

static void rnd_prefix(bool local, char *buf, size_t sz)
{
	int family = rnd(4) ? 4 : 6;
	unsigned bits = family == 4 ? 32 : 128;
	struct prefix p = { .family = (uint8_t)family };
	char tmp[PREFIX_STRLEN];

	rnd_addr(family, local, p.addr);
	/* Mostly inside the space, now and then one that covers much of it or all of it. */
	p.len = (uint8_t)(rnd(16) ? bits - 10 + rnd(11) : rnd(bits - 10));
	prefix_str(&p, tmp, sizeof(tmp));
	prefix_parse_loose(tmp, &p);
	prefix_str(&p, buf, sz);
}

static void rnd_items(char *buf, size_t sz, bool local)
{
	unsigned n = 1 + rnd(3);
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < n; i++) {
		char item[PREFIX_STRLEN + 8];
		unsigned kind = rnd(200);

		if (kind < 1)
			snprintf(item, sizeof(item), "any");
		else if (kind < 10 && !local)
			snprintf(item, sizeof(item), "tag:%s",
				 rnd(2) ? "Storage.EastUS" : "Keyvault.EastUS");
		else
			rnd_prefix(local, item, sizeof(item));
		len += (size_t)snprintf(buf + len, sz - len, "%s%s", i ? " " : "", item);
	}
}

static void rnd_ports(char *buf, size_t sz)
{
	unsigned n = rnd(10) < 3 ? 0 : 1 + rnd(3);
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < n; i++) {
		unsigned lo = rnd(10) ? 1 + rnd(60) : 65535 - rnd(3),
			 hi = lo + (rnd(2) ? 0 : rnd(20));

		if (hi > 65535)
			hi = 65535;
		len += (size_t)snprintf(buf + len, sz - len, "%s%u-%u", i ? "," : "", lo, hi);
	}
}

static bool item_has(const struct ep_item *it, int family, const uint8_t *a)
{
	const struct fake_tag *t;

	switch (it->kind) {
	case EP_ANY:
		return true;
	case EP_CIDR:
		return prefix_has_addr(&it->pfx, family, a);
	case EP_TAG:
		t = fake_find(it->name);
		for (size_t i = 0; i < 4 && t->prefixes[i]; i++) {
			struct prefix p = pfx(t->prefixes[i]);

			if (prefix_has_addr(&p, family, a))
				return true;
		}
		return false;
	case EP_HOST:
		return false;
	}
	return false;
}

static bool ep_has(const struct endpoint *ep, int family, const uint8_t *a)
{
	for (size_t i = 0; i < ep->n; i++)
		if (item_has(&ep->items[i], family, a))
			return true;
	return false;
}

static bool port_in(const struct rule *r, unsigned port)
{
	if (!r->nports)
		return true;
	for (size_t i = 0; i < r->nports; i++)
		if (port >= r->ports[i].lo && port <= r->ports[i].hi)
			return true;
	return false;
}

/* Does the rule take this protocol at some port? */
static bool proto_ok(const struct rule *r, int proto)
{
	if (r->proto == ANY)
		return !r->nports || proto == TCP || proto == UDP;
	return r->proto == proto;
}

static bool full_ok(const struct rule *r, int proto, unsigned port)
{
	if (!proto_ok(r, proto))
		return false;
	return (proto != TCP && proto != UDP) || port_in(r, port);
}

/* The first rule, in order, that covers the packet; or why none does. */
static struct verdict brute(const struct policy *p, int dir, int family, const uint8_t *r,
			    const uint8_t *l, int proto, unsigned port)
{
	struct verdict v = { .rule = -1, .reason = AMLG_REASON_NO_RULE, .near = -1 };
	bool addr = false;
	unsigned bit = 0;

	for (size_t i = 0; i < p->nrules; i++) {
		const struct rule *ru = &p->rules[i];
		int id = AMLG_RULE_ID(dir, bit);

		if (ru->dir != dir)
			continue;
		bit++;
		if (!ep_has(&ru->remote, family, r) ||
		    (ru->has_local && !ep_has(&ru->local, family, l)))
			continue;
		if (full_ok(ru, proto, port))
			return (struct verdict){ .rule = id,
						 .reason = AMLG_REASON_NONE,
						 .near = -1 };
		if (!addr)
			v.reason = AMLG_REASON_PROTO;
		addr = true;
		if (proto_ok(ru, proto) && v.near < 0) {
			v.reason = AMLG_REASON_PORT;
			v.near = id;
		}
	}
	return v;
}

struct rnd_stats {
	unsigned rules, packets, verdicts[4], allowed;
};

static struct policy *rnd_policy(unsigned nrules)
{
	static const int protos[] = { TCP, UDP, ICMP, ICMP6 };
	struct policy *p = pol_new(false);
	char items[512], local[512], ports[128];

	for (unsigned i = 0; i < nrules; i++) {
		bool has_local = rnd(10) < 2;
		int proto = rnd(8) < 3 ? protos[rnd(4)] : rnd(4) ? TCP : ANY;

		rnd_items(items, sizeof(items), false);
		rnd_ports(ports, sizeof(ports));
		if (has_local)
			rnd_items(local, sizeof(local), true);
		if (proto == ICMP || proto == ICMP6)
			ports[0] = '\0';
		pol_rule(p, rnd(3) ? OUT : IN, proto, ports[0] ? ports : NULL, items,
			 has_local ? local : NULL);
	}
	return p;
}

/* One random policy, npkts random packets: the tables must agree with the rules. */
static void rnd_round(unsigned nrules, unsigned npkts, struct rnd_stats *st)
{
	static const int protos[] = { TCP, UDP, ICMP, ICMP6, GRE };
	static const uint8_t tag4[4] = { 20, 38, 1, 2 };
	static const uint8_t tag6[16] = { 0x26, 0x03, 0x10, 0x30, [15] = 1 };
	struct policy *p = rnd_policy(nrules);
	struct compiled *c;
	struct diag d;

	diag_init(&d);
	c = compile_ok(p, &with_tags, &d);
	assert_int_equal(d.nerrors, 0);
	assert_tables_sane(c);
	for (unsigned i = 0; i < npkts; i++) {
		int family = rnd(4) ? 4 : 6, dir = (int)rnd(2), proto = protos[rnd(5)];
		unsigned port = rnd(20) ? rnd(70) : 65535 - rnd(3);
		struct verdict want, got;
		uint8_t r[16], l[16];

		rnd_addr(family, false, r);
		rnd_addr(family, true, l);
		if (rnd(50) == 0) /* inside a tag, outside the random space */
			memcpy(r, family == 4 ? tag4 : tag6, family == 4 ? 4 : 16);
		want = brute(p, dir, family, r, l, proto, port);
		got = lookup_raw(c, dir, family, r, l, proto, port);
		if (want.rule != got.rule || want.reason != got.reason || want.near != got.near) {
			char ra[64], la[64];

			addr_str(family, r, ra, sizeof(ra));
			addr_str(family, l, la, sizeof(la));
			fail_msg("%u rules, packet %u: dir %d %s -> %s proto %d port %u: "
				 "got rule %d reason %d near %d, expected %d %d %d",
				 nrules, i, dir, la, ra, proto, port, got.rule, got.reason,
				 got.near, want.rule, want.reason, want.near);
		}
		st->allowed += got.rule >= 0;
		st->verdicts[got.reason]++;
	}
	st->rules += nrules;
	st->packets += npkts;
	compiled_free(c);
	diag_free(&d);
	pol_free(p);
}

static void test_random_property(void **state)
{
	/* Small policies give every outcome; the large ones fill several bitmap words. */
	static const unsigned sizes[] = { 5, 10, 20, 40, 80, 150, 300, 600, 1200 };
	struct rnd_stats st = { 0 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		rnd_round(sizes[i], 1000, &st);
	print_message("random: %u rules, %u packets: %u allowed, %u no-rule, %u proto, %u port\n",
		      st.rules, st.packets, st.allowed, st.verdicts[AMLG_REASON_NO_RULE],
		      st.verdicts[AMLG_REASON_PROTO], st.verdicts[AMLG_REASON_PORT]);
	/* Every outcome must have been exercised, or the comparison proves little. */
	for (int r = AMLG_REASON_NO_RULE; r <= AMLG_REASON_PROTO; r++)
		assert_true(st.verdicts[r] > st.packets / 50);
	assert_true(st.allowed > st.packets / 10);
}

/* ---- scale: reported, not judged */

static void test_scale_100k(void **state)
{
	struct policy *p = pol_new(true);
	struct compiled *c;
	struct timespec t0, t1;
	char *buf = malloc(100 * 1000 * 24), *s;
	double ms;

	assert_non_null(buf);
	/* 100 rules of 1000 scattered /32../20 each: 100k prefixes, few of them mergeable. */
	for (unsigned r = 0; r < 100; r++) {
		s = buf;
		for (unsigned i = 0; i < 1000; i++) {
			struct prefix pf = { .family = 4, .len = (uint8_t)(20 + rnd(13)) };
			char tmp[PREFIX_STRLEN];

			for (int b = 0; b < 4; b++)
				pf.addr[b] = (uint8_t)rnd(256);
			prefix_str(&pf, tmp, sizeof(tmp));
			prefix_parse_loose(tmp, &pf);
			s += sprintf(s, "%s%s", i ? " " : "", prefix_str(&pf, tmp, sizeof(tmp)));
		}
		pol_rule(p, r % 2 ? IN : OUT, TCP, "443", buf, NULL);
	}
	free(buf);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	c = compile_quiet(p, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	print_message("scale: 100000 prefixes in 100 rules -> %zu LPM entries, %zu classes: "
		      "compiled in %.1f ms (compile_us %u)\n",
		      c->nlpm4 + c->nlpm6, c->nclasses, ms, c->compile_us);
	compiled_free(c);
	pol_free(p);
}

UNIT_TESTS(NULL, NULL, cmocka_unit_test(test_pushdown_pair), cmocka_unit_test(test_pushdown_chain),
	   cmocka_unit_test(test_pushdown_disjoint), cmocka_unit_test(test_pushdown_default_route),
	   cmocka_unit_test(test_pushdown_ipv6), cmocka_unit_test(test_reference_verdicts),
	   cmocka_unit_test(test_port_boundaries), cmocka_unit_test(test_proto_slots),
	   cmocka_unit_test(test_local_endpoint), cmocka_unit_test(test_local_flags_out),
	   cmocka_unit_test(test_class_dedup), cmocka_unit_test(test_rule_limit_ok),
	   cmocka_unit_test(test_rule_limit_over), cmocka_unit_test(test_nwords),
	   cmocka_unit_test(test_empty_set_error), cmocka_unit_test(test_empty_optional_warning),
	   cmocka_unit_test(test_empty_tag_error), cmocka_unit_test(test_empty_local_error),
	   cmocka_unit_test(test_empty_names_items), cmocka_unit_test(test_host_rules),
	   cmocka_unit_test(test_tag_needs_file), cmocka_unit_test(test_fake_resolver),
	   cmocka_unit_test(test_unknown_tag), cmocka_unit_test(test_family_mismatch),
	   cmocka_unit_test(test_platform_first), cmocka_unit_test(test_platform_off_mode_header),
	   cmocka_unit_test(test_origin_tail), cmocka_unit_test(test_parsed_policy),
	   cmocka_unit_test(test_print), cmocka_unit_test(test_random_property),
	   cmocka_unit_test(test_scale_100k))
