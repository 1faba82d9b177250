/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Packet parser: Ethernet, up to two VLAN tags, IPv4 (options, fragments), IPv6 (a bounded chain
 * of extension headers, fragments), TCP, UDP, ICMP and ICMPv6 including the packet an ICMP error
 * quotes.  Every read is bounds-checked against data_end; offsets are clamped so that the
 * verifier can follow them.  The result is a struct amlg_pkt; anything that cannot be parsed
 * completely is PARSE_MALFORMED, which the datapath treats as a violation.
 */
#ifndef AMLG_PARSE_H
#define AMLG_PARSE_H

#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>

#include "amlguard_abi.h"

#define AMLG_MAX_VLANS 2
#define AMLG_MAX_EXTHDRS 8
/* Headers must end within the first AMLG_MAX_HDR_OFF bytes of the packet. */
#define AMLG_MAX_HDR_OFF 512
#define AMLG_PULL_LEN 256

/* ICMP and ICMPv6 share this layout; <linux/icmp.h> drags in libc headers. */
struct icmp_hdr {
	__u8 type;
	__u8 code;
	__u16 csum;
	__be16 id; /* echo request and reply */
	__be16 seq;
};

#define ICMP_ECHOREPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_SOURCE_QUENCH 4
#define ICMP_REDIRECT 5
#define ICMP_ECHO 8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAMETERPROB 12
#define ICMPV6_ECHO_REQUEST 128
#define ICMPV6_ECHO_REPLY 129

#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif

enum parse_result {
	PARSE_OK,
	PARSE_LINK, /* ARP, neighbour discovery, MLD: always pass */
	PARSE_NON_IP,
	PARSE_MALFORMED,
	PARSE_L4, /* parse_l3(): the IP header is read, the transport header at l4_off is next */
	PARSE_L3, /* parse_link(): the IP header at l3_off is next (ETH_P_IP or _IPV6 in ethertype) */
};

#define FRAG_NONE 0
#define FRAG_FIRST 1 /* offset 0, more fragments follow */
#define FRAG_LATER 2 /* offset > 0: no transport header */

struct amlg_pkt {
	__u32 len; /* wire length */
	__u32 l3_end; /* offset just past the IP packet (0 for a BIG TCP super-packet) */
	__u32 payload_off; /* TCP/UDP payload: offset and length (0: none) */
	__u32 payload_len;
	__u32 frag_id;
	__u32 l4_off; /* the transport header's offset */
	__u16 sport, dport; /* host order; ICMP echo: the identifier in both */
	__u16 vlan[AMLG_MAX_VLANS];
	__u8 family; /* 4 or 6 */
	__u8 proto;
	__u8 frag; /* FRAG_* */
	__u8 tcp_flags;
	__u8 icmp_type, icmp_code;
	__u8 quoted; /* an ICMP error quoting a packet: q_* are valid */
	__u8 q_proto;
	__u16 q_sport, q_dport;
	__u8 nvlan; /* VLAN tags read (vlan[] holds their IDs, 0 being one) */
	__u8 frag_proto; /* what the IPv4 header or the IPv6 Fragment header names: keys fragments */
	__u8 frag_dir; /* set by the datapath: 1 + a later fragment's direction from its entry */
	__u8 pad[3];
	__u16 l3_off; /* parse_link(): where the IP header starts */
	__u16 ethertype; /* parse_link(): ETH_P_IP or ETH_P_IPV6, network order */
	__u8 saddr[16];
	__u8 daddr[16];
	__u8 q_saddr[16];
	__u8 q_daddr[16];
};

struct cursor {
	void *data;
	void *end; /* packet data: the end of the linear data */
	__u32 len; /* wire length: skb->len (maybe longer than the linear data) */
	__u32 is_buf; /* data is an offline batch buffer (a map value), not packet data */
	__u32 avail; /* is_buf: bytes in the buffer (a capture may have cut the packet) */
};

/*
 * A pointer to size bytes at off, or NULL if they are not all in the packet.  The mask does not
 * change an offset that passed the check; it gives the verifier a bound it can see however the
 * compiler arranges the comparison (offline batches read from a map value, where the end
 * pointer tells the verifier nothing).  It is in asm because the compiler, knowing the offset
 * is below AMLG_MAX_HDR_OFF, would drop it.
 */
/*
 * x & m, done by the program even where the compiler can tell it changes nothing.  m is a
 * power of two minus one: the result is x itself whenever x <= m.
 */
#define BOUND(x, m)                                                                 \
	({                                                                          \
		_Static_assert(((m) & ((m) + 1)) == 0, "BOUND: m must be 2^k - 1"); \
		__u64 __b = (x);                                                    \
		asm volatile("%0 &= %1" : "+r"(__b) : "i"(m));                      \
		__b;                                                                \
	})

#define AMLG_HDR_OFF_MASK 1023
#define CUR_PTR(c, off, size)                                                                  \
	({                                                                                     \
		void *__p = NULL;                                                              \
		__u32 __o = (off);                                                             \
		if ((c)->is_buf) {                                                             \
			if (__o <= AMLG_MAX_HDR_OFF && __o + (size) <= (c)->avail) {           \
				__u64 __m = __o;                                               \
				asm volatile("%0 &= %1" : "+r"(__m) : "i"(AMLG_HDR_OFF_MASK)); \
				__p = (c)->data + __m;                                         \
			}                                                                      \
		} else {                                                                       \
			void *__q = (c)->data + __o;                                           \
			if (__o <= AMLG_MAX_HDR_OFF && __q + (size) <= (c)->end)               \
				__p = __q;                                                     \
		}                                                                              \
		__p;                                                                           \
	})

static __always_inline void copy_addr4(__u8 *dst, const void *src)
{
	__builtin_memcpy(dst, src, 4);
}

static __always_inline void copy_addr6(__u8 *dst, const void *src)
{
	__builtin_memcpy(dst, src, 16);
}

static __always_inline int icmp4_is_error(__u8 type)
{
	return type == ICMP_DEST_UNREACH || type == ICMP_SOURCE_QUENCH || type == ICMP_REDIRECT ||
	       type == ICMP_TIME_EXCEEDED || type == ICMP_PARAMETERPROB;
}

static __always_inline int icmp6_is_error(__u8 type)
{
	return type >= 1 && type <= 4;
}

/* Neighbour discovery (133-137) and MLD (130-132, 143): link-local control, always allowed. */
static __always_inline int icmp6_is_link(__u8 type)
{
	return (type >= 130 && type <= 137) || type == 143;
}

/* First 4 bytes of a transport header: ports for TCP/UDP, identifier for ICMP echo. */
static __always_inline void quoted_ports(struct cursor *c, __u32 off, __u8 proto, __u16 *sport,
					 __u16 *dport)
{
	__u16 *p = CUR_PTR(c, off, 4);

	*sport = *dport = 0;
	if (!p)
		return;
	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) {
		*sport = bpf_ntohs(p[0]);
		*dport = bpf_ntohs(p[1]);
	} else if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
		__u16 *id = CUR_PTR(c, off + 4, 2);

		if (id)
			*sport = *dport = bpf_ntohs(*id);
	}
}

/* The IPv4 header an ICMP error quotes (it must be complete up to its ports). */
static __always_inline int parse_quoted4(struct cursor *c, __u32 off, struct amlg_pkt *pkt)
{
	struct iphdr *ip = CUR_PTR(c, off, sizeof(*ip));

	if (!ip || ip->version != 4 || ip->ihl < 5)
		return PARSE_MALFORMED;
	pkt->q_proto = ip->protocol;
	copy_addr4(pkt->q_saddr, &ip->saddr);
	copy_addr4(pkt->q_daddr, &ip->daddr);
	quoted_ports(c, off + ip->ihl * 4, ip->protocol, &pkt->q_sport, &pkt->q_dport);
	pkt->quoted = 1;
	return PARSE_OK;
}

static __always_inline int parse_quoted6(struct cursor *c, __u32 off, struct amlg_pkt *pkt)
{
	struct ipv6hdr *ip6 = CUR_PTR(c, off, sizeof(*ip6));

	if (!ip6 || ip6->version != 6)
		return PARSE_MALFORMED;
	/* Extension headers in a quoted packet are not walked: the flow is then untracked. */
	pkt->q_proto = ip6->nexthdr;
	copy_addr6(pkt->q_saddr, &ip6->saddr);
	copy_addr6(pkt->q_daddr, &ip6->daddr);
	quoted_ports(c, off + sizeof(*ip6), ip6->nexthdr, &pkt->q_sport, &pkt->q_dport);
	pkt->quoted = 1;
	return PARSE_OK;
}

/*
 * The transport header must lie inside the IP packet, not in the frame's padding: its end is
 * the IP length (l3_end), or the frame's for a super-packet whose IP length is 0.
 */
static __always_inline int parse_l4(struct cursor *c, __u32 off, struct amlg_pkt *pkt)
{
	__u32 end = pkt->l3_end ? pkt->l3_end : c->len;

	if (pkt->frag == FRAG_LATER)
		return PARSE_OK;
	switch (pkt->proto) {
	case IPPROTO_TCP: {
		struct tcphdr *th = CUR_PTR(c, off, sizeof(*th));
		__u32 hl;

		if (!th || off + sizeof(*th) > end || th->doff < 5 || off + th->doff * 4 > end)
			return PARSE_MALFORMED;
		hl = th->doff * 4;
		pkt->sport = bpf_ntohs(th->source);
		pkt->dport = bpf_ntohs(th->dest);
		pkt->tcp_flags = ((__u8 *)th)[13];
		if (pkt->l3_end > off + hl) {
			pkt->payload_off = off + hl;
			pkt->payload_len = pkt->l3_end - off - hl;
		}
		return PARSE_OK;
	}
	case IPPROTO_UDP: {
		struct udphdr *uh = CUR_PTR(c, off, sizeof(*uh));
		__u32 ul;

		if (!uh || off + sizeof(*uh) > end)
			return PARSE_MALFORMED;
		pkt->sport = bpf_ntohs(uh->source);
		pkt->dport = bpf_ntohs(uh->dest);
		ul = bpf_ntohs(uh->len);
		/*
		 * The UDP length covers the whole datagram: in an unfragmented packet it must fit
		 * the IP payload (0 only in a jumbogram or super-packet, where the IP length is 0
		 * too); a first fragment carries only part of it.
		 */
		if (pkt->frag == FRAG_NONE &&
		    (ul ? ul < sizeof(*uh) || off + ul > end : pkt->l3_end != 0))
			return PARSE_MALFORMED;
		if (ul > sizeof(*uh) && off + ul <= end) {
			pkt->payload_off = off + sizeof(*uh);
			pkt->payload_len = ul - sizeof(*uh);
		}
		return PARSE_OK;
	}
	case IPPROTO_ICMP: {
		struct icmp_hdr *ih = CUR_PTR(c, off, sizeof(*ih));

		if (!ih || off + sizeof(*ih) > end)
			return PARSE_MALFORMED;
		pkt->icmp_type = ih->type;
		pkt->icmp_code = ih->code;
		if (ih->type == ICMP_ECHO || ih->type == ICMP_ECHOREPLY)
			pkt->sport = pkt->dport = bpf_ntohs(ih->id);
		else if (icmp4_is_error(ih->type) && pkt->frag == FRAG_NONE)
			return parse_quoted4(c, off + sizeof(*ih), pkt);
		return PARSE_OK;
	}
	case IPPROTO_ICMPV6: {
		struct icmp_hdr *ih = CUR_PTR(c, off, sizeof(*ih));

		if (!ih || off + sizeof(*ih) > end)
			return PARSE_MALFORMED;
		pkt->icmp_type = ih->type;
		pkt->icmp_code = ih->code;
		if (icmp6_is_link(ih->type))
			return PARSE_LINK;
		if (ih->type == ICMPV6_ECHO_REQUEST || ih->type == ICMPV6_ECHO_REPLY)
			pkt->sport = pkt->dport = bpf_ntohs(ih->id);
		else if (icmp6_is_error(ih->type) && pkt->frag == FRAG_NONE)
			return parse_quoted6(c, off + sizeof(*ih), pkt);
		return PARSE_OK;
	}
	default:
		return PARSE_OK; /* classified by protocol alone */
	}
}

static __always_inline int parse_ipv4(struct cursor *c, __u32 off, struct amlg_pkt *pkt)
{
	struct iphdr *ip = CUR_PTR(c, off, sizeof(*ip));
	__u32 hlen, tot;
	__u16 frag;

	if (!ip || ip->version != 4 || ip->ihl < 5)
		return PARSE_MALFORMED;
	hlen = ip->ihl * 4;
	tot = bpf_ntohs(ip->tot_len);
	/* tot_len 0 is only legitimate on a BIG TCP super-packet (longer than 64 KiB). */
	if (tot ? tot < hlen || off + tot > c->len : c->len - off <= 0xffff)
		return PARSE_MALFORMED;
	if (!CUR_PTR(c, off, hlen))
		return PARSE_MALFORMED;
	pkt->family = 4;
	pkt->proto = ip->protocol;
	pkt->l3_end = tot ? off + tot : 0;
	copy_addr4(pkt->saddr, &ip->saddr);
	copy_addr4(pkt->daddr, &ip->daddr);
	frag = bpf_ntohs(ip->frag_off);
	if (frag & 0x1fff)
		pkt->frag = FRAG_LATER;
	else if (frag & 0x2000)
		pkt->frag = FRAG_FIRST;
	pkt->frag_id = bpf_ntohs(ip->id);
	pkt->frag_proto = ip->protocol;
	pkt->l4_off = off + hlen;
	return PARSE_L4;
}

static __always_inline int ipv6_is_ext(__u8 nh)
{
	return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_FRAGMENT ||
	       nh == IPPROTO_DSTOPTS || nh == IPPROTO_AH;
}

static __always_inline int parse_ipv6(struct cursor *c, __u32 off, struct amlg_pkt *pkt)
{
	struct ipv6hdr *ip6 = CUR_PTR(c, off, sizeof(*ip6));
	__u32 plen, end;
	__u8 nh;

	if (!ip6 || ip6->version != 6)
		return PARSE_MALFORMED;
	plen = bpf_ntohs(ip6->payload_len);
	if (plen && off + sizeof(*ip6) + plen > c->len)
		return PARSE_MALFORMED;
	pkt->family = 6;
	copy_addr6(pkt->saddr, &ip6->saddr);
	copy_addr6(pkt->daddr, &ip6->daddr);
	/*
	 * Payload length 0: a jumbogram (RFC 2675, a hop-by-hop header follows) or a BIG TCP
	 * super-packet (more than 64 KiB follow the header), whose length is the frame's; else
	 * an empty payload, and what follows the header is the link's padding (Ethernet pads
	 * frames to 60 bytes), as it is after any IP packet shorter than its frame.
	 */
	if (plen)
		pkt->l3_end = off + sizeof(*ip6) + plen;
	else if (ip6->nexthdr != IPPROTO_HOPOPTS && c->len - off - sizeof(*ip6) <= 0xffff)
		pkt->l3_end = off + sizeof(*ip6);
	nh = ip6->nexthdr;
	off += sizeof(*ip6);
	end = pkt->l3_end ? pkt->l3_end : c->len;

	/*
	 * pkt->proto follows the walk: a packet refused inside the chain is reported with the
	 * last Next Header reached (the header that could not be read, or the one past the bound).
	 */
	for (int i = 0; i < AMLG_MAX_EXTHDRS; i++) {
		__u8 *h;

		pkt->proto = nh;
		if (!ipv6_is_ext(nh))
			break;
		/* Hop-by-hop options are only valid right after the fixed header. */
		if (nh == IPPROTO_HOPOPTS && i)
			return PARSE_MALFORMED;
		/* every header lies inside the IP packet, none in the frame's padding */
		h = CUR_PTR(c, off, 8);
		if (!h || off + 8 > end)
			return PARSE_MALFORMED;
		if (nh == IPPROTO_FRAGMENT) {
			__u16 fo = bpf_ntohs(*(__u16 *)(h + 2));

			if (fo & 0xfff8)
				pkt->frag = FRAG_LATER;
			else if (fo & 1)
				pkt->frag = FRAG_FIRST;
			/* else an atomic fragment (RFC 6946): an ordinary packet */
			pkt->frag_id = bpf_ntohl(*(__u32 *)(h + 4));
			/*
			 * A fragment's datagram is keyed by the protocol named here, which every
			 * fragment carries -- not by the one the first fragment goes on to after
			 * more extension headers (Destination Options, AH), which later ones lack.
			 */
			pkt->frag_proto = h[0];
			nh = h[0];
			off += 8;
		} else if (nh == IPPROTO_AH) {
			nh = h[0];
			off += ((__u32)h[1] + 2) * 4;
		} else {
			nh = h[0];
			off += ((__u32)h[1] + 1) * 8;
		}
		if (off > AMLG_MAX_HDR_OFF || off > end)
			return PARSE_MALFORMED;
		if (pkt->frag == FRAG_LATER)
			break;
	}
	pkt->proto = nh;
	/* A chain longer than the bound: not parsed, so not classified. */
	if (ipv6_is_ext(nh) && pkt->frag != FRAG_LATER)
		return PARSE_MALFORMED;
	pkt->l4_off = off;
	return PARSE_L4;
}

/*
 * The link layer: Ethernet and up to AMLG_MAX_VLANS tags.  vlan_tci: an offloaded tag
 * (skb->vlan_present), or 0.  An IP packet comes back as PARSE_L3 with l3_off and ethertype set:
 * the caller goes on with parse_l3() in a function of its own, so that the verifier walks the
 * IP parsers once, not once per number of VLAN tags.
 */
static __always_inline int parse_link(struct cursor *c, __u16 vlan_tci, int vlan_present,
				      struct amlg_pkt *pkt)
{
	struct ethhdr *eth = CUR_PTR(c, 0, sizeof(*eth));
	__u32 off = sizeof(*eth);
	__u16 proto;
	int nvlan = 0;

	if (!eth)
		return PARSE_MALFORMED;
	pkt->len = c->len;
	proto = eth->h_proto;
	if (vlan_present) {
		pkt->vlan[0] = vlan_tci & 0x0fff;
		nvlan = 1;
	}
	for (int i = 0; i < AMLG_MAX_VLANS + 1; i++) {
		__u16 *tag;

		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		/* A third tag (offloaded ones included) is deeper than we classify. */
		if (nvlan >= AMLG_MAX_VLANS) {
			pkt->nvlan = (__u8)nvlan;
			return PARSE_MALFORMED;
		}
		tag = CUR_PTR(c, off, 4);
		if (!tag)
			return PARSE_MALFORMED;
		if (nvlan == 0)
			pkt->vlan[0] = bpf_ntohs(tag[0]) & 0x0fff;
		else
			pkt->vlan[1] = bpf_ntohs(tag[0]) & 0x0fff;
		nvlan++;
		proto = tag[1];
		off += 4;
	}
	pkt->nvlan = (__u8)nvlan;
	if (proto == bpf_htons(ETH_P_ARP))
		return PARSE_LINK;
	if (proto != bpf_htons(ETH_P_IP) && proto != bpf_htons(ETH_P_IPV6))
		return PARSE_NON_IP;
	pkt->l3_off = (__u16)off;
	pkt->ethertype = proto;
	return PARSE_L3;
}

/*
 * The IP header at pkt->l3_off (see parse_link()).  An IP packet comes back as PARSE_L4: the
 * caller goes on with parse_l4(c, pkt->l4_off, pkt) in a function of its own, so that the
 * verifier walks the transport parser once, not once per path through extension headers.
 */
static __always_inline int parse_l3(struct cursor *c, struct amlg_pkt *pkt)
{
	__u32 off = pkt->l3_off;

	if (off > sizeof(struct ethhdr) + 4 * AMLG_MAX_VLANS)
		return PARSE_MALFORMED;
	if (pkt->ethertype == bpf_htons(ETH_P_IP))
		return parse_ipv4(c, off, pkt);
	return parse_ipv6(c, off, pkt);
}

#endif
