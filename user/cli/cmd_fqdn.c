// SPDX-License-Identifier: GPL-2.0-only
/* amlguard fqdn: the names DNS taught an interface, their addresses, time left and rules. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "kernel/fqdn.h"
#include "base/json_text.h"
#include "base/log.h"
#include "kernel/maps.h"
#include "base/prefix.h"
#include "kernel/tables.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: amlguard fqdn -i IFACE [-j]\n\n"
		"Every address learned from DNS answers (of the policy's trusted resolvers) for a\n"
		"name that matches a host rule: the name, the pattern, the time left before it\n"
		"expires and the rules (flow IDs) it opens.  Connections that are open keep\n"
		"their address after it expires.\n");
}

static void flows(const struct fqdn_entry *e, const struct amlg_rule_info *rules, char *buf,
		  size_t sz)
{
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < e->nrules && n < sz; i++) {
		const struct amlg_rule_info *r = &rules[e->rules[i]];

		n += (size_t)snprintf(buf + n, sz - n, "%s%s", n ? "," : "",
				      r->flow[0] ? r->flow : r->origin);
	}
}

int do_fqdn(int argc, char **argv)
{
	struct amlg_rule_info *rules = NULL;
	struct fqdn_entry *v = NULL;
	const char *ifname;
	struct amlg_maps m;
	json_t *arr = NULL;
	uint32_t slot;
	size_t n = 0;
	int err;

	err = cli_parse_iface("fqdn", usage, argc, argv, &ifname);
	if (err)
		return err > 0 ? 0 : err;
	err = cli_iface("fqdn", ifname) ?: cli_open_pinned("fqdn", ifname, &m);
	if (err)
		return err;
	err = tables_active(&m, &slot, NULL);
	if (!err)
		err = tables_rules(&m, slot, &rules);
	if (!err)
		err = fqdn_read(&m, &v, &n);
	if (err) {
		pr_err("%s: cannot read the learned names: %s", ifname, strerror(-err));
		goto out;
	}
	if (json_output)
		arr = json_array();
	else if (n)
		printf("%-40s %-28s %9s  %-28s %s\n", "NAME", "ADDRESS", "TTL LEFT", "PATTERN",
		       "FLOWS");
	for (size_t i = 0; i < n; i++) {
		char a[48], f[512], ttl[32];

		addr_str(v[i].family, v[i].addr, a, sizeof(a));
		flows(&v[i], rules, f, sizeof(f));
		if (arr) {
			json_t *fl = json_array();

			for (unsigned k = 0; k < v[i].nrules; k++) {
				const struct amlg_rule_info *r = &rules[v[i].rules[k]];

				json_array_append_new(
					fl, json_pack("{s:o, s:o}", "flow",
						      json_str_escaped(r->flow[0] ? r->flow : NULL),
						      "rule", json_str_escaped(r->origin)));
			}
			json_array_append_new(
				arr,
				json_pack("{s:o, s:s, s:f, s:b, s:o, s:o}", "name",
					  json_str_escaped(v[i].name), "address", a, "ttl_left",
					  v[i].ttl_left_ms / 1000.0, "expired",
					  v[i].ttl_left_ms < 0, "pattern",
					  json_str_escaped(v[i].pattern[0] ? v[i].pattern : NULL),
					  "rules", fl));
			continue;
		}
		if (v[i].ttl_left_ms < 0)
			snprintf(ttl, sizeof(ttl), "expired");
		else
			snprintf(ttl, sizeof(ttl), "%.1fs", v[i].ttl_left_ms / 1000.0);
		printf("%-40s %-28s %9s  %-28s %s\n", v[i].name[0] ? v[i].name : "?", a, ttl,
		       v[i].pattern[0] ? v[i].pattern : "(not in this policy)", f[0] ? f : "-");
	}
	if (arr)
		json_print(arr);
	else if (!n)
		printf("nothing learned on %s\n", ifname);
out:
	free(v);
	free(rules);
	maps_close(&m);
	return err;
}
