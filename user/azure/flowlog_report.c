// SPDX-License-Identifier: GPL-2.0-only
/* The report of "check" over flow logs: flows, printing, and merging shards' results. */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bpf/amlguard_abi.h"
#include "base/event.h"
#include "azure/flowlog_report.h"
#include "base/log.h"
#include "base/names.h"
#include "base/prefix.h"

#define CHUNK_SHIFT 16
#define CHUNK_FLOWS (1u << CHUNK_SHIFT)

/* ------------------------------------------------------------------ strings */

static uint64_t str_hash(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
	return h;
}

static bool str_same(const char *a, const char *s, size_t len)
{
	return !strncmp(a, s, len) && a[len] == 0;
}

const char *fl_pool_get(struct fl_pool *p, const char *s, size_t len)
{
	size_t i;

	if (!s)
		return NULL;
	if ((p->n + 1) * 2 > p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		char **v = calloc(cap, sizeof(*v));

		if (!v)
			return NULL;
		for (size_t j = 0; j < p->cap; j++) {
			if (!p->v[j])
				continue;
			i = str_hash(p->v[j], strlen(p->v[j])) & (cap - 1);
			while (v[i])
				i = (i + 1) & (cap - 1);
			v[i] = p->v[j];
		}
		free(p->v);
		p->v = v;
		p->cap = cap;
	}
	i = str_hash(s, len) & (p->cap - 1);
	while (p->v[i] && !str_same(p->v[i], s, len))
		i = (i + 1) & (p->cap - 1);
	if (!p->v[i]) {
		p->v[i] = strndup(s, len);
		if (!p->v[i])
			return NULL;
		p->n++;
	}
	return p->v[i];
}

void fl_pool_free(struct fl_pool *p)
{
	for (size_t i = 0; i < p->cap; i++)
		free(p->v[i]);
	free(p->v);
	memset(p, 0, sizeof(*p));
}

/* ------------------------------------------------------------------ flows */

int fl_report_init(struct fl_report *r)
{
	memset(r, 0, sizeof(*r));
	r->cap = 1024;
	r->slots = calloc(r->cap, sizeof(*r->slots));
	return r->slots ? 0 : -ENOMEM;
}

void fl_report_free(struct fl_report *r)
{
	for (size_t i = 0; i < r->nchunks; i++)
		free(r->chunks[i]);
	free(r->chunks);
	free(r->slots);
	free(r->never);
	fl_pool_free(&r->pool);
	memset(r, 0, sizeof(*r));
}

struct fl_flow *fl_flow_at(const struct fl_report *r, size_t i)
{
	return &r->chunks[i >> CHUNK_SHIFT][i & (CHUNK_FLOWS - 1)];
}

/* The key: everything up to the verdict. */
#define KEY_LEN offsetof(struct fl_flow, verdict)

static uint64_t key_hash(const struct fl_flow *k)
{
	uint64_t w[KEY_LEN / 8 + 1] = { 0 }, h = 0x9e3779b97f4a7c15ull;

	memcpy(w, k, KEY_LEN);
	for (size_t i = 0; i < KEY_LEN / 8 + (KEY_LEN % 8 != 0); i++) {
		h ^= w[i] * 0x9e3779b97f4a7c15ull;
		h = (h << 31 | h >> 33) * 0xff51afd7ed558ccdull;
	}
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 29);
}

/* A slot: the flow's index + 1 (0: empty) and 32 bits of its hash, to skip most mismatches. */
static size_t slot_of(const struct fl_report *r, const uint64_t *slots, size_t cap,
		      const struct fl_flow *k, uint64_t h)
{
	size_t i = (size_t)h & (cap - 1);
	uint32_t tag = (uint32_t)(h >> 32);

	while (slots[i] && ((uint32_t)(slots[i] >> 32) != tag ||
			    memcmp(fl_flow_at(r, (uint32_t)slots[i] - 1), k, KEY_LEN)))
		i = (i + 1) & (cap - 1);
	return i;
}

static int rehash(struct fl_report *r)
{
	size_t cap = r->cap * 2;
	uint64_t *v = calloc(cap, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < r->cap; i++) {
		uint64_t sl = r->slots[i];
		size_t j;

		if (!sl)
			continue;
		/* the low bits of the hash are not kept: recompute it */
		j = slot_of(r, v, cap, fl_flow_at(r, (uint32_t)sl - 1),
			    key_hash(fl_flow_at(r, (uint32_t)sl - 1)));
		v[j] = sl;
	}
	free(r->slots);
	r->slots = v;
	r->cap = cap;
	return 0;
}

uint64_t fl_key_hash(const struct fl_flow *k)
{
	return key_hash(k);
}

void fl_report_prefetch(const struct fl_report *r, uint64_t h, bool flow)
{
	const uint64_t *sl = &r->slots[(size_t)h & (r->cap - 1)];

	if (!flow)
		__builtin_prefetch(sl);
	else if (*sl)
		__builtin_prefetch(fl_flow_at(r, (uint32_t)*sl - 1));
}

struct fl_flow *fl_report_find(struct fl_report *r, const struct fl_flow *k, bool *created,
			       size_t *index)
{
	return fl_report_find_hashed(r, k, key_hash(k), created, index);
}

struct fl_flow *fl_report_find_hashed(struct fl_report *r, const struct fl_flow *k, uint64_t h,
				      bool *created, size_t *index)
{
	size_t i;
	struct fl_flow *f;

	*created = false;
	if ((r->n + 1) * 2 > r->cap && rehash(r))
		return NULL;
	i = slot_of(r, r->slots, r->cap, k, h);
	if (r->slots[i]) {
		if (index)
			*index = (uint32_t)r->slots[i] - 1;
		return fl_flow_at(r, (uint32_t)r->slots[i] - 1);
	}
	if (r->n == UINT32_MAX - 1)
		return NULL;
	if ((r->n >> CHUNK_SHIFT) == r->nchunks) {
		struct fl_flow **c = realloc(r->chunks, (r->nchunks + 1) * sizeof(*c));

		if (!c)
			return NULL;
		r->chunks = c;
		c[r->nchunks] = malloc(CHUNK_FLOWS * sizeof(**c));
		if (!c[r->nchunks])
			return NULL;
		r->nchunks++;
	}
	f = fl_flow_at(r, r->n);
	memset(f, 0, sizeof(*f));
	memcpy(f, k, KEY_LEN);
	f->first_ms = UINT64_MAX;
	r->slots[i] = (h >> 32) << 32 | (uint32_t)(r->n + 1);
	if (index)
		*index = r->n;
	r->n++;
	*created = true;
	return f;
}

static int strcmp_null(const char *a, const char *b)
{
	if (a == b)
		return 0;
	if (!a || !b)
		return a ? 1 : -1;
	return strcmp(a, b);
}

void fl_flow_meta(struct fl_flow *f, uint64_t ts, const char *rule, const char *acl,
		  const char *resource)
{
	int c;

	if (ts > f->first_ms)
		return;
	if (ts == f->first_ms && f->tuples) {
		c = strcmp_null(rule, f->nsg_rule);
		if (!c)
			c = strcmp_null(acl, f->acl);
		if (!c)
			c = strcmp_null(resource, f->resource);
		if (c >= 0)
			return;
	}
	f->nsg_rule = rule;
	f->acl = acl;
	f->resource = resource;
}

enum fl_status fl_flow_status(const struct fl_flow *f)
{
	bool viol = f->verdict == AMLG_VERDICT_VIOLATION;

	if (f->denied)
		return viol ? FS_ATTEMPTED : FS_BLOCKED;
	return viol ? FS_VIOLATION : FS_ALLOWED;
}

size_t fl_report_count(const struct fl_report *r, enum fl_status s)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n; i++)
		n += fl_flow_status(fl_flow_at(r, i)) == s;
	return n;
}

int fl_report_exit(const struct fl_report *r)
{
	return fl_report_count(r, FS_VIOLATION) || fl_report_count(r, FS_BLOCKED) ? 1 : 0;
}

/* ------------------------------------------------------------------ order */

static int by_report_order(const void *a, const void *b)
{
	const struct fl_flow *x = *(const struct fl_flow *const *)a;
	const struct fl_flow *y = *(const struct fl_flow *const *)b;
	enum fl_status sx = fl_flow_status(x), sy = fl_flow_status(y);

	if (sx != sy)
		return sx < sy ? -1 : 1;
	if (x->first_ms != y->first_ms)
		return x->first_ms < y->first_ms ? -1 : 1;
	return memcmp(x, y, KEY_LEN);
}

static const struct fl_flow **sorted(const struct fl_report *r)
{
	const struct fl_flow **v = calloc(r->n ? r->n : 1, sizeof(*v));

	if (!v)
		return NULL;
	for (size_t i = 0; i < r->n; i++)
		v[i] = fl_flow_at(r, i);
	qsort(v, r->n, sizeof(*v), by_report_order);
	return v;
}

/* ------------------------------------------------------------------ flow IDs */

struct id_use {
	const char *flow;
	uint64_t flows, packets;
};

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct id_use *)a)->flow, ((const struct id_use *)b)->flow);
}

/* Flow IDs of flows in status s, by name; caller frees. */
static size_t id_uses(const struct fl_report *r, enum fl_status s, struct id_use **out)
{
	struct id_use *u = NULL;
	size_t n = 0, cap = 0;

	for (size_t i = 0; i < r->n; i++) {
		const struct fl_flow *f = fl_flow_at(r, i);
		size_t j;

		if (fl_flow_status(f) != s || !f->flow_id)
			continue;
		for (j = 0; j < n && strcmp(u[j].flow, f->flow_id); j++)
			;
		if (j == n) {
			if (n == cap) {
				struct id_use *g =
					realloc(u, (cap = cap ? cap * 2 : 16) * sizeof(*u));

				if (!g)
					break;
				u = g;
			}
			u[n++] = (struct id_use){ .flow = f->flow_id };
		}
		u[j].flows++;
		u[j].packets += f->packets;
	}
	if (n)
		qsort(u, n, sizeof(*u), by_name);
	*out = u;
	return n;
}

static bool seen(const struct id_use *u, size_t n, const char *flow)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(u[i].flow, flow))
			return true;
	return false;
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The candidates seen neither allowed nor blocked, by name; caller frees. */
static size_t never_seen(const struct fl_report *r, const struct id_use *used, size_t nused,
			 const struct id_use *blocked, size_t nblocked, const char ***out)
{
	const char **v = calloc(r->nnever + 1, sizeof(*v));
	size_t n = 0;

	*out = v;
	if (!v)
		return 0;
	for (size_t i = 0; i < r->nnever; i++)
		if (!seen(used, nused, r->never[i]) && !seen(blocked, nblocked, r->never[i]))
			v[n++] = r->never[i];
	qsort(v, n, sizeof(*v), by_str);
	return n;
}

/* ------------------------------------------------------------------ printing */

static bool ported(uint8_t proto)
{
	return proto == AMLG_PROTO_TCP || proto == AMLG_PROTO_UDP;
}

static const uint8_t *src_of(const struct fl_flow *f, uint16_t *port)
{
	bool out = f->dir == AMLG_DIR_OUT;

	*port = out ? f->lport : f->rport;
	return out ? f->laddr : f->raddr;
}

static const uint8_t *dst_of(const struct fl_flow *f, uint16_t *port)
{
	bool out = f->dir == AMLG_DIR_OUT;

	*port = out ? f->rport : f->lport;
	return out ? f->raddr : f->laddr;
}

static void endpoint(const struct fl_flow *f, bool src, char *buf, size_t sz)
{
	char a[48];
	uint16_t port;
	const uint8_t *addr = src ? src_of(f, &port) : dst_of(f, &port);

	addr_str(f->family, addr, a, sizeof(a));
	if (ported(f->proto))
		snprintf(buf, sz, f->family == 6 ? "[%s]:%u" : "%s:%u", a, port);
	else
		snprintf(buf, sz, "%s", a);
}

static char *mac_str(const struct fl_flow *f, char *buf, size_t sz)
{
	if (!f->has_mac)
		snprintf(buf, sz, "-");
	else
		snprintf(buf, sz, "%02x:%02x:%02x:%02x:%02x:%02x", f->mac[0], f->mac[1], f->mac[2],
			 f->mac[3], f->mac[4], f->mac[5]);
	return buf;
}

static char *ms_str(uint64_t ms, char *buf, size_t sz)
{
	return time_str(ms * 1000000ull, buf, sz);
}

static const char *const section_title[FS_COUNT] = {
	[FS_VIOLATION] = "VIOLATIONS (undeclared flows the NSG let through)",
	[FS_BLOCKED] = "BLOCKED (documented flows the NSG denied)",
	[FS_ATTEMPTED] = "ATTEMPTED (undeclared flows the NSG denied)",
	[FS_ALLOWED] = "ALLOWED",
};

static void print_ids(FILE *f, const char *title, const struct id_use *u, size_t n)
{
	if (!n)
		return;
	fprintf(f, "%s\n", title);
	for (size_t j = 0; j < n; j++)
		fprintf(f, "  %-28s %6llu flows %12llu packets\n", u[j].flow,
			(unsigned long long)u[j].flows, (unsigned long long)u[j].packets);
}

void fl_report_print(const struct fl_report *r, FILE *f)
{
	const struct fl_flow **v = sorted(r);
	struct id_use *used = NULL, *blocked = NULL;
	size_t nused, nblocked, nnever, cnt[FS_COUNT] = { 0 };
	const char **never = NULL;
	char src[64], dst[64], p[8], mac[24], t1[48], t2[48];
	int section = -1;

	if (!v)
		return;
	for (size_t i = 0; i < r->n; i++) {
		const struct fl_flow *fl = v[i];
		enum fl_status st = fl_flow_status(fl);
		bool viol = fl->verdict == AMLG_VERDICT_VIOLATION;

		cnt[st]++;
		if (section != (int)st) {
			section = (int)st;
			fprintf(f, "%s%s\n", i ? "\n" : "", section_title[st]);
			fprintf(f, "  %-3s %-6s %-41s %-41s %-8s %10s %12s  %-17s %-24s %s\n",
				"DIR", "PROTO", "SOURCE", "DESTINATION", viol ? "REASON" : "MATCH",
				"PACKETS", "BYTES", "NIC", "NSG RULE",
				viol ? "NEAR RULE" : "FLOW ID (RULE)");
		}
		endpoint(fl, true, src, sizeof(src));
		endpoint(fl, false, dst, sizeof(dst));
		fprintf(f, "  %-3s %-6s %-41s %-41s %-8s %10llu %12llu  %-17s %-24s ",
			fl->dir == AMLG_DIR_OUT ? "out" : "in", l4_str(fl->proto, p, sizeof(p)),
			src, dst, viol ? reason_str(fl->reason) : match_str(fl->match),
			(unsigned long long)fl->packets, (unsigned long long)fl->bytes,
			mac_str(fl, mac, sizeof(mac)), fl->nsg_rule ? fl->nsg_rule : "-");
		if (fl->origin)
			fprintf(f, "%s (%s)", fl->flow_id ? fl->flow_id : "-", fl->origin);
		else
			fprintf(f, "-");
		if (st == FS_BLOCKED)
			fprintf(f, "  required flow blocked by NSG rule %s",
				fl->nsg_rule ? fl->nsg_rule : "(unnamed)");
		fputc('\n', f);
	}
	nused = id_uses(r, FS_ALLOWED, &used);
	nblocked = id_uses(r, FS_BLOCKED, &blocked);
	nnever = never_seen(r, used, nused, blocked, nblocked, &never);
	fprintf(f, "%sFLOW IDS\n", r->n ? "\n" : "");
	print_ids(f, "  allowed:", used, nused);
	print_ids(f, "  blocked by the NSG:", blocked, nblocked);
	fprintf(f, "  never seen:");
	for (size_t j = 0; j < nnever; j++)
		fprintf(f, "%s %s", j ? "," : "", never[j]);
	fputc('\n', f);
	fprintf(f,
		"\n%llu flow tuples in %llu files (%llu records): %llu judged, %llu outside the time window, %llu of other NICs, %llu not local\n",
		(unsigned long long)r->tuples, (unsigned long long)r->files,
		(unsigned long long)r->records, (unsigned long long)r->judged,
		(unsigned long long)r->outside_window, (unsigned long long)r->other_nic,
		(unsigned long long)r->not_local);
	if (r->bad_tuples || r->bad_records || r->unreadable_files || r->truncated_files)
		fprintf(f,
			"not read: %llu malformed tuples, %llu malformed records, %llu unreadable files, %llu files cut short\n",
			(unsigned long long)r->bad_tuples, (unsigned long long)r->bad_records,
			(unsigned long long)r->unreadable_files,
			(unsigned long long)r->truncated_files);
	fprintf(f,
		"%zu flows: %zu violating (the NSG let them through), %zu required flows blocked by the NSG, %zu attempted (denied by the NSG), %zu allowed; %llu packets, %llu bytes\n",
		r->n, cnt[FS_VIOLATION], cnt[FS_BLOCKED], cnt[FS_ATTEMPTED], cnt[FS_ALLOWED],
		(unsigned long long)r->packets, (unsigned long long)r->bytes);
	if (r->judged)
		fprintf(f, "from %s to %s\n", ms_str(r->first_ms, t1, sizeof(t1)),
			ms_str(r->last_ms, t2, sizeof(t2)));
	free(used);
	free(blocked);
	free(never);
	free(v);
}

static const char *const status_name[FS_COUNT] = {
	[FS_VIOLATION] = "violation",
	[FS_BLOCKED] = "blocked",
	[FS_ATTEMPTED] = "attempted",
	[FS_ALLOWED] = "allowed",
};

/*
 * One flow line: the object is built once and its values set in place for each flow (no key
 * hashing or allocation per field), then dumped into a buffer kept across lines.
 */
enum {
	F_DIR,
	F_PROTO,
	F_SRC,
	F_SPORT,
	F_DST,
	F_DPORT,
	F_STATUS,
	F_VERDICT,
	F_REASON,
	F_MATCH,
	F_RULE,
	F_FLOW,
	F_NIC,
	F_DECISION,
	F_NSG_RULE,
	F_ACL,
	F_RESOURCE,
	F_PACKETS,
	F_BYTES,
	F_TUPLES,
	F_FIRST,
	F_LAST,
	F_COUNT,
};

static const char *const field_name[F_COUNT] = {
	"dir",	    "proto",   "src",	"sport",  "dst",      "dport",	      "status",	  "verdict",
	"reason",   "match",   "rule",	"flow",	  "nic",      "nsg_decision", "nsg_rule", "acl",
	"resource", "packets", "bytes", "tuples", "first_ts", "last_ts",
};

struct line {
	json_t *o;
	json_t *v[F_COUNT]; /* borrowed from o */
	char *buf;
	size_t cap;
};

static void line_init(struct line *l)
{
	memset(l, 0, sizeof(*l));
	l->o = json_object();
	for (int i = 0; i < F_COUNT; i++) {
		l->v[i] = json_null();
		json_object_set_new(l->o, field_name[i], l->v[i]);
	}
}

static void line_free(struct line *l)
{
	json_decref(l->o);
	free(l->buf);
}

/* Strings read by a validating parser (yajl, jansson) or made here are UTF-8 already. */
static void set_str(struct line *l, int i, const char *s)
{
	bool utf8 = i != F_RULE && i != F_FLOW; /* those come from the policy's file and text */
	json_t *v;

	if (s && json_is_string(l->v[i]) &&
	    (utf8 ? json_string_set_nocheck(l->v[i], s) : json_string_set(l->v[i], s)) == 0)
		return;
	v = s ? (utf8 ? json_string_nocheck(s) : json_string(s)) : NULL;
	if (!v && json_is_null(l->v[i]))
		return;
	l->v[i] = v ? v : json_null();
	json_object_set_new(l->o, field_name[i], l->v[i]);
}

static void set_int(struct line *l, int i, bool have, uint64_t n)
{
	if (!have) {
		set_str(l, i, NULL);
	} else if (json_is_integer(l->v[i])) {
		json_integer_set(l->v[i], (json_int_t)n);
	} else {
		l->v[i] = json_integer((json_int_t)n);
		json_object_set_new(l->o, field_name[i], l->v[i]);
	}
}

static void flow_line(struct line *l, const struct fl_flow *fl, FILE *f)
{
	bool viol = fl->verdict == AMLG_VERDICT_VIOLATION, port = ported(fl->proto);
	char p[8], a[48], mac[24], t[48];
	uint16_t sp, dp;
	const uint8_t *s = src_of(fl, &sp), *d = dst_of(fl, &dp);
	size_t n;

	set_str(l, F_DIR, fl->dir == AMLG_DIR_OUT ? "out" : "in");
	set_str(l, F_PROTO, l4_str(fl->proto, p, sizeof(p)));
	set_str(l, F_SRC, addr_str(fl->family, s, a, sizeof(a)));
	set_int(l, F_SPORT, port, sp);
	set_str(l, F_DST, addr_str(fl->family, d, a, sizeof(a)));
	set_int(l, F_DPORT, port, dp);
	set_str(l, F_STATUS, status_name[fl_flow_status(fl)]);
	set_str(l, F_VERDICT, viol ? "violation" : "allow");
	set_str(l, F_REASON, viol ? reason_str(fl->reason) : NULL);
	set_str(l, F_MATCH, match_str(fl->match));
	set_str(l, F_RULE, fl->origin);
	set_str(l, F_FLOW, fl->flow_id);
	set_str(l, F_NIC, fl->has_mac ? mac_str(fl, mac, sizeof(mac)) : NULL);
	set_str(l, F_DECISION, fl->denied ? "deny" : "allow");
	set_str(l, F_NSG_RULE, fl->nsg_rule);
	set_str(l, F_ACL, fl->acl);
	set_str(l, F_RESOURCE, fl->resource);
	set_int(l, F_PACKETS, true, fl->packets);
	set_int(l, F_BYTES, true, fl->bytes);
	set_int(l, F_TUPLES, true, fl->tuples);
	set_str(l, F_FIRST, ms_str(fl->first_ms, t, sizeof(t)));
	set_str(l, F_LAST, ms_str(fl->last_ms, t, sizeof(t)));
	n = json_dumpb(l->o, l->buf, l->cap, JSON_COMPACT);
	if (n > l->cap) {
		char *b = realloc(l->buf, n * 2);

		if (!b)
			return;
		l->buf = b;
		l->cap = n * 2;
		n = json_dumpb(l->o, l->buf, l->cap, JSON_COMPACT);
	}
	fwrite(l->buf, 1, n, f);
	fputc('\n', f);
}

static void dump_line(json_t *o, FILE *f)
{
	char *s = json_dumps(o, JSON_COMPACT);

	if (s) {
		fputs(s, f);
		fputc('\n', f);
		free(s);
	}
	json_decref(o);
}

static json_t *ids_json(const struct id_use *u, size_t n)
{
	json_t *o = json_object();

	for (size_t j = 0; j < n; j++)
		json_object_set_new(o, u[j].flow,
				    json_pack("{s:I, s:I}", "flows", (json_int_t)u[j].flows,
					      "packets", (json_int_t)u[j].packets));
	return o;
}

/* Counters of the summary, in order: printed, summed by --merge. */
static const struct {
	const char *name;
	size_t off;
} summed[] = {
	{ "files", offsetof(struct fl_report, files) },
	{ "records", offsetof(struct fl_report, records) },
	{ "tuples", offsetof(struct fl_report, tuples) },
	{ "judged", offsetof(struct fl_report, judged) },
	{ "outside_window", offsetof(struct fl_report, outside_window) },
	{ "other_nic", offsetof(struct fl_report, other_nic) },
	{ "not_local", offsetof(struct fl_report, not_local) },
	{ "bad_records", offsetof(struct fl_report, bad_records) },
	{ "bad_tuples", offsetof(struct fl_report, bad_tuples) },
	{ "unreadable_files", offsetof(struct fl_report, unreadable_files) },
	{ "truncated_files", offsetof(struct fl_report, truncated_files) },
	{ "packets", offsetof(struct fl_report, packets) },
	{ "bytes", offsetof(struct fl_report, bytes) },
};

static uint64_t *counter(const struct fl_report *r, size_t i)
{
	return (uint64_t *)((char *)r + summed[i].off);
}

void fl_report_print_json(const struct fl_report *r, FILE *f)
{
	const struct fl_flow **v = sorted(r);
	struct id_use *used = NULL, *blocked = NULL;
	size_t nused, nblocked, nnever;
	const char **never = NULL;
	json_t *s, *nv;
	char t1[48], t2[48];
	struct line l;

	if (!v)
		return;
	line_init(&l);
	for (size_t i = 0; i < r->n; i++)
		flow_line(&l, v[i], f);
	line_free(&l);
	nused = id_uses(r, FS_ALLOWED, &used);
	nblocked = id_uses(r, FS_BLOCKED, &blocked);
	nnever = never_seen(r, used, nused, blocked, nblocked, &never);
	s = json_object();
	json_object_set_new(s, "input", json_string("flowlog"));
	json_object_set_new(s, "policy_sha256", json_string(r->policy));
	for (size_t i = 0; i < sizeof(summed) / sizeof(summed[0]); i++)
		json_object_set_new(s, summed[i].name, json_integer((json_int_t)*counter(r, i)));
	json_object_set_new(s, "flows", json_integer((json_int_t)r->n));
	json_object_set_new(s, "violating_flows",
			    json_integer((json_int_t)fl_report_count(r, FS_VIOLATION)));
	json_object_set_new(s, "blocked_flows",
			    json_integer((json_int_t)fl_report_count(r, FS_BLOCKED)));
	json_object_set_new(s, "attempted_flows",
			    json_integer((json_int_t)fl_report_count(r, FS_ATTEMPTED)));
	json_object_set_new(s, "allowed_flows",
			    json_integer((json_int_t)fl_report_count(r, FS_ALLOWED)));
	json_object_set_new(s, "flow_ids_used", ids_json(used, nused));
	json_object_set_new(s, "flow_ids_blocked", ids_json(blocked, nblocked));
	nv = json_array();
	for (size_t j = 0; j < nnever; j++)
		json_array_append_new(nv, json_string(never[j]));
	json_object_set_new(s, "flow_ids_never_seen", nv);
	json_object_set_new(s, "first_ts",
			    r->judged ? json_string(ms_str(r->first_ms, t1, sizeof(t1))) :
					json_null());
	json_object_set_new(s, "last_ts",
			    r->judged ? json_string(ms_str(r->last_ms, t2, sizeof(t2))) :
					json_null());
	dump_line(json_pack("{s:o}", "summary", s), f);
	free(used);
	free(blocked);
	free(never);
	free(v);
}

/* ------------------------------------------------------------------ merging */

/* "2026-12-03T10:00:00.123000Z" back to epoch milliseconds. */
static int parse_ts(const char *s, uint64_t *ms)
{
	struct tm tm = { 0 };
	const char *p = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	unsigned long us = 0;
	char *end;

	if (!p)
		return -EINVAL;
	if (*p == '.') {
		us = strtoul(p + 1, &end, 10);
		if (end - p != 7)
			return -EINVAL;
		p = end;
	}
	if (strcmp(p, "Z"))
		return -EINVAL;
	*ms = (uint64_t)timegm(&tm) * 1000 + us / 1000;
	return 0;
}

static int parse_proto(const char *s)
{
	char p[8], *end;
	unsigned long v;

	if (!s)
		return -1;
	for (unsigned i = 0; i < 256; i++) {
		if (i == AMLG_PROTO_TCP || i == AMLG_PROTO_UDP || i == AMLG_PROTO_ICMP ||
		    i == AMLG_PROTO_ICMPV6) {
			if (!strcmp(s, l4_str(i, p, sizeof(p))))
				return (int)i;
		}
	}
	v = strtoul(s, &end, 10);
	return *s && !*end && v < 256 ? (int)v : -1;
}

static int parse_match(const char *s)
{
	for (unsigned i = 0; s && i < AMLG_MATCH_MAX; i++)
		if (!strcmp(s, match_str(i)))
			return (int)i;
	return -1;
}

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static const char *pooled(struct fl_report *r, json_t *o, const char *k)
{
	const char *s = jstr(o, k);

	return s ? fl_pool_get(&r->pool, s, strlen(s)) : NULL;
}

static int merge_flow(struct fl_report *r, json_t *o, const char **why)
{
	struct fl_flow k = { 0 }, *f;
	uint8_t sa[16], da[16];
	const char *dir = jstr(o, "dir"), *src = jstr(o, "src"), *dst = jstr(o, "dst"),
		   *nic = jstr(o, "nic"), *dec = jstr(o, "nsg_decision"),
		   *verdict = jstr(o, "verdict");
	json_t *sp = json_object_get(o, "sport"), *dp = json_object_get(o, "dport");
	int proto = parse_proto(jstr(o, "proto")), match = parse_match(jstr(o, "match")), fam,
	    reason = 0;
	uint64_t first, last;
	bool created, out;

	*why = "not a flow of \"check -j\" over flow logs";
	if (!dir || !src || !dst || !dec || !verdict || proto < 0 || match < 0)
		return -EINVAL;
	fam = strchr(src, ':') ? 6 : 4;
	if (inet_pton(fam == 6 ? AF_INET6 : AF_INET, src, sa) != 1 ||
	    inet_pton(fam == 6 ? AF_INET6 : AF_INET, dst, da) != 1) {
		*why = "src or dst is not an address";
		return -EINVAL;
	}
	if (parse_ts(jstr(o, "first_ts"), &first) || parse_ts(jstr(o, "last_ts"), &last)) {
		*why = "first_ts or last_ts is not a time";
		return -EINVAL;
	}
	if (!strcmp(verdict, "violation")) {
		reason = reason_parse(jstr(o, "reason") ? jstr(o, "reason") : "");
		if (reason < 0) {
			*why = "unknown reason";
			return -EINVAL;
		}
	}
	out = !strcmp(dir, "out");
	memset(sa + (fam == 4 ? 4 : 16), 0, fam == 4 ? 12 : 0);
	memset(da + (fam == 4 ? 4 : 16), 0, fam == 4 ? 12 : 0);
	k.family = (uint8_t)fam;
	k.proto = (uint8_t)proto;
	k.dir = out ? AMLG_DIR_OUT : AMLG_DIR_IN;
	k.denied = !strcmp(dec, "deny");
	if (nic) {
		unsigned m[6];

		if (sscanf(nic, "%2x:%2x:%2x:%2x:%2x:%2x", &m[0], &m[1], &m[2], &m[3], &m[4],
			   &m[5]) != 6) {
			*why = "nic is not a MAC address";
			return -EINVAL;
		}
		for (int i = 0; i < 6; i++)
			k.mac[i] = (uint8_t)m[i];
		k.has_mac = 1;
	}
	memcpy(k.laddr, out ? sa : da, 16);
	memcpy(k.raddr, out ? da : sa, 16);
	if (ported(k.proto)) {
		uint16_t s = (uint16_t)json_integer_value(sp), d = (uint16_t)json_integer_value(dp);

		k.lport = out ? s : d;
		k.rport = out ? d : s;
	}
	f = fl_report_find(r, &k, &created, NULL);
	if (!f)
		return -ENOMEM;
	if (created) {
		f->verdict = strcmp(verdict, "violation") ? AMLG_VERDICT_ALLOW :
							    AMLG_VERDICT_VIOLATION;
		f->reason = (uint8_t)reason;
		f->match = (uint8_t)match;
		f->judged = 1;
		f->flow_id = pooled(r, o, "flow");
		f->origin = pooled(r, o, "rule");
	}
	fl_flow_meta(f, first, pooled(r, o, "nsg_rule"), pooled(r, o, "acl"),
		     pooled(r, o, "resource"));
	if (first < f->first_ms)
		f->first_ms = first;
	if (last > f->last_ms)
		f->last_ms = last;
	f->packets += (uint64_t)json_integer_value(json_object_get(o, "packets"));
	f->bytes += (uint64_t)json_integer_value(json_object_get(o, "bytes"));
	f->tuples += (uint64_t)json_integer_value(json_object_get(o, "tuples"));
	return 0;
}

static int merge_summary(struct fl_report *r, json_t *s, const char **why)
{
	const char *pol = jstr(s, "policy_sha256");
	json_t *nv = json_object_get(s, "flow_ids_never_seen");
	uint64_t first, last;
	size_t keep = 0;

	*why = "not the summary of \"check -j\" over flow logs";
	if (!pol || strcmp(jstr(s, "input") ? jstr(s, "input") : "", "flowlog") ||
	    !json_is_array(nv))
		return -EINVAL;
	if (r->policy[0] && strcmp(r->policy, pol)) {
		*why = "checked with another policy than the results before it (policy_sha256 differs)";
		return -EINVAL;
	}
	snprintf(r->policy, sizeof(r->policy), "%s", pol);
	for (size_t i = 0; i < sizeof(summed) / sizeof(summed[0]); i++)
		*counter(r, i) += (uint64_t)json_integer_value(json_object_get(s, summed[i].name));
	if (!parse_ts(jstr(s, "first_ts"), &first) && !parse_ts(jstr(s, "last_ts"), &last) &&
	    json_integer_value(json_object_get(s, "judged"))) {
		if (!r->first_ms || first < r->first_ms)
			r->first_ms = first;
		if (last > r->last_ms)
			r->last_ms = last;
	}
	/* never seen anywhere: in every shard's list */
	if (!r->never_set) {
		r->never = calloc(json_array_size(nv) + 1, sizeof(*r->never));
		if (!r->never)
			return -ENOMEM;
		for (size_t i = 0; i < json_array_size(nv); i++) {
			const char *id = json_string_value(json_array_get(nv, i));

			if (id)
				r->never[r->nnever++] = fl_pool_get(&r->pool, id, strlen(id));
		}
		r->never_set = true;
		return 0;
	}
	for (size_t i = 0; i < r->nnever; i++) {
		bool in = false;

		for (size_t j = 0; j < json_array_size(nv) && !in; j++)
			in = !strcmp(r->never[i], json_string_value(json_array_get(nv, j)) ?: "");
		if (in)
			r->never[keep++] = r->never[i];
	}
	r->nnever = keep;
	return 0;
}

#define SWAP(a, b)                      \
	do {                            \
		__typeof__(a) t_ = (a); \
		(a) = (b);              \
		(b) = t_;               \
	} while (0)

int fl_report_absorb(struct fl_report *into, struct fl_report *from)
{
	for (size_t i = 0; i < sizeof(summed) / sizeof(summed[0]); i++)
		*counter(into, i) += *counter(from, i);
	if (from->judged) {
		if (from->first_ms < into->first_ms)
			into->first_ms = from->first_ms;
		if (from->last_ms > into->last_ms)
			into->last_ms = from->last_ms;
	}
	if (!into->n && !into->pool.n) {
		/* nothing yet: take the flows and their strings over, no copy */
		SWAP(into->chunks, from->chunks);
		SWAP(into->nchunks, from->nchunks);
		SWAP(into->n, from->n);
		SWAP(into->slots, from->slots);
		SWAP(into->cap, from->cap);
		SWAP(into->pool, from->pool);
		return 0;
	}
	for (size_t i = 0; i < from->n; i++) {
		const struct fl_flow *g = fl_flow_at(from, i);
		struct fl_flow *f;
		bool created;
		const char *rule = g->nsg_rule ? fl_pool_get(&into->pool, g->nsg_rule,
							     strlen(g->nsg_rule)) :
						 NULL,
			   *acl = g->acl ? fl_pool_get(&into->pool, g->acl, strlen(g->acl)) : NULL,
			   *res = g->resource ? fl_pool_get(&into->pool, g->resource,
							    strlen(g->resource)) :
						NULL;

		f = fl_report_find(into, g, &created, NULL);
		if (!f)
			return -ENOMEM;
		fl_flow_meta(f, g->first_ms, rule, acl, res);
		if (g->first_ms < f->first_ms)
			f->first_ms = g->first_ms;
		if (g->last_ms > f->last_ms)
			f->last_ms = g->last_ms;
		f->tuples += g->tuples;
		f->packets += g->packets;
		f->bytes += g->bytes;
	}
	return 0;
}

int fl_report_merge_file(struct fl_report *r, const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	bool summary = false;
	ssize_t n;
	int err = 0;

	if (!f) {
		pr_err("%s: cannot open: %s", path, strerror(errno));
		return -errno;
	}
	while (!err && (n = getline(&line, &cap, f)) > 0) {
		json_error_t je;
		json_t *o;
		const char *why = NULL;

		lineno++;
		if (n == 1 && line[0] == '\n')
			continue;
		o = json_loadb(line, (size_t)n, 0, &je);
		if (!o || !json_is_object(o)) {
			pr_err("%s:%zu: not a JSON object: %s", path, lineno, o ? "" : je.text);
			err = -EINVAL;
		} else if (json_object_get(o, "summary")) {
			err = merge_summary(r, json_object_get(o, "summary"), &why);
			summary = true;
		} else if (json_object_get(o, "error")) {
			pr_warn("%s:%zu: the shard reported an error: %s", path, lineno,
				jstr(o, "error") ? jstr(o, "error") : "?");
		} else {
			err = merge_flow(r, o, &why);
		}
		if (err && why)
			pr_err("%s:%zu: %s", path, lineno, why);
		json_decref(o);
	}
	free(line);
	if (f != stdin)
		fclose(f);
	if (!err && !summary) {
		pr_err("%s: no summary line (a shard that did not finish?)", path);
		err = -EINVAL;
	}
	return err;
}
