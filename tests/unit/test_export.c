// SPDX-License-Identifier: GPL-2.0-only
/*
 * export (user/azure/export*.c) and the rule-set readers of audit (user/azure/audit_load.c), without a
 * kernel: NSG rules from policies of every shape (tags kept, prefix lists, protocols, ports,
 * priorities, names, deny-rest, gaps), Azure's limits, the firewall's rule collection group,
 * the nftables text, and NSGs and firewall policies read in ARM's, az's and a template's shape.
 */
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "unit.h"

#include "azure/audit.h"
#include "compile/compile.h"
#include "azure/export.h"
#include "compile/tags.h"
#include "tmpdir.h"

static char tmpdir[] = "/tmp/amlg-export-XXXXXX";
static struct tag_db *db;

/* A tag file in Microsoft's format, generated: no test depends on downloaded data. */
static const char tagfile[] =
	"{\"changeNumber\": 7, \"cloud\": \"Public\", \"values\": [\n"
	"{\"name\": \"AzureMachineLearning\", \"id\": \"AzureMachineLearning\", \"properties\": "
	"{\"changeNumber\": 1, \"region\": \"\", \"regionId\": 0, \"platform\": \"Azure\", "
	"\"systemService\": \"AzureMachineLearning\", \"addressPrefixes\": [\"198.51.100.30/32\", "
	"\"2001:db8:a::30/128\"], \"networkFeatures\": [\"API\", \"NSG\", \"UDR\", \"FW\"]}},\n"
	"{\"name\": \"Storage.EastUS2\", \"id\": \"Storage.EastUS2\", \"properties\": "
	"{\"changeNumber\": 1, \"region\": \"eastus2\", \"regionId\": 33, \"platform\": \"Azure\", "
	"\"systemService\": \"AzureStorage\", \"addressPrefixes\": [\"198.51.100.40/31\", "
	"\"198.51.100.64/26\"], \"networkFeatures\": [\"API\", \"NSG\"]}}\n"
	"]}\n";

static char *write_tmp(const char *name, const char *text)
{
	static char path[4][256];
	static int k;
	char *p = path[k++ % 4];
	FILE *f;

	snprintf(p, 256, "%s/%s", tmpdir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return p;
}

static int setup(void **state)
{
	struct tag_error e;

	(void)state;
	if (!mkdtemp(tmpdir))
		return -1;
	return tags_load(write_tmp("ServiceTags_Public_20260101.json", tagfile), &db, &e);
}

static int teardown(void **state)
{
	(void)state;
	tags_free(db);
	return tmpdir_remove(tmpdir);
}

struct built {
	struct policy *p;
	struct compiled *c;
	struct export_opts o;
	struct export_ctx x;
};

static void build(struct built *b, const char *text)
{
	struct compile_opts co = { .mode = -1 };
	struct tag_resolver tr;
	struct diag d;

	memset(b, 0, sizeof(*b));
	diag_init(&d);
	assert_int_equal(policy_parse_string("t.policy", text, NULL, 0, &d, &b->p), 0);
	tags_resolver_init(&tr, db);
	co.tags = &tr;
	if (compile_policy(b->p, &co, &d, &b->c)) {
		diag_print(&d, stderr);
		fail();
	}
	diag_free(&d);
	b->o = (struct export_opts){ .name = "nsg1", .group_prio = 500 };
	b->x = (struct export_ctx){ .c = b->c, .db = db, .o = &b->o };
}

static void unbuild(struct built *b)
{
	export_ctx_free(&b->x);
	compiled_free(b->c);
	policy_free(b->p);
}

static json_t *nsg_rule(json_t *doc, const char *name)
{
	json_t *rules = json_object_get(json_object_get(doc, "properties"), "securityRules"), *r;
	size_t i;

	json_array_foreach(rules, i, r)
		if (!strcmp(json_string_value(json_object_get(r, "name")), name))
			return json_object_get(r, "properties");
	return NULL;
}

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static const char *const shapes =
	"platform off\n"
	"set docs = { 203.0.113.0/28, 203.0.113.16/28, 198.51.100.128/25 }\n"
	"allow in tcp port 44224 from tag:azuremachinelearning flow T-IN-AML comment \"mgmt\"\n"
	"allow out tcp port 443 to { tag:Storage.EastUS2, @docs, 2001:db8:1::/48 } flow T-ST\n"
	"allow out any port { 8787, 5000-5010 } to 203.0.113.9 flow T-ANY\n"
	"allow out icmp to 198.51.100.0/24 flow T-PING\n"
	"allow in udp port 68 from 192.0.2.1 to 192.0.2.10\n"
	"allow out tcp port 443 to host:*.blob.core.windows.net flow T-HOST\n";

static void test_nsg_rules(void **state)
{
	struct built b;
	size_t n, npfx;
	json_t *doc, *r, *l;

	(void)state;
	build(&b, shapes);
	assert_int_equal(export_nsg(&b.x, &doc, &n, &npfx), 0);
	/* a tag keeps its published name, whatever the policy's case */
	r = nsg_rule(doc, "T-IN-AML");
	assert_string_equal(str(r, "sourceAddressPrefix"), "AzureMachineLearning");
	assert_string_equal(str(r, "destinationAddressPrefix"), "*");
	assert_string_equal(str(r, "direction"), "Inbound");
	assert_string_equal(str(r, "destinationPortRange"), "44224");
	assert_int_equal(json_integer_value(json_object_get(r, "priority")), 100);
	assert_non_null(strstr(str(r, "description"), "T-IN-AML: mgmt (t.policy:3)"));
	/* one tag per rule; the CIDRs per family, merged (the two /28 are one /27) */
	r = nsg_rule(doc, "T-ST");
	assert_string_equal(str(r, "destinationAddressPrefix"), "Storage.EastUS2");
	assert_int_equal(json_integer_value(json_object_get(r, "priority")), 100);
	r = nsg_rule(doc, "T-ST-2");
	l = json_object_get(r, "destinationAddressPrefixes");
	assert_int_equal(json_array_size(l), 2);
	assert_string_equal(json_string_value(json_array_get(l, 0)), "198.51.100.128/25");
	assert_string_equal(json_string_value(json_array_get(l, 1)), "203.0.113.0/27");
	assert_int_equal(json_integer_value(json_object_get(r, "priority")), 110);
	r = nsg_rule(doc, "T-ST-3");
	assert_string_equal(str(r, "destinationAddressPrefix"), "2001:db8:1::/48");
	/* any protocol with ports: Tcp and Udp, with the port list */
	assert_string_equal(str(nsg_rule(doc, "T-ANY"), "protocol"), "Tcp");
	assert_string_equal(str(nsg_rule(doc, "T-ANY-2"), "protocol"), "Udp");
	l = json_object_get(nsg_rule(doc, "T-ANY"), "destinationPortRanges");
	assert_int_equal(json_array_size(l), 2);
	assert_string_equal(json_string_value(json_array_get(l, 0)), "5000-5010");
	assert_string_equal(json_string_value(json_array_get(l, 1)), "8787");
	assert_string_equal(str(nsg_rule(doc, "T-PING"), "protocol"), "Icmp");
	assert_string_equal(str(nsg_rule(doc, "T-PING"), "destinationPortRange"), "*");
	/* a rule without flow ID: named after its line; the local side is the destination */
	r = nsg_rule(doc, "line-7");
	assert_non_null(r);
	assert_string_equal(str(r, "sourceAddressPrefix"), "192.0.2.1/32");
	assert_string_equal(str(r, "destinationAddressPrefix"), "192.0.2.10/32");
	assert_null(nsg_rule(doc, "T-HOST"));
	/* the host rule is a gap: the export is partial */
	assert_int_equal(b.x.ngaps, 1);
	assert_string_equal(b.x.gaps[0].what, "host:*.blob.core.windows.net");
	assert_string_equal(b.x.gaps[0].flow, "T-HOST");
	assert_int_equal(n, 8);
	json_decref(doc);
	unbuild(&b);
}

static void test_nsg_deny_rest_and_step(void **state)
{
	struct built b;
	size_t n, npfx;
	json_t *doc, *r;

	(void)state;
	build(&b, shapes);
	b.o.deny_rest = true;
	b.o.prio_step = 1;
	assert_int_equal(export_nsg(&b.x, &doc, &n, &npfx), 0);
	r = nsg_rule(doc, "amlguard-deny-rest-out");
	assert_string_equal(str(r, "access"), "Deny");
	assert_int_equal(json_integer_value(json_object_get(r, "priority")), 4096);
	assert_int_equal(json_integer_value(json_object_get(nsg_rule(doc, "T-ST-2"), "priority")),
			 101);
	assert_non_null(nsg_rule(doc, "amlguard-deny-rest-in"));
	assert_int_equal(n, 10);
	json_decref(doc);
	unbuild(&b);
}

/* The step shrinks so that 500 outbound rules still fit below 4096. */
static void test_nsg_priorities_fit(void **state)
{
	char *text = NULL;
	size_t len = 0, n, npfx;
	FILE *f = open_memstream(&text, &len);
	struct built b;
	json_t *doc, *rules, *r;
	int last = 0;
	size_t i;

	(void)state;
	for (int k = 1; k <= 500; k++)
		fprintf(f, "allow out tcp port %d to 203.0.113.9 flow T-R%d\n", k, k);
	fclose(f);
	build(&b, text);
	assert_int_equal(export_nsg(&b.x, &doc, &n, &npfx), 0);
	rules = json_object_get(json_object_get(doc, "properties"), "securityRules");
	json_array_foreach(rules, i, r) {
		int p = (int)json_integer_value(
			json_object_get(json_object_get(r, "properties"), "priority"));

		assert_true(p > last && p <= 4096);
		last = p;
	}
	assert_int_equal(json_array_size(rules), 500);
	json_decref(doc);
	unbuild(&b);
	free(text);
}

static void test_nsg_limits(void **state)
{
	char *text = NULL;
	size_t len = 0, n, npfx;
	FILE *f = open_memstream(&text, &len);
	struct built b;
	json_t *doc;

	(void)state;
	fprintf(f, "set big = {\n");
	for (int k = 0; k < 4001; k++)
		fprintf(f, "10.%d.%d.0/24,\n", k / 128, 2 * (k % 128));
	fprintf(f, "}\nallow out tcp port 443 to @big flow T-BIG\n");
	fclose(f);
	build(&b, text);
	assert_int_equal(export_nsg(&b.x, &doc, &n, &npfx), -E2BIG);
	assert_null(doc);
	unbuild(&b);
	free(text);
}

static void test_azfw(void **state)
{
	struct built b;
	size_t n, combos, i;
	json_t *doc, *colls, *net, *app, *r;

	(void)state;
	build(&b, "platform off\n"
		  "allow out tcp port 443 to { tag:Storage.EastUS2, 203.0.113.0/24 } from "
		  "192.0.2.0/24 flow T-ST\n"
		  "allow out tcp port { 443, 18881, 8000-8001 } to { host:*.instances.azureml.ms, "
		  "host:pypi.org } flow T-HOSTS\n"
		  "allow out tcp port 80 to host:*pytorch.org flow T-TORCH\n"
		  "allow out tcp port 1000-2000 to host:big.example.com flow T-RANGE\n");
	assert_int_equal(export_azfw(&b.x, &doc, &n, &combos), 0);
	colls = json_object_get(json_object_get(doc, "properties"), "ruleCollections");
	assert_int_equal(json_array_size(colls), 2);
	net = json_array_get(colls, 0);
	app = json_array_get(colls, 1);
	assert_int_equal(json_integer_value(json_object_get(net, "priority")), 100);
	assert_string_equal(str(json_object_get(net, "action"), "type"), "Allow");
	r = json_array_get(json_object_get(net, "rules"), 0);
	assert_string_equal(str(r, "ruleType"), "NetworkRule");
	assert_string_equal(
		json_string_value(json_array_get(json_object_get(r, "sourceAddresses"), 0)),
		"192.0.2.0/24");
	assert_int_equal(json_array_size(json_object_get(r, "destinationAddresses")), 2);
	assert_string_equal(
		json_string_value(json_array_get(json_object_get(r, "destinationAddresses"), 0)),
		"Storage.EastUS2");
	/* 1 protocol x 1 source x 2 destinations x ceil(1 / 14) */
	assert_int_equal(combos, 2);
	r = json_array_get(json_object_get(app, "rules"), 0);
	assert_string_equal(str(r, "ruleType"), "ApplicationRule");
	assert_int_equal(json_array_size(json_object_get(r, "targetFqdns")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(r, "targetFqdns"), 0)),
			    "*.instances.azureml.ms");
	/* 443, 8000, 8001 and 18881, each a protocol entry */
	assert_int_equal(json_array_size(json_object_get(r, "protocols")), 4);
	r = json_array_get(json_object_get(app, "rules"), 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(r, "targetFqdns"), 0)),
			    "*pytorch.org");
	assert_string_equal(str(json_array_get(json_object_get(r, "protocols"), 0), "protocolType"),
			    "Http");
	/* a 1001-port range is no application rule: a gap */
	assert_int_equal(json_array_size(json_object_get(app, "rules")), 2);
	assert_int_equal(b.x.ngaps, 1);
	assert_string_equal(b.x.gaps[0].flow, "T-RANGE");
	json_array_foreach(json_object_get(app, "rules"), i, r)
		assert_string_not_equal(str(r, "name"), "T-RANGE");
	json_decref(doc);
	unbuild(&b);
}

static void test_nft(void **state)
{
	struct built b;
	char *text = NULL;
	size_t len = 0, n, ne;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	build(&b, "mode enforce\n"
		  "allow in tcp port 44224 from tag:AzureMachineLearning flow T-IN-AML\n"
		  "allow out icmp to 198.51.100.0/24 flow T-PING\n"
		  "allow out tcp port 443 to host:pypi.org flow T-HOST\n");
	assert_int_equal(export_nft(&b.x, f, &n, &ne), 0);
	fclose(f);
	assert_non_null(strstr(text, "table inet amlguard {"));
	assert_non_null(strstr(text, "policy drop;"));
	assert_non_null(strstr(text, "ct state established,related accept"));
	/* the platform rules come first, then the policy's, per family */
	assert_non_null(strstr(text, "elements = { 198.51.100.30/32 }"));
	assert_non_null(strstr(text, "elements = { 2001:db8:a::30/128 }"));
	assert_non_null(strstr(text, "ip saddr @r"));
	assert_non_null(strstr(text, "ip6 saddr @r"));
	assert_non_null(strstr(text, "meta l4proto tcp th dport { 44224 } counter accept comment "
				     "\"T-IN-AML t.policy:2\""));
	assert_non_null(strstr(text, "meta l4proto icmp counter accept comment \"T-PING"));
	assert_non_null(strstr(text, "counter drop comment \"amlguard: not allowed\""));
	assert_null(strstr(text, "pypi"));
	assert_int_equal(b.x.ngaps, 1);
	free(text);
	unbuild(&b);
}

static void test_read_nsg_shapes(void **state)
{
	/* az's flattened shape, defaults absent: Azure's six are added, sorted by priority */
	const char *az =
		"{\"name\": \"n1\", \"securityRules\": [\n"
		"{\"name\": \"b\", \"priority\": 200, \"direction\": \"Inbound\", \"access\": "
		"\"Deny\", \"protocol\": \"*\", \"sourceAddressPrefix\": \"Internet\", "
		"\"destinationAddressPrefix\": \"*\", \"destinationPortRanges\": [\"22\", "
		"\"3389-3390\"]},\n"
		"{\"name\": \"a\", \"priority\": 100, \"direction\": \"Inbound\", \"access\": "
		"\"Allow\", \"protocol\": \"Tcp\", \"sourceAddressPrefixes\": [\"10.0.0.0/8\", "
		"\"AzureLoadBalancer\"], \"destinationAddressPrefix\": \"*\", "
		"\"destinationPortRange\": \"0-65535\"}]}\n";
	const char *arm =
		"{\"resources\": [{\"type\": \"Microsoft.Network/networkSecurityGroups\","
		" \"name\": \"[parameters('n')]\", \"properties\": {\"securityRules\": []}}]}";
	const char *dup =
		"{\"properties\": {\"securityRules\": [\n"
		"{\"name\": \"a\", \"properties\": {\"priority\": 100, \"direction\": "
		"\"Outbound\", \"access\": \"Allow\", \"protocol\": \"Tcp\", "
		"\"sourceAddressPrefix\": \"*\", \"destinationAddressPrefix\": \"*\"}},\n"
		"{\"name\": \"b\", \"properties\": {\"priority\": 100, \"direction\": "
		"\"Outbound\", \"access\": \"Deny\", \"protocol\": \"Udp\", "
		"\"sourceAddressPrefix\": \"*\", \"destinationAddressPrefix\": \"*\"}}]}}";
	struct az_set s;
	char err[640];

	(void)state;
	assert_int_equal(az_nsg_load(write_tmp("az.json", az), &s, err, sizeof(err)), 0);
	assert_string_equal(s.name, "n1");
	assert_int_equal(s.n, 8);
	/* outbound first (AMLG_DIR_OUT is 0), then inbound, each by priority */
	assert_string_equal(s.v[0].name, "AllowVnetOutBound");
	assert_string_equal(s.v[3].name, "a");
	assert_int_equal(s.v[3].nports, 0); /* 0-65535 is any port */
	assert_int_equal(s.v[3].protos, AZ_P_TCP);
	assert_int_equal(s.v[3].nsrc, 2);
	assert_string_equal(s.v[4].name, "b");
	assert_false(s.v[4].allow);
	assert_int_equal(s.v[4].protos, AZ_P_ALL);
	assert_int_equal(s.v[4].nports, 2);
	assert_int_equal(s.v[4].ports[1].lo, 3389);
	assert_int_equal(s.v[4].ports[1].hi, 3390);
	assert_string_equal(s.v[7].name, "DenyAllInBound");
	az_set_free(&s);
	/* an ARM template: the name is an expression, the file names the set */
	assert_int_equal(az_nsg_load(write_tmp("tpl.json", arm), &s, err, sizeof(err)), 0);
	assert_string_equal(s.name, "tpl.json");
	assert_int_equal(s.n, 6);
	az_set_free(&s);
	assert_int_equal(az_nsg_load(write_tmp("dup.json", dup), &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "rules 'a' and 'b' have the same priority 100"));
	az_set_free(&s);
	assert_int_equal(az_nsg_load(write_tmp("bad.json", "{\"x\": [1,}"), &s, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "bad.json:1:"));
	assert_non_null(strstr(err, "invalid JSON"));
	az_set_free(&s);
}

static void test_read_firewall(void **state)
{
	/* two groups as 'rule-collection-group list' prints them: priorities order them */
	const char *fw =
		"[{\"name\": \"g2\", \"properties\": {\"priority\": 300, \"ruleCollections\": [\n"
		" {\"ruleCollectionType\": \"FirewallPolicyFilterRuleCollection\", \"name\": \"c\", "
		"\"priority\": 100, \"action\": {\"type\": \"Deny\"}, \"rules\": [\n"
		"  {\"ruleType\": \"NetworkRule\", \"name\": \"late\", \"ipProtocols\": [\"Any\"], "
		"\"sourceAddresses\": [\"*\"], \"destinationAddresses\": [\"*\"], "
		"\"destinationPorts\": [\"*\"]}]}]}},\n"
		" {\"name\": \"g1\", \"properties\": {\"priority\": 100, \"ruleCollections\": [\n"
		" {\"ruleCollectionType\": \"FirewallPolicyFilterRuleCollection\", \"name\": \"apps\", "
		"\"priority\": 50, \"action\": {\"type\": \"Allow\"}, \"rules\": [\n"
		"  {\"ruleType\": \"ApplicationRule\", \"name\": \"web\", \"sourceAddresses\": [\"*\"],"
		" \"protocols\": [{\"protocolType\": \"Https\", \"port\": 443}], "
		"\"targetFqdns\": [\"*.example.com\"]}]},\n"
		" {\"ruleCollectionType\": \"FirewallPolicyFilterRuleCollection\", \"name\": \"nets\", "
		"\"priority\": 200, \"action\": {\"type\": \"Allow\"}, \"rules\": [\n"
		"  {\"ruleType\": \"NetworkRule\", \"name\": \"early\", \"ipProtocols\": [\"TCP\", "
		"\"UDP\"], \"sourceAddresses\": [\"10.0.0.0/16\"], \"destinationAddresses\": "
		"[\"Storage.EastUS2\"], \"destinationPorts\": [\"443\", \"1000-1010\"]}]}]}}]\n";
	struct az_set s = { 0 };
	char err[640];

	(void)state;
	assert_int_equal(az_fw_load(write_tmp("fw.json", fw), &s, err, sizeof(err)), 0);
	assert_true(s.fw);
	assert_int_equal(s.n, 3);
	/* network rules first, by group then collection priority; application rules last */
	assert_string_equal(s.v[0].name, "early");
	assert_int_equal(s.v[0].protos, AZ_P_TCP | AZ_P_UDP);
	assert_int_equal(s.v[0].nports, 2);
	assert_string_equal(s.v[0].where, "g1/nets");
	assert_string_equal(s.v[1].name, "late");
	assert_false(s.v[1].allow);
	assert_string_equal(s.v[2].name, "web");
	assert_true(s.v[2].app);
	assert_int_equal(s.v[2].napp_ports, 1);
	assert_int_equal(s.v[2].app_ports[0], 443);
	assert_string_equal(s.v[2].fqdns[0], "*.example.com");
	az_set_free(&s);
}

UNIT_TESTS(setup, teardown, cmocka_unit_test(test_nsg_rules),
	   cmocka_unit_test(test_nsg_deny_rest_and_step), cmocka_unit_test(test_nsg_priorities_fit),
	   cmocka_unit_test(test_nsg_limits), cmocka_unit_test(test_azfw),
	   cmocka_unit_test(test_nft), cmocka_unit_test(test_read_nsg_shapes),
	   cmocka_unit_test(test_read_firewall))
