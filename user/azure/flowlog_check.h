/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * "check" over Azure flow logs: every distinct flow of the logs becomes one synthesized packet
 * (the flow's first: a TCP SYN, a UDP datagram, an ICMP echo request) in the same batches, and
 * through the same datapath, as a capture's packets; the tuples' counters are summed per flow.
 */
#ifndef AMLG_AZURE_FLOWLOG_CHECK_H
#define AMLG_AZURE_FLOWLOG_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compile/compile.h"
#include "base/prefix.h"

struct fl_opts {
	uint64_t since_ms, until_ms; /* window [since, until); until 0: open */
	uint8_t (*macs)[6]; /* only these NICs (nmacs 0: all) */
	size_t nmacs;
	const struct prefix_list *local; /* only flows whose NIC-side address is in it (n 0: all) */
	unsigned shard,
		nshards; /* only the files i (in sorted order) with i % nshards == shard - 1 */
	unsigned ct_size;
	bool progress; /* on stderr */
	bool json;
};

/* Is the path a flow log (a directory, or a JSON file)?  1, 0, or -errno. */
int flowlog_is_input(const char *path);

/* Check the files and directory trees; 0 clean, 1 findings, -errno (exit 2) when nothing was read. */
int flowlog_check(const struct compiled *c, char *const *paths, int npaths,
		  const struct fl_opts *o);

/* check --merge: add up "check -j" results of shards; 0, 1 or -errno. */
int flowlog_merge(char *const *paths, int npaths, bool json);

/* "2026-12-03", "2026-12-03T10:00[:00][Z]", or "@EPOCH_SECONDS" to epoch milliseconds; 0 or -EINVAL. */
int fl_time_parse(const char *s, uint64_t *ms);

#endif
