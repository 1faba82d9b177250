/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Fragments.  Only a datagram's first fragment carries the transport header: it is judged like
 * any packet, and its verdict, ports, transport protocol and direction are remembered under the
 * datagram's identity (struct amlg_frag_key) for the fragments that follow.
 *
 * Fragments are reordered on real paths, and a non-first fragment can arrive before its first.
 * It cannot be judged on its own (no ports), and tc cannot hold it back until the first one
 * comes.  It is allowed when it can be tied to an allowed flow: its address pair (either way
 * round) carries an allowed flow of the same protocol under the current policy, seen within that
 * protocol's conntrack timeout (amlg_pair; for an IPv6 datagram whose Fragment header is followed
 * by another extension header, the pair must have had an allowed first fragment with that header
 * before).  Anything else stays a violation ("fragment"), dropped in enforce mode.
 *
 * The trade-off: between a pair that has an allowed flow of a protocol, the early non-first
 * fragments of a datagram to a forbidden port of that protocol pass; its first fragment is then
 * judged, reported and (enforce) dropped, as are the fragments after it, so the receiver never
 * reassembles the datagram and no forbidden payload is delivered.  The other way round, the first
 * datagram of a flow not seen before, reordered, has its early fragments judged "fragment"
 * (dropped in enforce mode, so that datagram is lost once); its first fragment opens the flow, and
 * from then on -- the sender's retransmission included -- its datagrams pass in any order.
 */
#ifndef AMLG_FRAG_H
#define AMLG_FRAG_H

#include "conntrack.h"
#include "stats.h"

/* An allowed flow's note in amlg_pair is renewed once per 2^30 ns (see judge_tracked()). */
#define PAIR_REFRESH_SHIFT 30

/*
 * A non-first fragment: follow its first fragment's verdict, restoring what only the first
 * fragment has (ports, transport protocol) and noting the direction it was judged in.  Returns
 * AMLG_MATCH_FRAG for an allowed datagram; AMLG_MATCH_NONE with reason "fragment" when its first
 * fragment has not been seen (pkt->frag_dir stays 0).  Global, to keep its key off amlg_judge()'s
 * stack.
 */
__noinline int follow_fragment(struct amlg_pkt *pkt, struct amlg_verdict *vd)
{
	struct amlg_frag_key fk = {};
	struct amlg_frag_val *fv;
	int match = AMLG_MATCH_NONE;

	if (!pkt || !vd)
		goto out;
	frag_key_from(&fk, pkt);
	fv = bpf_map_lookup_elem(&amlg_frag, &fk);
	if (!fv) {
		vd->reason = AMLG_REASON_FRAGMENT;
		goto out;
	}
	vd->verdict = fv->verdict;
	vd->reason = fv->reason;
	vd->rule = fv->rule;
	pkt->sport = fv->sport;
	pkt->dport = fv->dport;
	pkt->proto = fv->proto;
	pkt->frag_dir = (__u8)(1 + (fv->dir & 1));
	if (fv->verdict == AMLG_VERDICT_ALLOW)
		match = AMLG_MATCH_FRAG;
out:
	return match;
}

/*
 * Note that pkt's address pair carries an allowed flow of proto, judged by rule.  A pair already
 * noted (another flow between the same two addresses) is renewed in place, the generation
 * written last, as for connection entries: an update would take a new LRU node and free the
 * old one, the costliest part of a new flow.
 */
__noinline int pair_note(const struct amlg_pkt *pkt, __u8 proto, __u16 rule, __u64 generation,
			 __u64 now)
{
	struct amlg_pair_key pk = {};
	struct amlg_pair_val pv = {};
	struct amlg_pair_val *cur;
	int err = 0;

	if (pkt) {
		pair_key_from(&pk, pkt, proto);
		cur = bpf_map_lookup_elem(&amlg_pair, &pk);
		if (cur) {
			cur->rule = rule;
			cur->last_seen = now;
			cur->generation = generation;
			return 0;
		}
		pv.generation = generation;
		pv.last_seen = now;
		pv.rule = rule;
		err = bpf_map_update_elem(&amlg_pair, &pk, &pv, BPF_ANY);
	}
	return err;
}

/*
 * A non-first fragment whose first fragment has not been seen: allowed when its address pair and
 * protocol carry an allowed flow (see the top of this file), else left a "fragment" violation.
 */
__noinline int tie_fragment(const struct amlg_pkt *pkt, struct amlg_verdict *vd, __u64 generation,
			    __u64 now)
{
	struct amlg_pair_key pk = {};
	struct amlg_pair_val *pv;
	struct amlg_cfg *cfg;
	__u32 zero = 0;
	int match = AMLG_MATCH_NONE;

	cfg = bpf_map_lookup_elem(&amlg_cfg, &zero);
	if (!pkt || !vd || !cfg)
		goto out;
	pair_key_from(&pk, pkt, pkt->frag_proto);
	pv = bpf_map_lookup_elem(&amlg_pair, &pk);
	if (!pv || pv->generation != generation)
		goto out;
	if (ct_age(now, pv->last_seen) > ct_timeout_proto(cfg, pk.proto))
		goto out;
	vd->verdict = AMLG_VERDICT_ALLOW;
	vd->reason = AMLG_REASON_NONE;
	vd->rule = pv->rule;
	match = AMLG_MATCH_FRAG;
out:
	return match;
}

/* A first fragment: its verdict, ports, protocol and direction, for the fragments that follow. */
__noinline int remember_fragment(const struct amlg_pkt *pkt, const struct amlg_verdict *vd,
				 __u8 dir, __u64 now)
{
	struct amlg_frag_key fk = {};
	struct amlg_frag_val fv = {};
	struct amlg_stats *st = stats_get();
	int err = 0;

	if (!pkt || !vd || !st)
		goto out;
	fv.last_seen = now;
	fv.rule = vd->rule;
	fv.verdict = vd->verdict;
	fv.reason = vd->reason;
	fv.sport = pkt->sport;
	fv.dport = pkt->dport;
	fv.proto = pkt->proto;
	fv.dir = dir;
	frag_key_from(&fk, pkt);
	/*
	 * BPF_ANY: a first fragment sent twice (a retransmission) carries the same verdict; the
	 * entry is written whole, never field by field.
	 */
	err = bpf_map_update_elem(&amlg_frag, &fk, &fv, BPF_ANY);
	if (!err)
		st->frag_created++;
out:
	return err;
}

#endif
