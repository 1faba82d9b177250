// SPDX-License-Identifier: GPL-2.0-only
/*
 * What a change of variables does (user/compile/whatif.c): the flow IDs opened, closed and changed
 * between two compiles of one policy, the noflow reason of the side without a rule, the
 * heading and the JSON, and the variables as compile shows them.
 */
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"

#include "compile/compile.h"
#include "compile/whatif.h"

/* Two include-free switches: the value picks a set, and a set may be empty. */
static const char policy[] = "platform off\n"
			     "define batch = simplified\n"
			     "define port = 443\n"
			     "set in_simplified = { }\n"
			     "set in_classic = { 192.0.2.0/24 }\n"
			     "set out_simplified = { 198.51.100.0/24 }\n"
			     "set out_classic = { }\n"
			     "allow in tcp port 29876-29877 from @in_$batch flow B-IN optional\n"
			     "allow out any port 443 to @out_$batch flow B-OUT optional\n"
			     "allow out tcp port $port to 203.0.113.0/24 flow WEB\n"
			     "allow out udp port 5831 to 203.0.113.0/24 flow SAME\n"
			     "noflow GONE comment \"never a rule\"\n";

struct side {
	struct policy *p;
	struct compiled *c;
	struct diag d;
};

static void build(struct side *s, const struct var_def *vars, size_t n)
{
	struct compile_opts o = { .mode = -1 };

	diag_init(&s->d);
	assert_int_equal(policy_parse_string("w.policy", policy, vars, n, &s->d, &s->p), 0);
	assert_int_equal(compile_policy(s->p, &o, &s->d, &s->c), 0);
}

static void drop(struct side *s)
{
	compiled_free(s->c);
	policy_free(s->p);
	diag_free(&s->d);
}

static const struct whatif_flow *find(const struct whatif *w, const char *flow)
{
	for (size_t i = 0; i < w->n; i++)
		if (!strcmp(w->v[i].flow, flow))
			return &w->v[i];
	return NULL;
}

/* Both rules stay (optional, one side empty): no flow opens or closes, the endpoints change. */
static void test_changes(void **state)
{
	const struct var_def then[] = { { "batch", "classic" }, { "port", "8443" } };
	const struct whatif_flow *f;
	struct side a, b;
	struct whatif w;
	char heading[256];

	build(&a, NULL, 0);
	build(&b, then, 2);
	assert_int_equal(whatif_compare(a.c, b.c, &w), 0);
	assert_int_equal(w.n, 3);
	f = find(&w, "B-IN");
	assert_non_null(f);
	assert_int_equal(f->kind, WHATIF_CHANGES);
	assert_string_equal(f->now, "in tcp port 29876-29877 from { }");
	assert_string_equal(f->then, "in tcp port 29876-29877 from @in_classic");
	f = find(&w, "B-OUT");
	assert_non_null(f);
	assert_string_equal(f->now, "out any port 443 to @out_simplified");
	assert_string_equal(f->then, "out any port 443 to { }");
	f = find(&w, "WEB");
	assert_non_null(f);
	assert_int_equal(f->kind, WHATIF_CHANGES);
	assert_string_equal(f->now, "out tcp port 443 to 203.0.113.0/24");
	assert_string_equal(f->then, "out tcp port 8443 to 203.0.113.0/24");
	assert_null(find(&w, "SAME"));
	whatif_heading(a.p, then, 2, heading, sizeof(heading));
	assert_string_equal(heading, "batch=classic (now simplified), port=8443 (now 443)");
	whatif_free(&w);
	drop(&a);
	drop(&b);
}

/* A flow ID that is a rule on one side only: opened or closed, with the other side's noflow. */
static void test_opens_closes(void **state)
{
	static const char pa[] = "platform off\n"
				 "allow in tcp port 44224 from 192.0.2.0/24 flow IN-AML\n"
				 "noflow OUT-MON comment \"switched off\"\n";
	static const char pb[] = "platform off\n"
				 "noflow IN-AML comment \"no public IP\"\n"
				 "allow out tcp port 443 to 198.51.100.0/24 flow OUT-MON\n";
	struct compile_opts o = { .mode = -1 };
	struct side a, b;
	const struct whatif_flow *f;
	struct whatif w;
	json_t *j;

	diag_init(&a.d);
	diag_init(&b.d);
	assert_int_equal(policy_parse_string("a", pa, NULL, 0, &a.d, &a.p), 0);
	assert_int_equal(policy_parse_string("b", pb, NULL, 0, &b.d, &b.p), 0);
	assert_int_equal(compile_policy(a.p, &o, &a.d, &a.c), 0);
	assert_int_equal(compile_policy(b.p, &o, &b.d, &b.c), 0);
	assert_int_equal(whatif_compare(a.c, b.c, &w), 0);
	assert_int_equal(w.n, 2);
	f = find(&w, "IN-AML");
	assert_int_equal(f->kind, WHATIF_CLOSES);
	assert_null(f->then);
	assert_string_equal(f->noflow, "no public IP");
	f = find(&w, "OUT-MON");
	assert_int_equal(f->kind, WHATIF_OPENS);
	assert_null(f->now);
	assert_string_equal(f->then, "out tcp port 443 to 198.51.100.0/24");
	assert_string_equal(f->noflow, "switched off");
	j = whatif_json(&w, a.p, (struct var_def[]){ { "publicip", "off" } }, 1);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(j, "flows"), 0), "change")),
			    "closes");
	assert_true(
		json_is_null(json_object_get(json_array_get(json_object_get(j, "set"), 0), "now")));
	json_decref(j);
	whatif_free(&w);
	/* the same compile on both sides: nothing */
	assert_int_equal(whatif_compare(a.c, a.c, &w), 0);
	assert_int_equal(w.n, 0);
	whatif_free(&w);
	drop(&a);
	drop(&b);
}

static void test_vars(void **state)
{
	const struct var_def given[] = { { "batch", "classic" } };
	struct side a;
	json_t *j;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	build(&a, given, 1);
	f = open_memstream(&text, &len);
	assert_non_null(f);
	policy_vars_print(a.p, f);
	fclose(f);
	assert_string_equal(text, "variables: batch=classic (--var), port=443\n");
	free(text);
	j = policy_vars_json(a.p);
	assert_int_equal(json_array_size(j), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "from")),
			    "var");
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 1), "from")),
			    "define");
	json_decref(j);
	drop(&a);
}

UNIT_TESTS(NULL, NULL, cmocka_unit_test(test_changes), cmocka_unit_test(test_opens_closes),
	   cmocka_unit_test(test_vars))
