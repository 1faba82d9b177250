// SPDX-License-Identifier: GPL-2.0-only
/* The JSON-lines file sink across a rotation, and the journal's field names. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sinks/sink_file.h"
#include "sinks/sink_journal.h"

static int lines(const char *path)
{
	FILE *f = fopen(path, "r");
	char buf[256];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(buf, sizeof(buf), f))
		n++;
	fclose(f);
	return n;
}

static void test_file_rotation(void **state)
{
	char dir[] = "/tmp/amlg-sink-XXXXXX", path[64], moved[72], cmd[96];
	json_t *o = json_pack("{s:s, s:i}", "dir", "out", "dport", 443);
	struct sink_file s;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/v.json", dir);
	snprintf(moved, sizeof(moved), "%s/v.json.1", dir);
	assert_int_equal(sink_file_open(&s, path), 0);
	assert_int_equal(sink_file_write(&s, o), 0);
	assert_int_equal(sink_file_write(&s, o), 0);
	/* line-buffered: the lines are in the file without a flush */
	assert_int_equal(lines(path), 2);
	assert_int_equal(rename(path, moved), 0);
	assert_int_equal(sink_file_write(&s, o), 0); /* still the old file */
	assert_int_equal(sink_file_reopen(&s), 0);
	assert_int_equal(sink_file_write(&s, o), 0);
	assert_int_equal(lines(moved), 3);
	assert_int_equal(lines(path), 1);
	assert_int_equal(s.lines, 4);
	sink_file_close(&s);
	/* appended, never truncated */
	assert_int_equal(sink_file_open(&s, path), 0);
	assert_int_equal(sink_file_write(&s, o), 0);
	sink_file_close(&s);
	assert_int_equal(lines(path), 2);
	/* a directory that is gone: the old file stays in use */
	assert_int_equal(sink_file_open(&s, path), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(sink_file_reopen(&s), -ENOENT);
	assert_int_equal(sink_file_write(&s, o), 0);
	sink_file_close(&s);
	assert_int_equal(sink_file_open(&s, path), -ENOENT);
	json_decref(o);
}

static void test_journal_names(void **state)
{
	char buf[64];

	assert_int_equal(journal_field_name("dport", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "AMLG_DPORT");
	assert_int_equal(journal_field_name("policy_sha256", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "AMLG_POLICY_SHA256");
	assert_int_equal(journal_field_name("bad-name", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(journal_field_name("", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(
		journal_field_name("a_very_long_field_name_that_journald_would_refuse_to_take_xyz",
				   buf, sizeof(buf)),
		-EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_rotation),
		cmocka_unit_test(test_journal_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
