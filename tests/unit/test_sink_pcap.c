// SPDX-License-Identifier: GPL-2.0-only
/* The capture sink: read back with libpcap, plain and gzip, appended, moved aside, rotated. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "unit.h"
#include <dirent.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "sinks/sink_pcap.h"
#include "tmpdir.h"

#define T0 1700000000123456789ull

static char dir[] = "/tmp/amlg-pcap-XXXXXX";

static void event(struct amlg_event *ev, uint8_t tag, uint16_t cap, uint32_t len)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = AMLG_EV_VIOLATION;
	ev->cap_len = cap;
	ev->pkt_len = len;
	for (unsigned i = 0; i < cap; i++)
		ev->pkt[i] = (uint8_t)(tag + i);
}

/* libpcap reads a gzip file through a stdio stream over zlib, as a reader would. */
static ssize_t gz_read(void *c, char *buf, size_t n)
{
	return gzread((gzFile)c, buf, (unsigned)n);
}

static int gz_close(void *c)
{
	return gzclose((gzFile)c) == Z_OK ? 0 : EOF;
}

static pcap_t *open_read(const char *path)
{
	char err[PCAP_ERRBUF_SIZE];
	size_t n = strlen(path);

	if (n > 3 && !strcmp(path + n - 3, ".gz")) {
		cookie_io_functions_t io = { .read = gz_read, .close = gz_close };
		gzFile gz = gzopen(path, "rb");
		FILE *f = gz ? fopencookie(gz, "r", io) : NULL;

		return f ? pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO,
								    err) :
			   NULL;
	}
	return pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
}

/* The packets of a capture: count, and check each one's bytes, lengths and time. */
static int read_back(const char *path, uint8_t first_tag)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *p = open_read(path);
	int n = 0;

	assert_non_null(p);
	assert_int_equal(pcap_datalink(p), DLT_EN10MB);
	while (pcap_next_ex(p, &h, &data) == 1) {
		uint8_t tag = (uint8_t)(first_tag + n);

		assert_int_equal(h->caplen, 60);
		assert_int_equal(h->len, 1500);
		assert_int_equal(data[0], tag);
		assert_int_equal(data[59], (uint8_t)(tag + 59));
		assert_int_equal(h->ts.tv_sec, (T0 + (uint64_t)tag) / 1000000000);
		assert_int_equal(h->ts.tv_usec, (T0 + (uint64_t)tag) % 1000000000);
		n++;
	}
	pcap_close(p);
	return n;
}

static void write_some(struct sink_pcap *s, uint8_t first_tag, int count)
{
	struct amlg_event ev;

	for (int i = 0; i < count; i++) {
		uint8_t tag = (uint8_t)(first_tag + i);

		event(&ev, tag, 60, 1500);
		assert_int_equal(sink_pcap_write(s, &ev, T0 + tag), 0);
	}
}

static void roundtrip(const char *name)
{
	char path[128];
	struct sink_pcap s;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(sink_pcap_open(&s, path), 0);
	write_some(&s, 0, 3);
	/* flushed, a reader sees the packets while the file is still open */
	assert_int_equal(sink_pcap_flush(&s), 0);
	assert_int_equal(read_back(path, 0), 3);
	write_some(&s, 3, 2);
	sink_pcap_close(&s);
	assert_int_equal(read_back(path, 0), 5);
}

static void test_plain(void **state)
{
	roundtrip("a.pcap");
}

static void test_gzip(void **state)
{
	roundtrip("a.pcap.gz");
}

/* A plain capture that exists is continued. */
static void test_append(void **state)
{
	char path[128];
	struct sink_pcap s;

	snprintf(path, sizeof(path), "%s/app.pcap", dir);
	assert_int_equal(sink_pcap_open(&s, path), 0);
	write_some(&s, 0, 2);
	sink_pcap_close(&s);
	assert_int_equal(sink_pcap_open(&s, path), 0);
	write_some(&s, 2, 2);
	sink_pcap_close(&s);
	assert_int_equal(read_back(path, 0), 4);
}

/* A file that is not a capture is refused, and left alone. */
static void test_refuse_foreign(void **state)
{
	char path[128];
	struct sink_pcap s;
	FILE *f;

	snprintf(path, sizeof(path), "%s/notes.pcap", dir);
	f = fopen(path, "w");
	fputs("not a capture, but someone's notes\n", f);
	fclose(f);
	assert_int_not_equal(sink_pcap_open(&s, path), 0);
	f = fopen(path, "r");
	{
		char line[64];

		assert_non_null(fgets(line, sizeof(line), f));
		assert_string_equal(line, "not a capture, but someone's notes\n");
	}
	fclose(f);
}

/* An existing gzip capture is moved aside, whole, and a new one begins. */
static void test_gzip_aside(void **state)
{
	char path[128], aside[300] = "";
	struct sink_pcap s;
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "%s/g.pcap.gz", dir);
	assert_int_equal(sink_pcap_open(&s, path), 0);
	write_some(&s, 0, 2);
	sink_pcap_close(&s);
	assert_int_equal(sink_pcap_open(&s, path), 0);
	write_some(&s, 10, 1);
	sink_pcap_close(&s);
	d = opendir(dir);
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "g-", 2))
			snprintf(aside, sizeof(aside), "%s/%s", dir, e->d_name);
	closedir(d);
	assert_true(aside[0]);
	assert_non_null(strstr(aside, ".pcap.gz"));
	assert_int_equal(read_back(aside, 0), 2);
	assert_int_equal(read_back(path, 10), 1);
}

/* Rotation: reopen writes to a new file only when the name was moved away. */
static void test_rotation(void **state)
{
	char path[128], moved[140];
	struct sink_pcap s;

	snprintf(path, sizeof(path), "%s/r.pcap", dir);
	snprintf(moved, sizeof(moved), "%s/r.pcap.1", dir);
	assert_int_equal(sink_pcap_open(&s, path), 0);
	write_some(&s, 0, 1);
	assert_int_equal(sink_pcap_reopen(&s), 0); /* same file: nothing happens */
	write_some(&s, 1, 1);
	assert_int_equal(sink_pcap_flush(&s), 0);
	assert_int_equal(rename(path, moved), 0);
	assert_int_equal(sink_pcap_reopen(&s), 0);
	write_some(&s, 2, 3);
	sink_pcap_close(&s);
	assert_int_equal(read_back(moved, 0), 2);
	assert_int_equal(read_back(path, 2), 3);
}

/* A link planted where the capture goes is not followed, and its target is left alone. */
static void test_refuse_symlink(void **state)
{
	char path[128], target[128];
	struct sink_pcap s;
	struct stat st;
	FILE *f;

	snprintf(path, sizeof(path), "%s/planted.pcap", dir);
	snprintf(target, sizeof(target), "%s/precious", dir);
	f = fopen(target, "w");
	fputs("precious\n", f);
	fclose(f);
	assert_int_equal(symlink(target, path), 0);
	assert_int_equal(sink_pcap_open(&s, path), -ELOOP);
	snprintf(path, sizeof(path), "%s/planted.pcap.gz", dir);
	assert_int_equal(symlink(target, path), 0);
	assert_int_equal(sink_pcap_open(&s, path), -ELOOP);
	assert_int_equal(stat(target, &st), 0);
	assert_int_equal(st.st_size, 9);
}

/* A device that takes nothing: the header cannot be written, the open fails. */
static void test_dev_full(void **state)
{
	struct sink_pcap s;

	assert_int_equal(sink_pcap_open(&s, "/dev/full"), -ENOSPC);
}

/*
 * The disk fills up after the header (RLIMIT_FSIZE stands in for it): the writes or the
 * close report it; a capture cut short is never a success.
 */
static void full_midway(const char *name)
{
	struct rlimit old, lim = { .rlim_cur = 4096, .rlim_max = RLIM_INFINITY };
	char path[128];
	struct sink_pcap s;
	struct amlg_event ev;
	int err = 0, cerr;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim.rlim_max = old.rlim_max;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(sink_pcap_open(&s, path), 0);
	for (unsigned i = 0; i < 400 && !err; i++) {
		event(&ev, (uint8_t)(i * 7), 200, 1500);
		/* random-ish bytes, so that gzip cannot squeeze them under the limit */
		for (unsigned j = 0; j < 200; j++)
			ev.pkt[j] = (uint8_t)((i * 2654435761u + j * 40503u) >> 13);
		err = sink_pcap_write(&s, &ev, T0 + i);
	}
	cerr = sink_pcap_close(&s);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_true(err == -EFBIG || cerr == -EFBIG);
}

static void test_full_plain(void **state)
{
	full_midway("full.pcap");
}

static void test_full_gzip(void **state)
{
	full_midway("full.pcap.gz");
}

static int setup(void **state)
{
	return tmpdir_make(dir);
}

static int teardown(void **state)
{
	return tmpdir_remove(dir);
}

UNIT_TESTS(setup, teardown, cmocka_unit_test(test_plain), cmocka_unit_test(test_gzip),
	   cmocka_unit_test(test_append), cmocka_unit_test(test_refuse_foreign),
	   cmocka_unit_test(test_gzip_aside), cmocka_unit_test(test_rotation),
	   cmocka_unit_test(test_refuse_symlink), cmocka_unit_test(test_dev_full),
	   cmocka_unit_test(test_full_plain), cmocka_unit_test(test_full_gzip))
