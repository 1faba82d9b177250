/* SPDX-License-Identifier: GPL-2.0-only */
/* Numbers in configuration values and arguments. */
#ifndef AMLG_BASE_NUM_H
#define AMLG_BASE_NUM_H

/* s is a decimal number in [min, max], digits only: *out, 0; else -EINVAL. */
int num_parse_uint(const char *s, unsigned min, unsigned max, unsigned *out);

#endif
