// SPDX-License-Identifier: GPL-2.0-only
/* amlguard detach: remove the tc filters, the clsact qdisc if we made it, and the pins. */
#include <errno.h>
#include <stdio.h>

#include "cli/cli.h"
#include "cli/params.h"
#include "kernel/loader.h"
#include "base/lock.h"
#include "base/log.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: amlguard detach -i IFACE [-j]\n\n"
		   "Removes amlguard's filters from the interface, the clsact qdisc if amlguard\n"
		   "created it, and the pinned state under /sys/fs/bpf/amlguard/IFACE.\n");
}

struct detach_cfg {
	const char *ifname;
};

static const struct cli_opt opts[] = {
	CLI_OPT_STRING(struct detach_cfg, ifname, "interface", 'i', "IFACE", "the interface"),
	CLI_OPT_JSON,
	CLI_OPT_END,
};

static const struct cli_cmd cmd = { .name = "detach", .usage = usage, .opts = opts };

int do_detach(int argc, char **argv)
{
	struct iface_lock lk = { .fd = -1 };
	struct detach_cfg cfg = { 0 };
	int first, err;

	err = cli_parse(&cmd, &cfg, argc, argv, &first);
	if (err)
		return err > 0 ? 0 : err;
	err = cli_iface(cmd.name, cfg.ifname);
	if (!err)
		err = require_root(cmd.name);
	if (!err)
		err = lock_iface(&lk, cfg.ifname, cmd.name);
	if (!err)
		err = amlg_detach(cfg.ifname);
	lock_release(&lk);
	if (!err) {
		if (json_output)
			json_print(json_pack("{s:s}", "detached", cfg.ifname));
		else
			printf("detached from %s\n", cfg.ifname);
	}
	return err;
}
