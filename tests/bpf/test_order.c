// SPDX-License-Identifier: GPL-2.0-only
/*
 * Datapath tests of order and time, through BPF_PROG_TEST_RUN on the real object:
 *  - conntrack across CPUs: a packet whose run sampled the clock before another CPU stamped the
 *    flow's entry (its "now" is older than the entry), and two threads on two CPUs driving the
 *    two ways of one flow with interleaved clocks;
 *  - fragments in every order (all 6 orders of 3 fragments), IPv4 and IPv6, TCP SYN and UDP,
 *    IPv6 with Destination Options after the Fragment header, of allowed and forbidden
 *    datagrams, in audit and enforce mode;
 *  - "check --local" covering both ends: the later fragments of a reply keep the reply's
 *    direction and ports.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/pkt_cls.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernel/batch.h"
#include "compile/compile.h"
#include "kernel/loader.h"
#include "base/log.h"
#include "base/names.h"
#include "harness.h"
#include "offline/pktgen.h"
#include "policy/policy.h"
#include "base/prefix.h"
#include "kernel/state.h"

#define US 1000ull
#define MS 1000000ull
#define OUT AMLG_DIR_OUT
#define IN AMLG_DIR_IN
#define A AMLG_VERDICT_ALLOW
#define V AMLG_VERDICT_VIOLATION
#define TCP IPPROTO_TCP
#define UDP IPPROTO_UDP
#define H4 "192.0.2.10"
#define R4 "198.51.100.7"
#define H6 "2001:db8:ffff::10"
#define R6 "2001:db8:1::5"

static const char policy_text[] = "allow out tcp port 443 to 198.51.100.0/24 flow O-HTTPS\n"
				  "allow out udp port 5300 to 198.51.100.0/24 flow O-UDP\n"
				  "allow out tcp port 443 to 2001:db8:1::/48 flow O-HTTPS6\n"
				  "allow out udp port 5300 to 2001:db8:1::/48 flow O-UDP6\n"
				  "allow out udp port 5300 to 192.0.2.0/24 flow O-LOCAL\n";

struct instance {
	struct policy *p;
	struct compiled *c;
	struct offline *o; /* the shared instance */
};

/*
 * Each case starts from the state of a fresh load: the run's shared instance, every map emptied
 * and the case's policy installed (offline_reset), without a load per case.
 */
static int instance_open(struct instance *in, int mode)
{
	struct compiled_policy cp = { 0 };
	int err;

	memset(in, 0, sizeof(*in));
	err = compile_text(policy_text, mode, &cp);
	in->p = cp.p;
	in->c = cp.c;
	if (!err)
		err = shared_instance(INSTANCE_BOTH, in->c, &in->o);
	return err;
}

static void instance_close(struct instance *in)
{
	compiled_free(in->c);
	policy_free(in->p);
}

/* The conntrack entry of the flow H4:lport <-> R4:rport (as seen from the host). */
static int ct_entry(struct instance *in, uint8_t proto, uint16_t lport, uint16_t rport,
		    struct amlg_ct_val *v)
{
	struct amlg_ct_key k = { .family = 4, .proto = proto, .lport = lport, .rport = rport };

	inet_pton(AF_INET, H4, k.laddr);
	inet_pton(AF_INET, R4, k.raddr);
	return bpf_map_lookup_elem(in->o->maps.fd[M_CT], &k, v) ? -errno : 0;
}

/*
 * Defect of the past: another CPU stamped the entry later than this run's clock; the reply
 * judged at that earlier "now" found the entry "expired" (unsigned age), took itself for a new
 * inbound flow and overwrote the allowed entry with a violation.
 */
static void clock_from_the_past(int mode)
{
	const char *m = mode == AMLG_MODE_ENFORCE ? "enforce" : "audit";
	static const struct pkt_spec udp_out = { H4, R4, UDP, 40000, 5300 };
	static const struct pkt_spec udp_in = { R4, H4, UDP, 5300, 40000 };
	static const struct pkt_spec syn = { H4, R4, TCP, 40001, 443 };
	static const struct pkt_spec synack = { R4, H4, TCP, 443, 40001, 0x12 };
	static const struct pkt_spec ack = { H4, R4, TCP, 40001, 443, 0x10 };
	const uint64_t t = 7000000000000ull;
	struct offline_verdict v1, v2, v3;
	struct amlg_ct_val ct = { 0 };
	struct amlg_stats st = { 0 };
	struct instance in;
	char name[96];

	if (instance_open(&in, mode)) {
		report("clock", m, false, "cannot compile or load");
		return;
	}
	/* UDP: the entry stamped at t + 5 us, the reply judged at t */
	run_packet(in.o, &udp_out, OUT, t + 5 * US, &v1);
	run_packet(in.o, &udp_in, IN, t, &v2);
	snprintf(name, sizeof(name), "%s/udp reply with a clock 5 us behind the entry", m);
	report("clock", name, v1.verdict == A && v2.verdict == A && v2.match == AMLG_MATCH_CT,
	       "request %s, reply %s %s match %s", v1.verdict == A ? "allow" : "violation",
	       v2.verdict == A ? "allow" : "violation", reason_str(v2.reason), match_str(v2.match));
	snprintf(name, sizeof(name), "%s/udp entry not overwritten, its stamp not moved back", m);
	report("clock", name,
	       ct_entry(&in, UDP, 40000, 5300, &ct) == 0 && ct.verdict == A && ct.dir == OUT &&
		       ct.last_seen == t + 5 * US,
	       "verdict %u dir %u last_seen t%+lld ns", ct.verdict, ct.dir,
	       (long long)(ct.last_seen - t));
	/* far behind too: 10 s, still the same flow (the clock never runs backwards by a timeout) */
	run_packet(in.o, &udp_in, IN, t - 10000 * MS, &v2);
	snprintf(name, sizeof(name), "%s/udp reply with a clock 10 s behind", m);
	report("clock", name, v2.verdict == A && v2.match == AMLG_MATCH_CT, "%s match %s",
	       v2.verdict == A ? "allow" : "violation", match_str(v2.match));
	/* TCP: the same with the handshake */
	run_packet(in.o, &syn, OUT, t + 20 * US, &v1);
	run_packet(in.o, &synack, IN, t + 10 * US, &v2);
	run_packet(in.o, &ack, OUT, t + 15 * US, &v3);
	snprintf(name, sizeof(name), "%s/tcp handshake with clocks out of order", m);
	report("clock", name,
	       v1.verdict == A && v2.verdict == A && v2.match == AMLG_MATCH_CT && v3.verdict == A &&
		       v3.match == AMLG_MATCH_CT,
	       "syn %s, syn-ack %s match %s, ack %s match %s", v1.verdict == A ? "allow" : "viol",
	       v2.verdict == A ? "allow" : "viol", match_str(v2.match),
	       v3.verdict == A ? "allow" : "viol", match_str(v3.match));
	snprintf(name, sizeof(name), "%s/two flows, two entries created", m);
	report("clock", name,
	       read_stats(in.o, &st) == 0 && st.ct_created == 2 && st.packets[IN][1] == 0 &&
		       st.packets[OUT][1] == 0,
	       "created %llu, violations in %llu out %llu", (unsigned long long)st.ct_created,
	       (unsigned long long)st.packets[IN][1], (unsigned long long)st.packets[OUT][1]);
	/* an entry that really expired is replaced on purpose: by the request that reopens it */
	run_packet(in.o, &udp_out, OUT, t + 5 * US + 181000 * MS, &v1);
	snprintf(name, sizeof(name), "%s/udp past its timeout: a new flow, entry replaced", m);
	report("clock", name,
	       v1.verdict == A && v1.match == AMLG_MATCH_RULE && read_stats(in.o, &st) == 0 &&
		       st.ct_created == 3 && ct_entry(&in, UDP, 40000, 5300, &ct) == 0 &&
		       ct.last_seen == t + 5 * US + 181000 * MS,
	       "%s match %s created %llu", v1.verdict == A ? "allow" : "violation",
	       match_str(v1.match), (unsigned long long)st.ct_created);
	instance_close(&in);
}

struct blaster {
	struct instance *in;
	const struct pkt_spec *spec;
	unsigned dir;
	int cpu;
	uint64_t t0;
	unsigned n;
	unsigned allowed, violations, errors;
	pthread_barrier_t *start;
};

static void *blast(void *arg)
{
	struct blaster *b = arg;
	uint8_t f[PKT_MAX];
	size_t len = pkt_build(b->spec, f, sizeof(f));
	cpu_set_t cs;

	CPU_ZERO(&cs);
	CPU_SET(b->cpu, &cs);
	pthread_setaffinity_np(pthread_self(), sizeof(cs), &cs);
	pthread_barrier_wait(b->start);
	for (unsigned i = 0; i < b->n; i++) {
		struct offline_verdict v;
		/* both ways on one clock, 1 us apart, each thread's times behind the other's */
		uint64_t now = b->t0 + (uint64_t)i * US + (b->dir == IN ? 500 : 0);

		if (offline_run(b->in->o, f, len, b->dir, now, &v)) {
			b->errors++;
			continue;
		}
		if (v.verdict == A)
			b->allowed++;
		else
			b->violations++;
	}
	return NULL;
}

/*
 * The two ways of one allowed UDP flow from two threads on two CPUs at once, their clocks
 * interleaved: every packet allowed, one entry created.
 */
static void two_cpus(int mode)
{
	const char *m = mode == AMLG_MODE_ENFORCE ? "enforce" : "audit";
	static const struct pkt_spec out = { H4, R4, UDP, 41000, 5300 };
	static const struct pkt_spec in_ = { R4, H4, UDP, 5300, 41000 };
	const unsigned n = 20000;
	const uint64_t t0 = 9000000000000ull;
	struct blaster b[2] = {
		{ .spec = &out, .dir = OUT, .cpu = 0, .t0 = t0, .n = n },
		{ .spec = &in_, .dir = IN, .cpu = 1, .t0 = t0, .n = n },
	};
	struct offline_verdict v;
	pthread_barrier_t start;
	pthread_t th[2];
	struct amlg_stats st = { 0 };
	struct instance in;
	char name[96];

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		report("cpus", m, true, "one CPU: not run");
		return;
	}
	if (instance_open(&in, mode)) {
		report("cpus", m, false, "cannot compile or load");
		return;
	}
	run_packet(in.o, &out, OUT, t0 - 1 * MS, &v); /* the flow opened from the host */
	pthread_barrier_init(&start, NULL, 2);
	for (int i = 0; i < 2; i++) {
		b[i].in = &in;
		b[i].start = &start;
		pthread_create(&th[i], NULL, blast, &b[i]);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&start);
	snprintf(name, sizeof(name), "%s/%u packets each way, CPUs 0 and 1", m, n);
	report("cpus", name,
	       v.verdict == A && b[0].allowed == n && b[1].allowed == n && !b[0].errors &&
		       !b[1].errors && read_stats(in.o, &st) == 0 && st.ct_created == 1 &&
		       st.dropped[0] + st.dropped[1] == 0,
	       "out %u allowed %u violations, in %u allowed %u violations, %u+%u errors, "
	       "created %llu, dropped %llu",
	       b[0].allowed, b[0].violations, b[1].allowed, b[1].violations, b[0].errors,
	       b[1].errors, (unsigned long long)st.ct_created,
	       (unsigned long long)(st.dropped[0] + st.dropped[1]));
	instance_close(&in);
}

/* The three fragments of one datagram: 0 first, 1 middle, 2 last. */
static void frag_specs(const struct pkt_spec *base, int dstopts, uint32_t id, struct pkt_spec f[3])
{
	for (int i = 0; i < 3; i++) {
		f[i] = *base;
		f[i].frag_id = id;
		memset(f[i].ext, 0, sizeof(f[i].ext));
	}
	f[0].frag = 1;
	f[0].payload = 64;
	f[1].frag = 3;
	f[1].frag_off = 88;
	f[1].payload = 64;
	f[2].frag = 2;
	f[2].frag_off = 152;
	f[2].payload = 40;
	if (dstopts) {
		/* the first fragment goes on with Destination Options, then the transport */
		f[0].ext[0] = EXT_FRAG;
		f[0].ext[1] = EXT_DSTOPTS;
		/* later ones: the Fragment header names Destination Options, nothing follows */
		for (int i = 1; i < 3; i++) {
			f[i].ext[0] = EXT_FRAG;
			f[i].proto = IPPROTO_DSTOPTS;
		}
	}
}

static const int orders[6][3] = { { 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 },
				  { 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 } };

struct frag_case {
	const char *name;
	struct pkt_spec base; /* the datagram, unfragmented */
	int dstopts;
	/*
	 * allowed: the datagram is allowed; its flow was opened before by an unfragmented packet
	 * (or, for dstopts, by a datagram whose fragments came in order).  forbidden_pair: a
	 * forbidden port on a pair that carries an allowed flow of the protocol.  Otherwise a
	 * forbidden datagram on a pair that carries none.
	 */
	int allowed, forbidden_pair;
	int reason; /* of a forbidden first fragment */
};

static const struct frag_case frag_cases[] = {
	{ "v4 tcp syn allowed", { H4, R4, TCP, 42000, 443 }, 0, 1, 0, 0 },
	{ "v4 udp allowed", { H4, R4, UDP, 42001, 5300 }, 0, 1, 0, 0 },
	{ "v6 tcp syn allowed", { H6, R6, TCP, 42002, 443 }, 0, 1, 0, 0 },
	{ "v6 udp allowed", { H6, R6, UDP, 42003, 5300 }, 0, 1, 0, 0 },
	{ "v6 tcp syn + dstopts allowed", { H6, R6, TCP, 42004, 443 }, 1, 1, 0, 0 },
	{ "v6 udp + dstopts allowed", { H6, R6, UDP, 42005, 5300 }, 1, 1, 0, 0 },
	{ "v4 tcp syn forbidden",
	  { H4, "198.51.100.99", TCP, 42010, 22 },
	  0,
	  0,
	  0,
	  AMLG_REASON_PORT },
	{ "v4 udp forbidden", { H4, "203.0.113.9", UDP, 42011, 5300 }, 0, 0, 0, AMLG_REASON_NO_RULE },
	{ "v6 tcp syn forbidden",
	  { H6, "2001:db8:1::99", TCP, 42012, 22 },
	  0,
	  0,
	  0,
	  AMLG_REASON_PORT },
	{ "v6 udp forbidden",
	  { H6, "2001:db8:2::9", UDP, 42013, 5300 },
	  0,
	  0,
	  0,
	  AMLG_REASON_NO_RULE },
	{ "v6 tcp + dstopts forbidden",
	  { H6, "2001:db8:1::98", TCP, 42014, 22 },
	  1,
	  0,
	  0,
	  AMLG_REASON_PORT },
	{ "v4 udp forbidden port, pair allowed",
	  { H4, R4, UDP, 42020, 5399 },
	  0,
	  0,
	  1,
	  AMLG_REASON_PORT },
	{ "v6 tcp forbidden port, pair allowed",
	  { H6, R6, TCP, 42021, 22 },
	  0,
	  0,
	  1,
	  AMLG_REASON_PORT },
};

/*
 * Each datagram in all 6 orders of its 3 fragments, a fresh id each.  Allowed: every fragment
 * allowed.  Forbidden, on a pair with no allowed flow: every fragment a violation (a later one
 * before the first: "fragment"; after it: the first's reason), all dropped in enforce mode.
 * Forbidden port on a pair with an allowed flow: the later fragments that come before the first
 * pass (tied to the pair), the first and every one after it are violations.
 */
static void fragments(int mode)
{
	const char *m = mode == AMLG_MODE_ENFORCE ? "enforce" : "audit";
	uint64_t now = 11000000000000ull;
	uint32_t id = 0x4000;
	char name[160];

	for (size_t c = 0; c < sizeof(frag_cases) / sizeof(frag_cases[0]); c++) {
		const struct frag_case *fc = &frag_cases[c];
		struct offline_verdict v;
		struct pkt_spec f[3];
		struct instance in;
		unsigned bad = 0;
		char why[160] = "";

		if (instance_open(&in, mode)) {
			report("fragments", m, false, "cannot compile or load");
			return;
		}
		if (fc->allowed && !fc->dstopts) {
			run_packet(in.o, &fc->base, OUT, now,
				   &v); /* the flow, opened unfragmented */
		} else if (fc->allowed) {
			frag_specs(&fc->base, 1, id++, f); /* opened by a datagram in order */
			for (int i = 0; i < 3; i++)
				run_packet(in.o, &f[i], OUT, now += US, &v);
		} else if (fc->forbidden_pair) {
			struct pkt_spec ok = fc->base;

			ok.dport = ok.proto == TCP ? 443 : 5300;
			run_packet(in.o, &ok, OUT, now, &v); /* an allowed flow on the pair */
		}
		for (int o = 0; o < 6; o++) {
			int seen_first = 0;

			frag_specs(&fc->base, fc->dstopts, id++, f);
			for (int k = 0; k < 3; k++) {
				int i = orders[o][k], want_v, want_r;

				now += 10 * US;
				if (fc->allowed) {
					want_v = A;
					want_r = AMLG_REASON_NONE;
				} else if (i == 0 || seen_first) {
					want_v = V;
					want_r = fc->reason;
				} else if (fc->forbidden_pair) {
					want_v = A;
					want_r = AMLG_REASON_NONE;
				} else {
					want_v = V;
					want_r = AMLG_REASON_FRAGMENT;
				}
				seen_first |= i == 0;
				if (run_packet(in.o, &f[i], OUT, now, &v) || v.verdict != want_v ||
				    v.reason != want_r ||
				    v.retval != (want_v == V && mode == AMLG_MODE_ENFORCE ?
							 TC_ACT_SHOT :
							 TC_ACT_OK)) {
					if (!bad++)
						snprintf(
							why, sizeof(why),
							"order %d%d%d fragment %d: want %s %s, got %s %s "
							"ret %u",
							orders[o][0], orders[o][1], orders[o][2], i,
							want_v == A ? "allow" : "violation",
							reason_str((unsigned)want_r),
							v.verdict == A ? "allow" : "violation",
							reason_str(v.reason), v.retval);
				}
			}
		}
		snprintf(name, sizeof(name), "%s/%s, 6 orders", m, fc->name);
		report("fragments", name, bad == 0, "%u wrong: %s", bad, why);
		instance_close(&in);
	}
}

/*
 * The first datagram of a flow not seen before, reordered: the fragments before its first have
 * nothing to tie them to (violations, "fragment"); the first fragment opens the flow; the
 * retransmission then passes in any order.
 */
static void fragments_new_flow(int mode)
{
	const char *m = mode == AMLG_MODE_ENFORCE ? "enforce" : "audit";
	static const struct pkt_spec base = { H4, R4, UDP, 43000, 5300 };
	struct offline_verdict v[6];
	struct pkt_spec f[3];
	struct instance in;
	uint64_t now = 12000000000000ull;
	char name[96];

	if (instance_open(&in, mode)) {
		report("fragments", m, false, "cannot compile or load");
		return;
	}
	frag_specs(&base, 0, 0x5000, f);
	run_packet(in.o, &f[2], OUT, now += US, &v[0]);
	run_packet(in.o, &f[1], OUT, now += US, &v[1]);
	run_packet(in.o, &f[0], OUT, now += US, &v[2]);
	frag_specs(&base, 0, 0x5001, f);
	run_packet(in.o, &f[2], OUT, now += 1000 * MS, &v[3]);
	run_packet(in.o, &f[1], OUT, now += US, &v[4]);
	run_packet(in.o, &f[0], OUT, now += US, &v[5]);
	snprintf(name, sizeof(name), "%s/new flow reordered, then its retransmission", m);
	report("fragments", name,
	       v[0].verdict == V && v[0].reason == AMLG_REASON_FRAGMENT && v[1].verdict == V &&
		       v[2].verdict == A && v[2].match == AMLG_MATCH_RULE && v[3].verdict == A &&
		       v[3].match == AMLG_MATCH_FRAG && v[4].verdict == A && v[5].verdict == A,
	       "verdicts %u %u %u / %u %u %u", v[0].verdict, v[1].verdict, v[2].verdict,
	       v[3].verdict, v[4].verdict, v[5].verdict);
	instance_close(&in);
}

/*
 * "check --local" covering both ends (192.0.2.0/24): the request 192.0.2.10 -> 192.0.2.20:5300
 * unfragmented, the reply fragmented, in order and, for a second datagram, the first fragment
 * between its later ones.  Every fragment of the reply that follows its first must be judged
 * "in" with the reply's ports: one flow, not two.
 */
static void local_both_ends(void)
{
	static const struct pkt_spec req = { H4, "192.0.2.20", UDP, 44000, 5300 };
	static const struct pkt_spec rep = { "192.0.2.20", H4, UDP, 5300, 44000 };
	static uint8_t frames[8][PKT_MAX];
	struct batch_pkt pk[8];
	struct amlg_batch_res res[8];
	struct prefix_list local = { 0 };
	struct pkt_spec f[3], g[3], seq[7];
	struct instance in;
	struct batch b;
	char bad[64];
	bool hostbits;
	unsigned wrong = 0;
	char why[200] = "";
	int err;

	if (instance_open(&in, AMLG_MODE_AUDIT) ||
	    prefix_list_parse("192.0.2.0/24", &local, bad, sizeof(bad), &hostbits) ||
	    offline_set_local(in.o, &local) || batch_init(&b, in.o)) {
		report("local", "both ends", false, "cannot set up");
		return;
	}
	frag_specs(&rep, 0, 0x6000, f);
	frag_specs(&rep, 0, 0x6001, g);
	seq[0] = req;
	seq[1] = f[0];
	seq[2] = f[1];
	seq[3] = f[2];
	seq[4] = g[1]; /* before its first fragment: tied to the pair, ports unknown */
	seq[5] = g[0];
	seq[6] = g[2];
	for (int i = 0; i < 7; i++) {
		pk[i].len = pk[i].cap = (uint32_t)pkt_build(&seq[i], frames[i], PKT_MAX);
		pk[i].data = frames[i];
		pk[i].ts_ns = 13000000000000ull + (uint64_t)i * US;
		pk[i].dir = AMLG_DIR_AUTO;
	}
	err = batch_run(&b, pk, 7, res);
	for (int i = 0; i < 7 && !err; i++) {
		bool reply = i > 0, known = i != 4;
		bool ok = res[i].verdict == A && !res[i].foreign &&
			  (!known ||
			   (res[i].dir == (reply ? IN : OUT) &&
			    res[i].sport == seq[i == 0 ? 0 : 1].sport &&
			    res[i].dport == seq[i == 0 ? 0 : 1].dport && res[i].proto == UDP));

		if (!ok && !wrong++)
			snprintf(why, sizeof(why), "packet %d: %s dir %s %u -> %u proto %u", i,
				 res[i].verdict == A ? "allow" : "violation",
				 res[i].dir == IN ? "in" : "out", res[i].sport, res[i].dport,
				 res[i].proto);
	}
	report("local", "both ends: the reply's later fragments are the reply", !err && !wrong,
	       "err %d, %u wrong: %s", err, wrong, why);
	batch_free(&b);
	prefix_list_free(&local);
	instance_close(&in);
}

int main(void)
{
	harness_start();
	for (int mode = AMLG_MODE_AUDIT; mode <= AMLG_MODE_ENFORCE; mode++) {
		clock_from_the_past(mode);
		two_cpus(mode);
		fragments(mode);
		fragments_new_flow(mode);
	}
	local_both_ends();
	shared_instances_close();
	return results_end();
}
