// SPDX-License-Identifier: GPL-2.0-only
/* The Prometheus text exposition format: families, samples, labels and their escaping. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json_text.h"
#include "metrics/metrics.h"

void mbuf_init(struct mbuf *b)
{
	memset(b, 0, sizeof(*b));
}

void mbuf_free(struct mbuf *b)
{
	free(b->s);
	mbuf_init(b);
}

static bool reserve(struct mbuf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 4096;
	char *s;

	if (b->err)
		return false;
	if (b->len + more + 1 <= b->cap)
		return true;
	while (cap < b->len + more + 1)
		cap *= 2;
	s = realloc(b->s, cap);
	if (!s) {
		b->err = -ENOMEM;
		return false;
	}
	b->s = s;
	b->cap = cap;
	return true;
}

static void put(struct mbuf *b, const char *s, size_t n)
{
	if (!reserve(b, n))
		return;
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void puts_(struct mbuf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3))) putf(struct mbuf *b, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		put(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static bool name_char(char c, bool first, bool colon)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       (colon && c == ':') || (!first && c >= '0' && c <= '9');
}

bool metrics_valid_name(const char *s)
{
	if (!*s)
		return false;
	for (const char *p = s; *p; p++)
		if (!name_char(*p, p == s, true))
			return false;
	return true;
}

bool metrics_valid_label(const char *s)
{
	if (!*s || !strncmp(s, "__", 2))
		return false;
	for (const char *p = s; *p; p++)
		if (!name_char(*p, p == s, false))
			return false;
	return true;
}

/*
 * The format is UTF-8 throughout: a byte that is not part of valid UTF-8 (a policy's file name
 * can hold any) would make promtool and Prometheus refuse the whole text.  It is written as the
 * four characters \xNN, its backslash escaped as the format wants.
 */
void metrics_escape(struct mbuf *b, const char *s, bool label_value)
{
	size_t n = strlen(s);

	for (const char *p = s; *p;) {
		size_t k = utf8_seq((const unsigned char *)p, n - (size_t)(p - s));
		char hex[8];

		if (!k) {
			snprintf(hex, sizeof(hex), "\\\\x%02x", (unsigned char)*p);
			puts_(b, hex);
			p++;
			continue;
		}
		if (*p == '\\')
			puts_(b, "\\\\");
		else if (*p == '\n')
			puts_(b, "\\n");
		else if (*p == '"' && label_value)
			puts_(b, "\\\"");
		else
			put(b, p, k);
		p += k;
	}
}

void metrics_family(struct mbuf *b, const char *name, const char *type, const char *help)
{
	if (!metrics_valid_name(name)) {
		b->err = b->err ? b->err : -EINVAL;
		return;
	}
	puts_(b, "# HELP ");
	puts_(b, name);
	puts_(b, " ");
	metrics_escape(b, help, false);
	puts_(b, "\n# TYPE ");
	puts_(b, name);
	puts_(b, " ");
	puts_(b, type);
	puts_(b, "\n");
}

static void sample_head(struct mbuf *b, const char *name, const struct mlabel *l, size_t n)
{
	if (!metrics_valid_name(name)) {
		b->err = b->err ? b->err : -EINVAL;
		return;
	}
	puts_(b, name);
	if (!n)
		return;
	puts_(b, "{");
	for (size_t i = 0; i < n; i++) {
		if (!metrics_valid_label(l[i].name)) {
			b->err = b->err ? b->err : -EINVAL;
			return;
		}
		if (i)
			puts_(b, ",");
		puts_(b, l[i].name);
		puts_(b, "=\"");
		metrics_escape(b, l[i].value ? l[i].value : "", true);
		puts_(b, "\"");
	}
	puts_(b, "}");
}

void metrics_u64(struct mbuf *b, const char *name, const struct mlabel *l, size_t n, uint64_t v)
{
	sample_head(b, name, l, n);
	putf(b, " %llu\n", (unsigned long long)v);
}

void metrics_f64(struct mbuf *b, const char *name, const struct mlabel *l, size_t n, double v)
{
	sample_head(b, name, l, n);
	if (isnan(v))
		puts_(b, " NaN\n");
	else if (isinf(v))
		puts_(b, v > 0 ? " +Inf\n" : " -Inf\n");
	else {
		char tmp[40];

		/* The shortest of the usual precisions that reads back as the same number. */
		snprintf(tmp, sizeof(tmp), "%.15g", v);
		if (strtod(tmp, NULL) != v)
			snprintf(tmp, sizeof(tmp), "%.17g", v);
		putf(b, " %s\n", tmp);
	}
}
