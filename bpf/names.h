/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Host names against the policy's host patterns.  A name (lower case, labels joined by dots, no
 * trailing dot) is walked right to left once, extending a polynomial hash one character at a
 * time, so the hash of every suffix is at hand:
 *
 *   the whole name                           -> exact patterns        ("pypi.org")
 *   every suffix that starts after a dot     -> "*.suffix" patterns   ("*.blob.core.windows.net")
 *   every suffix                             -> "*suffix" patterns    ("*pytorch.org")
 *
 * Only lengths some pattern of that kind has are looked up (bitmaps in amlg_pcfg), and a hash
 * hit counts only once the pattern's text equals the name's bytes.
 */
#ifndef AMLG_NAMES_H
#define AMLG_NAMES_H

#include "maps.h"

#define AMLG_NAMES_MATCH_MAX 8 /* patterns one DNS answer (or one SNI) can match */

/* A decoded name.  text[] has room for a 256-byte compare from any offset below 256. */
struct amlg_namebuf {
	__u32 len;
	__u32 bad; /* a label held a dot or a byte that never matches: do not match */
	__u64 hash; /* of the whole name */
	__u8 text[2 * AMLG_NAME_MAX];
};

struct amlg_match_set {
	struct amlg_host_key k[AMLG_NAMES_MATCH_MAX];
	__u32 n;
	__u32 pad;
};

/* Scratch space for names, DNS messages and ClientHellos: too big for the stack. */
#define AMLG_MSG_MAX 2048
#define AMLG_DNS_ADDRS 16

struct dns_addr {
	__u8 family;
	__u8 pad[3];
	__u32 ttl;
	__u8 addr[16];
};

#define AMLG_DNS_SEEN 4

struct amlg_scratch {
	struct amlg_namebuf nb;
	struct amlg_match_set set;
	struct dns_addr addrs[AMLG_DNS_ADDRS]; /* of the answer being read */
	struct amlg_learned fresh; /* a new amlg_learned entry being filled */
	struct amlg_name name; /* an amlg_names entry being filled */
	/* where names of the message already matched start (see answer_step()); kept here, not
	 * on the stack, so that the verifier does not track each value */
	__u32 seen[AMLG_DNS_SEEN];
	__u32 nseen;
	__u8 msg[AMLG_MSG_MAX + 8];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct amlg_scratch);
} amlg_scratch SEC(".maps");

static __always_inline struct amlg_scratch *scratch_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&amlg_scratch, &zero);
}

static __always_inline int len_in(const __u64 *bits, __u32 len)
{
	return len < 256 && (bits[(len >> 6) & 3] >> (len & 63)) & 1;
}

/*
 * Does the pattern's text equal nb->text[off, off + len)?  Eight bytes at a time.  Global: the
 * verifier checks the loop once, not at each of the three places a name step compares.
 */
__noinline int text_equal(const struct amlg_namebuf *nb, __u32 off, const struct amlg_host *h,
			  __u32 len)
{
	if (!nb || !h)
		return 0;
	off = (__u32)BOUND(off, AMLG_NAME_MAX - 1);
	for (__u32 i = 0; i < AMLG_NAME_MAX / 8; i++) {
		__u64 a, b, mask = ~0ull;
		__u32 rest;

		if (i * 8 >= len)
			break;
		rest = len - i * 8;
		if (rest < 8)
			mask = (1ull << (rest * 8)) - 1;
		a = *(const __u64 *)(nb->text + off + i * 8);
		b = *(const __u64 *)(h->text + i * 8);
		if ((a ^ b) & mask)
			return 0;
	}
	return 1;
}

struct match_ctx {
	struct amlg_namebuf *nb;
	struct amlg_match_set *set;
	const struct amlg_pcfg *pc;
	void *hosts;
	__u64 h, pw;
};

static __always_inline void try_kind(struct match_ctx *mc, __u32 off, __u32 len, __u8 kind)
{
	struct amlg_host_key k = { .hash = mc->h, .len = (__u16)len, .kind = kind };
	struct amlg_host *h;
	__u32 n = mc->set->n;

	if (!len_in(mc->pc->host_lens[(kind - 1) & 3], len))
		return;
	h = bpf_map_lookup_elem(mc->hosts, &k);
	if (!h || h->len != len || !text_equal(mc->nb, off, h, len))
		return;
	if (n < AMLG_NAMES_MATCH_MAX)
		mc->set->k[n] = k;
	mc->set->n = n + 1;
}

/* Step j of the walk: character i = len - 1 - j joins the suffix. */
static long match_step(__u32 j, struct match_ctx *mc)
{
	__u32 len = mc->nb->len & (AMLG_NAME_MAX - 1), i, slen;
	__u8 c;

	if (j >= len)
		return 1;
	i = len - 1 - j;
	c = mc->nb->text[BOUND(i, AMLG_NAME_MAX - 1)];
	mc->h += c * mc->pw;
	mc->pw *= AMLG_NAME_HASH_BASE;
	slen = j + 1;
	if (i == 0)
		try_kind(mc, 0, slen, AMLG_HOST_EXACT);
	else if (mc->nb->text[BOUND(i - 1, AMLG_NAME_MAX - 1)] == '.')
		try_kind(mc, i, slen, AMLG_HOST_DOTWILD);
	try_kind(mc, i, slen, AMLG_HOST_CHARWILD);
	return 0;
}

/*
 * Add to set the patterns of slot's policy that nb matches; returns how many matched.  Also
 * leaves the whole name's hash in nb->hash.
 */
__noinline int name_match(__u32 slot, const struct amlg_pcfg *pc, struct amlg_namebuf *nb,
			  struct amlg_match_set *set)
{
	struct match_ctx mc = { .nb = nb, .set = set, .pc = pc, .pw = 1 };
	__u32 before;

	if (!pc || !nb || !set)
		return 0;
	before = set->n;
	slot &= 1;
	mc.hosts = bpf_map_lookup_elem(&amlg_hosts, &slot);
	if (!mc.hosts || nb->bad || !nb->len || nb->len >= AMLG_NAME_MAX)
		return 0;
	bpf_loop(AMLG_NAME_MAX, match_step, &mc, 0);
	nb->hash = mc.h;
	return (int)(set->n - before);
}

#endif
