/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The comparison programs' parser: Ethernet, up to two VLAN tags, the fixed IPv4 or IPv6 header;
 * just enough to find the remote address, the way amlguard's parser finds it.
 */
#ifndef AMLG_BENCH_PARSE_H
#define AMLG_BENCH_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "bench_abi.h"

struct vlan_hdr_b {
	__be16 tci;
	__be16 proto;
};

/* 4 or 6 with *remote pointing at the remote address in the packet; 0 if not IP. */
static __always_inline int bench_remote(struct __sk_buff *skb, __u32 dir_mode, __u8 *dir,
					void **remote)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	__u16 proto;
	void *p;
	int in;

	if ((void *)(eth + 1) > end)
		return 0;
	proto = eth->h_proto;
	p = eth + 1;
#pragma unroll
	for (int i = 0; i < 2; i++) {
		struct vlan_hdr_b *v = p;

		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(v + 1) > end)
			return 0;
		proto = v->proto;
		p = v + 1;
	}
	if (dir_mode == BENCH_DIR_FROM_CB)
		in = skb->cb[0] & 1;
	else
		in = dir_mode == BENCH_DIR_INGRESS;
	*dir = in;
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = p;

		if ((void *)(ip + 1) > end)
			return 0;
		*remote = in ? (void *)&ip->saddr : (void *)&ip->daddr;
		return 4;
	}
	if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = p;

		if ((void *)(ip6 + 1) > end)
			return 0;
		*remote = in ? (void *)&ip6->saddr : (void *)&ip6->daddr;
		return 6;
	}
	return 0;
}

#endif
