// SPDX-License-Identifier: GPL-2.0-only
/*
 * amlg-gencap: write a capture of whole flows described in a spec file, for the "check" tests.
 *
 *   amlg-gencap [-l en10mb|sll|sll2|raw] [-z] [-u] [-t START_SEC] SPEC OUT
 *
 * Each non-comment line of SPEC is one flow, as its initiator sends it:
 *   NAME PROTO SRC SPORT DST DPORT [OPTION]...
 * PROTO is tcp, udp, icmp, icmpv6, a protocol number, or "ether" for one non-IP frame whose
 * ethertype is SPORT (decimal; the addresses are not used).  TCP flows are a handshake, one data
 * segment each way and FINs; UDP a request and a reply; ICMP (SPORT = echo id, DPORT unused) an
 * echo and its reply; any other protocol one packet each way.  Options:
 *   vlan=N[,N...]   VLAN tags, outer first (0 is a tag too: VLAN ID 0, priority tagging)
 *   tpid=88a8       the outer tag's TPID (802.1ad), the others 0x8100
 *   qinq=M          an 802.1ad tag M outside the vlan= tags (vlan=N qinq=M: M then N)
 *   repeat=K        K flows, the source port (echo id) counting up
 *   payload=N       the initiator's payload bytes (default 100 TCP, 40 UDP, 32 ICMP, 0 other)
 *   pad=N           frames shorter than N bytes padded with zeros to N (Ethernet: 60)
 *   ext=H[,H...]    IPv6 extension headers in order: hop, routing, dst, frag, ah
 *   frags=N         the initiator's first packet (SYN, request, echo) in N fragments of 8 bytes
 *                   and the rest; the headers after a frag in ext= go in the first fragment
 *   unreach         the responder answers with an ICMP destination unreachable quoting the
 *                   request instead of a reply (UDP)
 *   noreply         the initiator's packets only
 * Anything else after the ports is left for the test (the expected verdict, for instance).
 * Packets are 1 ms apart; -z writes gzip.  Link types other than Ethernet get the frames' IP
 * packets (and their padding) behind their own header, as a Linux host would have captured them;
 * raw IP captures leave the frames that are not IP out.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "offline/pktgen.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

struct out {
	pcap_t *pd;
	pcap_dumper_t *d;
	int dlt;
	uint64_t ns;
	unsigned long packets;
	bool micro;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Write one frame, re-framed for the link type. */
static void emit(struct out *o, const uint8_t *frame, size_t len)
{
	uint8_t buf[PKT_MAX + 32];
	struct pcap_pkthdr h = { 0 };
	size_t l3 = 12, n;
	uint16_t type;

	/* skip VLAN tags: the other link types carry the IP packet itself */
	while (frame[l3] == 0x81 || frame[l3] == 0x88)
		l3 += 4;
	type = (uint16_t)(frame[l3] << 8 | frame[l3 + 1]);
	l3 += 2;
	/* a raw IP capture has no way to carry anything else */
	if (o->dlt == DLT_RAW && type != 0x0800 && type != 0x86dd)
		return;
	switch (o->dlt) {
	case DLT_LINUX_SLL:
		memset(buf, 0, 16);
		put16(buf + 2, 1); /* ARPHRD_ETHER */
		put16(buf + 4, 6);
		put16(buf + 14, type);
		memcpy(buf + 16, frame + l3, len - l3);
		n = 16 + len - l3;
		break;
	case DLT_LINUX_SLL2:
		memset(buf, 0, 20);
		put16(buf, type);
		put16(buf + 8, 1);
		buf[11] = 6;
		memcpy(buf + 20, frame + l3, len - l3);
		n = 20 + len - l3;
		break;
	case DLT_RAW:
		memcpy(buf, frame + l3, len - l3);
		n = len - l3;
		break;
	default:
		memcpy(buf, frame, len);
		n = len;
	}
	h.ts.tv_sec = (time_t)(o->ns / 1000000000);
	/* the fraction in the file's precision */
	h.ts.tv_usec = (suseconds_t)(o->ns % 1000000000 / (o->micro ? 1000 : 1));
	h.caplen = h.len = (bpf_u_int32)n;
	pcap_dump((u_char *)o->d, &h, buf);
	o->ns += 1000000;
	o->packets++;
}

/* What a spec line asks for beyond the packet builder's fields. */
struct flow_opts {
	uint16_t vlan[3];
	int nvlan;
	uint16_t tpid;
	unsigned pad;
	int payload; /* -1: the default */
	unsigned frags;
	bool unreach, noreply;
};

/* Add the VLAN tags (VLAN ID 0 included) to a frame built without, pad it, and write it. */
static void send_frame(struct out *o, const uint8_t *f, size_t n, const struct flow_opts *fo)
{
	uint8_t g[PKT_MAX + 16];
	size_t tags = 4 * (size_t)fo->nvlan;

	memcpy(g, f, 12);
	for (int i = 0; i < fo->nvlan; i++) {
		put16(g + 12 + 4 * i, i == 0 && fo->tpid ? fo->tpid : 0x8100);
		put16(g + 14 + 4 * i, fo->vlan[i]);
	}
	memcpy(g + 12 + tags, f + 12, n - 12);
	n += tags;
	if (n < fo->pad && fo->pad <= sizeof(g)) {
		memset(g + n, 0, fo->pad - n);
		n = fo->pad;
	}
	emit(o, g, n);
}

static size_t build(const struct pkt_spec *s, uint8_t *f)
{
	size_t n = pkt_build(s, f, PKT_MAX);

	if (!n) {
		fprintf(stderr, "amlg-gencap: cannot build a packet %s -> %s\n", s->src, s->dst);
		exit(2);
	}
	return n;
}

static void send_pkt(struct out *o, const struct pkt_spec *s, const struct flow_opts *fo)
{
	uint8_t f[PKT_MAX];
	size_t n = build(s, f);

	send_frame(o, f, n, fo);
}

static uint16_t ip_csum(const uint8_t *p, size_t n)
{
	uint32_t acc = 0;

	for (size_t i = 0; i < n; i += 2)
		acc += (uint32_t)p[i] << 8 | p[i + 1];
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

/* A later fragment (the builder writes no More Fragments flag on those): set it unless last. */
static void send_later(struct out *o, const struct pkt_spec *s, const struct flow_opts *fo,
		       size_t frag_hdr, bool last)
{
	uint8_t f[PKT_MAX];
	size_t n = build(s, f);

	if (!last && f[14] >> 4 == 4) {
		f[20] |= 0x20;
		f[24] = f[25] = 0;
		put16(f + 24, ip_csum(f + 14, (size_t)(f[14] & 15) * 4));
	} else if (!last) {
		f[14 + frag_hdr + 3] |= 1;
	}
	send_frame(o, f, n, fo);
}

/*
 * s in fo->frags fragments: the first carries the transport header and 8 bytes, each later one
 * 8 bytes, the last the rest.  IPv6 extension headers after the Fragment header belong to the
 * fragmentable part: only the first fragment has them, the later ones name the first of them
 * in the Fragment header.
 */
static void send_frags(struct out *o, const struct pkt_spec *s, const struct flow_opts *fo,
		       uint32_t id)
{
	bool v6 = strchr(s->src, ':') != NULL;
	uint16_t l4 = s->proto == IPPROTO_TCP ? 20 : 8, total, first;
	struct pkt_spec a = *s, b = *s;
	int fi = -1, n = 0;
	uint16_t after = 0;
	size_t fh = 40;

	while (n < 10 && s->ext[n] != EXT_NONE) {
		if (s->ext[n] == EXT_FRAG)
			fi = n;
		n++;
	}
	if (v6 && fi < 0) {
		/* a Fragment header after the others */
		a.ext[n] = b.ext[n] = EXT_FRAG;
		fi = n++;
	}
	for (int i = fi + 1; v6 && i < n; i++)
		after += s->ext[i] == EXT_AH ? 12 : 8;
	/* the first fragment carries the headers after the Fragment header whole, rounded up to 8 */
	first = (uint16_t)((after + l4 + 7) & ~7u);
	total = (uint16_t)(after + l4 + s->payload);
	if (total < first + 8)
		total = (uint16_t)(first + 8);
	a.frag = 1;
	a.frag_id = id;
	a.payload = (uint16_t)(first - after - l4);
	send_pkt(o, &a, fo);
	b.frag = 2;
	b.frag_id = id;
	if (v6) {
		b.ext[fi + 1] = EXT_NONE;
		for (int i = fi + 2; i < 10; i++)
			b.ext[i] = EXT_NONE;
		if (fi + 1 < n) {
			static const uint8_t nh[] = { [EXT_HOP] = 0,
						      [EXT_ROUTING] = 43,
						      [EXT_DSTOPTS] = 60,
						      [EXT_FRAG] = 44,
						      [EXT_AH] = 51 };

			b.proto = nh[s->ext[fi + 1]];
		}
	}
	for (int i = 0; v6 && i < fi; i++)
		fh += s->ext[i] == EXT_AH ? 12 : 8;
	for (unsigned i = 1; i < fo->frags; i++) {
		uint16_t off = (uint16_t)(first + 8 * (i - 1));
		bool last = i + 1 == fo->frags || off + 8 >= total;

		b.frag_off = off;
		b.payload = last ? (uint16_t)(total - off) : 8;
		send_later(o, &b, fo, fh, last);
		if (last)
			break;
	}
}

/* The initiator's first packet: whole, or in fragments. */
static void send_first(struct out *o, const struct pkt_spec *s, const struct flow_opts *fo)
{
	static uint32_t frag_id = 0x4000;

	if (fo->frags > 1)
		send_frags(o, s, fo, frag_id++);
	else
		send_pkt(o, s, fo);
}

static uint16_t payload(const struct flow_opts *fo, uint16_t dflt)
{
	return fo->payload >= 0 ? (uint16_t)fo->payload : dflt;
}

/* The responder's ICMP destination unreachable (port) quoting the initiator's packet q. */
static void send_unreach(struct out *o, const struct pkt_spec *q, const struct flow_opts *fo)
{
	bool v6 = strchr(q->src, ':') != NULL;
	struct pkt_spec e = { .src = q->dst, .dst = q->src, .quote = q };

	e.proto = v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	e.icmp_type = v6 ? 1 : 3;
	e.icmp_code = v6 ? 4 : 3;
	send_pkt(o, &e, fo);
}

/* One flow: the initiator's packets from s, the responder's with the roles swapped. */
static void flow(struct out *o, const struct pkt_spec *s, const struct flow_opts *fo)
{
	struct pkt_spec a = *s, b = *s;

	b.src = s->dst;
	b.dst = s->src;
	b.sport = s->dport;
	b.dport = s->sport;
	if (s->ethertype) {
		send_pkt(o, s, fo);
	} else if (s->proto == IPPROTO_TCP) {
		a.tcp_flags = 0x02;
		send_first(o, &a, fo);
		if (fo->noreply)
			return;
		b.tcp_flags = 0x12;
		send_pkt(o, &b, fo);
		a.tcp_flags = 0x10;
		send_pkt(o, &a, fo);
		a.tcp_flags = 0x18;
		a.payload = payload(fo, 100);
		send_pkt(o, &a, fo);
		b.tcp_flags = 0x18;
		b.payload = 300;
		send_pkt(o, &b, fo);
		a.tcp_flags = 0x11;
		a.payload = 0;
		send_pkt(o, &a, fo);
		b.tcp_flags = 0x11;
		b.payload = 0;
		send_pkt(o, &b, fo);
	} else if (s->proto == IPPROTO_ICMP || s->proto == IPPROTO_ICMPV6) {
		bool v6 = s->proto == IPPROTO_ICMPV6;

		a.icmp_type = v6 ? 128 : 8;
		a.payload = payload(fo, 32);
		send_first(o, &a, fo);
		if (fo->noreply)
			return;
		b.icmp_type = v6 ? 129 : 0;
		b.sport = s->sport;
		b.payload = a.payload;
		send_pkt(o, &b, fo);
	} else {
		a.payload = payload(fo, s->proto == IPPROTO_UDP ? 40 : 0);
		send_first(o, &a, fo);
		if (fo->unreach) {
			a.frag = 0;
			send_unreach(o, &a, fo);
			return;
		}
		if (fo->noreply)
			return;
		b.payload = s->proto == IPPROTO_UDP ? 120 : a.payload;
		send_pkt(o, &b, fo);
	}
}

static enum pkt_ext parse_ext(const char *s, size_t n)
{
	static const char *const names[] = { [EXT_HOP] = "hop",
					     [EXT_ROUTING] = "routing",
					     [EXT_DSTOPTS] = "dst",
					     [EXT_FRAG] = "frag",
					     [EXT_AH] = "ah" };

	for (int e = EXT_HOP; e <= EXT_AH; e++)
		if (strlen(names[e]) == n && !strncmp(s, names[e], n))
			return (enum pkt_ext)e;
	return EXT_NONE;
}

/* The options after the ports; 0, or -1 for a bad one. */
static int parse_opts(char *rest, struct pkt_spec *s, struct flow_opts *fo, unsigned *repeat)
{
	int qinq = -1;

	for (char *w = strtok(rest, " \t"); w; w = strtok(NULL, " \t")) {
		char *v = strchr(w, '=');

		if (!strncmp(w, "vlan=", 5)) {
			for (char *t = v + 1; *t && fo->nvlan < 3; t += strcspn(t, ","), t += !!*t)
				fo->vlan[fo->nvlan++] = (uint16_t)atoi(t);
		} else if (!strncmp(w, "qinq=", 5)) {
			qinq = atoi(v + 1);
		} else if (!strncmp(w, "tpid=", 5)) {
			fo->tpid = (uint16_t)strtoul(v + 1, NULL, 16);
		} else if (!strncmp(w, "repeat=", 7)) {
			*repeat = (unsigned)atoi(v + 1);
		} else if (!strncmp(w, "payload=", 8)) {
			fo->payload = atoi(v + 1);
		} else if (!strncmp(w, "pad=", 4)) {
			fo->pad = (unsigned)atoi(v + 1);
		} else if (!strncmp(w, "frags=", 6)) {
			fo->frags = (unsigned)atoi(v + 1);
		} else if (!strncmp(w, "ext=", 4)) {
			int n = 0;

			for (char *t = v + 1; *t && n < 9; t += strcspn(t, ","), t += !!*t) {
				s->ext[n] = parse_ext(t, strcspn(t, ","));
				if (s->ext[n++] == EXT_NONE)
					return -1;
			}
		} else if (!strcmp(w, "unreach")) {
			fo->unreach = true;
		} else if (!strcmp(w, "noreply")) {
			fo->noreply = true;
		}
	}
	if (qinq >= 0) {
		if (fo->nvlan >= 3)
			return -1;
		memmove(fo->vlan + 1, fo->vlan, fo->nvlan * sizeof(fo->vlan[0]));
		fo->vlan[0] = (uint16_t)qinq;
		fo->nvlan++;
		fo->tpid = 0x88a8;
	}
	return 0;
}

static int parse_proto(const char *s)
{
	if (!strcmp(s, "tcp"))
		return IPPROTO_TCP;
	if (!strcmp(s, "udp"))
		return IPPROTO_UDP;
	if (!strcmp(s, "icmp"))
		return IPPROTO_ICMP;
	if (!strcmp(s, "icmpv6"))
		return IPPROTO_ICMPV6;
	return atoi(s);
}

static ssize_t gz_write(void *cookie, const char *buf, size_t n)
{
	return gzwrite(cookie, buf, (unsigned)n);
}

static int gz_close(void *cookie)
{
	return gzclose(cookie) == Z_OK ? 0 : EOF;
}

int main(int argc, char **argv)
{
	char line[512], name[64], proto[16], src[64], dst[64], rest[256];
	const char *lt = "en10mb";
	struct out o = { .dlt = DLT_EN10MB, .ns = 1700000000ull * 1000000000ull };
	bool gz = false;
	unsigned sport, dport;
	FILE *spec, *f;
	int opt;

	while ((opt = getopt(argc, argv, "l:zut:")) != -1) {
		switch (opt) {
		case 'l':
			lt = optarg;
			break;
		case 'z':
			gz = true;
			break;
		case 'u':
			o.micro = true;
			break;
		case 't':
			o.ns = strtoull(optarg, NULL, 10) * 1000000000ull;
			break;
		default:
			return 2;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr,
			"usage: amlg-gencap [-l en10mb|sll|sll2|raw] [-z] [-u] [-t SEC] SPEC OUT\n");
		return 2;
	}
	if (!strcmp(lt, "sll"))
		o.dlt = DLT_LINUX_SLL;
	else if (!strcmp(lt, "sll2"))
		o.dlt = DLT_LINUX_SLL2;
	else if (!strcmp(lt, "raw"))
		o.dlt = DLT_RAW;
	spec = fopen(argv[optind], "r");
	if (!spec) {
		perror(argv[optind]);
		return 2;
	}
	f = fopen(argv[optind + 1], "wb");
	if (!f) {
		perror(argv[optind + 1]);
		return 2;
	}
	if (gz) {
		cookie_io_functions_t io = { .write = gz_write, .close = gz_close };
		gzFile z = gzdopen(dup(fileno(f)), "wb");

		fclose(f);
		f = fopencookie(z, "wb", io);
	}
	o.pd = pcap_open_dead_with_tstamp_precision(
		o.dlt, 65535, o.micro ? PCAP_TSTAMP_PRECISION_MICRO : PCAP_TSTAMP_PRECISION_NANO);
	o.d = pcap_dump_fopen(o.pd, f);
	if (!o.d) {
		fprintf(stderr, "amlg-gencap: %s\n", pcap_geterr(o.pd));
		return 2;
	}
	while (fgets(line, sizeof(line), spec)) {
		struct pkt_spec s = { 0 };
		struct flow_opts fo = { .payload = -1 };
		unsigned repeat = 1;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		rest[0] = '\0';
		if (sscanf(line, "%63s %15s %63s %u %63s %u %255[^\n]", name, proto, src, &sport,
			   dst, &dport, rest) < 6) {
			fprintf(stderr, "amlg-gencap: bad spec line: %s", line);
			return 2;
		}
		if (parse_opts(rest, &s, &fo, &repeat)) {
			fprintf(stderr, "amlg-gencap: bad option in spec line: %s", line);
			return 2;
		}
		s.src = src;
		s.dst = dst;
		if (!strcmp(proto, "ether"))
			s.ethertype = (uint16_t)sport;
		else
			s.proto = (uint8_t)parse_proto(proto);
		s.sport = (uint16_t)sport;
		s.dport = (uint16_t)dport;
		for (unsigned i = 0; i < repeat; i++) {
			flow(&o, &s, &fo);
			s.sport++;
		}
	}
	pcap_dump_close(o.d);
	pcap_close(o.pd);
	fclose(spec);
	fprintf(stderr, "amlg-gencap: %lu packets\n", o.packets);
	return 0;
}
