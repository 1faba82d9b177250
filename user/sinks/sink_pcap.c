// SPDX-License-Identifier: GPL-2.0-only
/* Violating packets as a capture file: libpcap writes it, zlib compresses it for ".gz". */
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/safe_io.h"
#include "sinks/sink.h"
#include "sinks/sink_pcap.h"

static bool is_gz(const char *path)
{
	size_t n = strlen(path);

	return n > 3 && !strcmp(path + n - 3, ".gz");
}

/* A stdio stream over a gzip file, for pcap_dump_fopen(). */
static ssize_t gz_write(void *cookie, const char *buf, size_t size)
{
	int n = gzwrite((gzFile)cookie, buf, (unsigned)size);

	return n > 0 ? n : (size ? -1 : 0);
}

static int gz_close(void *cookie)
{
	return gzclose((gzFile)cookie) == Z_OK ? 0 : EOF;
}

/* NAME.pcap.gz -> NAME-<UTC time>.pcap.gz, for a gzip capture that exists already. */
static int move_aside(const char *path)
{
	char stamp[32], *aside;
	size_t base = strlen(path) - 3;
	time_t now = time(NULL);
	struct tm tm;
	int err = 0;

	if (base > 5 && !strncmp(path + base - 5, ".pcap", 5))
		base -= 5;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	if (asprintf(&aside, "%.*s-%s%s", (int)base, path, stamp, path + base) < 0)
		return -ENOMEM;
	if (rename(path, aside))
		err = -errno;
	else
		pr_info("%s: existing capture moved to %s", path, aside);
	free(aside);
	return err;
}

static int open_plain(struct sink_pcap *s, bool append, char *why, size_t whysz)
{
	FILE *f;
	int fd;

	fd = open_output_nofollow(s->path, append ? O_APPEND : O_TRUNC, 0640, why, whysz);
	if (fd < 0)
		return fd;
	if (append) {
		char errbuf[PCAP_ERRBUF_SIZE], self[64];

		/*
		 * libpcap appends by name only: give it the file just checked, through its
		 * descriptor, so that it cannot open another one put there since.
		 */
		snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
		s->dump = pcap_dump_open_append(s->pd, self);
		close(fd);
		if (!s->dump) {
			snprintf(errbuf, sizeof(errbuf), "%s", pcap_geterr(s->pd));
			pr_err("%s: cannot append to the capture: %s", s->path, errbuf);
			pr_hint("move the file away, or choose another --pcap file");
			return -EINVAL;
		}
		fd = fileno(pcap_dump_file(s->dump));
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		return 0;
	}
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		snprintf(why, whysz, "out of memory");
		return -ENOMEM;
	}
	s->dump = pcap_dump_fopen(s->pd, f);
	if (!s->dump) {
		fclose(f);
		snprintf(why, whysz, "%s", pcap_geterr(s->pd));
		return -EIO;
	}
	return 0;
}

static int open_gz(struct sink_pcap *s, char *why, size_t whysz)
{
	cookie_io_functions_t io = { .write = gz_write, .close = gz_close };
	FILE *f;
	int fd;

	fd = open_output_nofollow(s->path, O_TRUNC, 0640, why, whysz);
	if (fd < 0)
		return fd;
	snprintf(why, whysz, "out of memory");
	s->gz = gzdopen(fd, "wb6");
	if (!s->gz) {
		close(fd);
		return -ENOMEM;
	}
	f = fopencookie(s->gz, "w", io);
	if (!f) {
		gzclose(s->gz);
		s->gz = NULL;
		return -ENOMEM;
	}
	s->dump = pcap_dump_fopen(s->pd, f);
	if (!s->dump) {
		snprintf(why, whysz, "%s", pcap_geterr(s->pd));
		fclose(f);
		s->gz = NULL;
		return -EIO;
	}
	return 0;
}

static int do_close(struct sink_pcap *s);

static int do_open(struct sink_pcap *s)
{
	struct stat st;
	bool exists = lstat(s->path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
	char why[512] = "";
	int err;

	s->pd = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, AMLG_SNAP_MAX,
						     PCAP_TSTAMP_PRECISION_NANO);
	if (!s->pd)
		return -ENOMEM;
	if (is_gz(s->path)) {
		err = exists ? move_aside(s->path) : 0;
		if (err)
			snprintf(why, sizeof(why), "cannot move the existing file aside: %s",
				 strerror(-err));
		else
			err = open_gz(s, why, sizeof(why));
	} else {
		err = open_plain(s, exists, why, sizeof(why));
	}
	if (err) {
		if (why[0])
			pr_err("%s: cannot write the capture: %s", s->path, why);
		pcap_close(s->pd);
		s->pd = NULL;
		return err;
	}
	/* Written at once: the header is there even before the first packet. */
	errno = EIO;
	if (pcap_dump_flush(s->dump) || (s->gz && gzflush(s->gz, Z_SYNC_FLUSH) != Z_OK)) {
		err = -errno;
		pr_err("%s: cannot write the capture: %s", s->path, strerror(-err));
		do_close(s);
		return err;
	}
	if (stat(s->path, &st) == 0) {
		s->dev = st.st_dev;
		s->ino = st.st_ino;
	}
	return 0;
}

int sink_pcap_open(struct sink_pcap *s, const char *path)
{
	int err;

	memset(s, 0, sizeof(*s));
	s->path = strdup(path);
	if (!s->path)
		return -ENOMEM;
	err = do_open(s);
	if (err) {
		free(s->path);
		s->path = NULL;
	}
	return err;
}

/* 0, or -errno when what was buffered could not be written out (a full disk). */
static int do_close(struct sink_pcap *s)
{
	int err = 0;

	if (s->dump) {
		FILE *f = pcap_dump_file(s->dump);

		errno = EIO;
		if (fflush(f) || ferror(f))
			err = -errno;
		/* the gzip trailer now, while a failure can still be seen */
		if (!err && s->gz && gzflush(s->gz, Z_FINISH) != Z_OK)
			err = -(errno ? errno : EIO);
		pcap_dump_close(s->dump); /* closes the stream, and so the gzip file */
	}
	if (s->pd)
		pcap_close(s->pd);
	s->dump = NULL;
	s->pd = NULL;
	s->gz = NULL;
	return err;
}

int sink_pcap_reopen(struct sink_pcap *s)
{
	struct stat st;

	if (!s->path)
		return 0;
	if (stat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino)
		return 0;
	if (do_close(s))
		s->errors++;
	return do_open(s);
}

int sink_pcap_write_raw(struct sink_pcap *s, uint64_t real_ns, const uint8_t *frame, uint32_t cap,
			uint32_t len)
{
	struct pcap_pkthdr h;

	if (!s->dump)
		return -EBADF;
	memset(&h, 0, sizeof(h));
	/* With nanosecond precision, libpcap takes nanoseconds in tv_usec. */
	h.ts.tv_sec = (time_t)(real_ns / 1000000000);
	h.ts.tv_usec = (suseconds_t)(real_ns % 1000000000);
	h.caplen = cap;
	h.len = len > cap ? len : cap;
	errno = EIO;
	pcap_dump((u_char *)s->dump, &h, frame);
	if (ferror(pcap_dump_file(s->dump))) {
		s->errors++;
		if (!s->err)
			s->err = -errno;
		clearerr(pcap_dump_file(s->dump));
		return s->err;
	}
	s->packets++;
	s->dirty = true;
	return 0;
}

int sink_pcap_write(struct sink_pcap *s, const struct amlg_event *ev, uint64_t real_ns)
{
	return sink_pcap_write_raw(s, real_ns, ev->pkt, ev->cap_len, ev->pkt_len);
}

int sink_pcap_flush(struct sink_pcap *s)
{
	if (!s->dump || !s->dirty)
		return 0;
	s->dirty = false;
	errno = EIO;
	if (pcap_dump_flush(s->dump) || (s->gz && gzflush(s->gz, Z_SYNC_FLUSH) != Z_OK)) {
		s->errors++;
		if (!s->err)
			s->err = -errno;
		return -EIO;
	}
	return 0;
}

int sink_pcap_close(struct sink_pcap *s)
{
	int err = do_close(s);

	if (!err)
		err = s->err;
	free(s->path);
	memset(s, 0, sizeof(*s));
	return err;
}

/* The capture behind struct sink_ops: an event's packet bytes, when it carries some. */
struct pcap_sink {
	struct sink sink; /* first */
	struct sink_pcap p;
};
_Static_assert(offsetof(struct pcap_sink, sink) == 0, "sink_container() needs it first");

static int capture_open(struct sink *s, const char *path)
{
	return sink_pcap_open(&sink_container(s, struct pcap_sink)->p, path);
}

static int capture_write(struct sink *s, const struct sink_event *e)
{
	if (!e->ev->cap_len)
		return -ENODATA;
	return sink_pcap_write(&sink_container(s, struct pcap_sink)->p, e->ev, e->real_ns);
}

static int capture_reopen(struct sink *s)
{
	return sink_pcap_reopen(&sink_container(s, struct pcap_sink)->p);
}

static int capture_flush(struct sink *s)
{
	struct sink_pcap *p = &sink_container(s, struct pcap_sink)->p;
	int err = sink_pcap_flush(p);

	if (err)
		pr_warn("%s: cannot write the capture", p->path);
	return err;
}

static unsigned long capture_errors(const struct sink *s)
{
	return sink_container(s, const struct pcap_sink)->p.errors;
}

static int capture_close(struct sink *s)
{
	return sink_pcap_close(&sink_container(s, struct pcap_sink)->p);
}

const struct sink_ops sink_pcap_ops = {
	.name = "pcap",
	.size = sizeof(struct pcap_sink),
	.open = capture_open,
	.write = capture_write,
	.reopen = capture_reopen,
	.flush = capture_flush,
	.errors = capture_errors,
	.close = capture_close,
};
