// SPDX-License-Identifier: GPL-2.0-only
/*
 * The sinks: the JSON-lines file across a rotation, the journal's field names, and all of them
 * driven through struct sink_ops (sink.h) as the daemon drives them: open, write, reopen after
 * logrotate moved the file away, flush, close, and what landed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "unit.h"
#include <errno.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sinks/sink.h"
#include "sinks/sink_file.h"
#include "sinks/sink_journal.h"
#include "stdcapture.h"
#include "tmpdir.h"

#define T0 1700000000123456789ull

static char scratch[] = "/tmp/amlg-sinks-XXXXXX";

static int lines(const char *path)
{
	FILE *f = fopen(path, "r");
	char buf[256];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(buf, sizeof(buf), f))
		n++;
	fclose(f);
	return n;
}

static void test_file_rotation(void **state)
{
	char dir[] = "/tmp/amlg-sink-XXXXXX", path[64], moved[72], cmd[96];
	json_t *o = json_pack("{s:s, s:i}", "dir", "out", "dport", 443);
	struct sink_file s;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/v.json", dir);
	snprintf(moved, sizeof(moved), "%s/v.json.1", dir);
	assert_int_equal(sink_file_open(&s, path), 0);
	assert_int_equal(sink_file_write(&s, o), 0);
	assert_int_equal(sink_file_write(&s, o), 0);
	/* line-buffered: the lines are in the file without a flush */
	assert_int_equal(lines(path), 2);
	assert_int_equal(rename(path, moved), 0);
	assert_int_equal(sink_file_write(&s, o), 0); /* still the old file */
	assert_int_equal(sink_file_reopen(&s), 0);
	assert_int_equal(sink_file_write(&s, o), 0);
	assert_int_equal(lines(moved), 3);
	assert_int_equal(lines(path), 1);
	assert_int_equal(s.lines, 4);
	sink_file_close(&s);
	/* appended, never truncated */
	assert_int_equal(sink_file_open(&s, path), 0);
	assert_int_equal(sink_file_write(&s, o), 0);
	sink_file_close(&s);
	assert_int_equal(lines(path), 2);
	/* a directory that is gone: the old file stays in use */
	assert_int_equal(sink_file_open(&s, path), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(sink_file_reopen(&s), -ENOENT);
	assert_int_equal(sink_file_write(&s, o), 0);
	sink_file_close(&s);
	assert_int_equal(sink_file_open(&s, path), -ENOENT);
	json_decref(o);
}

static void test_journal_names(void **state)
{
	char buf[64];

	assert_int_equal(journal_field_name("dport", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "AMLG_DPORT");
	assert_int_equal(journal_field_name("policy_sha256", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "AMLG_POLICY_SHA256");
	assert_int_equal(journal_field_name("bad-name", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(journal_field_name("", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(
		journal_field_name("a_very_long_field_name_that_journald_would_refuse_to_take_xyz",
				   buf, sizeof(buf)),
		-EINVAL);
}

/* A TCP violation from 10.0.0.1:40000 to 20.1.2.3:443 with cap bytes tag, tag+1, ... */
struct violation {
	struct amlg_event ev;
	struct event_ctx cx;
	struct sink_event se;
};

static void violation(struct violation *v, uint8_t tag, uint16_t cap)
{
	memset(v, 0, sizeof(*v));
	v->ev.ts_ns = T0;
	v->ev.type = AMLG_EV_VIOLATION;
	v->ev.dir = AMLG_DIR_OUT;
	v->ev.family = 4;
	v->ev.proto = AMLG_PROTO_TCP;
	v->ev.reason = AMLG_REASON_NO_RULE;
	v->ev.rule = AMLG_RULE_NONE;
	v->ev.sport = 40000;
	v->ev.dport = 443;
	memcpy(v->ev.saddr, (uint8_t[]){ 10, 0, 0, 1 }, 4);
	memcpy(v->ev.daddr, (uint8_t[]){ 20, 1, 2, 3 }, 4);
	v->ev.pkt_len = 1500;
	v->ev.cap_len = cap;
	for (unsigned i = 0; i < cap; i++)
		v->ev.pkt[i] = (uint8_t)(tag + i);
	v->cx.ifname = "eth0";
	v->se.ev = &v->ev;
	v->se.cx = &v->cx;
	v->se.json = event_json(&v->ev, &v->cx);
	assert_non_null(v->se.json);
	v->se.real_ns = T0 + tag;
}

/* Every line of text is the event's JSON; how many there are. */
static int json_lines_in(const char *text, json_t *want)
{
	const char *p = text;
	int n = 0;

	while (*p) {
		const char *nl = strchr(p, '\n');
		json_error_t e;
		json_t *got;

		assert_non_null(nl);
		got = json_loadb(p, (size_t)(nl - p), 0, &e);
		assert_non_null(got);
		assert_true(json_equal(got, want));
		json_decref(got);
		n++;
		p = nl + 1;
	}
	return n;
}

static int json_lines(const char *path, json_t *want)
{
	FILE *f = fopen(path, "r");
	char buf[4096];
	size_t len;

	assert_non_null(f);
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	return json_lines_in(buf, want);
}

static void test_ops_file(void **state)
{
	char path[PATH_MAX], moved[PATH_MAX + 8], gone[PATH_MAX + 16];
	struct violation v;
	struct sink *s;

	snprintf(path, sizeof(path), "%s/ops.json", scratch);
	snprintf(moved, sizeof(moved), "%s.1", path);
	snprintf(gone, sizeof(gone), "%s/gone/ops.json", scratch);
	violation(&v, 1, 0);
	assert_string_equal(sink_file_ops.name, "file");
	assert_int_equal(sink_open(&sink_file_ops, path, &s), 0);
	assert_ptr_equal(s->ops, &sink_file_ops);
	assert_int_equal(sink_write(s, &v.se), 0);
	/* logrotate: the file is moved away, written to until the reopen, then made anew */
	assert_int_equal(rename(path, moved), 0);
	assert_int_equal(sink_write(s, &v.se), 0);
	assert_int_equal(sink_reopen(s), 0);
	assert_int_equal(sink_write(s, &v.se), 0);
	assert_int_equal(sink_flush(s), 0);
	assert_int_equal(sink_errors(s), 0);
	assert_int_equal(sink_close(s), 0);
	assert_int_equal(json_lines(moved, v.se.json), 2);
	assert_int_equal(json_lines(path, v.se.json), 1);
	assert_int_equal(sink_open(&sink_file_ops, gone, &s), -ENOENT);
	assert_null(s);
	json_decref(v.se.json);
}

static void test_ops_stdout(void **state)
{
	struct violation v;
	struct capture c;
	struct sink *s;
	int opened, w1, re, w2, errs, closed;
	char *out;

	violation(&v, 1, 0);
	assert_string_equal(sink_stdout_ops.name, "stdout");
	capture_start(&c, 1);
	opened = sink_open(&sink_stdout_ops, NULL, &s);
	w1 = opened ? opened : sink_write(s, &v.se);
	re = opened ? opened : sink_reopen(s);
	w2 = opened ? opened : sink_write(s, &v.se);
	errs = opened ? -1 : (int)sink_errors(s);
	closed = opened ? opened : sink_close(s);
	out = capture_end(&c);
	assert_int_equal(opened, 0);
	assert_int_equal(w1, 0);
	assert_int_equal(re, 0);
	assert_int_equal(w2, 0);
	assert_int_equal(errs, 0);
	assert_int_equal(closed, 0);
	assert_int_equal(json_lines_in(out, v.se.json), 2);
	free(out);
	json_decref(v.se.json);
}

/* A full disk (RLIMIT_FSIZE stands in for it): lines that do not fit are counted, not lost. */
static void test_ops_file_full(void **state)
{
	struct rlimit old, lim = { .rlim_cur = 600 };
	char path[PATH_MAX];
	struct violation v;
	int ok = 0, failed = 0;
	struct sink *s;

	snprintf(path, sizeof(path), "%s/full.json", scratch);
	violation(&v, 1, 0);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim.rlim_max = old.rlim_max;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(sink_open(&sink_file_ops, path, &s), 0);
	for (unsigned i = 0; i < 20; i++) {
		int err = sink_write(s, &v.se);

		if (err) {
			assert_int_equal(err, -EIO);
			failed++;
		} else {
			ok++;
		}
	}
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_true(ok > 0 && failed > 0);
	assert_int_equal(sink_errors(s), (unsigned long)failed);
	/* room again: the next line goes through */
	assert_int_equal(sink_write(s, &v.se), 0);
	sink_close(s);
	json_decref(v.se.json);
}

/* The packets of a plain capture: each one's first byte, lengths and time. */
static int packets(const char *path, const uint8_t *tags)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p =
		pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	struct pcap_pkthdr *h;
	const u_char *data;
	int n = 0;

	assert_non_null(p);
	while (pcap_next_ex(p, &h, &data) == 1) {
		assert_int_equal(h->caplen, 60);
		assert_int_equal(h->len, 1500);
		assert_int_equal(data[0], tags[n]);
		assert_int_equal((uint64_t)h->ts.tv_sec * 1000000000 + (uint64_t)h->ts.tv_usec,
				 T0 + tags[n]);
		n++;
	}
	pcap_close(p);
	return n;
}

static void test_ops_pcap(void **state)
{
	char path[PATH_MAX], moved[PATH_MAX + 8];
	struct violation v1, v2, v3, none;
	struct sink *s;

	snprintf(path, sizeof(path), "%s/ops.pcap", scratch);
	snprintf(moved, sizeof(moved), "%s.1", path);
	violation(&v1, 1, 60);
	violation(&v2, 2, 60);
	violation(&v3, 3, 60);
	violation(&none, 4, 0);
	assert_string_equal(sink_pcap_ops.name, "pcap");
	assert_int_equal(sink_open(&sink_pcap_ops, path, &s), 0);
	assert_int_equal(sink_write(s, &v1.se), 0);
	/* an event without packet bytes has nothing for a capture, and is no error */
	assert_int_equal(sink_write(s, &none.se), -ENODATA);
	assert_int_equal(rename(path, moved), 0);
	assert_int_equal(sink_write(s, &v2.se), 0);
	assert_int_equal(sink_flush(s), 0);
	assert_int_equal(sink_reopen(s), 0);
	assert_int_equal(sink_write(s, &v3.se), 0);
	/* the same file still: a reopen leaves it alone */
	assert_int_equal(sink_reopen(s), 0);
	assert_int_equal(sink_errors(s), 0);
	assert_int_equal(sink_close(s), 0);
	assert_int_equal(packets(moved, (uint8_t[]){ 1, 2 }), 2);
	assert_int_equal(packets(path, (uint8_t[]){ 3 }), 1);
	json_decref(v1.se.json);
	json_decref(v2.se.json);
	json_decref(v3.se.json);
	json_decref(none.se.json);
}

/* A flush that cannot write says so, is counted, and the close reports the capture cut short. */
static void test_ops_pcap_full(void **state)
{
	/*
	 * Room for the 24-byte header but not for a 76-byte packet record after it; and for the
	 * message, as the captured stderr is a file under the same limit.
	 */
	struct rlimit old, lim = { .rlim_cur = 96 };
	char path[PATH_MAX];
	struct violation v;
	struct capture c;
	struct sink *s;
	int written, flushed;
	char *err;

	snprintf(path, sizeof(path), "%s/full.pcap", scratch);
	violation(&v, 1, 60);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim.rlim_max = old.rlim_max;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(sink_open(&sink_pcap_ops, path, &s), 0);
	capture_start(&c, 2);
	written = sink_write(s, &v.se); /* buffered */
	flushed = sink_flush(s);
	err = capture_end(&c);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(written, 0);
	assert_int_equal(flushed, -EIO);
	assert_non_null(strstr(err, "full.pcap: cannot write the capture"));
	assert_int_equal(sink_errors(s), 1);
	assert_true(sink_close(s) < 0);
	free(err);
	json_decref(v.se.json);
}

/*
 * The journal: in a private mount namespace a socket stands in for journald's, and what the
 * sink sends is written to out for the parent to check.  Exit status: 0, 77 when a mount
 * namespace cannot be had, else the step that failed.
 */
static int journal_child(const char *out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX,
				  .sun_path = "/run/systemd/journal/socket" };
	struct violation v;
	struct sink *s;
	char buf[8192];
	ssize_t n;
	FILE *f;
	int fd;

	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("tmpfs", "/run", "tmpfs", 0, NULL))
		return 77;
	if (mkdir("/run/systemd", 0755) || mkdir("/run/systemd/journal", 0755))
		return 1;
	if (sink_open(&sink_journal_ops, NULL, &s) || s->ops != &sink_journal_ops)
		return 2;
	violation(&v, 1, 0);
	/* something that is not journald's socket: not sent, counted */
	f = fopen(sa.sun_path, "w");
	if (!f || fclose(f))
		return 3;
	if (sink_write(s, &v.se) >= 0 || sink_errors(s) != 1)
		return 4;
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (unlink(sa.sun_path) || fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return 5;
	if (sink_reopen(s) || sink_write(s, &v.se) || sink_errors(s) != 1)
		return 6;
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n <= 0)
		return 7;
	if (sink_close(s))
		return 8;
	f = fopen(out, "w");
	if (!f || fwrite(buf, 1, (size_t)n, f) != (size_t)n || fclose(f))
		return 9;
	json_decref(v.se.json);
	return 0;
}

static void test_ops_journal(void **state)
{
	char out[PATH_MAX], got[8192], *text = NULL;
	size_t len, tlen = 0;
	struct violation v;
	int status;
	pid_t pid;
	FILE *f, *mf;

	assert_string_equal(sink_journal_ops.name, "journal");
	snprintf(out, sizeof(out), "%s/journal.txt", scratch);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(journal_child(out));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		skip(); /* no mount namespace here (not root) */
	assert_int_equal(WEXITSTATUS(status), 0);
	f = fopen(out, "r");
	assert_non_null(f);
	len = fread(got, 1, sizeof(got) - 1, f);
	fclose(f);
	got[len] = '\0';
	assert_non_null(strstr(got, "\nPRIORITY=4\n"));
	assert_non_null(strstr(got, "\nMESSAGE_ID=" AMLG_JOURNAL_MESSAGE_ID "\n"));
	assert_non_null(strstr(got, "\nAMLG_DPORT=443\n"));
	assert_non_null(strstr(got, "\nAMLG_DST=20.1.2.3\n"));
	/* MESSAGE: the event's one-line text, its newline dropped */
	violation(&v, 1, 0);
	mf = open_memstream(&text, &tlen);
	assert_non_null(mf);
	fputs("MESSAGE=", mf);
	event_print(mf, &v.ev, &v.cx);
	fclose(mf);
	assert_true(tlen > 9 && text[tlen - 1] == '\n');
	assert_non_null(strstr(got, text));
	assert_ptr_equal(strstr(got, text), got); /* the first field */
	free(text);
	json_decref(v.se.json);
}

static int group_setup(void **state)
{
	return tmpdir_make(scratch);
}

static int group_teardown(void **state)
{
	return tmpdir_remove(scratch);
}

UNIT_TESTS(group_setup, group_teardown, cmocka_unit_test(test_file_rotation),
	   cmocka_unit_test(test_journal_names), cmocka_unit_test(test_ops_file),
	   cmocka_unit_test(test_ops_stdout), cmocka_unit_test(test_ops_file_full),
	   cmocka_unit_test(test_ops_pcap), cmocka_unit_test(test_ops_pcap_full),
	   cmocka_unit_test(test_ops_journal))
