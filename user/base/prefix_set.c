// SPDX-License-Identifier: GPL-2.0-only
/*
 * Set difference of prefix lists.  Both sides are merged first, so they are sorted and free of
 * overlaps: for a prefix x of the first list, at most one prefix of the second contains x (the
 * last one that starts at or before x), and the ones inside x follow each other.  x is split in
 * halves until every piece is either inside one of them (dropped) or clear of all (kept).
 */
#include <errno.h>
#include <string.h>

#include "base/prefix_set.h"

static int copy_merged(const struct prefix_list *from, struct prefix_list *to)
{
	int err = prefix_list_append(to, from);

	if (!err && to->n)
		prefix_list_merge(to);
	return err;
}

/* The index of the first prefix of l that does not sort before p. */
static size_t lower_bound(const struct prefix_list *l, const struct prefix *p)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (prefix_cmp(&l->v[mid], p) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void half(const struct prefix *x, unsigned bit, struct prefix *h)
{
	*h = *x;
	h->len = (uint8_t)(x->len + 1);
	if (bit)
		h->addr[x->len / 8] |= (uint8_t)(0x80 >> (x->len % 8));
}

/* Add x less ys[0..n), every one of them inside x and sorted. */
static int carve(const struct prefix *x, const struct prefix *ys, size_t n, struct prefix_list *out)
{
	struct prefix h0, h1;
	size_t k = 0;
	int err;

	if (!n)
		return prefix_list_add(out, x);
	if (ys[0].len == x->len)
		return 0; /* ys[0] is x itself */
	half(x, 0, &h0);
	half(x, 1, &h1);
	while (k < n && prefix_contains(&h0, &ys[k]))
		k++;
	err = carve(&h0, ys, k, out);
	return err ? err : carve(&h1, ys + k, n - k, out);
}

int prefix_list_subtract(const struct prefix_list *a, const struct prefix_list *b,
			 struct prefix_list *out)
{
	struct prefix_list ma = { 0 }, mb = { 0 };
	int err;

	err = copy_merged(a, &ma);
	if (!err)
		err = copy_merged(b, &mb);
	for (size_t i = 0; !err && i < ma.n; i++) {
		const struct prefix *x = &ma.v[i];
		size_t j = lower_bound(&mb, x), k = j;

		/* A prefix of b that starts before x and contains it removes all of x. */
		if (j > 0 && prefix_contains(&mb.v[j - 1], x))
			continue;
		if (j < mb.n && prefix_contains(&mb.v[j], x) && mb.v[j].len == x->len)
			continue;
		while (k < mb.n && prefix_contains(x, &mb.v[k]))
			k++;
		err = carve(x, k > j ? &mb.v[j] : NULL, k - j, out);
	}
	if (!err && out->n)
		prefix_list_merge(out);
	prefix_list_free(&ma);
	prefix_list_free(&mb);
	return err;
}

bool prefix_list_has_addr(const struct prefix_list *l, int family, const uint8_t *addr)
{
	struct prefix p = { .family = (uint8_t)family, .len = (uint8_t)prefix_bits(family) };
	size_t j;

	memcpy(p.addr, addr, family == 4 ? 4 : 16);
	j = lower_bound(l, &p);
	/* The covering prefix starts at or before the address: l->v[j] (same start) or before. */
	if (j < l->n && prefix_has_addr(&l->v[j], family, addr))
		return true;
	return j > 0 && prefix_has_addr(&l->v[j - 1], family, addr);
}
