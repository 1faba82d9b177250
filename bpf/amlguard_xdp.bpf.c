// SPDX-License-Identifier: GPL-2.0-only
/*
 * The XDP entry point, for the ingress of a gateway's compute-facing NIC (the compute subnet's
 * egress, "out") or a host's ingress ("in"); tc keeps the other direction.
 *
 * An object of its own, built from the same sources as the tc one.  XDP has no skb: each packet is
 * copied into the per-CPU buffer that offline batches use and goes through the very functions
 * "check" runs -- amlg_parse_buf() and amlg_run() (ClientHello check, amlg_judge(), DNS learning)
 * -- with skb NULL, so the skb-only helper below is never reached; it is defined away because the
 * verifier of an XDP program knows no skb helpers.  The loader hands this object the tc object's
 * maps: one connection table, one set of counters, one event ring, and one policy pair that a
 * reload flips for both at once.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static __always_inline long amlg_xdp_no_skb(const void *skb, __u32 off, void *to, __u32 len)
{
	return -1;
}
#define bpf_skb_load_bytes amlg_xdp_no_skb
#include "amlguard.bpf.c"

SEC("xdp")
int amlg_xdp(struct xdp_md *ctx)
{
	__u32 zero = 0, len = (__u32)bpf_xdp_get_buff_len(ctx);
	__u64 cap;
	struct amlg_batch_pkt *bp = bpf_map_lookup_elem(&amlg_batch, &zero);
	struct amlg_pkt *pkt = pkt_scratch();
	struct amlg_result r = {};
	struct amlg_meta m = {};
	int act = XDP_PASS;

	if (!bp || !pkt || !len)
		goto out;
	cap = len < AMLG_BATCH_SNAP ? len : AMLG_BATCH_SNAP;
	/* checked on the register passed on, not on the compiler's copy of len */
	asm volatile("" : "+r"(cap));
	if (cap < 1 || cap > AMLG_BATCH_SNAP || bpf_xdp_load_bytes(ctx, 0, bp->data, cap))
		goto out;
	m.now = bpf_ktime_get_ns();
	m.len = len;
	m.ifindex = ctx->ingress_ifindex;
	m.dir = amlg_role == AMLG_ROLE_GATEWAY ? AMLG_DIR_OUT : AMLG_DIR_IN;
	bp->ts_ns = m.now;
	bp->len = len;
	bp->cap = (__u16)cap;
	bp->dir = m.dir;
	m.parse = (__u8)amlg_parse_buf(bp, pkt);
	if (amlg_run(NULL, bp, pkt, &m, &r) == TC_ACT_SHOT)
		act = XDP_DROP;
out:
	return act;
}
