/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Packet builder for "explain" and the datapath tests: a declarative description of a frame (VLAN tags, IPv4
 * options or IPv6 extension headers, fragments, TCP/UDP/ICMP, an ICMP error quoting another
 * packet) turned into bytes with correct lengths and checksums.
 */
#ifndef AMLG_OFFLINE_PKTGEN_H
#define AMLG_OFFLINE_PKTGEN_H

#include <stddef.h>
#include <stdint.h>

#define PKT_MAX 2048

enum pkt_ext { EXT_NONE, EXT_HOP, EXT_ROUTING, EXT_DSTOPTS, EXT_FRAG, EXT_AH };

struct pkt_spec {
	const char *src, *dst; /* addresses; the family follows from them */
	uint8_t proto; /* IPPROTO_* */
	uint16_t sport, dport; /* ICMP echo: sport is the identifier */
	uint8_t tcp_flags; /* default SYN when 0 and proto is TCP */
	uint8_t icmp_type, icmp_code;
	uint16_t vlan[3]; /* VLAN IDs, outer first; 0 ends the list */
	uint16_t vlan_tpid[3]; /* 0 = 0x8100 */
	uint8_t ip_opts; /* IPv4 option bytes (multiple of 4) */
	enum pkt_ext ext[10]; /* IPv6 extension headers in order */
	int frag; /* 0 none; 1 first fragment (MF); 2 the last fragment; 3 a middle one (MF) */
	uint16_t frag_off; /* bytes, for frag >= 2 */
	uint32_t frag_id;
	uint16_t payload; /* bytes of payload after the transport header */
	const uint8_t *data; /* the payload's bytes (payload of them), instead of filler */
	const struct pkt_spec *quote; /* ICMP error: the packet quoted */
	uint16_t ethertype; /* override (non-IP tests) */
	uint8_t tcp_doff; /* override the TCP data offset (words) */
	uint8_t ihl; /* override the IPv4 header length (words) */
	uint16_t ip_len; /* override the IP total/payload length */
};

/* Build the frame into buf; returns its length, or 0 if it does not fit or the spec is bad. */
size_t pkt_build(const struct pkt_spec *s, uint8_t *buf, size_t cap);

#endif
