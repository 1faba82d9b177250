/* SPDX-License-Identifier: GPL-2.0-only */
/* Growing arrays: room for one more element, the capacity doubled from a first size. */
#ifndef AMLG_BASE_VEC_H
#define AMLG_BASE_VEC_H

#include <stddef.h>

/*
 * Make room for element n of the array *v (elem bytes each) whose capacity is *cap: when full,
 * the capacity doubles (first when 0) and *v moves.  0, or -ENOMEM with *v and *cap unchanged.
 */
int vec_reserve(void **v, size_t *cap, size_t n, size_t elem, size_t first);

/* vec_reserve on an array v[] of n used and cap allocated elements (lvalues). */
#define VEC_RESERVE(v, n, cap, first) vec_reserve((void **)&(v), &(cap), (n), sizeof(*(v)), (first))

#endif
