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

static __always_inline __u64 ct_timeout(const struct amlg_cfg *cfg, const struct amlg_ct_key *k,
					const struct amlg_ct_val *v)
{
	if (k->proto == IPPROTO_TCP)
		return v->flags & AMLG_CTF_CLOSING ? cfg->ct_closing_ns : cfg->ct_timeout_ns[0];
	if (k->proto == IPPROTO_UDP)
		return cfg->ct_timeout_ns[1];
	return cfg->ct_timeout_ns[2];
}

/* A live entry for k, or NULL.  A TCP SYN reopens a closing entry as a new flow. */
static __always_inline struct amlg_ct_val *
ct_lookup(const struct amlg_cfg *cfg, const struct amlg_ct_key *k, __u8 tcp_flags, __u64 now)
{
	struct amlg_ct_val *v = bpf_map_lookup_elem(&amlg_ct, k);

	if (!v)
		return NULL;
	if (now - v->last_seen > ct_timeout(cfg, k, v))
		return NULL;
	if (k->proto == IPPROTO_TCP && (v->flags & AMLG_CTF_CLOSING) &&
	    (tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN)
		return NULL;
	return v;
}

static __always_inline void ct_store(struct amlg_stats *st, const struct amlg_ct_key *k,
				     const struct amlg_verdict *vd, __u8 dir, __u8 match, __u64 gen,
				     __u64 now, __u8 tcp_flags, __u8 flags)
{
	struct amlg_ct_val v = {
		.last_seen = now,
		.generation = gen,
		.rule = vd->rule,
		.dir = dir,
		.verdict = vd->verdict,
		.reason = vd->reason,
		.match = match,
		.flags = flags | (match == AMLG_MATCH_PICKUP ? AMLG_CTF_PICKUP : 0) |
			 (tcp_flags & (TCP_FIN | TCP_RST) ? AMLG_CTF_CLOSING : 0),
	};

	if (bpf_map_update_elem(&amlg_ct, k, &v, BPF_ANY))
		st->ct_create_failed++;
	else
		st->ct_created++;
}

static __always_inline void ct_touch(struct amlg_ct_val *v, __u64 now, __u8 proto, __u8 tcp_flags)
{
	v->last_seen = now;
	if (proto == IPPROTO_TCP && (tcp_flags & (TCP_FIN | TCP_RST)))
		v->flags |= AMLG_CTF_CLOSING;
}

static __always_inline void frag_key_from(struct amlg_frag_key *k, const struct amlg_pkt *pkt)
{
	k->family = pkt->family;
	k->proto = pkt->proto;
	k->id = pkt->frag_id;
	__builtin_memcpy(k->saddr, pkt->saddr, 16);
	__builtin_memcpy(k->daddr, pkt->daddr, 16);
}

#endif
