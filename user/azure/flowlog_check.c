// SPDX-License-Identifier: GPL-2.0-only
/* "check" over Azure flow logs: one synthesized packet per distinct flow, through the datapath. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kernel/batch.h"
#include "azure/flowlog.h"
#include "azure/flowlog_check.h"
#include "azure/flowlog_report.h"
#include "kernel/loader.h"
#include "base/log.h"
#include "kernel/maps.h"
#include "base/names.h"
#include "offline/pktgen.h"

/* Messages about malformed tuples and records shown; the rest are counted. */
#define SHOW_MAX 20

#define QUEUE_LEN 16

struct queued {
	struct fl_flow k;
	uint64_t h, ts_ms, packets, bytes;
	const char *rule, *acl, *resource;
};

struct run;

/* A reading thread: its own flows (absorbed into the run's at the end) and queue. */
struct reader {
	struct run *run;
	struct fl_report rep;
	struct queued queue[QUEUE_LEN];
	size_t nqueue;
	int fatal;
	bool shows_progress; /* the first reader draws the progress line */
	const char *file;
	double done;
};

#define READERS 2

struct run {
	const struct compiled *c;
	const struct fl_opts *o;
	struct offline off;
	struct batch b;
	struct fl_report rep;
	struct amlg_batch_res res[AMLG_BATCH_MAX];
	uint32_t pend[AMLG_BATCH_MAX]; /* flow index of each packet of the batch */
	size_t npend;
	uint64_t clock; /* the datapath's time: one tick per packet */
	uint64_t shown; /* atomic */
	uint64_t tuples_read; /* atomic: of the files done, for the progress line */
	int load_err;
	bool loaded;
	/* the files this run (shard) reads, taken in order by the readers */
	char **files;
	size_t nfiles, next, fileno; /* next, fileno: atomic */
	struct reader readers[READERS];
	bool progress_line;
};

/* ------------------------------------------------------------------ time */

int fl_time_parse(const char *s, uint64_t *ms)
{
	static const char *const fmts[] = { "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M",
					    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d" };
	char *end;

	if (s[0] == '@') {
		unsigned long long v = strtoull(s + 1, &end, 10);

		if (!s[1] || *end || v > UINT64_MAX / 1000)
			return -EINVAL;
		*ms = v * 1000;
		return 0;
	}
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		struct tm tm = { 0 };
		const char *p = strptime(s, fmts[i], &tm);

		if (!p || (*p && strcmp(p, "Z")))
			continue;
		*ms = (uint64_t)timegm(&tm) * 1000;
		return 0;
	}
	return -EINVAL;
}

/* ------------------------------------------------------------------ the datapath */

static int flush(struct run *r)
{
	int err;

	if (!r->npend)
		return 0;
	err = batch_run_added(&r->b, r->res);
	if (err) {
		pr_err("check: the datapath failed on a batch of %zu flows: %s", r->npend,
		       strerror(-err));
		return err;
	}
	for (size_t i = 0; i < r->npend; i++) {
		struct fl_flow *f = fl_flow_at(&r->rep, r->pend[i]);
		const struct amlg_batch_res *res = &r->res[i];
		const struct crule *cr =
			res->rule == AMLG_RULE_NONE ? NULL : compiled_rule(r->c, res->rule);

		f->verdict = res->verdict;
		f->reason = res->reason;
		f->match = res->match;
		f->judged = 1;
		f->flow_id = cr && cr->flow[0] ? cr->flow : NULL;
		f->origin = cr ? cr->origin : NULL;
	}
	r->npend = 0;
	return 0;
}

/* The flow's first packet into the batch: the datapath judges flows by their first packet. */
static int judge(struct run *r, size_t index)
{
	const struct fl_flow *f = fl_flow_at(&r->rep, index);
	bool out = f->dir == AMLG_DIR_OUT;
	char sa[INET6_ADDRSTRLEN], da[INET6_ADDRSTRLEN];
	int af = f->family == 6 ? AF_INET6 : AF_INET;
	struct pkt_spec s = { .src = sa, .dst = da, .proto = f->proto };
	uint8_t frame[256], *dst;
	size_t len;
	int err;

	inet_ntop(af, out ? f->laddr : f->raddr, sa, sizeof(sa));
	inet_ntop(af, out ? f->raddr : f->laddr, da, sizeof(da));
	if (f->proto == AMLG_PROTO_TCP || f->proto == AMLG_PROTO_UDP) {
		s.sport = out ? f->lport : f->rport;
		s.dport = out ? f->rport : f->lport;
		s.tcp_flags = 0x02; /* SYN */
	} else if (f->proto == AMLG_PROTO_ICMP) {
		s.icmp_type = f->family == 4 ? 8 : 128; /* echo request */
	} else if (f->proto == AMLG_PROTO_ICMPV6) {
		s.icmp_type = 128;
	}
	len = pkt_build(&s, frame, sizeof(frame));
	if (!len)
		return -EINVAL;
	dst = batch_add(&r->b, ++r->clock, (uint32_t)len, (uint32_t)len, f->dir);
	if (!dst) {
		err = flush(r);
		if (err)
			return err;
		dst = batch_add(&r->b, r->clock, (uint32_t)len, (uint32_t)len, f->dir);
		if (!dst)
			return -E2BIG;
	}
	memcpy(dst, frame, len);
	r->pend[r->npend++] = (uint32_t)index;
	return 0;
}

/*
 * The datapath is loaded (a second or two in the verifier) on a thread of its own while the
 * logs are read: flows are judged once all are known, each once.
 */
static void *load_datapath(void *arg)
{
	struct run *r = arg;
	struct amlg_cfg cfg;
	int err = offline_open_batch(&r->off, r->c, r->o->ct_size);

	if (err) {
		r->load_err = err;
		return NULL;
	}
	r->loaded = true;
	/*
	 * Each flow is one packet, its first: it must be judged by the rules, as a flow's first
	 * packet is live, never by the conntrack entry of another flow of the logs.  Entries expire
	 * at once (the clock ticks once per packet), and no events are sent.
	 */
	err = maps_cfg_read(&r->off.maps, &cfg);
	if (!err) {
		cfg.ct_timeout_ns[0] = cfg.ct_timeout_ns[1] = cfg.ct_timeout_ns[2] = 0;
		cfg.ct_closing_ns = 0;
		cfg.rate_per_sec = cfg.burst = 0;
		err = maps_cfg_write(&r->off.maps, &cfg);
	}
	if (!err)
		err = batch_init(&r->b, &r->off);
	if (err)
		pr_err("check: cannot set up the offline datapath: %s", strerror(-err));
	r->load_err = err;
	return NULL;
}

/* ------------------------------------------------------------------ tuples */

static bool mac_wanted(const struct fl_opts *o, const struct fl_meta *m)
{
	if (!o->nmacs)
		return true;
	if (!m->has_mac)
		return false;
	for (size_t i = 0; i < o->nmacs; i++)
		if (!memcmp(o->macs[i], m->mac, 6))
			return true;
	return false;
}

static bool local_wanted(const struct fl_opts *o, const struct fl_tuple *t)
{
	const uint8_t *a = t->dir == AMLG_DIR_OUT ? t->saddr : t->daddr;

	if (!o->local || !o->local->n)
		return true;
	for (size_t i = 0; i < o->local->n; i++)
		if (prefix_has_addr(&o->local->v[i], t->family, a))
			return true;
	return false;
}

/* Tuples wait in a small queue so that their flows' lookups overlap (prefetched). */
static int drain(struct reader *r)
{
	struct queued *q = r->queue;

	for (size_t i = 0; i < r->nqueue; i++)
		fl_report_prefetch(&r->rep, q[i].h, false);
	for (size_t i = 0; i < r->nqueue; i++)
		fl_report_prefetch(&r->rep, q[i].h, true);
	for (size_t i = 0; i < r->nqueue; i++) {
		bool created;
		struct fl_flow *f = fl_report_find_hashed(&r->rep, &q[i].k, q[i].h, &created, NULL);

		if (!f)
			return r->fatal = -ENOMEM;
		fl_flow_meta(f, q[i].ts_ms, q[i].rule, q[i].acl, q[i].resource);
		if (q[i].ts_ms < f->first_ms)
			f->first_ms = q[i].ts_ms;
		if (q[i].ts_ms > f->last_ms)
			f->last_ms = q[i].ts_ms;
		f->tuples++;
		f->packets += q[i].packets;
		f->bytes += q[i].bytes;
	}
	r->nqueue = 0;
	return 0;
}

static int on_tuple(void *arg, const struct fl_meta *m, const struct fl_tuple *t)
{
	struct reader *r = arg;
	const struct fl_opts *o = r->run->o;
	bool out = t->dir == AMLG_DIR_OUT;
	struct queued *q;

	if (t->ts_ms < o->since_ms || (o->until_ms && t->ts_ms >= o->until_ms)) {
		r->rep.outside_window++;
		return 0;
	}
	if (!mac_wanted(o, m)) {
		r->rep.other_nic++;
		return 0;
	}
	if (!local_wanted(o, t)) {
		r->rep.not_local++;
		return 0;
	}
	q = &r->queue[r->nqueue++];
	memset(&q->k, 0, sizeof(q->k));
	q->k.family = t->family;
	q->k.proto = t->proto;
	q->k.dir = t->dir;
	q->k.denied = t->denied;
	if (m->has_mac) {
		memcpy(q->k.mac, m->mac, 6);
		q->k.has_mac = 1;
	}
	memcpy(q->k.laddr, out ? t->saddr : t->daddr, 16);
	memcpy(q->k.raddr, out ? t->daddr : t->saddr, 16);
	if (t->proto == AMLG_PROTO_TCP || t->proto == AMLG_PROTO_UDP) {
		q->k.lport = out ? t->sport : t->dport;
		q->k.rport = out ? t->dport : t->sport;
	}
	q->h = fl_key_hash(&q->k);
	q->ts_ms = t->ts_ms;
	q->rule = m->rule;
	q->acl = m->acl;
	q->resource = m->resource;
	q->packets = t->pkts_s2d + t->pkts_d2s;
	q->bytes = t->bytes_s2d + t->bytes_d2s;
	r->rep.judged++;
	r->rep.packets += q->packets;
	r->rep.bytes += q->bytes;
	if (t->ts_ms < r->rep.first_ms)
		r->rep.first_ms = t->ts_ms;
	if (t->ts_ms > r->rep.last_ms)
		r->rep.last_ms = t->ts_ms;
	return r->nqueue == QUEUE_LEN ? drain(r) : 0;
}

static void clear_progress(struct run *r)
{
	if (r->progress_line) {
		fputs("\r\033[K", stderr);
		r->progress_line = false;
	}
}

static void on_bad(void *arg, const char *msg, bool record)
{
	struct reader *rd = arg;
	struct run *r = rd->run;

	(void)record;
	if (__atomic_fetch_add(&r->shown, 1, __ATOMIC_RELAXED) < SHOW_MAX) {
		if (rd->shows_progress)
			clear_progress(r);
		pr_warn("%s", msg);
	}
}

static void on_progress(void *arg, double done, uint64_t tuples)
{
	struct reader *rd = arg;
	struct run *r = rd->run;

	if (!r->o->progress || !rd->shows_progress)
		return;
	size_t len = strlen(rd->file);

	if (done >= 0)
		rd->done = done;
	/* the end of the path: a blob tree's are long, the line must not wrap */
	fprintf(stderr, "\r\033[K  [%zu/%zu] %s%s: %3.0f%%, %llu tuples",
		__atomic_load_n(&r->fileno, __ATOMIC_RELAXED), r->nfiles, len > 60 ? "..." : "",
		rd->file + (len > 60 ? len - 60 : 0), 100.0 * rd->done,
		(unsigned long long)(__atomic_load_n(&r->tuples_read, __ATOMIC_RELAXED) + tuples));
	r->progress_line = true;
}

static const char *on_intern(void *arg, const char *s, size_t len)
{
	struct reader *r = arg;

	return fl_pool_get(&r->rep.pool, s, len);
}

/* ------------------------------------------------------------------ files */

struct paths {
	char **v;
	size_t n, cap;
	bool *from_dir; /* found in a directory tree (not named on the command line) */
};

static int paths_add(struct paths *p, const char *path, bool from_dir)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		char **v = realloc(p->v, cap * sizeof(*v));
		bool *d;

		if (!v)
			return -ENOMEM;
		p->v = v;
		d = realloc(p->from_dir, cap * sizeof(*d));
		if (!d)
			return -ENOMEM;
		p->from_dir = d;
		p->cap = cap;
	}
	p->v[p->n] = strdup(path);
	if (!p->v[p->n])
		return -ENOMEM;
	p->from_dir[p->n++] = from_dir;
	return 0;
}

static void paths_free(struct paths *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
	free(p->from_dir);
}

/* Every regular file under dir, in name order (the blob tree's y=/m=/d=/h= sort by time). */
static int walk(struct paths *p, const char *dir, int depth)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort), err = 0;

	if (n < 0) {
		pr_warn("%s: cannot read the directory: %s", dir, strerror(errno));
		return 0;
	}
	for (int i = 0; i < n; i++) {
		char *path = NULL;
		struct stat sb;

		if (!err && strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, "..") &&
		    asprintf(&path, "%s/%s", dir, names[i]->d_name) >= 0 && !stat(path, &sb)) {
			if (S_ISDIR(sb.st_mode) && depth < 32)
				err = walk(p, path, depth + 1);
			else if (S_ISREG(sb.st_mode))
				err = paths_add(p, path, true);
		}
		free(path);
		free(names[i]);
	}
	free(names);
	return err;
}

int flowlog_is_input(const char *path)
{
	struct stat sb;

	if (stat(path, &sb))
		return -errno;
	if (S_ISDIR(sb.st_mode))
		return 1;
	return fl_sniff(path);
}

static void never_candidates(struct fl_report *rep, const struct compiled *c)
{
	rep->never = calloc(c->nrules + 1, sizeof(*rep->never));
	if (!rep->never)
		return;
	for (size_t i = 0; i < c->nrules; i++) {
		const struct crule *cr = &c->rules[i];
		size_t j;

		if (!cr->flow[0] || cr->platform)
			continue;
		for (j = 0; j < rep->nnever && strcmp(rep->never[j], cr->flow); j++)
			;
		if (j == rep->nnever)
			rep->never[rep->nnever++] = cr->flow;
	}
}

static int check_one(struct reader *r, const char *path)
{
	static const struct fl_reader_ops ops0 = {
		.tuple = on_tuple,
		.bad = on_bad,
		.progress = on_progress,
		.intern = on_intern,
	};
	struct fl_reader_ops ops = ops0;
	struct fl_file_stats st;
	char err[512];
	int ret;

	ops.arg = r;
	if (!r->run->o->progress || !r->shows_progress)
		ops.progress = NULL;
	r->file = path;
	r->done = 0;
	ret = fl_read_file(path, &ops, &st, err, sizeof(err));
	if (!r->fatal)
		drain(r);
	r->rep.records += st.records;
	r->rep.tuples += st.tuples + st.bad_tuples;
	__atomic_fetch_add(&r->run->tuples_read, st.tuples, __ATOMIC_RELAXED);
	r->rep.bad_records += st.bad_records;
	r->rep.bad_tuples += st.bad_tuples;
	if (r->fatal)
		return r->fatal;
	if (ret) {
		/* not a flow log, or not readable: say so, count it, go on */
		if (r->shows_progress)
			clear_progress(r->run);
		r->rep.unreadable_files++;
		pr_warn("%s%s", err[0] ? err : path, err[0] ? "" : ": cannot be read");
		return 0;
	}
	r->rep.files++;
	r->rep.truncated_files += st.truncated;
	return 0;
}

/* A reading thread: files in turn until none is left. */
static void *read_files(void *arg)
{
	struct reader *rd = arg;
	struct run *r = rd->run;
	size_t i;

	while (!rd->fatal && (i = __atomic_fetch_add(&r->next, 1, __ATOMIC_RELAXED)) < r->nfiles) {
		__atomic_fetch_add(&r->fileno, 1, __ATOMIC_RELAXED);
		check_one(rd, r->files[i]);
	}
	return NULL;
}

int flowlog_check(const struct compiled *c, char *const *paths, int npaths, const struct fl_opts *o)
{
	struct paths in = { 0 };
	pthread_t loader, threads[READERS];
	size_t nmine = 0, nreaders, started = 0;
	struct run *r;
	int err = 0;

	for (int i = 0; i < npaths && !err; i++) {
		struct stat sb;

		if (!stat(paths[i], &sb) && S_ISDIR(sb.st_mode))
			err = walk(&in, paths[i], 0);
		else
			err = paths_add(&in, paths[i], false);
	}
	if (err) {
		paths_free(&in);
		return err;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		paths_free(&in);
		return -ENOMEM;
	}
	r->c = c;
	r->o = o;
	err = fl_report_init(&r->rep);
	if (err)
		goto out;
	r->rep.first_ms = UINT64_MAX;
	hex_str(c->sha256, 32, r->rep.policy);
	never_candidates(&r->rep, c);
	err = pthread_create(&loader, NULL, load_datapath, r);
	if (err) {
		err = -err;
		goto out_rep;
	}
	r->files = calloc(in.n + 1, sizeof(*r->files));
	if (!r->files) {
		err = -ENOMEM;
		pthread_join(loader, NULL);
		goto out_b;
	}
	for (size_t i = 0; i < in.n; i++)
		if (!o->nshards || i % o->nshards == o->shard - 1)
			r->files[nmine++] = in.v[i];
	r->nfiles = nmine;
	/* Files are read by up to READERS threads, each with its own flows, added up after. */
	nreaders = nmine > 1 ? READERS : 1;
	for (size_t i = 0; i < nreaders && !err; i++) {
		struct reader *rd = &r->readers[i];

		rd->run = r;
		rd->shows_progress = i == 0;
		err = fl_report_init(&rd->rep);
		rd->rep.first_ms = UINT64_MAX;
		/* without a second thread, the first reads every file */
		if (!err && i && pthread_create(&threads[i], NULL, read_files, rd))
			break;
		if (!err)
			started++;
	}
	if (started)
		read_files(&r->readers[0]);
	for (size_t i = 1; i < started; i++)
		pthread_join(threads[i], NULL);
	for (size_t i = 0; i < started && !err; i++) {
		err = r->readers[i].fatal;
		if (!err)
			err = fl_report_absorb(&r->rep, &r->readers[i].rep);
	}
	for (size_t i = 0; i < nreaders; i++)
		fl_report_free(&r->readers[i].rep);
	clear_progress(r);
	pthread_join(loader, NULL);
	if (!err)
		err = r->load_err;
	for (size_t i = 0; i < r->rep.n && !err; i++)
		err = judge(r, i);
	if (!err)
		err = flush(r);
	if (err)
		goto out_b;
	if (r->shown > SHOW_MAX)
		pr_warn("%llu more malformed tuples or records not shown (counted in the summary)",
			(unsigned long long)(r->shown - SHOW_MAX));
	if (!r->rep.files && (nmine || !in.n)) {
		if (!in.n)
			pr_err("check: no files found in %s%s", paths[0],
			       npaths > 1 ? " and the others" : "");
		else
			pr_err("check: none of the %zu files could be read as a flow log", nmine);
		err = -EINVAL;
		goto out_b;
	}
	if (r->rep.files && r->rep.tuples == r->rep.bad_tuples &&
	    (r->rep.bad_tuples || r->rep.bad_records)) {
		pr_err("check: not one flow tuple of the %zu files could be read (%llu malformed tuples, %llu malformed records)",
		       nmine, (unsigned long long)r->rep.bad_tuples,
		       (unsigned long long)r->rep.bad_records);
		err = -EINVAL;
		goto out_b;
	}
	if (!nmine)
		pr_warn("check: shard %u/%u has no files (%zu in all): an empty result", o->shard,
			o->nshards, in.n);
	if (o->json)
		fl_report_print_json(&r->rep, stdout);
	else
		fl_report_print(&r->rep, stdout);
	err = fl_report_exit(&r->rep);
out_b:
	batch_free(&r->b);
	if (r->loaded)
		offline_close(&r->off);
out_rep:
	fl_report_free(&r->rep);
out:
	free(r->files);
	free(r);
	paths_free(&in);
	return err;
}

int flowlog_merge(char *const *paths, int npaths, bool json)
{
	struct fl_report rep;
	int err = fl_report_init(&rep);

	for (int i = 0; i < npaths && !err; i++)
		err = fl_report_merge_file(&rep, paths[i]);
	if (!err && !rep.policy[0]) {
		pr_err("check --merge: no results to merge");
		err = -EINVAL;
	}
	if (!err) {
		if (json)
			fl_report_print_json(&rep, stdout);
		else
			fl_report_print(&rep, stdout);
		err = fl_report_exit(&rep);
	}
	fl_report_free(&rep);
	return err;
}
