// SPDX-License-Identifier: GPL-2.0-only
/*
 * Endpoint items: addresses and prefixes, "any", @set references, tag:Name[.Region] and
 * host:pattern, each checked here so that the compiler only ever sees well-formed items.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy_int.h"
#include "base/vec.h"

#define HOST_MAX 253
#define LABEL_MAX 63

static const char *const kinds[] = { "tag", "host" };

void pol_ep_items_free(struct ep_item *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].set);
	}
	free(v);
}

void pol_ep_buf_free(struct ep_buf *b)
{
	pol_ep_items_free(b->v, b->n);
	memset(b, 0, sizeof(*b));
}

/* Append a copy of it (strings duplicated), remembering the set it is written in. */
static int ep_buf_add(struct ep_buf *b, const struct ep_item *it, const char *set)
{
	struct ep_item *x;

	if (VEC_RESERVE(b->v, b->n, b->cap, 4))
		return -ENOMEM;
	x = &b->v[b->n];
	*x = *it;
	x->name = it->name ? strdup(it->name) : NULL;
	x->set = set ? strdup(set) : NULL;
	if ((it->name && !x->name) || (set && !x->set)) {
		free(x->name);
		free(x->set);
		return -ENOMEM;
	}
	b->n++;
	return 0;
}

struct pset *pol_set_find(struct parser *p, const char *name)
{
	for (size_t i = 0; i < p->nsets; i++)
		if (!strcmp(p->sets[i].name, name))
			return &p->sets[i];
	return NULL;
}

int pol_set_add(struct parser *p, const char *name, struct srcloc loc, struct ep_buf *items)
{
	struct pset *v = realloc(p->sets, (p->nsets + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	p->sets = v;
	v = &p->sets[p->nsets];
	v->name = strdup(name);
	if (!v->name)
		return -ENOMEM;
	v->loc = loc;
	v->items = items->v;
	v->n = items->n;
	v->depth = items->depth + 1;
	memset(items, 0, sizeof(*items));
	p->nsets++;
	return 0;
}

void pol_sets_free(struct parser *p)
{
	for (size_t i = 0; i < p->nsets; i++) {
		free(p->sets[i].name);
		pol_ep_items_free(p->sets[i].items, p->sets[i].n);
	}
	free(p->sets);
	p->sets = NULL;
	p->nsets = 0;
}

/*
 * Where to point at part of a word: "host:a..b" underlines "a..b".  When variables were expanded
 * the columns of the expansion do not exist in the source, so the whole word is underlined.
 */
static struct srcloc sub_loc(const struct pctx *c, size_t off)
{
	struct srcloc loc = c->tok.loc;

	if (!c->vars && off < loc.len) {
		loc.col += (unsigned)off;
		loc.len -= (unsigned)off;
	}
	return loc;
}

static bool alnum_run(const char *s, const char **end)
{
	const char *p = s;

	while (isalnum((unsigned char)*p))
		p++;
	*end = p;
	return p > s;
}

/* Name or Name.Region, letters and digits only: exactly what the service-tag files contain. */
static bool valid_tag(const char *s)
{
	const char *e;

	if (!alnum_run(s, &e))
		return false;
	if (*e == '.' && !alnum_run(e + 1, &e))
		return false;
	return *e == '\0';
}

static int parse_tag(struct pctx *c, const char *name, struct ep_item *it)
{
	struct diag *d = c->p->d;

	if (!*name) {
		diag_error(d, c->tok.loc, "missing service tag name after 'tag:'");
		diag_hint(d, "write tag:Name or tag:Name.Region, like tag:Storage.WestUS");
		return -EINVAL;
	}
	if (!valid_tag(name)) {
		diag_error(d, sub_loc(c, 4), "invalid service tag '%s'", name);
		diag_hint(d, "a service tag is Name or Name.Region of letters and digits, like "
			     "Storage.WestUS");
		return -EINVAL;
	}
	it->kind = EP_TAG;
	it->name = strdup(name);
	return it->name ? 0 : -ENOMEM;
}

static bool host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/*
 * Check a lower-cased host pattern without its trailing dot.  Returns NULL if it is valid, else
 * why not.  The forms are name.tld, *.name.tld and *name.tld: a wildcard only at the start, and
 * always under a registrable-looking name of at least two labels.
 */
static const char *host_problem(const char *s, char *why, size_t sz)
{
	const char *rest = s, *p, *label;
	unsigned nlabels = 0;

	if (strlen(s) > HOST_MAX)
		return "longer than 253 characters";
	if (*rest == '*')
		rest += rest[1] == '.' ? 2 : 1;
	if (!*rest)
		return "a wildcard must be followed by a domain, like *.example.com";
	for (p = rest, label = rest;; p++) {
		if (*p == '.' || !*p) {
			if (p == label)
				return "empty label";
			if (p - label > LABEL_MAX) {
				snprintf(why, sz, "label '%.*s...' is longer than 63 characters",
					 20, label);
				return why;
			}
			nlabels++;
			if (!*p)
				break;
			label = p + 1;
		} else if (*p == '*') {
			return "'*' is only allowed at the start, as in *.example.com or "
			       "*example.com";
		} else if (!host_char(*p)) {
			snprintf(why, sz, "invalid character '%c'", *p);
			return why;
		}
	}
	if (nlabels < 2)
		return "a pattern needs at least a name and a top-level domain, like example.com";
	return NULL;
}

static int parse_host(struct pctx *c, const char *pattern, struct ep_item *it)
{
	struct diag *d = c->p->d;
	const char *why;
	char buf[128];
	char *s;
	size_t n;

	if (!*pattern) {
		diag_error(d, c->tok.loc, "missing host pattern after 'host:'");
		diag_hint(d, "write host:name.tld, host:*.name.tld or host:*name.tld");
		return -EINVAL;
	}
	s = strdup(pattern);
	if (!s)
		return -ENOMEM;
	for (char *q = s; *q; q++)
		*q = (char)tolower((unsigned char)*q);
	/* "pypi.org." is the fully qualified spelling of "pypi.org". */
	n = strlen(s);
	if (n && s[n - 1] == '.')
		s[n - 1] = '\0';
	why = host_problem(s, buf, sizeof(buf));
	if (why) {
		diag_error(d, sub_loc(c, 5), "invalid host pattern '%s': %s", pattern, why);
		free(s);
		return -EINVAL;
	}
	it->kind = EP_HOST;
	it->name = s;
	return 0;
}

static int parse_cidr(struct pctx *c, const char *text, struct ep_item *it)
{
	struct diag *d = c->p->d;
	char net[PREFIX_STRLEN];
	bool hostbits;

	if (!prefix_parse(text, &it->pfx, &hostbits)) {
		it->kind = EP_CIDR;
		return 0;
	}
	if (hostbits) {
		const char *slash = strchr(text, '/');

		prefix_parse_loose(text, &it->pfx);
		prefix_str(&it->pfx, net, sizeof(net));
		diag_error(d, c->tok.loc, "%s has host bits set; did you mean %s?", text, net);
		diag_hint(d, "for the single address write %.*s/%u", (int)(slash - text), text,
			  prefix_bits(it->pfx.family));
		return -EINVAL;
	}
	diag_error(d, c->tok.loc, "invalid address or prefix '%s'", text);
	diag_hint(d, "write an IPv4 or IPv6 address or prefix, like 10.1.0.0/16 or fd00::/8");
	return -EINVAL;
}

static int parse_set_ref(struct pctx *c, const char *name, struct ep_buf *b)
{
	struct parser *p = c->p;
	const char **names;
	const struct pset *s;
	const char *sug;

	if (c->defining && !strcmp(name, c->defining)) {
		diag_error(p->d, c->tok.loc, "set '%s' refers to itself", name);
		diag_hint(p->d, "a set may use the sets defined above it, not itself");
		return -EINVAL;
	}
	s = pol_set_find(p, name);
	if (s && s->depth >= POLICY_SET_DEPTH_MAX) {
		diag_error(p->d, c->tok.loc, "sets nested more than %u deep through '@%s'",
			   POLICY_SET_DEPTH_MAX, name);
		diag_hint(p->d, "list the endpoints of the inner sets directly");
		return -EINVAL;
	}
	if (s && b->n + s->n > POLICY_LIST_MAX) {
		diag_error(p->d, c->tok.loc,
			   "'@%s' makes this list longer than %u endpoints (%zu + %zu)", name,
			   POLICY_LIST_MAX, b->n, s->n);
		diag_hint(p->d, "does a set use another one twice, line after line?");
		return -EINVAL;
	}
	if (s) {
		if (s->depth > b->depth)
			b->depth = s->depth;
		for (size_t i = 0; i < s->n; i++) {
			int err = ep_buf_add(b, &s->items[i], s->items[i].set);

			if (err)
				return err;
		}
		return 0;
	}
	diag_error(p->d, c->tok.loc, "undefined set '@%s'", name);
	names = calloc(p->nsets + 1, sizeof(*names));
	if (!names)
		return -ENOMEM;
	for (size_t i = 0; i < p->nsets; i++)
		names[i] = p->sets[i].name;
	sug = diag_suggest(name, names, p->nsets);
	if (sug)
		diag_hint(p->d, "did you mean '@%s'?", sug);
	else
		diag_hint(p->d, "define it above with 'set %s = { ... }'", name);
	free(names);
	return -EINVAL;
}

/* Hex digits only: the start of an IPv6 address rather than a misspelled "tag:" or "host:". */
static bool hex_word(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

static bool looks_like_host(const char *s)
{
	char buf[128];

	for (const char *q = s; *q; q++)
		if (isupper((unsigned char)*q))
			return false;
	return strchr(s, '.') && !host_problem(s, buf, sizeof(buf));
}

/* A word that is no kind of endpoint: say what it probably was meant to be. */
static void unknown_endpoint(struct pctx *c, const char *text)
{
	struct diag *d = c->p->d;
	const char *colon = strchr(text, ':'), *any = "any", *sug;

	if (colon && !hex_word(text, (size_t)(colon - text))) {
		char kind[32];

		snprintf(kind, sizeof(kind), "%.*s", (int)(colon - text), text);
		diag_error(d, c->tok.loc, "unknown endpoint kind '%s:'", kind);
		sug = diag_suggest(kind, kinds, 2);
		if (sug)
			diag_hint(d, "did you mean '%s:%s'?", sug, colon + 1);
		else
			diag_hint(d, "the kinds are tag:Name[.Region] and host:pattern");
		return;
	}
	diag_error(d, c->tok.loc, "unknown endpoint '%s'", text);
	if (diag_suggest(text, &any, 1))
		diag_hint(d, "did you mean 'any'?");
	else if (isupper((unsigned char)text[0]) && valid_tag(text))
		diag_hint(d, "did you mean 'tag:%s'?", text);
	else if (looks_like_host(text))
		diag_hint(d, "did you mean 'host:%s'?", text);
	else
		diag_hint(d, "an endpoint is an address or prefix, any, @set, tag:Name[.Region] "
			     "or host:pattern");
}

static bool address_like(const char *s)
{
	return isdigit((unsigned char)s[0]) || strchr(s, ':') || strchr(s, '/');
}

/*
 * The current token as one endpoint item, appended to b.  Returns 0, -EINVAL after reporting a
 * bad item (the statement goes on, so that its other mistakes are reported too) or -ENOMEM.
 */
int pol_ep_parse_item(struct pctx *c, struct ep_buf *b)
{
	const char *text = c->text;
	struct ep_item it = { .loc = c->tok.loc };
	int err;

	if (!strcmp(text, "any")) {
		it.kind = EP_ANY;
		err = 0;
	} else if (text[0] == '@') {
		return parse_set_ref(c, text + 1, b);
	} else if (!strncmp(text, "tag:", 4)) {
		err = parse_tag(c, text + 4, &it);
	} else if (!strncmp(text, "host:", 5)) {
		err = parse_host(c, text + 5, &it);
	} else if (address_like(text) &&
		   (!strchr(text, ':') || hex_word(text, strcspn(text, ":")))) {
		err = parse_cidr(c, text, &it);
	} else {
		unknown_endpoint(c, text);
		err = -EINVAL;
	}
	if (!err)
		err = ep_buf_add(b, &it, c->defining);
	free(it.name);
	return err;
}
