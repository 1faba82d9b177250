/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Judging one parsed packet: its policy, fragments, direction, conntrack, classification, the
 * verdict, the event and the counters.  amlg_judge() is the one classifier every entry point runs.
 */
#ifndef AMLG_JUDGE_H
#define AMLG_JUDGE_H

#include "classify.h"
#include "conntrack.h"
#include "direction.h"
#include "dns.h"
#include "events.h"
#include "frag.h"
#include "stats.h"

/* What an entry point knows about a packet besides its bytes. */
struct amlg_meta {
	__u64 now;
	__u32 len; /* wire length */
	__u32 ifindex;
	__u8 dir; /* AMLG_DIR_OUT, AMLG_DIR_IN, or AMLG_DIR_AUTO (batches) */
	__u8 parse; /* PARSE_* */
	__u8 pad[6];
};

struct amlg_result {
	__u64 generation;
	__u16 rule;
	__u8 verdict;
	__u8 reason;
	__u8 match;
	__u8 dropped;
	__u8 event;
	__u8 dir; /* resolved direction */
	__u8 foreign; /* AMLG_DIR_AUTO and neither address is local */
};

/*
 * The flow a packet belongs to, as initiated in direction fdir: the packet's own direction
 * (pdir) says which address is remote, fdir whose destination port is the server port.
 */
static __always_inline void flow_from_pkt(struct amlg_flow *f, const struct amlg_pkt *pkt,
					  __u8 pdir, __u8 fdir, __u16 dport)
{
	f->dir = fdir;
	f->family = pkt->family;
	f->proto = pkt->proto;
	f->dport = dport;
	if (pdir == AMLG_DIR_OUT) {
		__builtin_memcpy(f->raddr, pkt->daddr, 16);
		__builtin_memcpy(f->laddr, pkt->saddr, 16);
	} else {
		__builtin_memcpy(f->raddr, pkt->saddr, 16);
		__builtin_memcpy(f->laddr, pkt->daddr, 16);
	}
}

/*
 * The entry of a new flow (ct_create()): k, judged vd, for the packet m and r describe; packed
 * holds the initiator's direction, the match kind, the AMLG_CTF_* flags and the TCP flags, a
 * byte each.  1: stored; 0: another CPU's entry is there, follow it; -1: the table refused it.
 * Global, so that the new entry is built on a stack of its own.
 */
__noinline int ct_new(const struct amlg_ct_key *k, const struct amlg_verdict *vd,
		      const struct amlg_meta *m, const struct amlg_result *r, __u32 packed)
{
	struct amlg_stats *st = stats_get();
	struct amlg_ct_val v = {};
	struct amlg_cfg *cfg;
	__u32 zero = 0;
	int mine;

	cfg = bpf_map_lookup_elem(&amlg_cfg, &zero);
	if (!k || !vd || !m || !r || !cfg || !st)
		return -1;
	ct_val_from(&v, vd, packed & 0xff, (packed >> 8) & 0xff, r->generation, m->now,
		    packed >> 24, (packed >> 16) & 0xff);
	if (!ct_create(cfg, st, k, &v, packed >> 24, m->now, &mine))
		return -1;
	return mine;
}

/*
 * Re-judging a flow under a new policy classifies its addresses and ports again; its ClientHello
 * is long past.  A flow that failed the server-name check keeps that verdict while what allows
 * it is still only a host rule whose names the new policy checks: a reload never turns a
 * mismatched name into an allowed flow.
 */
static __always_inline void sni_keep(const struct amlg_ct_val *ct, const struct amlg_pcfg *pc,
				     struct amlg_verdict *vd)
{
	__u8 why = ct->reason;

	if (ct->verdict != AMLG_VERDICT_VIOLATION || vd->verdict != AMLG_VERDICT_ALLOW ||
	    !vd->via_host || pc->sni_mode == AMLG_SNI_OFF)
		return;
	if (why == AMLG_REASON_SNI_MISMATCH || why == AMLG_REASON_SNI_SPLIT ||
	    (why == AMLG_REASON_NO_SNI && pc->sni_mode != AMLG_SNI_ALLOW_MISSING)) {
		vd->verdict = AMLG_VERDICT_VIOLATION;
		vd->reason = why;
	}
}

/*
 * Judge one parsed packet.  skb is the context (its bytes feed the event's snapshot unless bp,
 * an offline batch buffer, is given).  Returns TC_ACT_OK or TC_ACT_SHOT.
 */
__noinline int amlg_judge(struct __sk_buff *skb, struct amlg_batch_pkt *bp, struct amlg_pkt *pkt,
			  struct amlg_meta *m, struct amlg_result *r)
{
	struct amlg_verdict vd = { .rule = AMLG_RULE_NONE,
				   .verdict = AMLG_VERDICT_VIOLATION,
				   .reason = AMLG_REASON_MALFORMED };
	struct amlg_ct_key key = {};
	struct amlg_ct_val *ct = NULL;
	struct amlg_stats *st;
	struct amlg_pcfg *pc;
	struct amlg_cfg *cfg;
	struct event_info ei;
	__u8 dir, match = AMLG_MATCH_NONE, initiator;
	__u32 zero = 0, slot;
	__u64 now;
	int pr;

	if (!pkt || !m || !r)
		return TC_ACT_OK;
	dir = m->dir == AMLG_DIR_IN;
	initiator = dir;
	now = m->now;
	pr = m->parse;

	cfg = bpf_map_lookup_elem(&amlg_cfg, &zero);
	st = stats_get();
	if (!cfg || !st)
		return TC_ACT_OK;
	slot = cfg->active & 1;
	pc = bpf_map_lookup_elem(&amlg_pcfg, &slot);
	if (!pc || !pc->generation) {
		/* Only before the loader installed the first policy; counted, never silent. */
		st->reasons[dir & 1][AMLG_REASON_NO_POLICY]++;
		r->reason = AMLG_REASON_NO_POLICY;
		r->verdict = AMLG_VERDICT_VIOLATION;
		return TC_ACT_OK;
	}
	r->generation = pc->generation;

	/*
	 * A non-first fragment first follows its datagram's entry, which also tells an offline
	 * packet's direction: judged from its addresses and conntrack, a fragment without ports
	 * would take the reply of a flow between two local addresses for a new flow.
	 */
	if (pr == PARSE_OK && pkt->frag == FRAG_LATER)
		match = (__u8)follow_fragment(pkt, &vd);
	if (m->dir == AMLG_DIR_AUTO) {
		int d = pkt->frag_dir ? pkt->frag_dir - 1 : local_dir(pkt, now);

		if (d == AMLG_DIR_AUTO) {
			r->foreign = 1;
			return TC_ACT_OK;
		}
		dir = initiator = d == AMLG_DIR_IN;
	}
	r->dir = dir;
	if (pr == PARSE_LINK) {
		vd.verdict = AMLG_VERDICT_ALLOW;
		vd.reason = AMLG_REASON_NONE;
		match = AMLG_MATCH_LINK;
		goto out;
	}
	if (pr == PARSE_NON_IP) {
		vd.reason = AMLG_REASON_NON_IP;
		goto out;
	}
	if (pr != PARSE_OK)
		goto out;

	if (pkt->frag == FRAG_LATER) {
		if (!pkt->frag_dir)
			match = (__u8)tie_fragment(pkt, &vd, pc->generation, now);
		goto out;
	}

	/* An ICMP error about a flow we track travels the opposite way of the packet it quotes. */
	if (pkt->quoted) {
		struct amlg_ct_val *q;

		ct_key_from(&key, pkt->family, pkt->q_proto, !dir, pkt->q_saddr, pkt->q_daddr,
			    pkt->q_sport, pkt->q_dport);
		q = ct_lookup(cfg, &key, 0, now);
		if (q && q->verdict == AMLG_VERDICT_ALLOW && q->generation == pc->generation) {
			vd.verdict = AMLG_VERDICT_ALLOW;
			vd.reason = AMLG_REASON_NONE;
			vd.rule = q->rule;
			match = AMLG_MATCH_RELATED;
			goto out;
		}
		__builtin_memset(&key, 0, sizeof(key));
	}

	ct_key_from(&key, pkt->family, pkt->proto, dir, pkt->saddr, pkt->daddr, pkt->sport,
		    pkt->dport);
	ct = ct_lookup(cfg, &key, pkt->tcp_flags, now);
	if (!ct) {
		struct amlg_flow f = {};
		__u32 cflags = 0;
		int mine;

		flow_from_pkt(&f, pkt, dir, dir, pkt->dport);
		f.now = now;
		classify(slot, pc, &f, &vd);
		if (vd.verdict == AMLG_VERDICT_ALLOW) {
			match = AMLG_MATCH_RULE;
		} else if (pkt->proto == IPPROTO_TCP &&
			   (pkt->tcp_flags & (TCP_SYN | TCP_ACK)) != TCP_SYN) {
			/*
			 * Not a connection opener: maybe the reply side of a flow the other end
			 * opened before we saw it (attach, LRU eviction, a capture's start).  TCP
			 * only: the receiver's stack resets a bogus one, UDP has no such guard.
			 */
			struct amlg_verdict rv;

			flow_from_pkt(&f, pkt, dir, !dir, pkt->sport);
			f.now = now;
			classify(slot, pc, &f, &rv);
			if (rv.verdict == AMLG_VERDICT_ALLOW) {
				vd = rv;
				match = AMLG_MATCH_PICKUP;
				initiator = !dir;
			}
		}
		if (vd.verdict == AMLG_VERDICT_ALLOW && vd.via_host) {
			cflags = AMLG_CTF_VIA_HOST;
			if (pkt->proto == IPPROTO_TCP && pc->sni_mode != AMLG_SNI_OFF)
				cflags |= AMLG_CTF_SNI_PENDING;
		}
		mine = ct_new(&key, &vd, m, r,
			      initiator | match << 8 | cflags << 16 | (__u32)pkt->tcp_flags << 24);
		ct = mine < 0 ? NULL : bpf_map_lookup_elem(&amlg_ct, &key);
		if (ct && mine > 0 && vd.verdict == AMLG_VERDICT_ALLOW)
			pair_note(pkt, pkt->proto, vd.rule, pc->generation, now);
		if (!ct || mine > 0)
			goto first_frag;
		/* Another CPU made the flow's entry since we looked: follow it. */
	}
	/*
	 * A flow judged under an older policy: re-judged.  Two CPUs doing it at once classify the
	 * same flow under the same policy and store the same bytes; the generation is written last.
	 */
	if (ct->generation != pc->generation) {
		struct amlg_flow f = {};

		flow_from_ct(&f, &key, ct->dir);
		f.now = now;
		classify(slot, pc, &f, &vd);
		sni_keep(ct, pc, &vd);
		ct->verdict = vd.verdict;
		ct->reason = vd.reason;
		ct->rule = vd.rule;
		ct->match = vd.verdict == AMLG_VERDICT_ALLOW ? AMLG_MATCH_RULE : 0;
		ct->generation = pc->generation;
		st->ct_revalidated++;
	}
	vd.verdict = ct->verdict;
	vd.reason = ct->reason;
	vd.rule = ct->rule;
	match = vd.verdict == AMLG_VERDICT_ALLOW ? AMLG_MATCH_CT : AMLG_MATCH_NONE;
	/*
	 * An allowed flow keeps its address pair noted for fragments: renewed by the first packet
	 * in each period of 2^PAIR_REFRESH_SHIFT ns (about a second), not by every packet.
	 */
	if (match == AMLG_MATCH_CT &&
	    (now >> PAIR_REFRESH_SHIFT) != (ct->last_seen >> PAIR_REFRESH_SHIFT))
		pair_note(pkt, pkt->proto, vd.rule, pc->generation, now);
	ct_touch(ct, now, pkt->proto, pkt->tcp_flags);
first_frag:
	if (pkt->frag == FRAG_FIRST) {
		remember_fragment(pkt, &vd, dir, now);
		/* under the Fragment header's protocol, for early fragments (tie_fragment()) */
		if (vd.verdict == AMLG_VERDICT_ALLOW)
			pair_note(pkt, pkt->frag_proto, vd.rule, pc->generation, now);
	}

out:
	r->verdict = vd.verdict;
	r->reason = vd.reason;
	r->rule = vd.rule;
	r->match = match;
	r->dropped = vd.verdict == AMLG_VERDICT_VIOLATION && pc->mode == AMLG_MODE_ENFORCE;
	if (vd.verdict == AMLG_VERDICT_VIOLATION) {
		/*
		 * Signed: another CPU may have reported the flow after this run read the clock.
		 * Two CPUs reporting one flow at once send two events; nothing is lost.
		 */
		if (ct && ct->reported &&
		    (__s64)(now - ct->reported) < (__s64)cfg->report_interval_ns) {
			st->events_suppressed++;
		} else {
			ei.now = now;
			ei.generation = pc->generation;
			ei.ifindex = m->ifindex;
			ei.slot = slot;
			ei.dir = dir;
			ei.reason = vd.reason;
			ei.dropped = r->dropped;
			ei.rule = vd.rule;
			ei.learned_name = pc->flags & AMLG_PF_HOSTS ? learned_name_of(pkt, dir) : 0;
			r->event = event_emit(skb, bp, m->len, st, cfg, pkt, &ei);
			if (r->event && ct)
				ct->reported = now;
		}
	}
	stats_count(st, slot, dir, vd.verdict, vd.reason, match, vd.rule, m->len, r->dropped);
	return r->dropped ? TC_ACT_SHOT : TC_ACT_OK;
}

#endif
