// SPDX-License-Identifier: GPL-2.0-only
/* amlguard audit: an NSG or Azure Firewall policy against a policy's documented flows. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azure/audit.h"
#include "cli/cli.h"
#include "compile/frontend.h"
#include "base/log.h"

enum { OPT_NSG = OPT_FIRST_FREE, OPT_AZFW, OPT_VNET };

#define AUDIT_SETS_MAX 8

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: amlguard audit -p POLICY [--tags FILE] [--var NAME=VALUE]...\n"
		"                      [--vnet CIDR[,CIDR...]] [-j]\n"
		"                      --nsg FILE [--nsg FILE]... | --azfw FILE\n\n"
		"Judges Azure's rules (the JSON of 'az network nsg show' or 'az network firewall\n"
		"policy rule-collection-group show' or '... list', ARM's shape or a template)\n"
		"against the\n"
		"policy, with Azure's semantics: priority order, first match, the default rules,\n"
		"stateful replies.  Give the subnet's NSG first, then the NIC's.  Service tags\n"
		"resolve through the policy's tag file; VirtualNetwork is the VNet's ranges\n"
		"(--vnet, or the site file's 'vnet' set) and 168.63.129.16, Internet everything\n"
		"outside them.  Reports every documented flow the rules block (with the rule),\n"
		"and every rule that allows more than the policy (with the flow IDs that cover\n"
		"the rest).  Exit status 0: the rules allow exactly the policy; 1: they block a\n"
		"documented flow or allow more; 2: error.  Needs root (the datapath judges).\n");
}

static int add_vnet(struct prefix_list *l, const char *arg)
{
	char bad[64];
	bool hostbits;

	if (prefix_list_parse(arg, l, bad, sizeof(bad), &hostbits)) {
		pr_err("audit: --vnet %s: '%s' is not a prefix%s", arg, bad,
		       hostbits ? " (host bits set)" : "");
		return -EINVAL;
	}
	return 0;
}

/* Without --vnet: the prefixes of the policy's 'vnet' set, where its rules use it. */
static void vnet_from_policy(const struct compiled *c, struct prefix_list *l)
{
	for (size_t i = 0; i < c->nrules; i++)
		for (size_t k = 0; k < c->rules[i].nres; k++) {
			const struct item_res *ir = &c->rules[i].res[k];

			if (ir->item && ir->item->set && !strcmp(ir->item->set, "vnet"))
				prefix_list_append(l, &ir->pfx);
		}
	prefix_list_merge(l);
}

int do_audit(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "nsg", required_argument, NULL, OPT_NSG },
		{ "azfw", required_argument, NULL, OPT_AZFW },
		{ "vnet", required_argument, NULL, OPT_VNET },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		FRONTEND_LONG_OPTS,
		{ 0 },
	};
	const char *nsg[AUDIT_SETS_MAX], *fw[AUDIT_SETS_MAX];
	struct az_set sets[AUDIT_SETS_MAX + 1];
	size_t nnsg = 0, nfw = 0, nsets = 0, findings = 0;
	struct audit_opts ao = { 0 };
	struct compiled *c = NULL;
	struct tag_db *db = NULL;
	struct policy *p = NULL;
	json_t *report = NULL;
	struct policy_args a;
	char err[640];
	int opt, ret;

	memset(sets, 0, sizeof(sets));
	policy_args_init(&a);
	while ((opt = getopt_long(argc, argv, "p:jh", opts, NULL)) != -1) {
		ret = policy_args_opt(&a, opt, optarg);
		if (ret < 0)
			goto out;
		if (ret)
			continue;
		switch (opt) {
		case OPT_NSG:
		case OPT_AZFW:
			if (opt == OPT_AZFW && nfw) {
				pr_err("audit: --azfw given twice");
				pr_hint("give every rule collection group of the firewall policy in "
					"one file: az network firewall policy rule-collection-group "
					"list -o json");
				ret = -EINVAL;
				goto out;
			}
			if ((opt == OPT_NSG ? nnsg : nfw) == AUDIT_SETS_MAX) {
				pr_err("audit: more than %d --nsg or --azfw files", AUDIT_SETS_MAX);
				ret = -EINVAL;
				goto out;
			}
			if (opt == OPT_NSG)
				nsg[nnsg++] = optarg;
			else
				fw[nfw++] = optarg;
			break;
		case OPT_VNET:
			ret = add_vnet(&ao.vnet, optarg);
			if (ret)
				goto out;
			break;
		case 'j':
			json_output = true;
			break;
		case 'h':
			usage(stdout);
			ret = 0;
			goto out;
		default:
			usage(stderr);
			ret = -EINVAL;
			goto out;
		}
	}
	log_set_json(json_output);
	if (!nnsg && !nfw) {
		pr_err("audit: nothing to audit");
		pr_hint("give --nsg FILE (az network nsg show -o json) or --azfw FILE");
		ret = -EINVAL;
		goto out;
	}
	if (optind < argc) {
		pr_err("audit: unexpected argument '%s'", argv[optind]);
		ret = -EINVAL;
		goto out;
	}
	for (size_t i = 0; i < nnsg; i++) {
		ret = az_nsg_load(nsg[i], &sets[nsets++], err, sizeof(err));
		if (ret) {
			if (ret == -EINVAL)
				pr_err("audit: %s", err);
			goto out;
		}
	}
	for (size_t i = 0; i < nfw; i++) {
		/* every rule collection group of the firewall policy is one rule set */
		ret = az_fw_load(fw[i], &sets[nsets], err, sizeof(err));
		if (ret) {
			nsets++;
			if (ret == -EINVAL)
				pr_err("audit: %s", err);
			goto out;
		}
	}
	if (nfw)
		nsets++;
	ret = frontend_compile_db(&a, json_output, &c, &p, &db);
	if (ret)
		goto out;
	if (!ao.vnet.n)
		vnet_from_policy(c, &ao.vnet);
	prefix_list_merge(&ao.vnet);
	if (!ao.vnet.n) {
		pr_err("audit: %s: the VNet's address space is unknown", a.policy);
		pr_hint("give --vnet CIDR[,CIDR...] (or a site file whose 'vnet' set has it)");
		ret = -EINVAL;
		goto out;
	}
	ao.db = db;
	ret = require_root("audit");
	for (size_t i = 0; i < nsets && !ret; i++)
		ret = az_compile(&sets[i], &ao);
	if (!ret)
		ret = audit_run(c, sets, nsets, &ao, &report, &findings);
	if (ret)
		goto out;
	if (json_output)
		json_print(json_incref(report));
	else
		audit_print(stdout, report);
	ret = findings ? 1 : 0;
out:
	json_decref(report);
	for (size_t i = 0; i < nsets; i++)
		az_set_free(&sets[i]);
	prefix_list_free(&ao.vnet);
	tags_free(db);
	compiled_free(c);
	policy_free(p);
	return ret;
}
