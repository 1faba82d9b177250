// SPDX-License-Identifier: GPL-2.0-only
/* amlguard export: a policy as NSG rules, an Azure Firewall rule collection group or nftables. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/policy_opts.h"
#include "azure/export.h"
#include "base/log.h"

enum fmt { FMT_NSG, FMT_NSG_ARM, FMT_AZFW, FMT_NFT };

static const char *const fmt_names[] = { "nsg", "nsg-arm", "azfw", "nft", NULL };

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: amlguard export -p POLICY [--tags FILE] [--var NAME=VALUE]...\n"
		"                       --format nsg|nsg-arm|azfw|nft [-o FILE] [--name NAME]\n"
		"                       [--deny-rest] [--priority-step N] [--group-priority N]\n"
		"                       [--mode audit|enforce] [--log]\n\n"
		"The policy in the language of another filter:\n"
		"  nsg      the securityRules of a network security group (ARM JSON, as\n"
		"           'az network nsg show' prints it); service tags stay tags\n"
		"  nsg-arm  the same as an ARM deployment template\n"
		"  azfw     an Azure Firewall Policy rule collection group: network rules for\n"
		"           addresses and tags, application rules (targetFqdns) for host rules\n"
		"  nft      an nftables ruleset (table inet amlguard) for the host itself\n\n"
		"NSG priorities are 100, 100+N, 100+2N... per direction in the policy's order\n"
		"(N = --priority-step, default 10); --deny-rest adds a deny-all rule per\n"
		"direction at 4096.  What the target cannot express (host rules in an NSG or\n"
		"nftables) is listed on stderr and the exit status is 1: the export is partial.\n"
		"Azure's limits (1000 rules and 4000 addresses per NSG, 20000 network-rule\n"
		"combinations and 2 MB per firewall rule collection group) are checked: a\n"
		"policy beyond them is an error (exit status 2).\n");
}

static int parse_int(const char *opt, const char *s, int lo, int hi, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < lo || v > hi) {
		pr_err("%s %s: expected a number from %d to %d", opt, s, lo, hi);
		return -EINVAL;
	}
	*out = (int)v;
	return 0;
}

static int parse_format(void *dst, const char *arg, const struct cli_opt *o)
{
	for (int i = 0; fmt_names[i]; i++) {
		if (!strcmp(arg, fmt_names[i])) {
			*(int *)dst = i;
			return 0;
		}
	}
	pr_err("export: --format %s: expected nsg, nsg-arm, azfw or nft", arg);
	return -EINVAL;
}

static int parse_name(void *dst, const char *arg, const struct cli_opt *o)
{
	if (!*arg || strlen(arg) > NSG_NAME_MAX) {
		pr_err("export: --name '%s': 1 to %d characters", arg, NSG_NAME_MAX);
		return -EINVAL;
	}
	*(const char **)dst = arg;
	return 0;
}

static int parse_prio_step(void *dst, const char *arg, const struct cli_opt *o)
{
	return parse_int("--priority-step", arg, 1, 1000, dst);
}

static int parse_group_prio(void *dst, const char *arg, const struct cli_opt *o)
{
	return parse_int("--group-priority", arg, 100, 65000, dst);
}

struct export_cfg {
	struct pipeline_opts po;
	struct export_opts eo;
	const char *outpath;
	int fmt;
};

static const struct cli_opt opts[] = {
	CLI_OPTS_POLICY(struct export_cfg, po),
	CLI_OPT_FUNC(struct export_cfg, fmt, "format", 0, "nsg|nsg-arm|azfw|nft", parse_format,
		     "the target"),
	CLI_OPT_STRING(struct export_cfg, outpath, "output", 'o', "FILE",
		       "written whole or not at all (default: standard output)"),
	CLI_OPT_FUNC(struct export_cfg, eo.name, "name", 0, "NAME", parse_name,
		     "the name of the rules' container (default amlguard)"),
	CLI_OPT_FLAG(struct export_cfg, eo.deny_rest, "deny-rest", 0,
		     "a deny-all rule per direction after the policy's"),
	CLI_OPT_FUNC(struct export_cfg, eo.prio_step, "priority-step", 0, "N", parse_prio_step,
		     "NSG priorities 100, 100+N, ... (default 10)"),
	CLI_OPT_FUNC(struct export_cfg, eo.group_prio, "group-priority", 0, "N", parse_group_prio,
		     "the rule collection group's priority (default 500)"),
	CLI_OPT_FLAG(struct export_cfg, eo.log_rest, "log", 0,
		     "nft: log what the rules do not allow"),
	CLI_OPT_END,
};

static const struct cli_cmd cmd = { .name = "export", .usage = usage, .opts = opts };

static int write_json(json_t *doc, FILE *f)
{
	int err = json_dumpf(doc, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	fputc('\n', f);
	return err ? -EIO : 0;
}

static void print_gaps(const struct export_ctx *x, const char *fmt)
{
	for (size_t i = 0; i < x->nnotes; i++)
		if (x->notes[i].origin[0])
			pr_info("export: note: %s (%s): %s: %s",
				x->notes[i].flow[0] ? x->notes[i].flow : "no flow ID",
				x->notes[i].origin, x->notes[i].what, x->notes[i].why);
		else
			pr_info("export: note: %s: %s", x->notes[i].what, x->notes[i].why);
	for (size_t i = 0; i < x->ngaps; i++)
		pr_warn("export: %s (%s): %s not exported: %s",
			x->gaps[i].flow[0] ? x->gaps[i].flow : "no flow ID", x->gaps[i].origin,
			x->gaps[i].what, x->gaps[i].why);
	if (x->ngaps)
		pr_warn("export: the %s export is partial: %zu item%s not expressed", fmt, x->ngaps,
			x->ngaps == 1 ? "" : "s");
}

int do_export(int argc, char **argv)
{
	struct export_cfg cfg = { .po = PIPELINE_OPTS_INIT,
				  .eo = { .name = "amlguard", .group_prio = 500 },
				  .fmt = -1 };
	struct export_ctx x = { .o = &cfg.eo };
	const char *outpath;
	struct compiled *c = NULL;
	struct tag_db *db = NULL;
	struct policy *p = NULL;
	char *tmp = NULL;
	json_t *doc = NULL;
	int fmt, first, err;
	size_t n1 = 0, n2 = 0;
	FILE *f = stdout;

	err = cli_parse(&cmd, &cfg, argc, argv, &first);
	if (err)
		return err > 0 ? 0 : err;
	fmt = cfg.fmt;
	outpath = cfg.outpath;
	if (fmt < 0) {
		pr_err("export: no --format given");
		pr_hint("--format nsg, nsg-arm, azfw or nft");
		return -EINVAL;
	}
	if (first < argc) {
		pr_err("export: unexpected argument '%s'", argv[first]);
		return -EINVAL;
	}
	err = cli_compile(&cfg.po, &c, &p, &db);
	if (err)
		return err;
	x.c = c;
	x.db = db;
	if (outpath) {
		/* Written next to its place and renamed: a failed export leaves no half file. */
		if (asprintf(&tmp, "%s.XXXXXX", outpath) < 0) {
			tmp = NULL;
			err = -ENOMEM;
			goto out;
		}
		int fd = mkstemp(tmp);

		if (fd < 0 || !(f = fdopen(fd, "w"))) {
			err = -errno;
			pr_err("export: %s: cannot write: %s", outpath, strerror(errno));
			if (fd >= 0)
				close(fd);
			free(tmp);
			tmp = NULL;
			f = stdout;
			goto out;
		}
	}
	switch (fmt) {
	case FMT_NSG:
	case FMT_NSG_ARM:
		err = export_nsg(&x, &doc, &n1, &n2);
		if (!err && fmt == FMT_NSG_ARM) {
			json_t *t = export_nsg_template(&x, doc);

			json_decref(doc);
			doc = t;
			if (!doc)
				err = -ENOMEM;
		}
		if (!err)
			pr_info("export: %zu security rules, %zu address prefixes and tags "
				"(limits: %d rules, %d addresses each way)",
				n1, n2, NSG_RULES_MAX, NSG_ADDRS_MAX);
		break;
	case FMT_AZFW:
		err = export_azfw(&x, &doc, &n1, &n2);
		if (!err)
			pr_info("export: %zu rules, %zu source-destination combinations (limit %d)",
				n1, n2, AZFW_COMBOS_MAX);
		break;
	case FMT_NFT:
		err = export_nft(&x, f, &n1, &n2);
		if (!err)
			pr_info("export: %zu nftables rules, %zu set elements", n1, n2);
		break;
	}
	if (!err && doc)
		err = write_json(doc, f);
	if (!err && (fflush(f) || ferror(f)))
		err = -EIO;
	if (!err)
		print_gaps(&x, fmt_names[fmt]);
out:
	if (tmp) {
		if (fclose(f) && !err)
			err = -EIO;
		if (!err && rename(tmp, outpath)) {
			err = -errno;
			pr_err("export: %s: %s", outpath, strerror(errno));
		}
		if (err)
			unlink(tmp);
		free(tmp);
	}
	if (err == -EIO)
		pr_err("export: %s: write error", outpath ? outpath : "stdout");
	json_decref(doc);
	if (!err && x.ngaps)
		err = 1;
	export_ctx_free(&x);
	tags_free(db);
	compiled_free(c);
	policy_free(p);
	return err;
}
