// SPDX-License-Identifier: GPL-2.0-only
/* amlguard check: run captures through the very same datapath, offline, and report by flow. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernel/batch.h"
#include "offline/capture.h"
#include "offline/check.h"
#include "offline/check_mt.h"
#include "cli/cli.h"
#include "cli/policy_opts.h"
#include "azure/flowlog.h"
#include "azure/flowlog_check.h"
#include "base/log.h"
#include "sinks/sink_pcap.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: amlguard check -p POLICY --local CIDR[,CIDR...] [--tags FILE]\n"
		"                      [--var NAME=VALUE]... [--write-violations FILE.pcap[.gz]]\n"
		"                      [--ct-size N] [--threads N] [--each] [--no-progress] [--since TIME]\n"
		"                      [--until TIME] [-j] CAPTURE...\n"
		"       amlguard check -p POLICY [--local CIDR[,CIDR...]] [--mac MAC[,MAC...]]\n"
		"                      [--since TIME] [--until TIME] [--shard K/N] [-j] FLOWLOG...\n"
		"       amlguard check --merge [-j] RESULT.json...\n\n"
		"Runs every packet of the captures (pcap, pcapng, gzip-compressed or not; Ethernet,\n"
		"Linux cooked v1/v2, raw IP or BSD loopback) through the datapath that runs live, in\n"
		"packet order, so connection tracking carries across the capture as it would live.\n"
		"--local names the protected side: a packet from it is \"out\", one to it is \"in\",\n"
		"one between two other addresses is not judged.\n"
		"--each judges every capture on its own (connection tracking and fragments start\n"
		"afresh) and reports each: one policy load for many captures.\n"
		"A corrupt record ends its capture: what came before it is reported, the record is\n"
		"named, and the exit status is 2.\n"
		"--threads N splits the packets by address pair across N copies of the datapath\n"
		"(captures only; default 1, at most 4); the report is the same as with --threads 1.\n\n"
		"Azure flow logs (virtual network flow logs version 4, NSG flow logs version 2; files,\n"
		"gzip-compressed or not, or blob trees as downloaded) are recognised by their content:\n"
		"each distinct flow goes through the same datapath as one packet, its direction and\n"
		"NIC come from the log, --local only narrows which flows are checked.  A documented\n"
		"flow the NSG denied is reported as blocked; an undeclared one as attempted.\n"
		"TIME: YYYY-MM-DD[THH:MM[:SS]][Z] (UTC) or @EPOCH_SECONDS.  --shard K/N checks the\n"
		"files K, K+N, K+2N... (1 <= K <= N) of the sorted list; --merge adds up the -j\n"
		"results of shards.\n"
		"Exit status: 0 no violations, 1 violations (or required flows blocked), 2 error.\n");
}

static int parse_threads(void *dst, const char *arg, const struct cli_opt *o)
{
	char *end;
	unsigned long n = strtoul(arg, &end, 10);

	if (*end || !*arg || n < 1 || n > CHECK_MT_MAX) {
		pr_err("--threads %s: expected a number from 1 to %d", arg, CHECK_MT_MAX);
		return -EINVAL;
	}
	*(unsigned *)dst = (unsigned)n;
	return 0;
}

/* --since and --until; the value is seen (not 0) even at the epoch itself */
struct time_opt {
	uint64_t ms;
	bool given;
};

static int parse_time(void *dst, const char *arg, const struct cli_opt *o)
{
	struct time_opt *t = dst;

	if (fl_time_parse(arg, &t->ms)) {
		pr_err("--%s %s: expected YYYY-MM-DD[THH:MM[:SS]][Z] (UTC) or @EPOCH_SECONDS",
		       o->name, arg);
		return -EINVAL;
	}
	t->given = true;
	return 0;
}

static int parse_shard(void *dst, const char *arg, const struct cli_opt *o)
{
	struct fl_opts *fo = dst;
	int n;

	if (sscanf(arg, "%u/%u%n", &fo->shard, &fo->nshards, &n) != 2 || arg[n] || !fo->nshards ||
	    !fo->shard || fo->shard > fo->nshards) {
		pr_err("--shard %s: expected K/N with 1 <= K <= N", arg);
		return -EINVAL;
	}
	return 0;
}

struct run {
	struct offline o;
	struct batch b;
	struct check_report rep;
	struct sink_pcap *viol;
	struct amlg_batch_res res[AMLG_BATCH_MAX];
	uint64_t number[AMLG_BATCH_MAX];
	uint32_t wire[AMLG_BATCH_MAX]; /* what was on the wire (the batch has Ethernet frames) */
	size_t n;
	bool progress;
	bool opened; /* check_file(): the capture could be opened */
	uint64_t since_ns, until_ns; /* until 0: open */
};

static int parse_local(void *l, const char *arg, const struct cli_opt *o)
{
	char bad[256];
	bool hostbits;
	int err = prefix_list_parse(arg, l, bad, sizeof(bad), &hostbits);

	if (err == -EINVAL)
		pr_err("--local %s: '%s' is not %s", arg, bad,
		       hostbits ? "a network (host bits set)" : "an address or CIDR");
	return err;
}

static int parse_macs(void *dst, const char *arg, const struct cli_opt *opt)
{
	struct fl_opts *o = dst;
	const char *p = arg;

	while (*p) {
		size_t len = strcspn(p, ",");
		uint8_t(*v)[6];

		if (len) {
			v = realloc(o->macs, (o->nmacs + 1) * sizeof(*v));
			if (!v)
				return -ENOMEM;
			o->macs = v;
			if (fl_mac_parse(p, len, v[o->nmacs])) {
				pr_err("--mac %s: '%.*s' is not a MAC address (12 hex digits, with or without ':' or '-')",
				       arg, (int)len, p);
				return -EINVAL;
			}
			o->nmacs++;
		}
		p += len + (p[len] == ',');
	}
	return 0;
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

		err = check_add(&r->rep, &r->res[i], r->wire[i], h->ts_ns, r->number[i]);
		if (!err && r->viol && r->res[i].verdict == AMLG_VERDICT_VIOLATION &&
		    !r->res[i].foreign) {
			err = sink_pcap_write_raw(r->viol, h->ts_ns, batch_data(&r->b, i), h->cap,
						  h->len);
			if (err)
				pr_err("%s: cannot write the violating packets: %s", r->viol->path,
				       strerror(-err));
		}
	}
	r->n = 0;
	return err;
}

/*
 * Every capture opens and starts like one, before the datapath is loaded: a wrong name or a file
 * that is no capture is reported at once, not after the verifier's time.  The message is
 * the one check_file would print.
 */
static int captures_open(char **paths, int n)
{
	struct capture *c;
	char err[512];
	int ret;

	for (int i = 0; i < n; i++) {
		ret = capture_open(paths[i], &c, err, sizeof(err));
		if (ret) {
			pr_err("%s", err);
			return ret;
		}
		capture_close(c);
	}
	return 0;
}

/*
 * Judge one capture's packets into r->rep.  A capture that cannot be opened, or a corrupt
 * record (after the packets before it were judged), leaves its message in r->rep.error and
 * returns -EINVAL (r->opened says which); other errors are the datapath's.
 */
static int check_file(struct run *r, const char *path)
{
	struct capture *c;
	struct capture_pkt p;
	char err[512];
	uint64_t count = 0, last_shown = 0;
	int ret;

	r->opened = false;
	ret = capture_open(path, &c, err, sizeof(err));
	if (ret) {
		free(r->rep.error);
		r->rep.error = strdup(err);
		return r->rep.error ? -EINVAL : -ENOMEM;
	}
	r->opened = true;
	while ((ret = capture_next(c, &p)) == 1) {
		uint8_t *dst;

		if (p.ts_ns < r->since_ns || (r->until_ns && p.ts_ns >= r->until_ns))
			continue;
		dst = batch_add(&r->b, p.ts_ns, p.len, p.cap, AMLG_DIR_AUTO);

		if (!dst) {
			ret = flush(r);
			if (ret)
				break;
			if (r->progress && count / (64 * AMLG_BATCH_MAX) != last_shown) {
				last_shown = count / (64 * AMLG_BATCH_MAX);
				capture_show_progress(path, c, count, false);
			}
			dst = batch_add(&r->b, p.ts_ns, p.len, p.cap, AMLG_DIR_AUTO);
		}
		memcpy(dst, p.frame, batch_hdr(&r->b, r->n)->cap);
		r->wire[r->n] = p.wire_len;
		r->number[r->n++] = p.number;
		count++;
	}
	if (ret == -EINVAL) {
		/* a corrupt record: the packets before it are judged and reported */
		free(r->rep.error);
		r->rep.error = strdup(capture_error(c));
		ret = flush(r) ?: (r->rep.error ? -EINVAL : -ENOMEM);
	} else if (ret == 0) {
		ret = flush(r);
	}
	if (r->progress)
		capture_show_progress(path, c, count, true);
	if (ret == 0 && capture_truncated(c)) {
		pr_warn("%s (the capture ends inside it; %llu packets before it were checked)",
			capture_truncated(c), (unsigned long long)count);
		free(r->rep.truncated);
		r->rep.truncated = strdup(capture_truncated(c));
	}
	capture_close(c);
	return ret;
}

static void report(struct run *r)
{
	if (json_output) {
		check_print_json(&r->rep, stdout);
	} else {
		if (r->rep.capture)
			printf("== %s\n", r->rep.capture);
		check_print(&r->rep, stdout);
	}
	fflush(stdout);
	if (r->rep.error)
		pr_err("%s", r->rep.error);
}

/*
 * All captures into one report, in order (connection tracking carries across them).  A capture
 * that cannot be opened stops it before any report; a corrupt record stops it after the report
 * of what came before.  0, 1 (violations), or -errno.
 */
static int check_all(struct run *r, char **paths, int n)
{
	int err = 0;

	for (int i = 0; i < n && !err; i++)
		err = check_file(r, paths[i]);
	if (err && !(err == -EINVAL && r->opened)) {
		if (r->rep.error)
			pr_err("%s", r->rep.error);
		return err;
	}
	report(r);
	return err ?: check_violating_flows(&r->rep) ? 1 : 0;
}

/*
 * --each: every capture judged from a fresh state and reported on its own; one that cannot be
 * read is reported (with what came before a corrupt record) and the others still run.
 */
static int check_each(struct run *r, const struct compiled *c, char **paths, int n)
{
	bool failed = false, viol = false;
	int err = 0;

	for (int i = 0; i < n; i++) {
		if (i) {
			check_free(&r->rep);
			err = check_init(&r->rep, c) ?: offline_forget(&r->o);
			if (err) {
				pr_err("check: cannot start afresh for %s: %s", paths[i],
				       strerror(-err));
				return err;
			}
		}
		r->rep.capture = paths[i];
		err = check_file(r, paths[i]);
		if (err && err != -EINVAL)
			return err;
		failed |= err != 0;
		report(r);
		viol |= check_violating_flows(&r->rep) != 0;
	}
	return failed ? -EINVAL : viol ? 1 : 0;
}

/*
 * The same run split across threads (check_mt.h), reported as check_all() does: a corrupt record
 * stops it after the report of what came before.  0, 1 (violations), or -errno.
 */
static int check_threads(struct run *r, const struct compiled *c, unsigned ct_size,
			 const struct prefix_list *local, unsigned threads, char **paths, int n)
{
	struct check_mt_args a = { .c = c,
				   .ct_size = ct_size,
				   .local = local,
				   .threads = threads,
				   .rep = &r->rep,
				   .viol = r->viol,
				   .progress = r->progress,
				   .since_ns = r->since_ns,
				   .until_ns = r->until_ns };
	int err = check_mt_run(&a, paths, n);

	if (err && !(err == -EINVAL && r->rep.error))
		return err;
	report(r);
	return err ?: check_violating_flows(&r->rep) ? 1 : 0;
}

struct check_cfg {
	struct pipeline_opts po;
	struct prefix_list local;
	const char *write_path;
	unsigned ct_size, threads;
	bool no_progress, each, merge;
	struct time_opt since, until;
	struct fl_opts fo;
};

static const struct cli_opt opts[] = {
	CLI_OPTS_POLICY(struct check_cfg, po),
	CLI_OPT_FUNC(struct check_cfg, local, "local", 0, "CIDR[,CIDR...]", parse_local,
		     "the protected side's addresses"),
	CLI_OPT_STRING(struct check_cfg, write_path, "write-violations", 0, "FILE.pcap[.gz]",
		       "the violating packets, as a capture"),
	CLI_OPT_FUNC(struct check_cfg, ct_size, "ct-size", 0, "N", cli_ct_size,
		     "connection-table entries (1024-16777216)"),
	CLI_OPT_FUNC(struct check_cfg, threads, "threads", 0, "N", parse_threads,
		     "copies of the datapath, for captures (1-4, default 1)"),
	CLI_OPT_FLAG(struct check_cfg, each, "each", 0, "judge and report every capture alone"),
	CLI_OPT_FLAG(struct check_cfg, no_progress, "no-progress", 0, "no progress line on stderr"),
	CLI_OPT_FUNC(struct check_cfg, since, "since", 0, "TIME", parse_time,
		     "only what happened from TIME"),
	CLI_OPT_FUNC(struct check_cfg, until, "until", 0, "TIME", parse_time,
		     "only what happened before TIME"),
	CLI_OPT_FUNC(struct check_cfg, fo, "mac", 0, "MAC[,MAC...]", parse_macs,
		     "flow logs: only these NICs"),
	CLI_OPT_FUNC(struct check_cfg, fo, "shard", 0, "K/N", parse_shard,
		     "flow logs: the files K, K+N, K+2N..."),
	CLI_OPT_FLAG(struct check_cfg, merge, "merge", 0, "add up the -j results of shards"),
	CLI_OPT_JSON,
	CLI_OPT_END,
};

static const struct cli_cmd cmd = { .name = "check", .usage = usage, .opts = opts };

int do_check(int argc, char **argv)
{
	struct compiled *c = NULL;
	struct policy *p = NULL;
	struct sink_pcap viol;
	struct check_cfg cfg = { .po = PIPELINE_OPTS_INIT, .ct_size = 1u << 20, .threads = 1 };
	struct fl_opts *fo = &cfg.fo;
	struct prefix_list *local = &cfg.local;
	const char *write_path;
	unsigned ct_size, threads;
	bool progress, each, merge;
	struct run *r = NULL;
	int first, err, nflow = 0, ncap = 0;

	err = cli_parse(&cmd, &cfg, argc, argv, &first);
	if (err > 0)
		return 0;
	if (err)
		goto out;
	fo->since_ms = cfg.since.ms;
	fo->until_ms = cfg.until.ms;
	write_path = cfg.write_path;
	ct_size = cfg.ct_size;
	threads = cfg.threads;
	progress = !cfg.no_progress;
	each = cfg.each;
	merge = cfg.merge;
	err = -EINVAL;
	if (first >= argc) {
		pr_err("check: no %s given", merge ? "result" : "capture or flow log");
		goto out;
	}
	if (cfg.since.given && cfg.until.given && fo->until_ms <= fo->since_ms) {
		pr_err("check: --until must come after --since");
		goto out;
	}
	if (merge) {
		err = flowlog_merge(argv + first, argc - first, json_output);
		goto out;
	}
	/* Captures or flow logs, by content; a file that cannot be read is left to either. */
	for (int i = first; i < argc; i++) {
		int k = flowlog_is_input(argv[i]);

		nflow += k == 1;
		ncap += k == 0;
	}
	if (nflow && ncap) {
		pr_err("check: flow logs and captures cannot be checked together");
		pr_hint("run check once for the captures and once for the flow logs");
		goto out;
	}
	if (nflow) {
		if (write_path) {
			pr_err("check: --write-violations is for captures (flow logs carry no packets)");
			goto out;
		}
		if (each) {
			pr_err("check: --each is for captures (flow logs are judged flow by flow)");
			goto out;
		}
		if (threads > 1) {
			pr_err("check: --threads is for captures (flow logs are read on two threads already)");
			goto out;
		}
		fo->local = local;
		fo->ct_size = ct_size < AMLG_CT_DEFAULT ? ct_size : AMLG_CT_DEFAULT;
		fo->progress = progress && isatty(2);
		fo->json = json_output;
		err = cli_compile(&cfg.po, &c, &p, NULL);
		if (!err)
			err = require_root(cmd.name);
		if (!err)
			err = flowlog_check(c, argv + first, argc - first, fo);
		goto out;
	}
	if (fo->nmacs || fo->nshards) {
		pr_err("check: --mac and --shard are for flow logs");
		goto out;
	}
	if (each && threads > 1) {
		pr_err("check: --each and --threads cannot be used together");
		pr_hint("--each judges captures one after the other; --threads splits one run");
		goto out;
	}
	if (!local->n) {
		pr_err("check: --local is needed: which addresses are the protected side");
		pr_hint("e.g. --local 10.0.0.0/24 for a compute subnet");
		goto out;
	}
	err = cli_compile(&cfg.po, &c, &p, NULL);
	if (err)
		goto out;
	err = require_root(cmd.name);
	/* --each reports a capture that cannot be read and goes on with the others */
	if (!err && !each)
		err = captures_open(argv + first, argc - first);
	if (err)
		goto out;
	err = -ENOMEM;
	r = calloc(1, sizeof(*r));
	if (!r)
		goto out;
	r->progress = progress && isatty(2) && !json_output;
	r->since_ns = fo->since_ms * 1000000ull;
	r->until_ns = fo->until_ms * 1000000ull;
	/* with threads, each worker loads its own datapath */
	err = threads > 1 ? 0 : offline_open_batch(&r->o, c, ct_size);
	if (err)
		goto out_run;
	if (threads == 1) {
		err = offline_set_local(&r->o, local);
		if (!err)
			err = batch_init(&r->b, &r->o);
	}
	if (!err)
		err = check_init(&r->rep, c);
	if (!err && write_path) {
		err = sink_pcap_open(&viol, write_path);
		r->viol = err ? NULL : &viol;
	}
	if (!err && threads > 1)
		err = check_threads(r, c, ct_size, local, threads, argv + first, argc - first);
	else if (!err)
		err = each ? check_each(r, c, argv + first, argc - first) :
			     check_all(r, argv + first, argc - first);
	if (r->viol) {
		char *path = strdup(r->viol->path);
		int cerr = sink_pcap_close(r->viol);

		/* violating packets cut short are no result: say so, and exit 2 */
		if (cerr && err >= 0) {
			pr_err("%s: cannot write the violating packets: %s", path ?: write_path,
			       strerror(-cerr));
			err = cerr;
		}
		free(path);
	}
	check_free(&r->rep);
	batch_free(&r->b);
	offline_close(&r->o);
out_run:
	free(r);
out:
	compiled_free(c);
	policy_free(p);
	prefix_list_free(local);
	free(fo->macs);
	return err;
}
