// SPDX-License-Identifier: GPL-2.0-only
/* Text that may not be UTF-8, for JSON and the metrics: valid UTF-8 kept, other bytes as \xNN. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json_text.h"

size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong, surrogate, or past U+10FFFF */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

bool utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq(p + i, n - i);

		if (!k)
			return false;
		i += k;
	}
	return true;
}

char *utf8_escape(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), o = 0;
	char *out = malloc(4 * n + 1);

	if (!out)
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq(p + i, n - i);

		if (k) {
			memcpy(out + o, p + i, k);
			o += k;
			i += k;
		} else {
			o += (size_t)sprintf(out + o, "\\x%02x", p[i]);
			i++;
		}
	}
	out[o] = '\0';
	return out;
}

json_t *json_str_escaped(const char *s)
{
	json_t *j;
	char *e;

	if (!s)
		return json_null();
	j = json_string(s);
	if (j)
		return j;
	e = utf8_escape(s);
	j = e ? json_string(e) : NULL;
	free(e);
	return j;
}
