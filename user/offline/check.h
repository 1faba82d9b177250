/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The report of "check": the datapath's per-packet verdicts grouped into flows (as seen from the
 * protected side), with a per-flow-ID summary.  Only grouping and printing happen here; every
 * verdict comes from the datapath.
 */
#ifndef AMLG_OFFLINE_CHECK_H
#define AMLG_OFFLINE_CHECK_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "bpf/amlguard_abi.h"
#include "compile/compile.h"

struct check_flow {
	/* the key: the flow as the protected side sees it, on its VLANs */
	uint8_t family, proto, dir; /* dir of the first packet */
	uint8_t reason_key; /* malformed and non-IP packets group by reason */
	uint16_t lport, rport; /* ICMP echo: the identifier in both */
	uint8_t laddr[16], raddr[16];
	uint8_t nvlan;
	uint16_t vlan[2]; /* the IDs of the first nvlan tags, outer first (0 is an ID) */
	/* what the datapath said */
	uint8_t verdict; /* violation if any packet was one */
	uint8_t reason; /* of the first violating packet */
	uint8_t match; /* of the first packet */
	uint16_t rule; /* the allowing rule, or the near rule of the first violation */
	bool echo; /* ICMP or ICMPv6 echo: keyed by its identifier */
	uint64_t packets, bytes, violating_packets;
	uint64_t first_ts, last_ts;
	uint64_t first_number; /* packet number of the flow's first packet */
	/* as the first packet went: */
	uint8_t saddr[16], daddr[16];
	uint16_t sport, dport;
	bool used;
};

struct check_report {
	const struct compiled *c;
	const char *capture; /* check --each: the capture this report is about */
	char *error; /* a record that could not be read ended the capture (malloc'd), or NULL */
	char *truncated; /* the capture ended inside a packet (malloc'd), or NULL */
	struct check_flow *flows; /* open addressing */
	struct check_flow *last; /* the previous packet's flow */
	size_t cap, n;
	uint64_t packets, bytes, foreign, violating_packets, events;
	uint64_t first_ts, last_ts;
};

int check_init(struct check_report *r, const struct compiled *c);
void check_free(struct check_report *r);
/*
 * Account one packet's verdict (res from the datapath, len what was on the wire: the frame, or
 * the IP packet of a capture without a link header or with a pseudo-header).
 */
int check_add(struct check_report *r, const struct amlg_batch_res *res, uint32_t len,
	      uint64_t ts_ns, uint64_t number);
size_t check_violating_flows(const struct check_report *r);

/* Human table: violations first, then allowed flows, then flow IDs used and never seen. */
void check_print(const struct check_report *r, FILE *f);
/* JSON lines: one object per flow, then {"summary": ...}. */
void check_print_json(const struct check_report *r, FILE *f);

#endif
