// SPDX-License-Identifier: GPL-2.0-only
/*
 * Datapath cost in BPF_PROG_TEST_RUN, ns per packet: amlguard's real object (amlg_test) next to
 * the comparison programs, on the same packets and the same compiled address entries.
 *
 * Two methods:
 *  - repeat: one packet run opts.repeat times; the kernel reports the mean.  The same packet
 *    repeats, so each case is built to take the same path on every repeat (checked from
 *    amlguard's own counters after the run):
 *      syn-new    allowed new flow: a SYN+FIN.  The datapath treats SYN as (re)opening and FIN
 *                 as closing, so every repeat misses conntrack (the entry left by the previous
 *                 repeat is closing, and a SYN never reuses a closing entry), classifies and
 *                 stores the flow: exactly a new flow's work.
 *      est        a packet of an established flow: an ACK after the SYN was seen once (seeded
 *                 before timing), so every repeat is a conntrack hit.
 *      viol-new   a new flow to an address no rule covers (SYN+FIN, as above); the event is
 *                 rate-limited after the first repeats, as under a flood.
 *      viol-port  a new flow to an allowed address on a port no rule allows: both bitmap scans.
 *      v6-ext     syn-new over IPv6 with hop-by-hop, routing and destination-options headers.
 *      vlan       syn-new in an 802.1ad + 802.1Q double tag.
 *      dns-8      a DNS response from the trusted resolver, inbound on the query's flow (seeded
 *                 before timing): a conntrack hit, then the answer parsed and its 8 A records
 *                 learned (refreshed) for a host rule.  Synthetic policies only: they get a
 *                 resolver and a host rule for it.
 *  - spread: many distinct allowed packets (addresses across the whole set), each run once, so
 *    lookups do not always hit the same cache lines; the kernel's time for a single run includes
 *    one clock read (the empty program shows that floor).
 * Rounds interleave all programs; the result is the median over rounds and the min-max spread.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <getopt.h>
#include <linux/pkt_cls.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "dnsgen.h"
#include "kernel/loader.h"
#include "base/log.h"
#include "kernel/maps.h"
#include "offline/pktgen.h"

#define H4 "192.0.2.10"
#define H6 "2001:db8:ffff::10"
#define VIOL4 "203.0.113.9"
#define SYNFIN 0x03
#define SYN 0x02
#define ACK 0x10
#define NOW 1000000000000ull
#define RESOLVER "198.51.100.53"
#define DNS_NAME "pkg.bench.test"
#define DNS_ANSWERS 8

/* What the synthetic policies get for the dns-8 case (none of it in the comparison tables). */
static const char dns_lines[] = "resolver " RESOLVER "\n"
				"allow out udp port 53 to " RESOLVER " flow BENCH-DNS\n"
				"allow out tcp port 443 to host:*.bench.test flow BENCH-HOST\n";

enum dcase { C_SYN, C_EST, C_VIOL, C_VPORT, C_V6EXT, C_VLAN, C_DNS8, C_COUNT };

static const char *const case_names[C_COUNT] = { "syn-new", "est",  "viol-new", "viol-port",
						 "v6-ext",  "vlan", "dns-8" };

struct frame {
	uint8_t b[PKT_MAX];
	size_t len;
};

struct dp_opts {
	unsigned rounds, repeat, spread;
	size_t sizes[8], nsizes;
	unsigned rules[8], nrules;
	const char *tags;
	const char *policies[16];
	size_t npolicies;
	struct var_def vars[8];
	size_t nvars;
	unsigned case_mask; /* 1 << C_* */
	unsigned prog_mask; /* 1 << BP_*, and 1 << BP_COUNT for amlguard */
	FILE *out, *mem, *check;
};

/* One policy under test: its packets, amlguard instances (one per rule count) and the
 * comparison programs built from the first one's tables. */
struct subject {
	char label[64];
	size_t prefixes;
	unsigned nrules[8];
	size_t ninst;
	struct compiled_policy cp[8];
	struct offline inst[8];
	struct frame pkt[8][C_COUNT]; /* per instance */
	bool have[8][C_COUNT];
	struct frame est_seed[8];
	struct frame dns_seed[8]; /* the query the dns-8 answer belongs to */
	struct frame *spread[8]; /* per instance, opts.spread frames */
	struct bench_obj cmp[BP_COUNT];
	bool cmp_ok[BP_COUNT];
};

static int ns_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static uint32_t median(uint32_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), ns_cmp);
	return n ? (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2) : 0;
}

static int run(int fd, const struct frame *f, unsigned dir, unsigned repeat, uint32_t *ns,
	       uint32_t *cb1)
{
	struct __sk_buff ctx = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = f->b, .data_size_in = (__u32)f->len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .ctx_out = &ctx,
		    .ctx_size_out = sizeof(ctx), .repeat = repeat);

	ctx.cb[AMLG_CB_DIR] = dir;
	ctx.tstamp = NOW;
	if (bpf_prog_test_run_opts(fd, &t))
		return -errno;
	*ns = t.duration;
	if (cb1)
		*cb1 = ctx.cb[1];
	return 0;
}

static int build(struct frame *f, const struct pkt_spec *s)
{
	f->len = pkt_build(s, f->b, sizeof(f->b));
	return f->len ? 0 : -EINVAL;
}

static void addr_text(int family, const uint8_t *a, char *buf, size_t sz)
{
	addr_str(family, a, buf, sz);
}

/* The packets of every case for one instance: allowed address a4/a6 on port, from H4/H6. */
static void build_cases(struct subject *s, size_t i, const char *a4, const char *a6, uint16_t port)
{
	struct pkt_spec sp[C_COUNT] = {
		[C_SYN] = { H4, a4, IPPROTO_TCP, 40000, port, SYNFIN },
		[C_EST] = { H4, a4, IPPROTO_TCP, 40001, port, ACK },
		[C_VIOL] = { H4, VIOL4, IPPROTO_TCP, 40002, 443, SYNFIN },
		[C_VPORT] = { H4, a4, IPPROTO_TCP, 40003, 9, SYNFIN },
		[C_V6EXT] = { H6, a6, IPPROTO_TCP, 40004, port, SYNFIN,
			      .ext = { EXT_HOP, EXT_ROUTING, EXT_DSTOPTS } },
		[C_VLAN] = { H4, a4, IPPROTO_TCP, 40005, port, SYNFIN, .vlan = { 100, 200 },
			     .vlan_tpid = { 0x88a8 } },
	};
	struct pkt_spec seed = { H4, a4, IPPROTO_TCP, 40001, port, SYN };

	for (int c = 0; c < C_DNS8; c++)
		s->have[i][c] = (c != C_V6EXT || a6) && build(&s->pkt[i][c], &sp[c]) == 0;
	build(&s->est_seed[i], &seed);
}

/* The dns-8 answer and its query: DNS_ANSWERS A records for DNS_NAME. */
static void build_dns(struct subject *s, size_t i)
{
	struct dnsb d;
	struct pkt_spec q = { H4, RESOLVER, IPPROTO_UDP, 40006, 53, .payload = 12 };
	struct pkt_spec a = { RESOLVER, H4, IPPROTO_UDP, 53, 40006 };
	char addr[INET_ADDRSTRLEN];

	dns_start(&d, DNS_NAME, 0x8180, DNS_ANSWERS);
	for (int k = 0; k < DNS_ANSWERS; k++) {
		snprintf(addr, sizeof(addr), "203.0.113.%d", 200 + k);
		dns_a(&d, NULL, addr, 300);
	}
	a.payload = (uint16_t)d.n;
	a.data = d.b;
	s->have[i][C_DNS8] = build(&s->pkt[i][C_DNS8], &a) == 0 && build(&s->dns_seed[i], &q) == 0;
}

static unsigned case_dir(int c)
{
	return c == C_DNS8 ? AMLG_DIR_IN : AMLG_DIR_OUT;
}

/* Sum of amlguard's per-CPU counters. */
static int read_stats(struct offline *o, struct amlg_stats *sum)
{
	int n = ncpus();
	struct amlg_stats *v = calloc((size_t)n, sizeof(*v));
	__u32 zero = 0;

	memset(sum, 0, sizeof(*sum));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(o->maps.fd[M_STATS], &zero, v)) {
		free(v);
		return -errno;
	}
	for (int c = 0; c < n; c++) {
		__u64 *d = (__u64 *)sum, *s = (__u64 *)&v[c];

		for (size_t k = 0; k < sizeof(*sum) / 8; k++)
			d[k] += s[k];
	}
	free(v);
	return 0;
}

/* Did every repeat of case c take the path it claims?  From the counters' deltas. */
static void check_case(const struct dp_opts *o, struct subject *s, size_t i, int c,
		       const struct amlg_stats *a, const struct amlg_stats *b, unsigned repeat)
{
	unsigned long long created = b->ct_created - a->ct_created;
	unsigned long long rule = b->matches[0][AMLG_MATCH_RULE] - a->matches[0][AMLG_MATCH_RULE];
	unsigned long long ct = b->matches[0][AMLG_MATCH_CT] - a->matches[0][AMLG_MATCH_CT];
	unsigned long long norule =
		b->reasons[0][AMLG_REASON_NO_RULE] - a->reasons[0][AMLG_REASON_NO_RULE];
	unsigned long long port = b->reasons[0][AMLG_REASON_PORT] - a->reasons[0][AMLG_REASON_PORT];
	unsigned long long ctin = b->matches[1][AMLG_MATCH_CT] - a->matches[1][AMLG_MATCH_CT];
	unsigned long long learned = b->dns_learned - a->dns_learned;
	const char *want;
	bool ok;

	switch (c) {
	case C_EST:
		want = "every repeat a conntrack hit";
		ok = ct == repeat && created == 0;
		break;
	case C_VIOL:
		want = "every repeat a new flow; no rule";
		ok = norule == repeat && created == repeat;
		break;
	case C_VPORT:
		want = "every repeat a new flow; port violation";
		ok = port == repeat && created == repeat;
		break;
	case C_DNS8:
		want = "every repeat a conntrack hit inbound; 8 addresses learned";
		ok = ctin == repeat && learned == (unsigned long long)repeat * DNS_ANSWERS;
		fprintf(o->check, "%s,%zu,%u,%s,%s,ct_hit_in=%llu learned=%llu of %u,%s\n",
			s->label, s->prefixes, s->nrules[i], case_names[c], want, ctin, learned,
			repeat, ok ? "ok" : "MISMATCH");
		return;
	default:
		want = "every repeat a new flow; allowed by a rule";
		ok = rule == repeat && created == repeat;
		break;
	}
	fprintf(o->check,
		"%s,%zu,%u,%s,%s,ct_created=%llu rule=%llu ct_hit=%llu no_rule=%llu "
		"port=%llu of %u,%s\n",
		s->label, s->prefixes, s->nrules[i], case_names[c], want, created, rule, ct, norule,
		port, repeat, ok ? "ok" : "MISMATCH");
}

struct acc {
	uint32_t *v; /* one value per round */
};

static void emit(const struct dp_opts *o, const char *prog, const struct subject *s,
		 unsigned nrules, const char *cname, const char *method, uint32_t *v, unsigned n)
{
	uint32_t lo, hi, med;

	if (!n)
		return;
	med = median(v, n);
	lo = v[0];
	hi = v[n - 1];
	fprintf(o->out, "%s,%s,%zu,%u,%s,%s,%u,%u,%u\n", prog, s->label, s->prefixes, nrules, cname,
		method, med, lo, hi);
}

static int measure(const struct dp_opts *o, struct subject *s)
{
	/* [prog slot][case] per round; prog slots: BP_* then amlguard instances */
	size_t nslots = BP_COUNT + s->ninst;
	uint32_t *hot = calloc(nslots * C_COUNT * o->rounds, sizeof(uint32_t));
	uint32_t *spr = calloc(nslots * o->rounds, sizeof(uint32_t));
	uint32_t *one = calloc(o->spread ? o->spread : 1, sizeof(uint32_t));
	uint32_t cls[BP_COUNT][C_COUNT];
	unsigned bad_cls = 0;
	int err = 0;

	if (!hot || !spr || !one) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < s->ninst; i++) {
		uint32_t ns;

		run(s->inst[i].prog_fd, &s->est_seed[i], AMLG_DIR_OUT, 1, &ns, NULL);
		if (s->have[i][C_DNS8])
			run(s->inst[i].prog_fd, &s->dns_seed[i], AMLG_DIR_OUT, 1, &ns, NULL);
	}
	for (unsigned r = 0; r < o->rounds && !err; r++) {
		for (size_t slot = 0; slot < nslots && !err; slot++) {
			bool isamlg = slot >= BP_COUNT;
			size_t i = isamlg ? slot - BP_COUNT : 0;
			int fd;

			if ((!isamlg && !s->cmp_ok[slot]) ||
			    !(o->prog_mask & (1u << (isamlg ? BP_COUNT : slot))))
				continue;
			fd = isamlg ? s->inst[i].prog_fd : s->cmp[slot].prog_fd;
			for (int c = 0; c < C_COUNT && !err; c++) {
				struct amlg_stats a, b;
				uint32_t ns, cb1 = 0;

				if (!s->have[i][c] || !(o->case_mask & (1u << c)))
					continue;
				if (isamlg && r == 0)
					read_stats(&s->inst[i], &a);
				err = run(fd, &s->pkt[i][c], case_dir(c), o->repeat, &ns, &cb1);
				hot[(slot * C_COUNT + c) * o->rounds + r] = ns;
				if (isamlg && r == 0 && !err) {
					read_stats(&s->inst[i], &b);
					check_case(o, s, i, c, &a, &b, o->repeat);
				}
				if (!isamlg && r == 0)
					cls[slot][c] = cb1;
			}
			if (o->spread && (o->case_mask & (1u << C_SYN)) && !err) {
				for (unsigned k = 0; k < o->spread && !err; k++)
					err = run(fd, &s->spread[i][k], AMLG_DIR_OUT, 1, &one[k],
						  NULL);
				spr[slot * o->rounds + r] = median(one, o->spread);
			}
		}
	}
	if (err) {
		fprintf(stderr, "amlg-bench: error: %s: test run: %s\n", s->label, strerror(-err));
		goto out;
	}
	/* The three lookup structures must agree on every case's class. */
	for (int c = 0; c < C_COUNT; c++) {
		for (int p = BP_DIR; p < BP_COUNT; p++)
			if (c != C_DNS8 && s->have[0][c] && s->cmp_ok[p] && s->cmp_ok[BP_LPM] &&
			    cls[p][c] != cls[BP_LPM][c])
				bad_cls++;
	}
	fprintf(o->check,
		"%s,%zu,-,lookup,dir16-8-8 and plen-hash give the LPM trie's class,"
		"%u disagreements,%s\n",
		s->label, s->prefixes, bad_cls, bad_cls ? "MISMATCH" : "ok");
	for (size_t slot = 0; slot < nslots; slot++) {
		bool isamlg = slot >= BP_COUNT;
		size_t i = isamlg ? slot - BP_COUNT : 0;
		const char *prog = isamlg ? "amlguard" : bench_prog_names[slot];
		unsigned nr = isamlg ? s->nrules[i] : 0;

		if ((!isamlg && !s->cmp_ok[slot]) ||
		    !(o->prog_mask & (1u << (isamlg ? BP_COUNT : slot))))
			continue;
		for (int c = 0; c < C_COUNT; c++)
			if (s->have[i][c] && (o->case_mask & (1u << c)))
				emit(o, prog, s, nr, case_names[c], "repeat",
				     &hot[(slot * C_COUNT + c) * o->rounds], o->rounds);
		if (o->spread && (o->case_mask & (1u << C_SYN)))
			emit(o, prog, s, nr, "syn-new", "spread", &spr[slot * o->rounds],
			     o->rounds);
	}
	fflush(o->out);
	fflush(o->check);
out:
	free(hot);
	free(spr);
	free(one);
	return err;
}

static int open_cmp(const struct dp_opts *o, struct subject *s)
{
	const struct compiled *c = s->cp[0].c;

	for (int p = 0; p < BP_COUNT; p++) {
		int err;

		if (!(o->prog_mask & (1u << p)))
			continue;
		err = bench_obj_open(&s->cmp[p], (enum bench_prog)p, c, 0);

		s->cmp_ok[p] = err == 0;
		if (err) {
			fprintf(stderr, "amlg-bench: %s: %s not measured: %s\n", s->label,
				bench_prog_names[p], strerror(-err));
			fprintf(o->mem, "%s,%zu,%s,%zu,n/a (%s)\n", s->label, s->prefixes,
				bench_prog_names[p], c->nlpm4 + c->nlpm6, strerror(-err));
			continue;
		}
		if (p != BP_EMPTY)
			fprintf(o->mem, "%s,%zu,%s,%zu,%zu\n", s->label, s->prefixes,
				bench_prog_names[p], s->cmp[p].entries, s->cmp[p].mem_bytes);
	}
	fflush(o->mem);
	return 0;
}

static void subject_close(struct subject *s)
{
	for (int p = 0; p < BP_COUNT; p++)
		if (s->cmp_ok[p])
			bench_obj_close(&s->cmp[p]);
	for (size_t i = 0; i < s->ninst; i++) {
		offline_close(&s->inst[i]);
		compiled_policy_free(&s->cp[i]);
		free(s->spread[i]);
	}
	memset(s, 0, sizeof(*s));
}

static int open_inst(struct subject *s, size_t i)
{
	int err = offline_open(&s->inst[i], s->cp[i].c, 0);

	if (err)
		return err;
	/* Unlimited events would fill the ring buffer in a few thousand repeats; keep the
	 * default token bucket, which is what a flood meets live. */
	return 0;
}

/* The synthetic policy with dns_lines appended. */
static int with_dns(struct synth *syn)
{
	size_t n = strlen(syn->text);
	char *t = realloc(syn->text, n + sizeof(dns_lines));

	if (!t)
		return -ENOMEM;
	memcpy(t + n, dns_lines, sizeof(dns_lines));
	syn->text = t;
	return 0;
}

static int synthetic(const struct dp_opts *o, size_t n4)
{
	struct subject *s = calloc(1, sizeof(*s));
	struct synth syn[8];
	size_t n6 = n4 / 4 > 2 ? n4 / 4 : 2;
	int err = 0;

	if (!s)
		return -ENOMEM;
	snprintf(s->label, sizeof(s->label), "synthetic");
	s->prefixes = n4;
	for (size_t i = 0; i < o->nrules && !err; i++) {
		char a4[INET6_ADDRSTRLEN], a6[INET6_ADDRSTRLEN];
		unsigned last = o->rules[i] - 1;
		uint8_t a[16];

		err = synth_policy(&syn[i], 42 + n4, n4, n6, o->rules[i]);
		if (err)
			break;
		err = with_dns(&syn[i]);
		if (!err)
			err = compiled_policy_text("synthetic.policy", syn[i].text, -1, NULL,
						   &s->cp[i]);
		if (!err)
			err = open_inst(s, i);
		if (err) {
			synth_free(&syn[i]);
			break;
		}
		s->nrules[i] = o->rules[i];
		s->ninst = i + 1;
		synth_addr(&syn[i], last, 4, 0, a);
		addr_text(4, a, a4, sizeof(a4));
		synth_addr(&syn[i], last, 6, 0, a);
		addr_text(6, a, a6, sizeof(a6));
		build_cases(s, i, a4, a6, (uint16_t)(BENCH_PORT0 + last));
		build_dns(s, i);
		s->spread[i] = calloc(o->spread ? o->spread : 1, sizeof(struct frame));
		for (unsigned k = 0; k < o->spread && s->spread[i]; k++) {
			struct rng rg;
			unsigned rr;

			rng_seed(&rg, 7 + k);
			rr = rng_below(&rg, o->rules[i]);
			synth_addr(&syn[i], rr, 4, k, a);
			addr_text(4, a, a4, sizeof(a4));
			struct pkt_spec sp = { H4,
					       a4,
					       IPPROTO_TCP,
					       (uint16_t)(20000 + k),
					       (uint16_t)(BENCH_PORT0 + rr),
					       SYNFIN };
			build(&s->spread[i][k], &sp);
		}
		synth_free(&syn[i]);
	}
	if (!err)
		err = open_cmp(o, s);
	if (!err)
		err = measure(o, s);
	subject_close(s);
	free(s);
	return err;
}

/* The out rule allowing tcp/443 with the most prefixes of a family: a first address in it. */
static bool pick_addr(const struct compiled *c, int family, uint32_t variant, char *buf, size_t sz,
		      uint16_t *port)
{
	const struct crule *best = NULL;
	size_t bestn = 0;

	for (size_t i = 0; i < c->nrules; i++) {
		const struct crule *r = &c->rules[i];
		size_t n = prefix_list_count(&r->remote, family);
		bool p443 = r->nports == 0;

		for (size_t k = 0; k < r->nports; k++)
			p443 |= r->ports[k].lo <= 443 && 443 <= r->ports[k].hi;
		if (r->dir != AMLG_DIR_OUT || r->proto != AMLG_PROTO_TCP || !p443 || n <= bestn)
			continue;
		best = r;
		bestn = n;
	}
	if (!best)
		return false;
	for (size_t i = 0, k = 0; i < best->remote.n; i++) {
		struct prefix p = best->remote.v[i];

		if (p.family != family || k++ != variant % bestn)
			continue;
		p.addr[family == 4 ? 3 : 15] |= 1;
		addr_str(family, p.addr, buf, sz);
		*port = 443;
		return true;
	}
	return false;
}

static int real_policy(const struct dp_opts *o, const char *path)
{
	const char *how = "";
	struct subject *s = calloc(1, sizeof(*s));
	char a4[INET6_ADDRSTRLEN], a6[INET6_ADDRSTRLEN];
	const struct compiled *c;
	uint16_t port = 443;
	bool h4, h6;
	int err;

	if (!s)
		return -ENOMEM;
	snprintf(s->label, sizeof(s->label), "%s",
		 strrchr(path, '/') ? strrchr(path, '/') + 1 : path);
	err = compile_file(path, o->tags, o->vars, o->nvars, &s->cp[0], &how);
	if (!err)
		err = open_inst(s, 0);
	if (err) {
		fprintf(stderr, "amlg-bench: %s: skipped: cannot compile or load (%s)\n", path,
			strerror(-err));
		free(s);
		return 0;
	}
	c = s->cp[0].c;
	s->ninst = 1;
	fprintf(o->check, "%s,-,-,compile,tags resolved,resolver %s,ok\n", s->label, how);
	s->nrules[0] = c->nrules_dir[0] + c->nrules_dir[1];
	s->prefixes = c->nlpm4 + c->nlpm6;
	h4 = pick_addr(c, 4, 0, a4, sizeof(a4), &port);
	h6 = pick_addr(c, 6, 0, a6, sizeof(a6), &port);
	if (!h4) {
		fprintf(stderr, "amlg-bench: %s: skipped: no out tcp/443 rule with IPv4 prefixes\n",
			path);
		subject_close(s);
		free(s);
		return 0;
	}
	build_cases(s, 0, a4, h6 ? a6 : NULL, port);
	s->spread[0] = calloc(o->spread ? o->spread : 1, sizeof(struct frame));
	for (unsigned k = 0; k < o->spread && s->spread[0]; k++) {
		pick_addr(c, 4, k, a4, sizeof(a4), &port);
		struct pkt_spec sp = { H4, a4, IPPROTO_TCP, (uint16_t)(20000 + k), port, SYNFIN };
		build(&s->spread[0][k], &sp);
	}
	err = open_cmp(o, s);
	if (!err)
		err = measure(o, s);
	subject_close(s);
	free(s);
	return err;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: amlg-bench datapath -o CSV --mem CSV --check CSV [--quick] [--rounds N]\n"
		"                           [--repeat N] [--spread N] [--sizes a,b,..] [--rules a,b,..]\n"
		"                           [--tags FILE] [--var NAME=VALUE]... [--policy FILE]...\n"
		"                           [--cases c,..] [--progs p,..]\n");
}

/* "a,b,c" against a name table: a bit mask, or -1u for an unknown name. */
static unsigned parse_names(const char *arg, const char *const *names, unsigned n)
{
	char *dup = strdup(arg), *tok, *save = NULL;
	unsigned mask = 0;

	for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned k;

		for (k = 0; k < n && strcmp(tok, names[k]); k++)
			;
		if (k == n) {
			fprintf(stderr, "amlg-bench: error: unknown name '%s'\n", tok);
			mask = -1u;
			break;
		}
		mask |= 1u << k;
	}
	free(dup);
	return mask;
}

static size_t parse_list(const char *s, size_t *out, size_t max)
{
	size_t n = 0;
	char *end;

	while (*s && n < max) {
		out[n++] = strtoul(s, &end, 10);
		if (end == s || (*end && *end != ','))
			break;
		s = *end ? end + 1 : end;
	}
	return n;
}

int cmd_datapath(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "repeat", required_argument, NULL, 'R' },
		{ "spread", required_argument, NULL, 's' },
		{ "sizes", required_argument, NULL, 'S' },
		{ "rules", required_argument, NULL, 'u' },
		{ "tags", required_argument, NULL, 't' },
		{ "policy", required_argument, NULL, 'p' },
		{ "mem", required_argument, NULL, 'm' },
		{ "check", required_argument, NULL, 'c' },
		{ "cases", required_argument, NULL, 'C' },
		{ "progs", required_argument, NULL, 'g' },
		{ "var", required_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const prog_names[BP_COUNT + 1] = { "empty", "lpm", "dir16-8-8",
							      "plen-hash", "amlguard" };
	struct dp_opts o = {
		.rounds = 7, .repeat = 20000, .spread = 1024, .case_mask = -1u, .prog_mask = -1u
	};
	const char *out = NULL, *mem = NULL, *check = NULL;
	size_t tmp[8];
	int opt, err = 0;

	o.nsizes = parse_list("10,1000,10000,100000", o.sizes, 8);
	o.nrules = parse_list("10,100,1000", tmp, 8);
	for (size_t i = 0; i < o.nrules; i++)
		o.rules[i] = (unsigned)tmp[i];
	while ((opt = getopt_long(argc, argv, "o:", lo, NULL)) != -1) {
		switch (opt) {
		case 'o':
			out = optarg;
			break;
		case 'q':
			o.rounds = 3;
			o.repeat = 5000;
			o.spread = 256;
			break;
		case 'r':
			o.rounds = (unsigned)atoi(optarg);
			break;
		case 'R':
			o.repeat = (unsigned)atoi(optarg);
			break;
		case 's':
			o.spread = (unsigned)atoi(optarg);
			break;
		case 'S':
			o.nsizes = parse_list(optarg, o.sizes, 8);
			break;
		case 'u':
			o.nrules = parse_list(optarg, tmp, 8);
			for (size_t i = 0; i < o.nrules; i++)
				o.rules[i] = (unsigned)tmp[i];
			break;
		case 't':
			o.tags = optarg;
			break;
		case 'p':
			if (o.npolicies < 16)
				o.policies[o.npolicies++] = optarg;
			break;
		case 'v':
			if (!strchr(optarg, '=') || o.nvars == 8)
				return -EINVAL;
			*strchr(optarg, '=') = 0;
			o.vars[o.nvars].name = optarg;
			o.vars[o.nvars++].value = optarg + strlen(optarg) + 1;
			break;
		case 'C':
			o.case_mask = parse_names(optarg, case_names, C_COUNT);
			if (o.case_mask == -1u)
				return -EINVAL;
			break;
		case 'g':
			o.prog_mask = parse_names(optarg, prog_names, BP_COUNT + 1);
			if (o.prog_mask == -1u)
				return -EINVAL;
			break;
		case 'm':
			mem = optarg;
			break;
		case 'c':
			check = optarg;
			break;
		default:
			usage();
			return -EINVAL;
		}
	}
	if (!out || !mem || !check || !o.rounds || !o.repeat) {
		usage();
		return -EINVAL;
	}
	o.out = fopen(out, "w");
	o.mem = fopen(mem, "w");
	o.check = fopen(check, "w");
	if (!o.out || !o.mem || !o.check) {
		err = -errno;
		fprintf(stderr, "amlg-bench: error: cannot write the output: %s\n", strerror(-err));
		goto out;
	}
	fprintf(o.out, "prog,policy,prefixes,rules,case,method,median_ns,min_ns,max_ns\n");
	fprintf(o.mem, "policy,prefixes,structure,entries,bytes\n");
	fprintf(o.check, "policy,prefixes,rules,case,expected,observed,result\n");
	for (size_t i = 0; i < o.nsizes && !err; i++) {
		fprintf(stderr, "  datapath: synthetic, %zu IPv4 prefixes\n", o.sizes[i]);
		err = synthetic(&o, o.sizes[i]);
	}
	for (size_t i = 0; i < o.npolicies && !err; i++) {
		fprintf(stderr, "  datapath: %s\n", o.policies[i]);
		err = real_policy(&o, o.policies[i]);
	}
out:
	if (o.out)
		fclose(o.out);
	if (o.mem)
		fclose(o.mem);
	if (o.check)
		fclose(o.check);
	return err;
}
