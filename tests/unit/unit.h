/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The main() of a unit test file: the cases listed run as one cmocka group, with a group setup
 * and teardown (or NULL); the exit status is the number of failed cases.  Include <cmocka.h>
 * first.
 *
 *	UNIT_TESTS(group_setup, NULL,
 *		   cmocka_unit_test(test_one),
 *		   cmocka_unit_test_setup_teardown(test_two, setup, teardown))
 */
#ifndef AMLG_TEST_UNIT_H
#define AMLG_TEST_UNIT_H

#define UNIT_TESTS(group_setup, group_teardown, ...)                               \
	int main(void)                                                             \
	{                                                                          \
		const struct CMUnitTest tests[] = { __VA_ARGS__ };                 \
		return cmocka_run_group_tests(tests, group_setup, group_teardown); \
	}

#endif
