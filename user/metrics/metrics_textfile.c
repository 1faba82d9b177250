// SPDX-License-Identifier: GPL-2.0-only
/* The metrics as a node_exporter textfile, replaced atomically. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics/metrics_textfile.h"

int metrics_textfile_write(const char *path, const char *text, size_t len)
{
	char tmp[4096];
	size_t off = 0;
	int fd, err = 0;

	/*
	 * Beside the target, so that rename() stays in one filesystem; node_exporter reads only
	 * *.prom, so it never sees the temporary file.  Its name is unpredictable and it is
	 * created exclusively: the textfile directory usually belongs to node_exporter's user,
	 * who must not be able to plant a link there that root would write through.  Readable
	 * by all (node_exporter does not run as root), writable by none but root.
	 */
	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemps(tmp, 4, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0644)) {
		err = -errno;
		close(fd);
		unlink(tmp);
		return err;
	}
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
