// SPDX-License-Identifier: GPL-2.0-only
/* amlguard: the command table and the global options. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "cli/cli.h"
#include "base/diag.h"
#include "base/log.h"

bool json_output;
bool pretty_output;

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct cmd cmds[] = {
	{ "compile", do_compile, "parse and compile a policy, print the tables (no kernel)" },
	{ "attach", do_attach, "attach to an interface with a policy" },
	{ "reload", do_reload, "swap the policy of an attached interface atomically" },
	{ "status", do_status, "mode, policy, counters per rule and flow ID" },
	{ "log", do_log, "violations as JSON lines" },
	{ "detach", do_detach, "remove amlguard from an interface" },
	{ "run", do_run, "the daemon: attach or adopt, log, alert, serve metrics" },
	{ "check", do_check, "judge captures offline with the same datapath" },
	{ "explain", do_explain, "why one packet is allowed or not (same datapath)" },
	{ "fqdn", do_fqdn, "names learned from DNS, their addresses and rules" },
	{ "tags", do_tags, "list, show and diff Azure service-tag files (no kernel)" },
	{ "udr", do_udr, "the forced-tunneling routes (next hop Internet) of a policy's region" },
	{ "export", do_export, "the policy as NSG rules, Azure Firewall rules or nftables" },
	{ "audit", do_audit, "an NSG or Azure Firewall policy against the policy's flows" },
};

static bool output_failed;

void json_print(json_t *v)
{
	/* NULL: a json_pack() that failed (no memory, or text that is not UTF-8) */
	if (!v || json_dumpf(v, stdout, pretty_output ? JSON_INDENT(2) : JSON_COMPACT) ||
	    fputc('\n', stdout) == EOF || fflush(stdout)) {
		if (!output_failed)
			pr_err("cannot print the JSON output%s",
			       v ? "" : ": a value could not be represented");
		output_failed = true;
	}
	json_decref(v);
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: amlguard [OPTIONS] COMMAND [ARGS]\n\n"
		   "An eBPF allow-list for the network flows Azure Machine Learning needs.\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(f, "\nOptions:\n"
		   "  -j, --json     JSON output (every read command)\n"
		   "      --pretty   indented JSON\n"
		   "  -d, --debug    debug messages, libbpf's included\n"
		   "  -q, --quiet    errors only\n"
		   "  -V, --version  print the version\n"
		   "  -h, --help     this text; 'amlguard COMMAND --help' for a command\n");
}

static const struct cmd *cmd_select(const char *name)
{
	const struct cmd *found = NULL;
	size_t len = strlen(name);

	/* Unambiguous prefixes work, as in ip(8) and bpftool(8). */
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
		if (!strncmp(cmds[i].name, name, len)) {
			if (found)
				return NULL;
			found = &cmds[i];
		}
	}
	return found;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'P' },
		{ "debug", no_argument, NULL, 'd' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const struct cmd *c;
	int opt, ret;

	/*
	 * Setuid, setgid or file capabilities (AT_SECURE) would let any user hand a privileged
	 * amlguard policies, captures and paths of their choosing: refuse.
	 */
	if (getuid() != geteuid() || getgid() != getegid() || getauxval(AT_SECURE)) {
		fprintf(stderr, "amlguard: error: refusing to run setuid, setgid or with file "
				"capabilities\n"
				"  hint: run it as root (sudo amlguard ...), or from its systemd "
				"unit\n");
		return 2;
	}
	while ((opt = getopt_long(argc, argv, "+jdqVh", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json_output = true;
			break;
		case 'P':
			json_output = pretty_output = true;
			break;
		case 'd':
			log_set_level(LOGL_DEBUG);
			break;
		case 'q':
			log_set_level(LOGL_QUIET); /* errors only */
			break;
		case 'V':
			printf("amlguard %s\n", AMLG_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	c = cmd_select(argv[optind]);
	if (!c) {
		const char *names[sizeof(cmds) / sizeof(cmds[0])];
		const char *near;

		for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
			names[i] = cmds[i].name;
		near = diag_suggest(argv[optind], names, sizeof(cmds) / sizeof(cmds[0]));
		fprintf(stderr, "amlguard: error: unknown command '%s'\n", argv[optind]);
		if (near)
			fprintf(stderr, "  hint: did you mean '%s'?\n", near);
		return 2;
	}
	log_set_json(json_output);
	log_libbpf_init();
	argc -= optind;
	argv += optind;
	optind = 0; /* a full reset for the command's own getopt_long */
	ret = c->fn(argc, argv);
	log_libbpf_reset();
	/* an answer that could not be printed whole is no answer: never exit 0 after it */
	if ((fflush(stdout) || ferror(stdout)) && !output_failed) {
		pr_err("cannot write the output: %s", strerror(errno));
		output_failed = true;
	}
	if (ret < 0 || output_failed)
		return 2;
	return ret;
}
