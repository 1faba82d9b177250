// SPDX-License-Identifier: GPL-2.0-only
/*
 * The statement parser: tokens with their variables expanded, { } lists, error recovery, and the
 * statements other than allow and noflow (mode, platform, define, set, include, tags).  Each statement is one
 * line (a { } list may span lines).  A statement with an error is skipped to its end and the next
 * one parsed, so that one run reports every mistake.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* asprintf */
#endif
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/amlguard_abi.h"
#include "policy_int.h"

const char *const policy_statements[] = {
	"allow",    "define", "set",	  "include", "tags", "mode",
	"platform", "noflow", "resolver", "dns",     "sni",  NULL,
};
static const char *const modes[] = { "audit", "enforce" };
static const char *const switches[] = { "on", "off" };

int pol_lookup(const char *w, const char *const *table, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(w, table[i]))
			return (int)i;
	return -1;
}

static bool statement_word(const struct token *t)
{
	for (size_t i = 0; policy_statements[i]; i++)
		if (t->kind == T_WORD && strlen(policy_statements[i]) == t->len &&
		    !memcmp(policy_statements[i], t->p, t->len))
			return true;
	return false;
}

/* ---- tokens ---------------------------------------------------------------------------------- */

static void advance_raw(struct pctx *c)
{
	free(c->text);
	c->text = NULL;
	c->vars = false;
	c->prev = c->tok;
	pol_lex_next(&c->lx, &c->tok);
}

/* Next token, with its variables expanded (an expansion error is reported and leaves text NULL). */
int pol_advance(struct pctx *c)
{
	int err;

	advance_raw(c);
	if (c->tok.kind != T_WORD && c->tok.kind != T_STRING)
		return 0;
	err = pol_var_expand(c->p, &c->tok, &c->text, &c->vars);
	return err == -ENOMEM ? err : 0;
}

bool pol_at_end(const struct pctx *c)
{
	return c->tok.kind == T_NL || c->tok.kind == T_EOF;
}

bool pol_is_word(const struct pctx *c, const char *w)
{
	return c->tok.kind == T_WORD && c->text && !strcmp(c->text, w);
}

/* A token the lexer or the variable expansion already reported: say nothing more about it. */
bool pol_tok_reported(const struct pctx *c)
{
	return c->tok.kind == T_ERROR ||
	       ((c->tok.kind == T_WORD || c->tok.kind == T_STRING) && !c->text);
}

/* Just past the previous token: where something missing at the end of a line should go. */
static struct srcloc end_loc(const struct pctx *c)
{
	struct srcloc loc = c->prev.loc;

	loc.col += c->prev.len;
	loc.len = 1;
	return loc;
}

/*
 * Report that `what` was expected, with an optional hint.  Returns -EINVAL.  A token that could
 * not be lexed or expanded was reported already and adds nothing.
 */
int pol_expected(struct pctx *c, const char *what, const char *hint)
{
	char buf[64];

	if (pol_tok_reported(c))
		return -EINVAL;
	if (pol_at_end(c))
		diag_error(c->p->d, end_loc(c), "expected %s after '%.*s'", what, (int)c->prev.len,
			   c->prev.p);
	else
		diag_error(c->p->d, c->tok.loc, "expected %s, got %s", what,
			   pol_tok_desc(&c->tok, buf, sizeof(buf)));
	if (hint)
		diag_hint(c->p->d, "%s", hint);
	return -EINVAL;
}

int pol_expect_end(struct pctx *c)
{
	char buf[64];

	if (pol_at_end(c))
		return 0;
	if (pol_tok_reported(c))
		return -EINVAL;
	diag_error(c->p->d, c->tok.loc, "unexpected %s at the end of the statement",
		   pol_tok_desc(&c->tok, buf, sizeof(buf)));
	return -EINVAL;
}

void pol_hint_suggest(struct pctx *c, const char *w, const char *const *t, size_t n,
		      const char *otherwise)
{
	const char *s = diag_suggest(w, t, n);

	if (s)
		diag_hint(c->p->d, "did you mean '%s'?", s);
	else if (otherwise)
		diag_hint(c->p->d, "%s", otherwise);
}

/*
 * After an error: skip to the end of the statement.  Inside a { } list that means past its '}',
 * unless a line starting with a statement keyword shows that the '}' is missing.
 */
static void skip_statement(struct pctx *c)
{
	unsigned depth = c->braces;
	struct token next;

	c->lx.quiet = true;
	while (c->tok.kind != T_EOF) {
		if (c->tok.kind == T_NL) {
			if (!depth)
				break;
			pol_lex_peek(&c->lx, &next);
			if (next.kind == T_EOF || statement_word(&next))
				break;
		}
		if (c->tok.kind == T_LBRACE)
			depth++;
		else if (c->tok.kind == T_RBRACE && depth)
			depth--;
		pol_var_mark_refs(c->p, &c->tok);
		advance_raw(c);
	}
	c->lx.quiet = false;
	c->braces = 0;
}

/* ---- lists ----------------------------------------------------------------------------------- */

/* Newlines inside { } are blanks, unless the list runs into the next statement. */
static int list_newlines(struct pctx *c, struct srcloc open)
{
	struct token next;
	int err;

	for (;;) {
		if (c->tok.kind == T_NL) {
			pol_lex_peek(&c->lx, &next);
			if (next.kind != T_EOF && !statement_word(&next)) {
				err = pol_advance(c);
				if (err)
					return err;
				continue;
			}
		} else if (c->tok.kind != T_EOF) {
			return 0;
		}
		diag_error(c->p->d, open, "'{' is not closed");
		diag_hint(c->p->d, "end the list with '}' before the next statement");
		c->braces = 0;
		return -EINVAL;
	}
}

/* { item, item, ... } with newlines and a trailing comma allowed. */
int pol_parse_list(struct pctx *c, pol_item_fn fn, void *arg, const char *what, bool allow_empty)
{
	struct srcloc open = c->tok.loc;
	size_t n = 0;
	char buf[64];
	int err;

	c->braces++;
	err = pol_advance(c);
	for (;;) {
		err = err ? err : list_newlines(c, open);
		if (err)
			return err;
		if (c->tok.kind == T_RBRACE)
			break;
		if (c->tok.kind != T_WORD)
			return pol_expected(c, what, NULL);
		/* An item whose variable is undefined was reported; the others are still checked. */
		err = c->text ? fn(c, arg) : -EINVAL;
		if (err == -ENOMEM)
			return err;
		c->failed |= err != 0;
		n++;
		err = pol_advance(c);
		err = err ? err : list_newlines(c, open);
		if (err)
			return err;
		if (c->tok.kind == T_COMMA) {
			err = pol_advance(c);
			continue;
		}
		if (c->tok.kind == T_RBRACE)
			break;
		if (pol_tok_reported(c))
			return -EINVAL;
		diag_error(c->p->d, c->tok.loc, "expected ',' or '}', got %s",
			   pol_tok_desc(&c->tok, buf, sizeof(buf)));
		diag_hint(c->p->d, "separate the items of a list with ','");
		return -EINVAL;
	}
	if (!n && !allow_empty) {
		struct srcloc loc = open;

		loc.len = c->tok.loc.line == open.line ? c->tok.loc.col - open.col + 1 : 1;
		diag_error(c->p->d, loc, "empty list");
		diag_hint(c->p->d, "a list needs at least one item");
		c->failed = true;
	}
	c->braces--;
	return pol_advance(c);
}

/* ---- other statements ------------------------------------------------------------------------ */

/* mode audit|enforce, platform on|off: one of two words, once across all files. */
static int parse_choice(struct pctx *c, const char *const vals[2], const char *noun, int *idx,
			bool *set, struct srcloc *where)
{
	struct srcloc kw = c->tok.loc;
	char what[64];
	int err, i;

	snprintf(what, sizeof(what), "'%s' or '%s'", vals[0], vals[1]);
	err = pol_advance(c);
	if (err)
		return err;
	if (c->tok.kind != T_WORD || !c->text)
		return pol_expected(c, what, NULL);
	i = pol_lookup(c->text, vals, 2);
	if (i < 0) {
		char otherwise[128];

		snprintf(otherwise, sizeof(otherwise), "the %s is %s", noun, what);
		diag_error(c->p->d, c->tok.loc, "unknown %s '%s'", noun, c->text);
		pol_hint_suggest(c, c->text, vals, 2, otherwise);
		return -EINVAL;
	}
	if (*set) {
		diag_error(c->p->d, kw, "'%.*s' is already set", (int)c->prev.len, c->prev.p);
		diag_hint(c->p->d, "'%.*s' may appear once across the policy and its includes",
			  (int)c->prev.len, c->prev.p);
		diag_note(c->p->d, *where, "first set here");
		c->failed = true;
	} else {
		*idx = i;
		*set = true;
		*where = kw;
	}
	err = pol_advance(c);
	return err ? err : pol_expect_end(c);
}

static int parse_mode(struct pctx *c)
{
	struct policy *pol = c->p->pol;
	int i = 0, err;

	err = parse_choice(c, modes, "mode", &i, &pol->mode_set, &pol->mode_loc);
	if (!err && !c->failed)
		pol->mode = i == 0 ? AMLG_MODE_AUDIT : AMLG_MODE_ENFORCE;
	return err;
}

static int parse_platform(struct pctx *c, bool *set)
{
	struct policy *pol = c->p->pol;
	int i = 0, err;

	err = parse_choice(c, switches, "platform setting", &i, set, &pol->platform_loc);
	if (!err && !c->failed)
		pol->platform = i == 0;
	return err;
}

/* The name after define or set: literal, never expanded. */
static int parse_name(struct pctx *c, const char *kw, char sigil,
		      bool (*valid)(const char *, size_t), const char *rules)
{
	advance_raw(c);
	if (c->tok.kind != T_WORD)
		return pol_expected(c, "a name", NULL);
	if (c->tok.p[0] == sigil) {
		diag_error(c->p->d, c->tok.loc, "write the name without '%c' in a %s", sigil, kw);
		diag_hint(c->p->d, "%s %.*s = ...", kw, (int)c->tok.len - 1, c->tok.p + 1);
		return -EINVAL;
	}
	if (!valid(c->tok.p, c->tok.len)) {
		diag_error(c->p->d, c->tok.loc, "invalid %s name '%.*s'",
			   !strcmp(kw, "set") ? "set" : "variable", (int)c->tok.len, c->tok.p);
		diag_hint(c->p->d, "%s", rules);
		return -EINVAL;
	}
	return 0;
}

static bool valid_set_name(const char *s, size_t len)
{
	if (!len || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

/*
 * "KW NAME": the name checked as parse_name() does, copied to *name (the caller frees it) with
 * its place in *loc; the current token stays the name.
 */
static int parse_head(struct pctx *c, const char *kw, char sigil,
		      bool (*valid)(const char *, size_t), const char *rules, char **name,
		      struct srcloc *loc)
{
	int err = parse_name(c, kw, sigil, valid, rules);

	if (err)
		return err;
	*loc = c->tok.loc;
	*name = strndup(c->tok.p, c->tok.len);
	return *name ? 0 : -ENOMEM;
}

/* After "KW NAME": the '=' (a hint shows "KW NAME = RHS"), and the token after it. */
static int expect_equals(struct pctx *c, const char *kw, const char *name, const char *rhs)
{
	int err = pol_advance(c);

	if (!err && c->tok.kind != T_EQ) {
		char hint[160];

		snprintf(hint, sizeof(hint), "%s %s = %s", kw, name, rhs);
		err = pol_expected(c, "'='", hint);
	}
	return err ? err : pol_advance(c);
}

/* define NAME = VALUE */
static int parse_define(struct pctx *c)
{
	char *name, *value = NULL;
	struct srcloc loc;
	int err, e;

	err = parse_head(c, "define", '$', pol_valid_var_name,
			 "a variable name is letters, digits and '_', not starting with a digit",
			 &name, &loc);
	if (err)
		return err;
	err = expect_equals(c, "define", name, "VALUE");
	if (!err && ((c->tok.kind != T_WORD && c->tok.kind != T_STRING) || !c->text))
		err = pol_expected(c, "a value (a word or a \"string\")", NULL);
	if (!err) {
		value = strdup(c->text);
		err = value ? pol_advance(c) : -ENOMEM;
	}
	err = err ? err : pol_expect_end(c);
	/*
	 * A broken define still defines the name, without a value, so that its uses do not add
	 * "undefined variable" errors to the one already reported.
	 */
	if (err != -ENOMEM) {
		e = pol_var_define(c->p, name, loc, err ? NULL : value);
		err = e == -ENOMEM ? e : err;
	}
	free(value);
	free(name);
	return err;
}

/* set NAME = ENDPOINTS */
static int parse_set(struct pctx *c)
{
	struct ep_buf b = { 0 };
	struct srcloc loc;
	struct pset *old;
	char *name;
	int err;

	err = parse_head(
		c, "set", '@', valid_set_name,
		"a set name is letters, digits, '_' and '-', starting with a letter or '_'", &name,
		&loc);
	if (err)
		return err;
	old = pol_set_find(c->p, name);
	if (old) {
		diag_error(c->p->d, loc, "set '%s' is already defined", name);
		diag_note(c->p->d, old->loc, "'%s' was first defined here", name);
		c->failed = true;
	}
	err = expect_equals(c, "set", name, "{ ENDPOINT, ... }");
	c->defining = name;
	err = err ? err : pol_parse_endpoints(c, &b, true);
	c->defining = NULL;
	err = err ? err : pol_expect_end(c);
	/*
	 * Keep a set even with a bad item or a syntax error, so that its uses do not add
	 * "undefined set" errors to the one already reported.
	 */
	if (err != -ENOMEM && !old) {
		int e = pol_set_add(c->p, name, loc, &b);

		err = e ? e : err;
	}
	pol_ep_buf_free(&b);
	free(name);
	return err;
}

/* Join a path to the directory of the file that names it. */
static char *resolve(const char *dir, const char *path)
{
	char *s;

	if (path[0] == '/' || !dir[0])
		return strdup(path);
	if (asprintf(&s, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", path) < 0)
		return NULL;
	return s;
}

/* include "FILE", tags "FILE": a quoted file name and nothing after it. */
static int parse_file_arg(struct pctx *c, const char *kw, char **path, struct srcloc *loc)
{
	int err;

	*path = NULL;
	err = pol_advance(c);
	if (err)
		return err;
	if (c->tok.kind != T_STRING || !c->text) {
		char hint[160];

		snprintf(hint, sizeof(hint), "%s \"%s\"", kw,
			 c->tok.kind == T_WORD && c->text ? c->text : "FILE");
		return pol_expected(c, "a quoted file name", hint);
	}
	*loc = c->tok.loc;
	if (!c->text[0]) {
		diag_error(c->p->d, *loc, "empty file name");
		return -EINVAL;
	}
	*path = resolve(c->dir, c->text);
	if (!*path)
		return -ENOMEM;
	err = pol_advance(c);
	err = err ? err : pol_expect_end(c);
	if (err) {
		free(*path);
		*path = NULL;
	}
	return err;
}

static int parse_include_stmt(struct pctx *c)
{
	struct srcloc loc;
	char *path;
	int err;

	err = parse_file_arg(c, "include", &path, &loc);
	if (err) {
		/* Its variables and sets are missing: later errors may only be consequences. */
		c->p->incomplete = true;
		return err;
	}
	err = pol_parse_include(c->p, path, loc);
	free(path);
	return err;
}

static int parse_tags(struct pctx *c)
{
	struct policy *pol = c->p->pol;
	struct srcloc kw = c->tok.loc, loc;
	char *path;
	int err;

	err = parse_file_arg(c, "tags", &path, &loc);
	if (err)
		return err;
	if (pol->tags_path) {
		diag_error(c->p->d, kw, "'tags' is already set");
		diag_hint(c->p->d, "'tags' may appear once across the policy and its includes");
		diag_note(c->p->d, pol->tags_loc, "first set here");
		free(path);
		return 0;
	}
	pol->tags_path = path;
	pol->tags_loc = loc;
	return 0;
}

static void unknown_statement(struct pctx *c)
{
	static const char *const negatives[] = { "deny", "drop", "block", "reject" };
	const char *w = c->text;

	diag_error(c->p->d, c->tok.loc, "unknown statement '%s'", w);
	if (pol_lookup(w, negatives, ARRAY_SIZE(negatives)) >= 0)
		diag_hint(c->p->d, "a policy lists only what is allowed; everything else is a "
				   "violation (reported in audit mode, dropped in enforce mode)");
	else
		pol_hint_suggest(c, w, policy_statements, ARRAY_SIZE(policy_statements) - 1,
				 "the statements are allow, define, set, include, tags, mode, "
				 "platform, noflow, resolver, dns and sni");
}

static int parse_statement(struct pctx *c, bool *platform_set)
{
	const char *w;

	if (c->tok.kind != T_WORD || !c->text)
		return pol_expected(c, "a statement", NULL);
	w = c->text;
	if (!strcmp(w, "allow"))
		return pol_parse_allow(c);
	if (!strcmp(w, "define"))
		return parse_define(c);
	if (!strcmp(w, "set"))
		return parse_set(c);
	if (!strcmp(w, "include"))
		return parse_include_stmt(c);
	if (!strcmp(w, "tags"))
		return parse_tags(c);
	if (!strcmp(w, "mode"))
		return parse_mode(c);
	if (!strcmp(w, "platform"))
		return parse_platform(c, platform_set);
	if (!strcmp(w, "noflow"))
		return pol_parse_noflow(c);
	if (!strcmp(w, "resolver"))
		return pol_parse_resolver(c);
	if (!strcmp(w, "dns"))
		return pol_parse_dns(c);
	if (!strcmp(w, "sni"))
		return pol_parse_sni(c);
	unknown_statement(c);
	return -EINVAL;
}

int pol_parse_text(struct parser *p, const char *file, const char *text, size_t len,
		   const char *dir)
{
	struct pctx c = { .p = p, .dir = dir };
	size_t nerrors;
	int err;

	pol_lex_init(&c.lx, p->d, file, text, len);
	/* Counted before the statement's first token is lexed: that token may be the bad one. */
	nerrors = p->d->nerrors + p->suppressed;
	err = pol_advance(&c);
	while (!err && c.tok.kind != T_EOF) {
		struct srcloc start = c.tok.loc;

		if (c.tok.kind == T_NL) {
			nerrors = p->d->nerrors + p->suppressed;
			err = pol_advance(&c);
			continue;
		}
		c.failed = false;
		c.braces = 0;
		err = parse_statement(&c, &p->platform_set);
		if (err == -ENOMEM)
			break;
		/* A statement is never dropped in silence: that would load a policy without it. */
		if ((err || c.failed) && p->d->nerrors + p->suppressed == nerrors)
			diag_error(p->d, start, "invalid statement");
		if (err)
			skip_statement(&c);
		err = 0;
	}
	free(c.text);
	return err;
}
