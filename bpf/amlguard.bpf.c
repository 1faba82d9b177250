// SPDX-License-Identifier: GPL-2.0-only
/*
 * amlguard datapath: every packet, both directions, against the compiled allow-list.
 *
 * The entry points only, and thin: the tc hooks map the hook to a direction through the role and
 * use the kernel's clock; the offline entry (amlg_test, used by tests and "explain") takes
 * direction and time from the skb context and writes the verdict back into it; the batch entry
 * ("check") walks packets held in a map (batch.h).  Every path calls the same two functions:
 * amlg_parse_*() (input.h: the one parser, over packet data or a batch buffer) and amlg_judge()
 * (judge.h), wrapped by amlg_run() (run.h).
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
#include "dns.h"
#include "events.h"
#include "sni.h"
#include "stats.h"
#include "direction.h"
#include "frag.h"
#include "input.h"
#include "judge.h"
#include "run.h"
#include "batch.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 amlg_role = AMLG_ROLE_HOST;

/* The skb entry points: pull the headers into the linear area, parse, judge. */
static __always_inline int amlg_skb(struct __sk_buff *skb, __u8 dir, __u64 now,
				    struct amlg_result *r)
{
	struct amlg_meta m = { .now = now, .len = skb->len, .ifindex = skb->ifindex, .dir = dir };
	struct amlg_pkt *pkt = pkt_scratch();
	__u32 want = skb->len < AMLG_PULL_LEN ? skb->len : AMLG_PULL_LEN;
	int act = TC_ACT_OK;

	if (pkt) {
		if ((long)skb->data_end - (long)skb->data < (long)want)
			bpf_skb_pull_data(skb, want);
		m.parse = (__u8)amlg_parse_skb(skb, pkt);
		act = amlg_run(skb, NULL, pkt, &m, r);
	}
	return act;
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
