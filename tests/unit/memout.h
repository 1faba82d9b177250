/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a printing function writes, caught in memory: memout_open gives the stream to print to,
 * memout_close the text (NUL-terminated, for the caller to free).  Either fails the test when
 * the stream does.  Include it after cmocka.h.
 */
#ifndef AMLG_TEST_MEMOUT_H
#define AMLG_TEST_MEMOUT_H

#include <stdio.h>

struct memout {
	char *buf;
	size_t len;
	FILE *f;
};

static inline FILE *memout_open(struct memout *m)
{
	m->buf = NULL;
	m->len = 0;
	m->f = open_memstream(&m->buf, &m->len);
	assert_non_null(m->f);
	return m->f;
}

static inline char *memout_close(struct memout *m)
{
	assert_int_equal(fclose(m->f), 0);
	return m->buf;
}

#endif
