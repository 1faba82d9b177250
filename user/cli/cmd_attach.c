// SPDX-License-Identifier: GPL-2.0-only
/* amlguard attach: compile a policy, load the datapath, pin its state, attach it to tc. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "compile/frontend.h"
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

int do_attach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "role", required_argument, NULL, OPT_ROLE },
		{ "ct-size", required_argument, NULL, OPT_CT_SIZE },
		{ "xdp", no_argument, NULL, 'x' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		FRONTEND_LONG_OPTS,
		{ 0 },
	};
	struct attach_opts ao = { .role = AMLG_ROLE_HOST };
	struct compiled *c = NULL;
	struct policy *p = NULL;
	struct policy_args a;
	struct iface_lock lk = { .fd = -1 };
	uint64_t gen = 0;
	int opt, err, role;
	char *end;

	policy_args_init(&a);
	while ((opt = getopt_long(argc, argv, "i:p:jh", opts, NULL)) != -1) {
		err = policy_args_opt(&a, opt, optarg);
		if (err < 0)
			return err;
		if (err)
			continue;
		switch (opt) {
		case 'i':
			ao.ifname = optarg;
			break;
		case OPT_ROLE:
			role = role_parse(optarg);
			if (role < 0) {
				pr_err("--role %s: expected 'host' or 'gateway'", optarg);
				return -EINVAL;
			}
			ao.role = (unsigned)role;
			break;
		case OPT_CT_SIZE:
			ao.ct_size = (unsigned)strtoul(optarg, &end, 10);
			if (*end || ao.ct_size < 1024 || ao.ct_size > (1u << 24)) {
				pr_err("--ct-size %s: expected a number from 1024 to 16777216",
				       optarg);
				return -EINVAL;
			}
			break;
		case 'x':
			ao.xdp = true;
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
	if (!ao.ifname) {
		pr_err("attach: no interface given (-i IFACE)");
		return -EINVAL;
	}
	err = frontend_compile(&a, json_output, &c, &p);
	if (err)
		return err;
	err = require_root("attach");
	if (!err)
		err = lock_iface(&lk, ao.ifname, "attach");
	if (!err)
		err = amlg_attach(&ao, c, &gen);
	lock_release(&lk);
	if (!err) {
		if (json_output)
			json_print(json_pack("{s:s, s:s, s:s, s:s, s:I, s:i, s:i}", "attached",
					     ao.ifname, "policy", a.policy, "mode",
					     mode_str((unsigned)c->mode), "role", role_str(ao.role),
					     "generation", (json_int_t)gen, "rules_out",
					     c->nrules_dir[AMLG_DIR_OUT], "rules_in",
					     c->nrules_dir[AMLG_DIR_IN]));
		else
			printf("attached to %s: %s mode, role %s, %u out and %u in rules, "
			       "generation %llu\n",
			       ao.ifname, mode_str((unsigned)c->mode), role_str(ao.role),
			       c->nrules_dir[AMLG_DIR_OUT], c->nrules_dir[AMLG_DIR_IN],
			       (unsigned long long)gen);
	}
	compiled_free(c);
	policy_free(p);
	return err;
}
