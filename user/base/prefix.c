// SPDX-License-Identifier: GPL-2.0-only
/* IPv4/IPv6 prefixes: parsing, printing, containment, sorting and merging. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/prefix.h"
#include "base/vec.h"

unsigned prefix_bits(int family)
{
	return family == 4 ? 32 : 128;
}

static void mask_host_bits(uint8_t *addr, unsigned len, unsigned bits, bool *had)
{
	for (unsigned i = 0; i < bits / 8; i++) {
		unsigned keep = len >= (i + 1) * 8 ? 8 : len > i * 8 ? len - i * 8 : 0;
		uint8_t mask = keep ? (uint8_t)(0xff << (8 - keep)) : 0;

		if (addr[i] & ~mask && had)
			*had = true;
		addr[i] &= mask;
	}
}

static int parse(const char *s, struct prefix *p, bool strict, bool *hostbits)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long len;
	bool had = false;

	if (hostbits)
		*hostbits = false;
	if (alen == 0 || alen >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	memset(p, 0, sizeof(*p));
	if (strchr(buf, ':')) {
		if (inet_pton(AF_INET6, buf, p->addr) != 1)
			return -EINVAL;
		p->family = 6;
	} else {
		if (inet_pton(AF_INET, buf, p->addr) != 1)
			return -EINVAL;
		p->family = 4;
	}
	len = prefix_bits(p->family);
	if (slash) {
		char *end;

		if (slash[1] < '0' || slash[1] > '9')
			return -EINVAL;
		errno = 0;
		len = strtoul(slash + 1, &end, 10);
		if (errno || *end || len > prefix_bits(p->family) || end - (slash + 1) > 3)
			return -EINVAL;
	}
	p->len = (uint8_t)len;
	mask_host_bits(p->addr, p->len, prefix_bits(p->family), &had);
	if (had && strict) {
		if (hostbits)
			*hostbits = true;
		return -EINVAL;
	}
	return 0;
}

int prefix_parse(const char *s, struct prefix *p, bool *hostbits)
{
	return parse(s, p, true, hostbits);
}

int prefix_parse_loose(const char *s, struct prefix *p)
{
	return parse(s, p, false, NULL);
}

char *addr_str(int family, const uint8_t *addr, char *buf, size_t sz)
{
	if (!inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, buf, (socklen_t)sz))
		snprintf(buf, sz, "?");
	return buf;
}

char *prefix_str(const struct prefix *p, char *buf, size_t sz)
{
	char a[INET6_ADDRSTRLEN];

	snprintf(buf, sz, "%s/%u", addr_str(p->family, p->addr, a, sizeof(a)), p->len);
	return buf;
}

/* Do the first len bits of a and b agree? */
static bool bits_equal(const uint8_t *a, const uint8_t *b, unsigned len)
{
	unsigned full = len / 8, rest = len % 8;

	if (memcmp(a, b, full))
		return false;
	if (!rest)
		return true;
	return ((a[full] ^ b[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

bool prefix_contains(const struct prefix *a, const struct prefix *b)
{
	return a->family == b->family && a->len <= b->len && bits_equal(a->addr, b->addr, a->len);
}

bool prefix_has_addr(const struct prefix *p, int family, const uint8_t *addr)
{
	return p->family == family && bits_equal(p->addr, addr, p->len);
}

int prefix_cmp(const struct prefix *a, const struct prefix *b)
{
	int c;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	c = memcmp(a->addr, b->addr, a->family == 4 ? 4 : 16);
	if (c)
		return c;
	return (int)a->len - (int)b->len;
}

static int cmp_qsort(const void *a, const void *b)
{
	return prefix_cmp(a, b);
}

int prefix_list_add(struct prefix_list *l, const struct prefix *p)
{
	if (VEC_RESERVE(l->v, l->n, l->cap, 16))
		return -ENOMEM;
	l->v[l->n++] = *p;
	return 0;
}

int prefix_list_parse(const char *s, struct prefix_list *l, char *bad, size_t badsz, bool *hostbits)
{
	char *copy = strdup(s), *save = NULL, *tok;
	int err = 0;

	*hostbits = false;
	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok && !err; tok = strtok_r(NULL, ",", &save)) {
		struct prefix p;

		if (prefix_parse(tok, &p, hostbits)) {
			snprintf(bad, badsz, "%s", tok);
			err = -EINVAL;
		} else {
			err = prefix_list_add(l, &p);
		}
	}
	free(copy);
	return err;
}

int prefix_list_append(struct prefix_list *l, const struct prefix_list *from)
{
	for (size_t i = 0; i < from->n; i++) {
		int err = prefix_list_add(l, &from->v[i]);

		if (err)
			return err;
	}
	return 0;
}

/* Is b the other half of a's parent (same length, differing only in the last bit)? */
static bool siblings(const struct prefix *a, const struct prefix *b)
{
	unsigned bit;

	if (a->family != b->family || a->len != b->len || a->len == 0)
		return false;
	bit = a->len - 1;
	if (!bits_equal(a->addr, b->addr, bit))
		return false;
	return !(a->addr[bit / 8] & (0x80 >> (bit % 8))) &&
	       (b->addr[bit / 8] & (0x80 >> (bit % 8)));
}

/* One pass: sort, drop covered prefixes, join sibling pairs.  Returns true if it joined any. */
static bool merge_pass(struct prefix_list *l)
{
	size_t out = 0;
	bool joined = false;

	qsort(l->v, l->n, sizeof(*l->v), cmp_qsort);
	for (size_t i = 0; i < l->n; i++) {
		struct prefix *p = &l->v[i];

		if (out && prefix_contains(&l->v[out - 1], p))
			continue;
		if (out && siblings(&l->v[out - 1], p)) {
			struct prefix *parent = &l->v[out - 1];
			unsigned bit = parent->len - 1;

			parent->len--;
			parent->addr[bit / 8] &= (uint8_t) ~(0x80 >> (bit % 8));
			joined = true;
			continue;
		}
		l->v[out++] = *p;
	}
	l->n = out;
	return joined;
}

void prefix_list_merge(struct prefix_list *l)
{
	if (l->n < 2)
		return;
	while (merge_pass(l))
		;
}

void prefix_list_free(struct prefix_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

size_t prefix_list_count(const struct prefix_list *l, int family)
{
	size_t n = 0;

	for (size_t i = 0; i < l->n; i++)
		n += l->v[i].family == family;
	return n;
}
