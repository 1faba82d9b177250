// SPDX-License-Identifier: GPL-2.0-only
/* One option parser for every command, from the command's table of options. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/params.h"
#include "base/log.h"

#define CLI_MAX_OPTS 40
/* getopt_long's value of a long option without a letter: past every letter */
#define LONG_ONLY 256

struct table {
	struct option lo[CLI_MAX_OPTS + 2];
	char so[3 * CLI_MAX_OPTS + 8];
};

static int opt_val(const struct cli_opt *o, int i)
{
	return o->short_opt ? o->short_opt : LONG_ONLY + i;
}

/* The table as getopt_long wants it; silent: report errors as ':' and '?' without a message. */
static int build(const struct cli_cmd *cmd, bool silent, struct table *t)
{
	size_t n = 0;
	int i;

	if (cmd->in_order)
		t->so[n++] = '+';
	if (silent)
		t->so[n++] = ':';
	for (i = 0; cmd->opts[i].name; i++) {
		const struct cli_opt *o = &cmd->opts[i];

		if (i == CLI_MAX_OPTS)
			return -E2BIG;
		t->lo[i] = (struct option){ o->name, o->metavar ? required_argument : no_argument,
					    NULL, opt_val(o, i) };
		if (o->short_opt) {
			t->so[n++] = (char)o->short_opt;
			if (o->metavar)
				t->so[n++] = ':';
		}
	}
	t->lo[i++] = (struct option){ "help", no_argument, NULL, 'h' };
	t->lo[i] = (struct option){ 0 };
	t->so[n++] = 'h';
	t->so[n] = '\0';
	return 0;
}

static const struct cli_opt *find(const struct cli_cmd *cmd, int val)
{
	for (int i = 0; cmd->opts[i].name; i++)
		if (opt_val(&cmd->opts[i], i) == val)
			return &cmd->opts[i];
	return NULL;
}

/* getopt's own messages, through pr_err: as JSON under -j. */
static void report(const struct cli_cmd *cmd, int opt, char **argv)
{
	const char *word = optind > 0 ? argv[optind - 1] : "";
	bool is_long = !strncmp(word, "--", 2) || !optopt || optopt >= LONG_ONLY;

	if (opt == ':' && is_long)
		pr_err("%s: option '%s' requires an argument", cmd->name, word);
	else if (opt == ':')
		pr_err("%s: option requires an argument -- '%c'", cmd->name, optopt);
	else if (is_long)
		pr_err("%s: unrecognized option '%s'", cmd->name, word);
	else
		pr_err("%s: invalid option -- '%c'", cmd->name, optopt);
}

static void help(const struct cli_cmd *cmd)
{
	char left[64];

	cmd->usage(stdout);
	printf("\nOptions:\n");
	for (const struct cli_opt *o = cmd->opts; o->name; o++) {
		snprintf(left, sizeof(left), "%c%c%c --%s%s%s", o->short_opt ? '-' : ' ',
			 o->short_opt ? o->short_opt : ' ', o->short_opt ? ',' : ' ', o->name,
			 o->metavar ? " " : "", o->metavar ? o->metavar : "");
		/* a help text of several lines goes on under itself */
		printf("  %-28s ", left);
		for (const char *h = o->help; *h; h++) {
			if (*h == '\n')
				printf("\n%31s", "");
			else
				putchar(*h);
		}
		putchar('\n');
	}
	printf("  %-28s %s\n", "-h, --help", "this text");
}

static int apply(const struct cli_opt *o, void *cfg, const char *arg)
{
	void *dst = (char *)cfg + o->offset;

	switch (o->kind) {
	case CLI_FLAG:
		*(bool *)dst = true;
		return 0;
	case CLI_STRING:
		*(const char **)dst = arg;
		return 0;
	case CLI_FUNC:
		return o->parse(dst, o->metavar ? arg : NULL, o);
	case CLI_JSON:
		json_output = true;
		return 0;
	}
	return -EINVAL;
}

int cli_parse(const struct cli_cmd *cmd, void *cfg, int argc, char **argv, int *first)
{
	const struct cli_opt *o;
	struct table t;
	int opt, err;

	/* -j first, wherever it is: the errors about the other options are JSON then */
	err = build(cmd, true, &t);
	if (err) {
		pr_err("%s: too many options", cmd->name);
		return err;
	}
	opterr = 0;
	optind = 0;
	while ((opt = getopt_long(argc, argv, t.so, t.lo, NULL)) != -1) {
		o = find(cmd, opt);
		if (o && o->kind == CLI_JSON)
			json_output = true;
	}
	log_set_json(json_output);

	build(cmd, json_output, &t);
	opterr = !json_output;
	optind = 0;
	while ((opt = getopt_long(argc, argv, t.so, t.lo, NULL)) != -1) {
		if (opt == 'h') {
			help(cmd);
			return 1;
		}
		o = find(cmd, opt);
		if (!o || opt == '?' || opt == ':') {
			if (json_output)
				report(cmd, opt, argv);
			else
				cmd->usage(stderr);
			return -EINVAL;
		}
		err = apply(o, cfg, optarg);
		if (err)
			return err;
	}
	*first = optind;
	return 0;
}

int cli_ct_size(void *dst, const char *arg, const struct cli_opt *o)
{
	unsigned long n;
	char *end;

	n = strtoul(arg, &end, 10);
	if (*end || n < 1024 || n > (1u << 24)) {
		pr_err("--ct-size %s: expected a number from 1024 to 16777216", arg);
		return -EINVAL;
	}
	*(unsigned *)dst = (unsigned)n;
	return 0;
}
