/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The direction of an offline packet.  The live hooks know it (ingress or egress, through the
 * role); a packet of an offline batch ("check") may not, and is given it here from which of its
 * addresses lie in the protected side's prefixes (amlg_local4, amlg_local6).
 */
#ifndef AMLG_DIRECTION_H
#define AMLG_DIRECTION_H

#include "conntrack.h"

/* Whether addr, of pkt's family, lies in the protected side's prefixes. */
static __always_inline int is_local(const struct amlg_pkt *pkt, const __u8 *addr)
{
	int local;

	if (pkt->family == 4) {
		struct amlg_lpm4_key k = { .prefixlen = AMLG_LPM_HDR_BITS + 32 };

		__builtin_memcpy(k.addr, addr, 4);
		local = bpf_map_lookup_elem(&amlg_local4, &k) != NULL;
	} else {
		struct amlg_lpm6_key k = { .prefixlen = AMLG_LPM_HDR_BITS + 128 };

		__builtin_memcpy(k.addr, addr, 16);
		local = bpf_map_lookup_elem(&amlg_local6, &k) != NULL;
	}
	return local;
}

/*
 * Offline only: the direction of a packet from which of its addresses is local.  Between two
 * local addresses, a packet is "in" when it answers a flow the other side opened (the flow is
 * tracked that way round), else "out"; AMLG_DIR_AUTO when neither address is local.  Global,
 * like the other helpers of amlg_judge(), to keep its stack frame small.
 */
__noinline int local_dir(const struct amlg_pkt *pkt, __u64 now)
{
	struct amlg_ct_key k = {};
	struct amlg_cfg *cfg;
	__u32 zero = 0;
	int dir, src, dst;

	cfg = bpf_map_lookup_elem(&amlg_cfg, &zero);
	if (!pkt || !cfg) {
		dir = AMLG_DIR_AUTO;
	} else if (!pkt->family) {
		dir = AMLG_DIR_OUT;
	} else {
		src = is_local(pkt, pkt->saddr);
		dst = is_local(pkt, pkt->daddr);
		if (!dst) {
			dir = src ? AMLG_DIR_OUT : AMLG_DIR_AUTO;
		} else if (!src) {
			dir = AMLG_DIR_IN;
		} else {
			ct_key_from(&k, pkt->family, pkt->proto, AMLG_DIR_IN, pkt->saddr,
				    pkt->daddr, pkt->sport, pkt->dport);
			dir = ct_lookup(cfg, &k, pkt->tcp_flags, now) ? AMLG_DIR_IN : AMLG_DIR_OUT;
		}
	}
	return dir;
}

#endif
