// SPDX-License-Identifier: GPL-2.0-only
/* Growing arrays. */
#include <errno.h>
#include <stdlib.h>

#include "base/vec.h"

int vec_reserve(void **v, size_t *cap, size_t n, size_t elem, size_t first)
{
	size_t c;
	void *p;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : first;
	if (c <= n || c > ((size_t)-1) / elem)
		return -ENOMEM;
	p = realloc(*v, c * elem);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = c;
	return 0;
}
