// SPDX-License-Identifier: GPL-2.0-only
/*
 * Compiler-style diagnostics: messages are collected with their location and printed together, each
 * with the offending source line and a caret under the token, the way nftables' erec.c does.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* vasprintf */
#endif
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "base/json_text.h"
#include "base/log.h"
#include "base/vec.h"

void diag_init(struct diag *d)
{
	memset(d, 0, sizeof(*d));
}

void diag_free(struct diag *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->msgs[i].msg);
		free(d->msgs[i].hint);
	}
	free(d->msgs);
	for (size_t i = 0; i < d->nsrc; i++) {
		free(d->src[i].name);
		free(d->src[i].text);
		free(d->src[i].line_at);
		free(d->src[i].what);
	}
	free(d->src);
	diag_init(d);
}

static struct diag_source *find_source(const struct diag *d, const char *name)
{
	/* Locations carry interned pointers, so the pointer test almost always hits first. */
	for (size_t i = 0; i < d->nsrc; i++)
		if (d->src[i].name == name)
			return &d->src[i];
	for (size_t i = 0; i < d->nsrc; i++)
		if (!strcmp(d->src[i].name, name))
			return &d->src[i];
	return NULL;
}

static struct diag_source *add_source(struct diag *d, const char *name)
{
	struct diag_source *v, *s;

	v = realloc(d->src, (d->nsrc + 1) * sizeof(*v));
	if (!v)
		return NULL;
	d->src = v;
	s = &d->src[d->nsrc];
	memset(s, 0, sizeof(*s));
	s->name = strdup(name);
	if (!s->name)
		return NULL;
	d->nsrc++;
	return s;
}

const char *diag_add_source(struct diag *d, const char *name, const char *text, size_t len)
{
	struct diag_source *s = find_source(d, name);

	if (!s)
		s = add_source(d, name);
	if (!s)
		return NULL;
	/*
	 * A file read twice (included from two places) keeps its first text: both reads happened
	 * within one load, and locations into either copy are identical.
	 */
	if (!s->text && text) {
		s->text = malloc(len + 1);
		if (s->text) {
			memcpy(s->text, text, len);
			s->text[len] = '\0';
			s->len = len;
		}
	}
	return s->name;
}

void diag_set_opaque(struct diag *d, const char *name, const char *what)
{
	struct diag_source *s = find_source(d, name);

	if (!s)
		s = add_source(d, name);
	if (!s)
		return;
	s->opaque = true;
	free(s->what);
	s->what = strdup(what);
}

/* The start of every line, once per source. */
static void index_lines(struct diag_source *s)
{
	size_t n = 1, k = 0;

	if (s->line_at || !s->text)
		return;
	for (size_t i = 0; i < s->len; i++)
		n += s->text[i] == '\n';
	s->line_at = malloc(n * sizeof(*s->line_at));
	if (!s->line_at)
		return;
	s->line_at[k++] = 0;
	for (size_t i = 0; i < s->len; i++)
		if (s->text[i] == '\n')
			s->line_at[k++] = i + 1;
	s->nlines = n;
}

const char *diag_intern(struct diag *d, const char *name)
{
	return diag_add_source(d, name, NULL, 0);
}

static __attribute__((format(printf, 4, 0))) void
add_msg(struct diag *d, enum diag_level level, struct srcloc loc, const char *fmt, va_list ap)
{
	struct diag_msg *m;

	/* Count first: an error we cannot store must still fail the operation. */
	if (level == DIAG_ERROR)
		d->nerrors++;
	else if (level == DIAG_WARNING)
		d->nwarnings++;
	d->last_dropped = d->n >= DIAG_MAX_MSGS;
	if (d->last_dropped) {
		if (level == DIAG_ERROR)
			d->dropped_errors++;
		else if (level == DIAG_WARNING)
			d->dropped_warnings++;
		return;
	}
	if (VEC_RESERVE(d->msgs, d->n, d->cap, 16))
		return;
	m = &d->msgs[d->n++];
	memset(m, 0, sizeof(*m));
	m->level = level;
	m->loc = loc;
	if (m->loc.len == 0)
		m->loc.len = 1;
	if (vasprintf(&m->msg, fmt, ap) < 0)
		m->msg = NULL;
}

void diag_error(struct diag *d, struct srcloc loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_msg(d, DIAG_ERROR, loc, fmt, ap);
	va_end(ap);
}

void diag_warning(struct diag *d, struct srcloc loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_msg(d, DIAG_WARNING, loc, fmt, ap);
	va_end(ap);
}

void diag_note(struct diag *d, struct srcloc loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_msg(d, DIAG_NOTE, loc, fmt, ap);
	va_end(ap);
}

void diag_hint(struct diag *d, const char *fmt, ...)
{
	struct diag_msg *m;
	va_list ap;
	char *h;

	if (!d->n || d->last_dropped)
		return;
	m = &d->msgs[d->n - 1];
	va_start(ap, fmt);
	if (vasprintf(&h, fmt, ap) < 0)
		h = NULL;
	va_end(ap);
	free(m->hint);
	m->hint = h;
}

static const char *level_name(enum diag_level level)
{
	switch (level) {
	case DIAG_ERROR:
		return "error";
	case DIAG_WARNING:
		return "warning";
	default:
		return "note";
	}
}

/* Find line n (1-based) of a source; *len excludes the newline and a CR before it. */
static const char *source_line(struct diag_source *s, unsigned n, size_t *len)
{
	const char *p, *end = s->text + s->len, *nl;

	index_lines(s);
	if (!s->line_at || n < 1 || n > s->nlines)
		return NULL;
	p = s->text + s->line_at[n - 1];
	if (p == end && n > 1)
		return NULL;
	nl = memchr(p, '\n', (size_t)(end - p));
	*len = (size_t)((nl ? nl : end) - p);
	if (*len && p[*len - 1] == '\r')
		(*len)--;
	return p;
}

/* A UTF-8 continuation byte takes no column of its own on a terminal. */
static bool utf8_cont(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

/*
 * The source line and the caret line.  Bytes before the token are mirrored (a tab stays a tab) so
 * that the caret lands under the token whatever the terminal's tab width is.
 */
static void print_excerpt(const struct diag *d, const struct diag_msg *m, FILE *f)
{
	struct diag_source *s;
	const char *line;
	size_t len, start, ulen;

	if (!m->loc.file || !m->loc.line || !m->loc.col)
		return;
	s = find_source(d, m->loc.file);
	if (!s || !s->text)
		return;
	line = source_line(s, m->loc.line, &len);
	if (!line)
		return;
	fprintf(f, "%.*s\n", (int)len, line);
	start = m->loc.col - 1;
	for (size_t i = 0; i < start; i++) {
		unsigned char c = i < len ? (unsigned char)line[i] : ' ';

		if (c == '\t')
			fputc('\t', f);
		else if (!utf8_cont(c))
			fputc(' ', f);
	}
	fputc('^', f);
	ulen = m->loc.len;
	if (start + ulen > len)
		ulen = len > start ? len - start : 1;
	for (size_t i = start + 1; i < start + ulen; i++)
		if (!utf8_cont((unsigned char)line[i]))
			fputc('~', f);
	fputc('\n', f);
}

static bool shown_level(enum diag_level level)
{
	return level == DIAG_ERROR || log_get_level() >= LOGL_WARN;
}

/*
 * An opaque source's messages: only its first error, in words of our own.  Returns true when
 * m is to be printed as it is.
 */
static bool opaque_filter(const struct diag *d, const struct diag_msg *m, bool *told,
			  struct diag_msg *subst, char *buf, size_t sz)
{
	const struct diag_source *s = m->loc.file ? find_source(d, m->loc.file) : NULL;
	size_t i;

	if (!s || !s->opaque)
		return true;
	i = (size_t)(s - d->src);
	if (m->level != DIAG_ERROR || told[i]) {
		subst->msg = NULL;
		return false;
	}
	told[i] = true;
	memset(subst, 0, sizeof(*subst));
	subst->level = DIAG_ERROR;
	subst->loc = (struct srcloc){ .file = m->loc.file, .line = m->loc.line };
	snprintf(buf, sz, "%s: none of its lines are shown",
		 s->what ? s->what : "does not look like the file expected");
	subst->msg = buf;
	return false;
}

/* "  the same at t.policy:16:41, t.policy:17:45": where a collapsed error was said again. */
static void print_repeats(const struct diag *d, size_t i, FILE *f)
{
	const struct diag_msg *m = &d->msgs[i];
	size_t n = 0;

	if (m->level != DIAG_ERROR || !m->msg)
		return;
	for (size_t j = i + 1; j < d->n; j++) {
		const struct srcloc *l = &d->msgs[j].loc;

		if (d->msgs[j].level != DIAG_ERROR || !d->msgs[j].msg ||
		    strcmp(d->msgs[j].msg, m->msg))
			continue;
		if (++n > 5)
			continue;
		fprintf(f, "%s", n > 1 ? ", " : "  the same at ");
		if (l->file && l->line)
			fprintf(f, "%s:%u:%u", l->file, l->line, l->col);
		else
			fprintf(f, "%s", l->file ? l->file : "?");
	}
	if (n > 5)
		fprintf(f, " and %zu more place%s", n - 5, n - 5 == 1 ? "" : "s");
	if (n)
		fputc('\n', f);
}

static void print_msg(const struct diag *d, const struct diag_msg *m, FILE *f)
{
	const struct srcloc *l = &m->loc;

	if (l->file && l->line && l->col)
		fprintf(f, "%s:%u:%u: ", l->file, l->line, l->col);
	else if (l->file && l->line)
		fprintf(f, "%s:%u: ", l->file, l->line);
	else if (l->file)
		fprintf(f, "%s: ", l->file);
	fprintf(f, "%s: %s\n", level_name(m->level), m->msg ? m->msg : "(out of memory)");
	print_excerpt(d, m, f);
	if (m->hint)
		fprintf(f, "  hint: %s\n", m->hint);
}

/* Is m an error said before, in the same words (the same undefined variable on five lines)? */
static bool repeated_error(const struct diag *d, size_t i)
{
	const struct diag_msg *m = &d->msgs[i];

	if (m->level != DIAG_ERROR || !m->msg)
		return false;
	for (size_t j = 0; j < i; j++)
		if (d->msgs[j].level == DIAG_ERROR && d->msgs[j].msg &&
		    !strcmp(d->msgs[j].msg, m->msg))
			return true;
	return false;
}

/*
 * Calls fn for every message to show, opaque sources' replaced; false when out of memory.
 * collapse: an error said before in the same words is not said again; the first one gets a
 * note with the other places instead.
 */
static bool each_shown(const struct diag *d,
		       void (*fn)(const struct diag *, const struct diag_msg *, void *), void *arg,
		       bool collapse)
{
	bool *told = calloc(d->nsrc + 1, sizeof(*told));
	struct diag_msg subst;
	char buf[512];

	if (!told)
		return false;
	for (size_t i = 0; i < d->n; i++) {
		const struct diag_msg *m = &d->msgs[i];

		if (!shown_level(m->level) || (collapse && repeated_error(d, i)))
			continue;
		if (opaque_filter(d, m, told, &subst, buf, sizeof(buf))) {
			fn(d, m, arg);
			if (collapse)
				print_repeats(d, i, arg);
		} else if (subst.msg) {
			fn(d, &subst, arg);
		}
	}
	free(told);
	return true;
}

static void print_one(const struct diag *d, const struct diag_msg *m, void *f)
{
	print_msg(d, m, f);
}

/* "and 12 more errors", "and 1 more warning": what was counted but not kept. */
static bool more_line(const struct diag *d, char *buf, size_t sz)
{
	size_t w = log_get_level() >= LOGL_WARN ? d->dropped_warnings : 0;

	if (!d->dropped_errors && !w)
		return false;
	if (d->dropped_errors && w)
		snprintf(buf, sz, "and %zu more error%s and %zu more warning%s", d->dropped_errors,
			 d->dropped_errors == 1 ? "" : "s", w, w == 1 ? "" : "s");
	else if (w)
		snprintf(buf, sz, "and %zu more warning%s", w, w == 1 ? "" : "s");
	else
		snprintf(buf, sz, "and %zu more error%s", d->dropped_errors,
			 d->dropped_errors == 1 ? "" : "s");
	return true;
}

void diag_print(const struct diag *d, FILE *f)
{
	char more[128];

	if (!each_shown(d, print_one, f, true)) {
		for (size_t i = 0; i < d->n; i++)
			if (shown_level(d->msgs[i].level))
				print_msg(d, &d->msgs[i], f);
	}
	if (more_line(d, more, sizeof(more)))
		fprintf(f, "%s (not shown)\n", more);
}

static json_t *msg_json(const struct diag_msg *m)
{
	const struct srcloc *l = &m->loc;
	json_t *o = json_pack("{s:s, s:s?, s:I, s:I, s:s?, s:s?}", "level", level_name(m->level),
			      "file", l->file, "line", (json_int_t)l->line, "col",
			      (json_int_t)l->col, "message", m->msg, "hint", m->hint);

	/* a file name or a message that is not UTF-8: escaped, never an empty answer */
	if (!o)
		o = json_pack("{s:s, s:o, s:I, s:I, s:o, s:o}", "level", level_name(m->level),
			      "file", json_str_escaped(l->file), "line", (json_int_t)l->line, "col",
			      (json_int_t)l->col, "message", json_str_escaped(m->msg), "hint",
			      json_str_escaped(m->hint));
	return o;
}

static void json_one(const struct diag *d, const struct diag_msg *m, void *arr)
{
	json_array_append_new(arr, msg_json(m));
}

char *diag_json(const struct diag *d)
{
	json_t *arr = json_array();
	char *s = NULL, more[128];

	if (!arr)
		return NULL;
	if (!each_shown(d, json_one, arr, false))
		goto out;
	if (more_line(d, more, sizeof(more)))
		json_array_append_new(arr,
				      json_pack("{s:s, s:s, s:I, s:I}", "level", "note", "message",
						more, "errors", (json_int_t)d->dropped_errors,
						"warnings", (json_int_t)d->dropped_warnings));
	s = json_dumps(arr, JSON_COMPACT);
out:
	json_decref(arr);
	return s;
}

/* H(i + 1, j + 1): distance of a[0..i) and b[0..j); row and column 0 hold "infinity". */
#define H(i, j) h[(i)*w + (j)]

/*
 * The unrestricted Damerau-Levenshtein distance (Lowrance-Wagner): insertions, deletions,
 * substitutions and transpositions of two characters, even with edits between them, so that
 * "ca" -> "abc" is 2, not 3.  Case is ignored: keywords are lower case, and "TCP" is a typo of
 * "tcp".
 */
size_t diag_edit_distance(const char *a, const char *b)
{
	size_t m = strlen(a), n = strlen(b), w = n + 2, maxd = m + n, res;
	size_t last_row[256] = { 0 };
	size_t *h;

	if (m + 2 > SIZE_MAX / sizeof(*h) / w)
		return maxd;
	h = malloc((m + 2) * w * sizeof(*h));
	if (!h)
		return maxd;
	H(0, 0) = maxd;
	for (size_t i = 0; i <= m; i++) {
		H(i + 1, 0) = maxd;
		H(i + 1, 1) = i;
	}
	for (size_t j = 0; j <= n; j++) {
		H(0, j + 1) = maxd;
		H(1, j + 1) = j;
	}
	for (size_t i = 1; i <= m; i++) {
		unsigned char ca = (unsigned char)tolower((unsigned char)a[i - 1]);
		size_t last_col = 0;

		for (size_t j = 1; j <= n; j++) {
			unsigned char cb = (unsigned char)tolower((unsigned char)b[j - 1]);
			size_t i1 = last_row[cb], j1 = last_col, cost = ca == cb ? 0 : 1, v;

			if (!cost)
				last_col = j;
			v = H(i, j) + cost;
			if (H(i + 1, j) + 1 < v)
				v = H(i + 1, j) + 1;
			if (H(i, j + 1) + 1 < v)
				v = H(i, j + 1) + 1;
			if (H(i1, j1) + (i - i1 - 1) + 1 + (j - j1 - 1) < v)
				v = H(i1, j1) + (i - i1 - 1) + 1 + (j - j1 - 1);
			H(i + 1, j + 1) = v;
		}
		last_row[ca] = i;
	}
	res = H(m + 1, n + 1);
	free(h);
	return res;
}

#undef H

const char *diag_suggest(const char *word, const char *const *cands, size_t n)
{
	size_t limit = strlen(word) / 3, best_d = SIZE_MAX;
	const char *best = NULL;

	if (limit < 1)
		limit = 1;
	for (size_t i = 0; i < n; i++) {
		size_t dist;

		if (!cands[i] || !strcmp(word, cands[i]))
			continue;
		dist = diag_edit_distance(word, cands[i]);
		/*
		 * Strictly smaller; on a tie the one as long as the word (a mistyped character
		 * rather than one too many: EastUS3 is nearer EastUS2 than EastUS), then the one
		 * listed first.
		 */
		if (dist <= limit &&
		    (dist < best_d || (dist == best_d && strlen(cands[i]) == strlen(word) &&
				       strlen(best) != strlen(word)))) {
			best_d = dist;
			best = cands[i];
		}
	}
	return best;
}
