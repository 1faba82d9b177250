// SPDX-License-Identifier: GPL-2.0-only
/* amlguard run: the daemon, configured by a file, the command line, or both. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/params.h"
#include "daemon/daemon.h"
#include "base/log.h"

#define MAX_SETTINGS 128

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
		"Each long option but --config and --help is also a configuration key of the same\n"
		"name.\n");
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

/*
 * Several interfaces, as in a configuration file: each -i starts one, and -p, --mode, --role,
 * --var, --tags and --ct-size after it are its own.  Those given before the first -i belong
 * to the first one.
 */
struct cli_iface {
	const char *name;
	size_t first, n; /* its options in ifopts[] */
};

struct run_cfg {
	struct daemon_opts o;
	struct settings s;
	struct cli_setting ifopts[MAX_SETTINGS];
	struct cli_iface ifs[MAX_SETTINGS];
	size_t nopt, nifs;
};

/* -i IFACE: the options after it (and those before the first -i) are its own */
static int opt_iface(void *dst, const char *arg, const struct cli_opt *o)
{
	struct run_cfg *r = dst;

	for (size_t i = 0; i < r->nifs; i++) {
		if (!strcmp(r->ifs[i].name, arg)) {
			pr_err("run: -i %s is given twice", arg);
			return -EINVAL;
		}
	}
	if (r->nifs && !r->ifs[r->nifs - 1].name)
		r->ifs[r->nifs - 1].name = arg; /* the options before the first -i */
	else
		r->ifs[r->nifs++] = (struct cli_iface){ arg, r->nopt, 0 };
	return 0;
}

/* -p, --mode, --role, --var, --tags, --ct-size: a key of the interface's section */
static int opt_of_iface(void *dst, const char *arg, const struct cli_opt *o)
{
	struct run_cfg *r = dst;

	if (r->nopt == MAX_SETTINGS)
		return -E2BIG;
	if (!r->nifs)
		r->ifs[r->nifs++] = (struct cli_iface){ NULL, r->nopt, 0 };
	r->ifopts[r->nopt++] = (struct cli_setting){ NULL, o->name, arg };
	r->ifs[r->nifs - 1].n++;
	return 0;
}

/* a global key; a flag is "yes" */
static int opt_global(void *dst, const char *arg, const struct cli_opt *o)
{
	return add(&((struct run_cfg *)dst)->s, NULL, o->name, arg ? arg : "yes");
}

#define RUN_OPT(lname, sopt, meta, fn, helptext)                                                  \
	{                                                                                         \
		.name = lname, .short_opt = sopt, .metavar = meta, .kind = CLI_FUNC, .parse = fn, \
		.help = helptext,                                                                 \
	}

static const struct cli_opt opts[] = {
	CLI_OPT_STRING(struct run_cfg, o.config_path, "config", 'c', "FILE",
		       "the configuration file (amlguard(8), CONFIGURATION)"),
	RUN_OPT("interface", 'i', "IFACE", opt_iface, "an interface; the options after it are its"),
	RUN_OPT("policy", 'p', "POLICY", opt_of_iface, "its policy file"),
	RUN_OPT("mode", 0, "audit|enforce", opt_of_iface, "instead of the policy's own mode"),
	RUN_OPT("role", 0, "host|gateway", opt_of_iface, "which direction is \"out\""),
	RUN_OPT("var", 0, "NAME=VALUE", opt_of_iface, "a value for a variable of the policy"),
	RUN_OPT("tags", 0, "FILE", opt_of_iface,
		"the service-tag file, instead of the policy's own"),
	RUN_OPT("ct-size", 0, "N", opt_of_iface, "connection-table entries (1024-16777216)"),
	RUN_OPT("log-file", 0, "FILE", opt_global, "violations as JSON lines, appended to FILE"),
	RUN_OPT("stdout", 0, NULL, opt_global, "violations as JSON lines on standard output"),
	RUN_OPT("journal", 0, NULL, opt_global, "violations to the journal, fields AMLG_*"),
	RUN_OPT("pcap", 0, "FILE[.gz]", opt_global,
		"the violating packets' first bytes, as a capture"),
	RUN_OPT("snaplen", 0, "N", opt_global, "bytes of each violating packet captured (1-256)"),
	RUN_OPT("alert-exec", 0, "CMD", opt_global,
		"run CMD (sh -c) per new undeclared egress flow, the\n"
		"event as JSON on its standard input"),
	RUN_OPT("alert-max-running", 0, "N", opt_global,
		"at most N alert commands at once (default 4)"),
	RUN_OPT("alert-window", 0, "SEC", opt_global,
		"one alert per flow per SEC seconds (default 600)"),
	RUN_OPT("alert-rate", 0, "N/SEC", opt_global,
		"at most N alerts per SEC seconds, then one summary\n"
		"of the suppressed ones (default 10/60)"),
	RUN_OPT("alert-timeout", 0, "SEC", opt_global,
		"kill an alert command after SEC seconds (default 30)"),
	RUN_OPT("metrics-listen", 0, "ADDR", opt_global,
		"Prometheus metrics on http://ADDR/metrics; ADDR is\n"
		"HOST:PORT, [IPV6]:PORT, or PORT for 127.0.0.1:PORT"),
	RUN_OPT("metrics-textfile", 0, "FILE", opt_global,
		"the metrics as a node_exporter textfile, replaced\n"
		"atomically every --metrics-interval SEC"),
	RUN_OPT("metrics-interval", 0, "SEC", opt_global,
		"seconds between two textfiles (default 15)"),
	RUN_OPT("detach-on-exit", 0, NULL, opt_global, "remove the datapath when stopping"),
	CLI_OPT_END,
};

static const struct cli_cmd cmd = { .name = "run", .usage = usage, .opts = opts };

int do_run(int argc, char **argv)
{
	static struct run_cfg cfg;
	struct cli_iface *ifs = cfg.ifs;
	struct cli_setting *ifopts = cfg.ifopts;
	struct daemon_opts *o = &cfg.o;
	struct settings *s = &cfg.s;
	size_t nifs;
	int first, err;

	memset(&cfg, 0, sizeof(cfg));
	err = cli_parse(&cmd, &cfg, argc, argv, &first);
	if (err)
		return err > 0 ? 0 : err;
	nifs = cfg.nifs;
	if (first < argc) {
		pr_err("run: unexpected argument '%s'", argv[first]);
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
		if (!policy && !o->config_path) {
			pr_err("run: -i %s needs -p POLICY", ifs[i].name);
			if (i + 1 < nifs)
				pr_hint("each -i takes the -p, --mode, --var ... that follow it");
			return -EINVAL;
		}
	}
	if (!o->config_path && !nifs) {
		pr_err("run: no configuration (-c FILE) and no interface (-i IFACE -p POLICY)");
		if (!json_output)
			usage(stderr);
		return -EINVAL;
	}
	for (size_t i = 0; i < nifs; i++) {
		for (size_t k = ifs[i].first; k < ifs[i].first + ifs[i].n; k++) {
			err = add(s, ifs[i].name, ifopts[k].key, ifopts[k].value);
			if (err)
				return err;
		}
	}
	err = require_root(cmd.name);
	if (err)
		return err;
	o->set = s->v;
	o->nset = s->n;
	o->json = json_output;
	return daemon_run(o);
}
