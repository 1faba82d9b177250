// SPDX-License-Identifier: GPL-2.0-only
/* Offline batches: many packets per BPF_PROG_TEST_RUN call. */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"

int batch_init(struct batch *b, struct offline *o)
{
	memset(b, 0, sizeof(*b));
	b->o = o;
	b->vals = calloc(AMLG_BATCH_MAX, sizeof(*b->vals));
	b->res = calloc(AMLG_BATCH_MAX, sizeof(*b->res));
	b->keys = calloc(AMLG_BATCH_MAX, sizeof(*b->keys));
	if (!b->vals || !b->res || !b->keys) {
		batch_free(b);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < AMLG_BATCH_MAX; i++)
		b->keys[i] = i;
	return 0;
}

int batch_run(struct batch *b, const struct batch_pkt *in, size_t n, struct amlg_batch_res *out)
{
	/* The frame handed to test_run is not looked at: the packets are in the map. */
	static const uint8_t dummy[64];
	struct __sk_buff ctx = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = dummy, .data_size_in = sizeof(dummy),
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .ctx_out = &ctx,
		    .ctx_size_out = sizeof(ctx), .repeat = 1);
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	uint32_t count = (uint32_t)n, start = 0;

	if (n == 0)
		return 0;
	if (n > AMLG_BATCH_MAX)
		return -E2BIG;
	for (size_t i = 0; i < n; i++) {
		struct amlg_batch_pkt *v = &b->vals[i];
		uint32_t cap = in[i].cap < AMLG_BATCH_SNAP ? in[i].cap : AMLG_BATCH_SNAP;

		v->ts_ns = in[i].ts_ns;
		v->len = in[i].len;
		v->cap = (uint16_t)cap;
		v->dir = in[i].dir;
		memcpy(v->data, in[i].data, cap);
	}
	if (bpf_map_update_batch(b->o->batch_in_fd, b->keys, b->vals, &count, &bo))
		return -errno;
	ctx.cb[AMLG_CB_DIR] = (uint32_t)n;
	if (bpf_prog_test_run_opts(b->o->batch_fd, &t))
		return -errno;
	if ((int32_t)ctx.cb[AMLG_CB_VERDICT] < 0)
		return (int32_t)ctx.cb[AMLG_CB_VERDICT];
	count = (uint32_t)n;
	/* Array maps hand the next key back as the cursor; only the count matters here. */
	if (bpf_map_lookup_batch(b->o->batch_out_fd, NULL, &start, b->keys, b->res,
				 &count, &bo) &&
	    errno != ENOENT)
		return -errno;
	if (count < n)
		return -EIO;
	memcpy(out, b->res, n * sizeof(*out));
	for (uint32_t i = 0; i < AMLG_BATCH_MAX; i++)
		b->keys[i] = i;
	return 0;
}

void batch_free(struct batch *b)
{
	free(b->vals);
	free(b->res);
	free(b->keys);
	memset(b, 0, sizeof(*b));
}
