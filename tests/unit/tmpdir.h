/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A scratch directory for a unit test file: made by the group setup (mkdtemp on a template such
 * as "/tmp/amlg-NAME-XXXXXX"), removed with everything in it by the group teardown.
 */
#ifndef AMLG_TEST_TMPDIR_H
#define AMLG_TEST_TMPDIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

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

#endif
