/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the command files share: global flags, the JSON printer, the interface helpers (iface.c)
 * and the commands themselves.
 */
#ifndef AMLG_CLI_CLI_H
#define AMLG_CLI_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

extern bool json_output;
extern bool pretty_output;

/* Print one JSON value as a line (or indented with --pretty) and release it. */
void json_print(json_t *v);
/* "needs root" check shared by the commands that touch the kernel. */
int require_root(const char *what);
/* -i IFACE: given, and a name an interface can have.  0 or -EINVAL, the error printed. */
int cli_iface(const char *cmd, const char *ifname);
/* cli_parse() for the commands whose options are -i IFACE and -j only. */
int cli_parse_iface(const char *cmd, void (*usage)(FILE *f), int argc, char **argv,
		    const char **ifname);
struct amlg_maps;
/* The root check, then the pinned state of ifname, or "amlguard is not attached" and why. */
int cli_open_pinned(const char *cmd, const char *ifname, struct amlg_maps *m);

/* Each returns 0, 1 for "ran fine and found violations", or -errno (exit status 2). */
int do_compile(int argc, char **argv);
int do_attach(int argc, char **argv);
int do_reload(int argc, char **argv);
int do_detach(int argc, char **argv);
int do_status(int argc, char **argv);
int do_log(int argc, char **argv);
int do_run(int argc, char **argv);
int do_check(int argc, char **argv);
int do_explain(int argc, char **argv);
int do_fqdn(int argc, char **argv);
int do_tags(int argc, char **argv);
int do_udr(int argc, char **argv);
int do_export(int argc, char **argv);
int do_audit(int argc, char **argv);

#endif
