// SPDX-License-Identifier: GPL-2.0-only
/*
 * The reference: parse to the IP header and do one longest-prefix match of the remote address in
 * a kernel LPM trie, with amlguard's key layout and amlguard's compiled entries.  The class found
 * goes to cb[1] in test runs; live, the packet always passes.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "amlguard_abi.h"
#include "bench_parse.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 dir_mode = BENCH_DIR_FROM_CB;

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct amlg_lpm4_key);
	__type(value, __u32);
} lpm4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct amlg_lpm6_key);
	__type(value, __u32);
} lpm6 SEC(".maps");

SEC("tc")
int bench_lpm(struct __sk_buff *skb)
{
	__u32 *cls = NULL;
	void *remote;
	__u8 dir;
	int fam;

	fam = bench_remote(skb, dir_mode, &dir, &remote);
	if (fam == 4) {
		struct amlg_lpm4_key k = { .prefixlen = AMLG_LPM_HDR_BITS + 32,
					   .kind = AMLG_LPM_KIND(dir, AMLG_SIDE_REMOTE) };

		__builtin_memcpy(k.addr, remote, 4);
		cls = bpf_map_lookup_elem(&lpm4, &k);
	} else if (fam == 6) {
		struct amlg_lpm6_key k = { .prefixlen = AMLG_LPM_HDR_BITS + 128,
					   .kind = AMLG_LPM_KIND(dir, AMLG_SIDE_REMOTE) };

		__builtin_memcpy(k.addr, remote, 16);
		cls = bpf_map_lookup_elem(&lpm6, &k);
	}
	if (dir_mode == BENCH_DIR_FROM_CB)
		skb->cb[1] = cls ? *cls : 0;
	return TC_ACT_OK;
}
