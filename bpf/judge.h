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

/* The flow being classified lives here rather than on amlg_judge()'s stack: the call chains
 * under it (classify(), its bitmap scans) need the room. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct amlg_flow);
} amlg_flow_scratch SEC(".maps");

static __always_inline struct amlg_flow *flow_scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&amlg_flow_scratch, &zero);
}

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
	int mine, ret = -1;

	cfg = bpf_map_lookup_elem(&amlg_cfg, &zero);
	if (!k || !vd || !m || !r || !cfg || !st)
		goto out;
	ct_val_from(&v, vd, packed & 0xff, (packed >> 8) & 0xff, r->generation, m->now,
		    packed >> 24, (packed >> 16) & 0xff);
	if (ct_create(cfg, st, k, &v, packed >> 24, m->now, &mine))
		ret = mine;
out:
	return ret;
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

	if (ct->verdict == AMLG_VERDICT_VIOLATION && vd->verdict == AMLG_VERDICT_ALLOW &&
	    vd->via_host && pc->sni_mode != AMLG_SNI_OFF &&
	    (why == AMLG_REASON_SNI_MISMATCH || why == AMLG_REASON_SNI_SPLIT ||
	     (why == AMLG_REASON_NO_SNI && pc->sni_mode != AMLG_SNI_ALLOW_MISSING))) {
		vd->verdict = AMLG_VERDICT_VIOLATION;
		vd->reason = why;
	}
}

/*
 * What every step of amlg_judge() reads: the configuration, the policy in force (pc, in slot),
 * the counters, the packet's time and its resolved direction.
 */
struct judge_env {
	struct amlg_cfg *cfg;
	struct amlg_pcfg *pc;
	struct amlg_stats *st;
	__u64 now;
	__u32 slot;
	__u8 dir;
};

/*
 * The policy in force, or NULL before the loader installed the first one: then the packet
 * passes, counted under "no policy", never silently.
 */
static __always_inline struct amlg_pcfg *judge_policy(__u32 slot, struct amlg_stats *st, __u8 dir,
						      struct amlg_result *r)
{
	struct amlg_pcfg *pc = bpf_map_lookup_elem(&amlg_pcfg, &slot);

	if (pc && pc->generation) {
		r->generation = pc->generation;
	} else {
		st->reasons[dir & 1][AMLG_REASON_NO_POLICY]++;
		r->reason = AMLG_REASON_NO_POLICY;
		r->verdict = AMLG_VERDICT_VIOLATION;
		pc = NULL;
	}
	return pc;
}

/*
 * The packet's direction, into *dir when the entry point left it to the datapath (offline).  A
 * non-first fragment first follows its datagram's entry (frag.h), which also tells an offline
 * packet's direction: judged from its addresses and conntrack, a fragment without ports would
 * take the reply of a flow between two local addresses for a new flow.  0 for an offline packet
 * neither of whose addresses is local: not judged.
 */
static __always_inline int judge_dir(struct amlg_pkt *pkt, const struct amlg_meta *m, __u8 *dir,
				     struct amlg_verdict *vd, __u8 *match)
{
	int known = 1, d;

	if (m->parse == PARSE_OK && pkt->frag == FRAG_LATER)
		*match = (__u8)follow_fragment(pkt, vd);
	if (m->dir == AMLG_DIR_AUTO) {
		d = pkt->frag_dir ? pkt->frag_dir - 1 : local_dir(pkt, m->now);
		known = d != AMLG_DIR_AUTO;
		*dir = d == AMLG_DIR_IN;
	}
	return known;
}

/*
 * What the parser could not hand on: a link-layer frame (ARP, neighbour discovery, MLD) passes;
 * a packet that is not IP, or is malformed (vd's initial reason), is a violation.  1 when that
 * decides the packet.
 */
static __always_inline int judge_parsed(int pr, struct amlg_verdict *vd, __u8 *match)
{
	int decided = pr != PARSE_OK;

	if (pr == PARSE_LINK) {
		vd->verdict = AMLG_VERDICT_ALLOW;
		vd->reason = AMLG_REASON_NONE;
		*match = AMLG_MATCH_LINK;
	} else if (pr == PARSE_NON_IP) {
		vd->reason = AMLG_REASON_NON_IP;
	}
	return decided;
}

/*
 * A non-first fragment is judged by its datagram: its first fragment's verdict (judge_dir()) or,
 * when that was not seen, an allowed flow of its address pair (tie_fragment()).  1 for a
 * non-first fragment.
 */
static __always_inline int judge_later_frag(const struct judge_env *e, const struct amlg_pkt *pkt,
					    struct amlg_verdict *vd, __u8 *match)
{
	int later = pkt->frag == FRAG_LATER;

	if (later && !pkt->frag_dir)
		*match = (__u8)tie_fragment(pkt, vd, e->pc->generation, e->now);
	return later;
}

/*
 * An ICMP error about a flow we track travels the opposite way of the packet it quotes: it is
 * allowed when that flow is, under the current policy.  1 when it is; else key is left zeroed
 * for the packet's own flow.
 */
static __always_inline int judge_related(const struct judge_env *e, const struct amlg_pkt *pkt,
					 struct amlg_ct_key *key, struct amlg_verdict *vd,
					 __u8 *match)
{
	struct amlg_ct_val *q;
	int related = 0;

	if (pkt->quoted) {
		ct_key_from(key, pkt->family, pkt->q_proto, !e->dir, pkt->q_saddr, pkt->q_daddr,
			    pkt->q_sport, pkt->q_dport);
		q = ct_lookup(e->cfg, key, 0, e->now);
		if (q && q->verdict == AMLG_VERDICT_ALLOW && q->generation == e->pc->generation) {
			vd->verdict = AMLG_VERDICT_ALLOW;
			vd->reason = AMLG_REASON_NONE;
			vd->rule = q->rule;
			*match = AMLG_MATCH_RELATED;
			related = 1;
		} else {
			__builtin_memset(key, 0, sizeof(*key));
		}
	}
	return related;
}

/* classify() f under the environment's policy, with what its remote address was learned for. */
static __always_inline void judge_classify(const struct judge_env *e, const struct amlg_flow *f,
					   struct amlg_verdict *vd)
{
	const struct amlg_bitmap *hb = NULL;
	__u32 zero = 0;

	if ((e->pc->flags & AMLG_PF_HOSTS) && host_bitmap(e->slot, f))
		hb = bpf_map_lookup_elem(&amlg_hostbm, &zero);
	classify(e->slot, e->pc, f, hb, vd);
}

/*
 * A flow without an entry: classified the way the packet goes, entered into conntrack (ct_new())
 * and, when this run's entry allows it, its address pair noted for fragments.  A TCP packet that
 * opens no connection may be the reply side of a flow the other end opened before we saw it
 * (attach, LRU eviction, a capture's start): then it is classified the other way round too.  TCP
 * only: the receiver's stack resets a bogus one, UDP has no such guard.  Returns the entry (NULL
 * when the table refused it); *fresh is 1 when this run made it, 0 when another CPU's entry is
 * there to follow.
 */
static __always_inline struct amlg_ct_val *
judge_new(const struct judge_env *e, const struct amlg_pkt *pkt, const struct amlg_ct_key *key,
	  const struct amlg_meta *m, const struct amlg_result *r, struct amlg_verdict *vd,
	  __u8 *match, int *fresh)
{
	struct amlg_ct_val *ct = NULL;
	struct amlg_flow *f = flow_scratch(); /* a per-CPU array: never NULL */
	__u8 dir = e->dir, initiator = dir;
	__u32 cflags = 0;
	int mine;

	if (!f)
		return NULL;
	flow_from_pkt(f, pkt, dir, dir, pkt->dport);
	f->now = e->now;
	judge_classify(e, f, vd);
	if (vd->verdict == AMLG_VERDICT_ALLOW) {
		*match = AMLG_MATCH_RULE;
	} else if (pkt->proto == IPPROTO_TCP && (pkt->tcp_flags & (TCP_SYN | TCP_ACK)) != TCP_SYN) {
		struct amlg_verdict rv;

		flow_from_pkt(f, pkt, dir, !dir, pkt->sport);
		f->now = e->now;
		judge_classify(e, f, &rv);
		if (rv.verdict == AMLG_VERDICT_ALLOW) {
			*vd = rv;
			*match = AMLG_MATCH_PICKUP;
			initiator = !dir;
		}
	}
	if (vd->verdict == AMLG_VERDICT_ALLOW && vd->via_host) {
		cflags = AMLG_CTF_VIA_HOST;
		if (pkt->proto == IPPROTO_TCP && e->pc->sni_mode != AMLG_SNI_OFF)
			cflags |= AMLG_CTF_SNI_PENDING;
	}
	mine = ct_new(key, vd, m, r,
		      initiator | *match << 8 | cflags << 16 | (__u32)pkt->tcp_flags << 24);
	if (mine >= 0)
		ct = bpf_map_lookup_elem(&amlg_ct, key);
	if (ct && mine > 0 && vd->verdict == AMLG_VERDICT_ALLOW)
		pair_note(pkt, pkt->proto, vd->rule, e->pc->generation, e->now);
	*fresh = mine > 0;
	return ct;
}

/*
 * A flow with an entry is judged by it.  A flow judged under an older policy is re-judged first:
 * two CPUs doing it at once classify the same flow under the same policy and store the same
 * bytes; the generation is written last.  An allowed flow keeps its address pair noted for
 * fragments, renewed by the first packet in each period of 2^PAIR_REFRESH_SHIFT ns (about a
 * second), not by every packet.
 */
static __always_inline void judge_tracked(const struct judge_env *e, const struct amlg_pkt *pkt,
					  const struct amlg_ct_key *key, struct amlg_ct_val *ct,
					  struct amlg_verdict *vd, __u8 *match)
{
	struct amlg_flow *f;

	/* re-judged under a newer policy; the scratch is looked up only then (never NULL) */
	if (ct->generation != e->pc->generation && (f = flow_scratch())) {
		flow_from_ct(f, key, ct->dir);
		f->now = e->now;
		judge_classify(e, f, vd);
		sni_keep(ct, e->pc, vd);
		ct->verdict = vd->verdict;
		ct->reason = vd->reason;
		ct->rule = vd->rule;
		ct->match = vd->verdict == AMLG_VERDICT_ALLOW ? AMLG_MATCH_RULE : 0;
		ct->generation = e->pc->generation;
		e->st->ct_revalidated++;
	}
	vd->verdict = ct->verdict;
	vd->reason = ct->reason;
	vd->rule = ct->rule;
	*match = vd->verdict == AMLG_VERDICT_ALLOW ? AMLG_MATCH_CT : AMLG_MATCH_NONE;
	if (*match == AMLG_MATCH_CT &&
	    (e->now >> PAIR_REFRESH_SHIFT) != (ct->last_seen >> PAIR_REFRESH_SHIFT))
		pair_note(pkt, pkt->proto, vd->rule, e->pc->generation, e->now);
	ct_touch(ct, e->now, pkt->proto, pkt->tcp_flags);
}

/*
 * A first fragment leaves its verdict for the fragments that follow (remember_fragment()) and,
 * allowed, notes its address pair under the Fragment header's protocol, for the fragments that
 * come before it (tie_fragment()).
 */
static __always_inline void judge_first_frag(const struct judge_env *e, const struct amlg_pkt *pkt,
					     const struct amlg_verdict *vd)
{
	if (pkt->frag == FRAG_FIRST) {
		remember_fragment(pkt, vd, e->dir, e->now);
		if (vd->verdict == AMLG_VERDICT_ALLOW)
			pair_note(pkt, pkt->frag_proto, vd->rule, e->pc->generation, e->now);
	}
}

/*
 * The verdict: into r; a violation reported as an event unless its flow was reported within the
 * report interval; counted.  Returns TC_ACT_OK or TC_ACT_SHOT.
 */
static __always_inline int judge_verdict(const struct judge_env *e, struct __sk_buff *skb,
					 struct amlg_batch_pkt *bp, const struct amlg_pkt *pkt,
					 const struct amlg_meta *m, struct amlg_result *r,
					 struct amlg_ct_val *ct, const struct amlg_verdict *vd,
					 __u8 match)
{
	struct event_info ei;

	r->verdict = vd->verdict;
	r->reason = vd->reason;
	r->rule = vd->rule;
	r->match = match;
	r->dropped = vd->verdict == AMLG_VERDICT_VIOLATION && e->pc->mode == AMLG_MODE_ENFORCE;
	if (vd->verdict == AMLG_VERDICT_VIOLATION) {
		/*
		 * Signed: another CPU may have reported the flow after this run read the clock.
		 * Two CPUs reporting one flow at once send two events; nothing is lost.
		 */
		if (ct && ct->reported &&
		    (__s64)(e->now - ct->reported) < (__s64)e->cfg->report_interval_ns) {
			e->st->events_suppressed++;
		} else {
			ei.now = e->now;
			ei.generation = e->pc->generation;
			ei.ifindex = m->ifindex;
			ei.slot = e->slot;
			ei.dir = e->dir;
			ei.reason = vd->reason;
			ei.dropped = r->dropped;
			ei.rule = vd->rule;
			ei.learned_name =
				e->pc->flags & AMLG_PF_HOSTS ? learned_name_of(pkt, e->dir) : 0;
			r->event = event_emit(skb, bp, m->len, e->st, e->cfg, pkt, &ei);
			if (r->event && ct)
				ct->reported = e->now;
		}
	}
	stats_count(e->st, e->slot, e->dir, vd->verdict, vd->reason, match, vd->rule, m->len,
		    r->dropped);
	return r->dropped ? TC_ACT_SHOT : TC_ACT_OK;
}

/*
 * Judge one parsed packet.  skb is the context (its bytes feed the event's snapshot unless bp,
 * an offline batch buffer, is given).  Returns TC_ACT_OK or TC_ACT_SHOT.
 *
 * The steps, each deciding or handing on: the policy in force; the direction; what the parser
 * could not hand on; a non-first fragment; an ICMP error about a tracked flow; a new flow
 * (classified and entered) or a tracked one (its entry's verdict); a first fragment's note; then
 * the verdict, its event and its counters, in one place.
 */
__noinline int amlg_judge(struct __sk_buff *skb, struct amlg_batch_pkt *bp, struct amlg_pkt *pkt,
			  struct amlg_meta *m, struct amlg_result *r)
{
	struct amlg_verdict vd = { .rule = AMLG_RULE_NONE,
				   .verdict = AMLG_VERDICT_VIOLATION,
				   .reason = AMLG_REASON_MALFORMED };
	struct amlg_ct_key key = {};
	struct amlg_ct_val *ct = NULL;
	struct judge_env e = {};
	__u8 match = AMLG_MATCH_NONE;
	int act = TC_ACT_OK, fresh = 0;
	__u32 zero = 0;

	if (!pkt || !m || !r)
		goto done;
	e.dir = m->dir == AMLG_DIR_IN;
	e.now = m->now;
	e.cfg = bpf_map_lookup_elem(&amlg_cfg, &zero);
	e.st = stats_get();
	if (!e.cfg || !e.st)
		goto done;
	e.slot = e.cfg->active & 1;
	e.pc = judge_policy(e.slot, e.st, e.dir, r);
	if (!e.pc)
		goto done;
	if (!judge_dir(pkt, m, &e.dir, &vd, &match)) {
		r->foreign = 1;
		goto done;
	}
	r->dir = e.dir;

	if (judge_parsed(m->parse, &vd, &match) || judge_later_frag(&e, pkt, &vd, &match) ||
	    judge_related(&e, pkt, &key, &vd, &match))
		goto out;

	ct_key_from(&key, pkt->family, pkt->proto, e.dir, pkt->saddr, pkt->daddr, pkt->sport,
		    pkt->dport);
	ct = ct_lookup(e.cfg, &key, pkt->tcp_flags, e.now);
	if (!ct)
		ct = judge_new(&e, pkt, &key, m, r, &vd, &match, &fresh);
	/* An entry this run did not make: found, or made by another CPU since we looked. */
	if (ct && !fresh)
		judge_tracked(&e, pkt, &key, ct, &vd, &match);
	judge_first_frag(&e, pkt, &vd);
out:
	act = judge_verdict(&e, skb, bp, pkt, m, r, ct, &vd, match);
done: /* not judged: no policy yet (counted by judge_policy()), or a foreign offline packet */
	return act;
}

#endif
