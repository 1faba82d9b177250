// SPDX-License-Identifier: GPL-2.0-only
/*
 * amlguard udr: the user-defined routes forced tunneling needs (next hop Internet for the
 * regional BatchNodeManagement and AzureMachineLearning prefixes), as az commands or JSON.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "compile/frontend.h"
#include "base/log.h"
#include "azure/udr.h"

enum { OPT_IPV6 = OPT_FIRST_FREE, OPT_TABLE };

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

int do_udr(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ipv6", no_argument, NULL, OPT_IPV6 },
		{ "resource-group", required_argument, NULL, 'g' },
		{ "route-table", required_argument, NULL, OPT_TABLE },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		FRONTEND_LONG_OPTS,
		{ 0 },
	};
	const char *rg = "RG", *table = "RT";
	char msg[512], hint[512];
	struct udr_plan u = { 0 };
	struct tag_db *db = NULL;
	struct policy *p = NULL;
	struct policy_args a;
	bool ipv6 = false;
	int opt, err;

	policy_args_init(&a);
	while ((opt = getopt_long(argc, argv, "p:g:jh", opts, NULL)) != -1) {
		err = policy_args_opt(&a, opt, optarg);
		if (err < 0)
			return err;
		if (err)
			continue;
		switch (opt) {
		case OPT_IPV6:
			ipv6 = true;
			break;
		case 'g':
			rg = optarg;
			break;
		case OPT_TABLE:
			table = optarg;
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
	log_set_json(json_output);
	err = frontend_load(&a, json_output, &p, &db);
	if (err)
		return err;
	if (!db) {
		pr_err("udr: %s: no service-tag file", a.policy);
		pr_hint("give --tags FILE (Microsoft's ServiceTags_*.json)");
		err = -EINVAL;
		goto out;
	}
	err = udr_plan(p, db, ipv6, &u, msg, sizeof(msg), hint, sizeof(hint));
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
		json_print(plan_json(&u, db, a.policy));
	else
		plan_print(&u, db, a.policy, rg, table);
out:
	udr_plan_free(&u);
	tags_free(db);
	policy_free(p);
	return err;
}
