// SPDX-License-Identifier: GPL-2.0-only
/* Opening outputs, inputs and amlguard's own directories when others may have prepared them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "unit.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/safe_io.h"
#include "tmpdir.h"

static char dir[] = "/tmp/amlg-safeio-XXXXXX";
static char why[512];

static char *at(const char *name)
{
	static char buf[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

static void test_output_plain(void **state)
{
	int fd = open_output_nofollow(at("log"), O_APPEND, 0640, why, sizeof(why));
	struct stat st;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x\n", 2), 2);
	close(fd);
	assert_int_equal(stat(at("log"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	/* /dev/null is fine: a character device */
	fd = open_output_nofollow("/dev/null", O_APPEND, 0640, why, sizeof(why));
	assert_true(fd >= 0);
	close(fd);
}

static void test_output_symlink(void **state)
{
	struct stat st;

	tmpdir_write_text(at("victim"), "keep me\n");
	assert_int_equal(symlink(at("victim"), at("link.log")), 0);
	assert_int_equal(open_output_nofollow(at("link.log"), O_TRUNC, 0640, why, sizeof(why)),
			 -ELOOP);
	assert_non_null(strstr(why, "symbolic link"));
	assert_int_equal(stat(at("victim"), &st), 0);
	assert_int_equal(st.st_size, 8);
}

static void test_output_hardlink(void **state)
{
	struct stat st;

	tmpdir_write_text(at("victim2"), "keep me\n");
	assert_int_equal(link(at("victim2"), at("hard.log")), 0);
	assert_int_equal(open_output_nofollow(at("hard.log"), O_TRUNC, 0640, why, sizeof(why)),
			 -EPERM);
	assert_non_null(strstr(why, "hard links"));
	/* refused before truncation */
	assert_int_equal(stat(at("victim2"), &st), 0);
	assert_int_equal(st.st_size, 8);
}

static void test_output_shared_dir(void **state)
{
	int fd;

	assert_int_equal(mkdir(at("open"), 0777), 0);
	assert_int_equal(chmod(at("open"), 0777), 0);
	assert_int_equal(open_output_nofollow(at("open/x.log"), O_APPEND, 0640, why, sizeof(why)),
			 -EPERM);
	assert_non_null(strstr(why, "writable by others"));
	/* sticky, like /tmp: fine for a file of our own, refused for someone else's */
	assert_int_equal(chmod(at("open"), 01777), 0);
	fd = open_output_nofollow(at("open/x.log"), O_APPEND, 0640, why, sizeof(why));
	assert_true(fd >= 0);
	close(fd);
	if (geteuid() == 0) {
		tmpdir_write_text(at("open/theirs.log"), "");
		assert_int_equal(chown(at("open/theirs.log"), 65534, 65534), 0);
		assert_int_equal(open_output_nofollow(at("open/theirs.log"), O_APPEND, 0640, why,
						      sizeof(why)),
				 -EPERM);
		assert_non_null(strstr(why, "belongs to uid 65534"));
		/* a directory another user owns */
		assert_int_equal(mkdir(at("user"), 0755), 0);
		assert_int_equal(chown(at("user"), 65534, 65534), 0);
		assert_int_equal(open_output_nofollow(at("user/x.log"), O_APPEND, 0640, why,
						      sizeof(why)),
				 -EPERM);
		assert_non_null(strstr(why, "uid 65534"));
	}
}

static void test_output_fifo(void **state)
{
	assert_int_equal(mkfifo(at("out.fifo"), 0600), 0);
	/* no reader: refused at once, not a hang */
	assert_true(open_output_nofollow(at("out.fifo"), O_APPEND, 0640, why, sizeof(why)) < 0);
	assert_non_null(strstr(why, "FIFO"));
}

static void test_input(void **state)
{
	int fd;

	tmpdir_write_text(at("in.policy"), "allow out tcp port 443 to 192.0.2.1\n");
	fd = open_input_regular(at("in.policy"), why, sizeof(why));
	assert_true(fd >= 0);
	/* blocking again: a read of a regular file never returns EAGAIN anyway */
	assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	close(fd);
	assert_int_equal(mkfifo(at("in.fifo"), 0600), 0);
	assert_int_equal(open_input_regular(at("in.fifo"), why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "it is a FIFO, not a regular file");
	assert_int_equal(open_input_regular("/dev/zero", why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "it is a character device, not a regular file");
	assert_int_equal(open_input_regular(dir, why, sizeof(why)), -EISDIR);
	assert_int_equal(open_input_regular(at("missing"), why, sizeof(why)), -ENOENT);
	/* a link to a regular file is a regular file: policies are often linked */
	assert_int_equal(symlink(at("in.policy"), at("in-link.policy")), 0);
	fd = open_input_regular(at("in-link.policy"), why, sizeof(why));
	assert_true(fd >= 0);
	close(fd);
}

static void test_secure_dir(void **state)
{
	struct stat st;

	assert_int_equal(secure_dir(at("state"), true, why, sizeof(why)), 0);
	assert_int_equal(stat(at("state"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	/* again: it is there and fine */
	assert_int_equal(secure_dir(at("state"), true, why, sizeof(why)), 0);
	/* writable by others (bpffs is often 1777) */
	assert_int_equal(chmod(at("state"), 01777), 0);
	assert_int_equal(secure_dir(at("state"), true, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "others can write"));
	assert_int_equal(chmod(at("state"), 0700), 0);
	/* a link to somewhere else */
	assert_int_equal(symlink(at("state"), at("state-link")), 0);
	assert_int_equal(secure_dir(at("state-link"), true, why, sizeof(why)), -ENOTDIR);
	assert_non_null(strstr(why, "symbolic link"));
	if (geteuid() == 0) {
		assert_int_equal(chown(at("state"), 65534, 65534), 0);
		assert_int_equal(secure_dir(at("state"), true, why, sizeof(why)), -EPERM);
		assert_non_null(strstr(why, "uid 65534"));
	}
	assert_int_equal(secure_dir(at("absent"), false, why, sizeof(why)), -ENOENT);
}

TMPDIR_GROUP(dir)

UNIT_TESTS(tmpdir_setup, tmpdir_teardown, cmocka_unit_test(test_output_plain),
	   cmocka_unit_test(test_output_symlink), cmocka_unit_test(test_output_hardlink),
	   cmocka_unit_test(test_output_shared_dir), cmocka_unit_test(test_output_fifo),
	   cmocka_unit_test(test_input), cmocka_unit_test(test_secure_dir))
