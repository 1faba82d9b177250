// SPDX-License-Identifier: GPL-2.0-only
/* What the kernel accepts as an interface name (dev_valid_name), checked before it is a path. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "base/ifname.h"
#include "base/log.h"

bool ifname_valid(const char *name, char *why, size_t whysz)
{
	size_t n = strlen(name);

	if (!n)
		snprintf(why, whysz, "empty interface name");
	else if (n >= IFNAMSIZ)
		snprintf(why, whysz, "longer than %d characters: no interface has such a name",
			 IFNAMSIZ - 1);
	else if (!strcmp(name, ".") || !strcmp(name, ".."))
		snprintf(why, whysz, "not an interface name");
	else if (strpbrk(name, "/: \t\n\r\v\f"))
		snprintf(why, whysz, "an interface name has no '/', ':' or white space");
	else
		return true;
	return false;
}

int ifname_check(const char *cmd, const char *name)
{
	char why[96];

	if (ifname_valid(name, why, sizeof(why)))
		return 0;
	pr_err("%s: -i %s: %s", cmd, name, why);
	pr_hint("'ip link' lists the interfaces");
	return -EINVAL;
}
