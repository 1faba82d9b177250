// SPDX-License-Identifier: GPL-2.0-only
/* What DNS taught an attached interface, read from the pinned maps. */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kernel/fqdn.h"
#include "kernel/tables.h"

/* The active slot's inner map of an ARRAY_OF_MAPS (hosts or classes), or -errno. */
static int inner_fd(int outer, uint32_t slot)
{
	uint32_t id;

	int fd;

	if (bpf_map_lookup_elem(outer, &slot, &id))
		return -errno;
	fd = bpf_map_get_fd_by_id(id);
	return fd < 0 ? -errno : fd;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void pattern_text(const struct amlg_host *h, char *buf, size_t sz)
{
	const char *pre = h->kind == AMLG_HOST_DOTWILD	? "*." :
			  h->kind == AMLG_HOST_CHARWILD ? "*" :
							  "";

	snprintf(buf, sz, "%s%.*s", pre, (int)h->len, h->text);
}

/* The rules of class cls: set bits, as global rule ids. */
static void class_rules(int classes, uint32_t cls, unsigned dir, struct fqdn_entry *e)
{
	struct amlg_bitmap bm;

	if (classes < 0 || bpf_map_lookup_elem(classes, &cls, &bm))
		return;
	for (unsigned bit = 0; bit < AMLG_MAX_RULES && e->nrules < 8; bit++)
		if ((bm.w[bit / 64] >> (bit % 64)) & 1)
			e->rules[e->nrules++] = (uint16_t)AMLG_RULE_ID(dir, bit);
}

static int by_name(const void *a, const void *b)
{
	const struct fqdn_entry *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	c = strcmp(x->pattern, y->pattern);
	return c ? c : memcmp(x->addr, y->addr, 16);
}

static int add(struct fqdn_entry **v, size_t *n, size_t *cap, struct fqdn_entry *e)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		struct fqdn_entry *nv = realloc(*v, c * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = c;
	}
	(*v)[(*n)++] = *e;
	return 0;
}

int fqdn_read(const struct amlg_maps *m, struct fqdn_entry **out, size_t *n)
{
	struct amlg_learn_key k, next, *prev = NULL;
	struct fqdn_entry *v = NULL, e;
	size_t cap = 0;
	uint32_t slot;
	uint64_t now = mono_ns();
	int hosts, classes, err;

	*out = NULL;
	*n = 0;
	err = tables_active(m, &slot, NULL);
	if (err)
		return err;
	hosts = inner_fd(m->fd[M_HOSTS], slot);
	classes = inner_fd(m->fd[M_CLASSES], slot);
	while (bpf_map_get_next_key(m->fd[M_LEARNED], prev, &next) == 0) {
		struct amlg_learned val;

		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(m->fd[M_LEARNED], &k, &val))
			continue; /* removed meanwhile */
		for (int i = 0; i < AMLG_LEARN_SLOTS; i++) {
			const struct amlg_learn_slot *s = &val.s[i];
			struct amlg_name nm;
			struct amlg_host h;

			if (!s->pattern.hash)
				continue;
			memset(&e, 0, sizeof(e));
			e.family = k.family;
			memcpy(e.addr, k.addr, 16);
			e.ttl_left_ms = ((int64_t)s->expires_ns - (int64_t)now) / 1000000;
			if (bpf_map_lookup_elem(m->fd[M_NAMES], &s->name_hash, &nm) == 0 &&
			    nm.len < sizeof(nm.text))
				snprintf(e.name, sizeof(e.name), "%.*s", (int)nm.len, nm.text);
			if (hosts >= 0 && bpf_map_lookup_elem(hosts, &s->pattern, &h) == 0) {
				pattern_text(&h, e.pattern, sizeof(e.pattern));
				class_rules(classes, h.cls[AMLG_DIR_OUT], AMLG_DIR_OUT, &e);
				class_rules(classes, h.cls[AMLG_DIR_IN], AMLG_DIR_IN, &e);
			}
			err = add(&v, n, &cap, &e);
			if (err)
				goto out;
		}
	}
	if (*n)
		qsort(v, *n, sizeof(*v), by_name);
	*out = v;
	v = NULL;
out:
	free(v);
	if (hosts >= 0)
		close(hosts);
	if (classes >= 0)
		close(classes);
	return err;
}
