/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Offline batches: many packets per BPF_PROG_TEST_RUN call.  The packets go into the amlg_batch
 * map, the amlg_batch_run entry point walks them in order through the same amlg_process() as
 * the live hooks (bpf_loop), and each packet's verdict and parsed tuple come back.
 */
#ifndef AMLG_BATCH_H
#define AMLG_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "loader.h"

struct batch_pkt {
	const uint8_t *data; /* an Ethernet frame */
	uint32_t cap; /* bytes at data (a capture may have cut the packet) */
	uint32_t len; /* wire length */
	uint64_t ts_ns;
	uint8_t dir; /* AMLG_DIR_* */
};

struct batch {
	struct offline *o;
	struct amlg_batch_pkt *vals;
	struct amlg_batch_res *res;
	uint32_t *keys;
};

int batch_init(struct batch *b, struct offline *o);
/* Judge n <= AMLG_BATCH_MAX packets in order; out[i] is packet i's result. */
int batch_run(struct batch *b, const struct batch_pkt *in, size_t n, struct amlg_batch_res *out);
void batch_free(struct batch *b);

#endif
