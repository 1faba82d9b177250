/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Per-CPU counters: per direction and verdict, per reason, per match kind and per rule.  Per CPU,
 * so plain increments are safe: a tc program runs with bottom halves off (or migration off, for
 * a test run) and no other run of it on the same CPU comes between its read and its write.
 * Userspace adds the CPUs up.  The events' token bucket lives here for the same reason.
 */
#ifndef AMLG_STATS_H
#define AMLG_STATS_H

#include "maps.h"
#include "parse.h"

static __always_inline struct amlg_stats *stats_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&amlg_stats, &zero);
}

static __always_inline void stats_count(struct amlg_stats *st, __u32 slot, __u8 dir, __u8 verdict,
					__u8 reason, __u8 match, __u16 rule, __u32 len, int dropped)
{
	dir = (__u8)BOUND(dir, 1);
	verdict = (__u8)BOUND(verdict, 1);
	st->packets[dir][verdict]++;
	st->bytes[dir][verdict] += len;
	if (dropped)
		st->dropped[dir]++;
	if (reason < AMLG_REASON_MAX)
		st->reasons[dir][BOUND(reason, 15)]++;
	if (match < AMLG_MATCH_MAX)
		st->matches[dir][BOUND(match, 7)]++;
	if (verdict == AMLG_VERDICT_ALLOW && rule < AMLG_RULE_IDS) {
		__u32 idx = (slot & 1) * AMLG_RULE_IDS + rule;
		struct amlg_rstat *rs = bpf_map_lookup_elem(&amlg_rstats, &idx);

		if (rs) {
			rs->packets++;
			rs->bytes += len;
		}
	}
}

#endif
