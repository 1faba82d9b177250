/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The offline batch walker ("check"): packets held in amlg_batch_idx and amlg_batch_blob, judged
 * in order by bpf_loop(), each result written to amlg_batch_out.
 */
#ifndef AMLG_BATCH_H
#define AMLG_BATCH_H

#include "input.h"
#include "run.h"

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
	int err = -1;

	if (!ix || !bp)
		goto out;
	h = &ix->h[BOUND(i, AMLG_BATCH_MAX - 1)];
	chunk = h->off / AMLG_BLOB_CHUNK;
	coff = h->off % AMLG_BLOB_CHUNK;
	cap = h->cap;
	c = bpf_map_lookup_elem(&amlg_batch_blob, &chunk);
	if (!c || cap > AMLG_BATCH_SNAP || coff + cap > AMLG_BLOB_CHUNK)
		goto out;
	if (bpf_probe_read_kernel(bp->data, cap, c->b + BOUND(coff, AMLG_BLOB_CHUNK - 1)))
		goto out;
	bp->ts_ns = h->ts_ns;
	bp->len = h->len;
	bp->cap = (__u16)cap;
	bp->dir = h->dir;
	err = 0;
out:
	return err;
}

/*
 * One packet of an offline batch, from amlg_batch_idx's h[i] to amlg_batch_out's r[i].  0 to go
 * on, 1 to stop the walk.
 */
static long batch_one(__u32 i, struct batch_ctx *bc)
{
	__u32 zero = 0;
	struct amlg_batch_out *ob = bpf_map_lookup_elem(&amlg_batch_out, &zero);
	struct amlg_batch_pkt *bp = bpf_map_lookup_elem(&amlg_batch, &zero);
	struct amlg_result r = {};
	struct amlg_meta m = {};
	struct amlg_batch_res *out;
	struct amlg_pkt *pkt;
	long stop = 1;

	pkt = pkt_scratch();
	if (!ob || !bp || !pkt)
		goto out;
	if (batch_fetch(i)) {
		bc->err = 1;
		goto out;
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
	stop = 0;
out:
	return stop;
}

#endif
