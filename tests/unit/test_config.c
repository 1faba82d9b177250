// SPDX-License-Identifier: GPL-2.0-only
/* The daemon's configuration file: keys, sections, values, layering and every error. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "unit.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/config.h"
#include "metrics/metrics_http.h"

static int parse(struct config *c, struct diag *d, const char *text)
{
	config_init(c);
	diag_init(d);
	return config_parse(c, "t.conf", text, "/etc/amlguard", d);
}

static void done(struct config *c, struct diag *d)
{
	config_free(c);
	diag_free(d);
}

static void test_full(void **state)
{
	static const char text[] = "# global\n"
				   "log-file = /var/log/amlguard/v.json\n"
				   "stdout = yes\n"
				   "journal = on\n"
				   "pcap = caps/v.pcap.gz   # relative to the file\n"
				   "snaplen = 96\n"
				   "alert-exec = \"/usr/bin/logger -t amlg # not a comment\"\n"
				   "alert-max-running = 2\n"
				   "alert-window = 30\n"
				   "alert-rate = 5/10\n"
				   "alert-timeout = 7\n"
				   "metrics-listen = [::1]:9479\n"
				   "metrics-textfile = /var/lib/node/amlguard.prom\n"
				   "metrics-interval = 5\n"
				   "detach-on-exit = no\n"
				   "\n"
				   "[interface eth1]\n"
				   "policy = compute.policy\n"
				   "mode = enforce\n"
				   "role = gateway\n"
				   "tags = /var/lib/amlguard/ServiceTags_Public.json\n"
				   "var region = EastUS2\n"
				   "var vnet = 10.0.0.0/16\r\n"
				   "ct-size = 131072\n"
				   "  [ interface  eth2 ]  \n"
				   "policy = /p2.policy\n";
	struct config c;
	struct diag d;

	assert_int_equal(parse(&c, &d, text), 0);
	assert_int_equal(d.n, 0);
	assert_string_equal(c.log_file, "/var/log/amlguard/v.json");
	assert_true(c.log_stdout);
	assert_true(c.journal);
	assert_string_equal(c.pcap, "/etc/amlguard/caps/v.pcap.gz");
	assert_int_equal(c.snaplen, 96);
	assert_string_equal(c.alert_exec, "/usr/bin/logger -t amlg # not a comment");
	assert_int_equal(c.alert_max_running, 2);
	assert_int_equal(c.alert_window_s, 30);
	assert_int_equal(c.alert_rate, 5);
	assert_int_equal(c.alert_period_s, 10);
	assert_int_equal(c.alert_timeout_s, 7);
	assert_string_equal(c.metrics_listen, "[::1]:9479");
	assert_string_equal(c.metrics_textfile, "/var/lib/node/amlguard.prom");
	assert_int_equal(c.metrics_interval_s, 5);
	assert_false(c.detach_on_exit);
	assert_int_equal(c.nifaces, 2);
	assert_string_equal(c.ifaces[0].name, "eth1");
	assert_string_equal(c.ifaces[0].policy, "/etc/amlguard/compute.policy");
	assert_int_equal(c.ifaces[0].mode, AMLG_MODE_ENFORCE);
	assert_int_equal(c.ifaces[0].role, AMLG_ROLE_GATEWAY);
	assert_string_equal(c.ifaces[0].tags, "/var/lib/amlguard/ServiceTags_Public.json");
	assert_int_equal(c.ifaces[0].nvars, 2);
	assert_string_equal(c.ifaces[0].vars[0].name, "region");
	assert_string_equal(c.ifaces[0].vars[0].value, "EastUS2");
	assert_string_equal(c.ifaces[0].vars[1].value, "10.0.0.0/16");
	assert_int_equal(c.ifaces[0].ct_size, 131072);
	assert_string_equal(c.ifaces[1].name, "eth2");
	assert_int_equal(c.ifaces[1].mode, -1);
	assert_int_equal(c.ifaces[1].role, AMLG_ROLE_HOST);
	assert_int_equal(config_check(&c, (struct srcloc){ 0 }, &d), 0);
	done(&c, &d);
}

static void test_defaults(void **state)
{
	struct config c;
	struct diag d;

	assert_int_equal(parse(&c, &d, ""), 0);
	assert_null(c.log_file);
	assert_null(c.metrics_listen);
	assert_int_equal(c.alert_max_running, 4);
	assert_int_equal(c.alert_rate, 10);
	assert_int_equal(c.alert_period_s, 60);
	assert_int_equal(c.alert_window_s, 600);
	assert_int_equal(c.metrics_interval_s, 15);
	assert_int_equal(c.snaplen, 0);
	/* no interface at all is an error of the whole configuration */
	assert_int_equal(config_check(&c, (struct srcloc){ 0 }, &d), -EINVAL);
	done(&c, &d);
}

/* Each broken text gives exactly one error, at the given line and column, with this text. */
static void test_errors(void **state)
{
	static const struct {
		const char *text;
		unsigned line, col;
		const char *msg, *hint;
	} cases[] = {
		{ "log-fil = x\n", 1, 1, "unknown setting 'log-fil'", "did you mean 'log-file'?" },
		{ "stdout = maybe\n", 1, 1, "stdout: expected yes or no, not 'maybe'", NULL },
		{ "snaplen = 0\n", 1, 1, "snaplen: expected a number from 1 to 256, not '0'",
		  NULL },
		{ "snaplen = 300\n", 1, 1, "snaplen: expected a number from 1 to 256, not '300'",
		  NULL },
		{ "snaplen = 12x\n", 1, 1, "snaplen: expected a number from 1 to 256, not '12x'",
		  NULL },
		{ "alert-rate = 10\n", 1, 1,
		  "alert-rate: expected COUNT/SECONDS (e.g. 10/60), not '10'", NULL },
		{ "metrics-listen = 10.0.0.1\n", 1, 1,
		  "metrics-listen: expected ADDRESS:PORT, [IPV6]:PORT or PORT, not '10.0.0.1'",
		  NULL },
		{ "metrics-listen = ::1:80\n", 1, 1,
		  "metrics-listen: expected ADDRESS:PORT, [IPV6]:PORT or PORT, not '::1:80'",
		  NULL },
		{ "policy = x\n", 1, 1, "'policy' belongs in an [interface NAME] section", NULL },
		{ "[interface e]\nlog-file = x\n", 2, 1,
		  "'log-file' belongs in the global part, before the first section", NULL },
		{ "[iface e]\n", 1, 1, "unknown section", "sections are [interface NAME]" },
		{ "[interface e\n", 1, 1, "expected [interface NAME]", NULL },
		{ "[interface averyveryverylongname]\n", 1, 12,
		  "'averyveryverylongname' is not an interface name", NULL },
		{ "[interface e]\npolicy = a\n[interface e]\n", 3, 12,
		  "interface 'e' has a section already", NULL },
		{ "[interface e]\nmode = strict\n", 2, 1,
		  "mode: expected audit or enforce, not 'strict'", NULL },
		{ "[interface e]\nrole = router\n", 2, 1,
		  "role: expected host or gateway, not 'router'", NULL },
		{ "[interface e]\nvar = 1\n", 2, 5, "expected a variable name: var NAME = VALUE",
		  NULL },
		{ "journal yes\n", 1, 9, "expected '=' after 'journal'", NULL },
		{ "journal = yes\njournal = no\n", 2, 1, "'journal' is set twice", NULL },
		{ "[interface e]\nvar a = 1\nvar a = 2\n", 3, 1, "'var a' is set twice", NULL },
		{ "pcap = \"a\\qb\"\n", 1, 10, "unknown escape; only \\\" and \\\\ are", NULL },
		{ "pcap = \"ab\n", 1, 8, "unterminated string", NULL },
		{ "pcap = \"ab\" x\n", 1, 13, "unexpected text after the string", NULL },
		{ "= x\n", 1, 1, "expected a setting name", NULL },
		{ "pcap =\n", 1, 1, "pcap: a value is needed", NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config c;
		struct diag d;

		print_message("case %zu: %s", i, cases[i].text);
		assert_int_equal(parse(&c, &d, cases[i].text), -EINVAL);
		assert_int_equal(d.nerrors, 1);
		assert_int_equal(d.msgs[0].loc.line, cases[i].line);
		assert_int_equal(d.msgs[0].loc.col, cases[i].col);
		assert_string_equal(d.msgs[0].msg, cases[i].msg);
		if (cases[i].hint)
			assert_string_equal(d.msgs[0].hint, cases[i].hint);
		done(&c, &d);
	}
}

/* All errors are reported, not just the first. */
static void test_all_errors(void **state)
{
	struct config c;
	struct diag d;

	assert_int_equal(parse(&c, &d, "stdout = 2\nsnaplen = 0\n[interface e]\nmode = x\n"),
			 -EINVAL);
	assert_int_equal(d.nerrors, 3);
	done(&c, &d);
}

/* Two rejected sections are not one: their keys are not "set twice". */
static void test_rejected_sections(void **state)
{
	struct config c;
	struct diag d;

	assert_int_equal(parse(&c, &d,
			       "[interface bad/one]\npolicy = a.policy\n"
			       "[interface bad/two]\npolicy = b.policy\n"
			       "[interface eth1]\npolicy = c.policy\n"),
			 -EINVAL);
	assert_int_equal(d.nerrors, 2);
	assert_string_equal(d.msgs[0].msg, "'bad/one' is not an interface name");
	assert_string_equal(d.msgs[1].msg, "'bad/two' is not an interface name");
	assert_int_equal(c.nifaces, 1);
	done(&c, &d);
}

static void test_interface_without_policy(void **state)
{
	struct config c;
	struct diag d;

	assert_int_equal(parse(&c, &d, "[interface eth1]\nmode = audit\n"), 0);
	assert_int_equal(config_check(&c, (struct srcloc){ 0 }, &d), -EINVAL);
	assert_string_equal(d.msgs[0].msg, "interface 'eth1' has no policy");
	done(&c, &d);
}

/* The command line on top of the file: a later layer replaces, and may add an interface. */
static void test_layers(void **state)
{
	struct srcloc cli = { 0 };
	struct config c;
	struct diag d;

	assert_int_equal(parse(&c, &d,
			       "log-file = /a\nmetrics-listen = 9000\n"
			       "[interface eth1]\npolicy = /p\nmode = audit\n"),
			 0);
	assert_int_equal(config_set(&c, NULL, "log-file", "/b", cli, &d), 0);
	assert_int_equal(config_set(&c, NULL, "metrics-listen", "off", cli, &d), 0);
	assert_int_equal(config_set(&c, "eth1", "mode", "enforce", cli, &d), 0);
	assert_int_equal(config_set(&c, "eth1", "var", "x=1=2", cli, &d), 0);
	assert_int_equal(config_set(&c, "eth9", "policy", "/q", cli, &d), 0);
	assert_string_equal(c.log_file, "/b");
	assert_null(c.metrics_listen);
	assert_int_equal(c.ifaces[0].mode, AMLG_MODE_ENFORCE);
	assert_string_equal(c.ifaces[0].vars[0].name, "x");
	assert_string_equal(c.ifaces[0].vars[0].value, "1=2");
	assert_int_equal(c.nifaces, 2);
	assert_string_equal(c.ifaces[1].policy, "/q");
	/* a global key in a section and the reverse are refused, and so is a bad var */
	assert_int_equal(config_set(&c, "eth1", "pcap", "/x", cli, &d), -EINVAL);
	assert_int_equal(config_set(&c, NULL, "role", "host", cli, &d), -EINVAL);
	assert_int_equal(config_set(&c, "eth1", "var", "=1", cli, &d), -EINVAL);
	assert_int_equal(d.nerrors, 3);
	done(&c, &d);
}

static void test_listen(void **state)
{
	static const struct {
		const char *s, *host;
		unsigned port;
	} ok[] = {
		{ "9479", "127.0.0.1", 9479 },		 { ":9479", "127.0.0.1", 9479 },
		{ "0.0.0.0:80", "0.0.0.0", 80 },	 { "[::1]:9479", "::1", 9479 },
		{ "[2001:db8::1]:1", "2001:db8::1", 1 },
	};
	static const char *const bad[] = { "",		"0",	  "65536",   "x:1",
					   "[::1]9479", "::1:80", "1.2.3.4:" };
	char host[64];
	unsigned port;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(metrics_parse_listen(ok[i].s, host, sizeof(host), &port), 0);
		assert_string_equal(host, ok[i].host);
		assert_int_equal(port, ok[i].port);
	}
	/* "x:1" parses (x is checked as an address when listening), the others do not */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int err = metrics_parse_listen(bad[i], host, sizeof(host), &port);

		if (!strcmp(bad[i], "x:1"))
			assert_int_equal(err, 0);
		else
			assert_int_equal(err, -EINVAL);
	}
}

static void test_load_file(void **state)
{
	char path[] = "/tmp/amlg-conf-XXXXXX";
	int fd = mkstemp(path);
	struct config c;
	struct diag d;
	FILE *f;

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("[interface eth0]\npolicy = rel.policy\n", f);
	fclose(f);
	config_init(&c);
	diag_init(&d);
	assert_int_equal(config_load(&c, path, &d), 0);
	/* relative to the file's directory */
	assert_string_equal(c.ifaces[0].policy, "/tmp/rel.policy");
	done(&c, &d);
	unlink(path);
	config_init(&c);
	diag_init(&d);
	assert_int_equal(config_load(&c, path, &d), -ENOENT);
	assert_int_equal(d.nerrors, 1);
	done(&c, &d);
}

/* An empty file is an empty configuration; a NUL byte is not text and hides nothing. */
static void test_load_odd_files(void **state)
{
	char path[] = "/tmp/amlg-conf-XXXXXX";
	int fd = mkstemp(path);
	struct config c;
	struct diag d;

	assert_true(fd >= 0);
	config_init(&c);
	diag_init(&d);
	assert_int_equal(config_load(&c, path, &d), 0);
	assert_int_equal(c.nifaces, 0);
	assert_int_equal(d.n, 0);
	done(&c, &d);
	assert_int_equal(write(fd, "journal = yes\0[interface eth0]\npolicy = p\n", 42), 42);
	close(fd);
	config_init(&c);
	diag_init(&d);
	assert_int_equal(config_load(&c, path, &d), -EINVAL);
	assert_int_equal(d.nerrors, 1);
	assert_non_null(strstr(d.msgs[0].msg, "NUL byte at offset 13"));
	done(&c, &d);
	unlink(path);
}

UNIT_TESTS(NULL, NULL, cmocka_unit_test(test_full), cmocka_unit_test(test_defaults),
	   cmocka_unit_test(test_errors), cmocka_unit_test(test_all_errors),
	   cmocka_unit_test(test_interface_without_policy),
	   cmocka_unit_test(test_rejected_sections), cmocka_unit_test(test_layers),
	   cmocka_unit_test(test_listen), cmocka_unit_test(test_load_file),
	   cmocka_unit_test(test_load_odd_files))
