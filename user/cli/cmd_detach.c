// SPDX-License-Identifier: GPL-2.0-only
/* amlguard detach: remove the tc filters, the clsact qdisc if we made it, and the pins. */
#include <errno.h>
#include <getopt.h>
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
	static const struct option opts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *ifname = NULL;
	struct iface_lock lk = { .fd = -1 };
	int opt, err;

	while ((opt = getopt_long(argc, argv, "i:jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			ifname = optarg;
			break;
		case 'j':
			json_output = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (!ifname) {
		pr_err("detach: no interface given (-i IFACE)");
		return -EINVAL;
	}
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
