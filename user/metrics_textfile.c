// SPDX-License-Identifier: GPL-2.0-only
/* The metrics as a node_exporter textfile, replaced atomically. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "metrics_textfile.h"

int metrics_textfile_write(const char *path, const char *text, size_t len)
{
	char tmp[4096];
	size_t off = 0;
	int fd, err = 0;

	/*
	 * Beside the target, so that rename() stays in one filesystem; node_exporter reads only
	 * *.prom, so it never sees the temporary file.
	 */
	if (snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			break;
		}
		off += (size_t)n;
	}
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}
