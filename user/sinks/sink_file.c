// SPDX-License-Identifier: GPL-2.0-only
/* Violations as JSON lines, to a file (reopened after a rotation) or to standard output. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/safe_io.h"
#include "sinks/sink.h"
#include "sinks/sink_file.h"

static FILE *open_append(const char *path, char *why, size_t whysz)
{
	int fd = open_output_nofollow(path, O_APPEND, 0640, why, whysz);
	FILE *f;

	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	f = fdopen(fd, "a");
	if (!f) {
		snprintf(why, whysz, "%s", strerror(errno));
		close(fd);
		return NULL;
	}
	/* A line at a time: tail -f and a crash both see whole events. */
	setvbuf(f, NULL, _IOLBF, 0);
	return f;
}

int sink_file_open(struct sink_file *s, const char *path)
{
	char why[512];
	int err;

	memset(s, 0, sizeof(*s));
	if (!path) {
		s->f = stdout;
		setvbuf(stdout, NULL, _IOLBF, 0);
		return 0;
	}
	s->path = strdup(path);
	if (!s->path)
		return -ENOMEM;
	s->f = open_append(path, why, sizeof(why));
	if (!s->f) {
		err = -errno;
		pr_err("%s: cannot open the violation log: %s", path, why);
		if (err == -ENOENT)
			pr_hint("create its directory first");
		free(s->path);
		s->path = NULL;
		return err;
	}
	return 0;
}

int sink_file_reopen(struct sink_file *s)
{
	char why[512];
	FILE *f;
	int err;

	if (!s->path)
		return 0;
	f = open_append(s->path, why, sizeof(why));
	if (!f) {
		err = -errno;
		pr_err("%s: cannot reopen the violation log: %s; still writing to the old file",
		       s->path, why);
		return err;
	}
	fclose(s->f);
	s->f = f;
	return 0;
}

int sink_file_write(struct sink_file *s, json_t *o)
{
	if (!s->f)
		return -EBADF;
	if (json_dumpf(o, s->f, JSON_COMPACT) || fputc('\n', s->f) == EOF || ferror(s->f)) {
		clearerr(s->f);
		s->errors++;
		return -EIO;
	}
	s->lines++;
	return 0;
}

void sink_file_close(struct sink_file *s)
{
	if (s->f && s->f != stdout)
		fclose(s->f);
	else if (s->f)
		fflush(s->f);
	free(s->path);
	memset(s, 0, sizeof(*s));
}

/* The file and standard output behind struct sink_ops. */
struct file_sink {
	struct sink sink; /* first */
	struct sink_file f;
};
_Static_assert(offsetof(struct file_sink, sink) == 0, "sink_container() needs it first");

static int file_open(struct sink *s, const char *path)
{
	return sink_file_open(&sink_container(s, struct file_sink)->f, path);
}

static int stdout_open(struct sink *s, const char *path)
{
	return sink_file_open(&sink_container(s, struct file_sink)->f, NULL);
}

static int file_write(struct sink *s, const struct sink_event *e)
{
	return sink_file_write(&sink_container(s, struct file_sink)->f, e->json);
}

static int file_reopen(struct sink *s)
{
	return sink_file_reopen(&sink_container(s, struct file_sink)->f);
}

static unsigned long file_errors(const struct sink *s)
{
	return sink_container(s, const struct file_sink)->f.errors;
}

static int file_close(struct sink *s)
{
	sink_file_close(&sink_container(s, struct file_sink)->f);
	return 0;
}

const struct sink_ops sink_file_ops = {
	.name = "file",
	.size = sizeof(struct file_sink),
	.open = file_open,
	.write = file_write,
	.reopen = file_reopen,
	.errors = file_errors,
	.close = file_close,
};

const struct sink_ops sink_stdout_ops = {
	.name = "stdout",
	.size = sizeof(struct file_sink),
	.open = stdout_open,
	.write = file_write,
	.reopen = file_reopen,
	.errors = file_errors,
	.close = file_close,
};
