// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host rules in the datapath, through BPF_PROG_TEST_RUN: DNS answers learned (exact names,
 * both wildcard forms, CNAME chains, many answers, TCP, TTLs, shared addresses), answers that
 * must teach nothing (untrusted servers, compression loops, forward pointers, every truncation),
 * and ClientHello checks (match, mismatch, no SNI, a name past the first segment).  Then
 * captures through the batch entry point: generated ones with DNS answers and ClientHellos, and
 * the third-party pcaps as an extra when ../shared/data is there.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/pkt_cls.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernel/batch.h"
#include "offline/capture.h"
#include "harness.h"
#include "compile/compile.h"
#include "dnsgen.h"
#include "base/event.h"
#include "kernel/loader.h"
#include "base/log.h"
#include "offline/pktgen.h"
#include "policy/policy.h"
#include "kernel/tables.h"
#include "sinks/sink_pcap.h"
#include "kernel/state.h"
#include "kernel/tables.h"

#define NS 1000000ull
#define H4 "192.0.2.10"
#define RES "198.51.100.53"
#define OUT AMLG_DIR_OUT
#define IN AMLG_DIR_IN
#define TCP IPPROTO_TCP
#define UDP IPPROTO_UDP

/* ---- TLS ClientHello */

static size_t client_hello(uint8_t *b, const char *sni, size_t pad)
{
	size_t n = 0, ext_at, hs_at, rec_at;

#define P8(v) (b[n++] = (uint8_t)(v))
#define P16(v) (P8((v) >> 8), P8(v))
	P8(22);
	P16(0x0301);
	rec_at = n;
	P16(0);
	P8(1);
	hs_at = n;
	P8(0);
	P16(0);
	P16(0x0303);
	for (int i = 0; i < 32; i++)
		P8(i);
	P8(0); /* session id */
	P16(2);
	P16(0x1301);
	P8(1);
	P8(0);
	ext_at = n;
	P16(0);
	if (pad) { /* a padding extension before the name, as big key shares can be */
		P16(21);
		P16(pad);
		memset(b + n, 0, pad);
		n += pad;
	}
	if (sni) {
		size_t l = strlen(sni);

		P16(0);
		P16(l + 5);
		P16(l + 3);
		P8(0);
		P16(l);
		memcpy(b + n, sni, l);
		n += l;
	}
	b[ext_at] = (uint8_t)((n - ext_at - 2) >> 8);
	b[ext_at + 1] = (uint8_t)(n - ext_at - 2);
	b[hs_at] = (uint8_t)((n - hs_at - 3) >> 16);
	b[hs_at + 1] = (uint8_t)((n - hs_at - 3) >> 8);
	b[hs_at + 2] = (uint8_t)(n - hs_at - 3);
	b[rec_at] = (uint8_t)((n - rec_at - 2) >> 8);
	b[rec_at + 1] = (uint8_t)(n - rec_at - 2);
#undef P8
#undef P16
	return n;
}

/* ---- the datapath */

struct env {
	struct policy *p;
	struct compiled *c;
	struct offline o; /* a copy of the shared instance's handles */
	uint64_t now;
	uint16_t sport;
};

/*
 * One loaded instance with both offline entry points for the whole run (INSTANCE_BOTH), emptied
 * and given the next policy by env_open.
 */
static int env_open(struct env *e, const char *policy)
{
	struct compiled_policy cp = { 0 };
	struct offline *o;
	int err;

	memset(e, 0, sizeof(*e));
	e->now = 2000000000000ull;
	e->sport = 40000;
	err = load_text(policy, AMLG_MODE_ENFORCE, INSTANCE_BOTH, &cp, &o);
	if (err) {
		printf("cannot set up: %s\n", strerror(-err));
		exit(1);
	}
	e->p = cp.p;
	e->c = cp.c;
	e->o = *o;
	return 0;
}

static void env_close(struct env *e)
{
	compiled_free(e->c);
	policy_free(e->p);
}

static struct offline_verdict run(struct env *e, const struct pkt_spec *s, unsigned dir)
{
	struct offline_verdict v = { .verdict = 0xff };

	if (run_packet(&e->o, s, dir, e->now, &v))
		printf("  (cannot run a packet)\n");
	e->now += NS;
	return v;
}

/* The query out (so the answer belongs to an allowed flow), then the answer in. */
static struct offline_verdict answer(struct env *e, const char *from, const struct dnsb *d,
				     uint8_t proto)
{
	uint8_t data[1402];
	struct pkt_spec q = { H4, from, proto, ++e->sport, 53, .payload = 12 };
	struct pkt_spec a = {
		from, H4, proto, 53, e->sport, .payload = (uint16_t)d->n, .data = d->b
	};

	if (proto == TCP) {
		/* DNS over TCP: the length prefix, the whole message in one segment */
		data[0] = (uint8_t)(d->n >> 8);
		data[1] = (uint8_t)d->n;
		memcpy(data + 2, d->b, d->n);
		a.data = data;
		a.payload = (uint16_t)(d->n + 2);
		a.tcp_flags = 0x18;
		q.tcp_flags = 0x02;
	}
	run(e, &q, OUT);
	return run(e, &a, IN);
}

static struct offline_verdict syn(struct env *e, const char *dst, uint16_t port)
{
	struct pkt_spec s = { H4, dst, TCP, ++e->sport, port };

	return run(e, &s, OUT);
}

static const char *flow_of(const struct env *e, uint16_t rule)
{
	const char *flow = rule_flow(e->c, rule);

	return flow ? flow : "-";
}

static bool allowed_by(const struct env *e, struct offline_verdict v, const char *flow)
{
	return v.verdict == AMLG_VERDICT_ALLOW && !strcmp(flow_of(e, v.rule), flow);
}

static struct amlg_stats stats(struct env *e)
{
	struct amlg_stats s = { 0 };

	read_stats(&e->o, &s);
	return s;
}

static bool learned(struct env *e, const char *addr)
{
	struct amlg_learn_key k = { 0 };
	struct amlg_learned v;
	bool v6 = strchr(addr, ':');

	k.family = v6 ? 6 : 4;
	inet_pton(v6 ? AF_INET6 : AF_INET, addr, k.addr);
	return bpf_map_lookup_elem(e->o.maps.fd[M_LEARNED], &k, &v) == 0;
}

#define BASE                                                  \
	"platform off\n"                                      \
	"resolver " RES "\n"                                  \
	"allow out udp port 53 to 198.51.100.0/24 flow DNS\n" \
	"allow out tcp port 53 to 198.51.100.0/24 flow DNS-TCP\n"

static void test_exact_and_ttl(void)
{
	struct env e;
	struct dnsb d;
	struct offline_verdict v;

	env_open(&e, BASE "dns ttl-floor 0\ndns grace 0\nsni off\n"
			  "allow out tcp port 443 to host:pypi.org flow PY\n");
	v = syn(&e, "203.0.113.10", 443);
	report("hosts", "before the answer",
	       v.verdict == AMLG_VERDICT_VIOLATION && v.reason == AMLG_REASON_NO_RULE,
	       "verdict %u reason %u", v.verdict, v.reason);
	dns_start(&d, "pypi.org", 0x8180, 1);
	dns_a(&d, NULL, "203.0.113.10", 60);
	v = answer(&e, RES, &d, UDP);
	report("hosts", "the answer passes", allowed_by(&e, v, "DNS"), "rule %s",
	       flow_of(&e, v.rule));
	v = syn(&e, "203.0.113.10", 443);
	report("hosts", "right after the answer",
	       allowed_by(&e, v, "PY") && v.match == AMLG_MATCH_RULE, "verdict %u rule %s",
	       v.verdict, flow_of(&e, v.rule));
	v = syn(&e, "203.0.113.10", 80);
	report("hosts", "other port: near the host rule",
	       v.verdict == AMLG_VERDICT_VIOLATION && v.reason == AMLG_REASON_PORT &&
		       !strcmp(flow_of(&e, v.rule), "PY"),
	       "reason %u rule %s", v.reason, flow_of(&e, v.rule));
	e.now += 61000 * NS;
	v = syn(&e, "203.0.113.10", 443);
	report("hosts", "after the TTL",
	       v.verdict == AMLG_VERDICT_VIOLATION && v.reason == AMLG_REASON_NO_RULE,
	       "verdict %u reason %u", v.verdict, v.reason);
	report("hosts", "counted", stats(&e).dns_learned == 1 && stats(&e).dns_responses == 1,
	       "learned %llu responses %llu untrusted %llu malformed %llu",
	       (unsigned long long)stats(&e).dns_learned,
	       (unsigned long long)stats(&e).dns_responses,
	       (unsigned long long)stats(&e).dns_untrusted,
	       (unsigned long long)stats(&e).dns_malformed);
	env_close(&e);

	/* the floor and the grace keep an address past a short TTL */
	env_open(&e, BASE "dns ttl-floor 30\ndns grace 10\nsni off\n"
			  "allow out tcp port 443 to host:pypi.org flow PY\n");
	dns_start(&d, "pypi.org", 0x8180, 1);
	dns_a(&d, NULL, "203.0.113.10", 1);
	answer(&e, RES, &d, UDP);
	e.now += 39000 * NS;
	v = syn(&e, "203.0.113.10", 443);
	report("hosts", "floor + grace: still there at 39 s", allowed_by(&e, v, "PY"), "verdict %u",
	       v.verdict);
	e.now += 2000 * NS;
	v = syn(&e, "203.0.113.10", 443);
	report("hosts", "gone at 41 s", v.verdict == AMLG_VERDICT_VIOLATION, "verdict %u",
	       v.verdict);
	env_close(&e);
}

static void test_patterns(void)
{
	static const struct {
		const char *name, *addr;
		const char *flow; /* NULL: not learned */
	} cases[] = {
		{ "example.com", "203.0.113.1", NULL }, /* *.x is not x itself */
		{ "a.example.com", "203.0.113.2", "EX" },
		{ "a.b.example.com", "203.0.113.3", "EX" }, /* any depth */
		{ "WWW.Example.COM", "203.0.113.4", "EX" }, /* case */
		{ "pytorch.org", "203.0.113.5", "PT" }, /* *pytorch.org includes itself */
		{ "download.pytorch.org", "203.0.113.6", "PT" },
		{ "xpytorch.org", "203.0.113.7", "PT" }, /* no dot: any name ending so */
		{ "pytorch.org.evil.net", "203.0.113.8", NULL },
		{ "notexample.com", "203.0.113.9", NULL },
		{ "exact.test", "203.0.113.11", "EXACT" },
		{ "a.exact.test", "203.0.113.12", NULL },
		{ "v6.example.com", "2001:db8:5::1", "EX" },
	};
	struct env e;
	struct dnsb d;

	env_open(&e, BASE "sni off\n"
			  "allow out tcp port 443 to host:*.example.com flow EX\n"
			  "allow out tcp port 443 to host:*pytorch.org flow PT\n"
			  "allow out tcp port 443 to host:exact.test flow EXACT\n"
			  "allow out tcp port 443 to 2001:db8:ffff::/48 flow V6LOCAL\n");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct offline_verdict v;
		char name[80];

		dns_start(&d, cases[i].name, 0x8180, 1);
		dns_a(&d, NULL, cases[i].addr, 300);
		answer(&e, RES, &d, UDP);
		if (strchr(cases[i].addr, ':')) {
			struct pkt_spec s = { "2001:db8:ffff::10", cases[i].addr, TCP, 50000, 443 };

			v = run(&e, &s, OUT);
		} else {
			v = syn(&e, cases[i].addr, 443);
		}
		snprintf(name, sizeof(name), "pattern %s", cases[i].name);
		if (cases[i].flow)
			report("hosts", name,
			       allowed_by(&e, v, cases[i].flow) && learned(&e, cases[i].addr),
			       "verdict %u rule %s", v.verdict, flow_of(&e, v.rule));
		else
			report("hosts", name,
			       v.verdict == AMLG_VERDICT_VIOLATION && !learned(&e, cases[i].addr),
			       "verdict %u rule %s", v.verdict, flow_of(&e, v.rule));
	}
	env_close(&e);
}

static void test_cname_chain_and_many(void)
{
	struct env e;
	struct dnsb d;
	struct offline_verdict v;
	char addr[32];
	bool all = true;

	env_open(&e, BASE "sni off\n"
			  "allow out tcp port 443 to host:*.blob.core.windows.net flow BLOB\n"
			  "allow out tcp port 8443 to host:*.cloudapp.net flow APP\n"
			  "allow out tcp port 443 to host:many.test flow MANY\n");
	/* five deep, as Azure names through traffic manager are */
	dns_start(&d, "acct.blob.core.windows.net", 0x8180, 5);
	dns_cname(&d, NULL, "acct.privatelink.blob.core.windows.net", 60);
	dns_cname(&d, "acct.privatelink.blob.core.windows.net", "blob.ams.store.trafficmanager.net",
		  60);
	dns_cname(&d, "blob.ams.store.trafficmanager.net", "ams20.cloudapp.net", 60);
	dns_cname(&d, "ams20.cloudapp.net", "x9.edge.test", 60);
	dns_a(&d, "x9.edge.test", "203.0.113.20", 60);
	v = answer(&e, RES, &d, UDP);
	report("hosts", "chain answer passes", v.verdict == AMLG_VERDICT_ALLOW, "verdict %u",
	       v.verdict);
	v = syn(&e, "203.0.113.20", 443);
	report("hosts", "chain: the asked name's rule", allowed_by(&e, v, "BLOB"), "rule %s",
	       flow_of(&e, v.rule));
	v = syn(&e, "203.0.113.20", 8443);
	report("hosts", "chain: a name in the middle's rule", allowed_by(&e, v, "APP"), "rule %s",
	       flow_of(&e, v.rule));

	dns_start(&d, "many.test", 0x8180, 16);
	for (int i = 0; i < 16; i++) {
		snprintf(addr, sizeof(addr), "203.0.113.%d", 100 + i);
		dns_a(&d, NULL, addr, 60);
	}
	answer(&e, RES, &d, UDP);
	for (int i = 0; i < 16; i++) {
		snprintf(addr, sizeof(addr), "203.0.113.%d", 100 + i);
		all &= allowed_by(&e, syn(&e, addr, 443), "MANY");
	}
	report("hosts", "16 addresses in one answer", all, "not all allowed");
	/* the truncated (TC) answer's records are read all the same */
	dns_start(&d, "many.test", 0x8380, 1);
	dns_a(&d, NULL, "203.0.113.150", 60);
	answer(&e, RES, &d, UDP);
	report("hosts", "TC answer", allowed_by(&e, syn(&e, "203.0.113.150", 443), "MANY"),
	       "not allowed");
	/* over TCP, with the length prefix */
	dns_start(&d, "many.test", 0x8180, 1);
	dns_a(&d, NULL, "203.0.113.151", 60);
	v = answer(&e, RES, &d, TCP);
	report("hosts", "TCP answer passes", allowed_by(&e, v, "DNS-TCP"), "rule %s",
	       flow_of(&e, v.rule));
	report("hosts", "TCP answer learned", allowed_by(&e, syn(&e, "203.0.113.151", 443), "MANY"),
	       "not allowed");
	env_close(&e);
}

/*
 * Owners that point at a name matched before are not matched again; one that points inside
 * the question ("inner.test" in "www.inner.test") is another name and must be matched.
 */
static void test_owner_pointers(void)
{
	struct env e;
	struct dnsb d;

	env_open(&e, BASE "sni off\n"
			  "allow out tcp port 443 to host:inner.test flow INNER\n");
	dns_start(&d, "www.inner.test", 0x8180, 2);
	dns_a(&d, NULL, "203.0.113.160", 60);
	dns_put16(&d, 0xc000 | (12 + 4)); /* "inner.test" inside the question (at 12) */
	dns_put16(&d, 1);
	dns_put16(&d, 1);
	dns_put32(&d, 60);
	dns_put16(&d, 4);
	for (int k = 0; k < 4; k++)
		dns_put8(&d, (uint8_t[]){ 203, 0, 113, 161 }[k]);
	answer(&e, RES, &d, UDP);
	report("hosts", "owner pointing inside the question matched",
	       allowed_by(&e, syn(&e, "203.0.113.161", 443), "INNER"), "not allowed");

	/* the question does not match, every owner points at it: nothing learned */
	dns_start(&d, "www.inner.test", 0x8180, 3);
	for (int k = 0; k < 3; k++) {
		char addr[32];

		snprintf(addr, sizeof(addr), "203.0.113.%d", 170 + k);
		dns_a(&d, NULL, addr, 60);
	}
	answer(&e, RES, &d, UDP);
	report("hosts", "owners pointing at an unmatched question learn nothing",
	       !learned(&e, "203.0.113.170") && !learned(&e, "203.0.113.172"), "learned");
	env_close(&e);
}

static void test_bad_answers(void)
{
	struct amlg_stats s0, s1;
	struct env e;
	struct dnsb d, full;
	struct offline_verdict v;
	unsigned cuts = 0, bad = 0, wrong = 0;

	env_open(&e, BASE "sni off\nallow out tcp port 443 to host:bad.test flow BAD\n");
	/* an untrusted server teaches nothing */
	dns_start(&d, "bad.test", 0x8180, 1);
	dns_a(&d, NULL, "203.0.113.60", 60);
	s0 = stats(&e);
	v = answer(&e, "198.51.100.99", &d, UDP);
	s1 = stats(&e);
	report("hosts", "untrusted resolver ignored and counted",
	       v.verdict == AMLG_VERDICT_ALLOW && !learned(&e, "203.0.113.60") &&
		       s1.dns_untrusted == s0.dns_untrusted + 1,
	       "learned %d untrusted %llu", learned(&e, "203.0.113.60"),
	       (unsigned long long)s1.dns_untrusted);
	/* a compression loop: the answer's owner points at itself */
	dns_start(&d, "bad.test", 0x8180, 1);
	{
		size_t self = d.n;

		dns_put8(&d, 0xc0);
		dns_put8(&d, (uint8_t)self);
		dns_put16(&d, 1);
		dns_put16(&d, 1);
		dns_put32(&d, 60);
		dns_put16(&d, 4);
		dns_put32(&d, 0xcb00713d);
	}
	s0 = stats(&e);
	v = answer(&e, RES, &d, UDP);
	s1 = stats(&e);
	report("hosts", "compression loop: malformed-dns, nothing learned",
	       v.verdict == AMLG_VERDICT_ALLOW && !learned(&e, "203.0.113.61") &&
		       s1.dns_malformed == s0.dns_malformed + 1,
	       "malformed %llu", (unsigned long long)s1.dns_malformed);
	/* a forward pointer */
	dns_start(&d, "bad.test", 0x8180, 1);
	dns_put8(&d, 0xc0);
	dns_put8(&d, 200);
	dns_put16(&d, 1);
	dns_put16(&d, 1);
	dns_put32(&d, 60);
	dns_put16(&d, 4);
	dns_put32(&d, 0xcb00713e);
	s0 = stats(&e);
	answer(&e, RES, &d, UDP);
	s1 = stats(&e);
	report("hosts", "forward pointer: malformed-dns",
	       !learned(&e, "203.0.113.62") && s1.dns_malformed == s0.dns_malformed + 1,
	       "malformed %llu", (unsigned long long)s1.dns_malformed);
	/* every truncation of a good answer: nothing wrong learned, the packet still passes */
	dns_start(&full, "bad.test", 0x8180, 2);
	dns_cname(&full, NULL, "bad-alias.test", 60);
	dns_a(&full, "bad-alias.test", "203.0.113.63", 60);
	for (size_t n = 0; n < full.n; n++) {
		d = full;
		d.n = n;
		v = answer(&e, RES, &d, UDP);
		cuts++;
		bad += v.verdict != AMLG_VERDICT_ALLOW;
		wrong += learned(&e, "203.0.113.63");
	}
	report("hosts", "every truncation of an answer", cuts > 40 && !bad && !wrong,
	       "%u cuts, %u not passed, %u learned", cuts, bad, wrong);
	v = answer(&e, RES, &full, UDP);
	report("hosts", "the whole answer is learned", learned(&e, "203.0.113.63"), "not learned");
	env_close(&e);
}

static void test_shared_address(void)
{
	struct env e;
	struct dnsb d;
	struct offline_verdict v;

	env_open(&e, BASE "dns ttl-floor 0\ndns grace 0\nsni off\n"
			  "allow out tcp port 443 to host:a.cdn.test flow A\n"
			  "allow out tcp port 443 to host:b.cdn.test flow B\n");
	dns_start(&d, "a.cdn.test", 0x8180, 1);
	dns_a(&d, NULL, "203.0.113.70", 10);
	answer(&e, RES, &d, UDP);
	dns_start(&d, "b.cdn.test", 0x8180, 1);
	dns_a(&d, NULL, "203.0.113.70", 100);
	answer(&e, RES, &d, UDP);
	v = syn(&e, "203.0.113.70", 443);
	report("hosts", "shared: the first rule in order", allowed_by(&e, v, "A"), "rule %s",
	       flow_of(&e, v.rule));
	e.now += 20000 * NS; /* a.cdn.test expired, b.cdn.test not */
	v = syn(&e, "203.0.113.70", 443);
	report("hosts", "shared: each name expires on its own", allowed_by(&e, v, "B"), "rule %s",
	       flow_of(&e, v.rule));
	env_close(&e);
}

/* A violation to an address that was learned says for which name. */
static void test_learned_as(void)
{
	struct ev_sink sink = { 0 };
	struct env e;
	struct dnsb d;
	char name[AMLG_NAME_MAX] = "";

	env_open(&e, BASE "sni off\nallow out tcp port 443 to host:pypi.org flow PY\n");
	dns_start(&d, "pypi.org", 0x8180, 1);
	dns_a(&d, NULL, "203.0.113.80", 60);
	answer(&e, RES, &d, UDP);
	ev_sink_open(&sink, &e.o);
	syn(&e, "203.0.113.80", 22);
	ev_sink_drain(&sink);
	if (sink.n)
		event_learned_name(e.o.maps.fd[M_NAMES], sink.ev[sink.n - 1].learned_name, name,
				   sizeof(name));
	report("hosts", "violation says learned as", sink.n == 1 && !strcmp(name, "pypi.org"),
	       "events %u hash %llx name '%s'", sink.n,
	       sink.n ? (unsigned long long)sink.ev[0].learned_name : 0ull, name);
	ev_sink_close(&sink);
	env_close(&e);
}

static struct offline_verdict tls(struct env *e, const char *dst, const char *sni, size_t pad,
				  size_t cut)
{
	uint8_t ch[2048];
	size_t n = client_hello(ch, sni, pad);
	uint16_t sp = ++e->sport;
	struct pkt_spec s = { H4, dst, TCP, sp, 443 };
	struct pkt_spec a = { dst, H4, TCP, 443, sp, 0x12 };
	struct pkt_spec c = {
		H4, dst, TCP, sp, 443, 0x18, .payload = (uint16_t)(cut ? cut : n), .data = ch
	};

	run(e, &s, OUT);
	run(e, &a, IN);
	return run(e, &c, OUT);
}

static void test_sni(void)
{
	struct env e;
	struct dnsb d;
	struct offline_verdict v;
	uint8_t junk[64];

	env_open(&e, BASE "allow out tcp port 443 to host:*.example.com flow EX\n"
			  "allow out tcp port 443 to 203.0.113.90 flow STATIC\n");
	dns_start(&d, "www.example.com", 0x8180, 1);
	dns_a(&d, NULL, "203.0.113.91", 300);
	answer(&e, RES, &d, UDP);
	v = tls(&e, "203.0.113.91", "www.example.com", 0, 0);
	report("hosts", "sni matches", allowed_by(&e, v, "EX"), "verdict %u reason %u", v.verdict,
	       v.reason);
	v = tls(&e, "203.0.113.91", "api.Example.com", 0, 0);
	report("hosts", "sni matches another name of the pattern", allowed_by(&e, v, "EX"),
	       "verdict %u reason %u", v.verdict, v.reason);
	v = tls(&e, "203.0.113.91", "evil.test", 0, 0);
	report("hosts", "sni mismatch dropped",
	       v.verdict == AMLG_VERDICT_VIOLATION && v.reason == AMLG_REASON_SNI_MISMATCH &&
		       v.dropped,
	       "verdict %u reason %u", v.verdict, v.reason);
	/* a reload re-judges the flow by its addresses: the failed name check must stay */
	{
		uint16_t sp = e.sport;
		struct pkt_spec c = { H4, "203.0.113.91", TCP, sp, 443, 0x10 };
		int err = tables_install(&e.o.maps, e.c, NULL);

		v = run(&e, &c, OUT);
		report("hosts", "sni mismatch kept across a reload",
		       !err && v.verdict == AMLG_VERDICT_VIOLATION &&
			       v.reason == AMLG_REASON_SNI_MISMATCH && v.dropped,
		       "install %d verdict %u reason %u", err, v.verdict, v.reason);
	}
	v = tls(&e, "203.0.113.91", NULL, 0, 0);
	report("hosts", "no sni",
	       v.verdict == AMLG_VERDICT_VIOLATION && v.reason == AMLG_REASON_NO_SNI,
	       "verdict %u reason %u", v.verdict, v.reason);
	v = tls(&e, "203.0.113.91", "www.example.com", 1500, 400);
	report("hosts", "name past the first segment: split, not guessed",
	       v.verdict == AMLG_VERDICT_VIOLATION && v.reason == AMLG_REASON_SNI_SPLIT,
	       "verdict %u reason %u", v.verdict, v.reason);
	v = tls(&e, "203.0.113.91", "www.example.com", 300, 0);
	report("hosts", "name after other extensions", allowed_by(&e, v, "EX"),
	       "verdict %u reason %u", v.verdict, v.reason);
	/* not TLS at all on a host-only flow */
	{
		uint16_t sp = ++e.sport;
		struct pkt_spec s = { H4, "203.0.113.91", TCP, sp, 443 };
		struct pkt_spec c = { H4,  "203.0.113.91", TCP,		  sp,
				      443, 0x18,	   .payload = 64, .data = junk };

		memset(junk, 'G', sizeof(junk));
		run(&e, &s, OUT);
		v = run(&e, &c, OUT);
		report("hosts", "not a ClientHello", v.reason == AMLG_REASON_NO_SNI, "reason %u",
		       v.reason);
	}
	/* an address a prefix rule allows is not checked */
	v = tls(&e, "203.0.113.90", "evil.test", 0, 0);
	report("hosts", "prefix rules need no name", allowed_by(&e, v, "STATIC"),
	       "verdict %u reason %u", v.verdict, v.reason);
	env_close(&e);

	env_open(&e,
		 BASE "sni allow-missing\nallow out tcp port 443 to host:*.example.com flow EX\n");
	dns_start(&d, "www.example.com", 0x8180, 1);
	dns_a(&d, NULL, "203.0.113.91", 300);
	answer(&e, RES, &d, UDP);
	v = tls(&e, "203.0.113.91", NULL, 0, 0);
	report("hosts", "allow-missing: no sni passes", allowed_by(&e, v, "EX"), "reason %u",
	       v.reason);
	v = tls(&e, "203.0.113.91", "evil.test", 0, 0);
	report("hosts", "allow-missing: a wrong name still fails",
	       v.reason == AMLG_REASON_SNI_MISMATCH, "reason %u", v.reason);
	env_close(&e);
}

/*
 * ---- captures through the batch entry point: generated ones always (DNS over UDP and TCP, a
 * CNAME chain, ClientHellos matching, mismatching and without a name), and the third-party
 * ones as an extra when ../shared/data is there.
 */

static int replay(struct env *e, const char *path, const char *local, unsigned *viol,
		  unsigned *reason_seen)
{
	static struct batch_pkt in[AMLG_BATCH_MAX];
	static struct amlg_batch_res res[AMLG_BATCH_MAX];
	static uint8_t frames[64][2048];
	struct prefix_list l = { 0 };
	struct capture_pkt p;
	struct capture *c;
	struct batch b;
	struct prefix pf;
	char err[256];
	size_t n = 0;
	int r;

	*viol = 0;
	if (capture_open(path, &c, err, sizeof(err))) {
		printf("  %s\n", err);
		return -ENOENT;
	}
	prefix_parse_loose(local, &pf);
	prefix_list_add(&l, &pf);
	offline_set_local(&e->o, &l);
	prefix_list_free(&l);
	r = batch_init(&b, &e->o);
	if (r) {
		capture_close(c);
		return r;
	}
	while ((r = capture_next(c, &p)) == 1 && n < 64) {
		in[n].cap = p.cap < 2048 ? p.cap : 2048;
		memcpy(frames[n], p.frame, in[n].cap);
		in[n].data = frames[n];
		in[n].len = p.len;
		in[n].ts_ns = p.ts_ns;
		in[n].dir = AMLG_DIR_AUTO;
		n++;
	}
	capture_close(c);
	r = n ? batch_run(&b, in, n, res) : -ENODATA;
	for (size_t i = 0; i < n && !r; i++) {
		if (res[i].verdict == AMLG_VERDICT_VIOLATION && !res[i].foreign) {
			(*viol)++;
			if (reason_seen)
				*reason_seen = res[i].reason;
		}
	}
	batch_free(&b);
	return r;
}

/* A capture being written (the violation sink's writer: Ethernet, nanosecond stamps), 1 ms
 * between packets. */
struct gcap {
	struct sink_pcap sp;
	uint64_t ns;
	uint16_t sport;
	char path[96];
};

static char gen_dir[] = "/tmp/amlg-hosts.XXXXXX";

static void gcap_open(struct gcap *g, const char *name)
{
	memset(g, 0, sizeof(*g));
	snprintf(g->path, sizeof(g->path), "%s/%s", gen_dir, name);
	if (sink_pcap_open(&g->sp, g->path))
		exit(1);
	g->ns = 1700000000ull * 1000000000ull;
	g->sport = 30000;
}

static void gcap_pkt(struct gcap *g, const struct pkt_spec *s)
{
	uint8_t f[PKT_MAX];
	size_t n = pkt_build(s, f, sizeof(f));

	if (!n || sink_pcap_write_raw(&g->sp, g->ns, f, (uint32_t)n, (uint32_t)n)) {
		printf("cannot build or write a packet %s -> %s\n", s->src, s->dst);
		exit(1);
	}
	g->ns += NS;
}

static void gcap_close(struct gcap *g)
{
	sink_pcap_close(&g->sp);
}

/* The three packets of a TCP handshake from H4 to dst:port; returns the source port. */
static uint16_t gcap_handshake(struct gcap *g, const char *dst, uint16_t port)
{
	uint16_t sp = ++g->sport;
	struct pkt_spec syn = { H4, dst, TCP, sp, port, 0x02 };
	struct pkt_spec synack = { dst, H4, TCP, port, sp, 0x12 };
	struct pkt_spec ack = { H4, dst, TCP, sp, port, 0x10 };

	gcap_pkt(g, &syn);
	gcap_pkt(g, &synack);
	gcap_pkt(g, &ack);
	return sp;
}

/* A query for name and the answer d from the resolver, over UDP or TCP (length prefixed). */
static void gcap_dns(struct gcap *g, const char *name, const struct dnsb *d, uint8_t proto)
{
	uint8_t qb[512], ab[1402];
	struct dnsb q;
	uint16_t sp;

	dns_start(&q, name, 0x0100, 0);
	if (proto == UDP) {
		struct pkt_spec qs = { H4,	   RES, UDP,
				       ++g->sport, 53,	.payload = (uint16_t)q.n,
				       .data = q.b };
		struct pkt_spec as = { RES,	    H4,	      UDP,
				       53,	    g->sport, .payload = (uint16_t)d->n,
				       .data = d->b };

		gcap_pkt(g, &qs);
		gcap_pkt(g, &as);
		return;
	}
	sp = gcap_handshake(g, RES, 53);
	qb[0] = (uint8_t)(q.n >> 8);
	qb[1] = (uint8_t)q.n;
	memcpy(qb + 2, q.b, q.n);
	ab[0] = (uint8_t)(d->n >> 8);
	ab[1] = (uint8_t)d->n;
	memcpy(ab + 2, d->b, d->n);
	{
		struct pkt_spec qs = {
			H4, RES, TCP, sp, 53, 0x18, .payload = (uint16_t)(q.n + 2), .data = qb
		};
		struct pkt_spec as = {
			RES, H4, TCP, 53, sp, 0x18, .payload = (uint16_t)(d->n + 2), .data = ab
		};
		struct pkt_spec fin = { H4, RES, TCP, sp, 53, 0x11 };

		gcap_pkt(g, &qs);
		gcap_pkt(g, &as);
		gcap_pkt(g, &fin);
	}
}

/* A handshake to dst:port and the first data segment (a ClientHello for sni when tls). */
static void gcap_connect(struct gcap *g, const char *dst, uint16_t port, bool tls, const char *sni)
{
	uint8_t ch[2048];
	size_t n = tls ? client_hello(ch, sni, 0) : 0;
	uint16_t sp = gcap_handshake(g, dst, port);
	struct pkt_spec data = { H4, dst, TCP, sp, port, 0x18, .payload = (uint16_t)n, .data = ch };

	if (!tls) {
		data.payload = 100;
		data.data = NULL;
	}
	gcap_pkt(g, &data);
}

static void test_generated_captures(void)
{
	struct env e;
	struct dnsb d;
	struct gcap g;
	unsigned viol = 0, reason = 0;
	int r;

	if (!mkdtemp(gen_dir)) {
		report("hosts", "generated captures", false, "mkdtemp: %s", strerror(errno));
		return;
	}
	/* DNS: answers over UDP (two addresses) and TCP, and a CNAME chain; then connections */
	env_open(&e, BASE "sni off\n"
			  "allow out tcp port 80 to host:www.udp.example flow UDPNAME\n"
			  "allow out tcp port 80 to host:www.tcp.example flow TCPNAME\n"
			  "allow out tcp port 443 to host:www.chain.example flow CHAIN\n");
	gcap_open(&g, "dns_udp.pcap");
	dns_start(&d, "www.udp.example", 0x8180, 2);
	dns_a(&d, NULL, "203.0.113.11", 300);
	dns_a(&d, NULL, "203.0.113.12", 300);
	gcap_dns(&g, "www.udp.example", &d, UDP);
	gcap_connect(&g, "203.0.113.11", 80, false, NULL);
	gcap_connect(&g, "203.0.113.12", 80, false, NULL);
	gcap_close(&g);
	r = replay(&e, g.path, "192.0.2.0/24", &viol, NULL);
	report("hosts", "generated capture: DNS over UDP",
	       !r && learned(&e, "203.0.113.11") && learned(&e, "203.0.113.12") && !viol,
	       "replay %d learned %d %d viol %u", r, learned(&e, "203.0.113.11"),
	       learned(&e, "203.0.113.12"), viol);
	gcap_open(&g, "dns_tcp.pcap");
	dns_start(&d, "www.tcp.example", 0x8180, 1);
	dns_a(&d, NULL, "203.0.113.13", 300);
	gcap_dns(&g, "www.tcp.example", &d, TCP);
	gcap_connect(&g, "203.0.113.13", 80, false, NULL);
	gcap_close(&g);
	r = replay(&e, g.path, "192.0.2.0/24", &viol, NULL);
	report("hosts", "generated capture: DNS over TCP",
	       !r && learned(&e, "203.0.113.13") && !viol, "replay %d learned %d viol %u", r,
	       learned(&e, "203.0.113.13"), viol);
	gcap_open(&g, "dns_cname_chain.pcap");
	dns_start(&d, "www.chain.example", 0x8180, 3);
	dns_cname(&d, NULL, "edge.chain.example", 300);
	dns_cname(&d, "edge.chain.example", "e1.cdn.example", 300);
	dns_a(&d, "e1.cdn.example", "203.0.113.14", 60);
	gcap_dns(&g, "www.chain.example", &d, UDP);
	gcap_connect(&g, "203.0.113.14", 443, false, NULL);
	gcap_close(&g);
	r = replay(&e, g.path, "192.0.2.0/24", &viol, NULL);
	report("hosts", "generated capture: a CNAME chain",
	       !r && learned(&e, "203.0.113.14") && !viol, "replay %d learned %d viol %u", r,
	       learned(&e, "203.0.113.14"), viol);
	/* an address no answer gave: the same connection is a violation */
	gcap_open(&g, "unlearned.pcap");
	gcap_connect(&g, "203.0.113.15", 80, false, NULL);
	gcap_close(&g);
	r = replay(&e, g.path, "192.0.2.0/24", &viol, &reason);
	report("hosts", "generated capture: an address no answer gave",
	       !r && viol && !learned(&e, "203.0.113.15"), "replay %d viol %u", r, viol);
	env_close(&e);

	/* ClientHellos after the answer, in the same capture */
	env_open(&e, BASE "allow out tcp port 443 to host:tls.match.example flow MATCH\n"
			  "allow out tcp port 443 to host:*.example.com flow EX\n"
			  "allow out tcp port 443 to host:nosni.example flow NOSNI\n");
	gcap_open(&g, "tls_sni_match.pcap");
	dns_start(&d, "tls.match.example", 0x8180, 1);
	dns_a(&d, NULL, "203.0.113.21", 300);
	gcap_dns(&g, "tls.match.example", &d, UDP);
	gcap_connect(&g, "203.0.113.21", 443, true, "tls.match.example");
	gcap_close(&g);
	r = replay(&e, g.path, "192.0.2.0/24", &viol, NULL);
	report("hosts", "generated capture: SNI matches", !r && !viol, "replay %d, %u violations",
	       r, viol);
	gcap_open(&g, "tls_sni_other.pcap");
	dns_start(&d, "www.example.com", 0x8180, 1);
	dns_a(&d, NULL, "203.0.113.22", 300);
	gcap_dns(&g, "www.example.com", &d, UDP);
	gcap_connect(&g, "203.0.113.22", 443, true, "other.test");
	gcap_close(&g);
	reason = 0;
	r = replay(&e, g.path, "192.0.2.0/24", &viol, &reason);
	report("hosts", "generated capture: SNI of another name to a learned address",
	       !r && viol && reason == AMLG_REASON_SNI_MISMATCH,
	       "replay %d, %u violations, reason %u", r, viol, reason);
	gcap_open(&g, "tls_no_sni.pcap");
	dns_start(&d, "nosni.example", 0x8180, 1);
	dns_a(&d, NULL, "203.0.113.23", 300);
	gcap_dns(&g, "nosni.example", &d, UDP);
	gcap_connect(&g, "203.0.113.23", 443, true, NULL);
	gcap_close(&g);
	reason = 0;
	r = replay(&e, g.path, "192.0.2.0/24", &viol, &reason);
	report("hosts", "generated capture: ClientHello without SNI",
	       !r && viol && reason == AMLG_REASON_NO_SNI, "replay %d, %u violations, reason %u", r,
	       viol, reason);
	env_close(&e);

	{
		static const char *const files[] = { "dns_udp.pcap",	     "dns_tcp.pcap",
						     "dns_cname_chain.pcap", "unlearned.pcap",
						     "tls_sni_match.pcap",   "tls_sni_other.pcap",
						     "tls_no_sni.pcap" };
		char path[128];

		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", gen_dir, files[i]);
			unlink(path);
		}
		rmdir(gen_dir);
	}
}

static const char *shared_pcap(const char *file)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/data/pcaps/%s", AMLG_SHARED_DIR, file);
	return path;
}

/* The time of a capture's first packet: answers injected before a replay must not be stale. */
static uint64_t first_ts(const char *file)
{
	struct capture_pkt p;
	struct capture *c;
	char err[256];
	uint64_t ts = 0;

	if (capture_open(shared_pcap(file), &c, err, sizeof(err)) == 0) {
		if (capture_next(c, &p) == 1)
			ts = p.ts_ns;
		capture_close(c);
	}
	return ts - 1000 * NS;
}

/* The third-party captures (an extra: the generated ones above cover the same cases). */
static void test_third_party_captures(void)
{
	struct env e;
	struct dnsb d;
	unsigned viol = 0, reason = 0;

	if (access(AMLG_SHARED_DIR "/data/pcaps", F_OK)) {
		printf("[hosts/third-party captures] not run: no %s/data/pcaps (an extra)\n",
		       AMLG_SHARED_DIR);
		return;
	}
	/* www.tcpdump.org's answer over UDP, then over TCP; the resolver is the capture's */
	env_open(&e,
		 "platform off\nresolver 209.87.249.18\nsni off\n"
		 "allow out udp port 53 to any flow DNS\nallow out tcp port 53 to any flow DNST\n"
		 "allow out tcp port 80 to host:www.tcpdump.org flow TD\n");
	replay(&e, shared_pcap("dns_udp_a_www.tcpdump.org.pcap"), "192.168.1.0/24", &viol, NULL);
	report("hosts", "capture: DNS over UDP",
	       learned(&e, "192.139.46.66") && learned(&e, "198.199.88.104") && !viol,
	       "learned %d %d viol %u", learned(&e, "192.139.46.66"), learned(&e, "198.199.88.104"),
	       viol);
	env_close(&e);
	env_open(&e,
		 "platform off\nresolver 209.87.249.18\nsni off\n"
		 "allow out udp port 53 to any flow DNS\nallow out tcp port 53 to any flow DNST\n"
		 "allow out tcp port 80 to host:www.tcpdump.org flow TD\n");
	replay(&e, shared_pcap("dns_tcp_a_www.tcpdump.org.pcap"), "192.168.1.0/24", &viol, NULL);
	report("hosts", "capture: DNS over TCP", learned(&e, "192.139.46.66") && !viol, "viol %u",
	       viol);
	env_close(&e);
	/* www.cmu.edu: CNAME -> CNAME -> A */
	env_open(&e, "platform off\nresolver 222.195.43.124\nsni off\n"
		     "allow out udp port 53 to any flow DNS\n"
		     "allow out tcp port 443 to host:www.cmu.edu flow CMU\n");
	replay(&e, shared_pcap("dns_cname_chain_www.cmu.edu.pcap"), "55.247.223.174/32", &viol,
	       NULL);
	report("hosts", "capture: a CNAME chain", learned(&e, "128.2.10.163") && !viol,
	       "learned %d", learned(&e, "128.2.10.163"));
	env_close(&e);

	/* ClientHellos: google.de learned, then the real handshake replayed */
	env_open(&e, BASE "allow out tcp port 443 to host:google.de flow G\n");
	e.now = first_ts("tls12_clienthello_sni_google.de_chrome34.pcap");
	dns_start(&d, "google.de", 0x8180, 1);
	dns_a(&d, NULL, "74.125.239.152", 300);
	answer(&e, RES, &d, UDP);
	replay(&e, shared_pcap("tls12_clienthello_sni_google.de_chrome34.pcap"), "192.168.0.0/16",
	       &viol, NULL);
	report("hosts", "capture: SNI google.de matches", !viol, "%u violations", viol);
	env_close(&e);
	env_open(&e, BASE "allow out tcp port 443 to host:*.example.com flow EX\n");
	e.now = first_ts("tls12_clienthello_sni_google.de_chrome34.pcap");
	dns_start(&d, "www.example.com", 0x8180, 1);
	dns_a(&d, NULL, "74.125.239.152", 300);
	answer(&e, RES, &d, UDP);
	replay(&e, shared_pcap("tls12_clienthello_sni_google.de_chrome34.pcap"), "192.168.0.0/16",
	       &viol, &reason);
	report("hosts",
	       "capture: SNI google.de to a shared "
	       "address of another name",
	       viol && reason == AMLG_REASON_SNI_MISMATCH, "%u violations, reason %u", viol,
	       reason);
	env_close(&e);
	env_open(&e, BASE "allow out tcp port 443 to host:google.com flow G\n");
	e.now = first_ts("tls13_hrr_no_sni_google.pcap");
	dns_start(&d, "google.com", 0x8180, 1);
	dns_a(&d, NULL, "64.233.185.139", 300);
	answer(&e, RES, &d, UDP);
	replay(&e, shared_pcap("tls13_hrr_no_sni_google.pcap"), "10.0.0.0/8", &viol, &reason);
	report("hosts", "capture: ClientHello without SNI", viol && reason == AMLG_REASON_NO_SNI,
	       "%u violations, reason %u", viol, reason);
	env_close(&e);
}

int main(void)
{
	harness_start();
	test_exact_and_ttl();
	test_patterns();
	test_cname_chain_and_many();
	test_owner_pointers();
	test_bad_answers();
	test_shared_address();
	test_learned_as();
	test_sni();
	test_generated_captures();
	test_third_party_captures();
	shared_instances_close();
	return results_end();
}
