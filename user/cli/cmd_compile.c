// SPDX-License-Identifier: GPL-2.0-only
/* amlguard compile: parse, resolve and compile a policy; print what it became.  No kernel. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/policy_opts.h"
#include "base/log.h"
#include "compile/whatif.h"

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

static int print(const struct compiled *c, const struct policy *p, const struct whatif_set *set,
		 const struct whatif *w, bool verbose)
{
	char heading[512];
	json_t *root;
	int err;

	if (!json_output) {
		policy_vars_print(p, stdout);
		err = compiled_print(c, stdout, false, verbose);
		if (!err && w) {
			whatif_heading(p, set->v, set->n, heading, sizeof(heading));
			whatif_print(w, heading, stdout);
		}
		return err;
	}
	root = compiled_json(c, verbose);
	if (!root || json_object_set_new(root, "variables", policy_vars_json(p)) ||
	    (w && json_object_set_new(root, "what_if", whatif_json(w, p, set->v, set->n)))) {
		json_decref(root);
		return -ENOMEM;
	}
	err = json_dumpf(root, stdout, JSON_INDENT(2)) || fputc('\n', stdout) == EOF ? -EIO : 0;
	json_decref(root);
	return err;
}

struct compile_cfg {
	struct pipeline_opts po;
	struct whatif_set set;
	bool verbose;
};

static const struct cli_opt opts[] = {
	CLI_OPTS_POLICY(struct compile_cfg, po),
	CLI_OPT_FUNC(struct compile_cfg, set, "what-if", 0, "NAME=VALUE", whatif_opt,
		     "compare with the policy compiled with this value (repeatable)"),
	CLI_OPT_FLAG(struct compile_cfg, verbose, "verbose", 'v',
		     "the merged prefixes of each rule"),
	CLI_OPT_JSON,
	CLI_OPT_END,
};

static const struct cli_cmd cmd = { .name = "compile", .usage = usage, .opts = opts };

int do_compile(int argc, char **argv)
{
	struct compiled *c = NULL, *c2 = NULL;
	struct policy *p = NULL, *p2 = NULL;
	struct whatif w = { 0 };
	struct compile_cfg cfg = { .po = PIPELINE_OPTS_INIT };
	int first, err;

	err = cli_parse(&cmd, &cfg, argc, argv, &first);
	if (err)
		return err > 0 ? 0 : err;
	err = cli_compile(&cfg.po, &c, &p, NULL);
	if (!err && cfg.set.n)
		err = cli_whatif(&cfg.po, &cfg.set, c, &w, &c2, &p2);
	if (!err) {
		err = print(c, p, &cfg.set, cfg.set.n ? &w : NULL, cfg.verbose);
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
