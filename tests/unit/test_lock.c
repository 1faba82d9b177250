// SPDX-License-Identifier: GPL-2.0-only
/* The interface lock: one holder, who it is, waiting, and release on death. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "unit.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/lock.h"
#include "tmpdir.h"

static char dir[] = "/tmp/amlg-lock-XXXXXX";

static void test_one_holder(void **state)
{
	struct iface_lock a, b;
	struct lock_holder h;

	assert_int_equal(lock_acquire(&a, dir, "eth1", AMLG_LOCK_DAEMON, 0, NULL), 0);
	/* the daemon is not waited for: refused at once, with its pid */
	memset(&h, 0, sizeof(h));
	assert_int_equal(lock_acquire(&b, dir, "eth1", "attach", 5000, &h), -EBUSY);
	assert_int_equal(b.fd, -1);
	assert_int_equal(h.pid, getpid());
	assert_string_equal(h.what, AMLG_LOCK_DAEMON);
	/* another interface is another lock */
	assert_int_equal(lock_acquire(&b, dir, "eth2", "attach", 0, NULL), 0);
	lock_release(&b);
	lock_release(&a);
	assert_int_equal(lock_acquire(&b, dir, "eth1", "attach", 0, NULL), 0);
	lock_release(&b);
	lock_release(&b); /* twice is harmless */
}

static void test_bad_names(void **state)
{
	struct iface_lock a;

	assert_int_equal(lock_acquire(&a, dir, "", "x", 0, NULL), -EINVAL);
	assert_int_equal(lock_acquire(&a, dir, "../x", "x", 0, NULL), -EINVAL);
}

static uint64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A short-lived holder (a command) is waited for; the kernel frees a dead holder's lock. */
static void test_wait_and_death(void **state)
{
	int p[2];
	struct iface_lock a;
	struct lock_holder h;
	uint64_t t0;
	char c;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	if (pid == 0) {
		struct iface_lock l;

		if (lock_acquire(&l, dir, "eth3", "reload", 0, NULL))
			_exit(1);
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		usleep(300000);
		_exit(0); /* dies holding it */
	}
	assert_int_equal(read(p[0], &c, 1), 1);
	/* not long enough: busy, and who holds it is told */
	assert_int_equal(lock_acquire(&a, dir, "eth3", "attach", 40, &h), -EBUSY);
	assert_int_equal(h.pid, pid);
	assert_string_equal(h.what, "reload");
	t0 = ms_now();
	assert_int_equal(lock_acquire(&a, dir, "eth3", "attach", 3000, &h), 0);
	assert_true(ms_now() - t0 < 2500);
	lock_release(&a);
	waitpid(pid, NULL, 0);
	/* SIGKILL while holding it: free at once */
	pid = fork();
	if (pid == 0) {
		struct iface_lock l;

		if (lock_acquire(&l, dir, "eth4", AMLG_LOCK_DAEMON, 0, NULL))
			_exit(1);
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(lock_acquire(&a, dir, "eth4", AMLG_LOCK_DAEMON, 0, NULL), -EBUSY);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_int_equal(lock_acquire(&a, dir, "eth4", AMLG_LOCK_DAEMON, 0, NULL), 0);
	lock_release(&a);
	close(p[0]);
	close(p[1]);
}

/* The lock is not inherited by what the holder runs (an alert command). */
static void test_cloexec(void **state)
{
	struct iface_lock a, b;
	char cmd[128];

	assert_int_equal(lock_acquire(&a, dir, "eth5", AMLG_LOCK_DAEMON, 0, NULL), 0);
	snprintf(cmd, sizeof(cmd), "ls -l /proc/self/fd | grep -q %s/eth5.lock", dir);
	assert_int_not_equal(system(cmd), 0);
	lock_release(&a);
	assert_int_equal(lock_acquire(&b, dir, "eth5", "x", 0, NULL), 0);
	lock_release(&b);
}

static int setup(void **state)
{
	return mkdtemp(dir) ? 0 : -1;
}

/* Lock files are root's alone, whatever the umask, and one made readable is fixed. */
static void test_modes(void **state)
{
	struct iface_lock a;
	struct stat st;
	char path[128];
	mode_t old = umask(0);
	int fd;

	assert_int_equal(lock_acquire(&a, dir, "eth6", AMLG_LOCK_DAEMON, 0, NULL), 0);
	assert_int_equal(stat(a.path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	lock_release(&a);
	snprintf(path, sizeof(path), "%s/eth7.lock", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0666);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(lock_acquire(&a, dir, "eth7", "attach", 0, NULL), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	lock_release(&a);
	umask(old);
}

/* Nothing stays behind: the file goes with its release. */
static void test_release_removes(void **state)
{
	struct iface_lock a;
	char path[128];

	snprintf(path, sizeof(path), "%s/eth8.lock", dir);
	assert_int_equal(lock_acquire(&a, dir, "eth8", "detach", 0, NULL), 0);
	assert_int_equal(access(path, F_OK), 0);
	lock_release(&a);
	assert_int_equal(access(path, F_OK), -1);
	/* a name no interface can have is refused before it becomes a file */
	assert_int_equal(lock_acquire(&a, dir, "averyveryverylongname", "detach", 0, NULL),
			 -EINVAL);
	snprintf(path, sizeof(path), "%s/averyveryverylongname.lock", dir);
	assert_int_equal(access(path, F_OK), -1);
}

/*
 * rm of a daemon's lock file does not free the interface: a second daemon is refused, with
 * the first one's pid, and the first one puts its file back.
 */
static void test_deleted_under_holder(void **state)
{
	struct iface_lock a, b;
	struct lock_holder h;
	int p[2], q[2];
	char c, path[128];
	pid_t pid;

	snprintf(path, sizeof(path), "%s/eth9.lock", dir);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(pipe(q), 0);
	pid = fork();
	if (pid == 0) {
		struct lock_holder hh;
		struct iface_lock l;

		if (lock_acquire(&l, dir, "eth9", AMLG_LOCK_DAEMON, 0, NULL))
			_exit(1);
		if (write(p[1], "x", 1) != 1 || read(q[0], &c, 1) != 1)
			_exit(2);
		/* the daemon's tick: its file is gone, it is put back */
		if (lock_verify(&l, &hh) != 1 || lock_verify(&l, &hh) != 0)
			_exit(3);
		if (write(p[1], "y", 1) != 1)
			_exit(4);
		pause();
		_exit(0);
	}
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(unlink(path), 0);
	memset(&h, 0, sizeof(h));
	assert_int_equal(lock_acquire(&b, dir, "eth9", AMLG_LOCK_DAEMON, 0, &h), -EBUSY);
	assert_int_equal(h.pid, pid);
	assert_string_equal(h.what, AMLG_LOCK_DAEMON);
	/* the refused one leaves the file it made: the holder's verify takes it over */
	assert_int_equal(write(q[1], "go", 1), 1);
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(c, 'y');
	memset(&h, 0, sizeof(h));
	assert_int_equal(lock_acquire(&b, dir, "eth9", "attach", 0, &h), -EBUSY);
	assert_int_equal(h.pid, pid);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_int_equal(lock_acquire(&b, dir, "eth9", AMLG_LOCK_DAEMON, 0, NULL), 0);
	/* and the other way round: the file replaced by one that another process holds */
	pid = fork();
	if (pid == 0) {
		struct iface_lock l;

		unlink(path);
		if (lock_acquire(&l, dir, "eth9", "attach", 0, NULL))
			_exit(1);
		if (write(p[1], "x", 1) != 1)
			_exit(2);
		pause();
		_exit(0);
	}
	/* the child is refused while this holder lives (found through /proc/locks) */
	{
		int status;

		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 1);
	}
	a = b;
	assert_int_equal(lock_verify(&a, &h), 1); /* deleted: put back */
	lock_release(&a);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
}

/* The file at the name held by another process: the holder learns it has lost the interface. */
static void test_taken_over(void **state)
{
	char path[128], c, rec[64];
	int p[2], q[2], fd, status;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/eth10.lock", dir);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(pipe(q), 0);
	pid = fork();
	if (pid == 0) {
		struct lock_holder hh = { 0 };
		struct iface_lock l;

		if (lock_acquire(&l, dir, "eth10", AMLG_LOCK_DAEMON, 0, NULL))
			_exit(1);
		if (write(p[1], "x", 1) != 1 || read(q[0], &c, 1) != 1)
			_exit(2);
		if (lock_verify(&l, &hh) != -EBUSY)
			_exit(3);
		if (hh.pid != getppid() || strcmp(hh.what, "attach"))
			_exit(4);
		_exit(0);
	}
	assert_int_equal(read(p[0], &c, 1), 1);
	/* what a careless rm and another process would do */
	assert_int_equal(unlink(path), 0);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
	snprintf(rec, sizeof(rec), "%ld attach\n", (long)getpid());
	assert_int_equal(write(fd, rec, strlen(rec)), (ssize_t)strlen(rec));
	assert_int_equal(write(q[1], "go", 1), 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	close(fd);
	unlink(path);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
}

/* A lock directory someone else made, or that others can write, is refused. */
static void test_dir_checked(void **state)
{
	struct iface_lock a;
	char sub[128];

	snprintf(sub, sizeof(sub), "%s/shared", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(chmod(sub, 01777), 0);
	assert_int_equal(lock_acquire(&a, sub, "eth1", "attach", 0, NULL), -EPERM);
	assert_int_equal(chmod(sub, 0700), 0);
	assert_int_equal(lock_acquire(&a, sub, "eth1", "attach", 0, NULL), 0);
	lock_release(&a);
}

static int teardown(void **state)
{
	return tmpdir_remove(dir);
}

UNIT_TESTS(setup, teardown, cmocka_unit_test(test_one_holder), cmocka_unit_test(test_bad_names),
	   cmocka_unit_test(test_wait_and_death), cmocka_unit_test(test_cloexec),
	   cmocka_unit_test(test_modes), cmocka_unit_test(test_release_removes),
	   cmocka_unit_test(test_deleted_under_holder), cmocka_unit_test(test_dir_checked),
	   cmocka_unit_test(test_taken_over))
