/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The policy tokenizer.  Tokens point into the source text; variables are left unexpanded (the
 * parser expands them when it uses a token, so that a define takes effect on the next line).
 */
#ifndef AMLG_POLICY_POLICY_LEX_H
#define AMLG_POLICY_POLICY_LEX_H

#include <stdbool.h>
#include <stddef.h>

#include "base/diag.h"

enum tok_kind {
	T_EOF,
	T_NL, /* end of a line: ends a statement unless inside { } */
	T_WORD, /* letters, digits and _ . : / * @ $ -, with ${name} kept whole */
	T_STRING, /* "..."; p and len include the quotes */
	T_LBRACE,
	T_RBRACE,
	T_COMMA,
	T_EQ,
	T_ERROR, /* already reported by the lexer */
};

struct token {
	enum tok_kind kind;
	const char *p;
	size_t len;
	struct srcloc loc;
};

struct lexer {
	const char *cur, *end;
	const char *bol; /* beginning of the current line */
	const char *file; /* interned in the diag */
	unsigned line;
	struct diag *d;
	bool quiet; /* while skipping a broken statement: report nothing more */
};

void pol_lex_init(struct lexer *lx, struct diag *d, const char *file, const char *text, size_t len);
void pol_lex_next(struct lexer *lx, struct token *t);
/* The token after the current position, without moving and without reporting. */
void pol_lex_peek(const struct lexer *lx, struct token *t);
/* Describe a token for a message: 'word', '{', end of line, ... */
const char *pol_tok_desc(const struct token *t, char *buf, size_t sz);

#endif
