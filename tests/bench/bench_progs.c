// SPDX-License-Identifier: GPL-2.0-only
/*
 * The comparison programs, loaded with the address entries of a compiled amlguard policy: the
 * empty program, the single LPM trie, DIR-16-8-8 and the per-prefix-length hash.  All of them see
 * exactly the (kind, prefix) -> class entries that amlguard's own tries hold.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "bench_abi.h"
#include "bench_alt.skel.h"
#include "bench_empty.skel.h"
#include "bench_lpm.skel.h"

const char *const bench_prog_names[BP_COUNT] = {
	[BP_EMPTY] = "empty",
	[BP_LPM] = "lpm",
	[BP_DIR] = "dir16-8-8",
	[BP_PLEN] = "plen-hash",
};

size_t map_memlock(int map_fd)
{
	char path[64], line[128];
	size_t v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", map_fd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %zu", &v) == 1)
			break;
	fclose(f);
	return v;
}

static uint32_t addr4(const struct prefix *p)
{
	return (uint32_t)p->addr[0] << 24 | p->addr[1] << 16 | p->addr[2] << 8 | p->addr[3];
}

static size_t max1(size_t n)
{
	return n ? n : 1;
}

/* ---- LPM ---- */
static int fill_lpm(struct bench_lpm_bpf *s, const struct compiled *c, struct bench_obj *b)
{
	int fd4 = bpf_map__fd(s->maps.lpm4), fd6 = bpf_map__fd(s->maps.lpm6);

	for (size_t i = 0; i < c->nlpm4; i++) {
		struct amlg_lpm4_key k = { .prefixlen = AMLG_LPM_HDR_BITS + c->lpm4[i].pfx.len,
					   .kind = c->lpm4[i].kind };

		memcpy(k.addr, c->lpm4[i].pfx.addr, 4);
		if (bpf_map_update_elem(fd4, &k, &c->lpm4[i].cls, BPF_ANY))
			return -errno;
	}
	for (size_t i = 0; i < c->nlpm6; i++) {
		struct amlg_lpm6_key k = { .prefixlen = AMLG_LPM_HDR_BITS + c->lpm6[i].pfx.len,
					   .kind = c->lpm6[i].kind };

		memcpy(k.addr, c->lpm6[i].pfx.addr, 16);
		if (bpf_map_update_elem(fd6, &k, &c->lpm6[i].cls, BPF_ANY))
			return -errno;
	}
	b->entries = c->nlpm4 + c->nlpm6;
	b->mem_bytes = map_memlock(fd4) + map_memlock(fd6);
	return 0;
}

/* ---- DIR-16-8-8 ---- */
struct dir_tables {
	uint32_t *l1, *l2, *l3;
	size_t n2, n3; /* chunks */
};

static int new_chunk(uint32_t **v, size_t *n, uint32_t fill)
{
	uint32_t *t = realloc(*v, (*n + 1) * 256 * sizeof(uint32_t));

	if (!t)
		return -1;
	*v = t;
	for (int i = 0; i < 256; i++)
		t[*n * 256 + i] = fill;
	return (int)(*n)++;
}

static int by_len(const void *a, const void *b)
{
	const struct clpm *x = *(const struct clpm *const *)a, *y = *(const struct clpm *const *)b;

	return (int)x->pfx.len - (int)y->pfx.len;
}

/* Shorter prefixes first: a longer one then overwrites the part of a shorter one it covers. */
static int dir_build(const struct compiled *c, struct dir_tables *t)
{
	const struct clpm **v = calloc(max1(c->nlpm4), sizeof(*v));

	t->l1 = calloc(DIR_L1_SIZE, sizeof(uint32_t));
	if (!v || !t->l1) {
		free(v);
		return -ENOMEM;
	}
	for (size_t i = 0; i < c->nlpm4; i++)
		v[i] = &c->lpm4[i];
	qsort(v, c->nlpm4, sizeof(*v), by_len);
	for (size_t i = 0; i < c->nlpm4; i++) {
		uint32_t a = addr4(&v[i]->pfx), len = v[i]->pfx.len, cls = v[i]->cls;
		uint32_t i1 = DIR_L1_IDX(v[i]->kind & 3, a >> 16), c2, i2, c3;
		int k;

		if (len <= 16) {
			for (uint32_t j = 0; j < 1u << (16 - len); j++)
				t->l1[i1 + j] = cls;
			continue;
		}
		if (!(t->l1[i1] & DIR_PTR)) {
			k = new_chunk(&t->l2, &t->n2, t->l1[i1]);
			if (k < 0)
				goto nomem;
			t->l1[i1] = DIR_PTR | (uint32_t)k;
		}
		c2 = t->l1[i1] & ~DIR_PTR;
		i2 = c2 * 256 + ((a >> 8) & 0xff);
		if (len <= 24) {
			for (uint32_t j = 0; j < 1u << (24 - len); j++)
				t->l2[i2 + j] = cls;
			continue;
		}
		if (!(t->l2[i2] & DIR_PTR)) {
			k = new_chunk(&t->l3, &t->n3, t->l2[i2]);
			if (k < 0)
				goto nomem;
			t->l2[i2] = DIR_PTR | (uint32_t)k;
		}
		c3 = t->l2[i2] & ~DIR_PTR;
		for (uint32_t j = 0; j < 1u << (32 - len); j++)
			t->l3[c3 * 256 + (a & 0xff) + j] = cls;
	}
	free(v);
	return 0;
nomem:
	free(v);
	return -ENOMEM;
}

static int array_fill(int fd, const uint32_t *vals, size_t n)
{
	const size_t step = 65536;
	uint32_t *keys = malloc(step * sizeof(*keys));

	if (!keys)
		return -ENOMEM;
	for (size_t off = 0; off < n; off += step) {
		__u32 cnt = (__u32)(n - off < step ? n - off : step);

		for (__u32 i = 0; i < cnt; i++)
			keys[i] = (uint32_t)(off + i);
		if (bpf_map_update_batch(fd, keys, vals + off, &cnt, NULL)) {
			int err = -errno;

			free(keys);
			return err;
		}
	}
	free(keys);
	return 0;
}

/* ---- per-prefix-length hash ---- */
static int set_lens(const struct clpm *e, size_t n, volatile __u8 (*lens)[PLEN_MAX_LENS],
		    volatile __u8 *nlens)
{
	bool used[BENCH_KINDS][129] = { { false } };

	for (size_t i = 0; i < n; i++)
		used[e[i].kind & 3][e[i].pfx.len] = true;
	for (int k = 0; k < BENCH_KINDS; k++) {
		unsigned cnt = 0;

		for (int l = 128; l >= 0; l--) {
			if (!used[k][l])
				continue;
			if (cnt == PLEN_MAX_LENS)
				return -E2BIG;
			lens[k][cnt++] = (__u8)l;
		}
		nlens[k] = (__u8)cnt;
	}
	return 0;
}

static int plen_fill(int fd4, int fd6, const struct compiled *c)
{
	for (size_t i = 0; fd4 >= 0 && i < c->nlpm4; i++) {
		struct plen4_key k = { .kind = c->lpm4[i].kind, .len = c->lpm4[i].pfx.len };

		memcpy(k.addr, c->lpm4[i].pfx.addr, 4);
		if (bpf_map_update_elem(fd4, &k, &c->lpm4[i].cls, BPF_ANY))
			return -errno;
	}
	for (size_t i = 0; i < c->nlpm6; i++) {
		struct plen6_key k = { .kind = c->lpm6[i].kind, .len = c->lpm6[i].pfx.len };

		memcpy(k.addr, c->lpm6[i].pfx.addr, 16);
		if (bpf_map_update_elem(fd6, &k, &c->lpm6[i].cls, BPF_ANY))
			return -errno;
	}
	return 0;
}

static int open_alt(struct bench_obj *b, const struct compiled *c, unsigned dir_mode)
{
	struct bench_alt_bpf *s = bench_alt_bpf__open();
	struct dir_tables t = { 0 };
	bool dir = b->kind == BP_DIR;
	int err;

	if (!s)
		return -errno;
	b->skel = s;
	s->rodata->dir_mode = dir_mode;
	s->rodata->v4_algo = dir ? 0 : 1;
	err = set_lens(c->lpm6, c->nlpm6, s->rodata->lens6, s->rodata->nlens6);
	if (!err && !dir)
		err = set_lens(c->lpm4, c->nlpm4, s->rodata->lens4, s->rodata->nlens4);
	if (!err && dir)
		err = dir_build(c, &t);
	if (err)
		goto out;
	bpf_map__set_max_entries(s->maps.dir_l2, (__u32)(max1(t.n2) * 256));
	bpf_map__set_max_entries(s->maps.dir_l3, (__u32)(max1(t.n3) * 256));
	bpf_map__set_max_entries(s->maps.plen4, (__u32)max1(dir ? 0 : c->nlpm4));
	bpf_map__set_max_entries(s->maps.plen6, (__u32)max1(c->nlpm6));
	err = bench_alt_bpf__load(s);
	if (err)
		goto out;
	if (dir) {
		err = array_fill(bpf_map__fd(s->maps.dir_l1), t.l1, DIR_L1_SIZE);
		if (!err && t.n2)
			err = array_fill(bpf_map__fd(s->maps.dir_l2), t.l2, t.n2 * 256);
		if (!err && t.n3)
			err = array_fill(bpf_map__fd(s->maps.dir_l3), t.l3, t.n3 * 256);
	}
	if (!err)
		err = plen_fill(dir ? -1 : bpf_map__fd(s->maps.plen4), bpf_map__fd(s->maps.plen6),
				c);
	b->entries = c->nlpm4 + c->nlpm6;
	b->mem_bytes = map_memlock(bpf_map__fd(s->maps.plen6)) +
		       (dir ? map_memlock(bpf_map__fd(s->maps.dir_l1)) +
					map_memlock(bpf_map__fd(s->maps.dir_l2)) +
					map_memlock(bpf_map__fd(s->maps.dir_l3)) :
			      map_memlock(bpf_map__fd(s->maps.plen4)));
	b->prog_fd = bpf_program__fd(s->progs.bench_alt);
out:
	free(t.l1);
	free(t.l2);
	free(t.l3);
	return err;
}

int bench_obj_open(struct bench_obj *b, enum bench_prog kind, const struct compiled *c,
		   unsigned dir_mode)
{
	int err = 0;

	memset(b, 0, sizeof(*b));
	b->kind = kind;
	b->prog_fd = -1;
	switch (kind) {
	case BP_EMPTY: {
		struct bench_empty_bpf *s = bench_empty_bpf__open_and_load();

		if (!s)
			return -errno;
		b->skel = s;
		b->prog_fd = bpf_program__fd(s->progs.bench_empty);
		return 0;
	}
	case BP_LPM: {
		struct bench_lpm_bpf *s = bench_lpm_bpf__open();

		if (!s)
			return -errno;
		b->skel = s;
		s->rodata->dir_mode = dir_mode;
		bpf_map__set_max_entries(s->maps.lpm4, (__u32)max1(c->nlpm4));
		bpf_map__set_max_entries(s->maps.lpm6, (__u32)max1(c->nlpm6));
		err = bench_lpm_bpf__load(s);
		if (!err)
			err = fill_lpm(s, c, b);
		b->prog_fd = bpf_program__fd(s->progs.bench_lpm);
		break;
	}
	case BP_DIR:
	case BP_PLEN:
		err = open_alt(b, c, dir_mode);
		break;
	default:
		return -EINVAL;
	}
	if (err)
		bench_obj_close(b);
	return err;
}

void bench_obj_close(struct bench_obj *b)
{
	switch (b->kind) {
	case BP_EMPTY:
		bench_empty_bpf__destroy(b->skel);
		break;
	case BP_LPM:
		bench_lpm_bpf__destroy(b->skel);
		break;
	default:
		bench_alt_bpf__destroy(b->skel);
		break;
	}
	b->skel = NULL;
}
