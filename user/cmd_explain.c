// SPDX-License-Identifier: GPL-2.0-only
/* amlguard explain: build one packet, run it through the datapath, and say why. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <arpa/inet.h>
#include <string.h>

#include "cli.h"
#include "explain.h"
#include "frontend.h"
#include "log.h"
#include "pktgen.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: amlguard explain -p POLICY [--tags FILE] [--var NAME=VALUE]... [-j]\n"
		"                        out|in PROTO SRC[:PORT] DST[:PORT]\n\n"
		"PROTO is tcp, udp, icmp, icmpv6 or a protocol number; IPv6 endpoints are\n"
		"written [2001:db8::1]:443.  The packet is the first one of its flow (a TCP SYN,\n"
		"an ICMP echo request), judged by the datapath that runs live.  Example:\n"
		"  amlguard explain -p compute.policy out tcp 10.0.0.4:50000 20.60.1.2:443\n");
}

int do_explain(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		FRONTEND_LONG_OPTS,
		{ 0 },
	};
	char src[48], dst[48], err[256];
	struct offline_verdict v;
	struct compiled *c = NULL;
	struct policy *p = NULL;
	struct explain_query q;
	struct pkt_spec spec;
	uint8_t frame[PKT_MAX];
	struct policy_args a;
	struct offline o;
	size_t len;
	int opt, ret;

	policy_args_init(&a);
	/* "+": the packet's words may look like options to getopt. */
	while ((opt = getopt_long(argc, argv, "+p:jh", opts, NULL)) != -1) {
		ret = policy_args_opt(&a, opt, optarg);
		if (ret < 0)
			return ret;
		if (ret)
			continue;
		switch (opt) {
		case 'j':
			json_output = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (explain_parse(argc - optind, argv + optind, &q, err, sizeof(err))) {
		pr_err("explain: %s", err);
		pr_hint("e.g. amlguard explain -p POLICY out tcp 10.0.0.4:50000 20.60.1.2:443");
		return -EINVAL;
	}
	ret = frontend_compile(&a, json_output, &c, &p);
	if (ret)
		return ret;
	ret = require_root("explain");
	if (ret)
		goto out;
	memset(&spec, 0, sizeof(spec));
	spec.src = inet_ntop(q.family == 4 ? AF_INET : AF_INET6, q.saddr, src, sizeof(src));
	spec.dst = inet_ntop(q.family == 4 ? AF_INET : AF_INET6, q.daddr, dst, sizeof(dst));
	spec.proto = q.proto;
	spec.sport = q.sport;
	spec.dport = q.dport;
	spec.icmp_type = q.icmp_type;
	len = pkt_build(&spec, frame, sizeof(frame));
	ret = offline_open(&o, c, 0);
	if (ret)
		goto out;
	ret = len ? offline_run(&o, frame, len, q.dir, 1, &v) : -EINVAL;
	offline_close(&o);
	if (ret) {
		pr_err("explain: the datapath could not run the packet: %s", strerror(-ret));
		goto out;
	}
	if (json_output)
		json_print(explain_json(c, &q, &v));
	else
		explain_print(stdout, c, &q, &v);
	ret = v.verdict == AMLG_VERDICT_ALLOW ? 0 : 1;
out:
	compiled_free(c);
	policy_free(p);
	return ret;
}
