// SPDX-License-Identifier: GPL-2.0-only
/*
 * amlg-gencap: write a capture of whole flows described in a spec file, for the "check" tests.
 *
 *   amlg-gencap [-l en10mb|sll|sll2|raw] [-z] [-u] [-t START_SEC] SPEC OUT
 *
 * Each non-comment line of SPEC is one flow, as its initiator sends it:
 *   NAME PROTO SRC SPORT DST DPORT [vlan=N] [qinq=M] [ext=hop,dst,routing] [repeat=K] [...]
 * (qinq= puts an 802.1ad tag M outside the vlan= tag; ext= gives IPv6 packets those extension
 * headers; anything else after the ports is left for the test: the expected verdict, for
 * instance).  -u writes microsecond timestamps instead of nanosecond ones.  TCP flows are a handshake, one data segment each way and FINs; UDP a
 * request and a reply; ICMP (PROTO icmp/icmpv6, SPORT = echo id, DPORT unused) an echo and its
 * reply.  Packets are 1 ms apart; -z writes gzip.  Link types other than Ethernet get the frames'
 * IP packets behind their own header, as a Linux host would have captured them.
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

#include "pktgen.h"

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

static void send_pkt(struct out *o, const struct pkt_spec *s)
{
	uint8_t f[PKT_MAX];
	size_t n = pkt_build(s, f, sizeof(f));

	if (!n) {
		fprintf(stderr, "amlg-gencap: cannot build a packet %s -> %s\n", s->src, s->dst);
		exit(2);
	}
	emit(o, f, n);
}

/* One flow: the initiator's packets from s, the responder's with the roles swapped. */
static void flow(struct out *o, const struct pkt_spec *s)
{
	struct pkt_spec a = *s, b = *s;

	b.src = s->dst;
	b.dst = s->src;
	b.sport = s->dport;
	b.dport = s->sport;
	if (s->proto == IPPROTO_TCP) {
		a.tcp_flags = 0x02;
		send_pkt(o, &a);
		b.tcp_flags = 0x12;
		send_pkt(o, &b);
		a.tcp_flags = 0x10;
		send_pkt(o, &a);
		a.tcp_flags = 0x18;
		a.payload = 100;
		send_pkt(o, &a);
		b.tcp_flags = 0x18;
		b.payload = 300;
		send_pkt(o, &b);
		a.tcp_flags = 0x11;
		a.payload = 0;
		send_pkt(o, &a);
		b.tcp_flags = 0x11;
		b.payload = 0;
		send_pkt(o, &b);
	} else if (s->proto == IPPROTO_ICMP || s->proto == IPPROTO_ICMPV6) {
		bool v6 = s->proto == IPPROTO_ICMPV6;

		a.icmp_type = v6 ? 128 : 8;
		a.payload = 32;
		send_pkt(o, &a);
		b.icmp_type = v6 ? 129 : 0;
		b.sport = s->sport;
		b.payload = 32;
		send_pkt(o, &b);
	} else {
		a.payload = 40;
		send_pkt(o, &a);
		b.payload = 120;
		send_pkt(o, &b);
	}
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
		unsigned vlan = 0, qinq = 0, repeat = 1;
		char *p;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		rest[0] = '\0';
		if (sscanf(line, "%63s %15s %63s %u %63s %u %255[^\n]", name, proto, src, &sport,
			   dst, &dport, rest) < 6) {
			fprintf(stderr, "amlg-gencap: bad spec line: %s", line);
			return 2;
		}
		if ((p = strstr(rest, "vlan=")))
			vlan = (unsigned)atoi(p + 5);
		if ((p = strstr(rest, "repeat=")))
			repeat = (unsigned)atoi(p + 7);
		if ((p = strstr(rest, "qinq=")))
			qinq = (unsigned)atoi(p + 5);
		if ((p = strstr(rest, "ext="))) {
			size_t n = 0;

			for (p += 4; *p && *p != ' ' && n < 9;
			     p += strcspn(p, ", "), p += *p == ',') {
				if (!strncmp(p, "hop", 3))
					s.ext[n++] = EXT_HOP;
				else if (!strncmp(p, "dst", 3))
					s.ext[n++] = EXT_DSTOPTS;
				else if (!strncmp(p, "routing", 7))
					s.ext[n++] = EXT_ROUTING;
				else {
					fprintf(stderr, "amlg-gencap: bad ext= in: %s", line);
					return 2;
				}
			}
		}
		s.src = src;
		s.dst = dst;
		s.proto = (uint8_t)parse_proto(proto);
		s.sport = (uint16_t)sport;
		s.dport = (uint16_t)dport;
		if (qinq) {
			s.vlan[0] = (uint16_t)qinq;
			s.vlan_tpid[0] = 0x88a8;
			s.vlan[1] = (uint16_t)vlan;
		} else {
			s.vlan[0] = (uint16_t)vlan;
		}
		for (unsigned i = 0; i < repeat; i++) {
			flow(&o, &s);
			s.sport++;
		}
	}
	pcap_dump_close(o.d);
	pcap_close(o.pd);
	fclose(spec);
	fprintf(stderr, "amlg-gencap: %lu packets\n", o.packets);
	return 0;
}
