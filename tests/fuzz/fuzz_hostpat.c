// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host patterns: hostpat_key() (what the loader puts into the datapath's table) and
 * hostpat_match() (what explain, fqdn listings and the tests believe), checked against each
 * other the way the datapath matches: a name (lower case, trailing dot dropped) matches when the
 * hash and the text of its last key.len bytes equal the key's, and for "*.suffix" a dot comes
 * just before them.
 *
 * Input: the pattern, a newline, the name.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "base/hostpat.h"

static int datapath_match(const struct amlg_host_key *k, const char *text, const char *name)
{
	size_t n = strlen(name);
	char *low = malloc(n + 1);
	const char *suffix;
	int m = 0;

	if (!low)
		fuzz_fail("out of memory");
	for (size_t i = 0; i <= n; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	if (n && low[n - 1] == '.')
		n--;
	if (k->len <= n) {
		suffix = low + n - k->len;
		m = name_hash(suffix, k->len) == k->hash && !memcmp(suffix, text, k->len);
		if (k->kind == AMLG_HOST_EXACT)
			m = m && n == k->len;
		else if (k->kind == AMLG_HOST_DOTWILD)
			m = m && n > k->len && suffix[-1] == '.';
	}
	free(low);
	return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *name, text[AMLG_NAME_MAX];
	struct amlg_host_key k;
	bool lower = true;
	int m;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	name = strchr(buf, '\n');
	if (name)
		*name++ = '\0';
	else
		name = buf + strlen(buf);
	m = hostpat_match(buf, name);
	if (hostpat_key(buf, &k, text)) {
		if (m)
			fuzz_fail("'%s' matches a pattern that has no key", name);
		free(buf);
		return 0;
	}
	if (k.len != strnlen(text, AMLG_NAME_MAX) || k.hash != name_hash(text, k.len) ||
	    k.kind < AMLG_HOST_EXACT || k.kind > AMLG_HOST_CHARWILD)
		fuzz_fail("key of '%s': len %u kind %u, text '%s'", buf, k.len, k.kind, text);
	/* the parser hands patterns over in lower case; the datapath lower-cases names */
	for (const char *p = text; *p; p++)
		lower = lower && !isupper((unsigned char)*p);
	if (lower && m != datapath_match(&k, text, name))
		fuzz_fail("'%s' against '%s': hostpat_match says %d, the datapath %d", name, buf, m,
			  !m);
	free(buf);
	return 0;
}
