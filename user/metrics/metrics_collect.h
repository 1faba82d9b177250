/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * amlguard's metrics: the datapath's counters of each interface (from its pinned state) and the
 * daemon's own, rendered in the Prometheus text format.  The names, all amlguard_*, are listed
 * in the README ("Operating amlguard") and in amlguard(8).
 */
#ifndef AMLG_METRICS_METRICS_COLLECT_H
#define AMLG_METRICS_METRICS_COLLECT_H

#include <stdbool.h>

#include "metrics/metrics.h"
#include "kernel/state.h"
#include "base/vcount.h"

struct iface_metrics {
	const char *ifname;
	bool ok; /* st was read: amlguard is attached */
	struct amlg_state st;
	/* the daemon's, per interface */
	uint64_t events_received, events_malformed;
	const struct vcount *vc; /* violations the daemon counted, or NULL */
	double tags_time; /* the service-tag file's date, seconds since the epoch; 0: none */
};

enum sink_kind { SINK_FILE, SINK_STDOUT, SINK_JOURNAL, SINK_PCAP, SINK_KINDS };

struct daemon_metrics {
	uint64_t records[SINK_KINDS], sink_errors[SINK_KINDS];
	bool sink_on[SINK_KINDS];
	bool alerts_on;
	uint64_t alerts_started, alerts_suppressed, alerts_dropped, alert_failures;
	uint64_t alerts_running;
	uint64_t reloads_ok, reloads_failed;
	bool last_reload_ok;
	double start_time; /* seconds since the epoch */
};

/* Everything, in families; dm NULL: no daemon metrics.  0 or the buffer's error. */
int metrics_render(struct mbuf *b, const struct iface_metrics *ifs, size_t n,
		   const struct daemon_metrics *dm);

/*
 * The date of the service-tag file a policy was compiled with: the one in its name
 * (ServiceTags_Public_YYYYMMDD.json, midnight UTC), else the file's modification time; 0 if the
 * policy has no tag file or neither is known.
 */
double metrics_tags_time(const struct amlg_pcfg *pc);

extern const char *const sink_kind_names[SINK_KINDS];

#endif
