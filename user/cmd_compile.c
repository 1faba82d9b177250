// SPDX-License-Identifier: GPL-2.0-only
/* amlguard compile: parse, resolve and compile a policy; print what it became.  No kernel. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "frontend.h"
#include "log.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: amlguard compile -p POLICY [--var NAME=VALUE]... [--tags FILE]\n"
		   "                        [--mode audit|enforce] [-v] [-j]\n\n"
		   "Prints every rule with what its endpoints resolved to, then the sizes of the\n"
		   "tables the datapath would get.  -v lists the merged prefixes of each rule.\n"
		   "Exit status: 0 compiled, 2 errors (all of them are printed).\n");
}

int do_compile(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		FRONTEND_LONG_OPTS,
		{ 0 },
	};
	struct compiled *c = NULL;
	struct policy *p = NULL;
	struct policy_args a;
	bool verbose = false;
	int opt, err;

	policy_args_init(&a);
	while ((opt = getopt_long(argc, argv, "p:vjh", opts, NULL)) != -1) {
		err = policy_args_opt(&a, opt, optarg);
		if (err < 0)
			return err;
		if (err)
			continue;
		switch (opt) {
		case 'v':
			verbose = true;
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
	err = frontend_compile(&a, json_output, &c, &p);
	if (err)
		return err;
	err = compiled_print(c, stdout, json_output, verbose);
	if (err)
		pr_err("compile: cannot print the tables: %s", strerror(-err));
	compiled_free(c);
	policy_free(p);
	return err;
}
