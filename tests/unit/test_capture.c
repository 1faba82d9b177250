// SPDX-License-Identifier: GPL-2.0-only
/* What the capture reader says of files that are no capture: each named for what it is. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "unit.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "offline/capture.h"
#include "tmpdir.h"

static char dir[] = "/tmp/amlg-capture-XXXXXX";

static void refused(const char *path, int want, const char *msg)
{
	struct capture *c = NULL;
	char err[512] = "";
	char expect[512];

	assert_int_equal(capture_open(path, &c, err, sizeof(err)), want);
	assert_null(c);
	snprintf(expect, sizeof(expect), "%s: %s", path, msg);
	assert_string_equal(err, expect);
}

static void test_not_captures(void **state)
{
	static const unsigned char bad_gz[] =
		"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03garbagegarbage";
	char path[128];

	/* a device that never ends was "an empty file" */
	refused("/dev/zero", -EINVAL, "a character device, not a capture file");
	refused(dir, -EISDIR, "a directory, not a capture file");
	/* a corrupt gzip stream was "No such file or directory" (a stale errno) */
	snprintf(path, sizeof(path), "%s/bad.pcap.gz", dir);
	tmpdir_write(path, bad_gz, sizeof(bad_gz) - 1);
	refused(path, -EINVAL, "corrupt gzip data: invalid block type");
	snprintf(path, sizeof(path), "%s/empty.pcap", dir);
	tmpdir_write(path, "", 0);
	refused(path, -EINVAL, "empty file, not a capture");
}

TMPDIR_GROUP(dir)

UNIT_TESTS(tmpdir_setup, tmpdir_teardown, cmocka_unit_test(test_not_captures))
