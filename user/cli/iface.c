// SPDX-License-Identifier: GPL-2.0-only
/* What the commands that touch an interface share: -i, the root check, the pinned state. */
#include <errno.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/params.h"
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

struct iface_cfg {
	const char *ifname;
};

static const struct cli_opt iface_opts[] = {
	CLI_OPT_STRING(struct iface_cfg, ifname, "interface", 'i', "IFACE", "the interface"),
	CLI_OPT_JSON,
	CLI_OPT_END,
};

int cli_parse_iface(const char *cmd, void (*usage)(FILE *f), int argc, char **argv,
		    const char **ifname)
{
	const struct cli_cmd c = { .name = cmd, .usage = usage, .opts = iface_opts };
	struct iface_cfg cfg = { 0 };
	int first, err;

	err = cli_parse(&c, &cfg, argc, argv, &first);
	*ifname = cfg.ifname;
	return err;
}
