// SPDX-License-Identifier: GPL-2.0-only
/*
 * A large capture for "amlguard check" (and tcpdump) to read: COUNT packets built by the
 * project's packet builder and written with libpcap, to the addresses of the demo policy.  A mix of what a compute node sends and receives:
 * TCP handshakes and data, UDP, ICMP, IPv6 with extension headers, VLAN tags.
 *
 * Two shapes: by default every packet is drawn on its own (a random source port each time, so
 * nearly every packet opens a flow: the worst case for flow state, about 230 k flows in 2 M
 * packets); with --flows N, N connections are open at any time, each SYN, 20 to 400 packets
 * both ways, FIN, then replaced by a new one — the shape of a host's real traffic.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "offline/pktgen.h"

/* One packet drawn on its own (the default shape), or a new connection's template. */
static void draw(struct rng *r, const char *const *remotes4, struct pkt_spec *s, bool *reply)
{
	uint32_t x = rng_below(r, 100);

	*s = (struct pkt_spec){ .src = "192.0.2.10",
				.dst = remotes4[rng_below(r, 4)],
				.proto = IPPROTO_TCP,
				.sport = (uint16_t)(32768 + rng_below(r, 28000)),
				.dport = 443,
				.tcp_flags = 0x10,
				.payload = (uint16_t)rng_below(r, 1400) };
	*reply = false;
	if (x < 10) {
		s->tcp_flags = 0x02;
		s->payload = 0;
	} else if (x < 20) {
		s->proto = IPPROTO_UDP;
		s->dport = 53;
		s->payload = 40;
	} else if (x < 25) {
		s->proto = IPPROTO_ICMP;
		s->icmp_type = 8;
		s->sport = 7;
		s->payload = 56;
	} else if (x < 35) {
		s->src = "2001:db8:ffff::10";
		s->dst = "2001:db8:a::40";
		s->ext[0] = EXT_HOP;
	} else if (x < 40) {
		s->vlan[0] = 100;
	} else if (x < 50) {
		*reply = true;
	}
}

/* The reply direction of s: addresses and ports swapped. */
static void swap(struct pkt_spec *s)
{
	const char *a = s->src;
	uint16_t p = s->sport;

	s->src = s->dst;
	s->dst = a;
	s->sport = s->dport;
	s->dport = p;
}

struct conn {
	struct pkt_spec s;
	unsigned left, sent;
};

/* The next packet of a random one of n open connections (replacing those that ended). */
static void next_of(struct rng *r, const char *const *remotes4, struct conn *c, unsigned n,
		    struct pkt_spec *out)
{
	struct conn *k = &c[rng_below(r, n)];
	bool reply;

	if (!k->left) {
		draw(r, remotes4, &k->s, &reply);
		k->left = 20 + rng_below(r, 381);
		k->sent = 0;
	}
	*out = k->s;
	out->payload = 0;
	if (out->proto == IPPROTO_TCP) {
		out->tcp_flags = k->sent == 0 ? 0x02 : k->left == 1 ? 0x11 : 0x10;
		if (k->sent > 0 && k->left > 1) {
			out->payload = (uint16_t)rng_below(r, 1400);
			if (rng_below(r, 2))
				swap(out);
		}
	} else if (out->proto == IPPROTO_UDP) {
		out->payload = 40;
		if (k->sent % 2)
			swap(out);
	} else {
		out->payload = 56;
		if (k->sent % 2) {
			swap(out);
			out->icmp_type = 0;
		}
	}
	k->sent++;
	k->left--;
}

int cmd_pcap(int argc, char **argv)
{
	/* the demo policy's "Azure" addresses (policies/demo/staging.policy), and one it lacks */
	static const char *const remotes4[] = { "198.51.100.40", "198.51.100.20", "198.51.100.30",
						"203.0.113.9" };
	const char *out = NULL;
	unsigned long count = 1000000;
	unsigned nflows = 0;
	struct conn *conns = NULL;
	uint8_t frame[PKT_MAX];
	pcap_dumper_t *d;
	struct rng r;
	pcap_t *p;
	int opt;

	while ((opt = getopt(argc, argv, "o:n:f:")) != -1) {
		if (opt == 'o')
			out = optarg;
		else if (opt == 'n')
			count = strtoul(optarg, NULL, 10);
		else if (opt == 'f')
			nflows = (unsigned)strtoul(optarg, NULL, 10);
		else
			return -EINVAL;
	}
	if (!out) {
		fprintf(stderr, "usage: amlg-bench pcap -o FILE [-n COUNT] [-f FLOWS]\n");
		return -EINVAL;
	}
	if (nflows && !(conns = calloc(nflows, sizeof(*conns))))
		return -ENOMEM;
	p = pcap_open_dead(DLT_EN10MB, 65535);
	if (!p)
		return -ENOMEM;
	d = pcap_dump_open(p, out);
	if (!d) {
		fprintf(stderr, "amlg-bench: error: %s: %s\n", out, pcap_geterr(p));
		pcap_close(p);
		return -EIO;
	}
	rng_seed(&r, 1);
	for (unsigned long i = 0; i < count; i++) {
		struct pcap_pkthdr h = { 0 };
		struct pkt_spec s;
		bool reply;

		if (conns) {
			next_of(&r, remotes4, conns, nflows, &s);
		} else {
			draw(&r, remotes4, &s, &reply);
			if (reply) {
				/* inbound: the reply side */
				swap(&s);
				s.dport = (uint16_t)(32768 + rng_below(&r, 28000));
			}
		}
		h.len = h.caplen = (bpf_u_int32)pkt_build(&s, frame, sizeof(frame));
		if (!h.len)
			continue;
		h.ts.tv_sec = (time_t)(1760000000 + i / 100000);
		h.ts.tv_usec = (suseconds_t)((i % 100000) * 10);
		pcap_dump((u_char *)d, &h, frame);
	}
	pcap_dump_close(d);
	pcap_close(p);
	free(conns);
	return 0;
}
