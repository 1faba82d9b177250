// SPDX-License-Identifier: GPL-2.0-only
/*
 * LPM push-down.  The datapath does one longest-prefix lookup per side, so the entry it finds
 * must carry every rule whose endpoint covers the address, not just the rules that wrote that
 * exact prefix: each entry's bitmap is the OR of the bits of its own prefix and of every prefix
 * that contains it.
 *
 * Prefixes of one kind and family form a laminar family (two prefixes are nested or disjoint),
 * and sorted by address then length every prefix follows the prefixes containing it, with its
 * own descendants right behind it.  One walk with a stack of the enclosing prefixes therefore
 * does the push-down in O(n log n) for the sort plus O(n) for the walk.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compile_internal.h"
#include "base/vec.h"

/* A strictly nested chain has strictly growing lengths: /0 to /128. */
#define LPM_DEPTH_MAX 129

struct lpm_pair {
	struct prefix pfx;
	uint8_t kind;
	uint16_t bit;
};

struct lpm_pairs {
	struct lpm_pair *v;
	size_t n, cap;
};

struct lpm_frame {
	const struct prefix *pfx;
	struct amlg_bitmap bm;
};

static const struct prefix any4 = { .family = 4, .len = 0 };
static const struct prefix any6 = { .family = 6, .len = 0 };

static int pair_add(struct lpm_pairs *ps, const struct prefix *pfx, uint8_t kind, uint16_t bit)
{
	if (VEC_RESERVE(ps->v, ps->n, ps->cap, 256))
		return -ENOMEM;
	ps->v[ps->n++] = (struct lpm_pair){ .pfx = *pfx, .kind = kind, .bit = bit };
	return 0;
}

static int pairs_add_list(struct lpm_pairs *ps, const struct prefix_list *l, uint8_t kind,
			  uint16_t bit)
{
	for (size_t i = 0; i < l->n; i++) {
		int err = pair_add(ps, &l->v[i], kind, bit);

		if (err)
			return err;
	}
	return 0;
}

static bool dir_has_local(const struct compiled *c, unsigned dir)
{
	return c->flags & (dir == AMLG_DIR_OUT ? AMLG_PF_HAS_LOCAL_OUT : AMLG_PF_HAS_LOCAL_IN);
}

static int collect(const struct compiled *c, struct lpm_pairs *ps)
{
	int err = 0;

	for (size_t i = 0; i < c->nrules && !err; i++) {
		const struct crule *cr = &c->rules[i];
		uint8_t local = AMLG_LPM_KIND(cr->dir, AMLG_SIDE_LOCAL);

		err = pairs_add_list(ps, &cr->remote, AMLG_LPM_KIND(cr->dir, AMLG_SIDE_REMOTE),
				     cr->bit);
		if (err || !dir_has_local(c, cr->dir))
			continue;
		/* Without a local endpoint a rule takes any local address of either family. */
		if (cr->has_local) {
			err = pairs_add_list(ps, &cr->local, local, cr->bit);
		} else {
			err = pair_add(ps, &any4, local, cr->bit);
			if (!err)
				err = pair_add(ps, &any6, local, cr->bit);
		}
	}
	return err;
}

/* Family, then kind, then prefix: the order of the output tables and of the walk. */
static int pair_cmp(const void *a, const void *b)
{
	const struct lpm_pair *x = a, *y = b;

	if (x->pfx.family != y->pfx.family)
		return x->pfx.family < y->pfx.family ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return prefix_cmp(&x->pfx, &y->pfx);
}

static void entry_add(struct compiled *c, const struct prefix *pfx, uint8_t kind, uint32_t cls)
{
	struct clpm e = { .pfx = *pfx, .kind = kind, .cls = cls };

	if (pfx->family == 4)
		c->lpm4[c->nlpm4++] = e;
	else
		c->lpm6[c->nlpm6++] = e;
}

static int walk(struct compiled *c, struct class_table *t, const struct lpm_pairs *ps,
		struct lpm_frame *stack)
{
	size_t depth = 0;

	for (size_t i = 0; i < ps->n;) {
		const struct lpm_pair *p = &ps->v[i];
		struct amlg_bitmap bm;
		uint32_t cls;
		int err;

		if (i && (p->kind != ps->v[i - 1].kind || p->pfx.family != ps->v[i - 1].pfx.family))
			depth = 0;
		while (depth && !prefix_contains(stack[depth - 1].pfx, &p->pfx))
			depth--;
		if (depth)
			bm = stack[depth - 1].bm;
		else
			memset(&bm, 0, sizeof(bm));
		/* Every rule that wrote this very prefix. */
		for (; i < ps->n && !pair_cmp(p, &ps->v[i]); i++)
			bm_set(&bm, ps->v[i].bit);
		err = class_intern(t, &bm, &cls);
		if (err)
			return err;
		entry_add(c, &p->pfx, p->kind, cls);
		if (depth == LPM_DEPTH_MAX)
			return -EOVERFLOW; /* cannot happen for distinct nested prefixes */
		stack[depth].pfx = &p->pfx;
		stack[depth].bm = bm;
		depth++;
	}
	return 0;
}

int compile_lpm(struct compiled *c, struct class_table *t)
{
	struct lpm_pairs ps = { 0 };
	struct lpm_frame *stack = NULL;
	size_t n4 = 0;
	int err;

	err = collect(c, &ps);
	if (err)
		goto out;
	if (ps.n) /* qsort(NULL, 0) is undefined */
		qsort(ps.v, ps.n, sizeof(*ps.v), pair_cmp);
	for (size_t i = 0; i < ps.n; i++)
		n4 += ps.v[i].pfx.family == 4;
	/* Sized for the worst case, no prefix shared; at least 1 so calloc never returns NULL. */
	c->lpm4 = calloc(n4 ? n4 : 1, sizeof(*c->lpm4));
	c->lpm6 = calloc(ps.n - n4 ? ps.n - n4 : 1, sizeof(*c->lpm6));
	stack = malloc(LPM_DEPTH_MAX * sizeof(*stack));
	if (!c->lpm4 || !c->lpm6 || !stack) {
		err = -ENOMEM;
		goto out;
	}
	err = walk(c, t, &ps, stack);
out:
	free(stack);
	free(ps.v);
	return err;
}
