/* SPDX-License-Identifier: GPL-2.0-only */
/* Set operations on prefix lists, as address sets: what one list covers and another does not. */
#ifndef AMLG_BASE_PREFIX_SET_H
#define AMLG_BASE_PREFIX_SET_H

#include "base/prefix.h"

/*
 * out gets the addresses of a that b does not cover, as few prefixes as possible (merged).  a
 * and b need not be merged; they are not changed.  10.0.0.0/24 less 10.0.0.0/25 is
 * 10.0.0.128/25.  Returns 0 or -ENOMEM.
 */
int prefix_list_subtract(const struct prefix_list *a, const struct prefix_list *b,
			 struct prefix_list *out);

/* Is the address covered by a merged, sorted list (binary search)? */
bool prefix_list_has_addr(const struct prefix_list *l, int family, const uint8_t *addr);

#endif
