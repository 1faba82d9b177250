// SPDX-License-Identifier: GPL-2.0-only
/*
 * Every flow ID of the catalogue (policies/catalogue.tsv) through the real datapath: each
 * shipped policy is compiled against service-tag files in Microsoft's format -- the ones the
 * build generates (tests/tools/gentags.py), and Microsoft's real files as extra cases when
 * they are there -- for two regions in each cloud, with its switches on and off and with
 * every value of batch and publicip, and installed in an offline datapath; then,
 * for every rule with a flow ID and for each address family it has, packets generated from the
 * compiled policy go through BPF_PROG_TEST_RUN in enforce mode:
 *
 *   inside     an address inside the resolved tag, on the rule's port: allowed, by this rule
 *   port       the same address on a port no rule allows there: a "port" violation
 *   outside    an address just outside the tag that no rule of the direction covers (checked
 *              in the compiled LPM table): a "no-rule" violation
 *   reverse    the same connection opened from the other side: a violation
 *
 * The addresses are chosen with a reference of the datapath's precedence (the lowest rule that
 * covers address, protocol and port wins), so that "inside" really is this rule's packet.
 * Host names are checked the way they are enforced: an answer from the trusted resolver teaches
 * an address for a name the pattern matches, and a connection to it must be allowed by the rule
 * the name opens.  Every catalogue ID that is a packet flow must get its "inside" check.
 *
 * Then named cases: the traffic of a current compute instance with the default variables
 * (Batch simplified 443, AzureMachineLearning UDP 5831 and TCP 8787/18881, AzureActiveDirectory
 * 80), its near misses (another region's Batch, UDP 5832, UDP 5831 to Storage, the retired
 * inbound 29876), the same under batch=classic and both, and publicip=off without any inbound
 * rule.  Needs root (exit 77 without).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <linux/pkt_cls.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compile/compile.h"
#include "dnsgen.h"
#include "base/hostpat.h"
#include "kernel/loader.h"
#include "base/log.h"
#include "base/names.h"
#include "harness.h"
#include "offline/pktgen.h"
#include "policy/policy.h"
#include "base/prefix_set.h"
#include "kernel/tables.h"
#include "compile/tags.h"

#define GENDIR AMLG_GEN_TAGS_DIR "/"
#define REALDIR AMLG_SHARED_DIR "/data/servicetags/"
#define POLICIES AMLG_SOURCE_DIR "/policies/"
#define CATALOGUE POLICIES "catalogue.tsv"
#define NS 1000000ull

/* The protected host: inside the example site's VNet. */
static const uint8_t host4[16] = { 10, 0, 0, 4 };
static const uint8_t host6[16] = { 0xfd, 0, 0, 0x0a, [15] = 4 };

/* The generated files first (always there after a build), then Microsoft's (extra cases). */
static const struct {
	const char *cloud, *dir, *file, *regions[2];
	bool real; /* Microsoft's: the base settings only, and the named cases */
} clouds[] = {
	{ "public", GENDIR, "ServiceTags_Public_20261130.json", { "EastUS2", "WestEurope" } },
	{ "usgov",
	  GENDIR,
	  "ServiceTags_AzureGovernment_20261130.json",
	  { "USGovVirginia", "USGovArizona" } },
	{ "china", GENDIR, "ServiceTags_China_20261130.json", { "ChinaEast2", "ChinaNorth3" } },
	{ "public", REALDIR, "ServiceTags_Public_20251020.json", { "EastUS2", "WestEurope" }, true },
	{ "usgov",
	  REALDIR,
	  "ServiceTags_AzureGovernment_20251020.json",
	  { "USGovVirginia", "USGovArizona" },
	  true },
	{ "china",
	  REALDIR,
	  "ServiceTags_China_20251020.json",
	  { "ChinaEast2", "ChinaNorth3" },
	  true },
};

static const struct {
	const char *file;
	const char *switches[7]; /* the on/off variables the policy defines */
	bool compute; /* defines batch and publicip */
} scenarios[] = {
	{ "compute-instance.policy",
	  { "ssh", "monitor", "python", "r", "vscode", "support" },
	  true },
	{ "compute-cluster.policy", { "ssh", "monitor", "python", "r", "support" }, true },
	{ "studio-client.policy", { NULL }, false },
	{ "aks-inference.policy", { NULL }, false },
	{ "vm-attached.policy", { NULL }, false },
};

/* The settings each policy runs under: its switches off and on, and for the compute policies
 * each Batch mode and no public IP (with every switch on, SSH included). */
static const struct {
	const char *name;
	bool on, compute_only;
	struct var_def vars[2];
} settings[] = {
	{ "switches-off", false, false, { { NULL } } },
	{ "switches-on", true, false, { { NULL } } },
	{ "batch=classic", false, true, { { "batch", "classic" } } },
	{ "batch=both", false, true, { { "batch", "both" } } },
	{ "publicip=off switches-on", true, true, { { "publicip", "off" } } },
};

/* ---- the catalogue: which IDs exist, which are packet flows, which are retired */

static struct catalogue_row {
	char id[AMLG_FLOW_MAX];
	bool retired, packet; /* packet: a direction, and some setting makes it a rule */
} catalogue[96];
static size_t ncatalogue;

static const struct catalogue_row *catalogue_find(const char *id)
{
	for (size_t i = 0; i < ncatalogue; i++)
		if (!strcmp(catalogue[i].id, id))
			return &catalogue[i];
	return NULL;
}

/* id status retired dir proto ports endpoints scenarios clouds when source source_date note */
static int catalogue_load(void)
{
	FILE *f = fopen(CATALOGUE, "r");
	char line[2048];
	bool header = false;
	unsigned n = 0;

	if (!f) {
		printf("%s: %s\n", CATALOGUE, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *cell[13], *save = NULL, *t = line;
		size_t k = 0;

		n++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		line[strcspn(line, "\n")] = '\0';
		while (k < 13 && (cell[k] = strtok_r(t, "\t", &save))) {
			t = NULL;
			k++;
		}
		if (!header) {
			header = true;
			continue;
		}
		if (k != 13 || ncatalogue == sizeof(catalogue) / sizeof(catalogue[0])) {
			printf("%s:%u: %zu columns, expected 13\n", CATALOGUE, n, k);
			fclose(f);
			return -1;
		}
		snprintf(catalogue[ncatalogue].id, AMLG_FLOW_MAX, "%s", cell[0]);
		catalogue[ncatalogue].retired = !strcmp(cell[1], "retired");
		catalogue[ncatalogue].packet = strcmp(cell[3], "-") && strcmp(cell[9], "never");
		ncatalogue++;
	}
	fclose(f);
	printf("%zu flow IDs in %s\n", ncatalogue, CATALOGUE);
	return ncatalogue ? 0 : -1;
}

static unsigned passes, failures, skips;

/* Per flow ID: how often each kind of check ran and passed, for the summary. */
enum { K_INSIDE, K_PORT, K_OUTSIDE, K_REVERSE, K_KINDS };
static const char *const kind_names[K_KINDS] = { "inside", "port", "outside", "reverse" };
static struct {
	char flow[AMLG_FLOW_MAX];
	unsigned n[K_KINDS];
	bool hosts;
} tally[64];
static size_t ntally;

static size_t tally_of(const char *flow)
{
	size_t i;

	for (i = 0; i < ntally; i++)
		if (!strcmp(tally[i].flow, flow))
			return i;
	if (ntally == sizeof(tally) / sizeof(tally[0]))
		return 0;
	snprintf(tally[ntally].flow, AMLG_FLOW_MAX, "%s", flow);
	return ntally++;
}

static unsigned *counter(const char *flow, int kind)
{
	return &tally[tally_of(flow)].n[kind];
}
static uint64_t now = 1000000000000ull;
static uint16_t next_sport = 20000;

/* ---- a reference of the datapath's precedence, over the compiled rules */

static bool port_in(const struct crule *cr, uint16_t port)
{
	if (!cr->nports)
		return true;
	for (size_t i = 0; i < cr->nports; i++)
		if (port >= cr->ports[i].lo && port <= cr->ports[i].hi)
			return true;
	return false;
}

/* The rule the datapath must pick for a first packet, or NULL for a violation. */
static const struct crule *winner(const struct compiled *c, unsigned dir, int family,
				  const uint8_t *raddr, const uint8_t *laddr, uint8_t proto,
				  uint16_t dport)
{
	for (unsigned bit = 0; bit < c->nrules_dir[dir]; bit++) {
		const struct crule *cr = compiled_rule(c, AMLG_RULE_ID(dir, bit));

		if (!prefix_list_has_addr(&cr->remote, family, raddr))
			continue;
		if (cr->has_local && !prefix_list_has_addr(&cr->local, family, laddr))
			continue;
		if (cr->proto != AMLG_PROTO_ANY && cr->proto != proto)
			continue;
		if ((proto == AMLG_PROTO_TCP || proto == AMLG_PROTO_UDP) && !port_in(cr, dport))
			continue;
		return cr;
	}
	return NULL;
}

/* The class of the longest LPM entry of that kind covering addr (0: no rule at all). */
static uint32_t lpm_class(const struct compiled *c, int family, uint8_t kind, const uint8_t *addr)
{
	const struct clpm *v = family == 4 ? c->lpm4 : c->lpm6;
	size_t n = family == 4 ? c->nlpm4 : c->nlpm6;
	int best = -1;
	uint32_t cls = AMLG_CLASS_EMPTY;

	for (size_t i = 0; i < n; i++) {
		if (v[i].kind == kind && v[i].pfx.len > best &&
		    prefix_has_addr(&v[i].pfx, family, addr)) {
			best = v[i].pfx.len;
			cls = v[i].cls;
		}
	}
	return cls;
}

/* addr + delta (+1 or -1) over the family's width; false when it wraps. */
static bool step_addr(uint8_t *addr, int family, int delta)
{
	for (int i = family == 4 ? 3 : 15; i >= 0; i--) {
		if (delta > 0 && addr[i]++ != 0xff)
			return true;
		if (delta < 0 && addr[i]-- != 0)
			return true;
	}
	return false;
}

static void last_addr(const struct prefix *p, uint8_t *out)
{
	unsigned bits = prefix_bits(p->family);

	memcpy(out, p->addr, 16);
	for (unsigned b = p->len; b < bits; b++)
		out[b / 8] |= (uint8_t)(0x80 >> (b % 8));
}

/* ---- packets */

struct probe {
	unsigned dir;
	int family;
	uint8_t raddr[16], laddr[16];
	uint8_t proto;
	uint16_t dport;
};

static int run(struct offline *o, const struct probe *p, struct offline_verdict *v)
{
	char src[48], dst[48];
	struct pkt_spec s = { .proto = p->proto == AMLG_PROTO_UDP ? IPPROTO_UDP : IPPROTO_TCP,
			      .sport = next_sport++,
			      .dport = p->dport };

	if (next_sport < 20000)
		next_sport = 20000;
	/* out: the protected side sends; in: the remote side does. */
	addr_str(p->family, p->dir == AMLG_DIR_OUT ? p->laddr : p->raddr, src, sizeof(src));
	addr_str(p->family, p->dir == AMLG_DIR_OUT ? p->raddr : p->laddr, dst, sizeof(dst));
	s.src = src;
	s.dst = dst;
	now += NS;
	return run_packet(o, &s, p->dir, now, v);
}

static void probe_str(const struct probe *p, char *buf, size_t sz)
{
	char a[48];

	snprintf(buf, sz, "%s %s %s%s%s:%u", dir_name((int)p->dir),
		 p->proto == AMLG_PROTO_UDP ? "udp" : "tcp", p->family == 6 ? "[" : "",
		 addr_str(p->family, p->raddr, a, sizeof(a)), p->family == 6 ? "]" : "", p->dport);
}

/* One checked packet: prints a FAIL line, returns true when it passed. */
static bool check(struct offline *o, const char *what, const struct probe *p, bool allow, int rule,
		  int reason, char *log, size_t lsz)
{
	struct offline_verdict v;
	char desc[96];
	bool ok;

	probe_str(p, desc, sizeof(desc));
	if (run(o, p, &v)) {
		snprintf(log, lsz, "%s %s: cannot run the packet", what, desc);
		return false;
	}
	if (allow)
		ok = v.verdict == AMLG_VERDICT_ALLOW && v.match == AMLG_MATCH_RULE &&
		     v.rule == rule && v.retval == TC_ACT_OK;
	else
		ok = v.verdict == AMLG_VERDICT_VIOLATION && v.retval == TC_ACT_SHOT &&
		     (reason < 0 || v.reason == reason);
	if (!ok)
		snprintf(log, lsz, "%s %s: expected %s%s%s, got %s %s rule %u", what, desc,
			 allow ? "allow" : "violation", !allow && reason >= 0 ? " " : "",
			 !allow && reason >= 0 ? reason_str((unsigned)reason) : "",
			 v.verdict == AMLG_VERDICT_ALLOW ? "allow" : "violation",
			 reason_str(v.reason), v.rule);
	return ok;
}

/* ---- one rule, one family */

static bool pick_port(const struct compiled *c, const struct crule *cr, const struct probe *in,
		      uint16_t *port);

/*
 * An address inside the rule's remote prefixes where this rule is the one that decides;
 * preferably one where some other port is refused, so that the port check has something to
 * check (a storage private endpoint inside the VNet is allowed on every port by COMPUTE-VNET).
 */
static bool pick_inside(const struct compiled *c, const struct crule *cr, struct probe *p)
{
	bool found = false;
	uint8_t first[16];
	uint16_t port;

	for (size_t i = 0; i < cr->remote.n; i++) {
		const struct prefix *x = &cr->remote.v[i];
		uint8_t cand[3][16];

		if (x->family != p->family)
			continue;
		memcpy(cand[0], x->addr, 16);
		step_addr(cand[0], p->family, +1);
		memcpy(cand[1], x->addr, 16);
		last_addr(x, cand[2]);
		for (int k = 0; k < 3; k++) {
			if (!prefix_has_addr(x, p->family, cand[k]) ||
			    winner(c, cr->dir, p->family, cand[k], p->laddr, p->proto, p->dport) !=
				    cr)
				continue;
			memcpy(p->raddr, cand[k], 16);
			if (!cr->nports || pick_port(c, cr, p, &port))
				return true;
			if (!found)
				memcpy(first, cand[k], 16);
			found = true;
		}
	}
	if (found)
		memcpy(p->raddr, first, 16);
	return found;
}

/* A port on which no rule of the direction allows that address and protocol. */
static bool pick_port(const struct compiled *c, const struct crule *cr, const struct probe *in,
		      uint16_t *port)
{
	for (size_t i = 0; i <= cr->nports; i++) {
		uint32_t cands[2] = { i < cr->nports ? cr->ports[i].lo - 1u : 1,
				      i < cr->nports ? cr->ports[i].hi + 1u : 65535 };

		for (int k = 0; k < 2; k++) {
			if (cands[k] < 1 || cands[k] > 65535 ||
			    winner(c, cr->dir, in->family, in->raddr, in->laddr, in->proto,
				   (uint16_t)cands[k]))
				continue;
			*port = (uint16_t)cands[k];
			return true;
		}
	}
	return false;
}

/* Just outside one of the rule's prefixes, and covered by no rule of the direction at all. */
static bool pick_outside(const struct compiled *c, const struct crule *cr, struct probe *p)
{
	uint8_t kind = AMLG_LPM_KIND(cr->dir, AMLG_SIDE_REMOTE);

	for (size_t i = 0; i < cr->remote.n; i++) {
		const struct prefix *x = &cr->remote.v[i];
		uint8_t after[16], before[16];

		if (x->family != p->family)
			continue;
		last_addr(x, after);
		memcpy(before, x->addr, 16);
		if (step_addr(after, p->family, +1) &&
		    lpm_class(c, p->family, kind, after) == AMLG_CLASS_EMPTY) {
			memcpy(p->raddr, after, 16);
			return true;
		}
		if (step_addr(before, p->family, -1) &&
		    lpm_class(c, p->family, kind, before) == AMLG_CLASS_EMPTY) {
			memcpy(p->raddr, before, 16);
			return true;
		}
	}
	return false;
}

struct rule_result {
	char log[1024];
	size_t len;
	bool failed;
};

static void note(struct rule_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct rule_result *r, const char *fmt, ...)
{
	va_list ap;

	if (r->len >= sizeof(r->log))
		return;
	va_start(ap, fmt);
	r->len += (size_t)vsnprintf(r->log + r->len, sizeof(r->log) - r->len, fmt, ap);
	va_end(ap);
}

static void failed(struct rule_result *r, const char *msg)
{
	note(r, "\n      FAIL %s", msg);
	r->failed = true;
}

static void check_family(struct offline *o, const struct compiled *c, const struct crule *cr,
			 int family, struct rule_result *res)
{
	struct probe in = { .dir = cr->dir, .family = family }, p;
	int id = AMLG_RULE_ID(cr->dir, cr->bit);
	char msg[512], a[48];
	const struct crule *w;

	memcpy(in.laddr, family == 4 ? host4 : host6, 16);
	if (cr->has_local)
		memcpy(in.laddr, cr->local.v[0].addr, 16);
	in.proto = cr->proto == AMLG_PROTO_UDP ? AMLG_PROTO_UDP : AMLG_PROTO_TCP;
	in.dport = cr->nports ? cr->ports[0].lo : 443;
	if (!pick_inside(c, cr, &in)) {
		note(res, " v%d: every address is decided by an earlier rule (skipped)", family);
		return;
	}
	note(res, " v%d %s:", family, addr_str(family, in.raddr, a, sizeof(a)));
	if (!check(o, "inside", &in, true, id, -1, msg, sizeof(msg))) {
		failed(res, msg);
	} else {
		note(res, " inside allowed,");
		(*counter(cr->flow, K_INSIDE))++;
	}

	p = in;
	if (!cr->nports) {
		note(res, " any port,");
	} else if (pick_port(c, cr, &in, &p.dport)) {
		if (!check(o, "port", &p, false, -1, AMLG_REASON_PORT, msg, sizeof(msg))) {
			failed(res, msg);
		} else {
			note(res, " port %u violation,", p.dport);
			(*counter(cr->flow, K_PORT))++;
		}
	} else {
		note(res, " every port allowed there,");
	}

	p = in;
	if (pick_outside(c, cr, &p)) {
		if (!check(o, "outside", &p, false, -1, AMLG_REASON_NO_RULE, msg, sizeof(msg))) {
			failed(res, msg);
		} else {
			note(res, " %s violation,", addr_str(family, p.raddr, a, sizeof(a)));
			(*counter(cr->flow, K_OUTSIDE))++;
		}
	} else {
		note(res, " no uncovered neighbour,");
	}

	/* The same connection opened by the other side. */
	p = in;
	p.dir = cr->dir ^ 1;
	w = winner(c, p.dir, family, p.raddr, p.laddr, p.proto, p.dport);
	if (w) {
		note(res, " reverse allowed by %s", w->flow[0] ? w->flow : w->origin);
	} else if (!check(o, "reverse", &p, false, -1, -1, msg, sizeof(msg))) {
		failed(res, msg);
	} else {
		note(res, " reverse violation");
		(*counter(cr->flow, K_REVERSE))++;
	}
}

/* ---- host rules: a DNS answer from the trusted resolver, then a connection */

static unsigned next_host_addr = 1;

/* A name the pattern matches: itself, or a made-up label in front of the suffix. */
static void name_for(const char *pattern, char *buf, size_t sz)
{
	if (!strncmp(pattern, "*.", 2))
		snprintf(buf, sz, "probe%s", pattern + 1);
	else if (pattern[0] == '*')
		snprintf(buf, sz, "probe%s", pattern + 1);
	else
		snprintf(buf, sz, "%s", pattern);
}

/* The first rule (in order) that a learned name opens for this connection. */
static const struct crule *host_winner(const struct compiled *c, unsigned dir, const char *name,
				       uint8_t proto, uint16_t dport)
{
	for (unsigned bit = 0; bit < c->nrules_dir[dir]; bit++) {
		const struct crule *cr = compiled_rule(c, AMLG_RULE_ID(dir, bit));

		if (cr->proto != AMLG_PROTO_ANY && cr->proto != proto)
			continue;
		if (!port_in(cr, dport))
			continue;
		for (size_t i = 0; i < cr->nres; i++)
			if (cr->res[i].kind == EP_HOST && cr->res[i].side == AMLG_SIDE_REMOTE &&
			    hostpat_match(cr->res[i].text + strlen("host:"), name))
				return cr;
	}
	return NULL;
}

/*
 * Every host name of the rule: the answer of the trusted resolver teaches an address (a fresh
 * one from 100.64.0.0/10 that no prefix rule covers), and a connection to it is allowed by the
 * rule the name opens first -- this one unless an earlier rule names it too.
 */
/*
 * The trusted resolver answers name with a fresh address (from 100.64.0.0/10, never reused: an
 * address learned earlier would bring its rules too) that no prefix rule covers for p's
 * protocol and port; p->raddr and p->laddr are set for a connection to it.
 */
static void learn(struct offline *o, const struct compiled *c, const char *name, struct probe *p)
{
	struct probe q = { .dir = AMLG_DIR_OUT, .family = 4, .proto = AMLG_PROTO_UDP, .dport = 53 };
	struct offline_verdict v;
	uint8_t frame[PKT_MAX];
	struct dnsb d;
	char addr[32];
	size_t len;

	p->family = 4;
	do {
		snprintf(addr, sizeof(addr), "100.%u.%u.%u", 64 + (next_host_addr >> 16) % 64,
			 (next_host_addr >> 8) & 255, next_host_addr & 255);
		next_host_addr++;
		inet_pton(AF_INET, addr, p->raddr);
	} while (winner(c, p->dir, 4, p->raddr, host4, p->proto, p->dport));
	memcpy(p->laddr, host4, 16);
	/* the query to Azure DNS (a platform rule allows it), then its answer */
	inet_pton(AF_INET, "168.63.129.16", q.raddr);
	memcpy(q.laddr, host4, 16);
	run(o, &q, &v);
	dns_start(&d, name, 0x8180, 1);
	dns_a(&d, NULL, addr, 300);
	{
		struct pkt_spec a = { "168.63.129.16",
				      "10.0.0.4",
				      IPPROTO_UDP,
				      53,
				      (uint16_t)(next_sport - 1),
				      .payload = (uint16_t)d.n,
				      .data = d.b };

		len = pkt_build(&a, frame, sizeof(frame));
		now += NS;
		offline_run(o, frame, len, AMLG_DIR_IN, now, &v);
	}
}

static void check_hosts(struct offline *o, const struct compiled *c, const struct crule *cr,
			struct rule_result *res)
{
	for (size_t i = 0; i < cr->nres; i++) {
		const struct item_res *ir = &cr->res[i];
		struct probe p = { .dir = cr->dir,
				   .family = 4,
				   .proto = cr->proto == AMLG_PROTO_UDP ? AMLG_PROTO_UDP :
									  AMLG_PROTO_TCP };
		const struct crule *w;
		char name[AMLG_NAME_MAX + 8], addr[48], msg[512];

		if (ir->kind != EP_HOST || ir->side != AMLG_SIDE_REMOTE)
			continue;
		name_for(ir->text + strlen("host:"), name, sizeof(name));
		p.dport = cr->nports ? cr->ports[0].lo : 443;
		learn(o, c, name, &p);
		addr_str(4, p.raddr, addr, sizeof(addr));
		w = host_winner(c, p.dir, name, p.proto, p.dport);
		if (!w) {
			failed(res, "no rule opens the name (test bug)");
			continue;
		}
		if (!check(o, name, &p, true, AMLG_RULE_ID(w->dir, w->bit), -1, msg, sizeof(msg))) {
			failed(res, msg);
		} else {
			note(res, " %s -> %s allowed%s%s,", name, addr, w == cr ? "" : " by ",
			     w == cr ? "" : (w->flow[0] ? w->flow : w->origin));
			(*counter(cr->flow, K_INSIDE))++;
		}
	}
}

static void check_rule(struct offline *o, const struct compiled *c, const struct crule *cr,
		       const char *cfg)
{
	struct rule_result res = { .len = 0 };
	size_t n4 = prefix_list_count(&cr->remote, 4), n6 = cr->remote.n - n4;

	if (cr->nhosts)
		tally[tally_of(cr->flow)].hosts = true;
	else
		tally_of(cr->flow);
	if (!cr->remote.n && !cr->nhosts) {
		char name[256];

		/* not a case: the rule has no address to send a packet to */
		snprintf(name, sizeof(name), "%s %s", cfg, cr->flow);
		printf("[%s] n/a: no address (an empty operator-supplied set)\n", name);
		skips++;
		return;
	}
	if (n4)
		check_family(o, c, cr, 4, &res);
	if (n6)
		check_family(o, c, cr, 6, &res);
	if (cr->nhosts)
		check_hosts(o, c, cr, &res);
	printf("[%s %s] %s:%s\n", cfg, cr->flow, res.failed ? "FAIL" : "PASS", res.log);
	{
		char name[256];

		snprintf(name, sizeof(name), "%s %s", cfg, cr->flow);
		result(res.failed ? RESULT_FAIL : RESULT_PASS, name, res.log);
	}
	if (res.failed)
		failures++;
	else
		passes++;
}

/* ---- one policy in one cloud and region */

static int compile_with(const char *file, const char *cloud, const char *region,
			const struct var_def *extra, size_t nextra, const struct tag_db *db,
			struct policy **p, struct compiled **c)
{
	struct var_def vars[3 + 16] = {
		{ "region", region },
		{ "cloud", cloud },
		{ "site", POLICIES "site/example.policy" },
	};
	struct compile_opts co = { .mode = AMLG_MODE_ENFORCE };
	struct tag_resolver r;
	char path[512];
	size_t n = 3;
	struct diag d;
	int err;

	for (size_t i = 0; i < nextra && n < sizeof(vars) / sizeof(vars[0]); i++)
		vars[n++] = extra[i];
	snprintf(path, sizeof(path), POLICIES "%s", file);
	tags_resolver_init(&r, db);
	co.tags = &r;
	diag_init(&d);
	err = policy_load(path, vars, n, &d, p);
	if (!err)
		err = compile_policy(*p, &co, &d, c);
	if (err)
		diag_print(&d, stdout);
	diag_free(&d);
	return err;
}

/*
 * One datapath instance for the whole run: each configuration is installed like a reload (the
 * first packets all have fresh ports, so nothing carries over through conntrack).
 */
static struct offline dp;
static bool dp_open, dp_broken;

static int install(const struct compiled *c)
{
	if (dp_open)
		return tables_install(&dp.maps, c, NULL);
	/* A datapath the kernel refuses once is refused every time: say it once. */
	if (dp_broken || offline_open(&dp, c, 0)) {
		dp_broken = true;
		return -EIO;
	}
	dp_open = true;
	return 0;
}

static void run_config(size_t s, size_t k, const char *region, size_t set, const struct tag_db *db)
{
	struct var_def vars[16];
	struct compiled *c = NULL;
	struct policy *p = NULL;
	char cfg[200];
	size_t n = 0;

	for (size_t i = 0; scenarios[s].switches[i]; i++)
		vars[n++] = (struct var_def){ scenarios[s].switches[i],
					      settings[set].on ? "on" : "off" };
	for (size_t i = 0; i < 2 && settings[set].vars[i].name; i++)
		vars[n++] = settings[set].vars[i];
	snprintf(cfg, sizeof(cfg), "%s %s %s%s%s%s", scenarios[s].file, clouds[k].cloud, region,
		 clouds[k].real ? "" : " (generated tags)",
		 scenarios[s].switches[0] || scenarios[s].compute ? " " : "",
		 scenarios[s].switches[0] || scenarios[s].compute ? settings[set].name : "");
	if (compile_with(scenarios[s].file, clouds[k].cloud, region, vars, n, db, &p, &c) ||
	    install(c)) {
		report(NULL, cfg, false, "cannot compile or load");
		failures++;
		compiled_free(c);
		policy_free(p);
		return;
	}
	for (size_t i = 0; i < c->nrules; i++) {
		const struct crule *cr = &c->rules[i];
		const struct catalogue_row *row;

		if (cr->platform || !cr->flow[0])
			continue;
		row = catalogue_find(cr->flow);
		if (!row) {
			printf("[%s %s] FAIL: not in the catalogue\n", cfg, cr->flow);
			result(RESULT_FAIL, cfg, NULL);
			failures++;
			continue;
		}
		/* The defaults (switches off) follow today's documents: nothing retired. */
		if (row->retired && set == 0) {
			printf("[%s %s] FAIL: a retired flow ID is a rule by default\n", cfg,
			       cr->flow);
			result(RESULT_FAIL, cfg, NULL);
			failures++;
		}
		if (cr->dir == AMLG_DIR_IN && settings[set].vars[0].name &&
		    !strcmp(settings[set].vars[0].name, "publicip")) {
			printf("[%s %s] FAIL: an inbound rule with publicip=off\n", cfg, cr->flow);
			result(RESULT_FAIL, cfg, NULL);
			failures++;
		}
		check_rule(&dp, c, cr, cfg);
	}
	compiled_free(c);
	policy_free(p);
}

/* ---- named cases: a current compute instance, its near misses, the variables */

struct named {
	const char *what;
	const char *scenario;
	struct var_def vars[3];
	unsigned dir;
	uint8_t proto;
	uint16_t port;
	const char *tag; /* the remote side: {r} is the region, {o} the cloud's other region */
	const char *flow; /* allowed by this flow ID's rule; NULL: a violation */
	int reason; /* of the violation; -1: any */
	/* or a host name the resolver answers for ({r}, {o} in lower case; {d} the cloud's
	 * AML domain: ms, us, cn); public: the public cloud only */
	const char *host;
	bool public;
};

#define CI "compute-instance.policy"
#define CC "compute-cluster.policy"
#define OUT AMLG_DIR_OUT
#define IN AMLG_DIR_IN
#define TCP AMLG_PROTO_TCP
#define UDP AMLG_PROTO_UDP
#define NO_VARS              \
	{                    \
		{            \
			NULL \
		}            \
	}
#define CLASSIC                            \
	{                                  \
		{                          \
			"batch", "classic" \
		}                          \
	}
#define BOTH                            \
	{                               \
		{                       \
			"batch", "both" \
		}                       \
	}
#define NOPIP                                               \
	{                                                   \
		{ "publicip", "off" }, { "batch", "both" }, \
		{                                           \
			"ssh", "on"                         \
		}                                           \
	}

static const struct named named[] = {
	/* what a compute instance sends today, with the default variables */
	{ "Batch simplified node communication", CI, NO_VARS, OUT, TCP, 443,
	  "BatchNodeManagement.{r}", "COMPUTE-OUT-BATCH" },
	{ "Batch simplified, protocol ANY (UDP 443)", CI, NO_VARS, OUT, UDP, 443,
	  "BatchNodeManagement.{r}", "COMPUTE-OUT-BATCH" },
	{ "AzureMachineLearning UDP 5831", CI, NO_VARS, OUT, UDP, 5831, "AzureMachineLearning",
	  "COMPUTE-OUT-AML-UDP" },
	{ "AzureMachineLearning TCP 8787", CI, NO_VARS, OUT, TCP, 8787, "AzureMachineLearning",
	  "COMPUTE-OUT-AML-CI" },
	{ "AzureMachineLearning TCP 18881", CI, NO_VARS, OUT, TCP, 18881, "AzureMachineLearning",
	  "COMPUTE-OUT-AML-CI" },
	{ "AzureMachineLearning TCP 443", CI, NO_VARS, OUT, TCP, 443, "AzureMachineLearning",
	  "COMPUTE-OUT-AML" },
	{ "AzureActiveDirectory TCP 80", CI, NO_VARS, OUT, TCP, 80, "AzureActiveDirectory",
	  "COMPUTE-OUT-AAD-WEB" },
	{ "AzureActiveDirectory TCP 443", CI, NO_VARS, OUT, TCP, 443, "AzureActiveDirectory",
	  "COMPUTE-OUT-AAD-WEB" },
	{ "AzureMachineLearning to the public IP, TCP 44224", CI, NO_VARS, IN, TCP, 44224,
	  "AzureMachineLearning", "COMPUTE-IN-AML" },
	{ "a cluster: Batch simplified", CC, NO_VARS, OUT, TCP, 443, "BatchNodeManagement.{r}",
	  "COMPUTE-OUT-BATCH" },
	{ "a cluster: AzureMachineLearning UDP 5831", CC, NO_VARS, OUT, UDP, 5831,
	  "AzureMachineLearning", "COMPUTE-OUT-AML-UDP" },
	/* near misses, default variables */
	{ "another region's Batch", CI, NO_VARS, OUT, TCP, 443, "BatchNodeManagement.{o}", NULL,
	  AMLG_REASON_NO_RULE },
	{ "UDP 5832 to AzureMachineLearning", CI, NO_VARS, OUT, UDP, 5832, "AzureMachineLearning",
	  NULL, AMLG_REASON_PORT },
	{ "UDP 5831 to Storage", CI, NO_VARS, OUT, UDP, 5831, "Storage.{r}", NULL, -1 },
	{ "TCP 8788 to AzureMachineLearning", CI, NO_VARS, OUT, TCP, 8788, "AzureMachineLearning",
	  NULL, AMLG_REASON_PORT },
	{ "AzureActiveDirectory TCP 8080 (the retired any-port rule)", CI, NO_VARS, OUT, TCP, 8080,
	  "AzureActiveDirectory", NULL, AMLG_REASON_PORT },
	{ "inbound 29876 from Batch under batch=simplified", CI, NO_VARS, IN, TCP, 29876,
	  "BatchNodeManagement.{r}", NULL, -1 },
	{ "inbound 29877 from Batch under batch=simplified (a cluster)", CC, NO_VARS, IN, TCP,
	  29877, "BatchNodeManagement.{r}", NULL, -1 },
	/* batch=classic: the retired inbound ports, and no outbound Batch rule */
	{ "classic: inbound 29876 from Batch", CI, CLASSIC, IN, TCP, 29876,
	  "BatchNodeManagement.{r}", "COMPUTE-IN-BATCH" },
	{ "classic: inbound 29877 from Batch (a cluster)", CC, CLASSIC, IN, TCP, 29877,
	  "BatchNodeManagement.{r}", "COMPUTE-IN-BATCH" },
	{ "classic: outbound 443 to Batch", CI, CLASSIC, OUT, TCP, 443, "BatchNodeManagement.{r}",
	  NULL, -1 },
	{ "classic: inbound 29878 from Batch", CI, CLASSIC, IN, TCP, 29878,
	  "BatchNodeManagement.{r}", NULL, AMLG_REASON_PORT },
	/* batch=both: the union */
	{ "both: inbound 29876 from Batch", CI, BOTH, IN, TCP, 29876, "BatchNodeManagement.{r}",
	  "COMPUTE-IN-BATCH" },
	{ "both: outbound 443 to Batch", CI, BOTH, OUT, TCP, 443, "BatchNodeManagement.{r}",
	  "COMPUTE-OUT-BATCH" },
	/* publicip=off (with batch=both and ssh=on): no inbound rule at all, outbound as before */
	{ "no public IP: inbound 44224 from AzureMachineLearning", CI, NOPIP, IN, TCP, 44224,
	  "AzureMachineLearning", NULL, -1 },
	{ "no public IP: inbound 29876 from Batch", CI, NOPIP, IN, TCP, 29876,
	  "BatchNodeManagement.{r}", NULL, -1 },
	{ "no public IP: inbound SSH", CC, NOPIP, IN, TCP, 22, "Storage.{r}", NULL, -1 },
	{ "no public IP: AzureMachineLearning UDP 5831", CI, NOPIP, OUT, UDP, 5831,
	  "AzureMachineLearning", "COMPUTE-OUT-AML-UDP" },
	{ "no public IP: Batch simplified", CC, NOPIP, OUT, TCP, 443, "BatchNodeManagement.{r}",
	  "COMPUTE-OUT-BATCH" },
	/* the host names of the current tables, learned from DNS, and their near misses */
	{ "the region's tundra name, UDP 5831", CI, NO_VARS, OUT, UDP, 5831, NULL,
	  "COMPUTE-HOSTS-TUNDRA", .host = "{r}.tundra.azureml.{d}" },
	{ "the region's tundra name, UDP 5832", CI, NO_VARS, OUT, UDP, 5832, NULL, NULL, -1,
	  .host = "{r}.tundra.azureml.{d}" },
	{ "another region's tundra name, UDP 5831", CI, NO_VARS, OUT, UDP, 5831, NULL, NULL, -1,
	  .host = "{o}.tundra.azureml.{d}" },
	{ "no public IP: the region's tundra name", CC, NOPIP, OUT, UDP, 5831, NULL,
	  "COMPUTE-HOSTS-TUNDRA", .host = "{r}.tundra.azureml.{d}" },
	{ "a Batch account of the region, TCP 443", CI, NO_VARS, OUT, TCP, 443, NULL,
	  "COMPUTE-HOSTS-BATCHSVC", .host = "myaccount.{r}.batch.azure.com", .public = true },
	{ "a Batch node endpoint of the region, UDP 443", CC, NO_VARS, OUT, UDP, 443, NULL,
	  "COMPUTE-HOSTS-BATCHSVC", .host = "x.myaccount.{r}.service.batch.azure.com",
	  .public = true },
	{ "a Batch account of another region", CI, NO_VARS, OUT, TCP, 443, NULL, NULL, -1,
	  .host = "myaccount.{o}.batch.azure.com", .public = true },
};

static const struct crule *rule_of(const struct compiled *c, const char *flow)
{
	for (size_t i = 0; i < c->nrules; i++)
		if (!strcmp(c->rules[i].flow, flow))
			return &c->rules[i];
	return NULL;
}

/*
 * An address of the tag, IPv4 first, where the reference precedence gives what the case
 * expects: this flow's rule, or no rule at all for the protocol and port.
 */
static bool named_addr(const struct compiled *c, const struct prefix_list *l, struct probe *p,
		       const struct crule *want)
{
	for (int fam = 4; fam <= 6; fam += 2) {
		for (size_t i = 0; i < l->n; i++) {
			uint8_t cand[2][16];

			if (l->v[i].family != fam)
				continue;
			memcpy(cand[0], l->v[i].addr, 16);
			step_addr(cand[0], fam, +1);
			last_addr(&l->v[i], cand[1]);
			for (int k = 0; k < 2; k++) {
				if (!prefix_has_addr(&l->v[i], fam, cand[k]))
					continue;
				p->family = fam;
				memcpy(p->laddr, fam == 4 ? host4 : host6, 16);
				memcpy(p->raddr, cand[k], 16);
				if (winner(c, p->dir, fam, p->raddr, p->laddr, p->proto,
					   p->dport) == want)
					return true;
			}
		}
	}
	return false;
}

/* pattern with {r}, {o} (the regions; lower case for host names) and {d} substituted. */
static void tag_name(const char *pattern, size_t k, bool host, char *out, size_t sz)
{
	size_t n = 0;

	for (const char *q = pattern; *q && n + 1 < sz; q++) {
		const char *sub = NULL;

		if (q[0] == '{' && q[1] && q[2] == '}') {
			sub = q[1] == 'r'			? clouds[k].regions[0] :
			      q[1] == 'o'			? clouds[k].regions[1] :
			      !strcmp(clouds[k].cloud, "usgov") ? "us" :
			      !strcmp(clouds[k].cloud, "china") ? "cn" :
								  "ms";
			q += 2;
		}
		if (!sub) {
			out[n++] = *q;
			continue;
		}
		for (; *sub && n + 1 < sz; sub++)
			out[n++] = host ? (char)tolower((unsigned char)*sub) : *sub;
	}
	out[n] = '\0';
}

/* The cases of one setting follow each other: one compile and install per setting. */
static void run_named(size_t k, const struct tag_db *db)
{
	struct compiled *c = NULL;
	struct policy *pol = NULL;
	const struct named *last = NULL;
	bool loaded = false;

	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		const struct named *t = &named[i];
		struct probe p = { .dir = t->dir, .proto = t->proto, .dport = t->port };
		struct prefix_list l = { 0 };
		const struct crule *want = NULL;
		const struct tag_entry *e;
		char tag[96], cfg[256], msg[512], a[48];
		size_t nv = 0, nin = 0;
		bool ok;

		if (t->public && strcmp(clouds[k].cloud, "public"))
			continue;
		while (nv < 3 && t->vars[nv].name)
			nv++;
		tag_name(t->host ? t->host : t->tag, k, !!t->host, tag, sizeof(tag));
		snprintf(cfg, sizeof(cfg), "%s %s %s%s%s%s%s%s", t->scenario, clouds[k].cloud,
			 clouds[k].regions[0], clouds[k].real ? "" : " (generated tags)",
			 nv ? " batch=" : "", nv ? (nv == 3 ? "both" : t->vars[0].value) : "",
			 nv == 3 ? " publicip=off ssh=on" : "", "");
		if (!last || strcmp(last->scenario, t->scenario) ||
		    memcmp(last->vars, t->vars, sizeof(t->vars))) {
			compiled_free(c);
			policy_free(pol);
			c = NULL;
			pol = NULL;
			last = t;
			loaded = !compile_with(t->scenario, clouds[k].cloud, clouds[k].regions[0],
					       t->vars, nv, db, &pol, &c) &&
				 !install(c);
		}
		if (!loaded) {
			printf("[%s] FAIL: %s: cannot compile or load\n", cfg, t->what);
			result(RESULT_FAIL, cfg, NULL);
			failures++;
			continue;
		}
		/* publicip=off: no inbound rule of the policy, only the platform's */
		for (size_t j = 0; j < c->nrules; j++)
			nin += !c->rules[j].platform && c->rules[j].dir == AMLG_DIR_IN;
		if (nv == 3 && nin) {
			printf("[%s] FAIL: %zu inbound rules with publicip=off\n", cfg, nin);
			result(RESULT_FAIL, cfg, NULL);
			failures++;
			goto next;
		}
		if (t->flow && !(want = rule_of(c, t->flow))) {
			printf("[%s] FAIL: %s: no rule for %s\n", cfg, t->what, t->flow);
			result(RESULT_FAIL, cfg, NULL);
			failures++;
			goto next;
		}
		if (t->host) {
			learn(&dp, c, tag, &p);
		} else if (!(e = tags_lookup(db, tag, &ok)) || tags_prefixes(e, &l) || !l.n) {
			printf("[%s] FAIL: %s: no prefixes for %s\n", cfg, t->what, tag);
			result(RESULT_FAIL, cfg, NULL);
			failures++;
			goto next;
		} else if (!named_addr(c, &l, &p, want)) {
			printf("[%s] FAIL: %s: no address of %s where %s decides\n", cfg, t->what,
			       tag, t->flow ? t->flow : "no rule");
			result(RESULT_FAIL, cfg, NULL);
			failures++;
			goto next;
		}
		ok = check(&dp, t->what, &p, !!t->flow,
			   want ? (int)AMLG_RULE_ID(want->dir, want->bit) : -1, t->reason, msg,
			   sizeof(msg));
		printf("[%s] %s: %s: %s %s %s [%s]:%u -> %s%s\n", cfg, ok ? "PASS" : "FAIL",
		       t->what, dir_name((int)t->dir), t->proto == UDP ? "udp" : "tcp", tag,
		       addr_str(p.family, p.raddr, a, sizeof(a)), t->port,
		       t->flow ? "allowed by " : "violation",
		       t->flow ? t->flow : (t->reason >= 0 ? "" : ""));
		if (ok) {
			result(RESULT_PASS, cfg, NULL);
			passes++;
		} else {
			printf("      FAIL %s\n", msg);
			result(RESULT_FAIL, cfg, NULL);
			failures++;
		}
next:
		prefix_list_free(&l);
	}
	compiled_free(c);
	policy_free(pol);
}

/* Which checks each flow ID got over all clouds and regions, and why some cannot exist. */
static void print_tally(void)
{
	printf("\nchecks passed per flow ID (inside / port / outside / reverse):\n");
	for (size_t i = 0; i < ntally; i++) {
		unsigned *n = tally[i].n;

		printf("  %-24s", tally[i].flow);
		if (!n[K_INSIDE]) {
			printf(" skipped: no address in any configuration\n");
			continue;
		}
		for (int k = 0; k < K_KINDS; k++)
			printf(" %s %u%s", kind_names[k], n[k], k < K_KINDS - 1 ? "," : "");
		if (!n[K_PORT])
			printf(" (any port: no wrong port)");
		if (!n[K_OUTSIDE])
			printf(" (from any address: nothing outside)");
		if (tally[i].hosts)
			printf(" (its host names: learned from DNS)");
		printf("\n");
	}
}

/* Every packet-flow ID of the catalogue got its "inside" check somewhere. */
static void check_coverage(void)
{
	for (size_t i = 0; i < ncatalogue; i++) {
		const struct catalogue_row *row = &catalogue[i];
		size_t t;

		if (!row->packet)
			continue;
		for (t = 0; t < ntally && strcmp(tally[t].flow, row->id); t++)
			;
		if (t == ntally || !tally[t].n[K_INSIDE]) {
			printf("FAIL %s: no allowed packet in any configuration\n", row->id);
			result(RESULT_FAIL, row->id, NULL);
			failures++;
		}
	}
}

int main(void)
{
	struct timespec t0, t1;

	harness_start();
	if (catalogue_load())
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t k = 0; k < sizeof(clouds) / sizeof(clouds[0]) && !dp_broken; k++) {
		struct tag_db *db = NULL;
		struct tag_error e;
		char path[512];

		snprintf(path, sizeof(path), "%s%s", clouds[k].dir, clouds[k].file);
		if (clouds[k].real && access(path, R_OK)) {
			printf("[%s] not there: the extra cases on Microsoft's file are left out\n",
			       path);
			continue;
		}
		if (tags_load(path, &db, &e)) {
			printf("[%s] FAIL: %s\n", path, e.msg);
			result(RESULT_FAIL, path, e.msg);
			failures++;
			continue;
		}
		/*
		 * Switches on (every host group, SSH from anywhere) and off: with SSH on, every
		 * address is covered inbound, and only the switches-off run can show an
		 * uncovered neighbour of an inbound tag.
		 */
		for (size_t s = 0; s < sizeof(scenarios) / sizeof(scenarios[0]) && !dp_broken; s++)
			for (int r = 0; r < 2 && !dp_broken; r++)
				for (size_t set = 0;
				     set < sizeof(settings) / sizeof(settings[0]) && !dp_broken;
				     set++) {
					if (set && !scenarios[s].switches[0])
						break;
					/* the variables: generated files, one region */
					if ((settings[set].compute_only && !scenarios[s].compute) ||
					    (set > 1 && (clouds[k].real || r)))
						continue;
					run_config(s, k, clouds[k].regions[r], set, db);
				}
		/* the named cases: every generated file, and Microsoft's Public one */
		if (!dp_broken && (!clouds[k].real || !strcmp(clouds[k].cloud, "public")))
			run_named(k, db);
		tags_free(db);
	}
	if (dp_open)
		offline_close(&dp);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	print_tally();
	check_coverage();
	printf("in %.1f s; not cases: rules whose operator-supplied set is empty (no address)\n",
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return results_end() || failures ? 1 : 0;
}
