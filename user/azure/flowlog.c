// SPDX-License-Identifier: GPL-2.0-only
/* Azure flow logs, read as a stream: yajl's callbacks over gzread()'s bytes. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <yajl/yajl_parse.h>
#include <zlib.h>

#include "bpf/amlguard_abi.h"
#include "azure/flowlog.h"

/* ------------------------------------------------------------------ tuples */

#define FL_FIELDS_MAX 14

static int split(const char *s, size_t len, const char **f, size_t *fl)
{
	size_t n = 0, start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == ',') {
			if (n == FL_FIELDS_MAX)
				return -1;
			f[n] = s + start;
			fl[n++] = i - start;
			start = i + 1;
		}
	}
	return (int)n;
}

static bool num(const char *s, size_t len, uint64_t max, uint64_t *v)
{
	uint64_t x = 0;

	if (!len || len > 20)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (d > 9 || x > (UINT64_MAX - d) / 10)
			return false;
		x = x * 10 + d;
	}
	if (x > max)
		return false;
	*v = x;
	return true;
}

static bool ipv4(const char *s, size_t len, uint8_t *out)
{
	unsigned part = 0, dots = 0, digits = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (!digits || dots == 3)
				return false;
			out[dots++] = (uint8_t)part;
			part = digits = 0;
		} else if (s[i] >= '0' && s[i] <= '9' && digits < 3) {
			part = part * 10 + (unsigned)(s[i] - '0');
			digits++;
			if (part > 255)
				return false;
		} else {
			return false;
		}
	}
	if (dots != 3 || !digits)
		return false;
	out[3] = (uint8_t)part;
	return true;
}

/* 4 or 6, or 0 if not an address. */
static int address(const char *s, size_t len, uint8_t *out)
{
	char buf[INET6_ADDRSTRLEN];

	memset(out, 0, 16);
	if (len && memchr(s, ':', len)) {
		if (len >= sizeof(buf))
			return 0;
		memcpy(buf, s, len);
		buf[len] = 0;
		return inet_pton(AF_INET6, buf, out) == 1 ? 6 : 0;
	}
	return ipv4(s, len, out) ? 4 : 0;
}

static bool one(const char *s, size_t len, char c)
{
	return len == 1 && s[0] == c;
}

int fl_tuple_parse(enum fl_kind kind, const char *s, size_t len, struct fl_tuple *t,
		   const char **why)
{
	const char *f[FL_FIELDS_MAX];
	size_t fl[FL_FIELDS_MAX];
	int n = split(s, len, f, fl), fam2;
	uint64_t v;
	size_t ctr;

	memset(t, 0, sizeof(*t));
	if (kind == FL_VNET ? n != 13 : (n != 13 && n != 8)) {
		*why = kind == FL_VNET ?
			       "expected 13 comma-separated fields" :
			       "expected 13 (version 2) or 8 (version 1) comma-separated fields";
		return -EINVAL;
	}
	if (!num(f[0], fl[0], kind == FL_VNET ? UINT64_MAX / 2 : UINT64_MAX / 2000, &v)) {
		*why = "the time is not a number";
		return -EINVAL;
	}
	t->ts_ms = kind == FL_VNET ? v : v * 1000;
	t->family = (uint8_t)address(f[1], fl[1], t->saddr);
	if (!t->family) {
		*why = "the source is not an IP address";
		return -EINVAL;
	}
	fam2 = address(f[2], fl[2], t->daddr);
	if (!fam2) {
		*why = "the destination is not an IP address";
		return -EINVAL;
	}
	if (fam2 != t->family) {
		*why = "the source and the destination are of different address families";
		return -EINVAL;
	}
	if (kind == FL_VNET) {
		if (!num(f[5], fl[5], 255, &v)) {
			*why = "the protocol is not a number from 0 to 255";
			return -EINVAL;
		}
		t->proto = (uint8_t)v;
	} else if (one(f[5], fl[5], 'T')) {
		t->proto = AMLG_PROTO_TCP;
	} else if (one(f[5], fl[5], 'U')) {
		t->proto = AMLG_PROTO_UDP;
	} else {
		*why = "the protocol is neither T nor U";
		return -EINVAL;
	}
	/* Ports: TCP and UDP need them; other protocols may leave them empty. */
	for (int i = 3; i <= 4; i++) {
		bool ported = t->proto == AMLG_PROTO_TCP || t->proto == AMLG_PROTO_UDP;

		v = 0;
		if ((fl[i] || ported) && !num(f[i], fl[i], 65535, &v)) {
			*why = i == 3 ? "the source port is not a number from 0 to 65535" :
					"the destination port is not a number from 0 to 65535";
			return -EINVAL;
		}
		if (i == 3)
			t->sport = (uint16_t)v;
		else
			t->dport = (uint16_t)v;
	}
	if (one(f[6], fl[6], 'O')) {
		t->dir = AMLG_DIR_OUT;
	} else if (one(f[6], fl[6], 'I')) {
		t->dir = AMLG_DIR_IN;
	} else {
		*why = "the direction is neither I nor O";
		return -EINVAL;
	}
	if (kind == FL_VNET) {
		if (fl[7] != 1 || !strchr("BCED", f[7][0])) {
			*why = "the flow state is not B, C, E or D";
			return -EINVAL;
		}
		t->state = (uint8_t)f[7][0];
		t->denied = t->state == 'D';
		if (!(one(f[8], 1, 'X') && fl[8] == 1) && !(fl[8] == 2 && !memcmp(f[8], "NX", 2)) &&
		    !(fl[8] > 3 && !memcmp(f[8], "NX_", 3))) {
			*why = "the encryption state is not X, NX or NX_*";
			return -EINVAL;
		}
		ctr = 9;
	} else {
		if (one(f[7], fl[7], 'A')) {
			t->denied = false;
		} else if (one(f[7], fl[7], 'D')) {
			t->denied = true;
		} else {
			*why = "the decision is neither A nor D";
			return -EINVAL;
		}
		if (n == 8)
			return 0;
		if (fl[8] != 1 || !strchr("BCE", f[8][0])) {
			*why = "the flow state is not B, C or E";
			return -EINVAL;
		}
		t->state = (uint8_t)f[8][0];
		ctr = 9;
	}
	if (!fl[ctr] && !fl[ctr + 1] && !fl[ctr + 2] && !fl[ctr + 3])
		return 0;
	{
		uint64_t c[4];

		for (int i = 0; i < 4; i++) {
			if (!num(f[ctr + i], fl[ctr + i], UINT64_MAX / 4, &c[i])) {
				*why = "a packet or byte counter is not a number";
				return -EINVAL;
			}
		}
		t->pkts_s2d = c[0];
		t->bytes_s2d = c[1];
		t->pkts_d2s = c[2];
		t->bytes_d2s = c[3];
		t->counters = true;
	}
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int fl_mac_parse(const char *s, size_t len, uint8_t mac[6])
{
	size_t i = 0;

	for (int b = 0; b < 6; b++) {
		int hi, lo;

		if (b && i < len && (s[i] == ':' || s[i] == '-') && len == 17)
			i++;
		if (i + 2 > len || (hi = hexval(s[i])) < 0 || (lo = hexval(s[i + 1])) < 0)
			return -EINVAL;
		mac[b] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	return i == len ? 0 : -EINVAL;
}

/* ------------------------------------------------------------------ sniffing */

int fl_sniff(const char *path)
{
	unsigned char buf[64];
	gzFile g;
	int n, i = 0;

	g = gzopen(path, "rb");
	if (!g)
		return errno ? -errno : -ENOMEM;
	n = gzread(g, buf, sizeof(buf));
	gzclose(g);
	if (n < 0)
		return -EIO;
	if (n >= 3 && buf[0] == 0xef && buf[1] == 0xbb && buf[2] == 0xbf)
		i = 3;
	while (i < n && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' || buf[i] == '\r'))
		i++;
	return i < n && buf[i] == '{';
}

/* ------------------------------------------------------------------ the stream */

enum node {
	N_NONE,
	N_ROOT,
	N_RECORDS,
	N_RECORD,
	N_FLOWRECORDS, /* VNet */
	N_VFLOWS,
	N_VFLOW,
	N_VGROUPS,
	N_VGROUP,
	N_TUPLES,
	N_PROPS, /* NSG */
	N_NRULES,
	N_NRULE,
	N_NMACS,
	N_NMAC,
	N_TUPLE, /* a string in N_TUPLES */
	/* scalars */
	S_VERSION,
	S_MAC,
	S_FLRES,
	S_NSGRES,
	S_ACL,
	S_RULE,
	S_NSGVERSION,
	S_NMAC,
};

static bool is_map(enum node n)
{
	return n == N_ROOT || n == N_RECORD || n == N_FLOWRECORDS || n == N_VFLOW ||
	       n == N_VGROUP || n == N_PROPS || n == N_NRULE || n == N_NMAC;
}

static bool is_array(enum node n)
{
	return n == N_RECORDS || n == N_VFLOWS || n == N_VGROUPS || n == N_TUPLES ||
	       n == N_NRULES || n == N_NMACS;
}

static enum node element_of(enum node arr)
{
	switch (arr) {
	case N_RECORDS:
		return N_RECORD;
	case N_VFLOWS:
		return N_VFLOW;
	case N_VGROUPS:
		return N_VGROUP;
	case N_NRULES:
		return N_NRULE;
	case N_NMACS:
		return N_NMAC;
	case N_TUPLES:
		return N_TUPLE;
	default:
		return N_NONE;
	}
}

static const char *node_name(enum node n)
{
	switch (n) {
	case N_RECORDS:
		return "records";
	case N_FLOWRECORDS:
		return "flowRecords";
	case N_VFLOWS:
	case N_NRULES:
	case N_NMACS:
		return "flows";
	case N_VGROUPS:
		return "flowGroups";
	case N_TUPLES:
		return "flowTuples";
	case N_PROPS:
		return "properties";
	default:
		return "";
	}
}

/* Metadata of one level of a record: VNet flows[] (acl) and flowGroups[] (rule); NSG
 * properties.flows[] (rule) and its flows[] (mac). */
struct level {
	const char *rule, *acl;
	uint8_t mac[6];
	bool has_mac;
};

struct pending {
	struct fl_tuple t;
	uint32_t l1, l2; /* level indices */
	uint64_t index; /* among the record's tuples */
	uint8_t kind;
};

#define DEPTH_MAX 16

struct frame {
	enum node node;
	enum node expect; /* maps: the value after the current key */
	uint64_t idx; /* arrays: elements so far */
};

struct stream {
	const struct fl_reader_ops *ops;
	const char *path;
	struct fl_file_stats *st;
	struct frame f[DEPTH_MAX];
	int depth; /* frames in use */
	int skip; /* nesting inside a value we do not read */
	bool saw_records;
	int fatal; /* a structural error that ends the file (-EINVAL) */
	char *err;
	size_t errsz;
	/* the current record */
	bool in_record;
	uint64_t record, ntuples;
	int64_t version, nsg_version;
	bool has_version, has_nsg_version, has_mac, bad_mac, is_vnet, is_nsg;
	uint8_t mac[6];
	const char *flres, *nsgres;
	struct level *l1, *l2;
	size_t n1, n2, cap1, cap2;
	struct pending *pend;
	size_t npend, cappend;
	int stop; /* what ops->tuple returned */
};

static void path_of(const struct stream *s, char *buf, size_t sz)
{
	size_t off = 0;

	buf[0] = 0;
	for (int i = 1; i < s->depth && off < sz; i++) {
		const struct frame *fr = &s->f[i];
		const char *name = node_name(fr->node);
		int n;

		if (!*name)
			continue;
		if (is_array(fr->node))
			n = snprintf(buf + off, sz - off, "%s%s[%llu]", off ? "." : "", name,
				     (unsigned long long)(fr->idx ? fr->idx - 1 : 0));
		else
			n = snprintf(buf + off, sz - off, "%s%s", off ? "." : "", name);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

static void bad(struct stream *s, bool record, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void bad(struct stream *s, bool record, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (record)
		s->st->bad_records++;
	else
		s->st->bad_tuples++;
	if (s->ops->bad)
		s->ops->bad(s->ops->arg, msg, record);
}

static void *grow(void *v, size_t *cap, size_t need, size_t elem)
{
	size_t c = *cap ? *cap : 16;
	void *n;

	if (need <= *cap)
		return v;
	while (c < need)
		c *= 2;
	n = realloc(v, c * elem);
	if (n)
		*cap = c;
	return n;
}

static struct level *level_new(struct stream *s, bool first)
{
	struct level **v = first ? &s->l1 : &s->l2;
	size_t *n = first ? &s->n1 : &s->n2, *cap = first ? &s->cap1 : &s->cap2;
	struct level *g = grow(*v, cap, *n + 1, sizeof(**v));

	if (!g)
		return NULL;
	*v = g;
	memset(&g[*n], 0, sizeof(g[*n]));
	return &g[(*n)++];
}

static void record_start(struct stream *s)
{
	s->in_record = true;
	s->ntuples = 0;
	s->has_version = s->has_nsg_version = s->has_mac = s->bad_mac = false;
	s->is_vnet = s->is_nsg = false;
	s->flres = s->nsgres = NULL;
	s->n1 = s->n2 = s->npend = 0;
}

static void record_end(struct stream *s)
{
	bool vnet = s->is_vnet, nsg = s->is_nsg;
	struct fl_meta m = { .file = s->path, .record = s->record };

	s->in_record = false;
	s->st->records++;
	if (!vnet && !nsg) {
		bad(s, true, "%s: record %llu: no flow tuples (neither flowRecords nor properties)",
		    s->path, (unsigned long long)s->record);
		return;
	}
	if (vnet && (!s->has_version || s->version != 4)) {
		if (s->has_version)
			bad(s, true, "%s: record %llu: flowLogVersion %lld is not supported (4 is)",
			    s->path, (unsigned long long)s->record, (long long)s->version);
		else
			bad(s, true, "%s: record %llu: no flowLogVersion", s->path,
			    (unsigned long long)s->record);
		return;
	}
	if (nsg && (!s->has_nsg_version || s->nsg_version < 1 || s->nsg_version > 2)) {
		if (s->has_nsg_version)
			bad(s, true,
			    "%s: record %llu: properties.Version %lld is not supported (1 and 2 are)",
			    s->path, (unsigned long long)s->record, (long long)s->nsg_version);
		else
			bad(s, true, "%s: record %llu: no properties.Version", s->path,
			    (unsigned long long)s->record);
		return;
	}
	if (s->bad_mac)
		bad(s, true,
		    "%s: record %llu: the MAC address is not 12 hex digits (tuples judged without a NIC)",
		    s->path, (unsigned long long)s->record);
	for (size_t i = 0; i < s->npend && !s->stop; i++) {
		const struct pending *p = &s->pend[i];
		const struct level *a = p->l1 < s->n1 ? &s->l1[p->l1] : NULL;
		const struct level *b = p->l2 < s->n2 ? &s->l2[p->l2] : NULL;

		m.tuple = p->index;
		m.kind = (enum fl_kind)p->kind;
		m.has_mac = false;
		if (b && b->has_mac) {
			memcpy(m.mac, b->mac, 6);
			m.has_mac = true;
		} else if (s->has_mac) {
			memcpy(m.mac, s->mac, 6);
			m.has_mac = true;
		}
		if (m.kind == FL_VNET) {
			m.rule = b ? b->rule : NULL;
			m.acl = a ? a->acl : NULL;
			m.resource = s->flres;
		} else {
			m.rule = a ? a->rule : NULL;
			m.acl = s->nsgres;
			m.resource = s->nsgres;
		}
		s->st->tuples++;
		s->stop = s->ops->tuple(s->ops->arg, &m, &p->t);
	}
}

/* The node a value at the current place is: what the enclosing map or array expects. */
static enum node here(struct stream *s)
{
	struct frame *top;

	if (!s->depth)
		return N_ROOT;
	top = &s->f[s->depth - 1];
	if (is_array(top->node)) {
		top->idx++;
		return element_of(top->node);
	}
	return top->expect;
}

static int push(struct stream *s, enum node n)
{
	if (s->depth == DEPTH_MAX) {
		s->skip++;
		return 1;
	}
	s->f[s->depth].node = n;
	s->f[s->depth].expect = N_NONE;
	s->f[s->depth].idx = 0;
	s->depth++;
	if (n == N_RECORD)
		record_start(s);
	else if (n == N_VFLOW || n == N_NRULE)
		return level_new(s, true) ? 1 : 0;
	else if (n == N_VGROUP || n == N_NMAC)
		return level_new(s, false) ? 1 : 0;
	else if (n == N_FLOWRECORDS)
		s->is_vnet = true;
	else if (n == N_PROPS)
		s->is_nsg = true;
	return 1;
}

/* A value of the wrong type where n was expected: say so if it matters, and skip it. */
static void wrong(struct stream *s, enum node n, const char *what)
{
	char p[256];

	path_of(s, p, sizeof(p));
	switch (n) {
	case N_ROOT:
		snprintf(s->err, s->errsz, "%s: not a flow log (the JSON is %s, not an object)",
			 s->path, what);
		s->fatal = -EINVAL;
		break;
	case N_RECORDS:
		snprintf(s->err, s->errsz, "%s: not a flow log (\"records\" is %s, not an array)",
			 s->path, what);
		s->fatal = -EINVAL;
		break;
	case N_TUPLE:
		bad(s, false, "%s: record %llu, tuple %llu (%s): %s, not a string", s->path,
		    (unsigned long long)s->record, (unsigned long long)s->ntuples++, p, what);
		break;
	case N_NONE:
	case S_RULE:
	case S_ACL:
	case S_FLRES:
	case S_NSGRES:
		break; /* not read, or only for display */
	default:
		if (s->in_record)
			bad(s, true, "%s: record %llu (%s): %s where %s was expected", s->path,
			    (unsigned long long)s->record, p, what,
			    is_array(n) ? "an array" :
			    is_map(n)	? "an object" :
					  "another value");
		else if (n == N_RECORD)
			bad(s, true, "%s: record %llu: %s, not an object", s->path,
			    (unsigned long long)(s->f[s->depth - 1].idx - 1), what);
		else
			bad(s, true, "%s: %s where %s was expected", s->path, what,
			    is_array(n) ? "an array" : "an object");
		break;
	}
}

/* An object or an array opens: followed when the reader expects it there, else skipped whole. */
static int start(struct stream *s, bool map)
{
	enum node n;

	if (s->skip) {
		s->skip++;
		return 1;
	}
	n = here(s);
	if (map && n == N_RECORD)
		s->record = s->f[s->depth - 1].idx - 1;
	if (map ? !is_map(n) : !is_array(n)) {
		if (n != N_NONE)
			wrong(s, n, map ? "an object" : "an array");
		s->skip = 1;
		return !s->fatal;
	}
	if (n == N_RECORDS)
		s->saw_records = true;
	return push(s, n);
}

static int cb_start_map(void *ctx)
{
	return start(ctx, true);
}

static int cb_start_array(void *ctx)
{
	return start(ctx, false);
}

static int cb_end_map(void *ctx)
{
	struct stream *s = ctx;
	enum node n;

	if (s->skip) {
		s->skip--;
		return 1;
	}
	n = s->f[--s->depth].node;
	if (n == N_RECORD)
		record_end(s);
	return !s->stop;
}

static int cb_end_array(void *ctx)
{
	struct stream *s = ctx;

	if (s->skip) {
		s->skip--;
		return 1;
	}
	s->depth--;
	return 1;
}

/* The keys the reader follows: in a map of this kind, this key holds that. */
static const struct {
	enum node in;
	const char *key;
	enum node holds;
} keys[] = {
	{ N_ROOT, "records", N_RECORDS },     { N_RECORD, "flowRecords", N_FLOWRECORDS },
	{ N_RECORD, "properties", N_PROPS },  { N_RECORD, "flowLogVersion", S_VERSION },
	{ N_RECORD, "macAddress", S_MAC },    { N_RECORD, "flowLogResourceID", S_FLRES },
	{ N_RECORD, "resourceId", S_NSGRES }, { N_FLOWRECORDS, "flows", N_VFLOWS },
	{ N_VFLOW, "aclID", S_ACL },	      { N_VFLOW, "flowGroups", N_VGROUPS },
	{ N_VGROUP, "flowTuples", N_TUPLES }, { N_VGROUP, "rule", S_RULE },
	{ N_NMAC, "flowTuples", N_TUPLES },   { N_NMAC, "mac", S_NMAC },
	{ N_PROPS, "Version", S_NSGVERSION }, { N_PROPS, "flows", N_NRULES },
	{ N_NRULE, "rule", S_RULE },	      { N_NRULE, "flows", N_NMACS },
};

static int cb_map_key(void *ctx, const unsigned char *k, size_t len)
{
	struct stream *s = ctx;
	struct frame *top;
	enum node e = N_NONE;

	if (s->skip)
		return 1;
	top = &s->f[s->depth - 1];
	/* keys are matched without regard to case, as Azure's own readers do */
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && e == N_NONE; i++)
		if (keys[i].in == top->node && strlen(keys[i].key) == len &&
		    !strncasecmp((const char *)k, keys[i].key, len))
			e = keys[i].holds;
	top->expect = e;
	return 1;
}

/* The kind of the tuples array on top: VNet under flowGroups, NSG under properties. */
static enum fl_kind tuples_kind(const struct stream *s)
{
	return s->depth >= 2 && s->f[s->depth - 2].node == N_NMAC ? FL_NSG : FL_VNET;
}

static int on_tuple(struct stream *s, const unsigned char *v, size_t len)
{
	enum fl_kind kind = tuples_kind(s);
	struct pending *p;
	const char *why = NULL;

	p = grow(s->pend, &s->cappend, s->npend + 1, sizeof(*s->pend));
	if (!p)
		return 0;
	s->pend = p;
	p = &s->pend[s->npend];
	if (fl_tuple_parse(kind, (const char *)v, len, &p->t, &why)) {
		char path[256];

		path_of(s, path, sizeof(path));
		bad(s, false, "%s: record %llu, tuple %llu (%s): '%.*s': %s", s->path,
		    (unsigned long long)s->record, (unsigned long long)s->ntuples, path,
		    (int)(len > 120 ? 120 : len), (const char *)v, why);
		s->ntuples++;
		return 1;
	}
	p->kind = (uint8_t)kind;
	p->index = s->ntuples++;
	p->l1 = (uint32_t)(s->n1 ? s->n1 - 1 : UINT32_MAX);
	p->l2 = (uint32_t)(s->n2 ? s->n2 - 1 : UINT32_MAX);
	s->npend++;
	if (s->ops->progress && !(s->npend & 0x3ffff))
		s->ops->progress(s->ops->arg, -1, s->st->tuples + s->npend);
	return 1;
}

static int cb_string(void *ctx, const unsigned char *v, size_t len)
{
	struct stream *s = ctx;
	enum node n;
	struct level *l;

	if (s->skip)
		return 1;
	n = here(s);
	switch (n) {
	case N_TUPLE:
		return on_tuple(s, v, len);
	case S_MAC:
	case S_NMAC:
		l = n == S_NMAC && s->n2 ? &s->l2[s->n2 - 1] : NULL;
		if (fl_mac_parse((const char *)v, len, l ? l->mac : s->mac)) {
			s->bad_mac = true;
			break;
		}
		if (l)
			l->has_mac = true;
		else
			s->has_mac = true;
		break;
	case S_RULE:
		l = s->f[s->depth - 1].node == N_NRULE ? (s->n1 ? &s->l1[s->n1 - 1] : NULL) :
							 (s->n2 ? &s->l2[s->n2 - 1] : NULL);
		if (l)
			l->rule = s->ops->intern(s->ops->arg, (const char *)v, len);
		break;
	case S_ACL:
		if (s->n1)
			s->l1[s->n1 - 1].acl = s->ops->intern(s->ops->arg, (const char *)v, len);
		break;
	case S_FLRES:
		s->flres = s->ops->intern(s->ops->arg, (const char *)v, len);
		break;
	case S_NSGRES:
		s->nsgres = s->ops->intern(s->ops->arg, (const char *)v, len);
		break;
	case N_NONE:
		break;
	default:
		wrong(s, n, "a string");
		break;
	}
	return !s->fatal;
}

static int cb_number(void *ctx, const char *v, size_t len)
{
	struct stream *s = ctx;
	enum node n;
	char buf[32];
	char *end;
	long long x;

	if (s->skip)
		return 1;
	n = here(s);
	if (n == S_VERSION || n == S_NSGVERSION) {
		if (len >= sizeof(buf))
			len = sizeof(buf) - 1;
		memcpy(buf, v, len);
		buf[len] = 0;
		x = strtoll(buf, &end, 10);
		if (*end)
			x = -1;
		if (n == S_VERSION) {
			s->version = x;
			s->has_version = true;
		} else {
			s->nsg_version = x;
			s->has_nsg_version = true;
		}
	} else if (n != N_NONE) {
		wrong(s, n, "a number");
	}
	return !s->fatal;
}

static int cb_other(struct stream *s, const char *what)
{
	enum node n;

	if (s->skip)
		return 1;
	n = here(s);
	if (n != N_NONE)
		wrong(s, n, what);
	return !s->fatal;
}

static int cb_null(void *ctx)
{
	return cb_other(ctx, "null");
}

static int cb_boolean(void *ctx, int b)
{
	return cb_other(ctx, b ? "true" : "false");
}

static const yajl_callbacks callbacks = {
	.yajl_null = cb_null,
	.yajl_boolean = cb_boolean,
	.yajl_number = cb_number,
	.yajl_string = cb_string,
	.yajl_start_map = cb_start_map,
	.yajl_map_key = cb_map_key,
	.yajl_end_map = cb_end_map,
	.yajl_start_array = cb_start_array,
	.yajl_end_array = cb_end_array,
};

#define CHUNK (1u << 20)

static void json_error(struct stream *s, yajl_handle h, const unsigned char *buf, size_t n,
		       uint64_t base, bool at_end)
{
	unsigned char *e = yajl_get_error(h, 0, buf, n);
	char msg[256];
	size_t l;
	uint64_t off = base + (at_end ? 0 : yajl_get_bytes_consumed(h));

	snprintf(msg, sizeof(msg), "%s", e ? (char *)e : "invalid JSON");
	l = strlen(msg);
	while (l && (msg[l - 1] == '\n' || msg[l - 1] == ' '))
		msg[--l] = 0;
	if (e)
		yajl_free_error(h, e);
	if (s->in_record) {
		if (at_end) {
			s->st->truncated = true;
			bad(s, true,
			    "%s: record %llu: the file ends inside it (%s); the records before it were read",
			    s->path, (unsigned long long)s->record, msg);
		} else {
			bad(s, true,
			    "%s: record %llu: invalid JSON at byte %llu (%s); the rest of the file is not read",
			    s->path, (unsigned long long)s->record, (unsigned long long)off, msg);
		}
	} else if (!s->saw_records) {
		snprintf(s->err, s->errsz, "%s: not a flow log (invalid JSON at byte %llu: %s)",
			 s->path, (unsigned long long)off, msg);
		s->fatal = -EINVAL;
	} else {
		bad(s, true, "%s: invalid JSON at byte %llu (%s)", s->path, (unsigned long long)off,
		    msg);
	}
}

int fl_read_file(const char *path, const struct fl_reader_ops *ops, struct fl_file_stats *st,
		 char *err, size_t errsz)
{
	struct stream *s = calloc(1, sizeof(*s));
	unsigned char *buf = malloc(CHUNK);
	yajl_handle h = NULL;
	uint64_t base = 0;
	struct stat sb;
	gzFile g = NULL;
	int ret = 0, n;
	bool failed = false;

	memset(st, 0, sizeof(*st));
	err[0] = 0;
	if (!s || !buf) {
		ret = -ENOMEM;
		goto out;
	}
	s->ops = ops;
	s->path = path;
	s->st = st;
	s->err = err;
	s->errsz = errsz;
	errno = 0;
	g = gzopen(path, "rb");
	if (!g) {
		ret = errno ? -errno : -ENOMEM;
		snprintf(err, errsz, "%s: cannot open: %s", path, strerror(-ret));
		goto out;
	}
	if (stat(path, &sb))
		sb.st_size = 0;
	gzbuffer(g, 256 * 1024);
	h = yajl_alloc(&callbacks, NULL, s);
	if (!h) {
		ret = -ENOMEM;
		goto out;
	}
	while ((n = gzread(g, buf, CHUNK)) > 0) {
		if (yajl_parse(h, buf, (size_t)n) != yajl_status_ok) {
			if (!s->fatal && !s->stop)
				json_error(s, h, buf, (size_t)n, base, false);
			failed = true;
			break;
		}
		base += (uint64_t)n;
		if (ops->progress && sb.st_size > 0)
			ops->progress(ops->arg, (double)gzoffset(g) / (double)sb.st_size,
				      st->tuples);
	}
	if (n < 0) {
		int e;
		const char *m = gzerror(g, &e);

		if (e == Z_BUF_ERROR && (s->saw_records || base)) {
			/* a gzip stream cut short: what came before it is still good */
			if (s->in_record || s->depth) {
				st->truncated = true;
				bad(s, true,
				    "%s: record %llu: the file ends inside it (the gzip stream is cut short); the records before it were read",
				    path, (unsigned long long)s->record);
			}
			failed = true;
		} else {
			snprintf(err, errsz, "%s: cannot read: %s", path,
				 e == Z_ERRNO ? strerror(errno) : m);
			ret = -EIO;
			goto out;
		}
	}
	if (!failed && yajl_complete_parse(h) != yajl_status_ok && !s->fatal && !s->stop)
		json_error(s, h, NULL, 0, base, true);
	if (s->stop) {
		ret = s->stop;
	} else if (s->fatal) {
		ret = s->fatal;
	} else if (!s->saw_records) {
		snprintf(err, errsz, "%s: not a flow log (no \"records\" array)", path);
		ret = -EINVAL;
	}
out:
	if (h)
		yajl_free(h);
	if (g)
		gzclose(g);
	if (s) {
		free(s->l1);
		free(s->l2);
		free(s->pend);
	}
	free(s);
	free(buf);
	return ret;
}
