// SPDX-License-Identifier: GPL-2.0-only
/*
 * amlguard datapath: every packet, both directions, against the compiled allow-list.
 *
 * The entry points are thin: the tc hooks map the hook to a direction through the role and use
 * the kernel's clock; the offline entry (amlg_test, used by tests and "explain") takes direction
 * and time from the skb context and writes the verdict back into it; the batch entry ("check")
 * walks packets held in a map.  Every path calls the same two functions: amlg_parse_*() (the
 * one parser, over packet data or a batch buffer) and amlg_judge().
 *
 * Both are global functions: the verifier checks each once, on its own, instead of every
 * combination of parser paths with judging paths at every call site.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "amlguard_abi.h"
#include "maps.h"
#include "parse.h"
#include "classify.h"
#include "conntrack.h"
#include "direction.h"
#include "dns.h"
#include "events.h"
#include "frag.h"
#include "sni.h"
#include "stats.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 amlg_role = AMLG_ROLE_HOST;

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

/* A cursor over live or test packet data (the headers already pulled in). */
static __always_inline void cursor_skb(struct cursor *c, struct __sk_buff *skb)
{
	c->data = (void *)(long)skb->data;
	c->end = (void *)(long)skb->data_end;
	c->len = skb->len;
}

/* A cursor over an offline batch buffer. */
static __always_inline void cursor_buf(struct cursor *c, struct amlg_batch_pkt *bp)
{
	__u32 cap = bp->cap < AMLG_BATCH_SNAP ? bp->cap : AMLG_BATCH_SNAP;

	c->data = bp->data;
	c->end = bp->data + cap;
	c->len = bp->len < cap ? cap : bp->len;
	c->avail = cap;
	c->is_buf = 1;
}

/* The transport header (see parse_packet()). */
__noinline int amlg_parse_l4_skb(struct __sk_buff *skb, struct amlg_pkt *pkt)
{
	struct cursor c = {};

	if (!pkt)
		return PARSE_MALFORMED;
	cursor_skb(&c, skb);
	return parse_l4(&c, pkt->l4_off, pkt);
}

__noinline int amlg_parse_l4_buf(struct amlg_batch_pkt *bp, struct amlg_pkt *pkt)
{
	struct cursor c = {};

	if (!bp || !pkt)
		return PARSE_MALFORMED;
	cursor_buf(&c, bp);
	return parse_l4(&c, pkt->l4_off, pkt);
}

/* The parser over live or test packet data. */
__noinline int amlg_parse_skb(struct __sk_buff *skb, struct amlg_pkt *pkt)
{
	struct cursor c = {};
	int ret;

	if (!pkt)
		return PARSE_MALFORMED;
	cursor_skb(&c, skb);
	ret = parse_packet(&c, (__u16)skb->vlan_tci, skb->vlan_present, pkt);
	return ret == PARSE_L4 ? amlg_parse_l4_skb(skb, pkt) : ret;
}

/* The same parser over an offline batch buffer. */
__noinline int amlg_parse_buf(struct amlg_batch_pkt *bp, struct amlg_pkt *pkt)
{
	struct cursor c = {};
	int ret;

	if (!bp || !pkt)
		return PARSE_MALFORMED;
	cursor_buf(&c, bp);
	ret = parse_packet(&c, 0, 0, pkt);
	return ret == PARSE_L4 ? amlg_parse_l4_buf(bp, pkt) : ret;
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
		return 0;
	slot = cfg->active & 1;
	pc = bpf_map_lookup_elem(&amlg_pcfg, &slot);
	if (!pc || !(pc->flags & AMLG_PF_HOSTS) || pc->sni_mode == AMLG_SNI_OFF)
		return 0;
	dir = m->dir == AMLG_DIR_AUTO ? local_dir(pkt, m->now) : m->dir;
	if (dir > AMLG_DIR_IN)
		return 0;
	ct_key_from(&key, pkt->family, pkt->proto, (__u8)dir, pkt->saddr, pkt->daddr, pkt->sport,
		    pkt->dport);
	ct = ct_lookup(cfg, &key, pkt->tcp_flags, m->now);
	if (!ct || !(ct->flags & AMLG_CTF_SNI_PENDING) || ct->verdict != AMLG_VERDICT_ALLOW ||
	    ct->dir != dir || ct->generation != pc->generation)
		return 0;
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

	cfg = bpf_map_lookup_elem(&amlg_cfg, &zero);
	if (!pkt || !m || !r || !cfg || !st)
		return 0;
	ei.now = m->now;
	ei.generation = r->generation;
	ei.ifindex = m->ifindex;
	ei.slot = cfg->active & 1;
	ei.dir = AMLG_DIR_IN;
	ei.reason = AMLG_REASON_MALFORMED_DNS;
	ei.rule = r->rule;
	return event_emit(skb, bp, m->len, st, cfg, pkt, &ei);
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

/* The parsed packet lives here rather than on the stack, which the call chains need. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct amlg_pkt);
} amlg_pkt_scratch SEC(".maps");

static __always_inline struct amlg_pkt *pkt_scratch(void)
{
	__u32 zero = 0;
	struct amlg_pkt *pkt = bpf_map_lookup_elem(&amlg_pkt_scratch, &zero);

	if (pkt)
		__builtin_memset(pkt, 0, sizeof(*pkt));
	return pkt;
}

/* The skb entry points: pull the headers into the linear area, parse, judge. */
static __always_inline int amlg_skb(struct __sk_buff *skb, __u8 dir, __u64 now,
				    struct amlg_result *r)
{
	struct amlg_meta m = { .now = now, .len = skb->len, .ifindex = skb->ifindex, .dir = dir };
	struct amlg_pkt *pkt = pkt_scratch();
	__u32 want = skb->len < AMLG_PULL_LEN ? skb->len : AMLG_PULL_LEN;

	if (!pkt)
		return TC_ACT_OK;
	if ((long)skb->data_end - (long)skb->data < (long)want)
		bpf_skb_pull_data(skb, want);
	m.parse = (__u8)amlg_parse_skb(skb, pkt);
	return amlg_run(skb, NULL, pkt, &m, r);
}

SEC("tc")
int amlg_ingress(struct __sk_buff *skb)
{
	struct amlg_result r = {};

	return amlg_skb(skb, amlg_role == AMLG_ROLE_GATEWAY ? AMLG_DIR_OUT : AMLG_DIR_IN,
			bpf_ktime_get_ns(), &r);
}

SEC("tc")
int amlg_egress(struct __sk_buff *skb)
{
	struct amlg_result r = {};

	return amlg_skb(skb, amlg_role == AMLG_ROLE_GATEWAY ? AMLG_DIR_IN : AMLG_DIR_OUT,
			bpf_ktime_get_ns(), &r);
}

/* Offline: direction in cb[AMLG_CB_DIR], time in tstamp; the verdict comes back in cb[]. */
SEC("tc")
int amlg_test(struct __sk_buff *skb)
{
	struct amlg_result r = {};
	int act;

	act = amlg_skb(skb, skb->cb[AMLG_CB_DIR] & 1, skb->tstamp, &r);
	skb->cb[AMLG_CB_VERDICT] = r.verdict | r.reason << 8 | r.match << 16 | r.dropped << 24;
	skb->cb[AMLG_CB_RULE] = r.rule;
	skb->cb[AMLG_CB_GEN] = (__u32)r.generation;
	skb->cb[AMLG_CB_EVENT] = r.event;
	return act;
}

#ifndef EINVAL
#define EINVAL 22
#endif

struct batch_ctx {
	struct __sk_buff *skb;
	__u32 err; /* a header pointing outside the blob */
};

/*
 * Packet i of an offline batch into the per-CPU amlg_batch buffer: its header and its bytes
 * from the blob.  A function of its own, so that its locals are not on the stack of the calls
 * that judge the packet.  0, or -1 for a header pointing outside the blob.
 */
static __noinline int batch_fetch(__u32 i)
{
	__u32 zero = 0, chunk, coff, cap;
	struct amlg_batch_idx *ix = bpf_map_lookup_elem(&amlg_batch_idx, &zero);
	struct amlg_batch_pkt *bp = bpf_map_lookup_elem(&amlg_batch, &zero);
	struct amlg_batch_chunk *c;
	struct amlg_batch_hdr *h;

	if (!ix || !bp)
		return -1;
	h = &ix->h[BOUND(i, AMLG_BATCH_MAX - 1)];
	chunk = h->off / AMLG_BLOB_CHUNK;
	coff = h->off % AMLG_BLOB_CHUNK;
	cap = h->cap;
	c = bpf_map_lookup_elem(&amlg_batch_blob, &chunk);
	if (!c || cap > AMLG_BATCH_SNAP || coff + cap > AMLG_BLOB_CHUNK)
		return -1;
	if (bpf_probe_read_kernel(bp->data, cap, c->b + BOUND(coff, AMLG_BLOB_CHUNK - 1)))
		return -1;
	bp->ts_ns = h->ts_ns;
	bp->len = h->len;
	bp->cap = (__u16)cap;
	bp->dir = h->dir;
	return 0;
}

/* One packet of an offline batch, from amlg_batch_idx's h[i] to amlg_batch_out's r[i]. */
static long batch_one(__u32 i, struct batch_ctx *bc)
{
	__u32 zero = 0;
	struct amlg_batch_out *ob = bpf_map_lookup_elem(&amlg_batch_out, &zero);
	struct amlg_batch_pkt *bp = bpf_map_lookup_elem(&amlg_batch, &zero);
	struct amlg_result r = {};
	struct amlg_meta m = {};
	struct amlg_batch_res *out;
	struct amlg_pkt *pkt;

	pkt = pkt_scratch();
	if (!ob || !bp || !pkt)
		return 1;
	if (batch_fetch(i)) {
		bc->err = 1;
		return 1;
	}
	out = &ob->r[BOUND(i, AMLG_BATCH_MAX - 1)];
	m.len = bp->len;
	m.dir = bp->dir > AMLG_DIR_AUTO ? AMLG_DIR_AUTO : bp->dir;
	m.now = bp->ts_ns;
	m.parse = (__u8)amlg_parse_buf(bp, pkt);
	amlg_run(bc->skb, bp, pkt, &m, &r);
	out->verdict = r.verdict;
	out->reason = r.reason;
	out->match = r.match;
	out->dropped = r.dropped;
	out->rule = r.rule;
	out->event = r.event;
	out->family = pkt->family;
	out->proto = pkt->proto;
	out->icmp_type = pkt->icmp_type;
	out->icmp_code = pkt->icmp_code;
	out->frag = pkt->frag;
	out->sport = pkt->sport;
	out->dport = pkt->dport;
	out->vlan[0] = pkt->vlan[0];
	out->vlan[1] = pkt->vlan[1];
	out->nvlan = pkt->nvlan;
	out->dir = r.dir;
	out->foreign = r.foreign;
	__builtin_memcpy(out->saddr, pkt->saddr, 16);
	__builtin_memcpy(out->daddr, pkt->daddr, 16);
	return 0;
}

/* Offline batch: cb[AMLG_CB_DIR] packets of amlg_batch, in order (the frame itself is unused). */
SEC("tc")
int amlg_batch_run(struct __sk_buff *skb)
{
	__u32 n = skb->cb[AMLG_CB_DIR];

	if (n > AMLG_BATCH_MAX)
		n = AMLG_BATCH_MAX;
	struct batch_ctx bc = { .skb = skb };

	long done = bpf_loop(n, batch_one, &bc, 0);

	skb->cb[AMLG_CB_VERDICT] = bc.err ? (__u32)-EINVAL : (__u32)done;
	return TC_ACT_OK;
}
