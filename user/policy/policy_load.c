// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reading a policy: the top file and its includes (relative to the including file, cycles and
 * depth checked), the SHA-256 of every source, and the policy's lifetime.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bpf/amlguard_abi.h"
#include "policy_int.h"
#include "base/safe_io.h"

/*
 * The whole file, NUL-terminated; -errno on failure, with the reason in why.  Regular files
 * only: a FIFO would hang compile, and the daemon on SIGHUP.
 */
static int read_all(const char *path, char **text, size_t *len, struct stat *st, char *why,
		    size_t whysz)
{
	size_t cap = 4096, n = 0;
	char *buf = NULL, *nb;
	ssize_t r;
	int fd, err = 0;

	*text = NULL;
	fd = open_input_regular(path, why, whysz);
	if (fd < 0)
		return fd;
	if (fstat(fd, st)) {
		err = -errno;
		goto out;
	}
	/* st_size is only a hint: /proc files report 0. */
	for (;;) {
		if (n + 1 >= cap || !buf) {
			cap = buf ? cap * 2 : cap;
			if (cap > POLICY_FILE_MAX + 1) {
				err = -EFBIG;
				goto out;
			}
			nb = realloc(buf, cap);
			if (!nb) {
				err = -ENOMEM;
				goto out;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			goto out;
		}
		if (!r)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	buf = NULL;
out:
	if (err)
		snprintf(why, whysz, "%s", strerror(-err));
	free(buf);
	close(fd);
	return err;
}

/* The directory a file's includes are relative to: "" for a bare name (the cwd). */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup("");
	return strndup(path, slash == path ? 1 : (size_t)(slash - path));
}

static int record_file(struct parser *p, const char *path, const char *text, size_t len)
{
	struct policy *pol = p->pol;
	struct policy_file *f = realloc(pol->files, (pol->nfiles + 1) * sizeof(*f));

	if (!f)
		return -ENOMEM;
	pol->files = f;
	f = &pol->files[pol->nfiles];
	memset(f, 0, sizeof(*f));
	f->path = strdup(path);
	if (!f->path)
		return -ENOMEM;
	pol->nfiles++;
	if (!EVP_Digest(text, len, f->sha256, NULL, EVP_sha256(), NULL) ||
	    !EVP_DigestUpdate(p->sha, text, len))
		return -ENOMEM;
	return 0;
}

/* Parse one source with the file pushed on the include stack; dir NULL = next to path. */
static int parse_source(struct parser *p, const char *path, const char *text, size_t len,
			const struct stat *st, const char *dir)
{
	const char *name = diag_add_source(p->d, path, text, len);
	size_t n = strlen(path);
	char *own = NULL;
	int err;

	if (!name)
		return -ENOMEM;
	/*
	 * Errors quote the lines of the file they are about.  A file not named *.policy (a site
	 * file that is really /etc/shadow) may be anything: it is refused without being shown.
	 * Strings parsed from the command line or a test (no stat) are shown as they are.
	 */
	if (st && (n < 7 || strcmp(path + n - 7, ".policy")))
		diag_set_opaque(p->d, name, "not a policy file (its name does not end in .policy)");
	err = record_file(p, path, text, len);
	if (err)
		return err;
	if (!dir) {
		own = dir_of(path);
		if (!own)
			return -ENOMEM;
		dir = own;
	}
	p->stack[p->depth++] = (struct pfile){ .name = name,
					       .dev = st ? st->st_dev : 0,
					       .ino = st ? st->st_ino : 0,
					       .real = st != NULL };
	err = pol_parse_text(p, name, text, len, dir);
	p->depth--;
	free(own);
	return err;
}

/* "a.policy -> b.policy -> a.policy", from the first file of the cycle on the stack. */
static void report_cycle(struct parser *p, unsigned from, const char *path, struct srcloc loc)
{
	size_t n = strlen(path) + 1;
	char *s;

	for (unsigned i = from; i < p->depth; i++)
		n += strlen(p->stack[i].name) + 4;
	s = malloc(n);
	if (!s) {
		diag_error(p->d, loc, "include cycle through '%s'", path);
		return;
	}
	s[0] = '\0';
	for (unsigned i = from; i < p->depth; i++) {
		strcat(s, p->stack[i].name);
		strcat(s, " -> ");
	}
	strcat(s, path);
	diag_error(p->d, loc, "include cycle: %s", s);
	free(s);
}

/*
 * A policy file of no bytes is refused: it is what a reload sees of a file being rewritten in
 * place (truncated, not yet written), and it would swap in a policy that allows nothing.
 */
static void empty_file(struct diag *d, struct srcloc loc, const char *path)
{
	diag_error(d, loc, "'%s' is empty: not a policy", path);
	diag_hint(d, "a file being written? write the new policy beside it, then rename it "
		     "into place");
}

int pol_parse_include(struct parser *p, const char *path, struct srcloc loc)
{
	char why[256];
	struct stat st;
	size_t len;
	char *text;
	int err;

	err = read_all(path, &text, &len, &st, why, sizeof(why));
	if (err) {
		diag_error(p->d, loc, "cannot read '%s': %s", path, why);
		p->incomplete = true;
		return err == -ENOMEM ? err : 0;
	}
	for (unsigned i = 0; i < p->depth; i++) {
		if (p->stack[i].real && p->stack[i].dev == st.st_dev &&
		    p->stack[i].ino == st.st_ino) {
			report_cycle(p, i, path, loc);
			free(text);
			return 0;
		}
	}
	if (p->depth > POLICY_INCLUDE_MAX) {
		diag_error(p->d, loc, "includes are nested more than %d deep", POLICY_INCLUDE_MAX);
		p->incomplete = true;
		free(text);
		return 0;
	}
	if (!len) {
		empty_file(p->d, loc, path);
		p->incomplete = true;
		free(text);
		return 0;
	}
	err = parse_source(p, path, text, len, &st, NULL);
	free(text);
	return err;
}

static int parser_init(struct parser *p, struct diag *d, const char *path,
		       const struct var_def *vars, size_t nvars)
{
	memset(p, 0, sizeof(*p));
	p->d = d;
	p->pol = calloc(1, sizeof(*p->pol));
	p->sha = EVP_MD_CTX_new();
	if (!p->pol || !p->sha)
		return -ENOMEM;
	p->pol->mode = AMLG_MODE_AUDIT;
	p->pol->platform = true;
	p->pol->dns_ttl_floor = POLICY_DNS_TTL_FLOOR;
	p->pol->dns_grace = POLICY_DNS_GRACE;
	p->pol->sni_mode = AMLG_SNI_REQUIRE;
	p->pol->path = strdup(path);
	if (!p->pol->path || !EVP_DigestInit_ex(p->sha, EVP_sha256(), NULL))
		return -ENOMEM;
	return pol_vars_init(p, vars, nvars);
}

/* Checks that need the whole policy, then hand it over or free it. */
static int parser_finish(struct parser *p, int err, size_t nerrors0, struct policy **out)
{
	if (!err) {
		pol_vars_check_unused(p);
		pol_noflow_check(p);
		if (!EVP_DigestFinal_ex(p->sha, p->pol->sha256, NULL))
			err = -ENOMEM;
	}
	pol_sets_free(p);
	EVP_MD_CTX_free(p->sha);
	if (!err && p->d->nerrors > nerrors0)
		err = -EINVAL;
	if (err) {
		policy_free(p->pol);
		return err;
	}
	*out = p->pol;
	return 0;
}

int policy_load(const char *path, const struct var_def *vars, size_t nvars, struct diag *d,
		struct policy **out)
{
	size_t nerrors0 = d->nerrors, len;
	struct parser p;
	struct stat st;
	char *text = NULL, why[256];
	int err;

	*out = NULL;
	err = parser_init(&p, d, path, vars, nvars);
	if (!err) {
		err = read_all(path, &text, &len, &st, why, sizeof(why));
		if (err) {
			diag_error(d, (struct srcloc){ 0 }, "cannot read '%s': %s", path, why);
			p.incomplete = true;
			err = err == -ENOMEM ? err : 0;
		} else if (!len) {
			empty_file(d, (struct srcloc){ 0 }, path);
			p.incomplete = true;
		} else {
			err = parse_source(&p, path, text, len, &st, NULL);
		}
	}
	free(text);
	return parser_finish(&p, err, nerrors0, out);
}

int policy_parse_string(const char *name, const char *text, const struct var_def *vars,
			size_t nvars, struct diag *d, struct policy **out)
{
	size_t nerrors0 = d->nerrors;
	struct parser p;
	int err;

	*out = NULL;
	err = parser_init(&p, d, name, vars, nvars);
	if (!err)
		err = parse_source(&p, name, text, strlen(text), NULL, "");
	return parser_finish(&p, err, nerrors0, out);
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nrules; i++) {
		struct rule *r = &p->rules[i];

		free(r->ports);
		pol_ep_items_free(r->remote.items, r->remote.n);
		pol_ep_items_free(r->local.items, r->local.n);
		free(r->flow);
		free(r->comment);
	}
	free(p->rules);
	pol_noflows_free(p->noflows, p->nnoflows);
	pol_vars_free(p->vars, p->nvars);
	for (size_t i = 0; i < p->nfiles; i++)
		free(p->files[i].path);
	free(p->files);
	free(p->path);
	free(p->tags_path);
	free(p->resolvers);
	free(p);
}
