/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * TLS server names.  A TCP flow that only a host rule allowed (its address was learned from DNS)
 * has its first ClientHello read: the server_name must match one of that rule's patterns.
 * Addresses shared by many names (CDNs, Front Door, storage) are otherwise indistinguishable at
 * L3/L4; the name the client asks the server for is not.
 *
 * The ClientHello is read from the first data segment only.  When the record goes on past it and
 * the name was not seen yet, the result is "split", never a guess.
 */
#ifndef AMLG_SNI_H
#define AMLG_SNI_H

#include "dns.h"
#include "names.h"

#define SNI_OK 0
#define SNI_PENDING -1 /* no data in this packet yet */
#define AMLG_TLS_EXTS 64

struct ext_ctx {
	const __u8 *msg;
	__u32 avail; /* bytes of the record we have */
	__u32 pos;
	__u32 end; /* end of the extensions, as the ClientHello says */
	__u32 sni_pos; /* offset of the server name's bytes, 0 if none */
	__u32 sni_len;
	__u32 cut; /* ran past what we have */
};

static long ext_step(__u32 i, struct ext_ctx *ec)
{
	__u32 pos = ec->pos;
	__u16 type, elen;

	if (pos + 4 > ec->end)
		return 1;
	if (pos + 4 > ec->avail) {
		ec->cut = 1;
		return 1;
	}
	type = msg16(ec->msg, pos);
	elen = msg16(ec->msg, pos + 2);
	if (type == 0) {
		/* server_name list: length, then entries (type 0 = host name, length, bytes) */
		__u32 p = pos + 4;

		if (p + 5 > ec->avail) {
			ec->cut = 1;
			return 1;
		}
		if (msg_byte(ec->msg, p + 2) == 0) {
			ec->sni_len = msg16(ec->msg, p + 3);
			ec->sni_pos = p + 5;
			if (ec->sni_pos + ec->sni_len > ec->avail)
				ec->cut = 1;
		}
		return 1;
	}
	ec->pos = pos + 4 + elen;
	return 0;
}

struct sni_copy_ctx {
	const __u8 *msg;
	struct amlg_namebuf *nb;
	__u32 pos, len;
};

static long sni_char(__u32 i, struct sni_copy_ctx *cc)
{
	__u8 b;

	if (i >= cc->len || i >= AMLG_NAME_MAX - 1)
		return 1;
	b = msg_byte(cc->msg, cc->pos + i);
	if (b >= 'A' && b <= 'Z')
		b += 'a' - 'A';
	if (!b)
		cc->nb->bad = 1;
	cc->nb->text[BOUND(i, AMLG_NAME_MAX - 1)] = b;
	cc->nb->len = i + 1;
	return 0;
}

/*
 * Check the ClientHello of pkt against rule (a global rule id) of slot's policy.  Returns
 * SNI_OK, SNI_PENDING, or the violation reason (AMLG_REASON_SNI_MISMATCH, NO_SNI, SNI_SPLIT).
 */
__noinline int sni_check(struct __sk_buff *skb, struct amlg_batch_pkt *bp,
			 const struct amlg_pkt *pkt, __u32 rule)
{
	struct amlg_scratch *sc = scratch_get();
	struct ext_ctx ec = {};
	struct sni_copy_ctx cc = {};
	struct amlg_pcfg *pc;
	struct amlg_cfg *cfg;
	struct amlg_bitmap *bm;
	void *classes, *hosts;
	__u32 zero = 0, slot, avail, rec, p, dir = rule / AMLG_MAX_RULES, bit;

	cfg = bpf_map_lookup_elem(&amlg_cfg, &zero);
	if (!pkt || !sc || !cfg)
		return SNI_OK;
	slot = cfg->active & 1;
	pc = bpf_map_lookup_elem(&amlg_pcfg, &slot);
	if (!pc || pc->sni_mode == AMLG_SNI_OFF)
		return SNI_OK;
	if (!pkt->payload_len)
		return SNI_PENDING;
	avail = pkt->payload_len < AMLG_MSG_MAX ? pkt->payload_len : AMLG_MSG_MAX;
	if (payload_copy(skb, bp, pkt->payload_off, avail, sc->msg))
		return AMLG_REASON_SNI_SPLIT;
	/* a TLS handshake record carrying a ClientHello; anything else names no server */
	if (avail < 9 || msg_byte(sc->msg, 0) != 22 || msg_byte(sc->msg, 5) != 1)
		return AMLG_REASON_NO_SNI;
	rec = 5 + msg16(sc->msg, 3);
	p = 5 + 4 + 2 + 32;
	if (p + 1 > avail)
		return rec > avail ? AMLG_REASON_SNI_SPLIT : AMLG_REASON_NO_SNI;
	p += 1 + msg_byte(sc->msg, p); /* session id */
	if (p + 2 > avail)
		return rec > avail ? AMLG_REASON_SNI_SPLIT : AMLG_REASON_NO_SNI;
	p += 2 + msg16(sc->msg, p); /* cipher suites */
	if (p + 1 > avail)
		return rec > avail ? AMLG_REASON_SNI_SPLIT : AMLG_REASON_NO_SNI;
	p += 1 + msg_byte(sc->msg, p); /* compression methods */
	if (p + 2 > avail)
		return rec > avail ? AMLG_REASON_SNI_SPLIT : AMLG_REASON_NO_SNI;
	ec.msg = sc->msg;
	ec.avail = avail;
	ec.end = p + 2 + msg16(sc->msg, p);
	ec.pos = p + 2;
	bpf_loop(AMLG_TLS_EXTS, ext_step, &ec, 0);
	if (!ec.sni_pos || ec.cut)
		return ec.cut && rec > avail ? AMLG_REASON_SNI_SPLIT : AMLG_REASON_NO_SNI;
	/* the name, lower-cased, through the same patterns as DNS names */
	sc->nb.len = 0;
	sc->nb.bad = 0;
	cc.msg = sc->msg;
	cc.nb = &sc->nb;
	cc.pos = ec.sni_pos;
	cc.len = ec.sni_len;
	if (cc.len >= AMLG_NAME_MAX)
		return AMLG_REASON_SNI_MISMATCH;
	bpf_loop(AMLG_NAME_MAX, sni_char, &cc, 0);
	if (sc->nb.len && sc->nb.text[BOUND(sc->nb.len - 1, AMLG_NAME_MAX - 1)] == '.')
		sc->nb.len--;
	sc->set.n = 0;
	name_match(slot, pc, &sc->nb, &sc->set);
	classes = bpf_map_lookup_elem(&amlg_classes, &slot);
	hosts = bpf_map_lookup_elem(&amlg_hosts, &slot);
	if (!classes || !hosts)
		return AMLG_REASON_SNI_MISMATCH;
	dir &= 1;
	bit = rule % AMLG_MAX_RULES;
	/* the name must match a pattern of the very rule that allowed the flow */
	for (__u32 i = 0; i < AMLG_NAMES_MATCH_MAX; i++) {
		struct amlg_host *h;
		__u32 cls;

		if (i >= sc->set.n)
			break;
		h = bpf_map_lookup_elem(hosts, &sc->set.k[i]);
		if (!h)
			continue;
		cls = h->cls[dir];
		bm = bpf_map_lookup_elem(classes, &cls);
		if (bm && (bm->w[(bit / 64) & (AMLG_BM_WORDS - 1)] >> (bit % 64)) & 1)
			return SNI_OK;
	}
	return AMLG_REASON_SNI_MISMATCH;
}

#endif
