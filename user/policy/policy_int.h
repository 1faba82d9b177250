/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Parser state shared by the policy_*.c files (tokens, variables, endpoints, statements, files).
 * Not part of the library's interface.
 */
#ifndef AMLG_POLICY_POLICY_INT_H
#define AMLG_POLICY_POLICY_INT_H

#include <stdbool.h>
#include <sys/types.h>

#include "policy/policy.h"
#include "policy_lex.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define POLICY_INCLUDE_MAX 16 /* nested includes below the top file */
#define POLICY_FLOW_MAX 47 /* AMLG_FLOW_MAX less the NUL */
#define POLICY_FILE_MAX (16u << 20) /* no policy is this large; a mistyped path might be */
/*
 * Expansion limits: a variable holding its own value twice, redefined line after line, doubles
 * with every line (and a set listing another twice): 30 lines would take gigabytes.
 */
#define POLICY_VAR_VALUE_MAX 65536u /* bytes of a variable's (or a word's) expanded value */
#define POLICY_LIST_MAX 65536u /* endpoints in one list or set, sets expanded */
#define POLICY_SET_DEPTH_MAX 16u /* sets made of sets made of sets ... */

/* A growing list of endpoint items, moved into a struct endpoint when complete. */
struct ep_buf {
	struct ep_item *v;
	size_t n, cap;
	unsigned depth; /* of the deepest set used in it, 0 when none */
};

struct pset {
	char *name;
	struct srcloc loc; /* the name in the set statement */
	struct ep_item *items;
	size_t n;
	unsigned depth; /* 1 + the depth of the sets it uses */
};

/* A file being read, for include-cycle detection. */
struct pfile {
	const char *name; /* interned */
	dev_t dev;
	ino_t ino;
	bool real; /* false for policy_parse_string's text */
};

struct parser {
	struct policy *pol;
	struct diag *d;
	struct pset *sets;
	size_t nsets;
	struct pfile stack[POLICY_INCLUDE_MAX + 1];
	unsigned depth;
	void *sha; /* EVP_MD_CTX over every file's content in read order */
	bool incomplete; /* some include was not read: "unused --var" would be a guess */
	bool platform_set;
	size_t suppressed; /* uses of a broken define: failures that add no error of their own */
};

/* One file being parsed. */
struct pctx {
	struct parser *p;
	const char *dir; /* includes and tags resolve against it; "" = cwd */
	struct lexer lx;
	struct token tok; /* the current token */
	struct token prev; /* the one before, to point at "the end of the line so far" */
	char *text; /* tok with variables expanded (words and strings); NULL if that failed */
	bool vars; /* text came partly from variables: its columns no longer match the source */
	unsigned braces; /* open { of the current statement */
	bool failed; /* the statement had an error but was parsed to its end */
	const char *defining; /* the set being defined, to catch self-reference */
};

/* policy_vars.c */
bool pol_valid_var_name(const char *s, size_t len);
int pol_vars_init(struct parser *p, const struct var_def *vars, size_t n);
int pol_var_expand(struct parser *p, const struct token *t, char **out, bool *had_vars);
void pol_var_mark_refs(struct parser *p, const struct token *t);
int pol_var_define(struct parser *p, const char *name, struct srcloc loc, const char *value);
void pol_vars_check_unused(struct parser *p);
void pol_vars_free(struct policy_var *v, size_t n);

/* policy_endpoint.c */
int pol_ep_parse_item(struct pctx *c, struct ep_buf *b);
struct pset *pol_set_find(struct parser *p, const char *name);
int pol_set_add(struct parser *p, const char *name, struct srcloc loc, struct ep_buf *items);
void pol_sets_free(struct parser *p);
void pol_ep_buf_free(struct ep_buf *b);
void pol_ep_items_free(struct ep_item *v, size_t n);

/* policy_parse.c: tokens and lists, for the statements in the other files */
int pol_lookup(const char *w, const char *const *table, size_t n);
/* The next token, its variables expanded into c->text (NULL when that failed and was reported). */
int pol_advance(struct pctx *c);
bool pol_at_end(const struct pctx *c);
bool pol_is_word(const struct pctx *c, const char *w);
bool pol_tok_reported(const struct pctx *c);
int pol_expected(struct pctx *c, const char *what, const char *hint);
int pol_expect_end(struct pctx *c);
void pol_hint_suggest(struct pctx *c, const char *w, const char *const *t, size_t n,
		      const char *otherwise);
/* An item of a { } list: the current token, not consumed; 0, -EINVAL (reported) or -ENOMEM. */
typedef int (*pol_item_fn)(struct pctx *c, void *arg);
int pol_parse_list(struct pctx *c, pol_item_fn fn, void *arg, const char *what, bool allow_empty);
int pol_parse_text(struct parser *p, const char *file, const char *text, size_t len,
		   const char *dir);

/* policy_rule.c */
int pol_parse_endpoints(struct pctx *c, struct ep_buf *b, bool allow_empty);
int pol_parse_allow(struct pctx *c);
/* The current token as a flow ID into r->flow and r->flow_loc (checked, reported). */
int pol_parse_flow(struct pctx *c, struct rule *r);

/* policy_noflow.c */
int pol_parse_noflow(struct pctx *c);
/* After the whole policy: a flow ID both declared noflow and used by a rule is an error. */
void pol_noflow_check(struct parser *p);
void pol_noflows_free(struct noflow *v, size_t n);

/* policy_dns.c: resolver, dns ttl-floor|grace, sni */
int pol_parse_resolver(struct pctx *c);
int pol_parse_dns(struct pctx *c);
int pol_parse_sni(struct pctx *c);

/* policy_load.c */
int pol_parse_include(struct parser *p, const char *path, struct srcloc loc);

#endif
