/* SPDX-License-Identifier: GPL-2.0-only */
/* IPv4/IPv6 prefixes: parsing, printing, containment, sorting and merging. */
#ifndef AMLG_BASE_PREFIX_H
#define AMLG_BASE_PREFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PREFIX_STRLEN 50 /* "ffff:...:ffff/128" and a NUL */

struct prefix {
	uint8_t family; /* 4 or 6 */
	uint8_t len; /* prefix length in bits */
	uint8_t addr[16]; /* network byte order; IPv4 in the first 4 bytes; host bits zero */
};

struct prefix_list {
	struct prefix *v;
	size_t n, cap;
};

/*
 * Parse "a.b.c.d", "a.b.c.d/n", "x::y" or "x::y/n".  A bare address is a host prefix.  Host bits
 * set below the prefix length are an error (-EINVAL with *hostbits set) so that "10.0.0.1/24"
 * cannot silently mean 10.0.0.0/24.  Returns 0 or -EINVAL.
 */
int prefix_parse(const char *s, struct prefix *p, bool *hostbits);
/* Same, but clears host bits instead of failing. */
int prefix_parse_loose(const char *s, struct prefix *p);
/* Print as "a.b.c.d/n" (the "/n" of host prefixes included). */
char *prefix_str(const struct prefix *p, char *buf, size_t sz);
/* Print an address of the given family. */
char *addr_str(int family, const uint8_t *addr, char *buf, size_t sz);
unsigned prefix_bits(int family); /* 32 or 128 */

/* Does a contain b (same family, a.len <= b.len, b inside a)? */
bool prefix_contains(const struct prefix *a, const struct prefix *b);
/* Does p contain the address? */
bool prefix_has_addr(const struct prefix *p, int family, const uint8_t *addr);
/* Total order: family, address, then length (shorter first). */
int prefix_cmp(const struct prefix *a, const struct prefix *b);

int prefix_list_add(struct prefix_list *l, const struct prefix *p);
/*
 * Parse "CIDR[,CIDR...]" (prefix_parse() for each, empty items skipped) onto l.  Returns 0,
 * -ENOMEM, or -EINVAL with the offending item copied into bad and *hostbits telling why.
 */
int prefix_list_parse(const char *s, struct prefix_list *l, char *bad, size_t badsz,
		      bool *hostbits);
int prefix_list_append(struct prefix_list *l, const struct prefix_list *from);
/*
 * Sort, drop prefixes covered by another one in the list, and join adjacent siblings into their
 * parent (10.0.0.0/25 + 10.0.0.128/25 = 10.0.0.0/24), repeatedly.  The address set is unchanged.
 */
void prefix_list_merge(struct prefix_list *l);
void prefix_list_free(struct prefix_list *l);
size_t prefix_list_count(const struct prefix_list *l, int family);

#endif
