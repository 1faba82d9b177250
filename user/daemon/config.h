/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The daemon's configuration (amlguard.conf): global "key = value" lines for the sinks and the
 * metrics, then one "[interface NAME]" section per interface with its policy.  The command line
 * sets the same keys (--log-file is "log-file") on top of the file.  Errors are reported like
 * policy errors, file:line:col with the source line, all of them, then nothing is used.
 *
 *   log-file = /var/log/amlguard/violations.json
 *   metrics-listen = 127.0.0.1:9479
 *
 *   [interface eth1]
 *   policy = /etc/amlguard/compute.policy
 *   mode = enforce
 *   var region = EastUS2
 */
#ifndef AMLG_DAEMON_CONFIG_H
#define AMLG_DAEMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "base/diag.h"
#include "compile/pipeline.h"

#define CONFIG_MAX_IFACES 32

struct iface_conf {
	char *name;
	char *policy;
	char *tags;
	int mode; /* -1: the policy's own */
	unsigned role; /* AMLG_ROLE_* */
	unsigned ct_size; /* 0: the default */
	struct var_def vars[PIPELINE_MAX_VARS]; /* owned strings */
	size_t nvars;
	struct srcloc loc; /* the section header */
};

struct config {
	struct iface_conf ifaces[CONFIG_MAX_IFACES];
	size_t nifaces;
	/* violation sinks */
	char *log_file;
	bool log_stdout;
	bool journal;
	char *pcap;
	unsigned snaplen; /* 0: leave the datapath's */
	/* alerts on undeclared egress */
	char *alert_exec;
	unsigned alert_max_running;
	unsigned alert_window_s; /* one alert per flow per window */
	unsigned alert_rate, alert_period_s; /* at most alert_rate alerts per period */
	unsigned alert_timeout_s;
	/* metrics */
	char *metrics_listen; /* "host:port", NULL: off */
	char *metrics_textfile;
	unsigned metrics_interval_s;
	bool detach_on_exit;
};

void config_init(struct config *c);
void config_free(struct config *c);

/*
 * Parse a configuration text into c, on top of what c holds (a key given again replaces the
 * earlier value; within one text a key given twice is an error).  Relative paths are taken
 * from dir (NULL: as they are).  Returns 0 or -EINVAL; the messages are in d.
 */
int config_parse(struct config *c, const char *name, const char *text, const char *dir,
		 struct diag *d);
/* The same from a file. */
int config_load(struct config *c, const char *path, struct diag *d);

/*
 * One setting, from the command line: section NULL is global, else the interface section of
 * that name (created if needed).  loc names where it came from.  0 or -EINVAL.
 */
int config_set(struct config *c, const char *section, const char *key, const char *value,
	       struct srcloc loc, struct diag *d);

/* After every layer: at least one interface, each with a policy.  0 or -EINVAL. */
int config_check(const struct config *c, struct srcloc loc, struct diag *d);

/* The keys, for suggestions, completion and docs. */
extern const char *const config_global_keys[];
extern const char *const config_iface_keys[];

#endif
