/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Violation events to the ring buffer.  Three limits keep a flood from drowning the reader, each
 * counted so that nothing is lost silently: one event per flow per report interval (the flow's
 * conntrack entry remembers when it was last reported), a per-CPU token bucket, and the ring
 * buffer's own capacity.
 */
#ifndef AMLG_EVENTS_H
#define AMLG_EVENTS_H

#include "parse.h"
#include "stats.h"

#define NSEC_PER_SEC 1000000000ull

/* Take one token from this CPU's bucket (rate per second, burst tokens deep). */
static __always_inline int tb_take(struct amlg_stats *st, const struct amlg_cfg *cfg, __u64 now)
{
	__u64 rate = cfg->rate_per_sec, elapsed = now - st->tb_last_ns;

	if (!rate)
		return 1; /* unlimited */
	if (elapsed >= NSEC_PER_SEC || now < st->tb_last_ns) {
		st->tb_tokens = cfg->burst;
		st->tb_last_ns = now;
	} else {
		__u64 add = elapsed * rate / NSEC_PER_SEC;

		if (add) {
			st->tb_tokens += add;
			if (st->tb_tokens > cfg->burst)
				st->tb_tokens = cfg->burst;
			/* Advance by the time the added tokens took, keeping the remainder. */
			st->tb_last_ns += add * NSEC_PER_SEC / rate;
		}
	}
	if (!st->tb_tokens)
		return 0;
	st->tb_tokens--;
	return 1;
}

struct event_info {
	__u64 now;
	__u64 generation;
	__u32 ifindex;
	__u32 slot;
	__u8 dir;
	__u8 reason;
	__u8 dropped;
	__u16 rule;
	__u64 learned_name;
};

/* Returns 1 when an event was sent. */
/*
 * The snapshot comes from bp (an offline batch buffer of at least AMLG_SNAP_MAX bytes) when
 * given, else from the skb.
 */
static __always_inline int event_emit(struct __sk_buff *skb, const struct amlg_batch_pkt *bp,
				      __u32 len, struct amlg_stats *st, const struct amlg_cfg *cfg,
				      const struct amlg_pkt *pkt, const struct event_info *ei)
{
	struct amlg_event *ev;
	__u32 cap;

	if (!tb_take(st, cfg, ei->now)) {
		st->events_ratelimited++;
		return 0;
	}
	ev = bpf_ringbuf_reserve(&amlg_events, sizeof(*ev), 0);
	if (!ev) {
		st->events_ringbuf_full++;
		return 0;
	}
	ev->ts_ns = ei->now;
	ev->generation = ei->generation;
	ev->ifindex = ei->ifindex;
	ev->pkt_len = pkt->len;
	ev->type = AMLG_EV_VIOLATION;
	ev->dir = ei->dir;
	ev->family = pkt->family;
	ev->proto = pkt->proto;
	ev->reason = ei->reason;
	ev->flags = (ei->dropped ? AMLG_EVF_DROPPED : 0) |
		    (pkt->frag != FRAG_NONE ? AMLG_EVF_FRAGMENT : 0);
	ev->rule = ei->rule;
	ev->sport = pkt->sport;
	ev->dport = pkt->dport;
	ev->vlan[0] = pkt->vlan[0];
	ev->vlan[1] = pkt->vlan[1];
	ev->icmp_type = pkt->icmp_type;
	ev->icmp_code = pkt->icmp_code;
	ev->slot = ei->slot;
	ev->learned_name = ei->learned_name;
	ev->nvlan = pkt->nvlan;
	ev->pad[0] = ev->pad[1] = 0;
	__builtin_memcpy(ev->saddr, pkt->saddr, 16);
	__builtin_memcpy(ev->daddr, pkt->daddr, 16);
	cap = bp ? bp->cap : len;
	if (cap > cfg->snaplen)
		cap = cfg->snaplen;
	if (cap > AMLG_SNAP_MAX)
		cap = AMLG_SNAP_MAX;
	ev->cap_len = 0;
	if (bp) {
		__builtin_memcpy(ev->pkt, bp->data, AMLG_SNAP_MAX);
		ev->cap_len = cap;
	} else {
		/* 1..AMLG_SNAP_MAX in a form the verifier can follow through the copies. */
		__u32 n = ((cap - 1) & (AMLG_SNAP_MAX - 1)) + 1;

		if (cap > 0 && bpf_skb_load_bytes(skb, 0, ev->pkt, n) == 0)
			ev->cap_len = n;
	}
	bpf_ringbuf_submit(ev, 0);
	st->events_sent++;
	return 1;
}

#endif
