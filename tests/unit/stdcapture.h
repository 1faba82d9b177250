/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Capturing what the code under test writes to stdout or stderr: the descriptor is pointed at a
 * temporary file for the time of the call, then restored.  No cmocka assertion may run while a
 * capture is on, or its message would end up in the captured text.  Include <cmocka.h> first.
 */
#ifndef AMLG_TEST_STDCAPTURE_H
#define AMLG_TEST_STDCAPTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct capture {
	int fd; /* 1 or 2 */
	int saved;
	FILE *tmp;
};

static inline FILE *capture_stream(int fd)
{
	return fd == 1 ? stdout : stderr;
}

static inline void capture_start(struct capture *c, int fd)
{
	c->fd = fd;
	c->tmp = tmpfile();
	assert_non_null(c->tmp);
	fflush(capture_stream(fd));
	c->saved = dup(fd);
	assert_true(c->saved >= 0);
	assert_int_equal(dup2(fileno(c->tmp), fd), fd);
}

/* Restore the descriptor and return everything written meanwhile; caller frees. */
static inline char *capture_end(struct capture *c)
{
	long len;
	char *buf;

	fflush(capture_stream(c->fd));
	assert_int_equal(dup2(c->saved, c->fd), c->fd);
	close(c->saved);
	assert_int_equal(fseek(c->tmp, 0, SEEK_END), 0);
	len = ftell(c->tmp);
	assert_true(len >= 0);
	buf = calloc(1, (size_t)len + 1);
	assert_non_null(buf);
	rewind(c->tmp);
	assert_int_equal(fread(buf, 1, (size_t)len, c->tmp), (size_t)len);
	fclose(c->tmp);
	return buf;
}

#endif
