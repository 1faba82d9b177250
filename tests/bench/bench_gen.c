// SPDX-License-Identifier: GPL-2.0-only
/*
 * Synthetic prefix sets and policies.  Deterministic for a seed, so every program, every round
 * and every filter in a run sees the same addresses.  Prefix lengths follow the histogram of the
 * Public service-tag file (2025-10-20): mostly /23-/32 with a tail of shorter ones.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "base/diag.h"
#include "compile/pipeline.h"

void rng_seed(struct rng *r, uint64_t seed)
{
	r->s = seed ? seed : 0x9e3779b97f4a7c15ull;
}

uint64_t rng_next(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dull;
}

uint32_t rng_below(struct rng *r, uint32_t n)
{
	return n ? (uint32_t)((rng_next(r) >> 32) % n) : 0;
}

struct len_weight {
	uint8_t len;
	uint16_t w;
};

/* IPv4 lengths /16-/32 (shorter ones folded into /16), IPv6 lengths as published. */
static const struct len_weight w4[] = {
	{ 16, 255 },  { 17, 533 },  { 18, 436 },  { 19, 321 },	{ 20, 247 },  { 21, 328 },
	{ 22, 486 },  { 23, 1365 }, { 24, 3679 }, { 25, 1490 }, { 26, 3079 }, { 27, 4453 },
	{ 28, 4546 }, { 29, 4560 }, { 30, 2162 }, { 31, 2082 }, { 32, 8393 },
};

static const struct len_weight w6[] = {
	{ 44, 4 },     { 47, 120 },   { 48, 733 },   { 54, 85 },    { 55, 115 },
	{ 56, 299 },   { 57, 104 },   { 59, 198 },   { 60, 68 },    { 61, 109 },
	{ 62, 264 },   { 63, 419 },   { 64, 1074 },  { 120, 478 },  { 121, 1875 },
	{ 122, 1757 }, { 123, 2494 }, { 124, 1015 }, { 125, 1606 }, { 128, 535 },
};

static uint8_t pick_len(struct rng *r, const struct len_weight *w, size_t n)
{
	uint32_t total = 0, x;

	for (size_t i = 0; i < n; i++)
		total += w[i].w;
	x = rng_below(r, total);
	for (size_t i = 0; i < n; i++) {
		if (x < w[i].w)
			return w[i].len;
		x -= w[i].w;
	}
	return w[n - 1].len;
}

/* Not in 0/8, 10/8, 127/8, 169.254/16, 172.16/12, 192.168/16, 224/3, the documentation /24s. */
static bool v4_usable(uint32_t a)
{
	uint8_t b0 = a >> 24, b1 = (a >> 16) & 0xff;

	if (b0 == 0 || b0 == 10 || b0 == 127 || b0 >= 224 || b0 == 168)
		return false;
	if ((b0 == 169 && b1 == 254) || (b0 == 172 && (b1 & 0xf0) == 16) ||
	    (b0 == 192 && b1 == 168))
		return false;
	/* 192.0.2/24, 198.51.100/24, 203.0.113/24 and their neighbourhoods (/16) */
	if ((b0 == 192 && b1 == 0) || (b0 == 198 && b1 == 51) || (b0 == 203 && b1 == 0))
		return false;
	return true;
}

int gen_prefixes(uint64_t seed, size_t n4, size_t n6, struct prefix_list *out)
{
	struct rng r;
	int err;

	rng_seed(&r, seed);
	for (size_t i = 0; i < n4;) {
		struct prefix p = { .family = 4 };
		uint32_t a = (uint32_t)rng_next(&r), m;

		p.len = pick_len(&r, w4, sizeof(w4) / sizeof(w4[0]));
		m = p.len == 32 ? ~0u : ~(~0u >> p.len);
		a &= m;
		if (!v4_usable(a))
			continue;
		p.addr[0] = a >> 24;
		p.addr[1] = a >> 16;
		p.addr[2] = a >> 8;
		p.addr[3] = a;
		err = prefix_list_add(out, &p);
		if (err)
			return err;
		i++;
	}
	for (size_t i = 0; i < n6;) {
		struct prefix p = { .family = 6 };

		p.len = pick_len(&r, w6, sizeof(w6) / sizeof(w6[0]));
		for (int b = 0; b < 16; b += 8) {
			uint64_t x = rng_next(&r);

			memcpy(&p.addr[b], &x, 8);
		}
		p.addr[0] = 0x20 | (p.addr[0] & 0x1f); /* 2000::/3 */
		if (p.addr[0] == 0x20 && p.addr[1] == 0x01 && p.addr[2] == 0x0d &&
		    p.addr[3] == 0xb8)
			continue;
		for (unsigned bit = p.len; bit < 128; bit++)
			p.addr[bit / 8] &= (uint8_t) ~(0x80 >> (bit % 8));
		err = prefix_list_add(out, &p);
		if (err)
			return err;
		i++;
	}
	return 0;
}

/* Append to a growing string; returns -ENOMEM on failure. */
struct sbuf {
	char *s;
	size_t n, cap;
};

static int sb_add(struct sbuf *b, const char *t)
{
	size_t l = strlen(t);

	if (b->n + l + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		char *s;

		while (cap < b->n + l + 1)
			cap *= 2;
		s = realloc(b->s, cap);
		if (!s)
			return -ENOMEM;
		b->s = s;
		b->cap = cap;
	}
	memcpy(b->s + b->n, t, l + 1);
	b->n += l;
	return 0;
}

/* Does prefix index j (of n) belong to rule r (of nrules)? */
static bool in_rule(size_t j, size_t n, unsigned r, unsigned nrules)
{
	if (n >= nrules)
		return j % nrules == r;
	return j == r % n;
}

static int add_family(struct sbuf *b, const struct prefix_list *l, unsigned r, unsigned nrules,
		      size_t *count)
{
	char buf[PREFIX_STRLEN];
	int err = 0;

	for (size_t j = 0; j < l->n && !err; j++) {
		if (!in_rule(j, l->n, r, nrules))
			continue;
		/* Lists may span lines: keep lines short for the lexer and for a reader. */
		if (*count)
			err = sb_add(b, *count % 8 ? ", " : ",\n\t");
		if (!err)
			err = sb_add(b, prefix_str(&l->v[j], buf, sizeof(buf)));
		(*count)++;
	}
	return err;
}

int synth_policy(struct synth *s, uint64_t seed, size_t n4, size_t n6, unsigned nrules)
{
	struct prefix_list all = { 0 };
	struct sbuf b = { 0 };
	char line[128];
	int err;

	memset(s, 0, sizeof(*s));
	s->nrules = nrules;
	err = gen_prefixes(seed, n4, n6, &all);
	for (size_t i = 0; !err && i < all.n; i++)
		err = prefix_list_add(all.v[i].family == 4 ? &s->v4 : &s->v6, &all.v[i]);
	prefix_list_free(&all);
	if (!err)
		err = sb_add(&b, "# generated by amlg-bench\nmode audit\nplatform off\n");
	for (unsigned r = 0; !err && r < nrules; r++) {
		size_t count = 0;

		snprintf(line, sizeof(line), "set r%u = { ", r);
		err = sb_add(&b, line);
		if (!err)
			err = add_family(&b, &s->v4, r, nrules, &count);
		if (!err)
			err = add_family(&b, &s->v6, r, nrules, &count);
		if (!err)
			err = sb_add(&b, " }\n");
	}
	for (unsigned r = 0; !err && r < nrules; r++) {
		snprintf(line, sizeof(line), "allow out tcp port %u to @r%u flow R%u\n",
			 BENCH_PORT0 + r, r, r);
		err = sb_add(&b, line);
	}
	if (err) {
		free(b.s);
		synth_free(s);
		return err;
	}
	s->text = b.s;
	return 0;
}

void synth_free(struct synth *s)
{
	prefix_list_free(&s->v4);
	prefix_list_free(&s->v6);
	free(s->text);
	s->text = NULL;
}

void synth_addr(const struct synth *s, unsigned r, int family, uint32_t variant, uint8_t *addr)
{
	const struct prefix_list *l = family == 4 ? &s->v4 : &s->v6;
	size_t cand[64], nc = 0;
	const struct prefix *p;
	struct rng rg;
	unsigned bits = family == 4 ? 32 : 128;

	for (size_t j = 0; j < l->n && nc < 64; j++)
		if (in_rule(j, l->n, r, s->nrules))
			cand[nc++] = j;
	p = &l->v[cand[variant % (nc ? nc : 1)]];
	memcpy(addr, p->addr, 16);
	rng_seed(&rg, 0x5eed + variant);
	for (unsigned bit = p->len; bit < bits; bit++)
		if (rng_next(&rg) & 1)
			addr[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
}

static int compile_bench(const char *path, const struct tag_resolver *tags,
			 const struct var_def *vars, size_t nvars, struct compiled_policy *cp)
{
	struct compile_opts o = { .mode = -1, .tags = tags };
	struct diag d;
	int err;

	memset(cp, 0, sizeof(*cp));
	diag_init(&d);
	err = policy_load(path, vars, nvars, &d, &cp->p);
	if (!err)
		err = compile_policy(cp->p, &o, &d, &cp->c);
	if (err || diag_failed(&d)) {
		diag_print(&d, stderr);
		err = err ? err : -EINVAL;
		compiled_policy_free(cp);
	}
	diag_free(&d);
	return err;
}

static int compile_project(const char *path, const char *tags, const struct var_def *vars,
			   size_t nvars, struct compiled_policy *cp)
{
	struct pipeline_opts a;

	memset(cp, 0, sizeof(*cp));
	pipeline_opts_init(&a);
	a.policy = path;
	a.tags = tags;
	for (size_t i = 0; i < nvars && i < PIPELINE_MAX_VARS; i++)
		a.vars[a.nvars++] = vars[i];
	return pipeline_compile(&a, false, &cp->c, &cp->p);
}

int compile_file(const char *path, const char *tags, const struct var_def *vars, size_t nvars,
		 struct compiled_policy *cp, const char **how)
{
	struct tagdb *db = NULL;
	struct tag_resolver tr;
	int err;

	for (int with = 0; with <= (nvars ? 1 : 0); with++) {
		size_t n = with ? nvars : 0;

		err = compile_project(path, tags, vars, n, cp);
		if (!err) {
			*how = with ? "project+vars" : "project";
			return 0;
		}
		if (!tags)
			continue;
		if (!db) {
			err = tagdb_open(tags, &db);
			if (err)
				return err;
			tagdb_resolver(db, &tr);
		}
		err = compile_bench(path, &tr, vars, n, cp);
		if (!err) {
			*how = with ? "bench-resolver+vars" : "bench-resolver";
			/* the compiled tables do not point into the tag file */
			tagdb_free(db);
			return 0;
		}
	}
	tagdb_free(db);
	return err;
}
