// SPDX-License-Identifier: GPL-2.0-only
/* amlg-bench: the commands scripts/bench runs, from a table. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "base/log.h"

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static const struct cmd cmds[] = {
	{ "datapath", cmd_datapath, "ns/packet in BPF_PROG_TEST_RUN: amlguard and comparisons" },
	{ "gen", cmd_gen, "a prefix set as a policy, an nft ruleset and an ipset restore file" },
	{ "live", cmd_live,
	  "attach a comparison program, read run-time counters, fill xdp-filter" },
	{ "pcap", cmd_pcap, "write a large capture of generated packets (libpcap)" },
	{ "compile", cmd_compile, "compile a policy with service tags from a tag file" },
	{ NULL, NULL, NULL },
};

static void usage(void)
{
	fprintf(stderr, "usage: amlg-bench COMMAND [ARGS]\n");
	for (const struct cmd *c = cmds; c->name; c++)
		fprintf(stderr, "  %-9s %s\n", c->name, c->help);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage();
		return 2;
	}
	log_libbpf_init();
	for (const struct cmd *c = cmds; c->name; c++) {
		if (!strcmp(argv[1], c->name)) {
			int err = c->fn(argc - 1, argv + 1);

			return err ? (err == -EINVAL ? 2 : 1) : 0;
		}
	}
	fprintf(stderr, "amlg-bench: error: unknown command '%s'\n", argv[1]);
	usage();
	return 2;
}
