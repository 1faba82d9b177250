// SPDX-License-Identifier: GPL-2.0-only
/* Diagnostics: edit distance, suggestions, the printed caret format and the JSON twin. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* open_memstream */
#endif
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "unit.h"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "memout.h"

static char *printed(const struct diag *d)
{
	struct memout m;

	diag_print(d, memout_open(&m));
	return memout_close(&m);
}

/* What diag_print says of d is want, to the letter. */
static void assert_printed(const struct diag *d, const char *want)
{
	char *out = printed(d);

	assert_string_equal(out, want);
	free(out);
}

/* The text of a policy file, given to d. */
static const char *source(struct diag *d, const char *name, const char *text)
{
	const char *f = diag_add_source(d, name, text, strlen(text));

	assert_non_null(f);
	return f;
}

static struct srcloc at(const char *file, unsigned line, unsigned col, unsigned len)
{
	return (struct srcloc){ .file = file, .line = line, .col = col, .len = len };
}

static void test_edit_distance(void **state)
{
	static const struct {
		const char *a, *b;
		size_t want;
	} cases[] = {
		{ "", "", 0 },
		{ "abc", "", 3 },
		{ "", "abc", 3 },
		{ "allow", "allow", 0 },
		{ "alow", "allow", 1 }, /* deletion */
		{ "alllow", "allow", 1 }, /* insertion */
		{ "allaw", "allow", 1 }, /* substitution */
		{ "tpc", "tcp", 1 }, /* transposition */
		{ "TCP", "tcp", 0 }, /* case is ignored */
		{ "Enforce", "enforce", 0 },
		{ "kitten", "sitting", 3 },
		{ "ca", "abc", 2 }, /* unrestricted: transpose, then insert between */
		{ "udp", "icmpv6", 5 },
		{ "flwo", "flow", 1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t got = diag_edit_distance(cases[i].a, cases[i].b);

		if (got != cases[i].want)
			print_message("distance('%s', '%s')\n", cases[i].a, cases[i].b);
		assert_int_equal(got, cases[i].want);
		/* Symmetric. */
		assert_int_equal(diag_edit_distance(cases[i].b, cases[i].a), cases[i].want);
	}
}

static void test_suggest(void **state)
{
	static const char *const stmts[] = { "allow", "define", "set",	   "include",
					     "tags",  "mode",	"platform" };
	static const char *const protos[] = { "tcp", "udp", "icmp", "icmpv6", "any" };
	static const char *const tie[] = { "ac", "ad", "ab" };
	static const char *const modes[] = { "audit", "enforce" };

	assert_string_equal(diag_suggest("alow", stmts, 7), "allow");
	assert_string_equal(diag_suggest("Allow", stmts, 7), "allow"); /* case only */
	assert_string_equal(diag_suggest("inlcude", stmts, 7), "include");
	assert_string_equal(diag_suggest("platfrom", stmts, 7), "platform");
	assert_string_equal(diag_suggest("tpc", protos, 5), "tcp");
	assert_string_equal(diag_suggest("icmpv7", protos, 5), "icmpv6");
	/* "icmpv" is one edit from both: the first listed wins. */
	assert_string_equal(diag_suggest("icmpv", protos, 5), "icmp");
	/* An exact match is not a typo. */
	assert_null(diag_suggest("allow", stmts, 7));
	assert_null(diag_suggest("tcp", protos, 5));
	/* Threshold max(1, len/3): "xyz" is 3 edits from everything. */
	assert_null(diag_suggest("xyz", protos, 5));
	assert_null(diag_suggest("deny", stmts, 7));
	/* 2 edits are allowed from 6 letters on, not below. */
	assert_string_equal(diag_suggest("enfroc", modes, 2), "enforce");
	assert_null(diag_suggest("enfrc", modes, 2));
	assert_string_equal(diag_suggest("inclde", stmts, 7), "include");
	assert_null(diag_suggest("inc", stmts, 7));
	/* Ties go to the candidate listed first. */
	assert_string_equal(diag_suggest("aa", tie, 3), "ac");
	/* Nothing to choose from. */
	assert_null(diag_suggest("tcp", protos, 0));
	/* A tie goes to the one as long as the word: a mistyped digit, not one too many. */
	{
		static const char *const regions[] = { "EastUS", "EastUS2", "WestUS" };

		assert_string_equal(diag_suggest("EastUS3", regions, 3), "EastUS2");
		assert_string_equal(diag_suggest("EastU", regions, 3), "EastUS");
	}
}

/* The same error on five lines is printed once, with the other places. */
static void test_collapse(void **state)
{
	static const char text[] = "a $x\nb $x\nc $x\n";
	struct diag d;
	const char *name;

	diag_init(&d);
	name = source(&d, "t.policy", text);
	for (unsigned i = 1; i <= 3; i++) {
		diag_error(&d, (struct srcloc){ name, i, 3, 2 }, "undefined variable 'x'");
		diag_hint(&d, "pass --var x=VALUE");
	}
	assert_printed(&d, "t.policy:1:3: error: undefined variable 'x'\n"
			   "a $x\n"
			   "  ^~\n"
			   "  hint: pass --var x=VALUE\n"
			   "  the same at t.policy:2:3, t.policy:3:3\n");
	assert_int_equal(d.nerrors, 3);
	diag_free(&d);
}

static void test_print_caret(void **state)
{
	static const char src[] = "mode audit\nallow out tpc to any\n";
	struct diag d;
	const char *f;

	diag_init(&d);
	f = source(&d, "t.policy", src);
	diag_error(&d, at(f, 2, 11, 3), "unknown protocol '%s'", "tpc");
	diag_hint(&d, "did you mean '%s'?", "tcp");
	assert_printed(&d, "t.policy:2:11: error: unknown protocol 'tpc'\n"
			   "allow out tpc to any\n"
			   "          ^~~\n"
			   "  hint: did you mean 'tcp'?\n");
	assert_int_equal(d.nerrors, 1);
	assert_true(diag_failed(&d));
	diag_free(&d);
}

static void test_print_tabs(void **state)
{
	/* The caret line mirrors the tabs, so the caret is aligned whatever the tab width. */
	static const char src[] = "\tallow\tout tpc to any";
	struct diag d;
	const char *f;

	diag_init(&d);
	f = source(&d, "tabs.policy", src);
	diag_error(&d, at(f, 1, 12, 3), "unknown protocol 'tpc'");
	assert_printed(&d, "tabs.policy:1:12: error: unknown protocol 'tpc'\n"
			   "\tallow\tout tpc to any\n"
			   "\t     \t    ^~~\n");
	diag_free(&d);
}

static void test_print_utf8_and_edges(void **state)
{
	/* "é" is two bytes but one column; a CR of a CRLF file is not printed. */
	static const char src[] = "# é\r\nallow out tcp to x # café\nend";
	struct diag d;
	const char *f;

	diag_init(&d);
	f = source(&d, "u.policy", src);
	diag_error(&d, at(f, 1, 5, 1), "after the e");
	/* Underline clamped at the end of the line. */
	diag_warning(&d, at(f, 2, 18, 40), "long");
	/* Past the end of the line: caret just after it. */
	diag_note(&d, at(f, 3, 5, 1), "at the end");
	/* len 0 is taken as 1. */
	diag_error(&d, at(f, 3, 1, 0), "zero");
	assert_printed(&d, "u.policy:1:5: error: after the e\n"
			   "# é\n"
			   "   ^\n"
			   "u.policy:2:18: warning: long\n"
			   "allow out tcp to x # café\n"
			   "                 ^~~~~~~~\n"
			   "u.policy:3:5: note: at the end\n"
			   "end\n"
			   "    ^\n"
			   "u.policy:3:1: error: zero\n"
			   "end\n"
			   "^\n");
	assert_int_equal(d.nerrors, 2);
	assert_int_equal(d.nwarnings, 1);
	diag_free(&d);
}

static void test_print_without_location(void **state)
{
	struct diag d;
	const char *f;

	diag_init(&d);
	f = diag_intern(&d, "gone.policy");
	assert_non_null(f);
	/* Interning twice gives the same pointer. */
	assert_ptr_equal(diag_intern(&d, "gone.policy"), f);
	diag_error(&d, (struct srcloc){ 0 }, "--var '%s' is neither defined nor used", "x");
	diag_hint(&d, "did you mean 'y'?");
	diag_error(&d, at(f, 0, 0, 0), "cannot read it");
	/* A location in a file whose text is unknown: no excerpt. */
	diag_warning(&d, at(f, 3, 2, 1), "somewhere");
	assert_printed(&d, "error: --var 'x' is neither defined nor used\n"
			   "  hint: did you mean 'y'?\n"
			   "gone.policy: error: cannot read it\n"
			   "gone.policy:3:2: warning: somewhere\n");
	diag_free(&d);
}

static void test_multiple_errors(void **state)
{
	static const char a[] = "alow out tcp to any\nmode enforced\n";
	static const char b[] = "allow in tcp from 10.0.0.1/24\n";
	struct diag d;
	const char *fa, *fb;

	diag_init(&d);
	fa = source(&d, "a.policy", a);
	fb = source(&d, "b.policy", b);
	/* Adding a source again keeps the first text and the same name. */
	assert_ptr_equal(diag_add_source(&d, "a.policy", "other", 5), fa);
	diag_error(&d, at(fa, 1, 1, 4), "unknown statement 'alow'");
	diag_hint(&d, "did you mean 'allow'?");
	diag_error(&d, at(fa, 2, 6, 8), "unknown mode 'enforced'");
	diag_hint(&d, "first hint");
	diag_hint(&d, "did you mean 'enforce'?"); /* replaces the first */
	diag_error(&d, at(fb, 1, 19, 11), "10.0.0.1/24 has host bits set");
	diag_note(&d, at(fa, 1, 6, 3), "see here");
	assert_printed(&d, "a.policy:1:1: error: unknown statement 'alow'\n"
			   "alow out tcp to any\n"
			   "^~~~\n"
			   "  hint: did you mean 'allow'?\n"
			   "a.policy:2:6: error: unknown mode 'enforced'\n"
			   "mode enforced\n"
			   "     ^~~~~~~~\n"
			   "  hint: did you mean 'enforce'?\n"
			   "b.policy:1:19: error: 10.0.0.1/24 has host bits set\n"
			   "allow in tcp from 10.0.0.1/24\n"
			   "                  ^~~~~~~~~~~\n"
			   "a.policy:1:6: note: see here\n"
			   "alow out tcp to any\n"
			   "     ^~~\n");
	assert_int_equal(d.n, 4);
	assert_int_equal(d.nerrors, 3);
	assert_int_equal(d.nwarnings, 0);
	diag_free(&d);
	/* A freed diag is empty and reusable. */
	assert_int_equal(d.n, 0);
	assert_false(diag_failed(&d));
}

static void test_hint_without_message(void **state)
{
	struct diag d;

	diag_init(&d);
	diag_hint(&d, "nothing to attach to");
	assert_int_equal(d.n, 0);
	diag_free(&d);
}

static void test_json(void **state)
{
	static const char src[] = "allow out tpc to any\n";
	json_error_t jerr;
	struct diag d;
	const char *f;
	json_t *arr, *m;
	char *s;

	diag_init(&d);
	f = source(&d, "t.policy", src);
	diag_error(&d, at(f, 1, 11, 3), "unknown protocol \"tpc\"");
	diag_hint(&d, "did you mean 'tcp'?");
	diag_warning(&d, (struct srcloc){ 0 }, "no location");
	s = diag_json(&d);
	assert_non_null(s);
	arr = json_loads(s, 0, &jerr);
	assert_non_null(arr);
	assert_true(json_is_array(arr));
	assert_int_equal(json_array_size(arr), 2);

	m = json_array_get(arr, 0);
	assert_string_equal(json_string_value(json_object_get(m, "level")), "error");
	assert_string_equal(json_string_value(json_object_get(m, "file")), "t.policy");
	assert_int_equal(json_integer_value(json_object_get(m, "line")), 1);
	assert_int_equal(json_integer_value(json_object_get(m, "col")), 11);
	assert_string_equal(json_string_value(json_object_get(m, "message")),
			    "unknown protocol \"tpc\"");
	assert_string_equal(json_string_value(json_object_get(m, "hint")), "did you mean 'tcp'?");

	m = json_array_get(arr, 1);
	assert_string_equal(json_string_value(json_object_get(m, "level")), "warning");
	assert_true(json_is_null(json_object_get(m, "file")));
	assert_int_equal(json_integer_value(json_object_get(m, "line")), 0);
	assert_true(json_is_null(json_object_get(m, "hint")));
	json_decref(arr);
	free(s);

	/* No messages: an empty array, not NULL. */
	diag_free(&d);
	s = diag_json(&d);
	assert_string_equal(s, "[]");
	free(s);
}

UNIT_TESTS(NULL, NULL, cmocka_unit_test(test_edit_distance), cmocka_unit_test(test_suggest),
	   cmocka_unit_test(test_collapse), cmocka_unit_test(test_print_caret),
	   cmocka_unit_test(test_print_tabs), cmocka_unit_test(test_print_utf8_and_edges),
	   cmocka_unit_test(test_print_without_location), cmocka_unit_test(test_multiple_errors),
	   cmocka_unit_test(test_hint_without_message), cmocka_unit_test(test_json))
