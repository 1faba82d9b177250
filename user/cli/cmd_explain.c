// SPDX-License-Identifier: GPL-2.0-only
/* amlguard explain: build one packet, run it through the datapath, and say why. */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/policy_opts.h"
#include "offline/explain.h"
#include "base/log.h"
#include "offline/pktgen.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: amlguard explain -p POLICY [--tags FILE] [--var NAME=VALUE]... [-j]\n"
		"                        out|in PROTO SRC[:PORT] DST[:PORT]\n"
		"       amlguard explain -p POLICY [...] [-j] --file FILE|-\n\n"
		"PROTO is tcp, udp, icmp, icmpv6 or a protocol number; IPv6 endpoints are\n"
		"written [2001:db8::1]:443.  The packet is the first one of its flow (a TCP SYN,\n"
		"an ICMP echo request), judged by the datapath that runs live.  Example:\n"
		"  amlguard explain -p compute.policy out tcp 10.0.0.4:50000 20.60.1.2:443\n"
		"--file takes one packet a line in the same words ('-' for standard input,\n"
		"'#' starts a comment) and judges them all with one load of the datapath; each\n"
		"is judged as if alone.  Exit status: 0 all allowed, 1 a violation, 2 error.\n");
}

/* Forget what one packet left behind (its tracked flow), so that the next is judged alone. */
static int forget_flows(struct offline *o)
{
	static const int which[] = { M_CT, M_FRAG };
	uint8_t key[128], next[128];

	for (size_t i = 0; i < sizeof(which) / sizeof(which[0]); i++) {
		int fd = o->maps.fd[which[i]];

		while (bpf_map_get_next_key(fd, NULL, next) == 0) {
			memcpy(key, next, sizeof(key));
			if (bpf_map_delete_elem(fd, key))
				return -errno;
		}
	}
	return 0;
}

/* The packet a query stands for, through the datapath. */
static int run_query(struct offline *o, const struct explain_query *q, struct offline_verdict *v)
{
	char src[48], dst[48];
	uint8_t frame[PKT_MAX];
	struct pkt_spec spec;
	size_t len;

	memset(&spec, 0, sizeof(spec));
	spec.src = inet_ntop(q->family == 4 ? AF_INET : AF_INET6, q->saddr, src, sizeof(src));
	spec.dst = inet_ntop(q->family == 4 ? AF_INET : AF_INET6, q->daddr, dst, sizeof(dst));
	spec.proto = q->proto;
	spec.sport = q->sport;
	spec.dport = q->dport;
	spec.icmp_type = q->icmp_type;
	len = pkt_build(&spec, frame, sizeof(frame));
	if (!len)
		return -EINVAL;
	return offline_run(o, frame, len, q->dir, 1, v);
}

static void show(const struct compiled *c, const struct explain_query *q,
		 const struct offline_verdict *v, bool first)
{
	if (json_output) {
		json_print(explain_json(c, q, v));
		return;
	}
	if (!first)
		fputc('\n', stdout);
	explain_print(stdout, c, q, v);
}

/* Read the queries of --file before loading anything: a bad line costs no load. */
static int read_queries(const char *path, struct explain_query **qs, size_t *n)
{
	bool is_stdin = !strcmp(path, "-");
	FILE *f = is_stdin ? stdin : fopen(path, "r");
	char err[512];
	int ret;

	if (!f) {
		ret = -errno;
		pr_err("%s: cannot open: %s", path, strerror(-ret));
		return ret;
	}
	ret = explain_read_file(f, is_stdin ? "<stdin>" : path, qs, n, err, sizeof(err));
	if (!is_stdin)
		fclose(f);
	if (ret)
		pr_err("%s", err);
	return ret;
}

struct explain_cfg {
	struct pipeline_opts po;
	const char *file;
};

static const struct cli_opt opts[] = {
	CLI_OPTS_POLICY(struct explain_cfg, po),
	CLI_OPT_STRING(struct explain_cfg, file, "file", 'f', "FILE|-",
		       "one packet a line, judged with one load"),
	CLI_OPT_JSON,
	CLI_OPT_END,
};

/* in order: the packet's words may look like options to getopt */
static const struct cli_cmd cmd = { .name = "explain",
				    .usage = usage,
				    .opts = opts,
				    .in_order = true };

int do_explain(int argc, char **argv)
{
	struct explain_query q, *qs = &q;
	struct offline_verdict v;
	struct compiled *c = NULL;
	struct policy *p = NULL;
	struct explain_cfg cfg = { .po = PIPELINE_OPTS_INIT };
	const char *file;
	struct offline o;
	size_t nq = 1;
	bool viol = false;
	char err[256];
	int first, ret;

	ret = cli_parse(&cmd, &cfg, argc, argv, &first);
	if (ret)
		return ret > 0 ? 0 : ret;
	file = cfg.file;
	if (file && first < argc) {
		pr_err("explain: --file %s and a packet on the command line: give one or the other",
		       file);
		return -EINVAL;
	}
	if (file) {
		ret = read_queries(file, &qs, &nq);
		if (ret)
			return ret;
	} else if (explain_parse(argc - first, argv + first, &q, err, sizeof(err))) {
		pr_err("explain: %s", err);
		pr_hint("e.g. amlguard explain -p POLICY out tcp 10.0.0.4:50000 20.60.1.2:443");
		return -EINVAL;
	}
	ret = cli_compile(&cfg.po, &c, &p, NULL);
	if (ret)
		goto out;
	ret = require_root(cmd.name);
	if (ret)
		goto out;
	ret = offline_open(&o, c, 0);
	if (ret)
		goto out;
	for (size_t i = 0; i < nq && !ret; i++) {
		ret = run_query(&o, &qs[i], &v);
		if (ret) {
			pr_err("explain: the datapath could not run the packet: %s",
			       strerror(-ret));
			break;
		}
		show(c, &qs[i], &v, i == 0);
		if (nq > 1 && (ret = forget_flows(&o)))
			pr_err("explain: cannot reset the offline connection tracking: %s",
			       strerror(-ret));
		viol |= v.verdict != AMLG_VERDICT_ALLOW;
	}
	offline_close(&o);
	if (!ret)
		ret = viol ? 1 : 0;
out:
	if (qs != &q)
		free(qs);
	compiled_free(c);
	policy_free(p);
	return ret;
}
