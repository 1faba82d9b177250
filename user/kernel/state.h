/* SPDX-License-Identifier: GPL-2.0-only */
/* A snapshot of an attached interface's state, read from its pinned maps: for status, metrics. */
#ifndef AMLG_KERNEL_STATE_H
#define AMLG_KERNEL_STATE_H

#include <stdint.h>

#include "bpf/amlguard_abi.h"
#include "kernel/maps.h"

struct rule_state {
	struct amlg_rule_info info;
	uint64_t packets, bytes;
};

struct amlg_state {
	char ifname[64];
	uint32_t prog_id[2]; /* ingress (tc or XDP), egress; 0 = not attached */
	int xdp; /* AMLG_XDP_*: the ingress is XDP's, in this mode */
	struct amlg_cfg cfg;
	uint32_t slot;
	struct amlg_pcfg pcfg;
	struct amlg_stats stats; /* summed over CPUs */
	struct rule_state *rules; /* AMLG_RULE_IDS entries, active slot */
	uint64_t ct_entries, ct_capacity;
};

/* 0, or -ENOENT if amlguard is not attached to ifname. */
int state_read(const char *ifname, struct amlg_state *st);
/* The same from maps already open (offline instance, tests); ifname only labels it. */
int state_read_maps(struct amlg_maps *m, const char *ifname, struct amlg_state *st);
void state_free(struct amlg_state *st);

/* Sum a per-CPU amlg_stats into one. */
void stats_sum(const struct amlg_stats *percpu, int n, struct amlg_stats *out);

/* Names of the interfaces amlguard is attached to (pin directories); caller frees each. */
int state_list(char ***names, int *n);
/*
 * What status, log and fqdn say when an interface's pinned state cannot be opened (err from
 * state_read() or maps_open_pinned()): the same message and hint for all three.
 */
void state_report_open_error(const char *ifname, int err);

#endif
