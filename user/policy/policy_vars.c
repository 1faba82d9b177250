// SPDX-License-Identifier: GPL-2.0-only
/*
 * Policy variables: the --var overrides, define statements, and the expansion of $name and
 * ${name} inside words and strings (which also undoes the escapes of strings).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy_int.h"

struct sbuf {
	char *s;
	size_t n, cap;
};

static int sb_add(struct sbuf *b, const char *p, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		size_t cap = (b->n + n + 1) * 2;
		char *s = realloc(b->s, cap);

		if (!s)
			return -ENOMEM;
		b->s = s;
		b->cap = cap;
	}
	memcpy(b->s + b->n, p, n);
	b->n += n;
	b->s[b->n] = '\0';
	return 0;
}

static bool name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool name_char(char c)
{
	return name_start(c) || (c >= '0' && c <= '9');
}

bool pol_valid_var_name(const char *s, size_t len)
{
	if (!len || !name_start(s[0]))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!name_char(s[i]))
			return false;
	return true;
}

static struct policy_var *var_find(struct policy *pol, const char *name, size_t len)
{
	for (size_t i = 0; i < pol->nvars; i++)
		if (strlen(pol->vars[i].name) == len && !memcmp(pol->vars[i].name, name, len))
			return &pol->vars[i];
	return NULL;
}

static struct policy_var *var_add(struct policy *pol, const char *name, size_t len,
				  const char *value)
{
	struct policy_var *v = realloc(pol->vars, (pol->nvars + 1) * sizeof(*v));

	if (!v)
		return NULL;
	pol->vars = v;
	v = &pol->vars[pol->nvars];
	memset(v, 0, sizeof(*v));
	v->name = strndup(name, len);
	v->value = value ? strdup(value) : NULL;
	if (!v->name || (value && !v->value)) {
		free(v->name);
		free(v->value);
		return NULL;
	}
	pol->nvars++;
	return v;
}

void pol_vars_free(struct policy_var *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].value);
	}
	free(v);
}

int pol_vars_init(struct parser *p, const struct var_def *vars, size_t n)
{
	const struct srcloc none = { 0 };
	struct policy_var *v;

	for (size_t i = 0; i < n; i++) {
		const char *name = vars[i].name ? vars[i].name : "";

		if (!pol_valid_var_name(name, strlen(name))) {
			diag_error(p->d, none, "invalid --var name '%s'", name);
			diag_hint(p->d, "a variable name is letters, digits and '_', not starting "
					"with a digit");
			continue;
		}
		if (var_find(p->pol, name, strlen(name))) {
			diag_error(p->d, none, "--var '%s' is given more than once", name);
			continue;
		}
		v = var_add(p->pol, name, strlen(name), vars[i].value ? vars[i].value : "");
		if (!v)
			return -ENOMEM;
		v->from_cli = true;
	}
	return 0;
}

/* Names that have a value, for "did you mean". */
static const char *suggest_var(struct parser *p, const char *word, bool defined_only)
{
	const char **names = calloc(p->pol->nvars + 1, sizeof(*names));
	const char *s;
	size_t n = 0;

	if (!names)
		return NULL;
	for (size_t i = 0; i < p->pol->nvars; i++) {
		const struct policy_var *v = &p->pol->vars[i];

		if (v->value && (!defined_only || v->loc.file))
			names[n++] = v->name;
	}
	s = diag_suggest(word, names, n);
	free(names);
	return s;
}

static void mark_used(struct policy_var *v, struct srcloc loc)
{
	if (!v->used)
		v->use_loc = loc;
	v->used = true;
}

/*
 * A reference at *q: $name or ${name}.  On success its value is appended and *q moves past it.
 * loc is the '$'.
 */
static int expand_ref(struct parser *p, const char **q, const char *e, struct srcloc loc,
		      struct sbuf *b)
{
	const char *n = *q + 1, *ne;
	bool braced = n < e && *n == '{';
	struct policy_var *v;
	char name[128];

	if (braced)
		n++;
	for (ne = n; ne < e && name_char(*ne);)
		ne++;
	if (!pol_valid_var_name(n, (size_t)(ne - n))) {
		diag_error(p->d, loc, "'$' must be followed by a variable name");
		diag_hint(p->d, "write $name or ${name}; a name is letters, digits and '_'");
		return -EINVAL;
	}
	if (braced && (ne >= e || *ne != '}')) {
		loc.len = (unsigned)(ne - *q);
		diag_error(p->d, loc, "missing '}' after '%.*s'", (int)(ne - *q), *q);
		return -EINVAL;
	}
	loc.len = (unsigned)(ne + braced - *q);
	v = var_find(p->pol, n, (size_t)(ne - n));
	if (v && !v->value && v->loc.file) {
		/* Defined by a broken define, which was reported. */
		mark_used(v, loc);
		p->suppressed++;
		return -EINVAL;
	}
	if (!v || !v->value) {
		const char *s;

		snprintf(name, sizeof(name), "%.*s", (int)(ne - n), n);
		diag_error(p->d, loc, "undefined variable '%s'", name);
		s = suggest_var(p, name, false);
		if (s)
			diag_hint(p->d, "did you mean '%s'?", s);
		else
			diag_hint(p->d,
				  "define it above with 'define %s = VALUE', or pass --var "
				  "%s=VALUE",
				  name, name);
		/* Remember the use, so that a define further down can point back at it. */
		if (!v)
			v = var_add(p->pol, n, (size_t)(ne - n), NULL);
		if (!v)
			return -ENOMEM;
		mark_used(v, loc);
		return -EINVAL;
	}
	mark_used(v, loc);
	if (b->n + strlen(v->value) > POLICY_VAR_VALUE_MAX) {
		diag_error(p->d, loc, "'%.*s' makes this value longer than %u bytes (%zu + %zu)",
			   (int)loc.len, *q, POLICY_VAR_VALUE_MAX, b->n, strlen(v->value));
		diag_hint(p->d, "does a variable use another one twice, line after line?");
		return -EINVAL;
	}
	*q = ne + braced;
	return sb_add(b, v->value, strlen(v->value));
}

int pol_var_expand(struct parser *p, const struct token *t, char **out, bool *had_vars)
{
	bool str = t->kind == T_STRING;
	const char *s = t->p + str, *e = t->p + t->len - str, *q = s;
	struct sbuf b = { 0 };
	int err = 0;

	*out = NULL;
	*had_vars = false;
	err = sb_add(&b, "", 0);
	while (!err && q < e) {
		struct srcloc loc = t->loc;

		loc.col += (unsigned)(q - t->p);
		loc.len = 1;
		if (str && *q == '\\') {
			if (q[1] == '"' || q[1] == '\\') {
				err = sb_add(&b, q + 1, 1);
				q += 2;
				continue;
			}
			loc.len = 2;
			diag_error(p->d, loc, "unknown escape sequence '\\%c'", q[1]);
			diag_hint(p->d, "inside a string only \\\" and \\\\ are escapes");
			err = -EINVAL;
		} else if (*q == '$') {
			err = expand_ref(p, &q, e, loc, &b);
			*had_vars = true;
		} else {
			err = sb_add(&b, q, 1);
			q++;
		}
	}
	if (err) {
		free(b.s);
		return err;
	}
	*out = b.s;
	return 0;
}

/*
 * A statement skipped after an error still counts as using its variables: otherwise the --var
 * it mentions would be reported unused on top of the real error.
 */
void pol_var_mark_refs(struct parser *p, const struct token *t)
{
	const char *q = t->p, *e = t->p + t->len;

	if (t->kind != T_WORD && t->kind != T_STRING)
		return;
	while ((q = memchr(q, '$', (size_t)(e - q)))) {
		const char *n = ++q, *ne;
		struct policy_var *v;

		if (n < e && *n == '{')
			n++;
		for (ne = n; ne < e && name_char(*ne);)
			ne++;
		v = var_find(p->pol, n, (size_t)(ne - n));
		if (v)
			mark_used(v, t->loc);
	}
}

/* value NULL: the define is broken (and reported); its uses fail without adding errors. */
int pol_var_define(struct parser *p, const char *name, struct srcloc loc, const char *value)
{
	struct policy_var *v = var_find(p->pol, name, strlen(name));

	if (v && v->loc.file) {
		diag_error(p->d, loc, "variable '%s' is already defined", name);
		diag_note(p->d, v->loc, "'%s' was first defined here", name);
		return -EINVAL;
	}
	if (v && v->used && !v->value) {
		/* Its use was reported as undefined already: one mistake, one error. */
		diag_note(p->d, loc, "'%s' is defined here, after its first use", name);
		diag_hint(p->d, "move the define above the first use");
		v->value = value ? strdup(value) : NULL;
		if (value && !v->value)
			return -ENOMEM;
	} else if (v && v->used) {
		diag_error(p->d, loc, "variable '%s' is defined after its first use", name);
		diag_hint(p->d, "move the define above the first use");
		diag_note(p->d, v->use_loc, "'%s' is first used here", name);
	}
	if (!v) {
		v = var_add(p->pol, name, strlen(name), value);
		if (!v)
			return -ENOMEM;
	}
	/* A --var keeps its value: the define only supplies the default. */
	v->loc = loc;
	return 0;
}

void pol_vars_check_unused(struct parser *p)
{
	const struct srcloc none = { 0 };

	if (p->incomplete)
		return;
	for (size_t i = 0; i < p->pol->nvars; i++) {
		const struct policy_var *v = &p->pol->vars[i];
		const char *s;

		if (!v->from_cli || v->loc.file || v->used)
			continue;
		diag_error(p->d, none, "--var '%s' is neither defined nor used by the policy",
			   v->name);
		s = suggest_var(p, v->name, true);
		if (s)
			diag_hint(p->d, "did you mean '%s'?", s);
	}
}
