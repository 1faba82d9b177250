// SPDX-License-Identifier: GPL-2.0-only
/*
 * amlguard udr: the user-defined routes forced tunneling needs (next hop Internet for the
 * regional BatchNodeManagement and AzureMachineLearning prefixes), as az commands or JSON.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/policy_opts.h"
#include "base/log.h"
#include "azure/udr.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: amlguard udr -p POLICY --var region=REGION [--var NAME=VALUE]...\n"
		"                    [--tags FILE] [--ipv6] [-g RESOURCE_GROUP]\n"
		"                    [--route-table NAME] [-j]\n\n"
		"With forced tunneling (a 0.0.0.0/0 route to on-premises), the compute subnet's\n"
		"route table needs a route with next hop Internet for every prefix of\n"
		"BatchNodeManagement.REGION and AzureMachineLearning.REGION, or the managed\n"
		"services' connections to the compute are answered through the tunnel.  This\n"
		"prints those routes for the services the policy uses, as 'az network route-table\n"
		"route create' lines (or JSON with -j).\n\n"
		"IPv4 only by default: the documents route IPv4.  --ipv6 adds the IPv6 prefixes,\n"
		"for dual-stack subnets (Azure route tables accept IPv6 prefixes with next hop\n"
		"Internet there).  A route table holds at most %d routes; Azure also accepts the\n"
		"service tag itself as the address prefix of a route, which Azure keeps current.\n",
		UDR_ROUTES_PER_TABLE);
}

static json_t *plan_json(const struct udr_plan *u, const struct tag_db *db, const char *policy)
{
	json_t *routes = json_array(), *svc = json_array();
	char buf[PREFIX_STRLEN];

	for (size_t i = 0; i < u->n; i++)
		json_array_append_new(routes,
				      json_pack("{s:s, s:s, s:s}", "name", u->v[i].name, "prefix",
						prefix_str(&u->v[i].pfx, buf, sizeof(buf)), "tag",
						u->v[i].tag));
	for (int s = 0; s < 2; s++)
		if (u->tags[s])
			json_array_append_new(svc, json_string(u->tags[s]));
	return json_pack("{s:s, s:s, s:{s:s, s:s, s:I, s:s?}, s:s, s:o, s:o, s:I, s:i}", "policy",
			 policy, "region", u->region, "tags", "file", db->path, "cloud", db->cloud,
			 "change", (json_int_t)db->change, "date", db->date[0] ? db->date : NULL,
			 "next_hop", "Internet", "service_tags", svc, "routes", routes,
			 "ipv6_left_out", (json_int_t)u->skipped6, "routes_per_table",
			 UDR_ROUTES_PER_TABLE);
}

static void plan_print(const struct udr_plan *u, const struct tag_db *db, const char *policy,
		       const char *rg, const char *table)
{
	char buf[PREFIX_STRLEN], desc[512];

	printf("# Forced tunneling: next hop Internet for the AML compute subnet's route table\n");
	printf("# policy %s, region %s\n# tags %s\n", policy, u->region,
	       tags_describe(db, desc, sizeof(desc)));
	printf("# %zu IPv4 and %zu IPv6 routes", u->n4, u->n6);
	if (u->skipped6)
		printf("; %zu IPv6 prefixes left out (--ipv6 adds them)", u->skipped6);
	printf("\n");
	if (!u->n) {
		printf("# the policy uses neither BatchNodeManagement nor AzureMachineLearning: "
		       "no routes needed\n");
		return;
	}
	printf("# or one route per service tag, kept current by Azure:");
	for (int s = 0; s < 2; s++)
		if (u->tags[s])
			printf(" --address-prefix %s", u->tags[s]);
	printf("\n");
	for (size_t i = 0; i < u->n; i++)
		printf("az network route-table route create --resource-group %s "
		       "--route-table-name %s --name %s --address-prefix %s "
		       "--next-hop-type Internet\n",
		       rg, table, u->v[i].name, prefix_str(&u->v[i].pfx, buf, sizeof(buf)));
}

struct udr_cfg {
	struct pipeline_opts po;
	const char *rg, *table;
	bool ipv6;
};

static const struct cli_opt opts[] = {
	CLI_OPTS_POLICY(struct udr_cfg, po),
	CLI_OPT_FLAG(struct udr_cfg, ipv6, "ipv6", 0, "the IPv6 prefixes too"),
	CLI_OPT_STRING(struct udr_cfg, rg, "resource-group", 'g', "RESOURCE_GROUP",
		       "in the az commands"),
	CLI_OPT_STRING(struct udr_cfg, table, "route-table", 0, "NAME", "in the az commands"),
	CLI_OPT_JSON,
	CLI_OPT_END,
};

static const struct cli_cmd cmd = { .name = "udr", .usage = usage, .opts = opts };

int do_udr(int argc, char **argv)
{
	struct udr_cfg cfg = { .po = PIPELINE_OPTS_INIT, .rg = "RG", .table = "RT" };
	char msg[512], hint[512];
	struct udr_plan u = { 0 };
	struct tag_db *db = NULL;
	struct policy *p = NULL;
	int first, err;

	err = cli_parse(&cmd, &cfg, argc, argv, &first);
	if (err)
		return err > 0 ? 0 : err;
	err = cli_load(&cfg.po, &p, &db);
	if (err)
		return err;
	if (!db) {
		pr_err("udr: %s: no service-tag file", cfg.po.policy);
		pr_hint("give --tags FILE (Microsoft's ServiceTags_*.json)");
		err = -EINVAL;
		goto out;
	}
	err = udr_plan(p, db, cfg.ipv6, &u, msg, sizeof(msg), hint, sizeof(hint));
	if (err) {
		pr_err("udr: %s", err == -ENOMEM ? strerror(ENOMEM) : msg);
		if (hint[0])
			pr_hint("%s", hint);
		goto out;
	}
	if (u.n > UDR_ROUTES_PER_TABLE)
		pr_warn("%zu routes: more than the %d a route table holds; use the service tags "
			"as address prefixes instead",
			u.n, UDR_ROUTES_PER_TABLE);
	if (json_output)
		json_print(plan_json(&u, db, cfg.po.policy));
	else
		plan_print(&u, db, cfg.po.policy, cfg.rg, cfg.table);
out:
	udr_plan_free(&u);
	tags_free(db);
	policy_free(p);
	return err;
}
