// SPDX-License-Identifier: GPL-2.0-only
/*
 * Logging (user/base/log.c): the message formats on stderr, the JSON error on stdout, level filtering,
 * and the tail of libbpf's output kept for explaining a refused program.
 */
#include <bpf/libbpf.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stdcapture.h"
#include "base/log.h"
#include "memout.h"

static int reset(void **state)
{
	log_set_level(LOGL_INFO);
	log_set_json(false);
	log_libbpf_reset();
	return 0;
}

/* What one message at each level writes to stderr, at the current level. */
static char *all_levels(void)
{
	struct capture c;

	capture_start(&c, 2);
	pr_err("e %d", 1);
	pr_warn("w %s", "2");
	pr_info("i %u", 3u);
	pr_debug("d %c", '4');
	return capture_end(&c);
}

static void test_level(void **state)
{
	static const struct {
		enum log_level level;
		const char *want;
	} cases[] = {
		{ LOGL_QUIET, "amlguard: error: e 1\n" },
		{ LOGL_WARN, "amlguard: error: e 1\namlguard: warning: w 2\n" },
		{ LOGL_INFO, "amlguard: error: e 1\namlguard: warning: w 2\namlguard: i 3\n" },
		{ LOGL_DEBUG, "amlguard: error: e 1\namlguard: warning: w 2\namlguard: i 3\n"
			      "amlguard: debug: d 4\n" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got;

		log_set_level(cases[i].level);
		assert_int_equal(log_get_level(), cases[i].level);
		got = all_levels();
		assert_string_equal(got, cases[i].want);
		free(got);
	}
}

static void test_default_level(void **state)
{
	/* Before any test changed it: the process starts at LOGL_INFO. */
	assert_int_equal(log_get_level(), LOGL_INFO);
}

static void test_err_text(void **state)
{
	struct capture out, err;
	char *o, *e;

	capture_start(&out, 1);
	capture_start(&err, 2);
	pr_err("eth1: cannot attach: %s", "Operation not permitted");
	pr_hint("run as root, or with CAP_NET_ADMIN and CAP_BPF");
	e = capture_end(&err);
	o = capture_end(&out);
	assert_string_equal(e, "amlguard: error: eth1: cannot attach: Operation not permitted\n"
			       "  hint: run as root, or with CAP_NET_ADMIN and CAP_BPF\n");
	assert_string_equal(o, "");
	free(e);
	free(o);
}

static void test_err_json(void **state)
{
	static const char *const msgs[] = {
		"eth1: amlguard is not attached",
		"a \"quoted\" name, a back\\slash,\ta tab and a\nnewline",
		"UTF-8 survives: caf\xc3\xa9",
	};
	struct capture out, err;
	json_error_t jerr;
	const char *p;
	char *o, *e;

	log_set_json(true);
	capture_start(&out, 1);
	capture_start(&err, 2);
	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++)
		pr_err("%s", msgs[i]);
	pr_hint("hints are for people, not for JSON readers");
	pr_warn("warnings stay on stderr");
	e = capture_end(&err);
	o = capture_end(&out);

	assert_string_equal(e, "amlguard: warning: warnings stay on stderr\n");
	/* One object per line, {"error": message} and nothing else. */
	p = o;
	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		const char *nl = strchr(p, '\n');
		json_t *j;

		assert_non_null(nl);
		j = json_loadb(p, (size_t)(nl - p), 0, &jerr);
		if (!j)
			fail_msg("line %zu is not JSON: %s", i + 1, jerr.text);
		assert_true(json_is_object(j));
		assert_int_equal(json_object_size(j), 1);
		assert_true(json_is_string(json_object_get(j, "error")));
		assert_string_equal(json_string_value(json_object_get(j, "error")), msgs[i]);
		json_decref(j);
		p = nl + 1;
	}
	assert_string_equal(p, "");
	free(e);
	free(o);

	/* And back to text. */
	log_set_json(false);
	capture_start(&err, 2);
	pr_err("x");
	e = capture_end(&err);
	assert_string_equal(e, "amlguard: error: x\n");
	free(e);
}

/* A message that is not UTF-8 (a file name from argv) still makes a JSON error. */
static void test_err_json_not_utf8(void **state)
{
	struct capture out;
	json_error_t jerr;
	json_t *j;
	char *o;

	log_set_json(true);
	capture_start(&out, 1);
	pr_err("%s: cannot read: %s", "caf\xe9.policy", "No such file or directory");
	o = capture_end(&out);
	j = json_loads(o, 0, &jerr);
	if (!j)
		fail_msg("not JSON: %s: '%s'", jerr.text, o);
	assert_string_equal(json_string_value(json_object_get(j, "error")),
			    "caf?.policy: cannot read: No such file or directory");
	json_decref(j);
	free(o);
}

/* ---- libbpf's messages */

static libbpf_print_fn_t our_print(void)
{
	libbpf_print_fn_t fn;

	log_libbpf_init();
	fn = libbpf_set_print(NULL);
	assert_non_null(fn);
	libbpf_set_print(fn);
	return fn;
}

static int feed(libbpf_print_fn_t fn, enum libbpf_print_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int feed(libbpf_print_fn_t fn, enum libbpf_print_level lvl, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fn(lvl, fmt, ap);
	va_end(ap);
	return n;
}

static char *tail(unsigned lines)
{
	struct memout m;

	log_libbpf_print_tail(memout_open(&m), lines);
	return memout_close(&m);
}

static void assert_tail(unsigned lines, const char *want)
{
	char *got = tail(lines);

	assert_string_equal(got, want);
	free(got);
}

static void test_libbpf_tail_lines(void **state)
{
	libbpf_print_fn_t fn = our_print();

	assert_tail(10, "");
	assert_int_equal(feed(fn, LIBBPF_WARN, "libbpf: prog '%s': failed to load\n", "amlg_tc"),
			 39);
	assert_tail(10, "  | libbpf: prog 'amlg_tc': failed to load\n");
	assert_tail(0, "");

	/* A multi-line message (a verifier log) is split; blank lines are dropped. */
	feed(fn, LIBBPF_WARN, "%s", "0: (bf) r6 = r1\n\n1: (61) r2 = *(u32 *)(r6 +76)\nR2 invalid");
	assert_tail(10, "  | libbpf: prog 'amlg_tc': failed to load\n"
			"  | 0: (bf) r6 = r1\n"
			"  | 1: (61) r2 = *(u32 *)(r6 +76)\n"
			"  | R2 invalid\n");
	assert_tail(2, "  | 1: (61) r2 = *(u32 *)(r6 +76)\n"
		       "  | R2 invalid\n");

	log_libbpf_reset();
	assert_tail(10, "");
	feed(fn, LIBBPF_DEBUG, "after reset\n");
	assert_tail(10, "  | after reset\n");
}

static void test_libbpf_tail_wraps(void **state)
{
	libbpf_print_fn_t fn = our_print();
	char *got, want[64 * 16] = "";

	/* Far more lines than are kept: only the newest survive, oldest first. */
	for (int i = 0; i < 1000; i++)
		feed(fn, LIBBPF_INFO, "line %d\n", i);
	assert_tail(3, "  | line 997\n  | line 998\n  | line 999\n");
	got = tail(1000);
	for (int i = 1000 - 64; i < 1000; i++)
		snprintf(want + strlen(want), sizeof(want) - strlen(want), "  | line %d\n", i);
	assert_string_equal(got, want);
	free(got);

	/* One message with many lines wraps the same way. */
	log_libbpf_reset();
	feed(fn, LIBBPF_WARN, "%s", "a\nb\nc\n");
	for (int i = 0; i < 62; i++) /* 65 lines: "a" is the one too many */
		feed(fn, LIBBPF_WARN, "x\n");
	got = tail(64);
	assert_int_equal(strncmp(got, "  | b\n  | c\n  | x\n", 18), 0);
	assert_null(strstr(got, "  | a\n"));
	free(got);
}

static void test_libbpf_echo(void **state)
{
	libbpf_print_fn_t fn = our_print();
	struct capture c;
	char *e;

	/* Quieter than ours: nothing on stderr unless debugging, but always in the tail. */
	capture_start(&c, 2);
	feed(fn, LIBBPF_WARN, "warn %d\n", 1);
	feed(fn, LIBBPF_INFO, "info %d\n", 2);
	feed(fn, LIBBPF_DEBUG, "debug %d\n", 3);
	e = capture_end(&c);
	assert_string_equal(e, "");
	free(e);
	assert_tail(3, "  | warn 1\n  | info 2\n  | debug 3\n");

	log_set_level(LOGL_DEBUG);
	capture_start(&c, 2);
	feed(fn, LIBBPF_WARN, "warn %d\n", 4);
	e = capture_end(&c);
	assert_string_equal(e, "libbpf: warn 4\n");
	free(e);
}

static void test_libbpf_real(void **state)
{
	struct bpf_object *obj;
	struct capture c;
	char *e, *t;

	/* Through libbpf itself: opening a missing object file warns. */
	our_print();
	capture_start(&c, 2);
	obj = bpf_object__open_file("/nonexistent/amlguard-test.bpf.o", NULL);
	e = capture_end(&c);
	assert_true(!obj || libbpf_get_error(obj));
	assert_string_equal(e, "");
	free(e);
	t = tail(64);
	assert_non_null(strstr(t, "/nonexistent/amlguard-test.bpf.o"));
	assert_memory_equal(t, "  | ", 4);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_level),
		cmocka_unit_test_setup(test_level, reset),
		cmocka_unit_test_setup(test_err_text, reset),
		cmocka_unit_test_setup(test_err_json, reset),
		cmocka_unit_test_setup(test_err_json_not_utf8, reset),
		cmocka_unit_test_setup(test_libbpf_tail_lines, reset),
		cmocka_unit_test_setup(test_libbpf_tail_wraps, reset),
		cmocka_unit_test_setup(test_libbpf_echo, reset),
		cmocka_unit_test_setup(test_libbpf_real, reset),
	};
	int ret = cmocka_run_group_tests(tests, NULL, NULL);

	log_libbpf_reset();
	return ret;
}
