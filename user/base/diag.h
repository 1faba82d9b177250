/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Compiler-style diagnostics for policy and tag files: every message is collected with its
 * location, then printed at once as
 *
 *   file:line:col: error: message
 *   <the source line>
 *         ^~~~
 *   hint: did you mean 'tcp'?
 *
 * The diag keeps a copy of every source it has seen so that the caret line can be printed after
 * the parser has gone.
 */
#ifndef AMLG_BASE_DIAG_H
#define AMLG_BASE_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct srcloc {
	const char *file; /* interned by the diag (diag_add_source); NULL = no location */
	unsigned line; /* 1-based; 0 = whole file */
	unsigned col; /* 1-based byte column */
	unsigned len; /* bytes underlined, >= 1 */
};

enum diag_level { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE };

struct diag_msg {
	enum diag_level level;
	struct srcloc loc;
	char *msg;
	char *hint; /* optional second line, e.g. "did you mean 'tcp'?" */
};

struct diag_source {
	char *name;
	char *text; /* NUL-terminated */
	size_t len;
	size_t *line_at; /* offset of each line's start, built once: printing stays linear */
	size_t nlines;
	bool opaque; /* not shown: see diag_set_opaque() */
	char *what; /* why, in the one message printed instead */
};

/*
 * Messages kept, and printed, at most; the others are counted ("and 12345 more errors"): a
 * file of a million bad lines must not take minutes, or gigabytes, to be refused.
 */
#define DIAG_MAX_MSGS 50

struct diag {
	struct diag_msg *msgs;
	size_t n, cap;
	size_t nerrors, nwarnings;
	size_t dropped_errors, dropped_warnings;
	bool last_dropped; /* the last message was not kept: a hint for it goes too */
	struct diag_source *src;
	size_t nsrc;
};

void diag_init(struct diag *d);
void diag_free(struct diag *d);
/* Keep a copy of a source's text; returns the interned name, valid until diag_free(). */
const char *diag_add_source(struct diag *d, const char *name, const char *text, size_t len);
/* Intern a name without text (a file that could not be read, for instance). */
const char *diag_intern(struct diag *d, const char *name);

/*
 * A source that does not look like the kind of file expected (a policy not named *.policy):
 * none of its lines, and none of the messages about it (which quote its words), are printed;
 * its first error becomes "FILE:LINE: error: not a policy file: its lines are not shown".
 * A file given by mistake (--var site=/etc/shadow) is refused without being displayed.
 */
void diag_set_opaque(struct diag *d, const char *name, const char *what);

void diag_error(struct diag *d, struct srcloc loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void diag_warning(struct diag *d, struct srcloc loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void diag_note(struct diag *d, struct srcloc loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Attach a hint to the last message. */
void diag_hint(struct diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Print every message in order, with source line and caret; then "and N more errors" for the
 * ones not kept.  Warnings and notes only when the log level lets warnings through (-q: not).
 */
void diag_print(const struct diag *d, FILE *f);
/* The messages as a JSON array string (jansson), caller frees. */
char *diag_json(const struct diag *d);
static inline bool diag_failed(const struct diag *d)
{
	return d->nerrors > 0;
}

/*
 * The nearest of the candidates to word (case-insensitive Damerau-Levenshtein), or NULL when
 * none is close enough to be a plausible typo.
 */
const char *diag_suggest(const char *word, const char *const *cands, size_t n);
size_t diag_edit_distance(const char *a, const char *b);

#endif
