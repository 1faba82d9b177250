// SPDX-License-Identifier: GPL-2.0-only
/* amlguard reload: compile a policy and swap it in atomically; on any error nothing changes. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "compile/frontend.h"
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

int do_reload(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		FRONTEND_LONG_OPTS,
		{ 0 },
	};
	struct compiled *c = NULL;
	struct policy *p = NULL;
	const char *ifname = NULL;
	struct policy_args a;
	struct amlg_maps m;
	struct iface_lock lk = { .fd = -1 };
	uint64_t gen = 0;
	int opt, err;

	policy_args_init(&a);
	while ((opt = getopt_long(argc, argv, "i:p:jh", opts, NULL)) != -1) {
		err = policy_args_opt(&a, opt, optarg);
		if (err < 0)
			return err;
		if (err)
			continue;
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
		pr_err("reload: no interface given (-i IFACE)");
		return -EINVAL;
	}
	err = frontend_compile(&a, json_output, &c, &p);
	if (err)
		return err;
	err = require_root("reload");
	if (!err)
		err = lock_iface(&lk, ifname, "reload");
	if (err)
		goto out;
	err = maps_open_pinned(ifname, &m);
	if (err) {
		pr_err("%s: amlguard is not attached (%s)", ifname, strerror(-err));
		pr_hint("attach it first: amlguard attach -i %s -p %s", ifname, a.policy);
		goto out;
	}
	err = tables_install(&m, c, &gen);
	maps_close(&m);
	if (err) {
		pr_err("%s: cannot install the policy: %s; the running policy stays", ifname,
		       strerror(-err));
		goto out;
	}
	if (json_output)
		json_print(json_pack("{s:s, s:s, s:s, s:I}", "reloaded", ifname, "policy", a.policy,
				     "mode", mode_str((unsigned)c->mode), "generation",
				     (json_int_t)gen));
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
