/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The daemon's counts of the violations it was told about (one event per violating flow per
 * report interval): new undeclared egress flows by mode and reason, and violating flows by the
 * flow ID of the rule that covered their address but not their port, protocol or server name.
 * The label sets are bounded: modes and reasons are fixed, flow IDs come from the policies
 * (at most VCOUNT_FLOWS (direction, flow) pairs; more are summed under VCOUNT_OTHER).
 */
#ifndef AMLG_BASE_VCOUNT_H
#define AMLG_BASE_VCOUNT_H

#include <stddef.h>
#include <stdint.h>

#include "bpf/amlguard_abi.h"

#define VCOUNT_FLOWS 256
#define VCOUNT_MODES 2
#define VCOUNT_OTHER "_other"

struct vcount_flow {
	char flow[AMLG_FLOW_MAX];
	uint8_t dir;
	uint64_t n[VCOUNT_MODES];
};

struct vcount {
	uint64_t undeclared[VCOUNT_MODES][AMLG_REASON_MAX];
	struct vcount_flow flows[VCOUNT_FLOWS];
	size_t nflows;
	uint64_t other[VCOUNT_MODES][AMLG_DIRS]; /* flows beyond VCOUNT_FLOWS */
};

/* A new undeclared egress flow judged in mode (AMLG_MODE_*) for reason. */
void vcount_undeclared(struct vcount *v, unsigned mode, unsigned reason);
/* A violating flow in direction dir whose address a rule of flow ID flow covered. */
void vcount_flow(struct vcount *v, unsigned mode, unsigned dir, const char *flow);
/* The entry of (dir, flow), or NULL. */
const struct vcount_flow *vcount_find(const struct vcount *v, unsigned dir, const char *flow);

#endif
