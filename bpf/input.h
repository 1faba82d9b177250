/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Where a packet comes from: a cursor over skb data (live or test run) or over an offline batch
 * buffer, the parser over each, and the per-CPU home of the parsed packet.
 */
#ifndef AMLG_INPUT_H
#define AMLG_INPUT_H

#include "parse.h"

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

/*
 * The parser, over live or test packet data (_skb) or an offline batch buffer (_buf), in three
 * global functions, each checked once by the verifier: the link layer (parse_link()), then the
 * IP layer (parse_l3()), then the transport header (parse_l4()), each from a fresh cursor and
 * the offset the one before it left in pkt.
 */
__noinline int amlg_parse_l4_skb(struct __sk_buff *skb, struct amlg_pkt *pkt)
{
	struct cursor c = {};
	int ret = PARSE_MALFORMED;

	if (pkt) {
		cursor_skb(&c, skb);
		ret = parse_l4(&c, pkt->l4_off, pkt);
	}
	return ret;
}

__noinline int amlg_parse_l4_buf(struct amlg_batch_pkt *bp, struct amlg_pkt *pkt)
{
	struct cursor c = {};
	int ret = PARSE_MALFORMED;

	if (bp && pkt) {
		cursor_buf(&c, bp);
		ret = parse_l4(&c, pkt->l4_off, pkt);
	}
	return ret;
}

__noinline int amlg_parse_l3_skb(struct __sk_buff *skb, struct amlg_pkt *pkt)
{
	struct cursor c = {};
	int ret = PARSE_MALFORMED;

	if (pkt) {
		cursor_skb(&c, skb);
		ret = parse_l3(&c, pkt);
		if (ret == PARSE_L4)
			ret = amlg_parse_l4_skb(skb, pkt);
	}
	return ret;
}

__noinline int amlg_parse_l3_buf(struct amlg_batch_pkt *bp, struct amlg_pkt *pkt)
{
	struct cursor c = {};
	int ret = PARSE_MALFORMED;

	if (bp && pkt) {
		cursor_buf(&c, bp);
		ret = parse_l3(&c, pkt);
		if (ret == PARSE_L4)
			ret = amlg_parse_l4_buf(bp, pkt);
	}
	return ret;
}

__noinline int amlg_parse_skb(struct __sk_buff *skb, struct amlg_pkt *pkt)
{
	struct cursor c = {};
	int ret = PARSE_MALFORMED;

	if (pkt) {
		cursor_skb(&c, skb);
		ret = parse_link(&c, (__u16)skb->vlan_tci, skb->vlan_present, pkt);
		if (ret == PARSE_L3)
			ret = amlg_parse_l3_skb(skb, pkt);
	}
	return ret;
}

__noinline int amlg_parse_buf(struct amlg_batch_pkt *bp, struct amlg_pkt *pkt)
{
	struct cursor c = {};
	int ret = PARSE_MALFORMED;

	if (bp && pkt) {
		cursor_buf(&c, bp);
		ret = parse_link(&c, 0, 0, pkt);
		if (ret == PARSE_L3)
			ret = amlg_parse_l3_buf(bp, pkt);
	}
	return ret;
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

#endif
