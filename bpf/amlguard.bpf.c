// SPDX-License-Identifier: GPL-2.0-only
/*
 * amlguard datapath: every packet, both directions, against the compiled allow-list.
 *
 * The entry points are thin: the tc hooks map the hook to a direction through the role and use
 * the kernel's clock; the offline entry (amlg_test, used by tests, "check" and "explain") takes
 * direction and time from the skb context and writes the verdict back into it.  Everything else
 * is amlg_process(), the same code on every path.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "amlguard_abi.h"
#include "maps.h"
#include "parse.h"
#include "classify.h"
#include "conntrack.h"
#include "events.h"
#include "stats.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 amlg_role = AMLG_ROLE_HOST;

struct amlg_result {
	__u64 generation;
	__u16 rule;
	__u8 verdict;
	__u8 reason;
	__u8 match;
	__u8 dropped;
	__u8 event;
	__u8 pad;
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

/* A packet whose first fragment we judged follows that verdict; an orphan is a violation. */
static __always_inline __u8 follow_fragment(struct amlg_pkt *pkt, struct amlg_verdict *vd)
{
	struct amlg_frag_key fk = {};
	struct amlg_frag_val *fv;

	frag_key_from(&fk, pkt);
	fv = bpf_map_lookup_elem(&amlg_frag, &fk);
	if (!fv) {
		vd->reason = AMLG_REASON_FRAGMENT;
		return AMLG_MATCH_NONE;
	}
	vd->verdict = fv->verdict;
	vd->reason = fv->reason;
	vd->rule = fv->rule;
	pkt->sport = fv->sport;
	pkt->dport = fv->dport;
	return fv->verdict == AMLG_VERDICT_ALLOW ? AMLG_MATCH_FRAG : AMLG_MATCH_NONE;
}

static __always_inline void remember_fragment(const struct amlg_pkt *pkt,
					      const struct amlg_verdict *vd, __u64 now)
{
	struct amlg_frag_key fk = {};
	struct amlg_frag_val fv = {
		.last_seen = now,
		.rule = vd->rule,
		.verdict = vd->verdict,
		.reason = vd->reason,
		.sport = pkt->sport,
		.dport = pkt->dport,
	};

	frag_key_from(&fk, pkt);
	bpf_map_update_elem(&amlg_frag, &fk, &fv, BPF_ANY);
}

static __always_inline int amlg_process(struct __sk_buff *skb, __u8 dir, __u64 now,
					struct amlg_result *r)
{
	struct amlg_verdict vd = { .rule = AMLG_RULE_NONE,
				   .verdict = AMLG_VERDICT_VIOLATION,
				   .reason = AMLG_REASON_MALFORMED };
	struct amlg_ct_key key = {};
	struct amlg_ct_val *ct = NULL;
	struct amlg_pkt pkt = {};
	struct amlg_stats *st;
	struct amlg_pcfg *pc;
	struct amlg_cfg *cfg;
	struct event_info ei;
	__u8 match = AMLG_MATCH_NONE, initiator = dir, new_flow = 0;
	__u32 zero = 0, slot, want;
	struct cursor c;
	int pr;

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

	want = skb->len < AMLG_PULL_LEN ? skb->len : AMLG_PULL_LEN;
	if ((long)skb->data_end - (long)skb->data < (long)want)
		bpf_skb_pull_data(skb, want);
	c.data = (void *)(long)skb->data;
	c.end = (void *)(long)skb->data_end;
	c.len = skb->len;

	pr = parse_packet(&c, skb->vlan_tci, skb->vlan_present, &pkt);
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

	if (pkt.frag == FRAG_LATER) {
		match = follow_fragment(&pkt, &vd);
		goto out;
	}

	/* An ICMP error about a flow we track travels the opposite way of the packet it quotes. */
	if (pkt.quoted) {
		struct amlg_ct_val *q;

		ct_key_from(&key, pkt.family, pkt.q_proto, !dir, pkt.q_saddr, pkt.q_daddr,
			    pkt.q_sport, pkt.q_dport);
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

	ct_key_from(&key, pkt.family, pkt.proto, dir, pkt.saddr, pkt.daddr, pkt.sport, pkt.dport);
	ct = ct_lookup(cfg, &key, pkt.tcp_flags, now);
	if (ct) {
		if (ct->generation != pc->generation) {
			struct amlg_flow f = {};

			flow_from_ct(&f, &key, ct->dir);
			classify(slot, pc, &f, &vd);
			ct->verdict = vd.verdict;
			ct->reason = vd.reason;
			ct->rule = vd.rule;
			ct->generation = pc->generation;
			ct->match = vd.verdict == AMLG_VERDICT_ALLOW ? AMLG_MATCH_RULE : 0;
			st->ct_revalidated++;
		}
		vd.verdict = ct->verdict;
		vd.reason = ct->reason;
		vd.rule = ct->rule;
		match = vd.verdict == AMLG_VERDICT_ALLOW ? AMLG_MATCH_CT : AMLG_MATCH_NONE;
		ct_touch(ct, now, pkt.proto, pkt.tcp_flags);
	} else {
		struct amlg_flow f = {};

		new_flow = 1;
		flow_from_pkt(&f, &pkt, dir, dir, pkt.dport);
		classify(slot, pc, &f, &vd);
		if (vd.verdict == AMLG_VERDICT_ALLOW) {
			match = AMLG_MATCH_RULE;
		} else if (pkt.proto == IPPROTO_TCP &&
			   (pkt.tcp_flags & (TCP_SYN | TCP_ACK)) != TCP_SYN) {
			/*
			 * Not a connection opener: maybe the reply side of a flow the other end
			 * opened before we saw it (attach, LRU eviction, a capture's start).  TCP
			 * only: the receiver's stack resets a bogus one, UDP has no such guard.
			 */
			struct amlg_verdict rv;

			flow_from_pkt(&f, &pkt, dir, !dir, pkt.sport);
			classify(slot, pc, &f, &rv);
			if (rv.verdict == AMLG_VERDICT_ALLOW) {
				vd = rv;
				match = AMLG_MATCH_PICKUP;
				initiator = !dir;
			}
		}
	}
	if (pkt.frag == FRAG_FIRST)
		remember_fragment(&pkt, &vd, now);

out:
	r->verdict = vd.verdict;
	r->reason = vd.reason;
	r->rule = vd.rule;
	r->match = match;
	r->dropped = vd.verdict == AMLG_VERDICT_VIOLATION && pc->mode == AMLG_MODE_ENFORCE;
	if (vd.verdict == AMLG_VERDICT_VIOLATION) {
		if (ct && ct->reported && now - ct->reported < cfg->report_interval_ns) {
			st->events_suppressed++;
		} else {
			ei.now = now;
			ei.generation = pc->generation;
			ei.ifindex = skb->ifindex;
			ei.slot = slot;
			ei.dir = dir;
			ei.reason = vd.reason;
			ei.dropped = r->dropped;
			ei.rule = vd.rule;
			r->event = event_emit(skb, st, cfg, &pkt, &ei);
			if (r->event && ct)
				ct->reported = now;
		}
	}
	if (new_flow) {
		ct_store(st, &key, &vd, initiator, match, pc->generation, now, pkt.tcp_flags);
		if (r->event) {
			ct = bpf_map_lookup_elem(&amlg_ct, &key);
			if (ct)
				ct->reported = now;
		}
	}
	stats_count(st, slot, dir, vd.verdict, vd.reason, match, vd.rule, skb->len, r->dropped);
	return r->dropped ? TC_ACT_SHOT : TC_ACT_OK;
}

SEC("tc")
int amlg_ingress(struct __sk_buff *skb)
{
	struct amlg_result r = {};

	return amlg_process(skb, amlg_role == AMLG_ROLE_GATEWAY ? AMLG_DIR_OUT : AMLG_DIR_IN,
			    bpf_ktime_get_ns(), &r);
}

SEC("tc")
int amlg_egress(struct __sk_buff *skb)
{
	struct amlg_result r = {};

	return amlg_process(skb, amlg_role == AMLG_ROLE_GATEWAY ? AMLG_DIR_IN : AMLG_DIR_OUT,
			    bpf_ktime_get_ns(), &r);
}

/* Offline: direction in cb[AMLG_CB_DIR], time in tstamp; the verdict comes back in cb[]. */
SEC("tc")
int amlg_test(struct __sk_buff *skb)
{
	struct amlg_result r = {};
	int act;

	act = amlg_process(skb, skb->cb[AMLG_CB_DIR] & 1, skb->tstamp, &r);
	skb->cb[AMLG_CB_VERDICT] = r.verdict | r.reason << 8 | r.match << 16 | r.dropped << 24;
	skb->cb[AMLG_CB_RULE] = r.rule;
	skb->cb[AMLG_CB_GEN] = (__u32)r.generation;
	skb->cb[AMLG_CB_EVENT] = r.event;
	return act;
}
