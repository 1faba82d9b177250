/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Commands declare their options once, as a table: the long name, the short letter, the
 * argument's name (none for a flag), where the value goes in the command's own configuration
 * structure (or the function that parses it there) and a help line.  cli_parse() turns the
 * table into getopt_long's and treats every command alike: unknown options, missing
 * arguments, --help and -j, with every error as JSON under -j.
 */
#ifndef AMLG_CLI_PARAMS_H
#define AMLG_CLI_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum cli_opt_kind {
	CLI_FLAG, /* a bool set to true */
	CLI_STRING, /* a const char * pointing at the argument */
	CLI_FUNC, /* parse(), with the value's address */
	CLI_JSON, /* -j, --json: the global json_output */
};

struct cli_opt;
/* 0, or -errno with the message printed.  arg is NULL for an option without argument. */
typedef int (*cli_parse_fn)(void *dst, const char *arg, const struct cli_opt *o);

struct cli_opt {
	const char *name; /* the long option, without "--" */
	int short_opt; /* its letter, 0 for none */
	const char *metavar; /* the argument's name in --help; NULL: the option takes none */
	enum cli_opt_kind kind;
	size_t offset; /* of the value in the command's configuration */
	cli_parse_fn parse; /* CLI_FUNC */
	const char *help;
};

#define CLI_OPT_FLAG(type, member, lname, sopt, helptext)           \
	{                                                           \
		.name = lname, .short_opt = sopt, .kind = CLI_FLAG, \
		.offset = offsetof(type, member), .help = helptext, \
	}
#define CLI_OPT_STRING(type, member, lname, sopt, meta, helptext)                      \
	{                                                                              \
		.name = lname, .short_opt = sopt, .metavar = meta, .kind = CLI_STRING, \
		.offset = offsetof(type, member), .help = helptext,                    \
	}
#define CLI_OPT_FUNC(type, member, lname, sopt, meta, fn, helptext)                  \
	{                                                                            \
		.name = lname, .short_opt = sopt, .metavar = meta, .kind = CLI_FUNC, \
		.offset = offsetof(type, member), .parse = fn, .help = helptext,     \
	}
#define CLI_OPT_JSON                                                                      \
	{                                                                                 \
		.name = "json", .short_opt = 'j', .kind = CLI_JSON, .help = "JSON output" \
	}
#define CLI_OPT_END          \
	{                    \
		.name = NULL \
	}

struct cli_cmd {
	const char *name; /* "attach": the prefix of the messages */
	void (*usage)(FILE *f); /* the grammar; --help adds the table's help lines */
	const struct cli_opt *opts; /* ends with CLI_OPT_END */
	bool in_order; /* options end at the first word that is none (explain's packet) */
};

/*
 * Parse argv (argv[0] the command's name) into cfg, the command's configuration.  0: the
 * words that are no options start at argv[*first]; 1: --help was printed; -EINVAL or another
 * -errno: the error is printed (as text with the usage, or as JSON under -j).
 */
int cli_parse(const struct cli_cmd *cmd, void *cfg, int argc, char **argv, int *first);

/* --ct-size N into an unsigned: attach's and check's connection-table size. */
int cli_ct_size(void *dst, const char *arg, const struct cli_opt *o);

#endif
