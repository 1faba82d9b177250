// SPDX-License-Identifier: GPL-2.0-only
/* amlguard attach: compile a policy, load the datapath, pin its state, attach it to tc. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "cli/policy_opts.h"
#include "kernel/loader.h"
#include "base/lock.h"
#include "base/log.h"
#include "base/names.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: amlguard attach -i IFACE -p POLICY [--mode audit|enforce]\n"
		   "                       [--role host|gateway] [--var NAME=VALUE]...\n"
		   "                       [--tags FILE] [--ct-size N] [--xdp] [-j]\n\n"
		   "--role host (default): egress is \"out\", ingress is \"in\".\n"
		   "--role gateway: on a gateway VM's compute-facing NIC, ingress is \"out\"\n"
		   "(the compute subnet's egress) and egress is \"in\".\n"
		   "--xdp: judge the ingress with XDP (native where the driver has it, generic\n"
		   "otherwise; 'status' says which) and the egress with tc, as one datapath:\n"
		   "one connection table, counters, events and policy.  For --role gateway.\n"
		   "--mode overrides the policy's own 'mode' statement.\n");
}

static int parse_role(void *dst, const char *arg, const struct cli_opt *o)
{
	int role = role_parse(arg);

	if (role < 0) {
		pr_err("--role %s: expected 'host' or 'gateway'", arg);
		return -EINVAL;
	}
	*(unsigned *)dst = (unsigned)role;
	return 0;
}

struct attach_cfg {
	struct attach_opts ao;
	struct pipeline_opts po;
};

static const struct cli_opt opts[] = {
	CLI_OPT_STRING(struct attach_cfg, ao.ifname, "interface", 'i', "IFACE", "the interface"),
	CLI_OPTS_POLICY(struct attach_cfg, po),
	CLI_OPT_FUNC(struct attach_cfg, ao.role, "role", 0, "host|gateway", parse_role,
		     "which direction is \"out\""),
	CLI_OPT_FUNC(struct attach_cfg, ao.ct_size, "ct-size", 0, "N", cli_ct_size,
		     "connection-table entries (1024-16777216)"),
	CLI_OPT_FLAG(struct attach_cfg, ao.xdp, "xdp", 0, "judge the ingress with XDP"),
	CLI_OPT_JSON,
	CLI_OPT_END,
};

static const struct cli_cmd cmd = { .name = "attach", .usage = usage, .opts = opts };

int do_attach(int argc, char **argv)
{
	struct iface_lock lk = { .fd = -1 };
	struct attach_cfg cfg = { .ao.role = AMLG_ROLE_HOST, .po = PIPELINE_OPTS_INIT };
	struct attach_opts *ao = &cfg.ao;
	struct compiled *c = NULL;
	struct policy *p = NULL;
	uint64_t gen = 0;
	int first, err;

	err = cli_parse(&cmd, &cfg, argc, argv, &first);
	if (err)
		return err > 0 ? 0 : err;
	err = cli_iface(cmd.name, ao->ifname) ?: cli_compile(&cfg.po, &c, &p, NULL);
	if (err)
		return err;
	err = require_root(cmd.name);
	if (!err)
		err = lock_iface(&lk, ao->ifname, cmd.name);
	if (!err)
		err = amlg_attach(ao, c, &gen);
	lock_release(&lk);
	if (!err) {
		if (json_output)
			json_print(json_pack("{s:s, s:s, s:s, s:s, s:I, s:i, s:i}", "attached",
					     ao->ifname, "policy", cfg.po.policy, "mode",
					     mode_str((unsigned)c->mode), "role",
					     role_str(ao->role), "generation", (json_int_t)gen,
					     "rules_out", c->nrules_dir[AMLG_DIR_OUT], "rules_in",
					     c->nrules_dir[AMLG_DIR_IN]));
		else
			printf("attached to %s: %s mode, role %s, %u out and %u in rules, "
			       "generation %llu\n",
			       ao->ifname, mode_str((unsigned)c->mode), role_str(ao->role),
			       c->nrules_dir[AMLG_DIR_OUT], c->nrules_dir[AMLG_DIR_IN],
			       (unsigned long long)gen);
	}
	compiled_free(c);
	policy_free(p);
	return err;
}
