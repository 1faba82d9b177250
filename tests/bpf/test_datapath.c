// SPDX-License-Identifier: GPL-2.0-only
/*
 * Datapath tests: the real compiled object, loaded into the kernel and fed crafted packets with
 * BPF_PROG_TEST_RUN.  Every scenario is a table of steps (packet, direction, expected verdict,
 * reason, rule by flow ID, match kind) run in order on one instance, so conntrack, fragments and
 * reloads carry from step to step; every scenario runs in audit and in enforce mode.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <linux/pkt_cls.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernel/batch.h"
#include "compile/compile.h"
#include "base/event.h"
#include "kernel/loader.h"
#include "kernel/loader_xdp.h"
#include "amlguard.skel.h"
#include "base/log.h"
#include "base/names.h"
#include "harness.h"
#include "offline/pktgen.h"
#include "policy/policy.h"
#include "kernel/state.h"
#include "kernel/tables.h"

#define NS 1000000ull /* per ms */
#define OUT AMLG_DIR_OUT
#define IN AMLG_DIR_IN
#define V AMLG_VERDICT_VIOLATION
#define A AMLG_VERDICT_ALLOW
#define ANY_MATCH -1

#define H4 "192.0.2.10" /* the protected host */
#define H6 "2001:db8:ffff::10"
#define TCP IPPROTO_TCP
#define UDP IPPROTO_UDP
#define SYN 0x02
#define ACK 0x10
#define SYNACK 0x12
#define FIN 0x11

static const char policy_main[] =
	"allow out tcp port 443 to 198.51.100.0/24 flow T-HTTPS\n"
	"allow out tcp port { 80, 8000-8100 } to 198.51.100.10 flow T-WEB\n"
	"allow out udp port 53 to 198.51.100.53 flow T-DNS\n"
	"allow in tcp port 44224 from 203.0.113.0/24 flow T-IN-AML\n"
	"allow in tcp port 29876-29877 from 203.0.113.0/24 to 192.0.2.10 flow T-IN-BATCH\n"
	"allow out tcp port 443 to 2001:db8:1::/48 flow T-V6\n"
	"allow out icmp to 198.51.100.0/24 flow T-PING\n"
	"allow out icmpv6 to 2001:db8::/32 flow T-PING6\n"
	"allow out any to 192.0.2.0/24 flow T-VNET\n"
	"allow out tcp port 445 to 198.51.100.128/25 flow T-SMB\n";

/* The same, minus HTTPS to 198.51.100.0/24, for reloads. */
static const char policy_reload[] = "allow out udp port 53 to 198.51.100.53 flow T-DNS\n"
				    "allow out tcp port 445 to 198.51.100.128/25 flow T-SMB\n";

/*
 * More rules than one bitmap word holds (64): M-0 .. M-149, each TCP to 198.51.100.7 on port
 * 1000 + i, then M-UDP (UDP port 53 to 198.51.100.99) and M-TCP99 (TCP port 22 there), so
 * that a match, and the near rule of a port violation, lie in the second and third words.
 * Written by main() before the scenarios run.
 */
#define MANY_RULES 150
static char policy_many[MANY_RULES * 64 + 128];

static void make_policy_many(void)
{
	size_t n = 0;

	for (int i = 0; i < MANY_RULES; i++)
		n += (size_t)snprintf(policy_many + n, sizeof(policy_many) - n,
				      "allow out tcp port %d to 198.51.100.7 flow M-%d\n", 1000 + i,
				      i);
	snprintf(policy_many + n, sizeof(policy_many) - n,
		 "allow out udp port 53 to 198.51.100.99 flow M-UDP\n"
		 "allow out tcp port 22 to 198.51.100.99 flow M-TCP99\n");
}

struct step {
	const char *name;
	unsigned dir;
	struct pkt_spec pkt;
	int verdict;
	int reason;
	const char *flow; /* the rule's flow ID (allowed, or near rule of a port violation) */
	int match; /* AMLG_MATCH_*, or ANY_MATCH */
	uint64_t advance_ms; /* time passing before this packet */
	const char *reload; /* instead of a packet: reload with this policy text */
	uint16_t pad; /* the frame padded with zeros to this length (Ethernet: 60) */
	int l4; /* batch: the protocol reported, plus 1 (0: not checked) */
};

/* The step's frame, padded as asked; its length, or 0. */
static size_t build_step(const struct step *st, uint8_t *frame, size_t cap)
{
	size_t len = pkt_build(&st->pkt, frame, cap);

	if (len && len < st->pad && st->pad <= cap) {
		memset(frame + len, 0, st->pad - len);
		len = st->pad;
	}
	return len;
}

struct scenario {
	const char *name;
	const char *policy;
	struct step steps[16];
};

#define ALLOW(f, m) .verdict = A, .reason = AMLG_REASON_NONE, .flow = f, .match = m
#define VIOL(r, f) .verdict = V, .reason = r, .flow = f, .match = AMLG_MATCH_NONE

static const struct pkt_spec quoted_dns = { .src = H4,
					    .dst = "198.51.100.53",
					    .proto = UDP,
					    .sport = 5353,
					    .dport = 53 };
static const struct pkt_spec quoted_other = { .src = H4,
					      .dst = "198.51.100.54",
					      .proto = UDP,
					      .sport = 5353,
					      .dport = 53 };
static const struct pkt_spec quoted_bad = { .src = H4,
					    .dst = "198.51.100.53",
					    .proto = UDP,
					    .sport = 5353,
					    .dport = 53,
					    .ihl = 3 };

static const struct scenario scenarios[] = {
	{ "tcp-v4",
	  policy_main,
	  {
		  { "syn out allowed",
		    OUT,
		    { H4, "198.51.100.7", TCP, 50000, 443 },
		    ALLOW("T-HTTPS", AMLG_MATCH_RULE) },
		  { "syn-ack in is the reply",
		    IN,
		    { "198.51.100.7", H4, TCP, 443, 50000, SYNACK },
		    ALLOW("T-HTTPS", AMLG_MATCH_CT) },
		  { "ack out",
		    OUT,
		    { H4, "198.51.100.7", TCP, 50000, 443, ACK },
		    ALLOW("T-HTTPS", AMLG_MATCH_CT) },
		  { "wrong port names the near rule",
		    OUT,
		    { H4, "198.51.100.7", TCP, 50001, 80 },
		    VIOL(AMLG_REASON_PORT, "T-HTTPS") },
		  { "port range",
		    OUT,
		    { H4, "198.51.100.10", TCP, 50002, 8050 },
		    ALLOW("T-WEB", AMLG_MATCH_RULE) },
		  { "port list",
		    OUT,
		    { H4, "198.51.100.10", TCP, 50003, 80 },
		    ALLOW("T-WEB", AMLG_MATCH_RULE) },
		  { "just past the range",
		    OUT,
		    { H4, "198.51.100.10", TCP, 50004, 8101 },
		    VIOL(AMLG_REASON_PORT, "T-HTTPS") },
		  { "udp where only tcp and icmp",
		    OUT,
		    { H4, "198.51.100.7", UDP, 5000, 53 },
		    VIOL(AMLG_REASON_PROTO, NULL) },
		  { "udp dns",
		    OUT,
		    { H4, "198.51.100.53", UDP, 5001, 53 },
		    ALLOW("T-DNS", AMLG_MATCH_RULE) },
		  { "no rule for the address",
		    OUT,
		    { H4, "203.0.113.9", TCP, 50005, 443 },
		    VIOL(AMLG_REASON_NO_RULE, NULL) },
		  { "platform dns",
		    OUT,
		    { H4, "168.63.129.16", TCP, 50006, 53 },
		    ALLOW("PLATFORM-DNS", AMLG_MATCH_RULE) },
		  { "platform imds",
		    OUT,
		    { H4, "169.254.169.254", TCP, 50007, 80 },
		    ALLOW("PLATFORM-IMDS", AMLG_MATCH_RULE) },
		  { "any protocol to the vnet",
		    OUT,
		    { H4, "192.0.2.77", 47 },
		    ALLOW("T-VNET", AMLG_MATCH_RULE) },
		  { "other protocol elsewhere",
		    OUT,
		    { H4, "198.51.100.7", 47 },
		    VIOL(AMLG_REASON_PROTO, NULL) },
	  } },
	{ "inbound",
	  policy_main,
	  {
		  { "syn in allowed",
		    IN,
		    { "203.0.113.5", H4, TCP, 40000, 44224 },
		    ALLOW("T-IN-AML", AMLG_MATCH_RULE) },
		  { "syn-ack out is the reply",
		    OUT,
		    { H4, "203.0.113.5", TCP, 44224, 40000, SYNACK },
		    ALLOW("T-IN-AML", AMLG_MATCH_CT) },
		  { "local endpoint matches",
		    IN,
		    { "203.0.113.5", H4, TCP, 40001, 29876 },
		    ALLOW("T-IN-BATCH", AMLG_MATCH_RULE) },
		  { "local endpoint does not",
		    IN,
		    { "203.0.113.5", "192.0.2.11", TCP, 40002, 29877 },
		    VIOL(AMLG_REASON_PORT, "T-IN-AML") },
		  { "unknown source",
		    IN,
		    { "198.51.100.7", H4, TCP, 40003, 22 },
		    VIOL(AMLG_REASON_NO_RULE, NULL) },
		  { "an in rule does not allow out",
		    OUT,
		    { H4, "203.0.113.5", TCP, 40004, 44224 },
		    VIOL(AMLG_REASON_NO_RULE, NULL) },
		  { "platform probe in",
		    IN,
		    { "168.63.129.16", H4, TCP, 40005, 8080 },
		    ALLOW("PLATFORM-LB-PROBE", AMLG_MATCH_RULE) },
	  } },
	{ "ipv6",
	  policy_main,
	  {
		  { "syn out",
		    OUT,
		    { H6, "2001:db8:1::5", TCP, 50000, 443 },
		    ALLOW("T-V6", AMLG_MATCH_RULE) },
		  { "reply",
		    IN,
		    { "2001:db8:1::5", H6, TCP, 443, 50000, SYNACK },
		    ALLOW("T-V6", AMLG_MATCH_CT) },
		  { "extension headers",
		    OUT,
		    { H6, "2001:db8:1::5", TCP, 50001, 443,
		      .ext = { EXT_HOP, EXT_DSTOPTS, EXT_ROUTING, EXT_DSTOPTS } },
		    ALLOW("T-V6", AMLG_MATCH_RULE) },
		  { "authentication header",
		    OUT,
		    { H6, "2001:db8:1::5", TCP, 50002, 443, .ext = { EXT_AH } },
		    ALLOW("T-V6", AMLG_MATCH_RULE) },
		  { "atomic fragment",
		    OUT,
		    { H6, "2001:db8:1::5", TCP, 50003, 443, .ext = { EXT_FRAG } },
		    ALLOW("T-V6", AMLG_MATCH_RULE) },
		  { "chain longer than the bound",
		    OUT,
		    { H6, "2001:db8:1::5", TCP, 50004, 443,
		      .ext = { EXT_DSTOPTS, EXT_DSTOPTS, EXT_DSTOPTS, EXT_DSTOPTS, EXT_DSTOPTS,
			       EXT_DSTOPTS, EXT_DSTOPTS, EXT_DSTOPTS, EXT_DSTOPTS } },
		    VIOL(AMLG_REASON_MALFORMED, NULL),
		    /* refused in the walk: the last Next Header reached, not 0 */
		    .l4 = IPPROTO_DSTOPTS + 1 },
		  { "hop-by-hop not first",
		    OUT,
		    { H6, "2001:db8:1::5", TCP, 50005, 443, .ext = { EXT_DSTOPTS, EXT_HOP } },
		    VIOL(AMLG_REASON_MALFORMED, NULL),
		    .l4 = IPPROTO_HOPOPTS + 1 },
		  { "payload length 0",
		    OUT,
		    { H6, "2001:db8:2::5", 59 },
		    VIOL(AMLG_REASON_PROTO, NULL),
		    .l4 = 59 + 1 },
		  { "payload length 0, padded frame",
		    OUT,
		    { H6, "2001:db8:2::5", 59 },
		    VIOL(AMLG_REASON_PROTO, NULL),
		    .pad = 60,
		    .l4 = 59 + 1 },
		  { "tcp where only icmpv6",
		    OUT,
		    { H6, "2001:db8:2::5", TCP, 50006, 443 },
		    VIOL(AMLG_REASON_PROTO, NULL) },
		  { "echo request",
		    OUT,
		    { H6, "2001:db8:2::5", IPPROTO_ICMPV6, 77, .icmp_type = 128 },
		    ALLOW("T-PING6", AMLG_MATCH_RULE) },
		  { "echo reply",
		    IN,
		    { "2001:db8:2::5", H6, IPPROTO_ICMPV6, 77, .icmp_type = 129 },
		    ALLOW("T-PING6", AMLG_MATCH_CT) },
		  { "neighbour solicitation",
		    IN,
		    { "fe80::1", "ff02::1:ff00:10", IPPROTO_ICMPV6, .icmp_type = 135 },
		    ALLOW(NULL, AMLG_MATCH_LINK) },
		  { "mld report",
		    OUT,
		    { "fe80::10", "ff02::16", IPPROTO_ICMPV6, .icmp_type = 143, .ext = { EXT_HOP } },
		    ALLOW(NULL, AMLG_MATCH_LINK) },
		  { "no rule",
		    OUT,
		    { H6, "2001:db9::1", UDP, 5000, 53 },
		    VIOL(AMLG_REASON_NO_RULE, NULL) },
	  } },
	{ "vlan-and-l2",
	  policy_main,
	  {
		  { "802.1q",
		    OUT,
		    { H4, "198.51.100.7", TCP, 50000, 443, .vlan = { 100 } },
		    ALLOW("T-HTTPS", AMLG_MATCH_RULE) },
		  { "802.1ad + 802.1q",
		    OUT,
		    { H4, "198.51.100.7", TCP, 50001, 443, .vlan = { 200, 100 },
		      .vlan_tpid = { 0x88a8, 0x8100 } },
		    ALLOW("T-HTTPS", AMLG_MATCH_RULE) },
		  { "violation behind two tags",
		    OUT,
		    { H4, "203.0.113.1", TCP, 50002, 443, .vlan = { 200, 100 } },
		    VIOL(AMLG_REASON_NO_RULE, NULL) },
		  { "three tags",
		    OUT,
		    { H4, "198.51.100.7", TCP, 50003, 443, .vlan = { 300, 200, 100 } },
		    VIOL(AMLG_REASON_MALFORMED, NULL) },
		  { "arp", IN, { .ethertype = 0x0806 }, ALLOW(NULL, AMLG_MATCH_LINK) },
		  { "arp in a vlan",
		    IN,
		    { .ethertype = 0x0806, .vlan = { 5 } },
		    ALLOW(NULL, AMLG_MATCH_LINK) },
		  { "lldp is not ip", OUT, { .ethertype = 0x88cc }, VIOL(AMLG_REASON_NON_IP, NULL) },
	  } },
	{ "ipv4-headers",
	  policy_main,
	  {
		  { "options",
		    OUT,
		    { H4, "198.51.100.7", TCP, 50000, 443, .ip_opts = 8 },
		    ALLOW("T-HTTPS", AMLG_MATCH_RULE) },
		  { "ihl below 5",
		    OUT,
		    { H4, "198.51.100.7", TCP, 50001, 443, .ihl = 4 },
		    VIOL(AMLG_REASON_MALFORMED, NULL) },
		  { "total length past the end",
		    OUT,
		    { H4, "198.51.100.7", TCP, 50002, 443, .ip_len = 1400 },
		    VIOL(AMLG_REASON_MALFORMED, NULL) },
		  { "total length below the header",
		    OUT,
		    { H4, "198.51.100.7", TCP, 50003, 443, .ip_len = 16 },
		    VIOL(AMLG_REASON_MALFORMED, NULL) },
		  { "tcp data offset below 5",
		    OUT,
		    { H4, "198.51.100.7", TCP, 50004, 443, .tcp_doff = 4 },
		    VIOL(AMLG_REASON_MALFORMED, NULL) },
		  { "tcp data offset past the end",
		    OUT,
		    { H4, "198.51.100.7", TCP, 50005, 443, .tcp_doff = 15 },
		    VIOL(AMLG_REASON_MALFORMED, NULL) },
	  } },
	{ "fragments-v4",
	  policy_main,
	  {
		  { "first fragment",
		    OUT,
		    { H4, "198.51.100.7", TCP, 50000, 443, .frag = 1, .frag_id = 7, .payload = 64 },
		    ALLOW("T-HTTPS", AMLG_MATCH_RULE) },
		  { "later fragment follows",
		    OUT,
		    { H4, "198.51.100.7", TCP, .frag = 2, .frag_id = 7, .frag_off = 88 },
		    ALLOW("T-HTTPS", AMLG_MATCH_FRAG) },
		  { "early fragment of a pair with an allowed flow",
		    OUT,
		    { H4, "198.51.100.7", TCP, .frag = 2, .frag_id = 8, .frag_off = 88 },
		    ALLOW("T-HTTPS", AMLG_MATCH_FRAG) },
		  { "orphan fragment",
		    OUT,
		    { H4, "198.51.100.8", TCP, .frag = 2, .frag_id = 8, .frag_off = 88 },
		    VIOL(AMLG_REASON_FRAGMENT, NULL) },
		  { "orphan of another protocol of the pair",
		    OUT,
		    { H4, "198.51.100.7", UDP, .frag = 2, .frag_id = 8, .frag_off = 88 },
		    VIOL(AMLG_REASON_FRAGMENT, NULL) },
		  { "violating first fragment",
		    OUT,
		    { H4, "198.51.100.7", TCP, 50001, 22, .frag = 1, .frag_id = 9, .payload = 64 },
		    VIOL(AMLG_REASON_PORT, "T-HTTPS") },
		  { "its later fragment too",
		    OUT,
		    { H4, "198.51.100.7", TCP, .frag = 2, .frag_id = 9, .frag_off = 88 },
		    VIOL(AMLG_REASON_PORT, "T-HTTPS") },
	  } },
	{ "fragments-v6",
	  policy_main,
	  {
		  { "first fragment",
		    OUT,
		    { H6, "2001:db8:1::5", TCP, 50000, 443, .frag = 1, .frag_id = 70,
		      .payload = 64 },
		    ALLOW("T-V6", AMLG_MATCH_RULE) },
		  { "later fragment follows",
		    OUT,
		    { H6, "2001:db8:1::5", TCP, .frag = 2, .frag_id = 70, .frag_off = 88 },
		    ALLOW("T-V6", AMLG_MATCH_FRAG) },
		  { "early fragment of a pair with an allowed flow",
		    OUT,
		    { H6, "2001:db8:1::5", TCP, .frag = 2, .frag_id = 71, .frag_off = 88 },
		    ALLOW("T-V6", AMLG_MATCH_FRAG) },
		  { "orphan",
		    OUT,
		    { H6, "2001:db8:1::6", TCP, .frag = 2, .frag_id = 71, .frag_off = 88 },
		    VIOL(AMLG_REASON_FRAGMENT, NULL) },
	  } },
	{ "icmp",
	  policy_main,
	  {
		  { "echo request",
		    OUT,
		    { H4, "198.51.100.7", IPPROTO_ICMP, 9, .icmp_type = 8 },
		    ALLOW("T-PING", AMLG_MATCH_RULE) },
		  { "echo reply",
		    IN,
		    { "198.51.100.7", H4, IPPROTO_ICMP, 9, .icmp_type = 0 },
		    ALLOW("T-PING", AMLG_MATCH_CT) },
		  { "unsolicited echo reply",
		    IN,
		    { "198.51.100.7", H4, IPPROTO_ICMP, 10, .icmp_type = 0 },
		    VIOL(AMLG_REASON_NO_RULE, NULL) },
		  { "udp query", OUT, quoted_dns, ALLOW("T-DNS", AMLG_MATCH_RULE) },
		  { "port unreachable about it",
		    IN,
		    { "203.0.113.1", H4, IPPROTO_ICMP, .icmp_type = 3, .icmp_code = 3,
		      .quote = &quoted_dns },
		    ALLOW("T-DNS", AMLG_MATCH_RELATED) },
		  { "error about an unknown flow",
		    IN,
		    { "203.0.113.1", H4, IPPROTO_ICMP, .icmp_type = 3, .icmp_code = 3,
		      .quote = &quoted_other },
		    VIOL(AMLG_REASON_PROTO, NULL) },
		  { "error quoting nonsense",
		    IN,
		    { "203.0.113.1", H4, IPPROTO_ICMP, .icmp_type = 11, .quote = &quoted_bad },
		    VIOL(AMLG_REASON_MALFORMED, NULL) },
	  } },
	{ "pickup",
	  policy_main,
	  {
		  { "ack of a flow opened before us",
		    IN,
		    { "198.51.100.7", H4, TCP, 443, 50010, ACK },
		    ALLOW("T-HTTPS", AMLG_MATCH_PICKUP) },
		  { "then tracked",
		    OUT,
		    { H4, "198.51.100.7", TCP, 50010, 443, ACK },
		    ALLOW("T-HTTPS", AMLG_MATCH_CT) },
		  { "a bare syn is never a reply",
		    IN,
		    { "198.51.100.7", H4, TCP, 443, 50011, SYN },
		    VIOL(AMLG_REASON_NO_RULE, NULL) },
		  { "no pickup for udp",
		    IN,
		    { "198.51.100.53", H4, UDP, 53, 5000 },
		    VIOL(AMLG_REASON_NO_RULE, NULL) },
	  } },
	{ "conntrack-expiry",
	  policy_main,
	  {
		  { "udp query",
		    OUT,
		    { H4, "198.51.100.53", UDP, 5002, 53 },
		    ALLOW("T-DNS", AMLG_MATCH_RULE) },
		  { "answer within the timeout",
		    IN,
		    { "198.51.100.53", H4, UDP, 53, 5002 },
		    ALLOW("T-DNS", AMLG_MATCH_CT),
		    .advance_ms = 1000 },
		  { "answer long after",
		    IN,
		    { "198.51.100.53", H4, UDP, 53, 5002 },
		    VIOL(AMLG_REASON_NO_RULE, NULL),
		    .advance_ms = 200000 },
		  { "tcp syn",
		    OUT,
		    { H4, "198.51.100.7", TCP, 50020, 443 },
		    ALLOW("T-HTTPS", AMLG_MATCH_RULE) },
		  { "fin",
		    OUT,
		    { H4, "198.51.100.7", TCP, 50020, 443, FIN },
		    ALLOW("T-HTTPS", AMLG_MATCH_CT),
		    .advance_ms = 1000 },
		  { "closed flows leave the table sooner",
		    OUT,
		    { H4, "198.51.100.7", TCP, 50020, 443, ACK },
		    ALLOW("T-HTTPS", AMLG_MATCH_RULE),
		    .advance_ms = 11000 },
	  } },
	{ "reload",
	  policy_main,
	  {
		  { "https flow",
		    OUT,
		    { H4, "198.51.100.7", TCP, 50000, 443 },
		    ALLOW("T-HTTPS", AMLG_MATCH_RULE) },
		  { "smb flow",
		    OUT,
		    { H4, "198.51.100.200", TCP, 50001, 445 },
		    ALLOW("T-SMB", AMLG_MATCH_RULE) },
		  { "swap", .reload = policy_reload },
		  { "https no longer allowed",
		    OUT,
		    { H4, "198.51.100.7", TCP, 50000, 443, ACK },
		    VIOL(AMLG_REASON_NO_RULE, NULL) },
		  { "smb still allowed, still tracked",
		    OUT,
		    { H4, "198.51.100.200", TCP, 50001, 445, ACK },
		    ALLOW("T-SMB", AMLG_MATCH_CT) },
		  { "swap back", .reload = policy_main },
		  { "https allowed again",
		    OUT,
		    { H4, "198.51.100.7", TCP, 50000, 443, ACK },
		    ALLOW("T-HTTPS", AMLG_MATCH_CT) },
	  } },
	{ "many-rules",
	  policy_many,
	  {
		  { "first word",
		    OUT,
		    { H4, "198.51.100.7", TCP, 50000, 1003 },
		    ALLOW("M-3", AMLG_MATCH_RULE) },
		  { "second word",
		    OUT,
		    { H4, "198.51.100.7", TCP, 50001, 1070 },
		    ALLOW("M-70", AMLG_MATCH_RULE) },
		  { "third word",
		    OUT,
		    { H4, "198.51.100.7", TCP, 50002, 1149 },
		    ALLOW("M-149", AMLG_MATCH_RULE) },
		  { "port of no rule: the first rule is the near one",
		    OUT,
		    { H4, "198.51.100.7", TCP, 50003, 999 },
		    VIOL(AMLG_REASON_PORT, "M-0") },
		  { "near rule in the third word",
		    OUT,
		    { H4, "198.51.100.99", UDP, 5000, 54 },
		    VIOL(AMLG_REASON_PORT, "M-UDP") },
		  { "match in the third word",
		    OUT,
		    { H4, "198.51.100.99", TCP, 50004, 22 },
		    ALLOW("M-TCP99", AMLG_MATCH_RULE) },
		  { "protocol of no rule",
		    OUT,
		    { H4, "198.51.100.7", UDP, 5001, 1003 },
		    VIOL(AMLG_REASON_PROTO, NULL) },
	  } },
};

static bool same_flow(const char *want, const char *got)
{
	if (!want || !got)
		return want == got || (!want && got && !*got);
	return !strcmp(want, got);
}

static void run_scenario(const struct scenario *s, int mode)
{
	const char *mname = mode == AMLG_MODE_ENFORCE ? "enforce" : "audit";
	struct compiled_policy cp = { 0 }, next = { 0 };
	uint64_t now = 1000000000000ull;
	struct offline *o;
	uint8_t frame[PKT_MAX];
	char what[96];

	snprintf(what, sizeof(what), "%s/%s", s->name, mname);
	if (load_text(s->policy, mode, INSTANCE_SINGLE, &cp, &o)) {
		report(what, "setup", false, "cannot compile or load");
		/* one verifier log is enough to read */
		exit(1);
	}
	for (const struct step *st = s->steps; st->name; st++) {
		struct offline_verdict v;
		const char *got;
		size_t len;
		int want_ret;

		now += st->advance_ms * NS;
		if (st->reload) {
			bool ok = compile_text(st->reload, mode, &next) == 0 &&
				  tables_install(&o->maps, next.c, NULL) == 0;

			report(what, st->name, ok, "reload failed");
			compiled_policy_free(&cp);
			cp = next;
			memset(&next, 0, sizeof(next));
			continue;
		}
		len = build_step(st, frame, sizeof(frame));
		if (!len || offline_run(o, frame, len, st->dir, now, &v)) {
			report(what, st->name, false, "cannot build or run the packet");
			continue;
		}
		got = rule_flow(cp.c, v.rule);
		want_ret = st->verdict == V && mode == AMLG_MODE_ENFORCE ? TC_ACT_SHOT : TC_ACT_OK;
		report(what, st->name,
		       v.verdict == st->verdict && v.reason == st->reason &&
			       same_flow(st->flow, got) &&
			       (st->match == ANY_MATCH || v.match == st->match) &&
			       (int)v.retval == want_ret,
		       "expected %s %s rule %s match %s ret %d, got %s %s rule %s match %s ret %u",
		       st->verdict == A ? "allow" : "violation", reason_str((unsigned)st->reason),
		       st->flow ? st->flow : "-",
		       st->match == ANY_MATCH ? "*" : match_str((unsigned)st->match), want_ret,
		       v.verdict == A ? "allow" : "violation", reason_str(v.reason),
		       got ? got : "-", match_str(v.match), v.retval);
	}
	compiled_policy_free(&cp);
}

/* Every truncation of a valid packet is malformed, and never allowed. */
static void truncation_sweep(void)
{
	static const struct pkt_spec bases[] = {
		{ H4, "198.51.100.7", TCP, 50000, 443, .payload = 16 },
		{ H4, "198.51.100.53", UDP, 5000, 53, .vlan = { 10, 20 }, .vlan_tpid = { 0x88a8 } },
		{ H4, "198.51.100.7", TCP, 50000, 443, .ip_opts = 12 },
		{ H6, "2001:db8:1::5", TCP, 50000, 443, .ext = { EXT_HOP, EXT_ROUTING, EXT_AH } },
		{ H4, "198.51.100.7", IPPROTO_ICMP, 9, .icmp_type = 8 },
		{ "203.0.113.1", H4, IPPROTO_ICMP, .icmp_type = 3, .quote = &quoted_dns },
	};
	struct compiled_policy cp = { 0 };
	unsigned swept = 0, bad = 0, refused = 0, total = 0;
	uint8_t frame[PKT_MAX];
	struct offline *o;
	char name[64];

	if (load_text(policy_main, AMLG_MODE_ENFORCE, INSTANCE_SINGLE, &cp, &o)) {
		report("truncation/enforce", "setup", false, "cannot compile or load");
		return;
	}
	for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++) {
		size_t len = pkt_build(&bases[b], frame, sizeof(frame));

		total += len > 14 ? (unsigned)(len - 14) : 0;
		for (size_t n = 14; n < len; n++) {
			struct offline_verdict v;

			if (offline_run(o, frame, n, OUT, 1, &v)) {
				/*
				 * BPF_PROG_TEST_RUN itself refuses an IP frame shorter than an
				 * IP header: such frames cannot be fed in, only counted.
				 */
				if (errno == EINVAL &&
				    n < 14 + (strchr(bases[b].src, ':') ? 40u : 20u)) {
					refused++;
					continue;
				}
				snprintf(name, sizeof(name), "base %zu cut at %zu", b, n);
				report("truncation/enforce", name, false, "test run: %s",
				       strerror(errno));
				bad++;
				continue;
			}
			swept++;
			if (v.verdict != V || v.reason != AMLG_REASON_MALFORMED ||
			    v.retval != TC_ACT_SHOT) {
				snprintf(name, sizeof(name), "base %zu cut at %zu", b, n);
				report("truncation/enforce", name, false,
				       "expected violation malformed drop, got %s %s ret %u",
				       v.verdict == A ? "allow" : "violation", reason_str(v.reason),
				       v.retval);
				bad++;
			}
		}
	}
	snprintf(name, sizeof(name), "%u truncated packets (%u too short for test_run)", swept,
		 refused);
	report("truncation/enforce", name, bad == 0 && swept && swept + refused == total,
	       "%u failed, %u of %u cuts run", bad, swept + refused, total);
	compiled_policy_free(&cp);
}

/* The live entry points map hooks to directions by role. */
static void roles(void)
{
	static const struct pkt_spec out_ok = { H4, "198.51.100.7", TCP, 50000, 443 };
	static const struct pkt_spec in_syn = { "198.51.100.7", H4, TCP, 443, 50001 };
	static const struct pkt_spec reply = { "198.51.100.7", H4, TCP, 443, 50000, SYNACK };
	struct compiled_policy cp = { 0 };
	uint8_t f1[PKT_MAX], f2[PKT_MAX], f3[PKT_MAX];
	size_t l1 = pkt_build(&out_ok, f1, sizeof(f1)), l2 = pkt_build(&in_syn, f2, sizeof(f2));
	size_t l3 = pkt_build(&reply, f3, sizeof(f3));

	if (compile_text(policy_main, AMLG_MODE_ENFORCE, &cp)) {
		report("roles/enforce", "setup", false, "cannot compile");
		return;
	}
	for (unsigned role = AMLG_ROLE_HOST; role <= AMLG_ROLE_GATEWAY; role++) {
		/* host: egress is out; gateway: ingress is out. */
		int out_fd, in_fd, r1, r2;
		struct offline o;
		char what[32];

		snprintf(what, sizeof(what), "roles/%s", role_str(role));
		if (offline_open_role(&o, cp.c, 0, role)) {
			report(what, "setup", false, "cannot load");
			continue;
		}
		out_fd = role == AMLG_ROLE_HOST ? o.egress_fd : o.ingress_fd;
		in_fd = role == AMLG_ROLE_HOST ? o.ingress_fd : o.egress_fd;
		r1 = offline_run_prog(&o, in_fd, f1, l1); /* the out packet on the in hook */
		r2 = offline_run_prog(&o, in_fd, f2, l2); /* an unsolicited syn in */
		report(what, "out packet on the in hook is dropped", r1 == TC_ACT_SHOT, "ret %d",
		       r1);
		report(what, "unsolicited syn in is dropped", r2 == TC_ACT_SHOT, "ret %d", r2);
		r1 = offline_run_prog(&o, out_fd, f1, l1);
		r2 = offline_run_prog(&o, in_fd, f3, l3);
		report(what, "out packet on the out hook passes", r1 == TC_ACT_OK, "ret %d", r1);
		report(what, "then the reply passes", r2 == TC_ACT_OK, "ret %d", r2);
		offline_close(&o);
	}
	compiled_policy_free(&cp);
}

/* One event per flow per interval, a token bucket, and the fields of an event. */
static void events(void)
{
	static const struct pkt_spec bad = { H4, "203.0.113.9", TCP, 50000, 443, .vlan = { 42 } };
	struct compiled_policy cp = { 0 };
	struct offline_verdict v[4];
	struct ev_sink sink = { 0 };
	uint8_t frame[PKT_MAX];
	struct amlg_state st;
	struct offline *o;
	size_t len = pkt_build(&bad, frame, sizeof(frame));
	uint64_t t = 5000000000000ull;

	if (load_text(policy_main, AMLG_MODE_AUDIT, INSTANCE_SINGLE, &cp, &o)) {
		report("events/audit", "setup", false, "cannot compile or load");
		return;
	}
	ev_sink_open(&sink, o);
	offline_run(o, frame, len, OUT, t, &v[0]);
	offline_run(o, frame, len, OUT, t + 1000 * NS, &v[1]); /* same flow, 1 s later */
	offline_run(o, frame, len, OUT, t + 11000 * NS, &v[2]); /* past the 10 s interval */
	ev_sink_drain(&sink);
	report("events/audit", "first packet of a violating flow is reported", v[0].event == 1,
	       "event %u", v[0].event);
	report("events/audit", "the next one within the interval is not", v[1].event == 0,
	       "event %u", v[1].event);
	report("events/audit", "again after the interval", v[2].event == 1, "event %u", v[2].event);
	report("events/audit", "two events in the ring buffer", sink.n == 2, "%u", sink.n);
	if (sink.n) {
		const struct amlg_event *e = &sink.ev[0];

		report("events/audit", "event fields",
		       e->dir == OUT && e->proto == TCP && e->family == 4 && e->sport == 50000 &&
			       e->dport == 443 && e->reason == AMLG_REASON_NO_RULE &&
			       e->vlan[0] == 42 && e->cap_len == (len < 128 ? len : 128) &&
			       e->pkt_len == len && !(e->flags & AMLG_EVF_DROPPED) &&
			       e->ts_ns == t && !memcmp(e->pkt, frame, e->cap_len),
		       "dir %u proto %u sport %u dport %u reason %u vlan %u cap %u len %u", e->dir,
		       e->proto, e->sport, e->dport, e->reason, e->vlan[0], e->cap_len, e->pkt_len);
	}
	/* A bucket of two tokens: the third new flow in the same instant goes unreported. */
	{
		struct amlg_cfg cfg;

		maps_cfg_read(&o->maps, &cfg);
		cfg.rate_per_sec = 1;
		cfg.burst = 2;
		maps_cfg_write(&o->maps, &cfg);
	}
	t += 100000 * NS;
	for (int i = 0; i < 3; i++) {
		struct pkt_spec p = bad;

		p.sport = (uint16_t)(51000 + i);
		len = pkt_build(&p, frame, sizeof(frame));
		offline_run(o, frame, len, OUT, t + (uint64_t)i, &v[i]);
	}
	report("events/audit", "token bucket", v[0].event && v[1].event && !v[2].event,
	       "events %u %u %u", v[0].event, v[1].event, v[2].event);
	if (state_read_maps(&o->maps, "test", &st) == 0) {
		report("events/audit", "counters",
		       st.stats.events_ratelimited == 1 && st.stats.events_suppressed == 1 &&
			       st.stats.events_sent == 4 && st.stats.packets[OUT][1] == 6,
		       "ratelimited %llu suppressed %llu sent %llu violations %llu",
		       (unsigned long long)st.stats.events_ratelimited,
		       (unsigned long long)st.stats.events_suppressed,
		       (unsigned long long)st.stats.events_sent,
		       (unsigned long long)st.stats.packets[OUT][1]);
		state_free(&st);
	}
	ev_sink_close(&sink);
	compiled_policy_free(&cp);
}

/*
 * offline_reset, on which every scenario above relies: after traffic, events and a reload, the
 * instance is as fresh as a new load (no connection, no counter, no event, generation 1).
 */
static void reset(void)
{
	static const struct pkt_spec ok = { H4, "198.51.100.7", TCP, 50000, 443 };
	static const struct pkt_spec bad = { H4, "203.0.113.9", TCP, 50001, 443 };
	struct compiled_policy cp = { 0 };
	struct offline_verdict v[3];
	struct ev_sink sink = { 0 };
	struct ring_buffer *rb = NULL;
	uint8_t f1[PKT_MAX], f2[PKT_MAX];
	size_t l1 = pkt_build(&ok, f1, sizeof(f1)), l2 = pkt_build(&bad, f2, sizeof(f2));
	struct amlg_state st;
	struct offline *o;
	bool fresh = false;

	if (load_text(policy_main, AMLG_MODE_AUDIT, INSTANCE_SINGLE, &cp, &o)) {
		report("reset/audit", "setup", false, "cannot compile or load");
		compiled_policy_free(&cp);
		return;
	}
	offline_run(o, f1, l1, OUT, 1000 * NS, &v[0]);
	offline_run(o, f2, l2, OUT, 1001 * NS, &v[1]);
	tables_install(&o->maps, cp.c, NULL); /* generation 2 */
	if (offline_reset(o, cp.c)) {
		report("reset/audit", "reset", false, "offline_reset failed");
		compiled_policy_free(&cp);
		return;
	}
	if (state_read_maps(&o->maps, "test", &st) == 0) {
		const uint64_t *w = (const uint64_t *)&st.stats;

		fresh = st.ct_entries == 0 && st.pcfg.generation == 1;
		for (size_t i = 0; i < sizeof(st.stats) / sizeof(*w); i++)
			fresh = fresh && w[i] == 0;
		state_free(&st);
	}
	report("reset/audit", "no connection, no counter, generation 1 after a reset", fresh,
	       "state not fresh");
	rb = ev_sink_open(&sink, o);
	ev_sink_drain(&sink);
	report("reset/audit", "no event left after a reset", rb && sink.n == 0, "%u events",
	       sink.n);
	/* the same connection again: a new flow, matched by its rule, not by conntrack */
	offline_run(o, f1, l1, OUT, 1002 * NS, &v[2]);
	report("reset/audit", "a known connection is new again",
	       v[0].match == AMLG_MATCH_RULE && v[2].match == AMLG_MATCH_RULE &&
		       v[2].verdict == A && v[2].generation == 1,
	       "match %s then %s, generation %u", match_str(v[0].match), match_str(v[2].match),
	       v[2].generation);
	ev_sink_close(&sink);
	compiled_policy_free(&cp);
}

/*
 * The same scenarios through the offline batch entry point ("check"): packets of a scenario go
 * in one batch (split at reloads), and every verdict must equal the expected one.
 */
static void run_scenario_batch(const struct scenario *s)
{
	struct compiled_policy cp = { 0 }, next = { 0 };
	static uint8_t frames[16][PKT_MAX];
	struct batch_pkt in[16];
	const struct step *pending[16];
	struct amlg_batch_res res[16];
	uint64_t now = 1000000000000ull;
	struct batch b;
	struct offline *o;
	size_t n = 0;
	char what[96];

	snprintf(what, sizeof(what), "%s/batch", s->name);
	if (compile_text(s->policy, AMLG_MODE_ENFORCE, &cp) ||
	    shared_instance(INSTANCE_BATCH, cp.c, &o) || batch_init(&b, o)) {
		report(what, "setup", false, "cannot compile or load");
		compiled_policy_free(&cp);
		return;
	}
	for (const struct step *st = s->steps;; st++) {
		if (n && (!st->name || st->reload)) {
			int err = batch_run(&b, in, n, res);

			for (size_t i = 0; i < n; i++) {
				const struct step *p = pending[i];
				const struct amlg_batch_res *v = &res[i];
				const char *got = rule_flow(cp.c, v->rule);

				report(what, p->name,
				       !err && v->verdict == p->verdict && v->reason == p->reason &&
					       same_flow(p->flow, got) &&
					       (p->match == ANY_MATCH || v->match == p->match) &&
					       v->dropped == (p->verdict == V) &&
					       (!p->l4 || v->proto == p->l4 - 1),
				       "err %d expected %s %s rule %s match %s, got %s %s rule %s match %s "
				       "dropped %u proto %u",
				       err, p->verdict == A ? "allow" : "violation",
				       reason_str((unsigned)p->reason), p->flow ? p->flow : "-",
				       p->match == ANY_MATCH ? "*" : match_str((unsigned)p->match),
				       v->verdict == A ? "allow" : "violation",
				       reason_str(v->reason), got ? got : "-", match_str(v->match),
				       v->dropped, v->proto);
			}
			n = 0;
		}
		if (!st->name)
			break;
		now += st->advance_ms * NS;
		if (st->reload) {
			bool ok = compile_text(st->reload, AMLG_MODE_ENFORCE, &next) == 0 &&
				  tables_install(&o->maps, next.c, NULL) == 0;

			report(what, st->name, ok, "reload failed");
			compiled_policy_free(&cp);
			cp = next;
			memset(&next, 0, sizeof(next));
			continue;
		}
		in[n].len = in[n].cap = (uint32_t)build_step(st, frames[n], PKT_MAX);
		in[n].data = frames[n];
		in[n].ts_ns = now;
		in[n].dir = (uint8_t)st->dir;
		pending[n++] = st;
	}
	batch_free(&b);
	compiled_policy_free(&cp);
}

/*
 * A full batch packed into the blob: AMLG_BATCH_MAX packets of sizes from 60 bytes to longer than
 * AMLG_BATCH_SNAP (cut), so that packets meet every chunk end; each verdict must equal the one
 * the same packet gets on its own in an instance fed the same sequence.
 */
static void batch_packing(void)
{
	static const uint16_t payloads[] = { 6, 1482, 640, 1400, 1481, 1, 1600, 900 };
	static uint8_t frames[AMLG_BATCH_MAX][PKT_MAX];
	static struct batch_pkt in[AMLG_BATCH_MAX];
	static struct amlg_batch_res res[AMLG_BATCH_MAX];
	struct compiled_policy cp = { 0 };
	struct offline *o1, *o2;
	struct batch b;
	unsigned same = 0, cut = 0, fits = 0;
	size_t maxlen = 0;
	int err;

	if (compile_text("allow out tcp port 443 to 198.51.100.0/25 flow OK\n", AMLG_MODE_ENFORCE,
			 &cp) ||
	    shared_instance(INSTANCE_BATCH, cp.c, &o1) ||
	    shared_instance(INSTANCE_SINGLE, cp.c, &o2) || batch_init(&b, o1)) {
		report("batch-packing/batch", "setup", false, "cannot compile or load");
		compiled_policy_free(&cp);
		return;
	}
	for (size_t i = 0; i < AMLG_BATCH_MAX; i++) {
		char dst[32];
		struct pkt_spec sp = { "192.0.2.10",
				       dst,
				       IPPROTO_TCP,
				       (uint16_t)(20000 + i),
				       443,
				       0x02,
				       .payload = payloads[i % 8] };

		/* every third packet to an address no rule allows */
		snprintf(dst, sizeof(dst), "198.51.100.%zu", i % 3 ? 10 + i % 100 : 200);
		in[i].len = in[i].cap = (uint32_t)pkt_build(&sp, frames[i], PKT_MAX);
		in[i].data = frames[i];
		in[i].ts_ns = 1000000000000ull + i * 1000;
		in[i].dir = AMLG_DIR_OUT;
		maxlen = in[i].len > maxlen ? in[i].len : maxlen;
		cut += in[i].len > AMLG_BATCH_SNAP;
	}
	err = batch_run(&b, in, AMLG_BATCH_MAX, res);
	for (size_t i = 0; i < AMLG_BATCH_MAX && !err; i++) {
		struct offline_verdict v;

		if (offline_run(o2, in[i].data, in[i].len, AMLG_DIR_OUT, in[i].ts_ns, &v))
			break;
		same += v.verdict == res[i].verdict && v.reason == res[i].reason &&
			v.rule == res[i].rule && res[i].sport == 20000 + i &&
			res[i].verdict == (i % 3 ? A : V);
	}
	report("batch-packing/batch", "a full batch of mixed sizes",
	       !err && same == AMLG_BATCH_MAX && cut > 0 && maxlen > AMLG_BATCH_SNAP,
	       "err %d, %u of %d verdicts equal to single runs, %u packets longer than the snap",
	       err, same, AMLG_BATCH_MAX, cut);
	/* after a run the next add starts a new batch; AMLG_BATCH_MAX of the longest fit */
	for (size_t i = 0; i < AMLG_BATCH_MAX; i++)
		fits += batch_add(&b, 0, 1600, 1600, AMLG_DIR_OUT) != NULL;
	report("batch-packing/batch", "a batch holds AMLG_BATCH_MAX packets, not one more",
	       fits == AMLG_BATCH_MAX && !batch_add(&b, 0, 60, 60, AMLG_DIR_OUT),
	       "%u of %d packets of the snap length fit, or one more did", fits, AMLG_BATCH_MAX);
	batch_free(&b);
	compiled_policy_free(&cp);
}

/* What a packet did to the counters that tell its verdict. */
static bool same_counts(const struct amlg_stats *a, const struct amlg_stats *b)
{
	return !memcmp(a->packets, b->packets, sizeof(a->packets)) &&
	       !memcmp(a->dropped, b->dropped, sizeof(a->dropped)) &&
	       !memcmp(a->reasons, b->reasons, sizeof(a->reasons)) &&
	       !memcmp(a->matches, b->matches, sizeof(a->matches)) &&
	       a->ct_created == b->ct_created && a->frag_created == b->frag_created &&
	       a->dns_learned == b->dns_learned && a->sni_checked == b->sni_checked &&
	       a->events_sent + a->events_ratelimited + a->events_suppressed ==
		       b->events_sent + b->events_ratelimited + b->events_suppressed;
}

/*
 * Every scenario's packets, in both roles and modes: one instance through the tc hooks, another
 * with its ingress through the XDP entry point (on the same maps as its tc hooks), step by step:
 * the same return (drop or pass) and the same counters after each packet.  The instances are
 * loaded once per role and reset to a fresh state for each scenario (offline_reset).
 */
static void xdp_equals_tc(void)
{
	for (unsigned role = AMLG_ROLE_HOST; role <= AMLG_ROLE_GATEWAY; role++) {
		struct amlguard_xdp_bpf *x = NULL;
		struct offline t, xo;
		int xfd;

		if (offline_open_role(&t, NULL, 0, role)) {
			report("xdp", role_str(role), false, "cannot load the tc entry points");
			exit(1);
		}
		if (offline_open_role(&xo, NULL, 0, role) || xdp_load(xo.skel, role, &x, "test")) {
			report("xdp", role_str(role), false, "cannot load the XDP entry point");
			exit(1);
		}
		xfd = xdp_prog_fd(x);
		for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
			const struct scenario *s = &scenarios[i];
			struct compiled_policy cp = { 0 }, next = { 0 };
			char what[96];

			snprintf(what, sizeof(what), "xdp/%s/%s", s->name, role_str(role));
			if (compile_text(s->policy, AMLG_MODE_ENFORCE, &cp) ||
			    offline_reset(&t, cp.c) || offline_reset(&xo, cp.c)) {
				report(what, "setup", false, "cannot compile or install");
				exit(1);
			}
			for (const struct step *st = s->steps; st->name; st++) {
				/* the hook that sees this direction: ingress is "out" on a gateway */
				bool ingress = (st->dir == OUT) == (role == AMLG_ROLE_GATEWAY);
				struct amlg_stats a, b;
				uint8_t frame[PKT_MAX];
				size_t len;
				int rt, rx;

				if (st->reload) {
					bool ok = compile_text(st->reload, AMLG_MODE_ENFORCE,
							       &next) == 0 &&
						  tables_install(&t.maps, next.c, NULL) == 0 &&
						  tables_install(&xo.maps, next.c, NULL) == 0;

					report(what, st->name, ok, "reload failed");
					compiled_policy_free(&cp);
					cp = next;
					memset(&next, 0, sizeof(next));
					continue;
				}
				len = pkt_build(&st->pkt, frame, sizeof(frame));
				rt = offline_run_prog(&t, ingress ? t.ingress_fd : t.egress_fd,
						      frame, len);
				rx = offline_run_prog(&xo, ingress ? xfd : xo.egress_fd, frame,
						      len);
				if (ingress)
					rx = rx == XDP_DROP ? TC_ACT_SHOT :
					     rx == XDP_PASS ? TC_ACT_OK :
							      -1000 - rx;
				report(what, st->name,
				       rt == rx && rt >= 0 && !read_stats(&t, &a) &&
					       !read_stats(&xo, &b) && same_counts(&a, &b),
				       "%s: tc %d, xdp %d, or the counters differ",
				       ingress ? "ingress" : "egress", rt, rx);
			}
			compiled_policy_free(&cp);
		}
		xdp_unload(x);
		offline_close(&xo);
		offline_close(&t);
	}
}

int main(void)
{
	harness_start();
	make_policy_many();
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		run_scenario(&scenarios[i], AMLG_MODE_AUDIT);
		run_scenario(&scenarios[i], AMLG_MODE_ENFORCE);
		run_scenario_batch(&scenarios[i]);
	}
	batch_packing();
	truncation_sweep();
	roles();
	xdp_equals_tc();
	events();
	reset();
	shared_instances_close();
	return results_end();
}
