// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host patterns of the rules: each distinct pattern once, with the bitmap of the rules (per
 * direction) whose remote endpoint names it, interned as a class.  The datapath ORs these
 * classes into an address's rules when DNS taught it the address (bpf/dns.h, classify.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile_internal.h"
#include "base/hostpat.h"

static struct chost *find(struct compiled *c, const struct amlg_host_key *k)
{
	for (size_t i = 0; i < c->nhosts; i++)
		if (!memcmp(&c->hosts[i].key, k, sizeof(*k)))
			return &c->hosts[i];
	return NULL;
}

static int add_pattern(struct compiled *c, const char *pattern, size_t *cap, struct chost **out)
{
	struct amlg_host_key k;
	char text[AMLG_NAME_MAX];
	struct chost *h;

	if (hostpat_key(pattern, &k, text))
		return -EINVAL;
	h = find(c, &k);
	if (!h) {
		if (c->nhosts == *cap) {
			size_t ncap = *cap ? *cap * 2 : 16;
			struct chost *v = realloc(c->hosts, ncap * sizeof(*v));

			if (!v)
				return -ENOMEM;
			c->hosts = v;
			*cap = ncap;
		}
		h = &c->hosts[c->nhosts];
		memset(h, 0, sizeof(*h));
		h->key = k;
		h->id = (uint32_t)c->nhosts++;
		memcpy(h->text, text, sizeof(h->text));
		snprintf(h->pattern, sizeof(h->pattern), "%s", pattern);
		c->host_lens[(k.kind - 1) & 3][(k.len / 64) & 3] |= 1ull << (k.len % 64);
	}
	*out = h;
	return 0;
}

int compile_hosts(struct compiled *c, struct class_table *t)
{
	size_t cap = 0;
	int err;

	for (size_t i = 0; i < c->nrules; i++) {
		const struct crule *cr = &c->rules[i];

		for (size_t j = 0; j < cr->nres; j++) {
			const struct item_res *ir = &cr->res[j];
			struct chost *h;

			if (ir->kind != EP_HOST || ir->side != AMLG_SIDE_REMOTE)
				continue;
			/* item text is "host:pattern" */
			err = add_pattern(c, ir->text + strlen("host:"), &cap, &h);
			if (err)
				return err;
			bm_set(&h->bm[cr->dir], cr->bit);
		}
	}
	for (size_t i = 0; i < c->nhosts; i++) {
		for (int dir = 0; dir < AMLG_DIRS; dir++) {
			err = class_intern(t, &c->hosts[i].bm[dir], &c->hosts[i].cls[dir]);
			if (err)
				return err;
		}
	}
	if (c->nhosts)
		c->flags |= AMLG_PF_HOSTS;
	return 0;
}
