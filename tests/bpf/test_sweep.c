// SPDX-License-Identifier: GPL-2.0-only
/*
 * Malformed-packet sweep of the datapath: the real object through BPF_PROG_TEST_RUN.
 *
 * Every fixture packet (TCP, UDP, ICMP and ICMPv6 over IPv4 and IPv6, VLAN stacks, IPv4 options,
 * IPv6 extension chains, fragments, ICMP errors, DNS answers, ClientHellos) is run whole, then
 * cut at every byte offset; then header fields are set to their boundary values (lengths 0, too
 * short, too long; IHL < 5; extension chains past the bound; VLAN stacks past two; TCP data
 * offsets; ICMP errors quoting nonsense; fragment offsets at the edges; DNS answers with absurd
 * counts; ClientHellos that lie about their lengths).  Each packet has one expected verdict and
 * reason (or a set of reasons where any violation will do), in audit and in enforce mode; in
 * enforce a violation must be dropped and an allowed packet must pass.
 *
 * Each packet goes through the live entry point (amlg_test) of one instance and, in the same
 * order, through the batch entry point ("check") of another: their verdicts must be identical.
 * At the end the datapath's counters must add up to the packets sent.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <linux/pkt_cls.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernel/batch.h"
#include "compile/compile.h"
#include "dnsgen.h"
#include "kernel/loader.h"
#include "base/log.h"
#include "base/names.h"
#include "harness.h"
#include "offline/pktgen.h"
#include "policy/policy.h"
#include "kernel/state.h"

#define NS 1000000ull
#define OUT AMLG_DIR_OUT
#define IN AMLG_DIR_IN
#define TCP IPPROTO_TCP
#define UDP IPPROTO_UDP
#define ICMP IPPROTO_ICMP
#define ICMP6 IPPROTO_ICMPV6
#define H4 "192.0.2.10"
#define H6 "2001:db8:ffff::10"
#define R4 "198.51.100.7"
#define R6 "2001:db8:1::5"
#define RES "198.51.100.53"
#define LEARNED "203.0.113.10"
#define SYN 0x02
#define ACK 0x10
#define PSHACK 0x18

static const char policy_text[] = "platform off\n"
				  "resolver " RES "\n"
				  "sni require\n"
				  "allow out tcp port 443 to 198.51.100.0/24 flow S-HTTPS\n"
				  "allow out udp port 53 to " RES " flow S-DNS\n"
				  "allow out tcp port 443 to 2001:db8:1::/48 flow S-V6\n"
				  "allow out udp port 53 to 2001:db8:1::/48 flow S-DNS6\n"
				  "allow out icmp to 198.51.100.0/24 flow S-PING\n"
				  "allow out icmpv6 to 2001:db8::/32 flow S-PING6\n"
				  "allow in tcp port 44224 from 203.0.113.0/24 flow S-IN\n"
				  "allow out tcp port 443 to host:*.example.com flow S-HOST\n";

/* ---- expectations */

#define R(r) (1u << AMLG_REASON_##r)
#define ANY_VIOLATION                                                               \
	(R(NO_RULE) | R(PORT) | R(PROTO) | R(MALFORMED) | R(FRAGMENT) | R(NON_IP) | \
	 R(SNI_MISMATCH) | R(NO_SNI) | R(SNI_SPLIT))
#define SNI_VIOLATION (R(SNI_MISMATCH) | R(NO_SNI) | R(SNI_SPLIT))

struct want {
	uint8_t verdict;
	uint16_t reasons; /* bitmask of acceptable reasons */
};

static const struct want allow = { AMLG_VERDICT_ALLOW, R(NONE) };
static const struct want malformed = { AMLG_VERDICT_VIOLATION, R(MALFORMED) };
static const struct want violation = { AMLG_VERDICT_VIOLATION, ANY_VIOLATION };

static struct want viol(uint16_t reasons)
{
	return (struct want){ AMLG_VERDICT_VIOLATION, reasons };
}

static bool wanted(const struct want *w, uint8_t verdict, uint8_t reason)
{
	return verdict == w->verdict && reason < 16 && (w->reasons >> reason) & 1;
}

/* ---- two instances: the live entry point and the batch entry point */

struct pending {
	uint8_t frame[PKT_MAX];
	uint32_t len;
	uint8_t dir;
	uint64_t ts;
	bool refused; /* test_run would not take it: only the batch runs it */
	struct offline_verdict live;
	struct want want;
	char name[96];
};

struct sweep {
	int mode;
	const char *mname;
	struct policy *p;
	struct compiled *c;
	struct offline live, off; /* copies of the shared instances' handles */
	struct batch b;
	struct pending *q;
	size_t nq;
	uint64_t now;
	uint16_t sport;
	/* figures */
	unsigned sent_live, sent_batch, refused, viol_live, viol_batch, dns_bad;
	unsigned passes, failures;
};

static unsigned total_passes, total_failures, total_packets;

static void fail(struct sweep *s, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(struct sweep *s, const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("[sweep/%s/%s] FAIL: ", s->mname, name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	s->failures++;
}

static const char *vstr(uint8_t verdict)
{
	return verdict == AMLG_VERDICT_ALLOW ? "allow" : "violation";
}

/*
 * The two instances, loaded once and emptied for the second mode (the shared instances of
 * harness.h): a load costs 0.1 s of verifier time.
 */
static int sweep_open(struct sweep *s, int mode)
{
	struct compiled_policy cp = { 0 };
	struct offline *live = NULL, *off = NULL;
	int err;

	memset(s, 0, sizeof(*s));
	s->mode = mode;
	s->mname = mode == AMLG_MODE_ENFORCE ? "enforce" : "audit";
	s->now = 3000000000000ull;
	s->sport = 20000;
	s->q = calloc(AMLG_BATCH_MAX, sizeof(*s->q));
	err = s->q ? compile_text(policy_text, mode, &cp) : -ENOMEM;
	s->p = cp.p;
	s->c = cp.c;
	if (!err)
		err = shared_instance(INSTANCE_SINGLE, s->c, &live);
	if (!err)
		err = shared_instance(INSTANCE_BATCH, s->c, &off);
	if (err)
		return err;
	s->live = *live;
	s->off = *off;
	return batch_init(&s->b, &s->off);
}

/* Run the queued packets through the batch instance; compare with the live verdicts. */
static void flush(struct sweep *s)
{
	static struct batch_pkt in[AMLG_BATCH_MAX];
	static struct amlg_batch_res res[AMLG_BATCH_MAX];
	int err;

	if (!s->nq)
		return;
	for (size_t i = 0; i < s->nq; i++) {
		in[i] = (struct batch_pkt){ .data = s->q[i].frame,
					    .cap = s->q[i].len,
					    .len = s->q[i].len,
					    .ts_ns = s->q[i].ts,
					    .dir = s->q[i].dir };
	}
	err = batch_run(&s->b, in, s->nq, res);
	for (size_t i = 0; i < s->nq; i++) {
		const struct pending *p = &s->q[i];
		const struct amlg_batch_res *r = &res[i];

		if (err) {
			fail(s, p->name, "batch run: %s", strerror(-err));
			continue;
		}
		s->sent_batch++;
		s->viol_batch += r->verdict == AMLG_VERDICT_VIOLATION;
		if (p->refused) {
			/* only the batch saw it: its verdict must be the expected one */
			if (!wanted(&p->want, r->verdict, r->reason))
				fail(s, p->name, "batch only: got %s %s", vstr(r->verdict),
				     reason_str(r->reason));
			continue;
		}
		if (r->verdict != p->live.verdict || r->reason != p->live.reason ||
		    r->match != p->live.match || r->dropped != p->live.dropped ||
		    r->rule != p->live.rule)
			fail(s, p->name,
			     "live and batch differ: live %s %s match %s dropped %u rule %u, "
			     "batch %s %s match %s dropped %u rule %u",
			     vstr(p->live.verdict), reason_str(p->live.reason),
			     match_str(p->live.match), p->live.dropped, p->live.rule,
			     vstr(r->verdict), reason_str(r->reason), match_str(r->match),
			     r->dropped, r->rule);
	}
	s->nq = 0;
}

/* One packet through both instances.  Returns the live verdict (verdict 0xff when not run live). */
static struct offline_verdict run(struct sweep *s, const char *name, const uint8_t *frame,
				  size_t len, unsigned dir, struct want want)
{
	struct offline_verdict v = { .verdict = 0xff };
	struct pending *p;
	int want_ret, err;
	bool ok;

	if (s->nq == AMLG_BATCH_MAX)
		flush(s);
	p = &s->q[s->nq++];
	memcpy(p->frame, frame, len);
	p->len = (uint32_t)len;
	p->dir = (uint8_t)dir;
	p->ts = s->now;
	p->want = want;
	p->refused = false;
	snprintf(p->name, sizeof(p->name), "%s", name);
	total_packets++;
	err = offline_run(&s->live, frame, len, dir, s->now, &v);
	s->now += NS;
	if (err) {
		/*
		 * BPF_PROG_TEST_RUN refuses a frame shorter than its Ethernet and IP headers:
		 * such frames are not testable live, only counted (the batch runs them).
		 */
		size_t l2 = 14, l3;
		uint16_t type = (uint16_t)(frame[12] << 8 | frame[13]);

		l3 = type == 0x0800 ? 20 : type == 0x86dd ? 40 : 0;
		if (err == -EINVAL && len < l2 + l3) {
			p->refused = true;
			s->refused++;
			return v;
		}
		s->nq--;
		fail(s, name, "test run: %s", strerror(-err));
		return v;
	}
	p->live = v;
	s->sent_live++;
	s->viol_live += v.verdict == AMLG_VERDICT_VIOLATION;
	want_ret = v.verdict == AMLG_VERDICT_VIOLATION && s->mode == AMLG_MODE_ENFORCE ?
			   TC_ACT_SHOT :
			   TC_ACT_OK;
	if ((int)v.retval != want_ret) {
		fail(s, name, "%s returned %u in %s mode", vstr(v.verdict), v.retval, s->mname);
		return v;
	}
	ok = wanted(&want, v.verdict, v.reason);
	if (!ok) {
		fail(s, name, "expected %s (reasons %#x), got %s %s", vstr(want.verdict),
		     want.reasons, vstr(v.verdict), reason_str(v.reason));
		return v;
	}
	s->passes++;
	return v;
}

static size_t build(const struct pkt_spec *spec, uint8_t *f)
{
	size_t n = pkt_build(spec, f, PKT_MAX);

	if (!n) {
		printf("cannot build a fixture packet\n");
		exit(1);
	}
	return n;
}

static struct offline_verdict run_spec(struct sweep *s, const char *name,
				       const struct pkt_spec *spec, unsigned dir, struct want want)
{
	uint8_t f[PKT_MAX];

	return run(s, name, f, build(spec, f), dir, want);
}

/* ---- frame surgery */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Offset of the IP header: after the Ethernet header and any VLAN tags. */
static size_t l3_off(const uint8_t *f)
{
	size_t off = 12;

	while (get16(f + off) == 0x8100 || get16(f + off) == 0x88a8)
		off += 4;
	return off + 2;
}

/* Offset of the transport header of a frame pktgen built (IPv4 options, IPv6 extensions). */
static size_t l4_off(const uint8_t *f)
{
	size_t ip = l3_off(f);

	if ((f[ip] >> 4) == 4)
		return ip + (f[ip] & 15) * 4u;
	{
		size_t off = ip + 40;
		uint8_t nh = f[ip + 6];

		while (nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_FRAGMENT ||
		       nh == IPPROTO_DSTOPTS || nh == IPPROTO_AH) {
			size_t hl = nh == IPPROTO_FRAGMENT ? 8 :
				    nh == IPPROTO_AH	   ? (f[off + 1] + 2u) * 4 :
							     (f[off + 1] + 1u) * 8;

			nh = f[off];
			off += hl;
		}
		return off;
	}
}

/* The IPv4 header checksum, after a change (the datapath does not look, the kernel would). */
static void ip4_csum(uint8_t *f)
{
	size_t ip = l3_off(f), hl = (f[ip] & 15) * 4u;
	uint32_t acc = 0;

	if (hl < 20)
		hl = 20;
	put16(f + ip + 10, 0);
	for (size_t i = 0; i < hl; i += 2)
		acc += get16(f + ip + i);
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	put16(f + ip + 10, (uint16_t)~acc);
}

/* Cut an IP frame to len bytes and make its IP length say so (a shorter packet, not a cut). */
static size_t shorten(uint8_t *f, size_t len)
{
	size_t ip = l3_off(f);

	if ((f[ip] >> 4) == 4) {
		put16(f + ip + 2, (uint16_t)(len - ip));
		ip4_csum(f);
	} else {
		put16(f + ip + 4, (uint16_t)(len - ip - 40));
	}
	return len;
}

/* ---- the fixtures */

static const struct pkt_spec dns_query = { H4, RES, UDP, 5353, 53, .payload = 12 };
static const struct pkt_spec tcp_syn6 = { H6, R6, TCP, 50600, 443 };

struct base {
	const char *name;
	struct pkt_spec spec;
	unsigned dir;
};

/* Valid packets, each allowed (in this order: the later ones rely on the earlier flows). */
static const struct base bases[] = {
	{ "tcp4-syn", { H4, R4, TCP, 50000, 443, .payload = 16 }, OUT },
	{ "tcp4-data", { H4, R4, TCP, 50000, 443, PSHACK, .payload = 48 }, OUT },
	{ "tcp4-reply", { R4, H4, TCP, 443, 50000, ACK, .payload = 20 }, IN },
	{ "udp4-dns", { H4, RES, UDP, 5353, 53, .payload = 12 }, OUT },
	{ "icmp4-echo", { H4, R4, ICMP, 7, .icmp_type = 8, .payload = 24 }, OUT },
	{ "icmp4-reply", { R4, H4, ICMP, 7, .icmp_type = 0, .payload = 24 }, IN },
	{ "tcp4-options", { H4, R4, TCP, 50001, 443, .ip_opts = 12, .payload = 8 }, OUT },
	{ "tcp4-vlan", { H4, R4, TCP, 50002, 443, .vlan = { 100 } }, OUT },
	{ "udp4-qinq",
	  { H4, RES, UDP, 5354, 53, .vlan = { 10, 20 }, .vlan_tpid = { 0x88a8 }, .payload = 12 },
	  OUT },
	{ "tcp4-in", { "203.0.113.5", H4, TCP, 40000, 44224 }, IN },
	{ "tcp6-syn", { H6, R6, TCP, 50600, 443, .payload = 16 }, OUT },
	{ "udp6", { H6, "2001:db8:1::53", UDP, 5600, 53, .payload = 20 }, OUT },
	{ "icmp6-echo", { H6, R6, ICMP6, 8, .icmp_type = 128, .payload = 16 }, OUT },
	{ "tcp6-ext",
	  { H6, R6, TCP, 50601, 443, .ext = { EXT_HOP, EXT_ROUTING, EXT_DSTOPTS, EXT_AH } },
	  OUT },
	{ "tcp6-8-ext",
	  { H6, R6, TCP, 50602, 443,
	    .ext = { EXT_DSTOPTS, EXT_DSTOPTS, EXT_DSTOPTS, EXT_DSTOPTS, EXT_DSTOPTS, EXT_DSTOPTS,
		     EXT_DSTOPTS, EXT_DSTOPTS } },
	  OUT },
	{ "frag4-first", { H4, R4, TCP, 50003, 443, .frag = 1, .frag_id = 77, .payload = 64 }, OUT },
	{ "frag4-later",
	  { H4, R4, TCP, .frag = 2, .frag_id = 77, .frag_off = 88, .payload = 40 },
	  OUT },
	{ "frag6-first",
	  { H6, R6, TCP, 50603, 443, .frag = 1, .frag_id = 770, .payload = 64 },
	  OUT },
	{ "frag6-later",
	  { H6, R6, TCP, .frag = 2, .frag_id = 770, .frag_off = 88, .payload = 40 },
	  OUT },
	{ "icmp4-error",
	  { "203.0.113.1", H4, ICMP, .icmp_type = 3, .icmp_code = 3, .quote = &dns_query },
	  IN },
	{ "icmp6-error", { "2001:db8:9::1", H6, ICMP6, .icmp_type = 2, .quote = &tcp_syn6 }, IN },
	{ "icmp6-ns", { "fe80::1", "ff02::1:ff00:10", ICMP6, .icmp_type = 135 }, IN },
	{ "arp", { .ethertype = 0x0806 }, IN },
	{ "arp-vlan", { .ethertype = 0x0806, .vlan = { 5, 6 } }, IN },
};

/* ---- sweeps */

/* Each fixture whole (allowed), then cut at every byte offset (malformed). */
static void truncations(struct sweep *s)
{
	char name[96];

	for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++) {
		uint8_t f[PKT_MAX];
		size_t len = build(&bases[b].spec, f);
		bool ip = !bases[b].spec.ethertype;

		snprintf(name, sizeof(name), "%s whole", bases[b].name);
		run(s, name, f, len, bases[b].dir, allow);
		if (!ip)
			continue;
		for (size_t n = 14; n < len; n++) {
			snprintf(name, sizeof(name), "%s cut at %zu of %zu", bases[b].name, n, len);
			run(s, name, f, n, bases[b].dir, malformed);
		}
	}
}

static void ipv4_fields(struct sweep *s)
{
	static const struct pkt_spec base = { H4, R4, TCP, 50100, 443, .payload = 16 };
	uint8_t f[PKT_MAX], g[PKT_MAX];
	size_t len = build(&base, f), ip = l3_off(f), tot = len - ip;
	char name[96];

	for (unsigned ihl = 0; ihl < 16; ihl++) {
		if (ihl == 5)
			continue;
		memcpy(g, f, len);
		g[ip] = (uint8_t)(0x40 | ihl);
		ip4_csum(g);
		snprintf(name, sizeof(name), "ipv4 ihl %u", ihl);
		/* a longer header runs into the transport header: any violation will do */
		run(s, name, g, len, OUT, ihl < 5 ? malformed : violation);
	}
	for (unsigned v = 0; v < 16; v++) {
		if (v == 4)
			continue;
		memcpy(g, f, len);
		g[ip] = (uint8_t)(v << 4 | 5);
		snprintf(name, sizeof(name), "ipv4 version %u", v);
		run(s, name, g, len, OUT, malformed);
	}
	{
		static const unsigned lens[] = { 0,  1,	 19, 20, 21,   39,   40,
						 41, 55, 56, 57, 1500, 65535 };

		for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			unsigned t = lens[i];

			memcpy(g, f, len);
			put16(g + ip + 2, (uint16_t)t);
			ip4_csum(g);
			snprintf(name, sizeof(name), "ipv4 total length %u of %zu", t, tot);
			if (t < 20 || t > tot)
				run(s, name, g, len, OUT, malformed);
			else if (t < 40) /* the TCP header is not all inside */
				run(s, name, g, len, OUT, malformed);
			else /* a shorter packet in a longer frame: padding */
				run(s, name, g, len, OUT, allow);
		}
	}
	/*
	 * fragment fields at their edges; a fresh id each, so no first fragment is known, and for
	 * the non-first ones a source no allowed flow uses, so that nothing ties them to one
	 */
	{
		static const struct {
			uint16_t frag_off;
			bool first_or_none; /* judged on its own */
			const char *what;
		} fo[] = {
			{ 0x4000, true, "DF" },
			{ 0x8000, true, "reserved bit" },
			{ 0x2000, true, "MF at offset 0" },
			{ 0x0001, false, "offset 8" },
			{ 0x1fff, false, "last offset" },
			{ 0x3fff, false, "MF at the last offset" },
			{ 0xffff, false, "every bit" },
		};

		for (size_t i = 0; i < sizeof(fo) / sizeof(fo[0]); i++) {
			memcpy(g, f, len);
			put16(g + ip + 4, (uint16_t)(0x5000 + i));
			put16(g + ip + 6, fo[i].frag_off);
			if (!fo[i].first_or_none)
				g[ip + 15] ^= 0x40;
			ip4_csum(g);
			snprintf(name, sizeof(name), "ipv4 fragment field %#x (%s)", fo[i].frag_off,
				 fo[i].what);
			run(s, name, g, len, OUT, fo[i].first_or_none ? allow : viol(R(FRAGMENT)));
		}
	}
	/* a first fragment too short to hold the TCP header (RFC 1858) */
	{
		struct pkt_spec tiny = { H4, R4, TCP, 50101, 443, .frag = 1, .frag_id = 0x6001 };
		size_t n = build(&tiny, g);

		n = shorten(g, l4_off(g) + 8);
		run(s, "ipv4 first fragment with 8 bytes of TCP", g, n, OUT, malformed);
	}
	for (unsigned proto = 0; proto < 256; proto += 15) {
		if (proto == TCP || proto == UDP || proto == ICMP)
			continue;
		memcpy(g, f, len);
		g[ip + 9] = (uint8_t)proto;
		ip4_csum(g);
		snprintf(name, sizeof(name), "ipv4 protocol %u", proto);
		run(s, name, g, len, OUT, viol(R(PROTO)));
	}
}

static void tcp_fields(struct sweep *s)
{
	static const struct pkt_spec base = { H4, R4, TCP, 50200, 443, .payload = 16 };
	uint8_t f[PKT_MAX], g[PKT_MAX];
	size_t len = build(&base, f), th = l4_off(f);
	char name[96];

	for (unsigned doff = 0; doff < 16; doff++) {
		bool fits = doff >= 5 && th + doff * 4 <= len;

		memcpy(g, f, len);
		g[th + 12] = (uint8_t)(doff << 4);
		snprintf(name, sizeof(name), "tcp data offset %u", doff);
		run(s, name, g, len, OUT, fits ? allow : malformed);
	}
	/* the data offset past the IP length but within the frame (padding after the packet) */
	{
		memcpy(g, f, len);
		memset(g + len, 0, 24);
		/* 40 bytes: the segment is 20 + 16 of payload, so the last 4 are padding */
		g[th + 12] = (uint8_t)(10 << 4);
		snprintf(name, sizeof(name), "tcp data offset 10 into padding");
		run(s, name, g, len + 24, OUT, malformed);
	}
	/*
	 * Every flag combination arriving from an allowed server on a flow we never saw: anything
	 * but a bare SYN may be the reply side of a flow opened before us (pickup); a bare SYN
	 * is a connection opened from outside and never allowed.
	 */
	for (unsigned fl = 0; fl < 256; fl++) {
		struct pkt_spec in = { R4, H4, TCP, 443, (uint16_t)(30000 + fl), (uint8_t)fl };
		bool bare_syn = (fl & (SYN | ACK)) == SYN;

		if (!fl)
			in.tcp_flags = 0; /* pktgen makes 0 a SYN: write the flags by hand */
		len = build(&in, g);
		g[l4_off(g) + 13] = (uint8_t)fl;
		snprintf(name, sizeof(name), "tcp flags %#04x from an allowed server", fl);
		run(s, name, g, len, IN, bare_syn ? viol(R(NO_RULE)) : allow);
	}
}

/*
 * UDP lengths the receiving stack would drop as a short or long packet: less than the header,
 * or more than the IP payload of a packet that is not a fragment.
 */
static void udp_fields(struct sweep *s)
{
	uint8_t f[PKT_MAX], g[PKT_MAX];
	size_t len = build(&dns_query, f), uh = l4_off(f), pl = len - uh;
	char name[96];
	static const unsigned lens[] = { 0, 1, 7, 8, 9, 19, 20, 21, 1000, 65535 };

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		unsigned ul = lens[i];

		memcpy(g, f, len);
		put16(g + uh + 4, (uint16_t)ul);
		snprintf(name, sizeof(name), "udp length %u of %zu", ul, pl);
		if (ul >= 8 && ul <= pl)
			run(s, name, g, len, OUT, allow); /* the stack trims the rest */
		else
			run(s, name, g, len, OUT, malformed);
	}
	/* the UDP header itself past the IP length, inside the frame */
	{
		size_t n;

		memcpy(g, f, len);
		n = shorten(g, uh);
		run(s, "udp header past the ip length", g, len, OUT, malformed);
		run(s, "udp frame ending with the ip header", g, n, OUT, malformed);
	}
}

/* Every ICMP and ICMPv6 type, out to an allowed remote, with 8 bytes of header and no data. */
static void icmp_types(struct sweep *s)
{
	uint8_t g[PKT_MAX];
	char name[96];

	for (unsigned t = 0; t < 256; t++) {
		struct pkt_spec p4 = { H4, R4, ICMP, (uint16_t)(1000 + t),
				       .icmp_type = (uint8_t)t };
		struct pkt_spec p6 = { H6, R6, ICMP6, (uint16_t)(1000 + t),
				       .icmp_type = (uint8_t)t };
		bool err4 = t == 3 || t == 4 || t == 5 || t == 11 || t == 12;
		bool err6 = t >= 1 && t <= 4;
		size_t n;

		/* an error must quote a packet: with nothing quoted it is malformed */
		snprintf(name, sizeof(name), "icmp type %u quoting nothing", t);
		n = build(&p4, g);
		run(s, name, g, n, OUT, err4 ? malformed : allow);
		snprintf(name, sizeof(name), "icmpv6 type %u quoting nothing", t);
		n = build(&p6, g);
		run(s, name, g, n, OUT, err6 ? malformed : allow);
	}
}

static void ipv6_fields(struct sweep *s)
{
	static const struct pkt_spec base = { H6, R6, TCP, 50700, 443, .payload = 16 };
	uint8_t f[PKT_MAX], g[PKT_MAX];
	size_t len = build(&base, f), ip = l3_off(f), pl = len - ip - 40;
	char name[96];

	for (unsigned v = 0; v < 16; v++) {
		if (v == 6)
			continue;
		memcpy(g, f, len);
		g[ip] = (uint8_t)(v << 4);
		snprintf(name, sizeof(name), "ipv6 version %u", v);
		run(s, name, g, len, OUT, malformed);
	}
	{
		static const unsigned lens[] = { 0, 1, 19, 20, 35, 36, 37, 1000, 65535 };

		for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			unsigned l = lens[i];

			memcpy(g, f, len);
			put16(g + ip + 4, (uint16_t)l);
			snprintf(name, sizeof(name), "ipv6 payload length %u of %zu", l, pl);
			if (l == 0 || l > pl)
				run(s, name, g, len, OUT, malformed);
			else if (l < 20)
				run(s, name, g, len, OUT, malformed);
			else
				run(s, name, g, len, OUT, allow);
		}
	}
	/* extension chains: up to the bound of 8 they are walked, past it malformed */
	for (int n = 1; n <= 10; n++) {
		struct pkt_spec e = { H6, R6, TCP, (uint16_t)(50710 + n), 443 };
		size_t fl;

		for (int i = 0; i < n; i++)
			e.ext[i] = EXT_DSTOPTS;
		fl = build(&e, g);
		snprintf(name, sizeof(name), "ipv6 %d extension headers", n);
		run(s, name, g, fl, OUT, n <= 8 ? allow : malformed);
	}
	{
		struct pkt_spec e = { H6, R6, TCP, 50730, 443, .ext = { EXT_DSTOPTS, EXT_HOP } };
		size_t fl = build(&e, g);

		run(s, "ipv6 hop-by-hop second", g, fl, OUT, malformed);
		e.ext[1] = EXT_ROUTING;
		fl = build(&e, g);
		/* an extension header that claims 2 KiB: past the bound of the parser */
		g[ip + 40 + 1] = 255;
		run(s, "ipv6 extension of 2 KiB", g, fl, OUT, malformed);
		/* one that ends past the packet */
		fl = build(&e, g);
		g[ip + 40 + 8 + 1] = 4;
		run(s, "ipv6 extension past the end", g, fl, OUT, malformed);
		/* a chain that ends in a header that is not there */
		fl = build(&e, g);
		fl = shorten(g, ip + 40 + 16);
		run(s, "ipv6 chain ending at the packet's end", g, fl, OUT, malformed);
	}
	/* fragment headers at their edges; fresh ids (and sources: see the IPv4 ones) */
	{
		static const struct {
			uint16_t fo;
			bool judged;
			const char *what;
		} fr[] = {
			{ 0x0000, true, "atomic" },
			{ 0x0001, true, "M at offset 0" },
			{ 0x0006, true, "reserved bits" },
			{ 0x0008, false, "offset 8" },
			{ 0xfff8, false, "last offset" },
			{ 0xfff9, false, "M at the last offset" },
		};

		for (size_t i = 0; i < sizeof(fr) / sizeof(fr[0]); i++) {
			struct pkt_spec e = { H6,
					      R6,
					      TCP,
					      (uint16_t)(50740 + i),
					      443,
					      .ext = { EXT_FRAG },
					      .frag_id = (uint32_t)(0x7000 + i),
					      .payload = 8 };
			size_t fl = build(&e, g);

			put16(g + ip + 40 + 2, fr[i].fo);
			if (!fr[i].judged)
				g[ip + 23] ^= 0x40; /* the source's last byte: see above */
			snprintf(name, sizeof(name), "ipv6 fragment field %#06x (%s)", fr[i].fo,
				 fr[i].what);
			run(s, name, g, fl, OUT, fr[i].judged ? allow : viol(R(FRAGMENT)));
		}
	}
}

static void vlan_stacks(struct sweep *s)
{
	static const struct pkt_spec base = { H4, R4, TCP, 50800, 443 };
	uint8_t f[PKT_MAX], g[PKT_MAX];
	size_t len = build(&base, f);
	char name[96];

	/* 0 to 6 tags of each kind in front of an allowed packet */
	for (unsigned tpid = 0; tpid < 2; tpid++) {
		for (unsigned n = 0; n <= 6; n++) {
			size_t gl = 12;

			memcpy(g, f, 12);
			for (unsigned i = 0; i < n; i++) {
				put16(g + gl, i == 0 && tpid ? 0x88a8 : 0x8100);
				put16(g + gl + 2, (uint16_t)(100 + i));
				gl += 4;
			}
			memcpy(g + gl, f + 12, len - 12);
			gl += len - 12;
			snprintf(name, sizeof(name), "%u vlan tags (%s)", n,
				 tpid ? "802.1ad" : "802.1q");
			run(s, name, g, gl, OUT, n <= 2 ? allow : malformed);
		}
	}
	/* an ARP behind three tags is past the bound too */
	{
		struct pkt_spec arp = { .ethertype = 0x0806, .vlan = { 1, 2, 3 } };
		size_t n = build(&arp, g);

		run(s, "arp behind 3 vlan tags", g, n, IN, malformed);
	}
	/* 0x9100 (pre-standard QinQ) is not a tag we read: not IP */
	{
		memcpy(g, f, 12);
		put16(g + 12, 0x9100);
		put16(g + 14, 7);
		memcpy(g + 16, f + 12, len - 12);
		run(s, "tpid 0x9100", g, len + 4, OUT, viol(R(NON_IP)));
	}
	/* a tag with nothing after it */
	{
		memcpy(g, f, 12);
		put16(g + 12, 0x8100);
		put16(g + 14, 7);
		put16(g + 16, 0x8100);
		run(s, "a vlan tag announcing another, then the end", g, 18, OUT, malformed);
	}
}

static void icmp_errors(struct sweep *s)
{
	/* an error about the DNS flow of the fixtures, in */
	static const struct pkt_spec err4 = { "203.0.113.1",  H4,
					      ICMP,	      .icmp_type = 3,
					      .icmp_code = 3, .quote = &dns_query };
	static const struct pkt_spec err6 = { "2001:db8:9::1", H6, ICMP6, .icmp_type = 1,
					      .quote = &tcp_syn6 };
	uint8_t f[PKT_MAX], g[PKT_MAX];
	size_t len = build(&err4, f), q = l4_off(f) + 8, n;
	char name[96];

	run(s, "icmp error about a tracked flow", f, len, IN, allow);
	for (unsigned ihl = 0; ihl < 5; ihl++) {
		memcpy(g, f, len);
		g[q] = (uint8_t)(0x40 | ihl);
		snprintf(name, sizeof(name), "icmp error quoting ihl %u", ihl);
		run(s, name, g, len, IN, malformed);
	}
	for (unsigned v = 0; v < 16; v += 3) {
		memcpy(g, f, len);
		g[q] = (uint8_t)(v << 4 | 5);
		snprintf(name, sizeof(name), "icmp error quoting ip version %u", v);
		run(s, name, g, len, IN, v == 4 ? allow : malformed);
	}
	/*
	 * The quote cut short: without a whole IP header it is malformed; without the ports it
	 * names no tracked flow (a violation); with them it is about the tracked flow.
	 */
	for (size_t k = 0; k <= 28; k += 2) {
		memcpy(g, f, len);
		n = shorten(g, q + k);
		snprintf(name, sizeof(name), "icmp error quoting %zu bytes", k);
		run(s, name, g, n, IN, k < 20 ? malformed : k < 24 ? violation : allow);
	}
	/* the quoted flow the other way round, or with another port: not tracked */
	{
		struct pkt_spec rev = dns_query, e = err4;

		rev.src = dns_query.dst;
		rev.dst = dns_query.src;
		e.quote = &rev;
		n = build(&e, g);
		run(s, "icmp error quoting the flow reversed", g, n, IN, violation);
		rev = dns_query;
		rev.dport = 54;
		n = build(&e, g);
		run(s, "icmp error quoting another port", g, n, IN, violation);
	}
	/* ICMPv6: a tracked flow, a quoted IPv4 packet, a cut quote */
	len = build(&err6, f);
	q = l4_off(f) + 8;
	run(s, "icmpv6 error about a tracked flow", f, len, IN, allow);
	{
		struct pkt_spec e = err6;

		e.quote = &dns_query;
		n = build(&e, g);
		run(s, "icmpv6 error quoting ipv4", g, n, IN, malformed);
	}
	for (size_t k = 0; k <= 48; k += 2) {
		memcpy(g, f, len);
		n = shorten(g, q + k);
		snprintf(name, sizeof(name), "icmpv6 error quoting %zu bytes", k);
		run(s, name, g, n, IN, k < 40 ? malformed : k < 44 ? violation : allow);
	}
}

/* ---- DNS answers from the trusted resolver, to a query of ours */

static struct offline_verdict dns_answer(struct sweep *s, const char *name, const uint8_t *msg,
					 size_t n, struct want want)
{
	struct pkt_spec qs = { H4, RES, UDP, ++s->sport, 53, .payload = 12 };
	struct pkt_spec as = { RES, H4, UDP, 53, s->sport, .payload = (uint16_t)n, .data = msg };
	char qname[96];

	snprintf(qname, sizeof(qname), "%s: the query", name);
	run_spec(s, qname, &qs, OUT, allow);
	return run_spec(s, name, &as, IN, want);
}

static void dns_counts(struct sweep *s)
{
	struct dnsb d;
	char name[96];
	static const uint16_t counts[] = { 0, 2, 33, 255, 65535 };

	/* the one that teaches: www.example.com is LEARNED (used by the ClientHellos) */
	dns_start(&d, "www.example.com", 0x8180, 1);
	dns_a(&d, NULL, LEARNED, 600);
	dns_answer(s, "dns answer", d.b, d.n, allow);
	/* the same answer cut at every offset, on a query of its own: malformed, teaches nothing */
	{
		struct pkt_spec qs = { H4, RES, UDP, ++s->sport, 53, .payload = 12 };
		struct pkt_spec as = { RES,	   H4, UDP, 53, s->sport, .payload = (uint16_t)d.n,
				       .data = d.b };
		uint8_t g[PKT_MAX];
		size_t len;

		run_spec(s, "dns answer cut: the query", &qs, OUT, allow);
		len = build(&as, g);
		for (size_t n = 14; n < len; n++) {
			snprintf(name, sizeof(name), "dns answer cut at %zu of %zu", n, len);
			run(s, name, g, n, IN, malformed);
		}
	}
	/* answer counts that lie: more answers announced than there are */
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		dns_start(&d, "bad.example.com", 0x8180, counts[i]);
		dns_a(&d, NULL, "203.0.113.66", 600);
		snprintf(name, sizeof(name), "dns answer count %u with one answer", counts[i]);
		dns_answer(s, name, d.b, d.n, allow);
		/* 0: nothing to learn; 33: the first 32 are read, past the end it is bad */
		s->dns_bad += counts[i] > 1;
	}
	/* question counts: only one question is ever asked */
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		dns_start(&d, "bad.example.com", 0x8180, 1);
		d.b[4] = (uint8_t)(counts[i] >> 8);
		d.b[5] = (uint8_t)counts[i];
		dns_a(&d, NULL, "203.0.113.67", 600);
		snprintf(name, sizeof(name), "dns question count %u", counts[i]);
		dns_answer(s, name, d.b, d.n, allow);
		s->dns_bad += counts[i] > 1;
	}
	/* an owner name pointing at itself, one pointing forwards, one past the end */
	{
		static const uint16_t ptrs[] = { 0xc000 | 33, 0xc000 | 200, 0xc000 | 0x3fff };

		for (size_t i = 0; i < sizeof(ptrs) / sizeof(ptrs[0]); i++) {
			dns_start(&d, "bad.example.com", 0x8180, 1);
			dns_put16(&d, ptrs[i]); /* the answer's owner, at offset 33 */
			dns_put16(&d, 1);
			dns_put16(&d, 1);
			dns_put32(&d, 600);
			dns_put16(&d, 4);
			dns_put32(&d, 0xcb007144); /* 203.0.113.68 */
			snprintf(name, sizeof(name), "dns owner pointer %#x", ptrs[i]);
			dns_answer(s, name, d.b, d.n, allow);
			s->dns_bad++;
		}
	}
	/* a record whose data runs past the message; a label past the end */
	dns_start(&d, "bad.example.com", 0x8180, 1);
	dns_a(&d, NULL, "203.0.113.69", 600);
	d.b[d.n - 6] = 0xff;
	dns_answer(s, "dns rdata length past the end", d.b, d.n, allow);
	s->dns_bad++;
	dns_start(&d, "bad.example.com", 0x8180, 1);
	d.b[12] = 63; /* the first label claims 63 bytes */
	d.n = 40;
	dns_answer(s, "dns label past the end", d.b, d.n, allow);
	s->dns_bad++;
	/* a header only, and less than a header */
	dns_start(&d, "bad.example.com", 0x8180, 1);
	dns_answer(s, "dns header only", d.b, 12, allow);
	s->dns_bad++;
	dns_answer(s, "dns 11 bytes", d.b, 11, allow);
	s->dns_bad++;
	/*
	 * An answer after the IP packet's end (its UDP length covers it, its IP length does not):
	 * the client's stack trims the packet and drops it as short, so it must teach nothing.
	 */
	{
		struct pkt_spec qs = { H4, RES, UDP, ++s->sport, 53, .payload = 12 };
		struct pkt_spec as = { RES, H4, UDP, 53, s->sport };
		struct pkt_spec syn = { H4, "203.0.113.70", TCP, ++s->sport, 443 };
		uint8_t g[PKT_MAX];
		size_t n;

		dns_start(&d, "pad.example.com", 0x8180, 1);
		dns_a(&d, NULL, "203.0.113.70", 600);
		as.payload = (uint16_t)d.n;
		as.data = d.b;
		run_spec(s, "dns past the ip length: the query", &qs, OUT, allow);
		n = build(&as, g);
		put16(g + l3_off(g) + 2, 28);
		ip4_csum(g);
		run(s, "dns answer past the ip length", g, n, IN, malformed);
		run(s, "dns answer past the ip length: not learned", g, build(&syn, g), OUT,
		    viol(R(NO_RULE)));
	}
}

/* ---- ClientHellos on a flow only a host rule allowed */

struct hello {
	uint8_t b[600];
	size_t n;
	size_t rec_len, hs_len, sid, ciphers, exts, sni_list, sni_len; /* offsets of the lengths */
};

static void p8(struct hello *h, unsigned v)
{
	h->b[h->n++] = (uint8_t)v;
}

static void p16(struct hello *h, unsigned v)
{
	p8(h, v >> 8);
	p8(h, v);
}

static void hello_build(struct hello *h, const char *sni)
{
	size_t l = strlen(sni);

	memset(h, 0, sizeof(*h));
	p8(h, 22);
	p16(h, 0x0301);
	h->rec_len = h->n;
	p16(h, 0);
	p8(h, 1);
	h->hs_len = h->n;
	p8(h, 0);
	p16(h, 0);
	p16(h, 0x0303);
	for (int i = 0; i < 32; i++)
		p8(h, i);
	h->sid = h->n;
	p8(h, 0);
	h->ciphers = h->n;
	p16(h, 2);
	p16(h, 0x1301);
	p8(h, 1);
	p8(h, 0);
	h->exts = h->n;
	p16(h, 0);
	p16(h, 10); /* supported_groups first */
	p16(h, 4);
	p16(h, 2);
	p16(h, 29);
	p16(h, 0); /* server_name */
	p16(h, l + 5);
	h->sni_list = h->n;
	p16(h, l + 3);
	p8(h, 0);
	h->sni_len = h->n;
	p16(h, l);
	memcpy(h->b + h->n, sni, l);
	h->n += l;
	put16(h->b + h->exts, (uint16_t)(h->n - h->exts - 2));
	h->b[h->hs_len] = 0;
	put16(h->b + h->hs_len + 1, (uint16_t)(h->n - h->hs_len - 3));
	put16(h->b + h->rec_len, (uint16_t)(h->n - h->rec_len - 2));
}

static void hello_run(struct sweep *s, const char *name, const struct hello *h, struct want want)
{
	struct pkt_spec syn = { H4, LEARNED, TCP, ++s->sport, 443 };
	struct pkt_spec data = {
		H4, LEARNED, TCP, s->sport, 443, PSHACK, .payload = (uint16_t)h->n, .data = h->b
	};
	char sname[96];

	snprintf(sname, sizeof(sname), "%s: the syn", name);
	run_spec(s, sname, &syn, OUT, allow);
	run_spec(s, name, &data, OUT, want);
}

/*
 * Does setting length field fld to v hide the name or change it?  The record length is not
 * needed to find the name, and the server-name list length is not read; a session id of 0 is
 * the hello as built; extensions said to run past the record are read as far as they go (the
 * name is there, and a server refuses such a hello).  Any other lie hides or changes the name.
 */
static bool hello_lie(int fld, unsigned v)
{
	switch (fld) {
	case 0:
	case 4:
		return false;
	case 1:
		return v != 0;
	case 3:
		return v < 0x7fff;
	default:
		return true;
	}
}

static void client_hellos(struct sweep *s)
{
	struct hello h;
	char name[96];

	hello_build(&h, "www.example.com");
	hello_run(s, "clienthello", &h, allow);
	/* a ClientHello cut at every offset (malformed, dropped in enforce), then whole */
	{
		struct pkt_spec syn = { H4, LEARNED, TCP, ++s->sport, 443 };
		struct pkt_spec data = {
			H4,	    LEARNED, TCP, s->sport, 443, PSHACK, .payload = (uint16_t)h.n,
			.data = h.b
		};
		uint8_t g[PKT_MAX];
		size_t len;

		run_spec(s, "clienthello cut: the syn", &syn, OUT, allow);
		len = build(&data, g);
		for (size_t n = 14; n < len; n++) {
			snprintf(name, sizeof(name), "clienthello cut at %zu of %zu", n, len);
			run(s, name, g, n, OUT, malformed);
		}
		run(s, "clienthello after its cuts", g, len, OUT, allow);
	}
	hello_build(&h, "WWW.Example.COM.");
	hello_run(s, "clienthello upper case, trailing dot", &h, allow);
	hello_build(&h, "www.example.org");
	hello_run(s, "clienthello other name", &h, viol(R(SNI_MISMATCH)));
	hello_build(&h, "");
	hello_run(s, "clienthello empty name", &h, viol(SNI_VIOLATION));
	{
		char longname[300];

		memset(longname, 'a', sizeof(longname) - 1);
		longname[sizeof(longname) - 1] = '\0';
		memcpy(longname + sizeof(longname) - 13, ".example.com", 12);
		hello_build(&h, longname);
		hello_run(s, "clienthello name of 299 bytes", &h, viol(SNI_VIOLATION));
	}
	hello_build(&h, "www.example.com");
	h.b[h.sni_len + 2 + 3] = 0; /* a NUL inside the name */
	hello_run(s, "clienthello name with a nul", &h, viol(SNI_VIOLATION));
	/* every length field of the hello set to its boundary values */
	{
		static const unsigned vals16[] = { 0, 1, 0x7fff, 0xffff };
		const char *what[] = { "record",     "session id",	 "cipher suites",
				       "extensions", "server name list", "server name" };

		for (int fld = 0; fld < 6; fld++) {
			for (size_t i = 0; i < sizeof(vals16) / sizeof(vals16[0]); i++) {
				unsigned v = vals16[i];

				hello_build(&h, "www.example.com");
				switch (fld) {
				case 0:
					put16(h.b + h.rec_len, (uint16_t)v);
					break;
				case 1:
					h.b[h.sid] = (uint8_t)v;
					break;
				case 2:
					put16(h.b + h.ciphers, (uint16_t)v);
					break;
				case 3:
					put16(h.b + h.exts, (uint16_t)v);
					break;
				case 4:
					put16(h.b + h.sni_list, (uint16_t)v);
					break;
				default:
					put16(h.b + h.sni_len, (uint16_t)v);
					break;
				}
				snprintf(name, sizeof(name), "clienthello %s length %#x", what[fld],
					 v);
				hello_run(s, name, &h,
					  hello_lie(fld, v) ? viol(SNI_VIOLATION) : allow);
			}
		}
	}
	/* not a ClientHello: application data, a ServerHello, an alert */
	{
		static const struct {
			size_t at;
			uint8_t v;
			const char *what;
		} not_hello[] = { { 0, 23, "application data record" },
				  { 5, 2, "server hello" },
				  { 0, 21, "alert record" } };

		for (size_t i = 0; i < sizeof(not_hello) / sizeof(not_hello[0]); i++) {
			hello_build(&h, "www.example.com");
			h.b[not_hello[i].at] = not_hello[i].v;
			snprintf(name, sizeof(name), "clienthello replaced by an %s",
				 not_hello[i].what);
			hello_run(s, name, &h, viol(R(NO_SNI)));
		}
	}
}

/* ---- counters */

static void counters(struct sweep *s, struct offline *o, unsigned sent, unsigned viols,
		     const char *which)
{
	struct amlg_stats st;
	uint64_t pk = 0, dr = 0, rs = 0, ms = 0, vi = 0, dns;
	char name[64], full[128];

	snprintf(name, sizeof(name), "%s counters", which);
	snprintf(full, sizeof(full), "sweep/%s/%s", s->mname, name);
	if (read_stats(o, &st)) {
		fail(s, name, "cannot read the counters");
		result(RESULT_FAIL, full, "cannot read the counters");
		return;
	}
	dns = st.dns_malformed;
	for (int d = 0; d < AMLG_DIRS; d++) {
		pk += st.packets[d][0] + st.packets[d][1];
		vi += st.packets[d][1];
		dr += st.dropped[d];
		for (int r = 0; r < AMLG_REASON_MAX; r++)
			rs += st.reasons[d][r];
		for (int m = 0; m < AMLG_MATCH_MAX; m++)
			ms += st.matches[d][m];
	}
	if (pk != sent || rs != sent || ms != sent || vi != viols ||
	    dr != (s->mode == AMLG_MODE_ENFORCE ? viols : 0) || dns != s->dns_bad) {
		fail(s, name,
		     "sent %u (%u violations): counted %llu packets, %llu by reason, %llu by "
		     "match, %llu violations, %llu dropped, %llu bad DNS answers of %u",
		     sent, viols, (unsigned long long)pk, (unsigned long long)rs,
		     (unsigned long long)ms, (unsigned long long)vi, (unsigned long long)dr,
		     (unsigned long long)st.dns_malformed, s->dns_bad);
		result(RESULT_FAIL, full, "counters do not add up");
	} else {
		printf("[sweep/%s/%s] PASS: %u packets, %llu violations, %llu dropped, %llu bad DNS "
		       "answers, %llu events sent, %llu not sent (ring buffer full)\n",
		       s->mname, name, sent, (unsigned long long)vi, (unsigned long long)dr,
		       (unsigned long long)st.dns_malformed, (unsigned long long)st.events_sent,
		       (unsigned long long)st.events_ringbuf_full);
		s->passes++;
		result(RESULT_PASS, full, NULL);
	}
}

/* Nothing the broken answers held was learned: those addresses are still unknown. */
static void nothing_learned(struct sweep *s)
{
	static const char *const addrs[] = { "203.0.113.67", "203.0.113.68", "203.0.113.69" };
	char name[96];

	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		struct pkt_spec syn = { H4, addrs[i], TCP, ++s->sport, 443 };

		snprintf(name, sizeof(name), "%s from a broken answer is not learned", addrs[i]);
		run_spec(s, name, &syn, OUT, viol(R(NO_RULE)));
	}
}

/* One group of cases, and a line saying how it went (each packet's failure is printed too). */
static void group(struct sweep *s, const char *name, void (*fn)(struct sweep *))
{
	unsigned f0 = s->failures, n0 = s->sent_live + s->refused;

	char full[128], why[64];

	fn(s);
	printf("[sweep/%s/%s] %s: %u packets\n", s->mname, name,
	       s->failures == f0 ? "PASS" : "FAIL", s->sent_live + s->refused - n0);
	snprintf(full, sizeof(full), "sweep/%s/%s", s->mname, name);
	snprintf(why, sizeof(why), "%u packet checks failed", s->failures - f0);
	result(s->failures == f0 ? RESULT_PASS : RESULT_FAIL, full, why);
}

static void sweep_mode(int mode)
{
	struct sweep s;

	if (sweep_open(&s, mode)) {
		report(mode == AMLG_MODE_ENFORCE ? "sweep/enforce" : "sweep/audit", "setup", false,
		       "cannot compile or load");
		total_failures++;
		return;
	}
	group(&s, "truncations", truncations);
	group(&s, "ipv4 fields", ipv4_fields);
	group(&s, "tcp fields", tcp_fields);
	group(&s, "udp fields", udp_fields);
	group(&s, "icmp types", icmp_types);
	group(&s, "ipv6 fields", ipv6_fields);
	group(&s, "vlan stacks", vlan_stacks);
	group(&s, "icmp errors", icmp_errors);
	group(&s, "dns counts", dns_counts);
	group(&s, "clienthellos", client_hellos);
	group(&s, "nothing learned", nothing_learned);
	flush(&s);
	counters(&s, &s.live, s.sent_live, s.viol_live, "live");
	counters(&s, &s.off, s.sent_batch, s.viol_batch, "batch");
	printf("[sweep/%s] %u packets live, %u through the batch (%u not testable live), %u "
	       "passed, %u failed\n",
	       s.mname, s.sent_live, s.sent_batch, s.refused, s.passes, s.failures);
	total_passes += s.passes;
	total_failures += s.failures;
	batch_free(&s.b);
	compiled_free(s.c);
	policy_free(s.p);
	free(s.q);
}

int main(void)
{
	harness_start();
	sweep_mode(AMLG_MODE_AUDIT);
	sweep_mode(AMLG_MODE_ENFORCE);
	shared_instances_close();
	printf("%u packets swept, %u packet checks, %u of them failed\n", total_packets,
	       total_passes + total_failures, total_failures);
	return results_end() || total_failures ? 1 : 0;
}
