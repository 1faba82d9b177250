// SPDX-License-Identifier: GPL-2.0-only
/* amlguard detach: remove the tc filters, the clsact qdisc if we made it, and the pins. */
#include <errno.h>
#include <stdio.h>

#include "cli/cli.h"
#include "kernel/loader.h"
#include "base/lock.h"
#include "base/log.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: amlguard detach -i IFACE [-j]\n\n"
		   "Removes amlguard's filters from the interface, the clsact qdisc if amlguard\n"
		   "created it, and the pinned state under /sys/fs/bpf/amlguard/IFACE.\n");
}

int do_detach(int argc, char **argv)
{
	struct iface_lock lk = { .fd = -1 };
	const char *ifname;
	int err;

	err = cli_parse_iface("detach", usage, argc, argv, &ifname);
	if (err)
		return err > 0 ? 0 : err;
	err = cli_iface("detach", ifname);
	if (!err)
		err = require_root("detach");
	if (!err)
		err = lock_iface(&lk, ifname, "detach");
	if (!err)
		err = amlg_detach(ifname);
	lock_release(&lk);
	if (!err) {
		if (json_output)
			json_print(json_pack("{s:s}", "detached", ifname));
		else
			printf("detached from %s\n", ifname);
	}
	return err;
}
