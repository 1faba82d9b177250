// SPDX-License-Identifier: GPL-2.0-only
/* The policy tokenizer: words, strings, punctuation and line ends, with exact columns. */
#include <stdio.h>
#include <string.h>

#include "policy_lex.h"

void pol_lex_init(struct lexer *lx, struct diag *d, const char *file, const char *text, size_t len)
{
	memset(lx, 0, sizeof(*lx));
	lx->cur = text;
	lx->end = text + len;
	lx->bol = text;
	lx->file = file;
	lx->line = 1;
	lx->d = d;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

static bool word_char(char c)
{
	return name_char(c) || (c && strchr(".:/*@$-", c));
}

static struct srcloc loc_at(const struct lexer *lx, const char *p, size_t len)
{
	return (struct srcloc){ .file = lx->file,
				.line = lx->line,
				.col = (unsigned)(p - lx->bol) + 1,
				.len = len ? (unsigned)len : 1 };
}

/* The characters people type out of habit from other languages get a hint of their own. */
static void bad_char(struct lexer *lx, const char *p)
{
	unsigned char c = (unsigned char)*p;
	struct srcloc loc = loc_at(lx, p, 1);

	if (lx->quiet)
		return;
	if (c == '\'')
		diag_error(lx->d, loc, "unexpected character \"'\"");
	else if (c >= 0x20 && c < 0x7f)
		diag_error(lx->d, loc, "unexpected character '%c'", c);
	else
		diag_error(lx->d, loc, "unexpected byte 0x%02x", c);
	if (c == ';')
		diag_hint(lx->d, "a statement ends at the end of its line; no ';' is needed");
	else if (c == '\'')
		diag_hint(lx->d, "strings are written in double quotes");
	else if (c == '[' || c == ']')
		diag_hint(lx->d, "write IPv6 addresses without brackets, like fd00::1");
	else if (c >= 0x80)
		diag_hint(lx->d, "only comments and strings may contain non-ASCII text");
}

/* A string ends at its closing quote on the same line; escapes are checked on expansion. */
static void lex_string(struct lexer *lx, struct token *t)
{
	const char *p = lx->cur + 1;

	while (p < lx->end && *p != '"' && *p != '\n') {
		if (*p == '\\' && p + 1 < lx->end && p[1] != '\n')
			p++;
		p++;
	}
	if (p < lx->end && *p == '"') {
		t->kind = T_STRING;
		t->len = (size_t)(p + 1 - lx->cur);
		t->loc = loc_at(lx, lx->cur, t->len);
		lx->cur = p + 1;
		return;
	}
	t->kind = T_ERROR;
	t->len = (size_t)(p - lx->cur);
	t->loc = loc_at(lx, lx->cur, t->len);
	if (!lx->quiet) {
		diag_error(lx->d, t->loc, "unterminated string");
		diag_hint(lx->d, "close it with '\"' on the same line");
	}
	lx->cur = p;
}

static void lex_word(struct lexer *lx, struct token *t)
{
	const char *p = lx->cur;

	while (p < lx->end && word_char(*p)) {
		/* ${name} is part of the word although braces delimit lists elsewhere. */
		if (p[0] == '$' && p + 1 < lx->end && p[1] == '{') {
			p += 2;
			while (p < lx->end && name_char(*p))
				p++;
			if (p < lx->end && *p == '}')
				p++;
			continue;
		}
		p++;
	}
	t->kind = T_WORD;
	t->len = (size_t)(p - lx->cur);
	t->loc = loc_at(lx, lx->cur, t->len);
	lx->cur = p;
}

void pol_lex_next(struct lexer *lx, struct token *t)
{
	static const char punct[] = "{},=";
	static const enum tok_kind pkind[] = { T_LBRACE, T_RBRACE, T_COMMA, T_EQ };
	const char *pc;

	while (lx->cur < lx->end && (*lx->cur == ' ' || *lx->cur == '\t' || *lx->cur == '\r'))
		lx->cur++;
	if (lx->cur < lx->end && *lx->cur == '#') {
		while (lx->cur < lx->end && *lx->cur != '\n')
			lx->cur++;
	}
	t->p = lx->cur;
	t->len = 0;
	if (lx->cur >= lx->end) {
		t->kind = T_EOF;
		t->loc = loc_at(lx, lx->cur, 1);
		return;
	}
	if (*lx->cur == '\n') {
		t->kind = T_NL;
		t->len = 1;
		t->loc = loc_at(lx, lx->cur, 1);
		lx->cur++;
		lx->line++;
		lx->bol = lx->cur;
		return;
	}
	if (*lx->cur == '"') {
		lex_string(lx, t);
		return;
	}
	if (word_char(*lx->cur)) {
		lex_word(lx, t);
		return;
	}
	pc = *lx->cur ? strchr(punct, *lx->cur) : NULL;
	if (pc) {
		t->kind = pkind[pc - punct];
		t->len = 1;
		t->loc = loc_at(lx, lx->cur, 1);
		lx->cur++;
		return;
	}
	bad_char(lx, lx->cur);
	t->kind = T_ERROR;
	t->len = 1;
	t->loc = loc_at(lx, lx->cur, 1);
	lx->cur++;
}

void pol_lex_peek(const struct lexer *lx, struct token *t)
{
	struct lexer copy = *lx;

	copy.quiet = true;
	pol_lex_next(&copy, t);
}

const char *pol_tok_desc(const struct token *t, char *buf, size_t sz)
{
	switch (t->kind) {
	case T_EOF:
		return "end of file";
	case T_NL:
		return "end of line";
	case T_WORD:
		if (t->len > 40)
			snprintf(buf, sz, "'%.37s...'", t->p);
		else
			snprintf(buf, sz, "'%.*s'", (int)t->len, t->p);
		return buf;
	case T_STRING:
		if (t->len > 40)
			snprintf(buf, sz, "string %.37s...", t->p);
		else
			snprintf(buf, sz, "string %.*s", (int)t->len, t->p);
		return buf;
	case T_LBRACE:
		return "'{'";
	case T_RBRACE:
		return "'}'";
	case T_COMMA:
		return "','";
	case T_EQ:
		return "'='";
	default:
		return "an invalid token";
	}
}
