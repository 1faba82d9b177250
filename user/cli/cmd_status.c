// SPDX-License-Identifier: GPL-2.0-only
/* amlguard status: what is attached where, with which policy, and what it has seen. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "base/event.h"
#include "base/json_text.h"
#include "kernel/loader_xdp.h"
#include "base/log.h"
#include "base/names.h"
#include "kernel/state.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: amlguard status [-i IFACE] [-j]\n\n"
		   "Without -i: every interface amlguard is attached to.\n");
}

static json_t *counters_json(const struct amlg_stats *s)
{
	json_t *o = json_object(), *reasons = json_object(), *matches = json_object();
	const char *dirs[2] = { "out", "in" };

	for (int d = 0; d < AMLG_DIRS; d++) {
		json_object_set_new(o, dirs[d],
				    json_pack("{s:I, s:I, s:I, s:I, s:I}", "allowed_packets",
					      (json_int_t)s->packets[d][0], "allowed_bytes",
					      (json_int_t)s->bytes[d][0], "violation_packets",
					      (json_int_t)s->packets[d][1], "violation_bytes",
					      (json_int_t)s->bytes[d][1], "dropped",
					      (json_int_t)s->dropped[d]));
		for (int r = 1; r < AMLG_REASON_MAX; r++) {
			json_t *cur = json_object_get(reasons, reason_str((unsigned)r));
			json_int_t v =
				(json_int_t)s->reasons[d][r] + (cur ? json_integer_value(cur) : 0);

			json_object_set_new(reasons, reason_str((unsigned)r), json_integer(v));
		}
	}
	json_object_set_new(o, "violations_by_reason", reasons);
	/* how allowed packets were allowed: rule, conntrack, ..., pickup (mid-stream) */
	for (int m = 1; m < AMLG_MATCH_MAX; m++)
		json_object_set_new(
			matches, match_str((unsigned)m),
			json_integer((json_int_t)(s->matches[0][m] + s->matches[1][m])));
	json_object_set_new(o, "matches", matches);
	json_object_set_new(o, "dns",
			    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "responses",
				      (json_int_t)s->dns_responses, "untrusted",
				      (json_int_t)s->dns_untrusted, "learned",
				      (json_int_t)s->dns_learned, "malformed",
				      (json_int_t)s->dns_malformed, "evicted_expired",
				      (json_int_t)s->dns_evicted_expired, "evicted_live",
				      (json_int_t)s->dns_evicted_live, "sni_checked",
				      (json_int_t)s->sni_checked));
	json_object_set_new(o, "events",
			    json_pack("{s:I, s:I, s:I, s:I}", "sent", (json_int_t)s->events_sent,
				      "rate_limited", (json_int_t)s->events_ratelimited,
				      "ringbuf_full", (json_int_t)s->events_ringbuf_full,
				      "suppressed", (json_int_t)s->events_suppressed));
	return o;
}

/* The service-tag file of the running policy, or null when it uses none. */
static json_t *tags_json(const struct amlg_pcfg *pc)
{
	if (!pc->tags_file[0])
		return json_null();
	return json_pack("{s:o, s:o, s:I, s:s?}", "file", json_str_escaped(pc->tags_file), "cloud",
			 json_str_escaped(pc->tags_cloud), "change", (json_int_t)pc->tags_change,
			 "date", pc->tags_date[0] ? pc->tags_date : NULL);
}

static json_t *state_json(const struct amlg_state *st)
{
	char hash[65], ts[48];
	json_t *o, *rules = json_array();

	for (uint32_t id = 0; id < AMLG_RULE_IDS; id++) {
		const struct rule_state *r = &st->rules[id];
		char p[8];

		if (!r->info.used)
			continue;
		json_array_append_new(
			rules,
			json_pack("{s:i, s:s, s:s, s:o, s:o, s:I, s:I}", "id", id, "dir",
				  r->info.dir == AMLG_DIR_OUT ? "out" : "in", "proto",
				  r->info.proto ? l4_str(r->info.proto, p, sizeof(p)) : "any",
				  "flow", json_str_escaped(r->info.flow[0] ? r->info.flow : NULL),
				  "origin", json_str_escaped(r->info.origin), "packets",
				  (json_int_t)r->packets, "bytes", (json_int_t)r->bytes));
	}
	o = json_pack("{s:o, s:b, s:s, s:s, s:{s:o, s:s, s:I, s:s, s:b}, s:o, s:o, s:{s:I, s:I}}",
		      "iface", json_str_escaped(st->ifname), "attached",
		      st->prog_id[0] && st->prog_id[1], "role", role_str(st->cfg.role), "mode",
		      mode_str(st->pcfg.mode), "policy", "path", json_str_escaped(st->pcfg.path),
		      "sha256", hex_str(st->pcfg.hash, 32, hash), "generation",
		      (json_int_t)st->pcfg.generation, "loaded",
		      time_str(st->pcfg.load_time_ns, ts, sizeof(ts)), "platform",
		      (st->pcfg.flags & AMLG_PF_PLATFORM) != 0, "counters",
		      counters_json(&st->stats), "rules", rules, "conntrack", "entries",
		      (json_int_t)st->ct_entries, "capacity", (json_int_t)st->ct_capacity);
	json_object_update_new(json_object_get(o, "conntrack"),
			       json_pack("{s:I, s:I, s:I}", "created",
					 (json_int_t)st->stats.ct_created, "create_failed",
					 (json_int_t)st->stats.ct_create_failed, "revalidated",
					 (json_int_t)st->stats.ct_revalidated));
	json_object_set_new(json_object_get(o, "policy"), "tags", tags_json(&st->pcfg));
	json_object_set_new(
		o, "ingress_hook",
		json_string(st->xdp ? (st->xdp == AMLG_XDP_NATIVE ? "xdp-native" : "xdp-generic") :
				      "tc"));
	json_object_set_new(o, "prog_ids",
			    json_pack("{s:i, s:i}", "ingress", st->prog_id[0], "egress",
				      st->prog_id[1]));
	return o;
}

static void state_print(const struct amlg_state *st)
{
	const struct amlg_stats *s = &st->stats;
	char hash[65], ts[48];
	bool first = true;

	printf("%s: %s, role %s, %s mode\n", st->ifname,
	       st->prog_id[0] && st->prog_id[1] ? "attached" : "NOT attached (pinned state only)",
	       role_str(st->cfg.role), mode_str(st->pcfg.mode));
	if (st->xdp)
		printf("  ingress    XDP, %s mode (egress: tc)\n", xdp_mode_str(st->xdp));
	printf("  policy     %s\n", st->pcfg.path);
	printf("             sha256 %s, generation %llu, loaded %s\n",
	       hex_str(st->pcfg.hash, 32, hash), (unsigned long long)st->pcfg.generation,
	       time_str(st->pcfg.load_time_ns, ts, sizeof(ts)));
	if (st->pcfg.tags_file[0])
		printf("  tags       %s (cloud %s, changeNumber %u%s%s)\n", st->pcfg.tags_file,
		       st->pcfg.tags_cloud, st->pcfg.tags_change,
		       st->pcfg.tags_date[0] ? ", date " : "", st->pcfg.tags_date);
	else
		printf("  tags       none (the policy uses no service tag file)\n");
	printf("  tables     %u out and %u in rules, %u IPv4 and %u IPv6 prefixes, %u classes, "
	       "platform rules %s\n",
	       st->pcfg.nrules[0], st->pcfg.nrules[1], st->pcfg.n4, st->pcfg.n6, st->pcfg.nclasses,
	       st->pcfg.flags & AMLG_PF_PLATFORM ? "on" : "off");
	for (int d = 0; d < AMLG_DIRS; d++)
		printf("  %-10s %llu packets allowed, %llu violations, %llu dropped\n",
		       d == AMLG_DIR_OUT ? "out" : "in", (unsigned long long)s->packets[d][0],
		       (unsigned long long)s->packets[d][1], (unsigned long long)s->dropped[d]);
	printf("  reasons   ");
	for (int r = 1; r < AMLG_REASON_MAX; r++) {
		unsigned long long n = s->reasons[0][r] + s->reasons[1][r];

		if (!n)
			continue;
		printf("%s %s %llu", first ? "" : ",", reason_str((unsigned)r), n);
		first = false;
	}
	printf("%s\n", first ? " none" : "");
	printf("  events     %llu sent, %llu rate-limited, %llu lost to a full ring buffer, "
	       "%llu suppressed (flow already reported)\n",
	       (unsigned long long)s->events_sent, (unsigned long long)s->events_ratelimited,
	       (unsigned long long)s->events_ringbuf_full,
	       (unsigned long long)s->events_suppressed);
	if (st->pcfg.flags & AMLG_PF_HOSTS)
		printf("  dns        %llu answers read, %llu from untrusted servers ignored, %llu "
		       "addresses learned, %llu malformed, %llu+%llu evicted; %llu ClientHellos "
		       "checked\n",
		       (unsigned long long)s->dns_responses, (unsigned long long)s->dns_untrusted,
		       (unsigned long long)s->dns_learned, (unsigned long long)s->dns_malformed,
		       (unsigned long long)s->dns_evicted_expired,
		       (unsigned long long)s->dns_evicted_live, (unsigned long long)s->sni_checked);
	printf("  conntrack  %llu of %llu entries; %llu created, %llu failed, %llu re-judged after "
	       "a policy swap\n",
	       (unsigned long long)st->ct_entries, (unsigned long long)st->ct_capacity,
	       (unsigned long long)s->ct_created, (unsigned long long)s->ct_create_failed,
	       (unsigned long long)s->ct_revalidated);
	printf("  matches   ");
	for (int m = 1; m < AMLG_MATCH_MAX; m++)
		printf("%s %s %llu", m > 1 ? "," : "", match_str((unsigned)m),
		       (unsigned long long)(s->matches[0][m] + s->matches[1][m]));
	putchar('\n');
	printf("  %5s %-3s %-6s %12s %14s  %-28s %s\n", "RULE", "DIR", "PROTO", "PACKETS", "BYTES",
	       "FLOW", "ORIGIN");
	for (uint32_t id = 0; id < AMLG_RULE_IDS; id++) {
		const struct rule_state *r = &st->rules[id];
		char p[8];

		if (!r->info.used)
			continue;
		printf("  %5u %-3s %-6s %12llu %14llu  %-28s %s\n", id,
		       r->info.dir == AMLG_DIR_OUT ? "out" : "in",
		       r->info.proto ? l4_str(r->info.proto, p, sizeof(p)) : "any",
		       (unsigned long long)r->packets, (unsigned long long)r->bytes,
		       r->info.flow[0] ? r->info.flow : "-", r->info.origin);
	}
}

static int show(const char *ifname, json_t *arr)
{
	struct amlg_state st;
	int err = state_read(ifname, &st);

	if (err) {
		state_report_open_error(ifname, err);
		return err;
	}
	if (arr)
		json_array_append_new(arr, state_json(&st));
	else
		state_print(&st);
	state_free(&st);
	return 0;
}

int do_status(int argc, char **argv)
{
	const char *ifname;
	json_t *arr = NULL;
	char **names;
	int n, err;

	err = cli_parse_iface("status", usage, argc, argv, &ifname);
	if (err)
		return err > 0 ? 0 : err;
	err = require_root("status");
	if (!err && ifname)
		err = cli_iface("status", ifname);
	if (err)
		return err;
	if (json_output)
		arr = json_array();
	if (ifname) {
		err = show(ifname, arr);
	} else {
		err = state_list(&names, &n);
		for (int i = 0; i < n; i++) {
			if (!err && i && !arr)
				putchar('\n');
			if (!err)
				err = show(names[i], arr);
			free(names[i]);
		}
		free(names);
		if (!err && !n && !arr)
			printf("amlguard is not attached to any interface\n");
	}
	if (arr) {
		if (err)
			json_decref(arr);
		else
			json_print(arr);
	}
	return err;
}
