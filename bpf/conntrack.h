/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Connection tracking.  A flow is keyed as seen from the protected side (local address and port,
 * remote address and port), so both directions of a flow find the same entry without sorting.
 * The entry remembers who initiated the flow, its verdict and the policy generation that judged
 * it: after a policy swap the first packet of each flow re-judges it under the new policy, so a
 * flow survives a swap only if the new policy still allows it.
 *
 * The table is an LRU: when it is full the least recently used entry is evicted.  An evicted TCP
 * flow is picked up again from its next packet (mid-stream pickup), so eviction never turns the
 * replies of a live allowed connection into violations.
 */
#ifndef AMLG_CONNTRACK_H
#define AMLG_CONNTRACK_H

#include "parse.h"
#include "classify.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

static __always_inline void ct_key_from(struct amlg_ct_key *k, __u8 family, __u8 proto, __u8 dir,
					const __u8 *saddr, const __u8 *daddr, __u16 sport,
					__u16 dport)
{
	k->family = family;
	k->proto = proto;
	if (dir == AMLG_DIR_OUT) {
		__builtin_memcpy(k->laddr, saddr, 16);
		__builtin_memcpy(k->raddr, daddr, 16);
		k->lport = sport;
		k->rport = dport;
	} else {
		__builtin_memcpy(k->laddr, daddr, 16);
		__builtin_memcpy(k->raddr, saddr, 16);
		k->lport = dport;
		k->rport = sport;
	}
}

/* The flow a ct key describes, as its initiator (dir) sent it. */
static __always_inline void flow_from_ct(struct amlg_flow *f, const struct amlg_ct_key *k, __u8 dir)
{
	f->dir = dir;
	f->family = k->family;
	f->proto = k->proto;
	f->dport = dir == AMLG_DIR_OUT ? k->rport : k->lport;
	__builtin_memcpy(f->raddr, k->raddr, 16);
	__builtin_memcpy(f->laddr, k->laddr, 16);
}

/* How long a flow of proto lives without a packet (TCP: while it is not closing). */
static __always_inline __u64 ct_timeout_proto(const struct amlg_cfg *cfg, __u8 proto)
{
	if (proto == IPPROTO_TCP)
		return cfg->ct_timeout_ns[0];
	if (proto == IPPROTO_UDP)
		return cfg->ct_timeout_ns[1];
	return cfg->ct_timeout_ns[2];
}

static __always_inline __u64 ct_timeout(const struct amlg_cfg *cfg, const struct amlg_ct_key *k,
					const struct amlg_ct_val *v)
{
	if (k->proto == IPPROTO_TCP && v->closing)
		return cfg->ct_closing_ns;
	return ct_timeout_proto(cfg, k->proto);
}

/*
 * Time on several CPUs.  A program run samples the clock once, when it starts; meanwhile another
 * CPU may stamp the same entry with a later time, so a stamp can lie a few microseconds ahead of
 * "now".  Such an entry is as live as an entry can be: an age is computed signed, and a stamp
 * from the future has age 0.  (Unsigned, now - stamp wrapped to nearly 2^64, a live entry looked
 * expired, the reply that found it so was judged a new flow and its entry overwrote the allowed
 * one: with the two ends of a busy flow on two CPUs, thousands of packets a second.)
 */
static __always_inline __u64 ct_age(__u64 now, __u64 stamp)
{
	return (__s64)(now - stamp) > 0 ? now - stamp : 0;
}

/* Whether v, the entry of k, still tracks the flow a packet with tcp_flags belongs to. */
static __always_inline int ct_live(const struct amlg_cfg *cfg, const struct amlg_ct_key *k,
				   const struct amlg_ct_val *v, __u8 tcp_flags, __u64 now)
{
	if (ct_age(now, v->last_seen) > ct_timeout(cfg, k, v))
		return 0;
	/* A TCP SYN reopens a closing entry as a new flow. */
	return !(k->proto == IPPROTO_TCP && v->closing &&
		 (tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN);
}

/* A live entry for k, or NULL. */
static __always_inline struct amlg_ct_val *
ct_lookup(const struct amlg_cfg *cfg, const struct amlg_ct_key *k, __u8 tcp_flags, __u64 now)
{
	struct amlg_ct_val *v = bpf_map_lookup_elem(&amlg_ct, k);

	return v && ct_live(cfg, k, v, tcp_flags, now) ? v : NULL;
}

static __always_inline void ct_val_from(struct amlg_ct_val *v, const struct amlg_verdict *vd,
					__u8 dir, __u8 match, __u64 gen, __u64 now, __u8 tcp_flags,
					__u8 flags)
{
	v->last_seen = now;
	v->generation = gen;
	v->rule = vd->rule;
	v->dir = dir;
	v->verdict = vd->verdict;
	v->reason = vd->reason;
	v->match = match;
	v->flags = flags | (match == AMLG_MATCH_PICKUP ? AMLG_CTF_PICKUP : 0);
	v->closing = (tcp_flags & (TCP_FIN | TCP_RST)) != 0;
}

#ifndef EEXIST
#define EEXIST 17
#endif

/*
 * Store v, the entry of a flow a packet found no live entry for.  Two packets of one flow, on two
 * CPUs, can both miss: each looked before the other stored.  The first to store wins (the insert
 * is BPF_NOEXIST, never an overwrite); the other finds the winner's entry and follows it like any
 * packet of a tracked flow -- so the reply of an allowed flow can never replace its entry with a
 * "new inbound flow" violation.  An entry that is there but expired (or a closing TCP flow a SYN
 * reopens) is replaced on purpose, by one CPU only: the one whose compare-and-swap of its stamp
 * succeeds.  A CPU that loses the swap follows the entry as it finds it (live now); in the few
 * instructions between the winner's swap and its update that is still the expired entry's
 * verdict -- for a flow whose two ends both opened it anew, at the same instant, after it lay
 * idle past its timeout.
 *
 * Returns the entry the packet follows (NULL when the table refused it: the packet keeps its own
 * verdict); *mine tells whether that is v, stored now, or an entry another CPU made.
 */
static __always_inline struct amlg_ct_val *
ct_create(const struct amlg_cfg *cfg, struct amlg_stats *st, const struct amlg_ct_key *k,
	  const struct amlg_ct_val *v, __u8 tcp_flags, __u64 now, int *mine)
{
	struct amlg_ct_val *cur;
	long err;

	*mine = 0;
	err = bpf_map_update_elem(&amlg_ct, k, v, BPF_NOEXIST);
	if (err == -EEXIST) {
		cur = bpf_map_lookup_elem(&amlg_ct, k);
		if (!cur) {
			/* deleted or evicted since: insert once more */
			err = bpf_map_update_elem(&amlg_ct, k, v, BPF_NOEXIST);
		} else {
			__u64 seen = *(volatile __u64 *)&cur->last_seen;

			if (ct_live(cfg, k, cur, tcp_flags, now))
				return cur;
			if (__sync_val_compare_and_swap(&cur->last_seen, seen, now) != seen)
				return bpf_map_lookup_elem(&amlg_ct, k);
			err = bpf_map_update_elem(&amlg_ct, k, v, BPF_EXIST);
		}
	}
	if (err) {
		st->ct_create_failed++;
		return NULL;
	}
	st->ct_created++;
	*mine = 1;
	return bpf_map_lookup_elem(&amlg_ct, k);
}

/*
 * A packet of a tracked flow.  Plain stores, each to a field of its own (the stamp, the closing
 * byte): two CPUs touching one entry at once lose nothing that matters -- a stamp only moves
 * forward (an older one is not written over a newer one already there), and both write the same
 * closing byte.
 */
static __always_inline void ct_touch(struct amlg_ct_val *v, __u64 now, __u8 proto, __u8 tcp_flags)
{
	if ((__s64)(now - v->last_seen) > 0)
		v->last_seen = now;
	if (proto == IPPROTO_TCP && (tcp_flags & (TCP_FIN | TCP_RST)) && !v->closing)
		v->closing = 1;
}

/* The datagram a fragment belongs to (struct amlg_frag_key): the same for all its fragments. */
static __always_inline void frag_key_from(struct amlg_frag_key *k, const struct amlg_pkt *pkt)
{
	k->family = pkt->family;
	k->proto = pkt->frag_proto;
	k->id = pkt->frag_id;
	__builtin_memcpy(k->saddr, pkt->saddr, 16);
	__builtin_memcpy(k->daddr, pkt->daddr, 16);
}

/*
 * An address pair (either way round: the lower address first) and a protocol that an allowed
 * flow uses; see amlg_pair in maps.h.
 */
static __always_inline void pair_key_from(struct amlg_pair_key *k, const struct amlg_pkt *pkt,
					  __u8 proto)
{
	const __u64 *a = (const __u64 *)pkt->saddr, *b = (const __u64 *)pkt->daddr;
	int swap = a[0] != b[0] ? a[0] > b[0] : a[1] > b[1];

	k->family = pkt->family;
	k->proto = proto;
	__builtin_memcpy(k->lo, swap ? pkt->daddr : pkt->saddr, 16);
	__builtin_memcpy(k->hi, swap ? pkt->saddr : pkt->daddr, 16);
}

#endif
