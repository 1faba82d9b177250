// SPDX-License-Identifier: GPL-2.0-only
/* amlguard audit: an NSG or Azure Firewall policy against a policy's documented flows. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azure/audit.h"
#include "cli/cli.h"
#include "cli/policy_opts.h"
#include "base/log.h"

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

struct files {
	const char *v[AUDIT_SETS_MAX];
	size_t n;
};

struct audit_cfg {
	struct pipeline_opts po;
	struct files nsg, fw;
	struct prefix_list vnet;
};

static int parse_nsg(void *dst, const char *arg, const struct cli_opt *o)
{
	struct files *f = dst;

	if (f->n == AUDIT_SETS_MAX) {
		pr_err("audit: more than %d --nsg or --azfw files", AUDIT_SETS_MAX);
		return -EINVAL;
	}
	f->v[f->n++] = arg;
	return 0;
}

static int parse_azfw(void *dst, const char *arg, const struct cli_opt *o)
{
	struct files *f = dst;

	if (f->n) {
		pr_err("audit: --azfw given twice");
		pr_hint("give every rule collection group of the firewall policy in "
			"one file: az network firewall policy rule-collection-group "
			"list -o json");
		return -EINVAL;
	}
	f->v[f->n++] = arg;
	return 0;
}

static int parse_vnet(void *dst, const char *arg, const struct cli_opt *o)
{
	char bad[64];
	bool hostbits;

	if (prefix_list_parse(arg, dst, bad, sizeof(bad), &hostbits)) {
		pr_err("audit: --vnet %s: '%s' is not a prefix%s", arg, bad,
		       hostbits ? " (host bits set)" : "");
		return -EINVAL;
	}
	return 0;
}

static const struct cli_opt opts[] = {
	CLI_OPTS_POLICY(struct audit_cfg, po),
	CLI_OPT_FUNC(struct audit_cfg, vnet, "vnet", 0, "CIDR[,CIDR...]", parse_vnet,
		     "the VNet's address space (VirtualNetwork)"),
	CLI_OPT_FUNC(struct audit_cfg, nsg, "nsg", 0, "FILE", parse_nsg,
		     "an NSG as 'az network nsg show -o json' prints it (repeatable)"),
	CLI_OPT_FUNC(struct audit_cfg, fw, "azfw", 0, "FILE", parse_azfw,
		     "an Azure Firewall policy's rule collection groups"),
	CLI_OPT_JSON,
	CLI_OPT_END,
};

static const struct cli_cmd cmd = { .name = "audit", .usage = usage, .opts = opts };

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
	struct az_set sets[AUDIT_SETS_MAX + 1];
	size_t nsets = 0, findings = 0;
	struct audit_opts ao = { 0 };
	struct compiled *c = NULL;
	struct tag_db *db = NULL;
	struct policy *p = NULL;
	json_t *report = NULL;
	struct audit_cfg cfg = { .po = PIPELINE_OPTS_INIT };
	char err[640];
	int first, ret;

	memset(sets, 0, sizeof(sets));
	ret = cli_parse(&cmd, &cfg, argc, argv, &first);
	ao.vnet = cfg.vnet;
	if (ret) {
		ret = ret > 0 ? 0 : ret;
		goto out;
	}
	if (!cfg.nsg.n && !cfg.fw.n) {
		pr_err("audit: nothing to audit");
		pr_hint("give --nsg FILE (az network nsg show -o json) or --azfw FILE");
		ret = -EINVAL;
		goto out;
	}
	if (first < argc) {
		pr_err("audit: unexpected argument '%s'", argv[first]);
		ret = -EINVAL;
		goto out;
	}
	for (size_t i = 0; i < cfg.nsg.n; i++) {
		ret = az_nsg_load(cfg.nsg.v[i], &sets[nsets++], err, sizeof(err));
		if (ret) {
			if (ret == -EINVAL)
				pr_err("audit: %s", err);
			goto out;
		}
	}
	for (size_t i = 0; i < cfg.fw.n; i++) {
		/* every rule collection group of the firewall policy is one rule set */
		ret = az_fw_load(cfg.fw.v[i], &sets[nsets], err, sizeof(err));
		if (ret) {
			nsets++;
			if (ret == -EINVAL)
				pr_err("audit: %s", err);
			goto out;
		}
	}
	if (cfg.fw.n)
		nsets++;
	ret = cli_compile(&cfg.po, &c, &p, &db);
	if (ret)
		goto out;
	if (!ao.vnet.n)
		vnet_from_policy(c, &ao.vnet);
	prefix_list_merge(&ao.vnet);
	if (!ao.vnet.n) {
		pr_err("audit: %s: the VNet's address space is unknown", cfg.po.policy);
		pr_hint("give --vnet CIDR[,CIDR...] (or a site file whose 'vnet' set has it)");
		ret = -EINVAL;
		goto out;
	}
	ao.db = db;
	ret = require_root(cmd.name);
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
