/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the benchmark's comparison programs share with the benchmark driver: the encoding of the
 * alternative address tables.  The LPM comparison program uses amlguard's own key layout
 * (amlg_lpm4_key / amlg_lpm6_key), so all programs look up the same compiled entries.
 *
 * DIR-16-8-8 (IPv4): a first-level array indexed by (kind, top 16 bits), second- and third-level
 * arrays of 256-entry chunks indexed by the next byte.  An entry is either a class (bit 31 clear;
 * 0 = no prefix) or a chunk number (bit 31 set).  At most three array reads, whatever the number
 * of prefixes.
 *
 * Per-prefix-length hash (IPv4 and IPv6): one hash map keyed by (kind, length, masked address);
 * the lengths in use, longest first, are in rodata.  One hash lookup per length tried.
 */
#ifndef AMLG_BENCH_ABI_H
#define AMLG_BENCH_ABI_H

#include <linux/types.h>

#define BENCH_KINDS 4
#define DIR_PTR (1u << 31)
#define DIR_L1_SIZE (BENCH_KINDS * 65536)
#define DIR_L1_IDX(kind, addr_hi16) (((__u32)(kind) << 16) | (addr_hi16))

/* At most this many distinct prefix lengths per kind and family (the loader checks). */
#define PLEN_MAX_LENS 40

struct plen4_key {
	__u8 kind;
	__u8 len;
	__u8 pad[2];
	__u8 addr[4];
};
_Static_assert(sizeof(struct plen4_key) == 8, "plen4_key layout");

struct plen6_key {
	__u8 kind;
	__u8 len;
	__u8 pad[2];
	__u8 addr[16];
};
_Static_assert(sizeof(struct plen6_key) == 20, "plen6_key layout");

/* Which address a program looks up: from cb[0] (test runs, like amlg_test), or fixed. */
#define BENCH_DIR_FROM_CB 0
#define BENCH_DIR_INGRESS 1 /* live, host role: remote = source */
#define BENCH_DIR_EGRESS 2 /* live, host role: remote = destination */

#endif
