// SPDX-License-Identifier: GPL-2.0-only
/* "explain --file": many packets, one a line, in the grammar of the command line. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "offline/explain.h"

#define WORDS_MAX 8

int explain_read_file(FILE *f, const char *name, struct explain_query **out, size_t *nout,
		      char *err, size_t errsz)
{
	struct explain_query *v = NULL;
	size_t n = 0, cap = 0, lineno = 0, linecap = 0;
	char *line = NULL, msg[256];
	ssize_t len;

	*out = NULL;
	*nout = 0;
	while ((len = getline(&line, &linecap, f)) != -1) {
		char *words[WORDS_MAX], *save = NULL, *w, *hash;
		int nw = 0;

		lineno++;
		if (strlen(line) != (size_t)len) {
			snprintf(err, errsz, "%s:%zu: a NUL byte in the line", name, lineno);
			goto fail;
		}
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		for (w = strtok_r(line, " \t\r\n", &save); w;
		     w = strtok_r(NULL, " \t\r\n", &save)) {
			/* more than four words is an error: counted for its message only */
			if (nw < WORDS_MAX)
				words[nw] = w;
			nw++;
		}
		if (!nw)
			continue;
		if (n == cap) {
			struct explain_query *nv;

			cap = cap ? cap * 2 : 64;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				snprintf(err, errsz, "%s: %s", name, strerror(ENOMEM));
				free(line);
				free(v);
				return -ENOMEM;
			}
			v = nv;
		}
		if (explain_parse(nw > WORDS_MAX ? WORDS_MAX : nw, words, &v[n], msg,
				  sizeof(msg))) {
			snprintf(err, errsz, "%s:%zu: %s", name, lineno, msg);
			goto fail;
		}
		n++;
	}
	if (ferror(f)) {
		snprintf(err, errsz, "%s: %s", name, strerror(errno ? errno : EIO));
		goto fail;
	}
	free(line);
	if (!n) {
		snprintf(err, errsz, "%s: no packet in the file", name);
		free(v);
		return -EINVAL;
	}
	*out = v;
	*nout = n;
	return 0;
fail:
	free(line);
	free(v);
	return -EINVAL;
}
