/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Rule classification by bit-vector intersection (the Linear Bit Vector Search of bpf-iptables):
 *
 *   A = class(longest prefix match of the remote address)     rules covering the address
 *   A &= class(longest prefix match of the local address)      only if some rule narrows it
 *   P = class(protocol, destination port)                      rules covering the port
 *   rule = lowest set bit of A & P
 *
 * The compiler pushed every rule's bit down into the more specific prefixes, so one lookup per
 * side is enough, and the cost does not grow with the number of rules beyond AND-ing
 * AMLG_BM_WORDS words.  Precedence: rules are numbered in policy order, platform rules first; the
 * lowest bit wins, which only decides which rule (and flow ID) a packet is attributed to, since
 * every rule allows.  When nothing matches, the reason says what was missing: no rule for the
 * address, a rule for the address but not the protocol, or for both but not the port (and which
 * rule came nearest).
 */
#ifndef AMLG_CLASSIFY_H
#define AMLG_CLASSIFY_H

#include "maps.h"

/* A flow as the rules see it: oriented from its initiator, dport is the server port. */
struct amlg_flow {
	__u64 now; /* for learned addresses' expiry */
	__u8 dir;
	__u8 family;
	__u8 proto;
	__u8 pad;
	__u16 dport;
	__u16 pad2;
	__u8 raddr[16];
	__u8 laddr[16];
};

struct amlg_verdict {
	__u16 rule; /* allowed: the rule; port reason: the near rule; else AMLG_RULE_NONE */
	__u8 verdict;
	__u8 reason;
	__u8 via_host; /* allowed only through an address learned from DNS */
	__u8 pad;
};

/* The OR of the classes an address learned from DNS brings (see dns.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct amlg_bitmap);
} amlg_hostbm SEC(".maps");

/*
 * The rules the flow's remote address brings as a learned host: for each live (pattern, name)
 * slot of its amlg_learned entry, the class of the pattern under the current policy, OR-ed into
 * this CPU's amlg_hostbm.  1 if any did, else 0.  Global, and called beside classify() rather
 * than from it: the verifier checks the slot loop once, on its own, and the two frames are
 * never on the stack together.
 */
__noinline int host_bitmap(__u32 slot, const struct amlg_flow *f)
{
	struct amlg_learn_key k = {};
	struct amlg_bitmap *out, *b;
	struct amlg_learned *v;
	__u32 zero = 0, dir, any = 0;
	void *hosts, *classes;

	if (!f)
		return 0;
	slot &= 1;
	dir = f->dir & 1;
	k.family = f->family;
	__builtin_memcpy(k.addr, f->raddr, 16);
	v = bpf_map_lookup_elem(&amlg_learned, &k);
	if (!v)
		return 0;
	hosts = bpf_map_lookup_elem(&amlg_hosts, &slot);
	classes = bpf_map_lookup_elem(&amlg_classes, &slot);
	out = bpf_map_lookup_elem(&amlg_hostbm, &zero);
	if (!hosts || !classes || !out)
		return 0;
	for (__u32 w = 0; w < AMLG_BM_WORDS; w++)
		out->w[w] = 0;
	for (__u32 i = 0; i < AMLG_LEARN_SLOTS; i++) {
		struct amlg_learn_slot *s = &v->s[i];
		struct amlg_host *h;
		__u32 cls;

		if (!s->pattern.hash || s->expires_ns <= f->now)
			continue;
		h = bpf_map_lookup_elem(hosts, &s->pattern);
		if (!h)
			continue;
		cls = h->cls[dir];
		b = bpf_map_lookup_elem(classes, &cls);
		if (!b)
			continue;
		for (__u32 w = 0; w < AMLG_BM_WORDS; w++)
			out->w[w] |= b->w[w];
		any = 1;
	}
	return any;
}

static __always_inline __u32 proto_slot(__u8 proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return AMLG_PSLOT_TCP;
	case IPPROTO_UDP:
		return AMLG_PSLOT_UDP;
	case IPPROTO_ICMP:
		return AMLG_PSLOT_ICMP;
	case IPPROTO_ICMPV6:
		return AMLG_PSLOT_ICMPV6;
	default:
		return AMLG_PSLOT_OTHER;
	}
}

/* The class of the longest prefix covering addr in LPM kind, AMLG_CLASS_EMPTY if none. */
static __always_inline __u32 addr_class(__u32 slot, __u8 family, __u8 kind, const __u8 *addr)
{
	__u32 *cls = NULL;
	void *trie;

	if (family == 4) {
		struct amlg_lpm4_key k = { .prefixlen = AMLG_LPM_HDR_BITS + 32, .kind = kind };

		trie = bpf_map_lookup_elem(&amlg_lpm4, &slot);
		if (!trie)
			return AMLG_CLASS_EMPTY;
		__builtin_memcpy(k.addr, addr, 4);
		cls = bpf_map_lookup_elem(trie, &k);
	} else {
		struct amlg_lpm6_key k = { .prefixlen = AMLG_LPM_HDR_BITS + 128, .kind = kind };

		trie = bpf_map_lookup_elem(&amlg_lpm6, &slot);
		if (!trie)
			return AMLG_CLASS_EMPTY;
		__builtin_memcpy(k.addr, addr, 16);
		cls = bpf_map_lookup_elem(trie, &k);
	}
	return cls ? *cls : AMLG_CLASS_EMPTY;
}

/* Index of the lowest set bit of w (w != 0), branch-free: de Bruijn multiplication. */
static const __u8 debruijn64[64] = {
	0,  1,	48, 2,	57, 49, 28, 3,	61, 58, 50, 42, 38, 29, 17, 4,	62, 55, 59, 36, 53, 51,
	43, 22, 45, 39, 33, 30, 24, 18, 12, 5,	63, 47, 56, 27, 60, 41, 37, 16, 54, 35, 52, 21,
	44, 32, 23, 11, 46, 26, 40, 15, 34, 20, 31, 10, 25, 14, 19, 9,	13, 8,	7,  6,
};

static __always_inline __u32 lowest_bit(__u64 w)
{
	return debruijn64[(((w & -w) * 0x03f79d71b4cb0a89ull) >> 58) & 63];
}

/*
 * One word of classify()'s scan: the rules that cover the address (a, or hb learned from DNS,
 * narrowed by the local side's l when there is one) and are in p.  The first word with a match
 * stops the walk (m, word, and a_word: a's bits there); any collects the address's rules.  A
 * bpf_loop() callback: the verifier checks one word, not AMLG_BM_WORDS of them per path.
 */
struct bm_scan {
	const struct amlg_bitmap *a, *hb, *l, *p;
	__u64 any;
	__u64 m;
	__u64 a_word;
	__u32 word;
	__u32 nwords;
};

static long scan_word(__u32 i, struct bm_scan *s)
{
	__u64 w, m;
	__u32 k;

	if (i >= s->nwords || i >= AMLG_BM_WORDS)
		return 1;
	k = BOUND(i, AMLG_BM_WORDS - 1); /* the same, and a bound the verifier sees */
	w = s->a->w[k] | s->hb->w[k];
	if (s->l)
		w &= s->l->w[k];
	m = w & s->p->w[k];
	if (m) {
		s->m = m;
		s->word = k;
		s->a_word = s->a->w[k];
		return 1;
	}
	s->any |= w;
	return 0;
}

/*
 * hb: the rules the remote address brings as a learned host (host_bitmap()), or NULL.
 *
 * Not inlined and global: the verifier checks it once, whatever the call site; the scans of the
 * bitmap words are bpf_loop() callbacks (scan_word()).
 */
__noinline int classify(__u32 slot, const struct amlg_pcfg *pc, const struct amlg_flow *f,
			const struct amlg_bitmap *hb, struct amlg_verdict *v)
{
	struct amlg_bitmap *a, *l, *p, *pr;
	struct bm_scan sc = {};
	__u32 dir, ps, acls, pcls, prcls;
	void *classes;

	if (!pc || !f || !v)
		return 0;
	slot &= 1;
	dir = f->dir & 1;
	ps = proto_slot(f->proto);
	v->verdict = AMLG_VERDICT_VIOLATION;
	v->reason = AMLG_REASON_NO_RULE;
	v->rule = AMLG_RULE_NONE;
	v->via_host = 0;

	classes = bpf_map_lookup_elem(&amlg_classes, &slot);
	if (!classes)
		return 0;
	acls = addr_class(slot, f->family, AMLG_LPM_KIND(dir, AMLG_SIDE_REMOTE), f->raddr);
	if (acls == AMLG_CLASS_EMPTY && !hb)
		return 0;
	a = bpf_map_lookup_elem(classes, &acls);
	if (!a)
		return 0;
	/* no learned address: OR with the empty class, which keeps the loops branch-free */
	if (!hb)
		hb = a;
	l = NULL;
	if (pc->flags & (dir ? AMLG_PF_HAS_LOCAL_IN : AMLG_PF_HAS_LOCAL_OUT)) {
		__u32 lcls =
			addr_class(slot, f->family, AMLG_LPM_KIND(dir, AMLG_SIDE_LOCAL), f->laddr);

		if (lcls == AMLG_CLASS_EMPTY)
			return 0;
		l = bpf_map_lookup_elem(classes, &lcls);
		if (!l)
			return 0;
	}

	prcls = pc->proto_cls[dir][ps];
	if (ps < AMLG_PORTED_PSLOTS) {
		__u32 idx = AMLG_PORT_IDX(slot, dir, ps, f->dport);
		__u32 *e = bpf_map_lookup_elem(&amlg_ports, &idx);

		pcls = e ? *e : AMLG_CLASS_EMPTY;
	} else {
		pcls = prcls;
	}
	p = bpf_map_lookup_elem(classes, &pcls);
	pr = bpf_map_lookup_elem(classes, &prcls);
	if (!p || !pr)
		return 0;

	sc.a = a;
	sc.hb = hb;
	sc.l = l;
	sc.p = p;
	sc.nwords = pc->nwords;
	bpf_loop(AMLG_BM_WORDS, scan_word, &sc, 0);
	if (sc.m) {
		__u32 b = lowest_bit(sc.m);

		v->verdict = AMLG_VERDICT_ALLOW;
		v->reason = AMLG_REASON_NONE;
		v->rule = AMLG_RULE_ID(dir, sc.word * 64 + b);
		/* the rule's bit came only from the learned host, not from a prefix */
		v->via_host = !((sc.a_word >> b) & 1);
		return 0;
	}
	if (!sc.any)
		return 0;
	/* The address matched: name the first rule that has the protocol too, if one does. */
	v->reason = AMLG_REASON_PROTO;
	sc.p = pr;
	bpf_loop(AMLG_BM_WORDS, scan_word, &sc, 0);
	if (sc.m) {
		v->reason = AMLG_REASON_PORT;
		v->rule = AMLG_RULE_ID(dir, sc.word * 64 + lowest_bit(sc.m));
	}
	return 0;
}

#endif
