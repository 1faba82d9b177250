/* SPDX-License-Identifier: GPL-2.0-only */
/* What the kernel accepts as an interface name (dev_valid_name), checked before it is a path. */
#ifndef AMLG_BASE_IFNAME_H
#define AMLG_BASE_IFNAME_H

#include <stdbool.h>
#include <stddef.h>

/* true when name can be an interface's; otherwise why says what is wrong with it */
bool ifname_valid(const char *name, char *why, size_t whysz);

/* For the commands: the same, with the error printed as "<cmd>: -i NAME: ...".  0 or -EINVAL. */
int ifname_check(const char *cmd, const char *name);

#endif
