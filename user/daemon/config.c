// SPDX-License-Identifier: GPL-2.0-only
/* The daemon's configuration file: global keys, then one section per interface. */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/config.h"
#include "metrics/metrics_http.h"
#include "base/safe_io.h"
#include "base/names.h"
#include "base/num.h"

enum ktype { K_PATH, K_STR, K_BOOL, K_UINT, K_RATE, K_LISTEN, K_MODE, K_ROLE, K_VAR };

struct key {
	const char *name;
	enum ktype type;
	bool iface; /* belongs in an [interface] section */
	size_t off;
	unsigned min, max;
};

#define G(f) offsetof(struct config, f)
#define I(f) offsetof(struct iface_conf, f)

static const struct key keys[] = {
	{ "log-file", K_PATH, false, G(log_file), 0, 0 },
	{ "stdout", K_BOOL, false, G(log_stdout), 0, 0 },
	{ "journal", K_BOOL, false, G(journal), 0, 0 },
	{ "pcap", K_PATH, false, G(pcap), 0, 0 },
	{ "snaplen", K_UINT, false, G(snaplen), 1, AMLG_SNAP_MAX },
	{ "alert-exec", K_STR, false, G(alert_exec), 0, 0 },
	{ "alert-max-running", K_UINT, false, G(alert_max_running), 1, 64 },
	{ "alert-window", K_UINT, false, G(alert_window_s), 0, 86400 },
	{ "alert-rate", K_RATE, false, G(alert_rate), 0, 0 },
	{ "alert-timeout", K_UINT, false, G(alert_timeout_s), 1, 3600 },
	{ "metrics-listen", K_LISTEN, false, G(metrics_listen), 0, 0 },
	{ "metrics-textfile", K_PATH, false, G(metrics_textfile), 0, 0 },
	{ "metrics-interval", K_UINT, false, G(metrics_interval_s), 1, 3600 },
	{ "detach-on-exit", K_BOOL, false, G(detach_on_exit), 0, 0 },
	{ "policy", K_PATH, true, I(policy), 0, 0 },
	{ "tags", K_PATH, true, I(tags), 0, 0 },
	{ "mode", K_MODE, true, I(mode), 0, 0 },
	{ "role", K_ROLE, true, I(role), 0, 0 },
	{ "ct-size", K_UINT, true, I(ct_size), 1024, 1u << 24 },
	{ "var", K_VAR, true, 0, 0, 0 },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

const char *const config_global_keys[] = {
	"log-file",
	"stdout",
	"journal",
	"pcap",
	"snaplen",
	"alert-exec",
	"alert-max-running",
	"alert-window",
	"alert-rate",
	"alert-timeout",
	"metrics-listen",
	"metrics-textfile",
	"metrics-interval",
	"detach-on-exit",
	NULL,
};
const char *const config_iface_keys[] = { "policy", "tags", "mode", "role", "ct-size", "var", NULL };

void config_init(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->alert_max_running = 4;
	c->alert_window_s = 600;
	c->alert_rate = 10;
	c->alert_period_s = 60;
	c->alert_timeout_s = 30;
	c->metrics_interval_s = 15;
}

static void iface_free(struct iface_conf *f)
{
	free(f->name);
	free(f->policy);
	free(f->tags);
	for (size_t i = 0; i < f->nvars; i++) {
		free((char *)f->vars[i].name);
		free((char *)f->vars[i].value);
	}
}

void config_free(struct config *c)
{
	for (size_t i = 0; i < c->nifaces; i++)
		iface_free(&c->ifaces[i]);
	free(c->log_file);
	free(c->pcap);
	free(c->alert_exec);
	free(c->metrics_listen);
	free(c->metrics_textfile);
	config_init(c);
}

static const struct key *key_find(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (!strcmp(keys[i].name, name))
			return &keys[i];
	return NULL;
}

static void unknown_key(struct diag *d, struct srcloc loc, const char *name)
{
	const char *names[NKEYS];
	const char *near;

	for (size_t i = 0; i < NKEYS; i++)
		names[i] = keys[i].name;
	diag_error(d, loc, "unknown setting '%s'", name);
	near = diag_suggest(name, names, NKEYS);
	if (near)
		diag_hint(d, "did you mean '%s'?", near);
}

static int parse_bool(const char *s, bool *out)
{
	if (!strcmp(s, "yes") || !strcmp(s, "true") || !strcmp(s, "on") || !strcmp(s, "1"))
		*out = true;
	else if (!strcmp(s, "no") || !strcmp(s, "false") || !strcmp(s, "off") || !strcmp(s, "0"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}

static char *make_path(const char *value, const char *dir)
{
	char *p;

	if (value[0] == '/' || !dir)
		return strdup(value);
	if (asprintf(&p, "%s/%s", dir, value) < 0)
		return NULL;
	return p;
}

static int set_string(char **field, char *v)
{
	if (!v)
		return -ENOMEM;
	free(*field);
	*field = v;
	return 0;
}

static int set_var(struct iface_conf *f, const char *name, const char *value, struct srcloc loc,
		   struct diag *d)
{
	size_t i;

	for (i = 0; i < f->nvars; i++)
		if (!strcmp(f->vars[i].name, name))
			break;
	if (i == PIPELINE_MAX_VARS) {
		diag_error(d, loc, "more than %d variables", PIPELINE_MAX_VARS);
		return -EINVAL;
	}
	if (i == f->nvars) {
		f->vars[i].name = strdup(name);
		f->vars[i].value = NULL;
		if (!f->vars[i].name)
			return -ENOMEM;
		f->nvars++;
	}
	free((char *)f->vars[i].value);
	f->vars[i].value = strdup(value);
	return f->vars[i].value ? 0 : -ENOMEM;
}

static bool valid_ifname(const char *s)
{
	size_t n = strlen(s);

	return n && n < IFNAMSIZ && !strpbrk(s, "/ \t:") && strcmp(s, ".") && strcmp(s, "..");
}

static struct iface_conf *section(struct config *c, const char *name, struct srcloc loc,
				  struct diag *d)
{
	struct iface_conf *f;

	for (size_t i = 0; i < c->nifaces; i++)
		if (!strcmp(c->ifaces[i].name, name))
			return &c->ifaces[i];
	if (!valid_ifname(name)) {
		diag_error(d, loc, "'%s' is not an interface name", name);
		return NULL;
	}
	if (c->nifaces == CONFIG_MAX_IFACES) {
		diag_error(d, loc, "more than %d interfaces", CONFIG_MAX_IFACES);
		return NULL;
	}
	f = &c->ifaces[c->nifaces];
	memset(f, 0, sizeof(*f));
	f->name = strdup(name);
	if (!f->name)
		return NULL;
	f->mode = -1;
	f->role = AMLG_ROLE_HOST;
	f->loc = loc;
	c->nifaces++;
	return f;
}

/* One setting; var_name is the NAME of "var NAME = VALUE". */
static int apply(struct config *c, struct iface_conf *f, const struct key *k, const char *var_name,
		 const char *value, const char *dir, struct srcloc loc, struct diag *d)
{
	void *base = k->iface ? (void *)f : (void *)c;
	void *field = (char *)base + k->off;
	unsigned u, per;
	int v;

	switch (k->type) {
	case K_PATH:
		if (!*value)
			break;
		return set_string(field, make_path(value, dir));
	case K_STR:
		if (!*value)
			break;
		return set_string(field, strdup(value));
	case K_BOOL:
		if (parse_bool(value, field)) {
			diag_error(d, loc, "%s: expected yes or no, not '%s'", k->name, value);
			return -EINVAL;
		}
		return 0;
	case K_UINT:
		if (num_parse_uint(value, k->min, k->max, field)) {
			diag_error(d, loc, "%s: expected a number from %u to %u, not '%s'", k->name,
				   k->min, k->max, value);
			return -EINVAL;
		}
		return 0;
	case K_RATE: {
		const char *slash = strchr(value, '/');
		char num[16];

		if (!slash || (size_t)(slash - value) >= sizeof(num))
			goto bad_rate;
		memcpy(num, value, (size_t)(slash - value));
		num[slash - value] = '\0';
		if (num_parse_uint(num, 1, 100000, &u) || num_parse_uint(slash + 1, 1, 86400, &per))
			goto bad_rate;
		c->alert_rate = u;
		c->alert_period_s = per;
		return 0;
bad_rate:
		diag_error(d, loc, "%s: expected COUNT/SECONDS (e.g. 10/60), not '%s'", k->name,
			   value);
		return -EINVAL;
	}
	case K_LISTEN: {
		char host[64];

		if (!strcmp(value, "off") || !strcmp(value, "no")) {
			free(c->metrics_listen);
			c->metrics_listen = NULL;
			return 0;
		}
		if (metrics_parse_listen(value, host, sizeof(host), &u)) {
			diag_error(d, loc,
				   "%s: expected ADDRESS:PORT, [IPV6]:PORT or PORT, not '%s'",
				   k->name, value);
			return -EINVAL;
		}
		return set_string(field, strdup(value));
	}
	case K_MODE:
		v = mode_parse(value);
		if (v < 0) {
			diag_error(d, loc, "mode: expected audit or enforce, not '%s'", value);
			return -EINVAL;
		}
		*(int *)field = v;
		return 0;
	case K_ROLE:
		v = role_parse(value);
		if (v < 0) {
			diag_error(d, loc, "role: expected host or gateway, not '%s'", value);
			return -EINVAL;
		}
		*(unsigned *)field = (unsigned)v;
		return 0;
	case K_VAR:
		return set_var(f, var_name, value, loc, d);
	}
	diag_error(d, loc, "%s: a value is needed", k->name);
	return -EINVAL;
}

int config_set(struct config *c, const char *sect, const char *key, const char *value,
	       struct srcloc loc, struct diag *d)
{
	const struct key *k = key_find(key);
	struct iface_conf *f = NULL;
	char *name = NULL;
	int err;

	if (!k) {
		unknown_key(d, loc, key);
		return -EINVAL;
	}
	if (k->iface != (sect != NULL)) {
		diag_error(d, loc, "'%s' is %s setting", key,
			   k->iface ? "an interface" : "a global");
		return -EINVAL;
	}
	if (sect) {
		f = section(c, sect, loc, d);
		if (!f)
			return -EINVAL;
	}
	if (k->type == K_VAR) {
		const char *eq = strchr(value, '=');

		if (!eq || eq == value) {
			diag_error(d, loc, "var: expected NAME=VALUE, not '%s'", value);
			return -EINVAL;
		}
		name = strndup(value, (size_t)(eq - value));
		if (!name)
			return -ENOMEM;
		value = eq + 1;
	}
	err = apply(c, f, k, name, value, NULL, loc, d);
	free(name);
	return err;
}

/* ---- the file parser ------------------------------------------------------------------------ */

struct lexer {
	const char *file;
	unsigned line;
	const char *start; /* of the line */
	const char *p;
	struct diag *d;
};

static struct srcloc at(const struct lexer *lx, const char *p, size_t len)
{
	return (struct srcloc){ .file = lx->file,
				.line = lx->line,
				.col = (unsigned)(p - lx->start) + 1,
				.len = len ? (unsigned)len : 1 };
}

static void skip_blanks(struct lexer *lx)
{
	while (*lx->p == ' ' || *lx->p == '\t')
		lx->p++;
}

static bool at_end(const struct lexer *lx)
{
	return !*lx->p || *lx->p == '\n' || *lx->p == '#' || (*lx->p == '\r' && lx->p[1] == '\n');
}

static bool word_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '-' || ch == '.';
}

/* A word (key or variable name) into buf; its length, 0 if there is none. */
static size_t word(struct lexer *lx, char *buf, size_t sz)
{
	const char *s = lx->p;
	size_t n;

	while (word_char(*lx->p))
		lx->p++;
	n = (size_t)(lx->p - s);
	if (n >= sz)
		n = sz - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return (size_t)(lx->p - s);
}

/*
 * The value after '=': a double-quoted string (escapes \" and \\) or the rest of the line up to a
 * comment (a '#' after a blank), trailing blanks removed.  Malloc'd, NULL after an error.
 */
static char *value(struct lexer *lx)
{
	const char *s;
	char *out, *o;

	skip_blanks(lx);
	s = lx->p;
	out = o = malloc(strcspn(s, "\n") + 1);
	if (!out)
		return NULL;
	if (*s == '"') {
		for (lx->p++; *lx->p != '"'; lx->p++) {
			if (!*lx->p || *lx->p == '\n') {
				diag_error(lx->d, at(lx, s, 1), "unterminated string");
				goto fail;
			}
			if (*lx->p == '\\') {
				if (lx->p[1] != '"' && lx->p[1] != '\\') {
					diag_error(lx->d, at(lx, lx->p, 2),
						   "unknown escape; only \\\" and \\\\ are");
					goto fail;
				}
				lx->p++;
			}
			*o++ = *lx->p;
		}
		lx->p++;
		skip_blanks(lx);
		if (!at_end(lx)) {
			diag_error(lx->d, at(lx, lx->p, 1), "unexpected text after the string");
			goto fail;
		}
	} else {
		while (*lx->p && *lx->p != '\n' &&
		       !(*lx->p == '#' && lx->p > s && (lx->p[-1] == ' ' || lx->p[-1] == '\t')))
			*o++ = *lx->p++;
		while (o > out && (o[-1] == ' ' || o[-1] == '\t' || o[-1] == '\r'))
			o--;
	}
	*o = '\0';
	return out;
fail:
	free(out);
	return NULL;
}

/* Keys already given in this text, per section (index 0: global), to report repeats. */
struct seen {
	char sect[IFNAMSIZ];
	char key[24];
	char var[64];
};

static bool repeated(struct seen **v, size_t *n, const char *sect, const char *key, const char *var)
{
	struct seen *nv, s = { 0 };

	snprintf(s.sect, sizeof(s.sect), "%s", sect ? sect : "");
	snprintf(s.key, sizeof(s.key), "%s", key);
	snprintf(s.var, sizeof(s.var), "%s", var ? var : "");
	for (size_t i = 0; i < *n; i++)
		if (!memcmp(&(*v)[i], &s, sizeof(s)))
			return true;
	nv = realloc(*v, (*n + 1) * sizeof(**v));
	if (nv) {
		*v = nv;
		nv[(*n)++] = s;
	}
	return false;
}

static void parse_section(struct lexer *lx, struct config *c, struct iface_conf **cur,
			  char *cur_name, size_t name_sz)
{
	const char *s = lx->p;
	char kind[16], name[64];
	const char *np;
	size_t n;

	lx->p++;
	skip_blanks(lx);
	word(lx, kind, sizeof(kind));
	if (strcmp(kind, "interface")) {
		diag_error(lx->d, at(lx, s, strcspn(s, "\n")), "unknown section");
		diag_hint(lx->d, "sections are [interface NAME]");
		goto skip;
	}
	skip_blanks(lx);
	np = lx->p;
	n = strcspn(np, "] \t\n");
	snprintf(name, sizeof(name), "%.*s", (int)(n < sizeof(name) ? n : sizeof(name) - 1), np);
	lx->p += n;
	skip_blanks(lx);
	if (*lx->p != ']' || !n) {
		diag_error(lx->d, at(lx, s, strcspn(s, "\n")), "expected [interface NAME]");
		goto skip;
	}
	lx->p++;
	skip_blanks(lx);
	if (!at_end(lx)) {
		diag_error(lx->d, at(lx, lx->p, 1), "unexpected text after the section header");
		goto skip;
	}
	for (size_t i = 0; i < c->nifaces; i++) {
		if (!strcmp(c->ifaces[i].name, name) && c->ifaces[i].loc.file == lx->file) {
			diag_error(lx->d, at(lx, np, n), "interface '%s' has a section already",
				   name);
			goto skip;
		}
	}
	*cur = section(c, name, at(lx, np, n), lx->d);
	if (*cur) {
		(*cur)->loc = at(lx, np, n);
		snprintf(cur_name, name_sz, "%.*s", (int)name_sz - 1, name);
	}
	return;
skip:
	/* The keys that follow are checked, but belong to no interface. */
	*cur = NULL;
	snprintf(cur_name, name_sz, "%s", "");
}

int config_parse(struct config *c, const char *name, const char *text, const char *dir,
		 struct diag *d)
{
	struct lexer lx = { .d = d, .line = 0 };
	struct iface_conf *cur = NULL;
	bool in_section = false;
	char cur_name[IFNAMSIZ] = "";
	struct seen *seen = NULL;
	size_t nseen = 0, before = d->nerrors;

	lx.file = diag_add_source(d, name, text, strlen(text));
	for (const char *line = text; *line; line = lx.p + (*lx.p == '\n')) {
		const struct key *k;
		char key[32], var[64] = "";
		const char *ks;
		char *v;

		lx.line++;
		lx.start = lx.p = line;
		skip_blanks(&lx);
		if (at_end(&lx)) {
			lx.p += strcspn(lx.p, "\n");
			continue;
		}
		if (*lx.p == '[') {
			parse_section(&lx, c, &cur, cur_name, sizeof(cur_name));
			in_section = true;
			lx.p += strcspn(lx.p, "\n");
			continue;
		}
		ks = lx.p;
		if (!word(&lx, key, sizeof(key))) {
			diag_error(d, at(&lx, ks, 1), "expected a setting name");
			lx.p += strcspn(lx.p, "\n");
			continue;
		}
		k = key_find(key);
		if (!k) {
			unknown_key(d, at(&lx, ks, strlen(key)), key);
			lx.p += strcspn(lx.p, "\n");
			continue;
		}
		if (k->iface != in_section) {
			diag_error(d, at(&lx, ks, strlen(key)), "'%s' belongs in %s", key,
				   k->iface ? "an [interface NAME] section" :
					      "the global part, before the first section");
			lx.p += strcspn(lx.p, "\n");
			continue;
		}
		skip_blanks(&lx);
		if (k->type == K_VAR) {
			const char *vs = lx.p;

			if (!word(&lx, var, sizeof(var))) {
				diag_error(d, at(&lx, vs, 1),
					   "expected a variable name: var NAME = VALUE");
				lx.p += strcspn(lx.p, "\n");
				continue;
			}
			skip_blanks(&lx);
		}
		if (*lx.p != '=') {
			diag_error(d, at(&lx, lx.p, 1), "expected '=' after '%s'", key);
			lx.p += strcspn(lx.p, "\n");
			continue;
		}
		lx.p++;
		v = value(&lx);
		/*
		 * A rejected section's keys belong to no interface: two of them are not one
		 * section, and their keys are not "set twice".
		 */
		if (v && in_section && !cur) {
			/* reported with its section */
		} else if (v && repeated(&seen, &nseen, in_section ? cur_name : NULL, key, var)) {
			diag_error(d, at(&lx, ks, strlen(key)), "'%s%s%s' is set twice", key,
				   *var ? " " : "", var);
		} else if (v && (cur || !in_section)) {
			apply(c, cur, k, var, v, dir, at(&lx, ks, strlen(key)), d);
		}
		free(v);
		lx.p += strcspn(lx.p, "\n");
	}
	free(seen);
	return d->nerrors > before ? -EINVAL : 0;
}

int config_load(struct config *c, const char *path, struct diag *d)
{
	char *text = NULL, *dir, *slash, why[256];
	size_t len = 0;
	ssize_t n;
	int fd = open_input_regular(path, why, sizeof(why));
	FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
	int err;

	if (!f) {
		err = fd < 0 ? fd : -errno;
		if (fd >= 0) {
			snprintf(why, sizeof(why), "%s", strerror(-err));
			close(fd);
		}
		diag_error(d, (struct srcloc){ .file = diag_intern(d, path) }, "cannot read it: %s",
			   why);
		return err;
	}
	n = getdelim(&text, &len, '\0', f);
	if (n < 0 && ferror(f)) {
		err = -errno;
		fclose(f);
		free(text);
		diag_error(d, (struct srcloc){ .file = diag_intern(d, path) }, "cannot read it: %s",
			   strerror(-err));
		return err;
	}
	/* A NUL byte would end the text early and hide what follows: not a configuration. */
	if (n > 0 && text[n - 1] == '\0' && fgetc(f) != EOF) {
		fclose(f);
		free(text);
		diag_error(d, (struct srcloc){ .file = diag_intern(d, path) },
			   "a NUL byte at offset %zd: not a text file", n - 1);
		return -EINVAL;
	}
	fclose(f);
	/* getdelim() leaves the buffer unterminated when the file is empty */
	if (n <= 0) {
		free(text);
		text = strdup("");
	}
	dir = strdup(path);
	if (!dir || !text) {
		free(dir);
		free(text);
		return -ENOMEM;
	}
	slash = strrchr(dir, '/');
	if (slash)
		slash[slash == dir] = '\0';
	err = config_parse(c, path, text, slash ? dir : NULL, d);
	free(dir);
	free(text);
	return err;
}

int config_check(const struct config *c, struct srcloc loc, struct diag *d)
{
	size_t before = d->nerrors;

	if (!c->nifaces) {
		diag_error(d, loc, "no interface to protect");
		diag_hint(
			d,
			"add an [interface NAME] section with a policy, or give -i IFACE -p POLICY");
	}
	for (size_t i = 0; i < c->nifaces; i++) {
		if (!c->ifaces[i].policy)
			diag_error(d, c->ifaces[i].loc, "interface '%s' has no policy",
				   c->ifaces[i].name);
	}
	return d->nerrors > before ? -EINVAL : 0;
}
