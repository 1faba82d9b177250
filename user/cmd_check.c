// SPDX-License-Identifier: GPL-2.0-only
/* amlguard check: run captures through the very same datapath, offline, and report by flow. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "capture.h"
#include "check.h"
#include "check_mt.h"
#include "cli.h"
#include "frontend.h"
#include "log.h"
#include "sink_pcap.h"

enum { OPT_LOCAL = OPT_FIRST_FREE, OPT_WRITE, OPT_NO_PROGRESS, OPT_THREADS };

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: amlguard check -p POLICY --local CIDR[,CIDR...] [--tags FILE]\n"
		"                      [--var NAME=VALUE]... [--write-violations FILE.pcap[.gz]]\n"
		"                      [--ct-size N] [--threads N] [--no-progress] [-j] CAPTURE...\n\n"
		"Runs every packet of the captures (pcap, pcapng, gzip-compressed or not; Ethernet,\n"
		"Linux cooked v1/v2, raw IP or BSD loopback) through the datapath that runs live, in\n"
		"packet order, so connection tracking carries across the capture as it would live.\n"
		"--local names the protected side: a packet from it is \"out\", one to it is \"in\",\n"
		"one between two other addresses is not judged.\n"
		"--threads N splits the packets by address pair across N copies of the datapath\n"
		"(default: one per CPU, at most 4); the report is the same as with --threads 1.\n"
		"Exit status: 0 no violations, 1 violations, 2 error.\n");
}

struct run {
	struct offline o;
	struct batch b;
	struct check_report rep;
	struct sink_pcap *viol;
	struct amlg_batch_res res[AMLG_BATCH_MAX];
	uint64_t number[AMLG_BATCH_MAX];
	size_t n;
	bool progress;
};

static int parse_local(const char *arg, struct prefix_list *l)
{
	char bad[256];
	bool hostbits;
	int err = prefix_list_parse(arg, l, bad, sizeof(bad), &hostbits);

	if (err == -EINVAL)
		pr_err("--local %s: '%s' is not %s", arg, bad,
		       hostbits ? "a network (host bits set)" : "an address or CIDR");
	return err;
}

static int flush(struct run *r)
{
	int err = batch_run_added(&r->b, r->res);

	if (err) {
		pr_err("check: the datapath failed on a batch of %zu packets: %s", r->n,
		       strerror(-err));
		return err;
	}
	for (size_t i = 0; i < r->n && !err; i++) {
		const struct amlg_batch_hdr *h = batch_hdr(&r->b, i);

		err = check_add(&r->rep, &r->res[i], h->len, h->ts_ns, r->number[i]);
		if (!err && r->viol && r->res[i].verdict == AMLG_VERDICT_VIOLATION &&
		    !r->res[i].foreign)
			err = sink_pcap_write_raw(r->viol, h->ts_ns, batch_data(&r->b, i), h->cap,
						  h->len);
	}
	r->n = 0;
	return err;
}

static void show_progress(const char *path, struct capture *c, uint64_t n, bool done)
{
	fprintf(stderr, "\r  %s: %3.0f%%, %llu packets%s", path,
		done ? 100.0 : 100.0 * capture_progress(c), (unsigned long long)n,
		done ? "\n" : "");
}

static int check_file(struct run *r, const char *path)
{
	struct capture *c;
	struct capture_pkt p;
	char err[512];
	uint64_t count = 0, last_shown = 0;
	int ret;

	ret = capture_open(path, &c, err, sizeof(err));
	if (ret) {
		pr_err("%s", err);
		return ret;
	}
	while ((ret = capture_next(c, &p)) == 1) {
		uint8_t *dst = batch_add(&r->b, p.ts_ns, p.len, p.cap, AMLG_DIR_AUTO);

		if (!dst) {
			ret = flush(r);
			if (ret)
				break;
			if (r->progress && count / (64 * AMLG_BATCH_MAX) != last_shown) {
				last_shown = count / (64 * AMLG_BATCH_MAX);
				show_progress(path, c, count, false);
			}
			dst = batch_add(&r->b, p.ts_ns, p.len, p.cap, AMLG_DIR_AUTO);
		}
		memcpy(dst, p.frame, batch_hdr(&r->b, r->n)->cap);
		r->number[r->n++] = p.number;
		count++;
	}
	if (ret == 0)
		ret = flush(r);
	if (r->progress)
		show_progress(path, c, count, true);
	if (ret == -EINVAL)
		pr_err("%s", capture_error(c));
	else if (ret == 0 && capture_truncated(c))
		pr_warn("%s (the capture ends inside it; %llu packets before it were checked)",
			capture_truncated(c), (unsigned long long)count);
	capture_close(c);
	return ret;
}

/* The same run split across threads (check_mt.h), reported the same way. */
static int check_mt_threads(struct run *r, const struct compiled *c, unsigned ct_size,
			    const struct prefix_list *local, unsigned threads,
			    const char *write_path, struct sink_pcap *viol, char **paths, int n)
{
	struct check_mt_args a = { .c = c,
				   .ct_size = ct_size,
				   .local = local,
				   .threads = threads,
				   .rep = &r->rep,
				   .progress = r->progress };
	int err = check_init(&r->rep, c);

	if (!err && write_path) {
		err = sink_pcap_open(viol, write_path);
		a.viol = err ? NULL : viol;
	}
	if (!err)
		err = check_mt_run(&a, paths, n);
	if (a.viol)
		sink_pcap_close(a.viol);
	if (!err) {
		if (json_output)
			check_print_json(&r->rep, stdout);
		else
			check_print(&r->rep, stdout);
		err = check_violating_flows(&r->rep) ? 1 : 0;
	}
	check_free(&r->rep);
	return err;
}

int do_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "local", required_argument, NULL, OPT_LOCAL },
		{ "write-violations", required_argument, NULL, OPT_WRITE },
		{ "ct-size", required_argument, NULL, OPT_CT_SIZE },
		{ "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
		{ "threads", required_argument, NULL, OPT_THREADS },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		FRONTEND_LONG_OPTS,
		{ 0 },
	};
	struct prefix_list local = { 0 };
	struct compiled *c = NULL;
	struct policy *p = NULL;
	struct sink_pcap viol;
	const char *write_path = NULL;
	struct policy_args a;
	unsigned ct_size = 1u << 20;
	bool progress = true;
	unsigned threads = check_mt_default();
	struct run *r = NULL;
	int opt, err;
	char *end;

	policy_args_init(&a);
	while ((opt = getopt_long(argc, argv, "p:jh", opts, NULL)) != -1) {
		err = policy_args_opt(&a, opt, optarg);
		if (err < 0)
			goto out;
		if (err)
			continue;
		switch (opt) {
		case OPT_LOCAL:
			err = parse_local(optarg, &local);
			if (err)
				goto out;
			break;
		case OPT_WRITE:
			write_path = optarg;
			break;
		case OPT_CT_SIZE:
			ct_size = (unsigned)strtoul(optarg, &end, 10);
			if (*end || ct_size < 1024 || ct_size > (1u << 24)) {
				pr_err("--ct-size %s: expected a number from 1024 to 16777216",
				       optarg);
				err = -EINVAL;
				goto out;
			}
			break;
		case OPT_THREADS:
			threads = (unsigned)strtoul(optarg, &end, 10);
			if (*end || !*optarg || threads < 1 || threads > CHECK_MT_MAX) {
				pr_err("--threads %s: expected a number from 1 to %d", optarg,
				       CHECK_MT_MAX);
				err = -EINVAL;
				goto out;
			}
			break;
		case OPT_NO_PROGRESS:
			progress = false;
			break;
		case 'j':
			json_output = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			err = -EINVAL;
			goto out;
		}
	}
	err = -EINVAL;
	if (optind >= argc) {
		pr_err("check: no capture given");
		goto out;
	}
	if (!local.n) {
		pr_err("check: --local is needed: which addresses are the protected side");
		pr_hint("e.g. --local 10.0.0.0/24 for a compute subnet");
		goto out;
	}
	err = frontend_compile(&a, json_output, &c, &p);
	if (err)
		goto out;
	err = require_root("check");
	if (err)
		goto out;
	err = -ENOMEM;
	r = calloc(1, sizeof(*r));
	if (!r)
		goto out;
	r->progress = progress && isatty(2) && !json_output;
	if (threads > 1) {
		err = check_mt_threads(r, c, ct_size, &local, threads, write_path, &viol,
				       argv + optind, argc - optind);
		goto out_run;
	}
	err = offline_open_batch(&r->o, c, ct_size);
	if (err)
		goto out_run;
	err = offline_set_local(&r->o, &local);
	if (!err)
		err = batch_init(&r->b, &r->o);
	if (!err)
		err = check_init(&r->rep, c);
	if (!err && write_path) {
		err = sink_pcap_open(&viol, write_path);
		r->viol = err ? NULL : &viol;
	}
	for (int i = optind; !err && i < argc; i++)
		err = check_file(r, argv[i]);
	if (r->viol)
		sink_pcap_close(r->viol);
	if (!err) {
		if (json_output)
			check_print_json(&r->rep, stdout);
		else
			check_print(&r->rep, stdout);
		err = check_violating_flows(&r->rep) ? 1 : 0;
	}
	check_free(&r->rep);
	batch_free(&r->b);
	offline_close(&r->o);
out_run:
	free(r);
out:
	compiled_free(c);
	policy_free(p);
	prefix_list_free(&local);
	return err;
}
