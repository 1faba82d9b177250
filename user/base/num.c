// SPDX-License-Identifier: GPL-2.0-only
/* Numbers in configuration values and arguments. */
#include <errno.h>
#include <stdlib.h>

#include "base/num.h"

int num_parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}
