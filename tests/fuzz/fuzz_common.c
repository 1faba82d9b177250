// SPDX-License-Identifier: GPL-2.0-only
/* Helpers shared by the fuzz targets. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compile/compile.h"
#include "fuzz.h"
#include "base/log.h"
#include "policy/policy.h"

static char tmpdir[PATH_MAX]; /* under $TMPDIR: the build directory can be deep */
static pid_t owner;

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void rm_tmpdir(void)
{
	/* a forked child (libFuzzer -fork, the sinks' tests) leaves the directory to its parent */
	if (tmpdir[0] && getpid() == owner)
		nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fuzz_tmpdir(void)
{
	const char *base = getenv("TMPDIR");

	if (tmpdir[0])
		return tmpdir;
	if ((size_t)snprintf(tmpdir, sizeof(tmpdir), "%s/amlg-fuzz-XXXXXX",
			     base && *base ? base : "/tmp") >= sizeof(tmpdir))
		fuzz_fail("TMPDIR %s: too long", base);
	if (!mkdtemp(tmpdir))
		fuzz_fail("mkdtemp %s: %s", tmpdir, strerror(errno));
	owner = getpid();
	atexit(rm_tmpdir);
	return tmpdir;
}

const char *fuzz_path(const char *name)
{
	static char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", fuzz_tmpdir(), name);
	return path;
}

void fuzz_write(const char *path, const void *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	const uint8_t *p = data;

	if (fd < 0)
		fuzz_fail("open %s: %s", path, strerror(errno));
	while (size) {
		ssize_t n = write(fd, p, size);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			fuzz_fail("write %s: %s", path, strerror(errno));
		p += n;
		size -= (size_t)n;
	}
	close(fd);
}

size_t fuzz_split(const uint8_t *data, size_t size, char **chunks, size_t *lens, size_t max)
{
	const size_t seplen = strlen(FUZZ_SEP);
	size_t n = 0, start = 0;

	while (n < max) {
		const uint8_t *sep = NULL;
		size_t end = size;

		if (n + 1 < max && size - start >= seplen)
			sep = memmem(data + start, size - start, FUZZ_SEP, seplen);
		if (sep)
			end = (size_t)(sep - data);
		chunks[n] = malloc(end - start + 1);
		if (!chunks[n])
			fuzz_fail("out of memory");
		memcpy(chunks[n], data + start, end - start);
		chunks[n][end - start] = '\0';
		if (lens)
			lens[n] = end - start;
		n++;
		if (!sep)
			break;
		start = end + seplen;
	}
	return n;
}

void fuzz_free_chunks(char **chunks, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(chunks[i]);
}

FILE *fuzz_null(void)
{
	static FILE *f;

	if (!f)
		f = fopen("/dev/null", "we");
	if (!f)
		fuzz_fail("/dev/null: %s", strerror(errno));
	return f;
}

void fuzz_compile(const char *name, const char *text, struct policy **p, struct compiled **c)
{
	struct diag d;

	log_set_level(LOGL_QUIET);
	diag_init(&d);
	if (policy_parse_string(name, text, NULL, 0, &d, p) || compile_policy(*p, NULL, &d, c)) {
		diag_print(&d, stderr);
		fuzz_fail("%s: the built-in policy does not compile", name);
	}
	diag_free(&d);
}

void fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}
