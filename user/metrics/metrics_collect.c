// SPDX-License-Identifier: GPL-2.0-only
/* amlguard's metrics: per-interface datapath counters and the daemon's own. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "metrics/metrics_collect.h"
#include "base/names.h"

const char *const sink_kind_names[SINK_KINDS] = {
	[SINK_FILE] = "file",
	[SINK_STDOUT] = "stdout",
	[SINK_JOURNAL] = "journal",
	[SINK_PCAP] = "pcap",
};

static const char *const dir_names[AMLG_DIRS] = { [AMLG_DIR_OUT] = "out", [AMLG_DIR_IN] = "in" };
static const char *const verdict_names[2] = { "allowed", "violation" };

/* One family of per-(interface, direction, verdict) counters out of the summed stats. */
static void by_verdict(struct mbuf *b, const struct iface_metrics *ifs, size_t n, const char *name,
		       const char *help, bool bytes)
{
	metrics_family(b, name, "counter", help);
	for (size_t i = 0; i < n; i++) {
		const struct amlg_stats *s = &ifs[i].st.stats;

		for (int k = 0; ifs[i].ok && k < AMLG_DIRS * 2; k++) {
			int d = k / 2, v = k % 2;
			struct mlabel l[] = { { "interface", ifs[i].ifname },
					      { "direction", dir_names[d] },
					      { "verdict", verdict_names[v] } };

			metrics_u64(b, name, l, 3, bytes ? s->bytes[d][v] : s->packets[d][v]);
		}
	}
}

static void traffic(struct mbuf *b, const struct iface_metrics *ifs, size_t n)
{
	by_verdict(b, ifs, n, "amlguard_packets_total",
		   "Packets seen by the datapath, by direction and verdict.", false);
	by_verdict(b, ifs, n, "amlguard_bytes_total",
		   "Bytes seen by the datapath, by direction and verdict.", true);
	metrics_family(b, "amlguard_dropped_packets_total", "counter",
		       "Violating packets dropped in enforce mode.");
	for (size_t i = 0; i < n; i++) {
		for (int d = 0; ifs[i].ok && d < AMLG_DIRS; d++) {
			struct mlabel l[] = { { "interface", ifs[i].ifname },
					      { "direction", dir_names[d] } };

			metrics_u64(b, "amlguard_dropped_packets_total", l, 2,
				    ifs[i].st.stats.dropped[d]);
		}
	}
	metrics_family(b, "amlguard_violations_total", "counter",
		       "Violating packets by direction and reason.");
	for (size_t i = 0; i < n; i++) {
		for (int k = 0; ifs[i].ok && k < AMLG_DIRS * AMLG_REASON_MAX; k++) {
			int d = k / AMLG_REASON_MAX, r = k % AMLG_REASON_MAX;
			struct mlabel l[] = { { "interface", ifs[i].ifname },
					      { "direction", dir_names[d] },
					      { "reason", reason_str((unsigned)r) } };

			if (r == AMLG_REASON_NONE)
				continue;
			metrics_u64(b, "amlguard_violations_total", l, 3,
				    ifs[i].st.stats.reasons[d][r]);
		}
	}
}

/* Rule counters summed per (direction, flow ID); rules without a flow ID under flow="". */
struct flow_sum {
	uint8_t dir;
	const char *flow;
	uint64_t packets, bytes;
};

static size_t flow_sums(const struct amlg_state *st, struct flow_sum *out, size_t max)
{
	size_t n = 0;

	for (uint32_t id = 0; st->rules && id < AMLG_RULE_IDS; id++) {
		const struct rule_state *r = &st->rules[id];
		size_t j;

		if (!r->info.used)
			continue;
		for (j = 0; j < n; j++)
			if (out[j].dir == r->info.dir && !strcmp(out[j].flow, r->info.flow))
				break;
		if (j == n) {
			if (n == max)
				continue;
			out[n++] = (struct flow_sum){ .dir = r->info.dir, .flow = r->info.flow };
		}
		out[j].packets += r->packets;
		out[j].bytes += r->bytes;
	}
	return n;
}

static void flows(struct mbuf *b, const struct iface_metrics *ifs, size_t n)
{
	struct flow_sum *sums = calloc(AMLG_RULE_IDS, sizeof(*sums));
	const char *names[2] = { "amlguard_flow_packets_total", "amlguard_flow_bytes_total" };
	const char *helps[2] = {
		"Allowed packets by flow ID (the rules' counters, reset when a policy is installed).",
		"Allowed bytes by flow ID (the rules' counters, reset when a policy is installed).",
	};

	if (!sums) {
		b->err = -ENOMEM;
		return;
	}
	for (int k = 0; k < 2; k++) {
		metrics_family(b, names[k], "counter", helps[k]);
		for (size_t i = 0; i < n; i++) {
			size_t m = flow_sums(&ifs[i].st, sums, AMLG_RULE_IDS);

			if (!ifs[i].ok)
				continue;
			for (size_t j = 0; j < m; j++) {
				struct mlabel l[] = { { "interface", ifs[i].ifname },
						      { "direction", dir_names[sums[j].dir & 1] },
						      { "flow", sums[j].flow } };

				metrics_u64(b, names[k], l, 3, k ? sums[j].bytes : sums[j].packets);
			}
		}
	}
	free(sums);
}

static void per_iface(struct mbuf *b, const struct iface_metrics *ifs, size_t n, const char *name,
		      const char *type, const char *help, size_t off)
{
	metrics_family(b, name, type, help);
	for (size_t i = 0; i < n; i++) {
		struct mlabel l[] = { { "interface", ifs[i].ifname } };
		uint64_t v;

		if (!ifs[i].ok)
			continue;
		memcpy(&v, (const char *)&ifs[i] + off, sizeof(v));
		metrics_u64(b, name, l, 1, v);
	}
}

#define IFM(f) offsetof(struct iface_metrics, f)

static void events(struct mbuf *b, const struct iface_metrics *ifs, size_t n)
{
	per_iface(b, ifs, n, "amlguard_events_sent_total", "counter",
		  "Violation events the datapath put into the ring buffer.",
		  IFM(st.stats.events_sent));
	metrics_family(b, "amlguard_events_dropped_total", "counter",
		       "Violation events not sent: the ring buffer was full, or the per-CPU rate "
		       "limit was reached.");
	for (size_t i = 0; i < n; i++) {
		struct mlabel l[] = { { "interface", ifs[i].ifname }, { "cause", "ringbuf_full" } };

		if (!ifs[i].ok)
			continue;
		metrics_u64(b, "amlguard_events_dropped_total", l, 2,
			    ifs[i].st.stats.events_ringbuf_full);
		l[1].value = "rate_limited";
		metrics_u64(b, "amlguard_events_dropped_total", l, 2,
			    ifs[i].st.stats.events_ratelimited);
	}
	per_iface(b, ifs, n, "amlguard_events_suppressed_total", "counter",
		  "Violation events not sent because the flow was reported within the interval.",
		  IFM(st.stats.events_suppressed));
}

static void conntrack(struct mbuf *b, const struct iface_metrics *ifs, size_t n)
{
	per_iface(b, ifs, n, "amlguard_conntrack_entries", "gauge",
		  "Connection tracking entries in use (an estimate under churn).",
		  IFM(st.ct_entries));
	per_iface(b, ifs, n, "amlguard_conntrack_capacity", "gauge",
		  "Connection tracking table size.", IFM(st.ct_capacity));
	per_iface(b, ifs, n, "amlguard_conntrack_create_failed_total", "counter",
		  "Flows that could not be tracked.", IFM(st.stats.ct_create_failed));
	per_iface(b, ifs, n, "amlguard_conntrack_created_total", "counter",
		  "Flows tracked (entries created).", IFM(st.stats.ct_created));
	per_iface(b, ifs, n, "amlguard_conntrack_rejudged_total", "counter",
		  "Tracked flows judged again by their first packet under a new policy.",
		  IFM(st.stats.ct_revalidated));
}

/* Learning addresses from DNS answers, for policies with host rules. */
static void dns(struct mbuf *b, const struct iface_metrics *ifs, size_t n)
{
	metrics_family(b, "amlguard_dns_responses_total", "counter",
		       "DNS responses seen: from a trusted resolver (read), or from another server "
		       "(ignored).");
	for (size_t i = 0; i < n; i++) {
		struct mlabel l[] = { { "interface", ifs[i].ifname }, { "resolver", "trusted" } };

		if (!ifs[i].ok)
			continue;
		metrics_u64(b, "amlguard_dns_responses_total", l, 2, ifs[i].st.stats.dns_responses);
		l[1].value = "untrusted";
		metrics_u64(b, "amlguard_dns_responses_total", l, 2, ifs[i].st.stats.dns_untrusted);
	}
	per_iface(b, ifs, n, "amlguard_dns_learned_total", "counter",
		  "Addresses learned or refreshed from DNS answers for the host rules.",
		  IFM(st.stats.dns_learned));
	metrics_family(b, "amlguard_dns_learning_failures_total", "counter",
		       "DNS answers of trusted resolvers that taught nothing: malformed (could not "
		       "be read), or table_full (a live learned address was evicted for it).");
	for (size_t i = 0; i < n; i++) {
		struct mlabel l[] = { { "interface", ifs[i].ifname }, { "cause", "malformed" } };

		if (!ifs[i].ok)
			continue;
		metrics_u64(b, "amlguard_dns_learning_failures_total", l, 2,
			    ifs[i].st.stats.dns_malformed);
		l[1].value = "table_full";
		metrics_u64(b, "amlguard_dns_learning_failures_total", l, 2,
			    ifs[i].st.stats.dns_evicted_live);
	}
	per_iface(b, ifs, n, "amlguard_dns_expired_evictions_total", "counter",
		  "Expired learned addresses removed to make room.",
		  IFM(st.stats.dns_evicted_expired));
	per_iface(b, ifs, n, "amlguard_sni_checked_total", "counter",
		  "TLS ClientHellos whose server name was checked against the host rules.",
		  IFM(st.stats.sni_checked));
}

static void policy(struct mbuf *b, const struct iface_metrics *ifs, size_t n)
{
	metrics_family(b, "amlguard_attached", "gauge",
		       "1 if amlguard's datapath is on the interface's tc hooks, else 0.");
	for (size_t i = 0; i < n; i++) {
		struct mlabel l[] = { { "interface", ifs[i].ifname } };

		metrics_u64(b, "amlguard_attached", l, 1,
			    ifs[i].ok && ifs[i].st.prog_id[0] && ifs[i].st.prog_id[1]);
	}
	metrics_family(b, "amlguard_mode", "gauge",
		       "1 for the running policy's mode (audit: violations pass and are reported; "
		       "enforce: they are dropped), 0 for the other.");
	for (size_t i = 0; i < n; i++) {
		for (unsigned m = 0; ifs[i].ok && m < VCOUNT_MODES; m++) {
			struct mlabel l[] = { { "interface", ifs[i].ifname },
					      { "mode", mode_str(m) } };

			metrics_u64(b, "amlguard_mode", l, 2, ifs[i].st.pcfg.mode == m);
		}
	}
	per_iface(b, ifs, n, "amlguard_policy_generation", "gauge",
		  "Generation of the running policy; bumped by every install.",
		  IFM(st.pcfg.generation));
	metrics_family(b, "amlguard_policy_loaded_timestamp_seconds", "gauge",
		       "When the running policy was installed, in seconds since the epoch.");
	for (size_t i = 0; i < n; i++) {
		struct mlabel l[] = { { "interface", ifs[i].ifname } };

		if (!ifs[i].ok)
			continue;
		metrics_f64(b, "amlguard_policy_loaded_timestamp_seconds", l, 1,
			    (double)ifs[i].st.pcfg.load_time_ns / 1e9);
	}
	metrics_family(b, "amlguard_policy_info", "gauge",
		       "The running policy: file, SHA-256 of its sources, mode and role.");
	for (size_t i = 0; i < n; i++) {
		char hash[65];
		struct mlabel l[] = {
			{ "interface", ifs[i].ifname },
			{ "path", ifs[i].st.pcfg.path },
			{ "sha256", hex_str(ifs[i].st.pcfg.hash, 32, hash) },
			{ "mode", mode_str(ifs[i].st.pcfg.mode) },
			{ "role", role_str(ifs[i].st.cfg.role) },
		};

		if (!ifs[i].ok)
			continue;
		metrics_u64(b, "amlguard_policy_info", l, 5, 1);
	}
	metrics_family(b, "amlguard_policy_rules", "gauge", "Rules of the running policy.");
	for (size_t i = 0; i < n; i++) {
		for (int d = 0; d < AMLG_DIRS && ifs[i].ok; d++) {
			struct mlabel l[] = { { "interface", ifs[i].ifname },
					      { "direction", dir_names[d] } };

			metrics_u64(b, "amlguard_policy_rules", l, 2, ifs[i].st.pcfg.nrules[d]);
		}
	}
	metrics_family(b, "amlguard_tags_change_number", "gauge",
		       "changeNumber of the service-tag file the policy was compiled with "
		       "(0: none).");
	for (size_t i = 0; i < n; i++) {
		struct mlabel l[] = { { "interface", ifs[i].ifname } };

		if (!ifs[i].ok)
			continue;
		metrics_u64(b, "amlguard_tags_change_number", l, 1, ifs[i].st.pcfg.tags_change);
	}
	metrics_family(b, "amlguard_tags_timestamp_seconds", "gauge",
		       "Date of the service-tag file the policy was compiled with (from its name, "
		       "else its modification time), in seconds since the epoch.");
	for (size_t i = 0; i < n; i++) {
		struct mlabel l[] = { { "interface", ifs[i].ifname } };

		if (ifs[i].ok && ifs[i].tags_time > 0)
			metrics_f64(b, "amlguard_tags_timestamp_seconds", l, 1, ifs[i].tags_time);
	}
}

double metrics_tags_time(const struct amlg_pcfg *pc)
{
	struct tm tm = { 0 };
	struct stat sb;
	char tail;

	if (!pc->tags_file[0] && !pc->tags_change)
		return 0;
	if (sscanf(pc->tags_date, "%4d%2d%2d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tail) ==
	    3) {
		tm.tm_year -= 1900;
		tm.tm_mon -= 1;
		return (double)timegm(&tm);
	}
	if (pc->tags_file[0] && memchr(pc->tags_file, '\0', sizeof(pc->tags_file)) &&
	    !stat(pc->tags_file, &sb))
		return (double)sb.st_mtim.tv_sec + (double)sb.st_mtim.tv_nsec / 1e9;
	return 0;
}

static void daemon_ifaces(struct mbuf *b, const struct iface_metrics *ifs, size_t n)
{
	metrics_family(b, "amlguard_daemon_events_received_total", "counter",
		       "Violation events the daemon read from the ring buffer.");
	for (size_t i = 0; i < n; i++) {
		struct mlabel l[] = { { "interface", ifs[i].ifname } };

		metrics_u64(b, "amlguard_daemon_events_received_total", l, 1,
			    ifs[i].events_received);
	}
	metrics_family(b, "amlguard_daemon_events_malformed_total", "counter",
		       "Ring-buffer records the daemon could not decode.");
	for (size_t i = 0; i < n; i++) {
		struct mlabel l[] = { { "interface", ifs[i].ifname } };

		metrics_u64(b, "amlguard_daemon_events_malformed_total", l, 1,
			    ifs[i].events_malformed);
	}
}

/* New undeclared egress flows by mode and reason, every combination from the start. */
static void undeclared(struct mbuf *b, const struct iface_metrics *ifs, size_t n)
{
	const char *name = "amlguard_undeclared_egress_flows_total";

	metrics_family(
		b, name, "counter",
		"New egress flows that violate the policy (one per 5-tuple per alert-window), "
		"by the mode that judged them and the reason.");
	for (size_t i = 0; i < n; i++) {
		for (unsigned k = 0; ifs[i].vc && k < VCOUNT_MODES * AMLG_REASON_MAX; k++) {
			unsigned m = k / AMLG_REASON_MAX, r = k % AMLG_REASON_MAX;
			struct mlabel l[] = { { "interface", ifs[i].ifname },
					      { "mode", mode_str(m) },
					      { "reason", reason_str(r) } };

			if (r == AMLG_REASON_NONE)
				continue;
			metrics_u64(b, name, l, 3, ifs[i].vc->undeclared[m][r]);
		}
	}
}

static void flow_violation(struct mbuf *b, const char *ifname, unsigned dir, const char *flow,
			   const uint64_t *counts)
{
	for (unsigned m = 0; m < VCOUNT_MODES; m++) {
		struct mlabel l[] = { { "interface", ifname },
				      { "mode", mode_str(m) },
				      { "direction", dir_names[dir & 1] },
				      { "flow", flow } };

		metrics_u64(b, "amlguard_flow_violations_total", l, 4, counts ? counts[m] : 0);
	}
}

/*
 * Violating flows by the flow ID whose rule covered the address: what was counted, and the
 * running policy's other flow IDs at 0, so that the first violation is a visible increase.
 */
static void flow_violations(struct mbuf *b, const struct iface_metrics *ifs, size_t n)
{
	struct flow_sum *sums = calloc(AMLG_RULE_IDS, sizeof(*sums));

	if (!sums) {
		b->err = -ENOMEM;
		return;
	}
	metrics_family(b, "amlguard_flow_violations_total", "counter",
		       "Violating flows reported whose address a rule of this flow ID covers, but "
		       "not their port, protocol or server name (at most one report per flow per "
		       "10 s).");
	for (size_t i = 0; i < n; i++) {
		const struct vcount *v = ifs[i].vc;
		size_t m = ifs[i].ok ? flow_sums(&ifs[i].st, sums, AMLG_RULE_IDS) : 0;

		if (!v)
			continue;
		for (size_t j = 0; j < v->nflows; j++)
			flow_violation(b, ifs[i].ifname, v->flows[j].dir, v->flows[j].flow,
				       v->flows[j].n);
		for (size_t j = 0; j < m; j++)
			if (!vcount_find(v, sums[j].dir, sums[j].flow))
				flow_violation(b, ifs[i].ifname, sums[j].dir, sums[j].flow, NULL);
		for (unsigned d = 0; d < AMLG_DIRS; d++) {
			uint64_t other[VCOUNT_MODES] = { v->other[0][d], v->other[1][d] };

			if (other[0] || other[1])
				flow_violation(b, ifs[i].ifname, d, VCOUNT_OTHER, other);
		}
	}
	free(sums);
}

static void daemon_own(struct mbuf *b, const struct daemon_metrics *dm)
{
	struct mlabel l[1];

	metrics_family(b, "amlguard_sink_records_total", "counter",
		       "Violations written to each sink.");
	for (int k = 0; k < SINK_KINDS; k++) {
		if (!dm->sink_on[k])
			continue;
		l[0] = (struct mlabel){ "sink", sink_kind_names[k] };
		metrics_u64(b, "amlguard_sink_records_total", l, 1, dm->records[k]);
	}
	metrics_family(b, "amlguard_sink_errors_total", "counter",
		       "Violations a sink failed to write.");
	for (int k = 0; k < SINK_KINDS; k++) {
		if (!dm->sink_on[k])
			continue;
		l[0] = (struct mlabel){ "sink", sink_kind_names[k] };
		metrics_u64(b, "amlguard_sink_errors_total", l, 1, dm->sink_errors[k]);
	}
	if (dm->alerts_on) {
		metrics_family(b, "amlguard_alerts_total", "counter",
			       "Undeclared egress flows by what became of their alert: started, "
			       "suppressed (rate limit) or dropped (too many waiting).");
		l[0] = (struct mlabel){ "outcome", "started" };
		metrics_u64(b, "amlguard_alerts_total", l, 1, dm->alerts_started);
		l[0].value = "suppressed";
		metrics_u64(b, "amlguard_alerts_total", l, 1, dm->alerts_suppressed);
		l[0].value = "dropped";
		metrics_u64(b, "amlguard_alerts_total", l, 1, dm->alerts_dropped);
		metrics_family(b, "amlguard_alert_failures_total", "counter",
			       "Alert commands that failed, could not run, or timed out.");
		metrics_u64(b, "amlguard_alert_failures_total", NULL, 0, dm->alert_failures);
		metrics_family(b, "amlguard_alerts_running", "gauge",
			       "Alert commands running now.");
		metrics_u64(b, "amlguard_alerts_running", NULL, 0, dm->alerts_running);
	}
	metrics_family(b, "amlguard_reloads_total", "counter",
		       "Reloads (SIGHUP) by result; a failed one keeps the running policy.");
	l[0] = (struct mlabel){ "result", "success" };
	metrics_u64(b, "amlguard_reloads_total", l, 1, dm->reloads_ok);
	l[0].value = "failure";
	metrics_u64(b, "amlguard_reloads_total", l, 1, dm->reloads_failed);
	metrics_family(b, "amlguard_last_reload_successful", "gauge",
		       "1 if the last reload worked (or none was asked for), 0 if it failed.");
	metrics_u64(b, "amlguard_last_reload_successful", NULL, 0, dm->last_reload_ok);
	metrics_family(b, "amlguard_start_time_seconds", "gauge",
		       "When the daemon started, in seconds since the epoch.");
	metrics_f64(b, "amlguard_start_time_seconds", NULL, 0, dm->start_time);
}

int metrics_render(struct mbuf *b, const struct iface_metrics *ifs, size_t n,
		   const struct daemon_metrics *dm)
{
	struct mlabel v[] = { { "version", AMLG_VERSION } };

	metrics_family(b, "amlguard_build_info", "gauge", "amlguard's version; always 1.");
	metrics_u64(b, "amlguard_build_info", v, 1, 1);
	policy(b, ifs, n);
	traffic(b, ifs, n);
	flows(b, ifs, n);
	events(b, ifs, n);
	conntrack(b, ifs, n);
	dns(b, ifs, n);
	if (dm) {
		daemon_ifaces(b, ifs, n);
		undeclared(b, ifs, n);
		flow_violations(b, ifs, n);
		daemon_own(b, dm);
	}
	return b->err;
}
