// SPDX-License-Identifier: GPL-2.0-only
/* Host patterns as the datapath matches them. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "base/hostpat.h"

uint64_t name_hash(const char *s, size_t n)
{
	uint64_t h = 0;

	/* Horner's rule: the same value the datapath builds right to left, char * base^pos. */
	for (size_t i = 0; i < n; i++)
		h = h * AMLG_NAME_HASH_BASE + (uint8_t)s[i];
	return h;
}

int hostpat_key(const char *pattern, struct amlg_host_key *key, char text[AMLG_NAME_MAX])
{
	const char *t = pattern;
	uint8_t kind = AMLG_HOST_EXACT;
	size_t n;

	if (t[0] == '*' && t[1] == '.') {
		kind = AMLG_HOST_DOTWILD;
		t += 2;
	} else if (t[0] == '*') {
		kind = AMLG_HOST_CHARWILD;
		t += 1;
	}
	n = strlen(t);
	if (!n || n >= AMLG_NAME_MAX || strchr(t, '*'))
		return -EINVAL;
	memset(key, 0, sizeof(*key));
	memset(text, 0, AMLG_NAME_MAX);
	memcpy(text, t, n);
	key->hash = name_hash(t, n);
	key->len = (uint16_t)n;
	key->kind = kind;
	return 0;
}

int hostpat_match(const char *pattern, const char *name)
{
	struct amlg_host_key k;
	char text[AMLG_NAME_MAX];
	size_t n = strlen(name);

	if (n && name[n - 1] == '.')
		n--;
	if (hostpat_key(pattern, &k, text) || k.len > n)
		return 0;
	if (strncasecmp(name + n - k.len, text, k.len))
		return 0;
	switch (k.kind) {
	case AMLG_HOST_EXACT:
		return n == k.len;
	case AMLG_HOST_DOTWILD:
		return n > k.len && name[n - k.len - 1] == '.';
	default:
		return 1;
	}
}
