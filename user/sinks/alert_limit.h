/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Which violations become alerts: one per flow (interface and 5-tuple) per window, and at most
 * "rate" alerts per period.  Flows beyond the rate are counted, and once their period is over
 * the count is due as one "N more suppressed" summary.  Time is passed in, so this is pure
 * logic.
 */
#ifndef AMLG_SINKS_ALERT_LIMIT_H
#define AMLG_SINKS_ALERT_LIMIT_H

#include <stddef.h>
#include <stdint.h>

struct alert_key {
	uint32_t ifindex;
	uint8_t family;
	uint8_t proto;
	uint16_t sport, dport;
	uint8_t saddr[16], daddr[16];
};

enum alert_decision {
	ALERT_RUN, /* a new flow, within the rate: alert */
	ALERT_DUPLICATE, /* the flow was seen within the window: nothing */
	ALERT_SUPPRESSED, /* a new flow beyond the rate: counted for the summary */
};

struct alert_seen;

struct alert_limit {
	uint64_t window_ns, period_ns;
	unsigned rate;
	uint64_t period_start;
	unsigned in_period; /* alerts run in this period */
	unsigned long suppressed; /* in this period */
	unsigned long pending; /* of ended periods, not summarized yet */
	struct alert_seen *tab;
	size_t cap; /* power of two */
};

/* window_s 0: no de-duplication.  capacity: flows remembered (rounded up to a power of 2). */
int alert_limit_init(struct alert_limit *l, unsigned window_s, unsigned rate, unsigned period_s,
		     size_t capacity);
enum alert_decision alert_limit_check(struct alert_limit *l, const struct alert_key *k,
				      uint64_t now_ns);
/* Flows suppressed in periods that have ended, once; 0 when no summary is due. */
unsigned long alert_limit_summary(struct alert_limit *l, uint64_t now_ns);
void alert_limit_free(struct alert_limit *l);

#endif
