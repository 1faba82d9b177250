// SPDX-License-Identifier: GPL-2.0-only
/* amlguard reload: compile a policy and swap it in atomically; on any error nothing changes. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/policy_opts.h"
#include "base/lock.h"
#include "base/log.h"
#include "kernel/maps.h"
#include "base/names.h"
#include "kernel/tables.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: amlguard reload -i IFACE -p POLICY [--mode audit|enforce]\n"
		   "                       [--var NAME=VALUE]... [--tags FILE] [-j]\n\n"
		   "Packets see the old policy or the new one, never a mix.  Flows that are\n"
		   "open keep going only if the new policy allows them too.  A policy with\n"
		   "errors is not loaded: the running one stays.\n");
}

struct reload_cfg {
	const char *ifname;
	struct pipeline_opts po;
};

static const struct cli_opt opts[] = {
	CLI_OPT_STRING(struct reload_cfg, ifname, "interface", 'i', "IFACE", "the interface"),
	CLI_OPTS_POLICY(struct reload_cfg, po),
	CLI_OPT_JSON,
	CLI_OPT_END,
};

static const struct cli_cmd cmd = { .name = "reload", .usage = usage, .opts = opts };

int do_reload(int argc, char **argv)
{
	struct iface_lock lk = { .fd = -1 };
	struct compiled *c = NULL;
	struct policy *p = NULL;
	struct reload_cfg cfg = { .po = PIPELINE_OPTS_INIT };
	const char *ifname;
	struct amlg_maps m;
	uint64_t gen = 0;
	int first, err;

	err = cli_parse(&cmd, &cfg, argc, argv, &first);
	if (err)
		return err > 0 ? 0 : err;
	ifname = cfg.ifname;
	err = cli_iface(cmd.name, ifname) ?: cli_compile(&cfg.po, &c, &p, NULL);
	if (err)
		return err;
	err = require_root(cmd.name);
	if (!err)
		err = lock_iface(&lk, ifname, cmd.name);
	if (!err)
		err = cli_open_pinned(cmd.name, ifname, &m);
	if (err)
		goto out;
	err = tables_install(&m, c, &gen);
	maps_close(&m);
	if (err) {
		pr_err("%s: cannot install the policy: %s; the running policy stays", ifname,
		       strerror(-err));
		goto out;
	}
	if (json_output)
		json_print(json_pack("{s:s, s:s, s:s, s:I}", "reloaded", ifname, "policy",
				     cfg.po.policy, "mode", mode_str((unsigned)c->mode),
				     "generation", (json_int_t)gen));
	else
		printf("reloaded %s: %s mode, %u out and %u in rules, generation %llu\n", ifname,
		       mode_str((unsigned)c->mode), c->nrules_dir[AMLG_DIR_OUT],
		       c->nrules_dir[AMLG_DIR_IN], (unsigned long long)gen);
out:
	lock_release(&lk);
	compiled_free(c);
	policy_free(p);
	return err;
}
