// SPDX-License-Identifier: GPL-2.0-only
/*
 * Alternatives to the kernel LPM trie for the address -> class lookup (see bench_abi.h):
 * IPv4 by DIR-16-8-8 arrays (v4_algo 0) or by one hash lookup per prefix length in use
 * (v4_algo 1); IPv6 always by prefix length.  Same packets, same compiled entries, same result
 * in cb[1] as bench_lpm.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "amlguard_abi.h"
#include "bench_parse.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 dir_mode = BENCH_DIR_FROM_CB;
const volatile __u32 v4_algo = 0;
/* Prefix lengths in use per kind, longest first. */
const volatile __u8 lens4[BENCH_KINDS][PLEN_MAX_LENS] = {};
const volatile __u8 nlens4[BENCH_KINDS] = {};
const volatile __u8 lens6[BENCH_KINDS][PLEN_MAX_LENS] = {};
const volatile __u8 nlens6[BENCH_KINDS] = {};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, DIR_L1_SIZE);
	__type(key, __u32);
	__type(value, __u32);
} dir_l1 SEC(".maps");

/* Sized by the loader: 256 entries per chunk. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u32);
} dir_l2 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u32);
} dir_l3 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct plen4_key);
	__type(value, __u32);
} plen4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct plen6_key);
	__type(value, __u32);
} plen6 SEC(".maps");

static __always_inline __u32 dir_lookup(__u8 kind, __u32 a)
{
	__u32 idx = DIR_L1_IDX(kind, a >> 16), *e;

	e = bpf_map_lookup_elem(&dir_l1, &idx);
	if (!e)
		return 0;
	if (!(*e & DIR_PTR))
		return *e;
	idx = (*e & ~DIR_PTR) * 256 + ((a >> 8) & 0xff);
	e = bpf_map_lookup_elem(&dir_l2, &idx);
	if (!e)
		return 0;
	if (!(*e & DIR_PTR))
		return *e;
	idx = (*e & ~DIR_PTR) * 256 + (a & 0xff);
	e = bpf_map_lookup_elem(&dir_l3, &idx);
	return e ? *e : 0;
}

static __always_inline __u32 mask32(__u32 bits)
{
	return bits >= 32 ? ~0u : bits ? ~0u << (32 - bits) : 0;
}

static __always_inline __u32 plen4_lookup(__u8 kind, __u32 a)
{
	struct plen4_key k = { .kind = kind };
	__u32 n = nlens4[kind & 3];

	for (__u32 i = 0; i < PLEN_MAX_LENS && i < n; i++) {
		__u32 len = lens4[kind & 3][i], m = bpf_htonl(a & mask32(len)), *v;

		k.len = len;
		__builtin_memcpy(k.addr, &m, 4);
		v = bpf_map_lookup_elem(&plen4, &k);
		if (v)
			return *v;
	}
	return 0;
}

static __always_inline __u32 plen6_lookup(__u8 kind, const __u32 *a)
{
	struct plen6_key k = { .kind = kind };
	__u32 n = nlens6[kind & 3];

	for (__u32 i = 0; i < PLEN_MAX_LENS && i < n; i++) {
		__u32 len = lens6[kind & 3][i], *v;

#pragma unroll
		for (int w = 0; w < 4; w++) {
			__s32 bits = (__s32)len - 32 * w;
			__u32 m = a[w] & bpf_htonl(mask32(bits < 0 ? 0 : bits));

			__builtin_memcpy(&k.addr[4 * w], &m, 4);
		}
		k.len = len;
		v = bpf_map_lookup_elem(&plen6, &k);
		if (v)
			return *v;
	}
	return 0;
}

SEC("tc")
int bench_alt(struct __sk_buff *skb)
{
	__u32 cls = 0, a[4];
	void *remote;
	__u8 dir, kind;
	int fam;

	fam = bench_remote(skb, dir_mode, &dir, &remote);
	kind = AMLG_LPM_KIND(dir, AMLG_SIDE_REMOTE);
	if (fam == 4) {
		__builtin_memcpy(a, remote, 4);
		if (v4_algo == 0)
			cls = dir_lookup(kind, bpf_ntohl(a[0]));
		else
			cls = plen4_lookup(kind, bpf_ntohl(a[0]));
	} else if (fam == 6) {
		__builtin_memcpy(a, remote, 16);
		cls = plen6_lookup(kind, a);
	}
	if (dir_mode == BENCH_DIR_FROM_CB)
		skb->cb[1] = cls;
	return TC_ACT_OK;
}
