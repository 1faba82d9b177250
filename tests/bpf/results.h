/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Named cases of a test runner, counted for scripts/test: each case's result goes, one line
 * "PASS|FAIL|SKIP<TAB>name<TAB>reason", to the file named by $AMLG_TEST_RESULTS (ctest sets it;
 * nothing is written without it), and results_end() prints the closing line
 * "N passed, N failed, N skipped" that ctest's SKIP_REGULAR_EXPRESSION reads: a run with skipped
 * cases and no failure is reported by ctest as skipped.  A skip is only for a kernel feature
 * that is missing, never for data the test could make.
 */
#ifndef AMLG_TEST_RESULTS_H
#define AMLG_TEST_RESULTS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { RESULT_PASS, RESULT_FAIL, RESULT_SKIP };

static FILE *results_file;
static unsigned results_count[3];

static inline void results_field(const char *s)
{
	/* one line per case: tabs and newlines of free text become spaces */
	for (; s && *s; s++)
		fputc(*s == '\t' || *s == '\n' ? ' ' : *s, results_file);
}

/* Record one case; reason may be NULL (a failure's details are printed by the runner). */
static inline void result(int status, const char *name, const char *reason)
{
	static const char *const word[] = { "PASS", "FAIL", "SKIP" };
	static int opened;

	results_count[status]++;
	if (!opened) {
		const char *path = getenv("AMLG_TEST_RESULTS");

		opened = 1;
		results_file = path && *path ? fopen(path, "w") : NULL;
	}
	if (!results_file)
		return;
	fprintf(results_file, "%s\t", word[status]);
	results_field(name);
	fputc('\t', results_file);
	results_field(reason);
	fputc('\n', results_file);
	fflush(results_file);
}

/* The closing line; the exit status: 1 if a case failed. */
static inline int results_end(void)
{
	printf("%u passed, %u failed, %u skipped\n", results_count[RESULT_PASS],
	       results_count[RESULT_FAIL], results_count[RESULT_SKIP]);
	if (results_file)
		fclose(results_file);
	return results_count[RESULT_FAIL] ? 1 : 0;
}

#endif
