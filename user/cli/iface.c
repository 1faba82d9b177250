// SPDX-License-Identifier: GPL-2.0-only
/* What the commands that touch an interface share: -i, the root check, the pinned state. */
#include <errno.h>
#include <unistd.h>

#include "cli/cli.h"
#include "base/ifname.h"
#include "base/log.h"
#include "kernel/maps.h"
#include "kernel/state.h"

int require_root(const char *what)
{
	if (geteuid() == 0)
		return 0;
	pr_err("%s: needs CAP_BPF and CAP_NET_ADMIN", what);
	pr_hint("run it as root, e.g. with sudo");
	return -EPERM;
}

int cli_iface(const char *cmd, const char *ifname)
{
	char why[96];

	if (!ifname) {
		pr_err("%s: no interface given (-i IFACE)", cmd);
		return -EINVAL;
	}
	if (!ifname_valid(ifname, why, sizeof(why))) {
		pr_err("%s: %s", ifname, why);
		pr_hint("'ip link' lists the interfaces");
		return -EINVAL;
	}
	return 0;
}

int cli_open_pinned(const char *cmd, const char *ifname, struct amlg_maps *m)
{
	int err = require_root(cmd);

	if (err)
		return err;
	err = maps_open_pinned(ifname, m);
	if (err)
		state_report_open_error(ifname, err);
	return err;
}
