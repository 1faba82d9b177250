// SPDX-License-Identifier: GPL-2.0-only
/* "check --threads N": the packets split by address pair across N offline instances. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/batch.h"
#include "offline/capture.h"
#include "offline/check_mt.h"
#include "kernel/loader.h"
#include "base/log.h"

unsigned check_mt_default(void)
{
	cpu_set_t set;
	int n;

	if (sched_getaffinity(0, sizeof(set), &set))
		return 1;
	n = CPU_COUNT(&set);
	return n < 1 ? 1 : n > CHECK_MT_MAX ? CHECK_MT_MAX : (unsigned)n;
}

/* ---- the split ------------------------------------------------------------------------------ */

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

struct l3 {
	const uint8_t *src, *dst; /* NULL: not IP */
	unsigned alen;
	uint8_t proto;
	const uint8_t *l4; /* NULL for a later fragment or a cut header */
};

/* The addresses, protocol and transport header of an IP header at p (n bytes there). */
static void parse_ip(const uint8_t *p, uint32_t n, struct l3 *r)
{
	memset(r, 0, sizeof(*r));
	if (n >= 20 && p[0] >> 4 == 4) {
		uint32_t hl = (uint32_t)(p[0] & 15) * 4;

		r->src = p + 12;
		r->dst = p + 16;
		r->alen = 4;
		r->proto = p[9];
		if (hl >= 20 && hl <= n && !(be16(p + 6) & 0x1fff))
			r->l4 = p + hl;
		if (r->l4 && (uint32_t)(r->l4 - p) + 8 > n)
			r->l4 = NULL;
	} else if (n >= 40 && p[0] >> 4 == 6) {
		uint32_t off = 40;
		uint8_t nh = p[6];

		r->src = p + 8;
		r->dst = p + 24;
		r->alen = 16;
		for (int i = 0; i < 8; i++) {
			if (nh != 0 && nh != 43 && nh != 44 && nh != 60 && nh != 51)
				break;
			if (off + 8 > n)
				return;
			if (nh == 44) {
				if (be16(p + off + 2) & 0xfff8)
					return; /* a later fragment: no transport header */
				nh = p[off];
				off += 8;
			} else if (nh == 51) {
				nh = p[off];
				off += ((uint32_t)p[off + 1] + 2) * 4;
			} else {
				nh = p[off];
				off += ((uint32_t)p[off + 1] + 1) * 8;
			}
		}
		r->proto = nh;
		if (off + 8 <= n)
			r->l4 = p + off;
	}
}

static uint64_t mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 33);
}

/* Symmetric: the same for both directions. */
static uint64_t pair_hash(const uint8_t *a, const uint8_t *b, unsigned alen)
{
	uint64_t h = alen;

	if (memcmp(a, b, alen) > 0) {
		const uint8_t *t = a;

		a = b;
		b = t;
	}
	for (unsigned i = 0; i < alen; i += 4) {
		uint32_t x, y;

		memcpy(&x, a + i, 4);
		memcpy(&y, b + i, 4);
		h = mix64(h ^ ((uint64_t)x << 32 | y));
	}
	return h;
}

static bool icmp_error(uint8_t proto, uint8_t type)
{
	if (proto == 1)
		return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
	return proto == 58 && type < 128;
}

unsigned check_mt_worker(const uint8_t *frame, uint32_t cap, unsigned n, bool *all)
{
	const uint8_t *end = frame + cap, *p = frame + 14;
	uint16_t et;
	struct l3 ip;

	*all = false;
	if (cap < 14 || n < 2)
		return 0;
	et = be16(frame + 12);
	for (int i = 0; i < 3 && (et == 0x8100 || et == 0x88a8) && p + 4 <= end; i++) {
		et = be16(p + 2);
		p += 4;
	}
	if (et != 0x0800 && et != 0x86dd)
		return 0;
	parse_ip(p, (uint32_t)(end - p), &ip);
	if (!ip.src)
		return 0;
	if (ip.l4 && icmp_error(ip.proto, ip.l4[0])) {
		/* an ICMP error belongs with the flow it quotes */
		struct l3 q;

		parse_ip(ip.l4 + 8, (uint32_t)(end - ip.l4 - 8), &q);
		if (q.src && q.alen == ip.alen)
			return (unsigned)(pair_hash(q.src, q.dst, q.alen) % n);
	}
	if (ip.l4 && (ip.proto == 6 || ip.proto == 17) &&
	    (be16(ip.l4) == 53 || be16(ip.l4 + 2) == 53))
		*all = true;
	return (unsigned)(pair_hash(ip.src, ip.dst, ip.alen) % n);
}

/* ---- the workers ---------------------------------------------------------------------------- */

struct worker {
	const struct check_mt_args *a;
	struct offline o;
	bool open;
	struct batch b[2]; /* one filled while the other runs */
	size_t n[2]; /* packets added to b[i] for its chunk */
	struct amlg_batch_res *res[2];
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int job; /* batch to run, or -1 */
	bool quit, started;
	int err;
};

/* Where each packet of a chunk went: its worker and its index there. */
struct place {
	uint8_t w;
	uint16_t i;
	uint32_t wire; /* bytes on the wire */
	uint64_t number;
};

static int worker_open(struct worker *w)
{
	int err = offline_open_batch(&w->o, w->a->c, w->a->ct_size);

	if (err)
		return err;
	w->open = true;
	err = offline_set_local(&w->o, w->a->local);
	for (int i = 0; i < 2 && !err; i++) {
		err = batch_init(&w->b[i], &w->o);
		w->res[i] = err ? NULL : calloc(AMLG_BATCH_MAX, sizeof(*w->res[i]));
		if (!err && !w->res[i])
			err = -ENOMEM;
	}
	return err;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	int err = worker_open(w), job;

	pthread_mutex_lock(&w->mu);
	w->err = err;
	w->started = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	for (;;) {
		pthread_mutex_lock(&w->mu);
		while (!w->quit && w->job < 0)
			pthread_cond_wait(&w->cv, &w->mu);
		job = w->job;
		pthread_mutex_unlock(&w->mu);
		if (w->quit)
			break;
		err = w->err ? w->err : batch_run_added(&w->b[job], w->res[job]);
		pthread_mutex_lock(&w->mu);
		w->err = err;
		w->job = -1;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
	}
	return NULL;
}

static void submit(struct worker *w, int job)
{
	pthread_mutex_lock(&w->mu);
	w->job = job;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

static int wait_idle(struct worker *w)
{
	int err;

	pthread_mutex_lock(&w->mu);
	while (w->job >= 0 || !w->started)
		pthread_cond_wait(&w->cv, &w->mu);
	err = w->err;
	pthread_mutex_unlock(&w->mu);
	return err;
}

/* ---- the run -------------------------------------------------------------------------------- */

struct mt {
	const struct check_mt_args *a;
	struct worker w[CHECK_MT_MAX];
	unsigned nw;
	struct place *pl[2]; /* per chunk: nw * AMLG_BATCH_MAX places */
	size_t np[2];
	int cur; /* the chunk being filled */
	bool pending; /* the other chunk runs */
	uint64_t count;
};

/* Account a chunk that ran, in capture order. */
static int merge(struct mt *m, int s)
{
	int err = 0;

	for (unsigned i = 0; i < m->nw; i++) {
		int e = wait_idle(&m->w[i]);

		if (e && !err) {
			pr_err("check: the datapath failed on a batch of %zu packets: %s",
			       m->w[i].n[s], strerror(-e));
			err = e;
		}
	}
	for (size_t k = 0; k < m->np[s] && !err; k++) {
		const struct place *p = &m->pl[s][k];
		struct worker *w = &m->w[p->w];
		const struct amlg_batch_hdr *h = batch_hdr(&w->b[s], p->i);
		const struct amlg_batch_res *res = &w->res[s][p->i];

		err = check_add(m->a->rep, res, p->wire, h->ts_ns, p->number);
		if (!err && m->a->viol && res->verdict == AMLG_VERDICT_VIOLATION && !res->foreign)
			err = sink_pcap_write_raw(m->a->viol, h->ts_ns, batch_data(&w->b[s], p->i),
						  h->cap, h->len);
	}
	m->np[s] = 0;
	for (unsigned i = 0; i < m->nw; i++)
		m->w[i].n[s] = 0;
	return err;
}

/* Run the chunk being filled; account the one before it first. */
static int flush(struct mt *m)
{
	int s = m->cur, err = 0;

	if (m->pending)
		err = merge(m, s ^ 1);
	if (err)
		return err;
	for (unsigned i = 0; i < m->nw; i++)
		submit(&m->w[i], s);
	m->pending = true;
	m->cur ^= 1;
	return 0;
}

static int add(struct mt *m, const struct capture_pkt *p)
{
	bool all;
	unsigned own = check_mt_worker(p->frame, p->cap, m->nw, &all);
	int s = m->cur, err;

	for (unsigned i = 0; i < m->nw; i++) {
		if (m->w[i].n[s] == AMLG_BATCH_MAX) {
			err = flush(m);
			if (err)
				return err;
			s = m->cur;
			break;
		}
	}
	for (unsigned i = 0; i < m->nw; i++) {
		struct worker *w = &m->w[i];
		uint8_t *dst;

		if (i != own && !all)
			continue;
		dst = batch_add(&w->b[s], p->ts_ns, p->len, p->cap, AMLG_DIR_AUTO);
		if (!dst)
			return -EIO; /* cannot happen: the blob holds AMLG_BATCH_MAX packets */
		memcpy(dst, p->frame, batch_hdr(&w->b[s], w->n[s])->cap);
		if (i == own)
			m->pl[s][m->np[s]++] = (struct place){ .w = (uint8_t)i,
							       .i = (uint16_t)w->n[s],
							       .wire = p->wire_len,
							       .number = p->number };
		w->n[s]++;
	}
	m->count++;
	return 0;
}

static int check_file(struct mt *m, const char *path)
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
		if (p.ts_ns < m->a->since_ns || (m->a->until_ns && p.ts_ns >= m->a->until_ns))
			continue;
		ret = add(m, &p);
		if (ret)
			break;
		count++;
		if (m->a->progress && count / (64 * AMLG_BATCH_MAX) != last_shown) {
			last_shown = count / (64 * AMLG_BATCH_MAX);
			capture_show_progress(path, c, count, false);
		}
	}
	/* the next capture's packets follow in order: no need to flush between files */
	if (m->a->progress)
		capture_show_progress(path, c, count, true);
	if (ret == -EINVAL) {
		/* a corrupt record: what came before it is judged, the caller reports it */
		free(m->a->rep->error);
		m->a->rep->error = strdup(capture_error(c));
		if (!m->a->rep->error)
			ret = -ENOMEM;
	} else if (ret == 0 && capture_truncated(c)) {
		pr_warn("%s (the capture ends inside it; %llu packets before it were checked)",
			capture_truncated(c), (unsigned long long)count);
		free(m->a->rep->truncated);
		m->a->rep->truncated = strdup(capture_truncated(c));
	}
	capture_close(c);
	return ret;
}

int check_mt_run(const struct check_mt_args *a, char **paths, int npaths)
{
	struct mt *m = calloc(1, sizeof(*m));
	int err = 0;
	unsigned started = 0;

	if (!m)
		return -ENOMEM;
	m->a = a;
	m->nw = a->threads;
	for (int s = 0; s < 2; s++) {
		m->pl[s] = calloc((size_t)m->nw * AMLG_BATCH_MAX, sizeof(*m->pl[s]));
		if (!m->pl[s])
			err = -ENOMEM;
	}
	/* each worker loads its own instance: the verifier runs on every core at once */
	for (unsigned i = 0; i < m->nw && !err; i++) {
		struct worker *w = &m->w[i];

		w->a = a;
		w->job = -1;
		pthread_mutex_init(&w->mu, NULL);
		pthread_cond_init(&w->cv, NULL);
		err = -pthread_create(&w->th, NULL, worker_main, w);
		if (err) {
			pr_err("check: cannot start a thread: %s", strerror(-err));
			pthread_mutex_destroy(&w->mu);
			pthread_cond_destroy(&w->cv);
		} else {
			started++;
		}
	}
	for (unsigned i = 0; i < started; i++) {
		int e = wait_idle(&m->w[i]);

		if (e && !err)
			err = e; /* offline_open_batch() said why */
	}
	for (int i = 0; i < npaths && !err; i++)
		err = check_file(m, paths[i]);
	/* after a corrupt record, the packets before it still count */
	if ((!err || (err == -EINVAL && a->rep->error)) && m->np[m->cur]) {
		int e = flush(m);

		if (e)
			err = e;
	}
	if (m->pending) {
		int e = merge(m, m->cur ^ 1);

		if (!err)
			err = e;
	}
	for (unsigned i = 0; i < started; i++) {
		struct worker *w = &m->w[i];

		pthread_mutex_lock(&w->mu);
		w->quit = true;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->th, NULL);
		for (int s = 0; s < 2; s++) {
			batch_free(&w->b[s]);
			free(w->res[s]);
		}
		if (w->open)
			offline_close(&w->o);
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->cv);
	}
	free(m->pl[0]);
	free(m->pl[1]);
	free(m);
	return err;
}
