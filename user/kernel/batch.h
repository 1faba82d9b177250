/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Offline batches: many packets per BPF_PROG_TEST_RUN call.  The packets' bytes are packed into
 * the amlg_batch_blob chunks and their headers into amlg_batch_idx; the amlg_batch_run entry
 * point walks them in order through the same amlg_process() as the live hooks (bpf_loop), and
 * each packet's verdict and parsed tuple come back (see amlguard_abi.h).
 */
#ifndef AMLG_KERNEL_BATCH_H
#define AMLG_KERNEL_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/loader.h"

struct batch_pkt {
	const uint8_t *data; /* an Ethernet frame */
	uint32_t cap; /* bytes at data (a capture may have cut the packet) */
	uint32_t len; /* wire length */
	uint64_t ts_ns;
	uint8_t dir; /* AMLG_DIR_* */
};

struct batch {
	struct offline *o;
	struct amlg_batch_idx *idx; /* the headers */
	uint8_t *blob; /* AMLG_BLOB_CHUNKS chunks */
	struct amlg_batch_out *out;
	uint32_t *keys;
	size_t n; /* packets added */
	size_t used; /* bytes of blob used */
	bool ran; /* the packets were judged: the next batch_add() starts a new batch */
};

int batch_init(struct batch *b, struct offline *o);
void batch_free(struct batch *b);

/*
 * Room for one more packet of cap bytes (at most AMLG_BATCH_SNAP: longer ones are cut)?  Returns
 * where to write its bytes, or NULL when the batch is full (run it, then add again).
 */
uint8_t *batch_add(struct batch *b, uint64_t ts_ns, uint32_t len, uint32_t cap, uint8_t dir);
/* Packet i of the batch as added (also after it ran, until the next batch_add()). */
const struct amlg_batch_hdr *batch_hdr(const struct batch *b, size_t i);
const uint8_t *batch_data(const struct batch *b, size_t i);
/* Judge the b->n packets added, in order; out[i] is packet i's result. */
int batch_run_added(struct batch *b, struct amlg_batch_res *out);

/* Judge n <= AMLG_BATCH_MAX packets in order (added, then run); out[i] is packet i's result. */
int batch_run(struct batch *b, const struct batch_pkt *in, size_t n, struct amlg_batch_res *out);

#endif
