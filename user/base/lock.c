// SPDX-License-Identifier: GPL-2.0-only
/* One owner per interface: an flock(2) on /run/amlguard/<ifname>.lock. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "base/ifname.h"
#include "base/lock.h"
#include "base/log.h"
#include "base/safe_io.h"

#define LOCK_POLL_MS 20
/* Tries when the file is unlinked under us (its holder let go): each retry is progress. */
#define LOCK_RETRIES 100

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

/* Does path still name the file open on fd? */
static bool still_named(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && lstat(path, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

/* Is pid holding, on one of its descriptors, the inode dev:ino, as a deleted "path"? */
static int deleted_holder_fd(pid_t pid, const char *path, dev_t dev, ino_t ino)
{
	char dpath[64], fpath[320], link[400], want[400];
	struct dirent *e;
	struct stat st;
	int fd = -1;
	DIR *d;

	snprintf(want, sizeof(want), "%s (deleted)", path);
	snprintf(dpath, sizeof(dpath), "/proc/%ld/fd", (long)pid);
	d = opendir(dpath);
	if (!d)
		return -1;
	while (fd < 0 && (e = readdir(d))) {
		ssize_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(fpath, sizeof(fpath), "%s/%s", dpath, e->d_name);
		n = readlink(fpath, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (strcmp(link, want) || stat(fpath, &st) || st.st_dev != dev || st.st_ino != ino)
			continue;
		fd = open(fpath, O_RDONLY | O_CLOEXEC);
	}
	closedir(d);
	return fd;
}

/*
 * Someone deleted the lock file while its holder (a daemon) kept it: the holder still owns the
 * interface, through a file nobody can open by name any more.  Find it in /proc/locks: an
 * flock on another inode of the same filesystem whose holder has it open as "path (deleted)".
 * Returns true with *h filled in.
 */
static bool orphaned_holder(const struct iface_lock *l, struct lock_holder *h)
{
	char line[256], kind[16], mode[16], rw[16];
	struct stat own;
	bool found = false;
	FILE *f;

	if (fstat(l->fd, &own))
		return false;
	f = fopen("/proc/locks", "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned maj, min;
		unsigned long long ino;
		long pid;
		int fd;

		if (strstr(line, "->") || sscanf(line, "%*d: %15s %15s %15s %ld %x:%x:%llu", kind,
						 mode, rw, &pid, &maj, &min, &ino) != 7)
			continue;
		if (strcmp(kind, "FLOCK") || strcmp(rw, "WRITE") || pid <= 0 ||
		    makedev(maj, min) != own.st_dev || (ino_t)ino == own.st_ino)
			continue;
		fd = deleted_holder_fd((pid_t)pid, l->path, own.st_dev, (ino_t)ino);
		if (fd < 0)
			continue;
		read_holder(fd, h);
		if (!h->pid)
			h->pid = (pid_t)pid;
		close(fd);
		found = true;
	}
	fclose(f);
	return found;
}

static int open_dir(const char *dir)
{
	char why[160];
	int err = secure_dir(dir, true, why, sizeof(why));

	if (err)
		pr_err("%s: refusing it as the lock directory: %s", dir, why);
	if (err == -EPERM || err == -ENOTDIR)
		pr_hint("remove it (amlguard creates it, 0700 and root's)");
	return err;
}

int lock_acquire(struct iface_lock *l, const char *dir, const char *ifname, const char *what,
		 unsigned wait_ms, struct lock_holder *holder)
{
	struct lock_holder h;
	unsigned waited = 0, tries = 0;
	char why[96];
	int n, err;

	l->fd = -1;
	l->dir[0] = '\0';
	if (!ifname_valid(ifname, why, sizeof(why)))
		return -EINVAL;
	if (!dir)
		dir = AMLG_LOCK_DIR;
	n = snprintf(l->path, sizeof(l->path), "%s/%s.lock", dir, ifname);
	if (n < 0 || (size_t)n >= sizeof(l->path))
		return -EINVAL;
	snprintf(l->dir, sizeof(l->dir), "%s", dir);
again:
	if (++tries > LOCK_RETRIES)
		return -EAGAIN;
	/* root's alone: the locks say which process holds which interface */
	err = open_dir(dir);
	if (err)
		return err;
	/* CLOEXEC: an alert command the daemon starts must not inherit, and keep, the lock. */
	l->fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (l->fd < 0) {
		err = -errno;
		if (err == -ENOENT) /* the directory went away with its last lock: again */
			goto again;
		return err;
	}
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
		if (waited >= wait_ms || !strcmp(h.what, AMLG_LOCK_DAEMON))
			goto busy;
		sleep_ms(LOCK_POLL_MS);
		waited += LOCK_POLL_MS;
	}
	/* Its holder removed it on release while we waited: the lock is the file at the name. */
	if (!still_named(l->fd, l->path)) {
		close(l->fd);
		l->fd = -1;
		goto again;
	}
	/*
	 * A holder whose file was deleted under it still holds the interface.  Its own release
	 * (unlink, then close) looks the same for an instant: look again before saying busy.
	 */
	for (int i = 0; orphaned_holder(l, &h); i++) {
		if (i == 10)
			goto busy;
		sleep_ms(LOCK_POLL_MS);
	}
	err = write_holder(l->fd, what);
	if (err)
		goto fail;
	return 0;
busy:
	if (holder)
		*holder = h;
	err = -EBUSY;
fail:
	close(l->fd);
	l->fd = -1;
	return err;
}

int lock_verify(struct iface_lock *l, struct lock_holder *holder)
{
	struct lock_holder h;
	int fd, err;

	if (l->fd < 0 || still_named(l->fd, l->path))
		return 0;
	err = open_dir(l->dir);
	if (err)
		return err;
	/* deleted, or replaced: lock what is at the name now, or put a file there again */
	fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		err = -errno;
		if (err == -EWOULDBLOCK) {
			read_holder(fd, &h);
			if (holder)
				*holder = h;
			err = -EBUSY;
		}
		close(fd);
		return err;
	}
	if (fchmod(fd, 0600) || write_holder(fd, AMLG_LOCK_DAEMON)) {
		err = -errno;
		close(fd);
		return err;
	}
	close(l->fd);
	l->fd = fd;
	return 1;
}

void lock_release(struct iface_lock *l)
{
	if (l->fd < 0)
		return;
	/*
	 * Remove the file while still holding it: a waiter that has it open already sees it is
	 * no longer at the name and starts over with a new one.  Then the directory, when this
	 * was its last lock.
	 */
	if (still_named(l->fd, l->path) && unlink(l->path))
		pr_debug("%s: %s", l->path, strerror(errno));
	close(l->fd);
	l->fd = -1;
	if (l->dir[0] && !strcmp(l->dir, AMLG_LOCK_DIR))
		rmdir(l->dir);
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
	} else if (err == -EINVAL) {
		char why[96];

		if (!ifname_valid(ifname, why, sizeof(why)))
			pr_err("%s: %s", ifname, why);
		else
			pr_err("%s: cannot lock %s/%s.lock: name too long", ifname, AMLG_LOCK_DIR,
			       ifname);
	} else if (err && err != -EPERM && err != -ENOTDIR) {
		pr_err("%s: cannot lock %s/%s.lock: %s", ifname, AMLG_LOCK_DIR, ifname,
		       strerror(-err));
	}
	return err;
}
