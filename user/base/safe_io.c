// SPDX-License-Identifier: GPL-2.0-only
/* Opening what other people may have prepared: outputs, inputs and amlguard's own directories. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/safe_io.h"

const char *file_kind(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return "a regular file";
	case S_IFDIR:
		return "a directory";
	case S_IFIFO:
		return "a FIFO";
	case S_IFSOCK:
		return "a socket";
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	case S_IFLNK:
		return "a symbolic link";
	default:
		return "not a regular file";
	}
}

static bool trusted_owner(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

/* The directory of path, for the permission check: "." for a bare name. */
static void dir_of(const char *path, char *buf, size_t sz)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(buf, sz, ".");
	else if (slash == path)
		snprintf(buf, sz, "/");
	else
		snprintf(buf, sz, "%.*s", (int)(slash - path), path);
}

int open_output_nofollow(const char *path, int flags, mode_t mode, char *why, size_t whysz)
{
	char dir[4096];
	struct stat ds, st;
	bool shared;
	int fd, err;

	if (!*path) {
		snprintf(why, whysz, "empty file name");
		return -EINVAL;
	}
	dir_of(path, dir, sizeof(dir));
	if (stat(dir, &ds)) {
		err = -errno;
		snprintf(why, whysz, "%s: %s", dir, strerror(-err));
		return err;
	}
	/*
	 * A directory another user owns or can write lets that user put a link where root is
	 * about to write.  A sticky one (/tmp) is fine as long as the file turns out to be ours.
	 */
	if (!trusted_owner(ds.st_uid)) {
		snprintf(why, whysz, "the directory %s belongs to uid %u, not root", dir,
			 (unsigned)ds.st_uid);
		return -EPERM;
	}
	shared = ds.st_mode & (S_IWGRP | S_IWOTH);
	if (shared && !(ds.st_mode & S_ISVTX)) {
		snprintf(why, whysz, "the directory %s is writable by others (mode %04o)", dir,
			 (unsigned)(ds.st_mode & 07777));
		return -EPERM;
	}
	/* O_NONBLOCK: a FIFO without a reader must not hang the daemon; refused below anyway. */
	/* O_TRUNC after the checks: never truncate what is then refused */
	fd = open(path,
		  O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY |
			  (flags & ~O_TRUNC),
		  mode);
	if (fd < 0) {
		err = -errno;
		if (err == -ELOOP)
			snprintf(why, whysz, "it is a symbolic link (not followed)");
		else if (err == -ENXIO)
			snprintf(why, whysz, "it is a FIFO: not a file");
		else
			snprintf(why, whysz, "%s", strerror(-err));
		return err;
	}
	if (fstat(fd, &st)) {
		err = -errno;
		snprintf(why, whysz, "%s", strerror(-err));
		goto fail;
	}
	err = -EPERM;
	if (S_ISREG(st.st_mode)) {
		if (!trusted_owner(st.st_uid)) {
			snprintf(why, whysz, "it belongs to uid %u, not root", (unsigned)st.st_uid);
			goto fail;
		}
		if (st.st_nlink > 1) {
			snprintf(why, whysz, "it has %lu hard links: it may be another file",
				 (unsigned long)st.st_nlink);
			goto fail;
		}
	} else if (!S_ISCHR(st.st_mode)) {
		snprintf(why, whysz, "it is %s: not a file", file_kind(st.st_mode));
		goto fail;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)) {
		err = -errno;
		snprintf(why, whysz, "%s", strerror(-err));
		goto fail;
	}
	if ((flags & O_TRUNC) && S_ISREG(st.st_mode) && ftruncate(fd, 0)) {
		err = -errno;
		snprintf(why, whysz, "%s", strerror(-err));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return err;
}

int open_input_regular(const char *path, char *why, size_t whysz)
{
	struct stat st;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		err = -errno;
		snprintf(why, whysz, "%s", strerror(-err));
		return err;
	}
	if (fstat(fd, &st)) {
		err = -errno;
		snprintf(why, whysz, "%s", strerror(-err));
		close(fd);
		return err;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whysz, "it is %s, not a regular file", file_kind(st.st_mode));
		close(fd);
		return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)) {
		err = -errno;
		snprintf(why, whysz, "%s", strerror(-err));
		close(fd);
		return err;
	}
	return fd;
}

int secure_dir(const char *path, bool create, char *why, size_t whysz)
{
	struct stat st;
	int err;

	if (create && mkdir(path, 0700) && errno != EEXIST) {
		err = -errno;
		snprintf(why, whysz, "cannot create it: %s", strerror(-err));
		return err;
	}
	if (lstat(path, &st)) {
		err = -errno;
		snprintf(why, whysz, "%s", strerror(-err));
		return err;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, whysz, "it is %s, not a directory", file_kind(st.st_mode));
		return -ENOTDIR;
	}
	if (st.st_uid != geteuid()) {
		snprintf(why, whysz, "it belongs to uid %u, not to root: someone else made it",
			 (unsigned)st.st_uid);
		return -EPERM;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(why, whysz, "others can write it (mode %04o)",
			 (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}
