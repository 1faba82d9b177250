// SPDX-License-Identifier: GPL-2.0-only
/*
 * Prefixes, the compiler's ground: "check --local" lists (prefix_list_parse()), prefix_parse()
 * and its printing, and prefix_list_merge(), checked against its promise: the merged list holds
 * exactly the addresses of the input (probed at every prefix's first and last address and just
 * outside), is sorted, holds no prefix inside another and no two halves of one parent.
 *
 * Input: a comma-separated list as "--local" takes it, up to the first NUL; after it, 18-byte
 * records (family bit, length, address) of more prefixes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "base/prefix.h"

#define MAX_PREFIXES 512

static bool in_list(const struct prefix_list *l, int family, const uint8_t *addr)
{
	for (size_t i = 0; i < l->n; i++)
		if (prefix_has_addr(&l->v[i], family, addr))
			return true;
	return false;
}

/* addr + delta (+1 or -1) in the family's width; false on wrap-around. */
static bool step(uint8_t *addr, int family, int delta)
{
	for (int i = family == 4 ? 3 : 15; i >= 0; i--) {
		uint8_t old = addr[i];

		addr[i] = (uint8_t)(addr[i] + delta);
		if ((delta > 0 && addr[i] > old) || (delta < 0 && addr[i] < old))
			return true;
	}
	return false;
}

static void probe(const struct prefix_list *in, const struct prefix_list *out, int family,
		  const uint8_t *addr)
{
	char buf[64];

	if (in_list(in, family, addr) != in_list(out, family, addr))
		fuzz_fail("merging changed whether %s is in the list",
			  addr_str(family, addr, buf, sizeof(buf)));
}

static void check_merge(const struct prefix_list *in)
{
	struct prefix_list out = { 0 };

	if (prefix_list_append(&out, in))
		fuzz_fail("out of memory");
	prefix_list_merge(&out);
	for (size_t i = 0; i < out.n; i++) {
		const struct prefix *p = &out.v[i];
		struct prefix parent;

		if (i && prefix_cmp(&out.v[i - 1], p) >= 0)
			fuzz_fail("merged list not sorted at %zu", i);
		if (i && prefix_contains(&out.v[i - 1], p))
			fuzz_fail("merged list keeps a covered prefix at %zu", i);
		if (i && p->len && out.v[i - 1].len == p->len && p->family == out.v[i - 1].family) {
			parent = *p;
			parent.len--;
			if (prefix_contains(&parent, &out.v[i - 1]))
				fuzz_fail("merged list keeps two halves of one prefix at %zu", i);
		}
	}
	for (size_t i = 0; i < in->n; i++) {
		const struct prefix *p = &in->v[i];
		unsigned bits = prefix_bits(p->family);
		uint8_t lo[16], hi[16];

		memcpy(lo, p->addr, 16);
		memcpy(hi, p->addr, 16);
		for (unsigned b = p->len; b < bits; b++)
			hi[b / 8] |= (uint8_t)(0x80 >> (b % 8));
		probe(in, &out, p->family, lo);
		probe(in, &out, p->family, hi);
		if (step(lo, p->family, -1))
			probe(in, &out, p->family, lo);
		if (step(hi, p->family, 1))
			probe(in, &out, p->family, hi);
	}
	prefix_list_free(&out);
}

static void check_print(const struct prefix *p)
{
	char buf[PREFIX_STRLEN];
	struct prefix q;
	bool hostbits;

	prefix_str(p, buf, sizeof(buf));
	if (prefix_parse(buf, &q, &hostbits) || prefix_cmp(p, &q))
		fuzz_fail("'%s' does not parse back to itself", buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t tlen = nul ? (size_t)(nul - data) : size;
	struct prefix_list l = { 0 };
	char *text = malloc(tlen + 1), bad[256];
	bool hostbits;
	int err;

	if (!text)
		return 0;
	memcpy(text, data, tlen);
	text[tlen] = '\0';
	err = prefix_list_parse(text, &l, bad, sizeof(bad), &hostbits);
	if (err && err != -EINVAL)
		fuzz_fail("prefix_list_parse() returned %d", err);
	if (err) {
		struct prefix p;

		/* the item named as bad must really be refused, for the reason given */
		if (prefix_parse(bad, &p, &hostbits) == 0 && strlen(bad) < sizeof(bad) - 1)
			fuzz_fail("'%s' was called bad but parses", bad);
		prefix_parse_loose(bad, &p);
	}
	for (size_t i = 0; i < l.n; i++)
		check_print(&l.v[i]);
	if (nul) {
		const uint8_t *r = nul + 1;
		size_t left = size - tlen - 1;

		for (; left >= 18 && l.n < MAX_PREFIXES; r += 18, left -= 18) {
			struct prefix p = { .family = r[0] & 1 ? 6 : 4 };
			unsigned bits = prefix_bits(p.family);
			char buf[PREFIX_STRLEN];

			p.len = (uint8_t)(r[1] % (bits + 1));
			memcpy(p.addr, r + 2, p.family == 4 ? 4 : 16);
			prefix_str(&p, buf, sizeof(buf));
			/* host bits cleared the way the parser clears them */
			if (prefix_parse_loose(buf, &p))
				fuzz_fail("'%s' does not parse", buf);
			check_print(&p);
			prefix_list_add(&l, &p);
		}
	}
	check_merge(&l);
	prefix_list_free(&l);
	free(text);
	return 0;
}
