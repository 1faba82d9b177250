// SPDX-License-Identifier: GPL-2.0-only
/* One owner per interface: an flock(2) on /run/amlguard/<ifname>.lock. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lock.h"
#include "log.h"

#define LOCK_POLL_MS 20

static void read_holder(int fd, struct lock_holder *h)
{
	char buf[64] = "";
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	long pid = 0;
	int off = 0;

	memset(h, 0, sizeof(*h));
	if (n <= 0)
		return;
	buf[n] = '\0';
	if (sscanf(buf, "%ld %n", &pid, &off) < 1 || pid <= 0)
		return;
	h->pid = (pid_t)pid;
	snprintf(h->what, sizeof(h->what), "%.*s", (int)strcspn(buf + off, "\n"), buf + off);
}

static int write_holder(int fd, const char *what)
{
	char buf[64];
	int n = snprintf(buf, sizeof(buf), "%ld %s\n", (long)getpid(), what);

	if (ftruncate(fd, 0) || pwrite(fd, buf, (size_t)n, 0) != n)
		return -errno;
	return 0;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

int lock_acquire(struct iface_lock *l, const char *dir, const char *ifname, const char *what,
		 unsigned wait_ms, struct lock_holder *holder)
{
	struct lock_holder h;
	unsigned waited = 0;
	int n, err;

	l->fd = -1;
	if (!dir) {
		dir = AMLG_LOCK_DIR;
		/* root's alone: the locks say which process holds which interface */
		if (mkdir(dir, 0700) && errno != EEXIST)
			return -errno;
	}
	n = snprintf(l->path, sizeof(l->path), "%s/%s.lock", dir, ifname);
	if (n < 0 || (size_t)n >= sizeof(l->path) || !*ifname || strchr(ifname, '/'))
		return -EINVAL;
	/* CLOEXEC: an alert command the daemon starts must not inherit, and keep, the lock. */
	l->fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (l->fd < 0)
		return -errno;
	/* a lock file an older version made readable, or one made under another umask */
	if (fchmod(l->fd, 0600)) {
		err = -errno;
		goto fail;
	}
	for (;;) {
		if (flock(l->fd, LOCK_EX | LOCK_NB) == 0)
			break;
		err = -errno;
		if (err != -EWOULDBLOCK)
			goto fail;
		read_holder(l->fd, &h);
		if (waited >= wait_ms || !strcmp(h.what, AMLG_LOCK_DAEMON)) {
			if (holder)
				*holder = h;
			err = -EBUSY;
			goto fail;
		}
		sleep_ms(LOCK_POLL_MS);
		waited += LOCK_POLL_MS;
	}
	err = write_holder(l->fd, what);
	if (err)
		goto fail;
	return 0;
fail:
	close(l->fd);
	l->fd = -1;
	return err;
}

void lock_release(struct iface_lock *l)
{
	if (l->fd < 0)
		return;
	/* Leave the file: removing it would race with a waiter that has it open already. */
	if (ftruncate(l->fd, 0))
		pr_debug("%s: %s", l->path, strerror(errno));
	close(l->fd);
	l->fd = -1;
}

int lock_iface(struct iface_lock *l, const char *ifname, const char *what)
{
	struct lock_holder h = { 0 };
	int err = lock_acquire(l, NULL, ifname, what, 5000, &h);

	if (err == -EBUSY) {
		if (!strcmp(h.what, AMLG_LOCK_DAEMON)) {
			pr_err("%s: the amlguard daemon (pid %ld) manages this interface", ifname,
			       (long)h.pid);
			pr_hint("change its configuration and reload it (systemctl reload amlguard, "
				"or kill -HUP %ld), or stop it first",
				(long)h.pid);
		} else {
			pr_err("%s: busy: 'amlguard %s' (pid %ld) is changing this interface",
			       ifname, h.what[0] ? h.what : "?", (long)h.pid);
			pr_hint("try again when it has finished");
		}
	} else if (err) {
		pr_err("%s: cannot lock %s/%s.lock: %s", ifname, AMLG_LOCK_DIR, ifname,
		       strerror(-err));
	}
	return err;
}
