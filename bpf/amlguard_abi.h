/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one header shared by the BPF datapath and userspace: every struct, map name and constant
 * that crosses the boundary lives here, nowhere else.  Structs use fixed-width types only, carry
 * explicit padding and are size-checked so that both compilers agree on their layout.
 */
#ifndef AMLGUARD_ABI_H
#define AMLGUARD_ABI_H

#include <linux/types.h>

/* Map names, used by the BPF object and by the loader's pinned-map lookups. */
#define AMLG_MAP_CFG "amlg_cfg"
#define AMLG_MAP_PCFG "amlg_pcfg"
#define AMLG_MAP_RULES "amlg_rules"
#define AMLG_MAP_PORTS "amlg_ports"
#define AMLG_MAP_LPM4 "amlg_lpm4"
#define AMLG_MAP_LPM6 "amlg_lpm6"
#define AMLG_MAP_CLASSES "amlg_classes"
#define AMLG_MAP_CT "amlg_ct"
#define AMLG_MAP_FRAG "amlg_frag"
#define AMLG_MAP_EVENTS "amlg_events"
#define AMLG_MAP_STATS "amlg_stats"
#define AMLG_MAP_RSTATS "amlg_rstats"
#define AMLG_MAP_HOSTS "amlg_hosts"
#define AMLG_MAP_LEARNED "amlg_learned"
#define AMLG_MAP_NAMES "amlg_names"

/* Every map above, in one list, for pinning and for readers of pinned state. */
#define AMLG_PINNED_MAPS                                                                           \
	AMLG_MAP_CFG, AMLG_MAP_PCFG, AMLG_MAP_RULES, AMLG_MAP_PORTS, AMLG_MAP_LPM4, AMLG_MAP_LPM6, \
		AMLG_MAP_CLASSES, AMLG_MAP_CT, AMLG_MAP_FRAG, AMLG_MAP_EVENTS, AMLG_MAP_STATS,     \
		AMLG_MAP_RSTATS, AMLG_MAP_HOSTS, AMLG_MAP_LEARNED, AMLG_MAP_NAMES

#define AMLG_PIN_ROOT "/sys/fs/bpf/amlguard"

/* Two policy slots: the datapath reads the active one, the loader fills the other, then flips. */
#define AMLG_SLOTS 2

/* Directions, as seen from the protected host or subnet. */
#define AMLG_DIR_OUT 0 /* traffic the protected side initiates or sends */
#define AMLG_DIR_IN 1 /* traffic arriving at the protected side */
#define AMLG_DIRS 2

/* Roles: which tc hook is "out". */
#define AMLG_ROLE_HOST 0 /* egress = out, ingress = in */
#define AMLG_ROLE_GATEWAY 1 /* on the compute-facing NIC: ingress = out, egress = in */

#define AMLG_MODE_AUDIT 0
#define AMLG_MODE_ENFORCE 1

/* Rules per direction; a rule is one bit in the class bitmaps. */
#define AMLG_MAX_RULES 1024
#define AMLG_BM_WORDS (AMLG_MAX_RULES / 64)
#define AMLG_RULE_IDS (AMLG_DIRS * AMLG_MAX_RULES)
#define AMLG_RULE_NONE 0xffffu
/* Global rule id: direction * AMLG_MAX_RULES + bit. */
#define AMLG_RULE_ID(dir, bit) ((dir)*AMLG_MAX_RULES + (bit))

/*
 * Protocol slots.  TCP and UDP are classified by destination port through the port table; the
 * others only by protocol (their whole class sits in amlg_pcfg.proto_cls).
 */
#define AMLG_PSLOT_TCP 0
#define AMLG_PSLOT_UDP 1
#define AMLG_PSLOT_ICMP 2
#define AMLG_PSLOT_ICMPV6 3
#define AMLG_PSLOT_OTHER 4
#define AMLG_PSLOTS 5
#define AMLG_PORTED_PSLOTS 2

/* amlg_ports index: ((slot * DIRS + dir) * PORTED_PSLOTS + pslot) * 65536 + port */
#define AMLG_PORTS_PER_SLOT (AMLG_DIRS * AMLG_PORTED_PSLOTS * 65536)
#define AMLG_PORT_IDX(slot, dir, pslot, port)                                          \
	((((__u32)(slot)*AMLG_DIRS + (dir)) * AMLG_PORTED_PSLOTS + (pslot)) * 65536u + \
	 (__u32)(port))

/* Class 0 is always the empty bitmap, so a zeroed table entry means "no rule". */
#define AMLG_CLASS_EMPTY 0

/* LPM keys: a kind byte (direction and side), three zero bytes, then the address. */
#define AMLG_SIDE_REMOTE 0
#define AMLG_SIDE_LOCAL 1
#define AMLG_LPM_KIND(dir, side) ((dir)*2 + (side))
#define AMLG_LPM_HDR_BITS 32

struct amlg_lpm4_key {
	__u32 prefixlen; /* AMLG_LPM_HDR_BITS + prefix length */
	__u8 kind;
	__u8 pad[3];
	__u8 addr[4];
};
_Static_assert(sizeof(struct amlg_lpm4_key) == 12, "amlg_lpm4_key layout");

struct amlg_lpm6_key {
	__u32 prefixlen;
	__u8 kind;
	__u8 pad[3];
	__u8 addr[16];
};
_Static_assert(sizeof(struct amlg_lpm6_key) == 24, "amlg_lpm6_key layout");

struct amlg_bitmap {
	__u64 w[AMLG_BM_WORDS];
};
_Static_assert(sizeof(struct amlg_bitmap) == 128, "amlg_bitmap layout");

/*
 * Verdict reasons.  The numbers are stable: they appear in logs, counters and captures' reports.
 * Never renumber or reuse one; add new ones at the end.
 */
#define AMLG_REASON_NONE 0 /* allowed */
#define AMLG_REASON_NO_RULE 1 /* no rule covers the remote (or local) address */
#define AMLG_REASON_PORT 2 /* a rule covers the address and protocol, not the port */
#define AMLG_REASON_PROTO 3 /* a rule covers the address, not the protocol */
#define AMLG_REASON_MALFORMED 4 /* the packet cannot be parsed */
#define AMLG_REASON_FRAGMENT 5 /* a non-first fragment whose first fragment was not seen */
#define AMLG_REASON_NON_IP 6 /* an ethertype that is neither IPv4, IPv6 nor ARP */
#define AMLG_REASON_NO_POLICY 7 /* no policy installed (never seen once attached) */
#define AMLG_REASON_SNI_MISMATCH 8 /* TLS server name not among the host rule's patterns */
#define AMLG_REASON_NO_SNI 9 /* a flow allowed only by a host rule sent no server name */
#define AMLG_REASON_MALFORMED_DNS 10 /* a DNS answer that could not be read: nothing learned */
#define AMLG_REASON_SNI_SPLIT 11 /* the ClientHello ends past the first segment, no name seen */
#define AMLG_REASON_MAX 12

/* How an allowed verdict was reached (what "explain" and the logs print). */
#define AMLG_MATCH_NONE 0 /* violation */
#define AMLG_MATCH_RULE 1 /* classified against the rules */
#define AMLG_MATCH_CT 2 /* a packet of a tracked flow */
#define AMLG_MATCH_RELATED 3 /* an ICMP error about a tracked flow */
#define AMLG_MATCH_LINK 4 /* ARP, IPv6 neighbour discovery and MLD: always pass */
#define AMLG_MATCH_FRAG 5 /* a non-first fragment following its first fragment */
#define AMLG_MATCH_PICKUP 6 /* a TCP packet of a flow that started before we saw it */
#define AMLG_MATCH_MAX 7

#define AMLG_VERDICT_ALLOW 0
#define AMLG_VERDICT_VIOLATION 1

#define AMLG_PF_HAS_LOCAL_OUT (1u << 0) /* some out rule narrows the local endpoint */
#define AMLG_PF_HAS_LOCAL_IN (1u << 1)
#define AMLG_PF_PLATFORM (1u << 2) /* the built-in platform rules are compiled in */
#define AMLG_PF_HOSTS (1u << 3) /* the policy has host rules: learn from DNS */

#define AMLG_PATH_MAX 256
#define AMLG_FLOW_MAX 48
#define AMLG_ORIGIN_MAX 96

/*
 * Host rules.  A host pattern is looked up by a polynomial hash of its text (base
 * AMLG_NAME_HASH_BASE, modulo 2^64, over the lower-case name without the trailing dot), then its
 * text is compared: a hash collision can never match.  Exact names match themselves; "*.suffix"
 * matches every name below suffix (not suffix itself); "*suffix" every name ending in suffix.
 */
#define AMLG_NAME_MAX 256
#define AMLG_NAME_HASH_BASE 0x100000001b3ull
#define AMLG_HOST_EXACT 1
#define AMLG_HOST_DOTWILD 2
#define AMLG_HOST_CHARWILD 3

struct amlg_host_key {
	__u64 hash; /* of the text that must match: the name, or the suffix */
	__u16 len;
	__u8 kind; /* AMLG_HOST_* */
	__u8 pad[5];
};
_Static_assert(sizeof(struct amlg_host_key) == 16, "amlg_host_key layout");

struct amlg_host {
	__u32 cls[AMLG_DIRS]; /* class: the rules (per direction) the pattern belongs to */
	__u32 id; /* pattern number in the policy */
	__u16 len;
	__u8 kind;
	__u8 pad;
	char text[AMLG_NAME_MAX]; /* NUL-padded */
};
_Static_assert(sizeof(struct amlg_host) == 272, "amlg_host layout");

/* An address learned from DNS: up to AMLG_LEARN_SLOTS (pattern, name) pairs, each expiring. */
#define AMLG_LEARN_SLOTS 8

struct amlg_learn_key {
	__u8 family;
	__u8 pad[3];
	__u8 addr[16];
};
_Static_assert(sizeof(struct amlg_learn_key) == 20, "amlg_learn_key layout");

struct amlg_learn_slot {
	struct amlg_host_key pattern; /* hash 0: free */
	__u64 name_hash; /* the name it was learned for (amlg_names) */
	__u64 expires_ns;
};

struct amlg_learned {
	struct amlg_learn_slot s[AMLG_LEARN_SLOTS];
	__u64 first_ns; /* first learned */
};
_Static_assert(sizeof(struct amlg_learned) == 264, "amlg_learned layout");

/* Learned names, for display (fqdn, logs): name hash -> text. */
struct amlg_name {
	__u16 len;
	__u8 pad[6];
	char text[AMLG_NAME_MAX];
};

#define AMLG_RESOLVERS_MAX 8

struct amlg_resolver {
	__u8 family;
	__u8 pad[3];
	__u8 addr[16];
};

#define AMLG_SNI_REQUIRE 0 /* SNI checked, a missing one is a violation */
#define AMLG_SNI_ALLOW_MISSING 1 /* SNI checked when present */
#define AMLG_SNI_OFF 2

/* Per-slot policy header (amlg_pcfg, index = slot).  Userspace-only fields are marked. */
struct amlg_pcfg {
	__u64 generation; /* bumped by every load or reload; never 0 once installed */
	__u32 mode; /* AMLG_MODE_* */
	__u32 flags; /* AMLG_PF_* */
	__u32 nwords; /* bitmap words in use, 1..AMLG_BM_WORDS */
	__u32 nrules[AMLG_DIRS];
	__u32 nclasses;
	__u32 proto_cls[AMLG_DIRS][AMLG_PSLOTS]; /* class of rules matching the protocol, any port */
	/* userspace only: */
	__u64 load_time_ns; /* CLOCK_REALTIME of the install */
	__u8 hash[32]; /* SHA-256 of the policy sources, in include order */
	char path[AMLG_PATH_MAX];
	__u32 n4, n6; /* LPM entries */
	__u32 compile_us; /* compile time, for status */
	__u32 tags_change; /* service-tag file: changeNumber (0: no tag file) */
	char tags_cloud[32]; /* "Public", "AzureGovernment", "China" */
	char tags_date[16]; /* from the file name, YYYYMMDD, or "" */
	char tags_file[AMLG_PATH_MAX];
	/* host rules (DNS learning, SNI): */
	__u64 host_lens[3][4]; /* per AMLG_HOST_* kind - 1: bitmap of pattern lengths in use */
	struct amlg_resolver resolvers[AMLG_RESOLVERS_MAX]; /* trusted DNS servers */
	__u32 nresolvers;
	__u32 dns_ttl_floor_s; /* learned addresses live at least this long */
	__u32 dns_grace_s; /* and this much longer than their TTL */
	__u32 sni_mode; /* AMLG_SNI_* */
};
_Static_assert(sizeof(struct amlg_pcfg) == 960, "amlg_pcfg layout");

/* Per-rule metadata (amlg_rules, index = slot * AMLG_RULE_IDS + rule id); userspace only. */
struct amlg_rule_info {
	char flow[AMLG_FLOW_MAX];
	char origin[AMLG_ORIGIN_MAX]; /* "file:line", or "platform" */
	__u8 dir;
	__u8 proto; /* AMLG_PROTO_* below */
	__u8 used;
	__u8 pad[5];
};
_Static_assert(sizeof(struct amlg_rule_info) == 152, "amlg_rule_info layout");

#define AMLG_PROTO_ANY 0
#define AMLG_PROTO_TCP 6
#define AMLG_PROTO_UDP 17
#define AMLG_PROTO_ICMP 1
#define AMLG_PROTO_ICMPV6 58

/* Global, interface-wide configuration (amlg_cfg, one entry). */
struct amlg_cfg {
	__u32 active; /* the slot the datapath reads */
	__u32 role; /* AMLG_ROLE_*, informational (the programs have it in rodata) */
	__u64 next_generation;
	__u64 report_interval_ns; /* one event per violating flow per interval */
	__u64 ct_timeout_ns[3]; /* tcp, udp, other */
	__u64 ct_closing_ns; /* tcp after FIN or RST */
	__u32 rate_per_sec; /* events per CPU per second (token bucket) */
	__u32 burst;
	__u32 snaplen; /* packet bytes copied into events, <= AMLG_SNAP_MAX */
	__u32 ifindex;
	__u32 flags; /* AMLG_CF_* */
	__u32 pad;
};
_Static_assert(sizeof(struct amlg_cfg) == 80, "amlg_cfg layout");

#define AMLG_CF_CREATED_CLSACT (1u << 0) /* the loader created the clsact qdisc */

/* Connection tracking.  Key: the flow seen from the protected side, the same for both ways. */
struct amlg_ct_key {
	__u8 family; /* 4 or 6 */
	__u8 proto;
	__u16 lport; /* host order; ICMP echo: the identifier */
	__u16 rport;
	__u16 pad;
	__u8 laddr[16];
	__u8 raddr[16];
};
_Static_assert(sizeof(struct amlg_ct_key) == 40, "amlg_ct_key layout");

/* bit 0 is unused: "FIN or RST seen" is the closing byte, which no other flag shares */
#define AMLG_CTF_PICKUP (1u << 1) /* picked up mid-stream */
#define AMLG_CTF_SNI_PENDING (1u << 2) /* allowed only by a host rule: check the ClientHello */
#define AMLG_CTF_VIA_HOST (1u << 3) /* allowed through an address learned from DNS */

struct amlg_ct_val {
	__u64 last_seen;
	__u64 reported; /* last event for a violating flow */
	__u64 generation; /* the policy that classified it */
	__u16 rule; /* global rule id or AMLG_RULE_NONE */
	__u8 dir; /* direction of the initiator */
	__u8 verdict;
	__u8 reason;
	__u8 flags; /* AMLG_CTF_*: set when the entry is made; only the SNI check clears one */
	__u8 match;
	__u8 closing; /* TCP FIN or RST seen (a byte of its own: written by any packet) */
};
_Static_assert(sizeof(struct amlg_ct_val) == 32, "amlg_ct_val layout");

/*
 * IP fragments: the first fragment's verdict, for the ones that follow.  The key is the datagram's
 * identity as every fragment carries it: the addresses, the identification and the protocol the
 * IPv4 header or the IPv6 Fragment header names (for IPv6 that may be an extension header, e.g.
 * Destination Options, rather than the transport protocol the first fragment goes on to).
 */
struct amlg_frag_key {
	__u8 family;
	__u8 proto;
	__u16 pad;
	__u32 id;
	__u8 saddr[16];
	__u8 daddr[16];
};
_Static_assert(sizeof(struct amlg_frag_key) == 40, "amlg_frag_key layout");

struct amlg_frag_val {
	__u64 last_seen;
	__u16 rule;
	__u8 verdict;
	__u8 reason;
	__u16 sport;
	__u16 dport;
	__u8 proto; /* the transport protocol the first fragment carries */
	__u8 dir; /* the direction the first fragment was judged in */
	__u8 pad[6];
};
_Static_assert(sizeof(struct amlg_frag_val) == 24, "amlg_frag_val layout");

/* Violation events (ring buffer). */
#define AMLG_SNAP_MAX 256
#define AMLG_EV_VIOLATION 1

#define AMLG_EVF_DROPPED (1u << 0) /* enforce mode dropped the packet */
#define AMLG_EVF_FRAGMENT (1u << 1)

struct amlg_event {
	__u64 ts_ns; /* CLOCK_MONOTONIC (live) or the capture time (offline) */
	__u64 generation; /* policy that judged it */
	__u32 ifindex;
	__u32 pkt_len; /* wire length */
	__u8 type; /* AMLG_EV_* */
	__u8 dir;
	__u8 family;
	__u8 proto;
	__u8 reason;
	__u8 flags; /* AMLG_EVF_* */
	__u16 rule; /* the rule that matched the address but not the port, or AMLG_RULE_NONE */
	__u16 sport;
	__u16 dport;
	__u16 vlan[2]; /* outer, inner: the IDs of the first nvlan tags */
	__u8 icmp_type;
	__u8 icmp_code;
	__u16 cap_len; /* bytes of the packet in pkt[] */
	__u8 slot;
	__u8 nvlan; /* VLAN tags read: 0, 1 or 2 (VLAN ID 0 is a tag too) */
	__u8 pad[2];
	__u8 saddr[16];
	__u8 daddr[16];
	__u64 learned_name; /* the remote address was learned from DNS for this name (hash), or 0 */
	__u8 pkt[AMLG_SNAP_MAX];
};
_Static_assert(sizeof(struct amlg_event) == 344, "amlg_event layout");

/* Counters: one per-CPU struct (amlg_stats, one entry). */
struct amlg_stats {
	__u64 packets[AMLG_DIRS][2]; /* [dir][verdict] */
	__u64 bytes[AMLG_DIRS][2];
	__u64 dropped[AMLG_DIRS]; /* enforce drops */
	__u64 reasons[AMLG_DIRS][AMLG_REASON_MAX];
	__u64 matches[AMLG_DIRS][AMLG_MATCH_MAX];
	__u64 events_sent;
	__u64 events_ratelimited; /* not sent: the token bucket was empty */
	__u64 events_ringbuf_full; /* not sent: the ring buffer was full */
	__u64 events_suppressed; /* not sent: the flow was reported within the interval */
	__u64 ct_created;
	__u64 ct_create_failed;
	__u64 ct_revalidated; /* flows re-judged after a policy swap */
	__u64 frag_created;
	__u64 dns_responses; /* DNS responses from trusted resolvers, read */
	__u64 dns_untrusted; /* DNS responses from other servers, ignored */
	__u64 dns_learned; /* addresses learned or refreshed */
	__u64 dns_malformed;
	__u64 dns_evicted_expired; /* full table: expired entries removed */
	__u64 dns_evicted_live; /* full table, nothing expired: the soonest to expire removed */
	__u64 sni_checked;
	/* token bucket state, kept here since it is per CPU too */
	__u64 tb_tokens;
	__u64 tb_last_ns;
};

/* Per-rule counters (amlg_rstats, per CPU, index = slot * AMLG_RULE_IDS + rule id). */
struct amlg_rstat {
	__u64 packets;
	__u64 bytes;
};

/*
 * Offline entry point (amlg_test): the test harness, "check" and "explain" pass the direction
 * and time in the skb context and read the verdict back from it.
 */
#define AMLG_CB_DIR 0 /* in: AMLG_DIR_* */
#define AMLG_CB_VERDICT 1 /* out: verdict | reason << 8 | match << 16 | dropped << 24 */
#define AMLG_CB_RULE 2 /* out: global rule id (allowed), or the near rule (port reason) */
#define AMLG_CB_GEN 3 /* out: low 32 bits of the policy generation */
#define AMLG_CB_EVENT 4 /* out: 1 when an event was emitted */

/*
 * Offline batches ("check"): the packets' bytes are packed one after another into the chunks of
 * amlg_batch_blob (a packet never straddles two chunks), their headers (where, how long, when,
 * which way) go into the one amlg_batch_idx entry; one run of the amlg_batch_run entry point
 * walks cb[AMLG_CB_DIR] of them in order, each copied into the per-CPU amlg_batch buffer and
 * through the same amlg_process() as live (bpf_loop), and leaves one amlg_batch_res per packet
 * in the one amlg_batch_out entry.  Packed, a batch costs the kernel the bytes the capture has,
 * in few large copies.  Not pinned; the blob is one chunk when attached live.
 */
#define AMLG_MAP_BATCH "amlg_batch"
#define AMLG_MAP_BATCH_IDX "amlg_batch_idx"
#define AMLG_MAP_BATCH_BLOB "amlg_batch_blob"
#define AMLG_MAP_BATCH_OUT "amlg_batch_out"
#define AMLG_MAP_LOCAL4 "amlg_local4" /* the protected side's prefixes (value: 1) */
#define AMLG_MAP_LOCAL6 "amlg_local6"
/*
 * A batch packet's direction from the amlg_local tries: from a local address it is out, to one
 * it is in, between two others it is not about the protected side ("foreign": not judged).
 */
#define AMLG_DIR_AUTO 2
#define AMLG_BATCH_MAX 1024
#define AMLG_BATCH_SNAP 1536 /* bytes of each packet kept; longer ones are cut */

struct amlg_batch_pkt {
	__u64 ts_ns;
	__u32 len; /* wire length */
	__u16 cap; /* bytes in data[] */
	__u8 dir;
	__u8 pad;
	__u8 data[AMLG_BATCH_SNAP];
};
_Static_assert(sizeof(struct amlg_batch_pkt) == 1552, "amlg_batch_pkt layout");

#define AMLG_BLOB_CHUNK 65536
/* AMLG_BATCH_MAX packets of AMLG_BATCH_SNAP bytes fit, whatever a chunk's end leaves unused */
#define AMLG_BLOB_CHUNKS 32
_Static_assert((AMLG_BLOB_CHUNK / AMLG_BATCH_SNAP) * AMLG_BLOB_CHUNKS >= AMLG_BATCH_MAX,
	       "amlg_batch_blob holds a whole batch");

struct amlg_batch_hdr {
	__u64 ts_ns;
	__u32 off; /* of the packet's bytes in amlg_batch_blob (chunk * AMLG_BLOB_CHUNK + offset) */
	__u32 len; /* wire length */
	__u16 cap; /* bytes at off, at most AMLG_BATCH_SNAP */
	__u8 dir;
	__u8 pad[5];
};
_Static_assert(sizeof(struct amlg_batch_hdr) == 24, "amlg_batch_hdr layout");

struct amlg_batch_idx {
	struct amlg_batch_hdr h[AMLG_BATCH_MAX];
};

struct amlg_batch_chunk {
	__u8 b[AMLG_BLOB_CHUNK];
};

/* The verdict, and the packet as the datapath parsed it, so userspace parses nothing. */
struct amlg_batch_res {
	__u8 verdict;
	__u8 reason;
	__u8 match;
	__u8 dropped;
	__u16 rule;
	__u8 event;
	__u8 family; /* 0: not IP */
	__u8 proto;
	__u8 icmp_type;
	__u8 icmp_code;
	__u8 frag;
	__u16 sport;
	__u16 dport;
	__u16 vlan[2]; /* the IDs of the first nvlan tags, outer first */
	__u8 dir; /* the direction it was judged in */
	__u8 foreign; /* AMLG_DIR_AUTO found neither address local: not judged */
	__u8 nvlan; /* VLAN tags read: 0, 1 or 2 (VLAN ID 0 is a tag too) */
	__u8 pad;
	__u8 saddr[16];
	__u8 daddr[16];
};
_Static_assert(sizeof(struct amlg_batch_res) == 56, "amlg_batch_res layout");

struct amlg_batch_out {
	struct amlg_batch_res r[AMLG_BATCH_MAX];
};

#endif /* AMLGUARD_ABI_H */
