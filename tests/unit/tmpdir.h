/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A scratch directory for a unit test file: made by the group setup (mkdtemp on a template such
 * as "/tmp/amlg-NAME-XXXXXX"), removed with everything in it by the group teardown.  Include it
 * after cmocka.h.
 */
#ifndef AMLG_TEST_TMPDIR_H
#define AMLG_TEST_TMPDIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline int tmpdir_make(char *tmpl)
{
	return mkdtemp(tmpl) ? 0 : -1;
}

static inline int tmpdir_unlink(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

/* Remove dir and all it holds (links are removed, never followed). */
static inline int tmpdir_remove(const char *dir)
{
	return nftw(dir, tmpdir_unlink, 16, FTW_DEPTH | FTW_PHYS) ? -1 : 0;
}

/*
 * The group setup and teardown of a file whose scratch directory is the array dir alone:
 *   static char dir[] = "/tmp/amlg-NAME-XXXXXX";
 *   TMPDIR_GROUP(dir)
 *   ... cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
 */
#define TMPDIR_GROUP(dir)                        \
	static int tmpdir_setup(void **state)    \
	{                                        \
		(void)state;                     \
		return tmpdir_make(dir);         \
	}                                        \
	static int tmpdir_teardown(void **state) \
	{                                        \
		(void)state;                     \
		return tmpdir_remove(dir);       \
	}

/* A file of n bytes at path (made or emptied), or the test fails. */
static inline void tmpdir_write(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static inline void tmpdir_write_text(const char *path, const char *text)
{
	tmpdir_write(path, text, strlen(text));
}

#endif
