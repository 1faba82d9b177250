// SPDX-License-Identifier: GPL-2.0-only
/* Packet builder for the datapath tests. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "offline/pktgen.h"

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t acc)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		acc += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		acc += (uint32_t)p[n - 1] << 8;
	return acc;
}

static uint16_t fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

static int family_of(const char *a)
{
	return strchr(a, ':') ? 6 : 4;
}

static int addr(const char *s, uint8_t *out)
{
	return inet_pton(family_of(s) == 6 ? AF_INET6 : AF_INET, s, out) == 1 ? 0 : -1;
}

static size_t build_l3(const struct pkt_spec *s, uint8_t *buf, size_t cap);

/* Transport header and payload; returns its length. */
static size_t build_l4(const struct pkt_spec *s, int fam, uint8_t *p, size_t cap)
{
	size_t hl = 0, n;

	if (s->frag >= 2) {
		n = s->payload ? s->payload : 8;
		if (n > cap)
			return 0;
		memset(p, 0xab, n);
		return n;
	}
	switch (s->proto) {
	case IPPROTO_TCP:
		hl = 20;
		if (hl > cap)
			return 0;
		memset(p, 0, hl);
		put16(p, s->sport);
		put16(p + 2, s->dport);
		put32(p + 4, 1000);
		put32(p + 8, s->tcp_flags & 0x10 ? 2000 : 0);
		p[12] = (uint8_t)((s->tcp_doff ? s->tcp_doff : 5) << 4);
		p[13] = s->tcp_flags ? s->tcp_flags : 0x02;
		put16(p + 14, 65535);
		break;
	case IPPROTO_UDP:
		hl = 8;
		if (hl > cap)
			return 0;
		memset(p, 0, hl);
		put16(p, s->sport);
		put16(p + 2, s->dport);
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		hl = 8;
		if (hl > cap)
			return 0;
		memset(p, 0, hl);
		p[0] = s->icmp_type;
		p[1] = s->icmp_code;
		put16(p + 4, s->sport);
		put16(p + 6, 1);
		if (s->quote) {
			uint8_t q[PKT_MAX];
			size_t ql = build_l3(s->quote, q, sizeof(q));

			if (!ql)
				return 0;
			if (ql > 64)
				ql = 64;
			memset(p + 4, 0, 4);
			if (hl + ql > cap)
				return 0;
			memcpy(p + hl, q, ql);
			hl += ql;
		}
		break;
	default:
		break;
	}
	n = s->payload;
	if (hl + n > cap)
		return 0;
	if (s->data)
		memcpy(p + hl, s->data, n);
	else
		memset(p + hl, 0xab, n);
	(void)fam;
	return hl + n;
}

static void l4_checksum(const struct pkt_spec *s, int fam, const uint8_t *src, const uint8_t *dst,
			uint8_t *l4, size_t len)
{
	uint32_t acc = 0;
	size_t off;

	if (s->frag >= 2)
		return;
	if (s->proto == IPPROTO_TCP)
		off = 16;
	else if (s->proto == IPPROTO_UDP)
		off = 6;
	else if (s->proto == IPPROTO_ICMP || s->proto == IPPROTO_ICMPV6)
		off = 2;
	else
		return;
	if (s->proto == IPPROTO_UDP)
		put16(l4 + 4, (uint16_t)len);
	if (s->proto != IPPROTO_ICMP) {
		size_t alen = fam == 4 ? 4 : 16;

		acc = sum16(src, alen, acc);
		acc = sum16(dst, alen, acc);
		acc += s->proto;
		acc += (uint32_t)len;
	}
	l4[off] = l4[off + 1] = 0;
	put16(l4 + off, fold(sum16(l4, len, acc)));
}

static size_t build_v4(const struct pkt_spec *s, uint8_t *buf, size_t cap)
{
	size_t hl = 20 + s->ip_opts, l4;
	uint16_t fo = 0;

	if (hl > cap)
		return 0;
	memset(buf, 0, hl);
	buf[0] = (uint8_t)(0x40 | (s->ihl ? s->ihl : hl / 4));
	put16(buf + 4, (uint16_t)(s->frag_id ? s->frag_id : 0x1234));
	if (s->frag == 1)
		fo = 0x2000;
	else if (s->frag >= 2)
		fo = (uint16_t)(s->frag_off / 8 | (s->frag == 3 ? 0x2000 : 0));
	put16(buf + 6, fo);
	buf[8] = 64;
	buf[9] = s->proto;
	if (addr(s->src, buf + 12) || addr(s->dst, buf + 16))
		return 0;
	memset(buf + 20, 1, s->ip_opts); /* NOP options */
	l4 = build_l4(s, 4, buf + hl, cap - hl);
	if (!l4 && (s->proto == IPPROTO_TCP || s->proto == IPPROTO_UDP || s->frag >= 2))
		return 0;
	put16(buf + 2, s->ip_len ? s->ip_len : (uint16_t)(hl + l4));
	l4_checksum(s, 4, buf + 12, buf + 16, buf + hl, l4);
	put16(buf + 10, fold(sum16(buf, hl, 0)));
	return hl + l4;
}

static uint8_t ext_proto(enum pkt_ext e)
{
	switch (e) {
	case EXT_HOP:
		return IPPROTO_HOPOPTS;
	case EXT_ROUTING:
		return IPPROTO_ROUTING;
	case EXT_DSTOPTS:
		return IPPROTO_DSTOPTS;
	case EXT_FRAG:
		return IPPROTO_FRAGMENT;
	case EXT_AH:
		return IPPROTO_AH;
	default:
		return 0;
	}
}

static size_t build_v6(const struct pkt_spec *s, uint8_t *buf, size_t cap)
{
	size_t off = 40, l4;
	int n = 0;

	if (cap < 40)
		return 0;
	memset(buf, 0, 40);
	buf[0] = 0x60;
	buf[7] = 64;
	if (addr(s->src, buf + 8) || addr(s->dst, buf + 24))
		return 0;
	while (n < 10 && s->ext[n] != EXT_NONE)
		n++;
	/* A fragment request without an explicit header gets one. */
	buf[6] = n ? ext_proto(s->ext[0]) : s->frag ? IPPROTO_FRAGMENT : s->proto;
	for (int i = 0; i < n; i++) {
		uint8_t nh = i + 1 < n ? ext_proto(s->ext[i + 1]) : s->proto;
		size_t len = s->ext[i] == EXT_AH ? 12 : 8;

		if (off + len > cap)
			return 0;
		memset(buf + off, 0, len);
		buf[off] = nh;
		if (s->ext[i] == EXT_AH) {
			buf[off + 1] = 1;
		} else if (s->ext[i] == EXT_FRAG) {
			uint16_t fo = s->frag >= 2 ? (uint16_t)(s->frag_off & ~7) : 0;

			put16(buf + off + 2, (uint16_t)(fo | (s->frag & 1 ? 1 : 0)));
			put32(buf + off + 4, s->frag_id ? s->frag_id : 0x1234);
		} else if (s->ext[i] == EXT_HOP || s->ext[i] == EXT_DSTOPTS) {
			buf[off + 2] = 1; /* PadN, 4 bytes of padding */
			buf[off + 3] = 4;
		} else if (s->ext[i] == EXT_ROUTING) {
			buf[off + 2] = 4; /* segment routing type, no segments left */
		}
		off += len;
	}
	if (!n && s->frag) {
		uint16_t fo = s->frag >= 2 ? (uint16_t)(s->frag_off & ~7) : 0;

		if (off + 8 > cap)
			return 0;
		memset(buf + off, 0, 8);
		buf[off] = s->proto;
		put16(buf + off + 2, (uint16_t)(fo | (s->frag & 1 ? 1 : 0)));
		put32(buf + off + 4, s->frag_id ? s->frag_id : 0x1234);
		off += 8;
	}
	l4 = build_l4(s, 6, buf + off, cap - off);
	if (!l4 && (s->proto == IPPROTO_TCP || s->proto == IPPROTO_UDP))
		return 0;
	put16(buf + 4, s->ip_len ? s->ip_len : (uint16_t)(off - 40 + l4));
	l4_checksum(s, 6, buf + 8, buf + 24, buf + off, l4);
	return off + l4;
}

static size_t build_l3(const struct pkt_spec *s, uint8_t *buf, size_t cap)
{
	return family_of(s->src) == 4 ? build_v4(s, buf, cap) : build_v6(s, buf, cap);
}

size_t pkt_build(const struct pkt_spec *s, uint8_t *buf, size_t cap)
{
	static const uint8_t dmac[6] = { 0x02, 0, 0, 0, 0, 2 }, smac[6] = { 0x02, 0, 0, 0, 0, 1 };
	size_t off = 12, l3;
	int fam;

	if (cap < 64)
		return 0;
	memcpy(buf, dmac, 6);
	memcpy(buf + 6, smac, 6);
	for (int i = 0; i < 3 && s->vlan[i]; i++) {
		put16(buf + off, s->vlan_tpid[i] ? s->vlan_tpid[i] : 0x8100);
		put16(buf + off + 2, s->vlan[i]);
		off += 4;
	}
	if (s->ethertype) {
		put16(buf + off, s->ethertype);
		off += 2;
		memset(buf + off, 0, 46);
		return off + 46;
	}
	fam = family_of(s->src);
	put16(buf + off, fam == 4 ? 0x0800 : 0x86dd);
	off += 2;
	l3 = build_l3(s, buf + off, cap - off);
	return l3 ? off + l3 : 0;
}
