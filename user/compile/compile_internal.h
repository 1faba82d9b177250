/* SPDX-License-Identifier: GPL-2.0-only */
/* What the compiler's files share with each other; not part of the library's API. */
#ifndef AMLG_COMPILE_COMPILE_INTERNAL_H
#define AMLG_COMPILE_COMPILE_INTERNAL_H

#include "compile/compile.h"

/* Distinct bitmaps, each stored once; class 0 is the empty bitmap. */
struct class_table {
	struct amlg_bitmap *v;
	size_t n, cap;
	uint32_t *slots; /* open addressing on the bitmap's hash: class + 1, 0 = free */
	size_t nslots; /* a power of two, at least twice n */
};

int class_table_init(struct class_table *t);
/* The class of bm, added when new.  Returns 0 or -ENOMEM. */
int class_intern(struct class_table *t, const struct amlg_bitmap *bm, uint32_t *cls);
/* Hand the classes over to c; t is left empty. */
void class_table_move(struct class_table *t, struct compiled *c);
void class_table_free(struct class_table *t);

static inline void bm_set(struct amlg_bitmap *bm, unsigned bit)
{
	bm->w[bit / 64] |= 1ull << (bit % 64);
}

static inline void bm_clear(struct amlg_bitmap *bm, unsigned bit)
{
	bm->w[bit / 64] &= ~(1ull << (bit % 64));
}

/*
 * Resolve r's endpoints into cr (remote, local, res, nhosts) and check that they match some
 * address.  Problems go to d; only an allocation failure is returned (-ENOMEM).
 */
int compile_resolve(struct crule *cr, const struct rule *r, const struct tag_resolver *tags,
		    struct diag *d);

/* Build c->lpm4/lpm6 from c->rules and the AMLG_PF_HAS_LOCAL_* flags. */
int compile_lpm(struct compiled *c, struct class_table *t);
/* Build c->ports and c->proto_cls from c->rules. */
int compile_ports(struct compiled *c, struct class_table *t);
/* Build c->hosts (patterns, their rules and classes) and c->host_lens from c->rules. */
int compile_hosts(struct compiled *c, struct class_table *t);

#endif
