// SPDX-License-Identifier: GPL-2.0-only
/* amlguard run: the daemon, configured by a file, the command line, or both. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "daemon/daemon.h"
#include "compile/frontend.h"
#include "base/log.h"

#define MAX_SETTINGS 128

enum {
	OPT_CONFIG = OPT_FIRST_FREE,
	OPT_LOG_FILE,
	OPT_STDOUT,
	OPT_JOURNAL,
	OPT_PCAP,
	OPT_SNAPLEN,
	OPT_ALERT_EXEC,
	OPT_ALERT_MAX,
	OPT_ALERT_WINDOW,
	OPT_ALERT_RATE,
	OPT_ALERT_TIMEOUT,
	OPT_METRICS_LISTEN,
	OPT_METRICS_TEXTFILE,
	OPT_METRICS_INTERVAL,
	OPT_DETACH_ON_EXIT,
	OPT_RUN_ROLE,
	OPT_RUN_CT_SIZE,
};

/* Long options that are global configuration keys of the same name. */
static const struct option opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "interface", required_argument, NULL, 'i' },
	{ "role", required_argument, NULL, OPT_RUN_ROLE },
	{ "ct-size", required_argument, NULL, OPT_RUN_CT_SIZE },
	{ "log-file", required_argument, NULL, OPT_LOG_FILE },
	{ "stdout", no_argument, NULL, OPT_STDOUT },
	{ "journal", no_argument, NULL, OPT_JOURNAL },
	{ "pcap", required_argument, NULL, OPT_PCAP },
	{ "snaplen", required_argument, NULL, OPT_SNAPLEN },
	{ "alert-exec", required_argument, NULL, OPT_ALERT_EXEC },
	{ "alert-max-running", required_argument, NULL, OPT_ALERT_MAX },
	{ "alert-window", required_argument, NULL, OPT_ALERT_WINDOW },
	{ "alert-rate", required_argument, NULL, OPT_ALERT_RATE },
	{ "alert-timeout", required_argument, NULL, OPT_ALERT_TIMEOUT },
	{ "metrics-listen", required_argument, NULL, OPT_METRICS_LISTEN },
	{ "metrics-textfile", required_argument, NULL, OPT_METRICS_TEXTFILE },
	{ "metrics-interval", required_argument, NULL, OPT_METRICS_INTERVAL },
	{ "detach-on-exit", no_argument, NULL, OPT_DETACH_ON_EXIT },
	{ "help", no_argument, NULL, 'h' },
	FRONTEND_LONG_OPTS,
	{ 0 },
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: amlguard run -c CONFIG [OPTIONS]\n"
		"       amlguard run -i IFACE -p POLICY [--mode audit|enforce] [--role host|gateway]\n"
		"                    [--var NAME=VALUE]... [--tags FILE] [--ct-size N]\n"
		"                    [-i IFACE -p POLICY ...]... [OPTIONS]\n\n"
		"Attaches to the configured interfaces, or adopts the datapath a previous run left\n"
		"there (counters and connection tracking continue), and stays in the foreground.\n"
		"SIGHUP re-reads the configuration and the policies and swaps them atomically (a\n"
		"policy with errors changes nothing) and reopens the log files; SIGTERM stops,\n"
		"leaving the datapath enforcing.  One daemon per interface.  Several -i are\n"
		"several interfaces, as [interface] sections are: each takes the -p, --mode,\n"
		"--role, --var, --tags and --ct-size that follow it.\n\n"
		"Options (each is also a configuration key of the same name):\n"
		"  -c, --config FILE          the configuration file (amlguard(8), CONFIGURATION)\n"
		"      --log-file FILE        violations as JSON lines, appended to FILE\n"
		"      --stdout               violations as JSON lines on standard output\n"
		"      --journal              violations to the journal, fields AMLG_*\n"
		"      --pcap FILE[.gz]       the violating packets' first bytes, as a capture\n"
		"      --snaplen N            bytes of each violating packet captured (1-256)\n"
		"      --alert-exec CMD       run CMD (sh -c) per new undeclared egress flow, the\n"
		"                             event as JSON on its standard input\n"
		"      --alert-max-running N  at most N alert commands at once (default 4)\n"
		"      --alert-window SEC     one alert per flow per SEC seconds (default 600)\n"
		"      --alert-rate N/SEC     at most N alerts per SEC seconds, then one summary\n"
		"                             of the suppressed ones (default 10/60)\n"
		"      --alert-timeout SEC    kill an alert command after SEC seconds (default 30)\n"
		"      --metrics-listen ADDR  Prometheus metrics on http://ADDR/metrics; ADDR is\n"
		"                             HOST:PORT, [IPV6]:PORT, or PORT for 127.0.0.1:PORT\n"
		"      --metrics-textfile F   the metrics as a node_exporter textfile, replaced\n"
		"                             atomically every --metrics-interval SEC (default 15)\n"
		"      --detach-on-exit       remove the datapath when stopping\n");
}

struct settings {
	struct cli_setting v[MAX_SETTINGS];
	size_t n;
};

static int add(struct settings *s, const char *sect, const char *key, const char *value)
{
	if (s->n == MAX_SETTINGS) {
		pr_err("run: too many options");
		return -E2BIG;
	}
	s->v[s->n++] = (struct cli_setting){ sect, key, value };
	return 0;
}

/* The configuration key of a long option: its name. */
static const char *key_of(int opt)
{
	for (const struct option *o = opts; o->name; o++)
		if (o->val == opt)
			return o->name;
	return NULL;
}

/*
 * Several interfaces, as in a configuration file: each -i starts one, and -p, --mode, --role,
 * --var, --tags and --ct-size after it are its own.  Those given before the first -i belong
 * to the first one.
 */
struct cli_iface {
	const char *name;
	size_t first, n; /* its options in ifopts[] */
};

int do_run(int argc, char **argv)
{
	struct cli_setting ifopts[MAX_SETTINGS];
	struct cli_iface ifs[MAX_SETTINGS];
	struct daemon_opts o = { 0 };
	static struct settings s;
	size_t nopt = 0, nifs = 0;
	int opt, err = 0;

	s.n = 0;
	while ((opt = getopt_long(argc, argv, "c:i:p:h", opts, NULL)) != -1) {
		const char *key = key_of(opt);

		switch (opt) {
		case 'c':
			o.config_path = optarg;
			break;
		case 'i':
			for (size_t i = 0; i < nifs; i++) {
				if (!strcmp(ifs[i].name, optarg)) {
					pr_err("run: -i %s is given twice", optarg);
					return -EINVAL;
				}
			}
			if (nifs && !ifs[nifs - 1].name) {
				ifs[nifs - 1].name = optarg; /* the options before the first -i */
				break;
			}
			ifs[nifs++] = (struct cli_iface){ optarg, nopt, 0 };
			break;
		case 'p':
		case OPT_VAR:
		case OPT_TAGS:
		case OPT_MODE:
		case OPT_RUN_ROLE:
		case OPT_RUN_CT_SIZE:
			if (nopt == MAX_SETTINGS)
				return -E2BIG;
			if (!nifs)
				ifs[nifs++] = (struct cli_iface){ NULL, nopt, 0 };
			ifopts[nopt++] = (struct cli_setting){ NULL, key, optarg };
			ifs[nifs - 1].n++;
			break;
		case OPT_STDOUT:
		case OPT_JOURNAL:
		case OPT_DETACH_ON_EXIT:
			err = add(&s, NULL, key, "yes");
			break;
		case 'h':
			usage(stdout);
			return 0;
		case '?':
			usage(stderr);
			return -EINVAL;
		default:
			err = add(&s, NULL, key, optarg);
			break;
		}
		if (err)
			return err;
	}
	if (optind < argc) {
		pr_err("run: unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	if (nifs && !ifs[0].name) {
		pr_err("run: -p, --mode, --role, --var, --tags and --ct-size need -i IFACE");
		return -EINVAL;
	}
	for (size_t i = 0; i < nifs; i++) {
		bool policy = false;

		for (size_t k = ifs[i].first; k < ifs[i].first + ifs[i].n; k++)
			policy |= !strcmp(ifopts[k].key, "policy");
		/* a -p for it may be in the configuration file */
		if (!policy && !o.config_path) {
			pr_err("run: -i %s needs -p POLICY", ifs[i].name);
			if (i + 1 < nifs)
				pr_hint("each -i takes the -p, --mode, --var ... that follow it");
			return -EINVAL;
		}
	}
	if (!o.config_path && !nifs) {
		pr_err("run: no configuration (-c FILE) and no interface (-i IFACE -p POLICY)");
		usage(stderr);
		return -EINVAL;
	}
	for (size_t i = 0; i < nifs; i++) {
		for (size_t k = ifs[i].first; k < ifs[i].first + ifs[i].n; k++) {
			err = add(&s, ifs[i].name, ifopts[k].key, ifopts[k].value);
			if (err)
				return err;
		}
	}
	err = require_root("run");
	if (err)
		return err;
	o.set = s.v;
	o.nset = s.n;
	return daemon_run(&o);
}
