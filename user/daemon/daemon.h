/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * amlguard run: the daemon.  It brings every configured interface under amlguard (attaching,
 * or adopting the datapath a previous run left enforcing), holds each interface's lock, and
 * stays in the foreground: violations from the ring buffers go to the sinks and alerts,
 * metrics are served and written, SIGHUP reloads the configuration and the policies (all
 * compiled first: a bad one changes nothing), SIGTERM leaves the datapath enforcing (or
 * removes it with detach-on-exit).  Readiness is told to systemd (sd_notify) only once every
 * interface enforces its policy.
 */
#ifndef AMLG_DAEMON_DAEMON_H
#define AMLG_DAEMON_DAEMON_H

#include <stddef.h>

/* A setting given on the command line, applied on top of the file on every (re)load. */
struct cli_setting {
	const char *section; /* NULL: global; else the interface name */
	const char *key;
	const char *value;
};

struct daemon_opts {
	const char *config_path; /* NULL: the command line only */
	const struct cli_setting *set;
	size_t nset;
	bool json; /* configuration and policy errors as JSON on stdout */
};

/* Runs until SIGTERM or SIGINT: 0, or -errno when it could not start. */
int daemon_run(const struct daemon_opts *o);

#endif
