// SPDX-License-Identifier: GPL-2.0-only
/* amlguard compile: parse, resolve and compile a policy; print what it became.  No kernel. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "compile/frontend.h"
#include "base/log.h"
#include "compile/whatif.h"

enum { OPT_WHAT_IF = OPT_FIRST_FREE };

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: amlguard compile -p POLICY [--var NAME=VALUE]... [--tags FILE]\n"
		"                        [--mode audit|enforce] [--what-if NAME=VALUE]... [-v] [-j]\n\n"
		"Prints the policy's variables, every rule with what its endpoints resolved to,\n"
		"then the sizes of the tables the datapath would get.  -v lists the merged\n"
		"prefixes of each rule.  --what-if compiles the policy once more with NAME=VALUE\n"
		"instead of its current value and lists the flow IDs that change opens, closes\n"
		"or changes (--what-if batch=classic: what the retired Batch mode costs).\n"
		"Exit status: 0 compiled, 2 errors (all of them are printed).\n");
}

static int print(const struct compiled *c, const struct policy *p, const struct var_def *set,
		 size_t nset, const struct whatif *w, bool verbose)
{
	char heading[512];
	json_t *root;
	int err;

	if (!json_output) {
		policy_vars_print(p, stdout);
		err = compiled_print(c, stdout, false, verbose);
		if (!err && w) {
			whatif_heading(p, set, nset, heading, sizeof(heading));
			whatif_print(w, heading, stdout);
		}
		return err;
	}
	root = compiled_json(c, verbose);
	if (!root || json_object_set_new(root, "variables", policy_vars_json(p)) ||
	    (w && json_object_set_new(root, "what_if", whatif_json(w, p, set, nset)))) {
		json_decref(root);
		return -ENOMEM;
	}
	err = json_dumpf(root, stdout, JSON_INDENT(2)) || fputc('\n', stdout) == EOF ? -EIO : 0;
	json_decref(root);
	return err;
}

int do_compile(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "what-if", required_argument, NULL, OPT_WHAT_IF },
		FRONTEND_LONG_OPTS,
		{ 0 },
	};
	struct compiled *c = NULL, *c2 = NULL;
	struct policy *p = NULL, *p2 = NULL;
	struct var_def set[WHATIF_MAX];
	struct whatif w = { 0 };
	struct policy_args a;
	bool verbose = false;
	size_t nset = 0;
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
		case OPT_WHAT_IF:
			if (whatif_arg(set, &nset, optarg))
				return -EINVAL;
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
	if (!err && nset)
		err = frontend_whatif(&a, set, nset, json_output, c, &w, &c2, &p2);
	if (!err) {
		err = print(c, p, set, nset, nset ? &w : NULL, verbose);
		if (err)
			pr_err("compile: cannot print the tables: %s", strerror(-err));
	}
	whatif_free(&w);
	compiled_free(c2);
	policy_free(p2);
	compiled_free(c);
	policy_free(p);
	return err;
}
