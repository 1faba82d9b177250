// SPDX-License-Identifier: GPL-2.0-only
/* Offline batches: many packets per BPF_PROG_TEST_RUN call. */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/batch.h"

int batch_init(struct batch *b, struct offline *o)
{
	memset(b, 0, sizeof(*b));
	if (o->batch_fd < 0)
		return -EINVAL; /* opened without the batch entry point (offline_open_batch) */
	b->o = o;
	b->idx = calloc(1, sizeof(*b->idx));
	b->blob = calloc(AMLG_BLOB_CHUNKS, AMLG_BLOB_CHUNK);
	b->out = calloc(1, sizeof(*b->out));
	b->keys = calloc(AMLG_BLOB_CHUNKS, sizeof(*b->keys));
	if (!b->idx || !b->blob || !b->out || !b->keys) {
		batch_free(b);
		return -ENOMEM;
	}
	return 0;
}

void batch_free(struct batch *b)
{
	free(b->idx);
	free(b->blob);
	free(b->out);
	free(b->keys);
	memset(b, 0, sizeof(*b));
}

uint8_t *batch_add(struct batch *b, uint64_t ts_ns, uint32_t len, uint32_t cap, uint8_t dir)
{
	struct amlg_batch_hdr *h;
	size_t off = b->used;

	if (b->ran) {
		b->n = 0;
		b->used = off = 0;
		b->ran = false;
	}
	if (cap > AMLG_BATCH_SNAP)
		cap = AMLG_BATCH_SNAP;
	if (b->n == AMLG_BATCH_MAX)
		return NULL;
	/* a packet never straddles two chunks */
	if (cap && off / AMLG_BLOB_CHUNK != (off + cap - 1) / AMLG_BLOB_CHUNK)
		off = (off / AMLG_BLOB_CHUNK + 1) * AMLG_BLOB_CHUNK;
	if (off + cap > (size_t)AMLG_BLOB_CHUNKS * AMLG_BLOB_CHUNK)
		return NULL;
	h = &b->idx->h[b->n++];
	memset(h, 0, sizeof(*h));
	h->ts_ns = ts_ns;
	h->off = (uint32_t)off;
	h->len = len;
	h->cap = (uint16_t)cap;
	h->dir = dir;
	b->used = off + cap;
	return b->blob + off;
}

const struct amlg_batch_hdr *batch_hdr(const struct batch *b, size_t i)
{
	return i < b->n ? &b->idx->h[i] : NULL;
}

const uint8_t *batch_data(const struct batch *b, size_t i)
{
	return i < b->n ? b->blob + b->idx->h[i].off : NULL;
}

int batch_run_added(struct batch *b, struct amlg_batch_res *out)
{
	/* The frame handed to test_run is not looked at: the packets are in the maps. */
	static const uint8_t dummy[64];
	struct __sk_buff ctx = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = dummy, .data_size_in = sizeof(dummy),
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .ctx_out = &ctx,
		    .ctx_size_out = sizeof(ctx), .repeat = 1);
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	uint32_t zero = 0, chunks = (uint32_t)((b->used + AMLG_BLOB_CHUNK - 1) / AMLG_BLOB_CHUNK);
	size_t n = b->ran ? 0 : b->n;

	b->ran = true;
	if (n == 0)
		return 0;
	for (uint32_t i = 0; i < chunks; i++)
		b->keys[i] = i;
	if (bpf_map_update_elem(b->o->batch_idx_fd, &zero, b->idx, BPF_ANY) ||
	    (chunks && bpf_map_update_batch(b->o->batch_blob_fd, b->keys, b->blob, &chunks, &bo)))
		return -errno;
	ctx.cb[AMLG_CB_DIR] = (uint32_t)n;
	if (bpf_prog_test_run_opts(b->o->batch_fd, &t))
		return -errno;
	if ((int32_t)ctx.cb[AMLG_CB_VERDICT] < 0)
		return (int32_t)ctx.cb[AMLG_CB_VERDICT];
	if (ctx.cb[AMLG_CB_VERDICT] < n)
		return -EIO;
	if (bpf_map_lookup_elem(b->o->batch_out_fd, &zero, b->out))
		return -errno;
	memcpy(out, b->out->r, n * sizeof(*out));
	return 0;
}

int batch_run(struct batch *b, const struct batch_pkt *in, size_t n, struct amlg_batch_res *out)
{
	if (n > AMLG_BATCH_MAX)
		return -E2BIG;
	b->ran = true; /* start a new batch */
	for (size_t i = 0; i < n; i++) {
		uint8_t *dst = batch_add(b, in[i].ts_ns, in[i].len, in[i].cap, in[i].dir);

		if (!dst)
			return -E2BIG;
		memcpy(dst, in[i].data, batch_hdr(b, i)->cap);
	}
	return batch_run_added(b, out);
}
