// SPDX-License-Identifier: GPL-2.0-only
/*
 * Rule-set classes: every distinct bitmap the tables need is stored once and referred to by its
 * index, so that thousands of LPM entries and 65536 ports per protocol share a handful of
 * 128-byte bitmaps.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compile_internal.h"
#include "base/vec.h"

#define CLASS_SLOTS_MIN 64

static uint64_t bm_hash(const struct amlg_bitmap *bm)
{
	uint64_t h = 0x9e3779b97f4a7c15ull;

	for (unsigned i = 0; i < AMLG_BM_WORDS; i++) {
		h ^= bm->w[i];
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	return h;
}

static void slot_put(uint32_t *slots, size_t nslots, uint64_t hash, uint32_t cls)
{
	size_t i = hash & (nslots - 1);

	while (slots[i])
		i = (i + 1) & (nslots - 1);
	slots[i] = cls + 1;
}

static int rehash(struct class_table *t, size_t nslots)
{
	uint32_t *slots = calloc(nslots, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++)
		slot_put(slots, nslots, bm_hash(&t->v[i]), (uint32_t)i);
	free(t->slots);
	t->slots = slots;
	t->nslots = nslots;
	return 0;
}

static int append(struct class_table *t, const struct amlg_bitmap *bm)
{
	if (VEC_RESERVE(t->v, t->n, t->cap, 16))
		return -ENOMEM;
	t->v[t->n++] = *bm;
	return 0;
}

int class_table_init(struct class_table *t)
{
	struct amlg_bitmap empty = { 0 };
	uint32_t cls;

	memset(t, 0, sizeof(*t));
	if (rehash(t, CLASS_SLOTS_MIN))
		return -ENOMEM;
	/* Interned first, so the empty bitmap is AMLG_CLASS_EMPTY. */
	return class_intern(t, &empty, &cls);
}

int class_intern(struct class_table *t, const struct amlg_bitmap *bm, uint32_t *cls)
{
	uint64_t hash = bm_hash(bm);
	size_t i = hash & (t->nslots - 1);
	int err;

	for (; t->slots[i]; i = (i + 1) & (t->nslots - 1)) {
		if (!memcmp(&t->v[t->slots[i] - 1], bm, sizeof(*bm))) {
			*cls = t->slots[i] - 1;
			return 0;
		}
	}
	err = append(t, bm);
	if (err)
		return err;
	*cls = (uint32_t)(t->n - 1);
	/* Keep the load at most one half so that probe sequences stay short. */
	if (t->n * 2 > t->nslots)
		return rehash(t, t->nslots * 2);
	t->slots[i] = *cls + 1;
	return 0;
}

void class_table_move(struct class_table *t, struct compiled *c)
{
	c->classes = t->v;
	c->nclasses = t->n;
	t->v = NULL;
	t->n = t->cap = 0;
	class_table_free(t);
}

void class_table_free(struct class_table *t)
{
	free(t->v);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}
