/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The path every entry point runs around amlg_judge(): the ClientHello check before it, learning
 * from a DNS answer after it.
 */
#ifndef AMLG_RUN_H
#define AMLG_RUN_H

#include "judge.h"
#include "sni.h"

/*
 * Before judging: a TCP flow that only a host rule allowed has its first ClientHello checked
 * (sni.h); a mismatch turns the tracked flow into a violation, which amlg_judge() then counts,
 * reports and, in enforce mode, drops.
 */
__noinline int sni_pre(struct __sk_buff *skb, struct amlg_batch_pkt *bp, struct amlg_pkt *pkt,
		       struct amlg_meta *m)
{
	struct amlg_ct_key key = {};
	struct amlg_ct_val *ct;
	struct amlg_stats *st = stats_get();
	struct amlg_pcfg *pc;
	struct amlg_cfg *cfg;
	__u32 zero = 0, slot;
	int dir, res;

	cfg = bpf_map_lookup_elem(&amlg_cfg, &zero);
	if (!pkt || !m || !cfg || !st || m->parse != PARSE_OK || pkt->proto != IPPROTO_TCP ||
	    !pkt->payload_len)
		goto out;
	slot = cfg->active & 1;
	pc = bpf_map_lookup_elem(&amlg_pcfg, &slot);
	if (!pc || !(pc->flags & AMLG_PF_HOSTS) || pc->sni_mode == AMLG_SNI_OFF)
		goto out;
	dir = m->dir == AMLG_DIR_AUTO ? local_dir(pkt, m->now) : m->dir;
	if (dir > AMLG_DIR_IN)
		goto out;
	ct_key_from(&key, pkt->family, pkt->proto, (__u8)dir, pkt->saddr, pkt->daddr, pkt->sport,
		    pkt->dport);
	ct = ct_lookup(cfg, &key, pkt->tcp_flags, m->now);
	if (!ct || !(ct->flags & AMLG_CTF_SNI_PENDING) || ct->verdict != AMLG_VERDICT_ALLOW ||
	    ct->dir != dir || ct->generation != pc->generation)
		goto out;
	res = sni_check(skb, bp, pkt, ct->rule);
	st->sni_checked++;
	/*
	 * The only read-modify-write of flags after the entry is made (the closing mark has a
	 * byte of its own): two CPUs checking one flow's ClientHello clear the same bit.
	 */
	if (res != SNI_PENDING)
		ct->flags &= ~AMLG_CTF_SNI_PENDING;
	if (res > 0 && !(res == AMLG_REASON_NO_SNI && pc->sni_mode == AMLG_SNI_ALLOW_MISSING)) {
		ct->verdict = AMLG_VERDICT_VIOLATION;
		ct->reason = (__u8)res;
	}
out:
	return 0;
}

/* A DNS answer that could not be read: a report, not a drop (its flow is allowed). */
__noinline int dns_report(struct __sk_buff *skb, struct amlg_batch_pkt *bp, struct amlg_pkt *pkt,
			  struct amlg_meta *m, struct amlg_result *r)
{
	struct amlg_stats *st = stats_get();
	struct event_info ei = {};
	struct amlg_cfg *cfg;
	__u32 zero = 0;
	int sent = 0;

	cfg = bpf_map_lookup_elem(&amlg_cfg, &zero);
	if (pkt && m && r && cfg && st) {
		ei.now = m->now;
		ei.generation = r->generation;
		ei.ifindex = m->ifindex;
		ei.slot = cfg->active & 1;
		ei.dir = AMLG_DIR_IN;
		ei.reason = AMLG_REASON_MALFORMED_DNS;
		ei.rule = r->rule;
		sent = event_emit(skb, bp, m->len, st, cfg, pkt, &ei);
	}
	return sent;
}

/*
 * Every path: the ClientHello check, the verdict, then learning from a DNS answer that reaches
 * the protected side -- before it is delivered, so the client's next packet finds the address.
 */
static __always_inline int amlg_run(struct __sk_buff *skb, struct amlg_batch_pkt *bp,
				    struct amlg_pkt *pkt, struct amlg_meta *m,
				    struct amlg_result *r)
{
	int act;

	sni_pre(skb, bp, pkt, m);
	act = amlg_judge(skb, bp, pkt, m, r);
	if (r->verdict == AMLG_VERDICT_ALLOW && r->dir == AMLG_DIR_IN && pkt->sport == 53 &&
	    pkt->payload_len && dns_learn(skb, bp, pkt, m->now) == DNS_BAD)
		dns_report(skb, bp, pkt, m, r);
	return act;
}

#endif
