/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What DNS taught an attached interface: every learned address with the names and patterns it
 * was learned for, the time left, and the rules (flow IDs) it opens under the active policy.
 */
#ifndef AMLG_KERNEL_FQDN_H
#define AMLG_KERNEL_FQDN_H

#include <stdint.h>

#include "kernel/maps.h"

struct fqdn_entry {
	uint8_t family;
	uint8_t addr[16];
	char name[AMLG_NAME_MAX]; /* the name asked for, "" if no longer known */
	char pattern[AMLG_NAME_MAX + 2]; /* as written: "*.example.com"; "" if not in the policy */
	int64_t ttl_left_ms; /* negative: expired (kept until the table needs room) */
	uint16_t rules[8]; /* global rule ids the pattern opens (both directions) */
	unsigned nrules;
};

/* All entries of the learned table, sorted by name then address; caller frees *out. */
int fqdn_read(const struct amlg_maps *m, struct fqdn_entry **out, size_t *n);

#endif
