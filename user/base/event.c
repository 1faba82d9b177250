// SPDX-License-Identifier: GPL-2.0-only
/* Violation events from the datapath: checking, and printing as JSON lines or text. */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/event.h"
#include "base/names.h"
#include "base/prefix.h"

int event_decode(const void *data, size_t size, struct amlg_event *ev)
{
	if (size < sizeof(*ev))
		return -EINVAL;
	memcpy(ev, data, sizeof(*ev));
	if (ev->type != AMLG_EV_VIOLATION || (ev->family != 4 && ev->family != 6 && ev->family) ||
	    ev->dir >= AMLG_DIRS || ev->cap_len > AMLG_SNAP_MAX || ev->reason >= AMLG_REASON_MAX)
		return -EINVAL;
	return 0;
}

int64_t mono_to_real_offset(void)
{
	struct timespec mono, real;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	return ((int64_t)real.tv_sec - mono.tv_sec) * 1000000000 + (real.tv_nsec - mono.tv_nsec);
}

char *time_str(uint64_t real_ns, char *buf, size_t sz)
{
	time_t sec = (time_t)(real_ns / 1000000000);
	struct tm tm;
	char base[32];

	gmtime_r(&sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, sz, "%s.%06uZ", base, (unsigned)(real_ns % 1000000000 / 1000));
	return buf;
}

int event_learned_name(int names_fd, uint64_t hash, char *buf, size_t sz)
{
	struct amlg_name n;

	if (names_fd <= 0 || !hash || bpf_map_lookup_elem(names_fd, &hash, &n) ||
	    n.len >= sizeof(n.text))
		return -ENOENT;
	snprintf(buf, sz, "%.*s", (int)n.len, n.text);
	return 0;
}

/*
 * Text from maps and names for output.  The rule metadata and policy header come from pinned
 * maps (maybe written by another version), learned names from DNS answers on the wire, and an
 * interface name may hold any byte but '/', ':' and blanks: read at most max bytes, and never
 * let a byte break the output.  JSON keeps valid UTF-8 and escapes the bytes of anything else
 * (\xNN), where jansson would refuse the string and the whole event would be lost; text
 * output escapes every byte that is not printable ASCII, so nothing reaches a terminal as a
 * control sequence.
 */
#define TEXT_MAX AMLG_NAME_MAX

static char *escape(const char *s, size_t n, char *buf, size_t sz)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 5 <= sz; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch >= 0x20 && ch < 0x7f)
			buf[o++] = (char)ch;
		else
			o += (size_t)snprintf(buf + o, sz - o, "\\x%02x", ch);
	}
	buf[o] = '\0';
	return buf;
}

static json_t *json_text(const char *s, size_t max)
{
	char buf[4 * TEXT_MAX + 1];
	size_t n = strnlen(s, max < TEXT_MAX ? max : TEXT_MAX);
	json_t *j = json_stringn(s, n);

	return j ? j : json_string(escape(s, n, buf, sizeof(buf)));
}

static const char *print_text(const char *s, size_t max, char *buf, size_t sz)
{
	return escape(s, strnlen(s, max), buf, sz);
}

static const struct amlg_rule_info *event_rule(const struct amlg_event *ev,
					       const struct event_ctx *cx)
{
	if (ev->rule >= AMLG_RULE_IDS || !cx->rules || cx->generation != ev->generation)
		return NULL;
	return cx->rules[ev->rule].used ? &cx->rules[ev->rule] : NULL;
}

/*
 * The VLAN tags the packet had: nvlan of them, VLAN ID 0 included (a datapath that predates
 * nvlan leaves it 0: its non-zero IDs are the tags).
 */
static int vlan_count(const struct amlg_event *ev)
{
	if (ev->nvlan)
		return ev->nvlan < 2 ? ev->nvlan : 2;
	return ev->vlan[1] ? 2 : ev->vlan[0] ? 1 : 0;
}

static json_t *vlan_json(const struct amlg_event *ev)
{
	json_t *a = json_array();

	for (int i = 0; i < vlan_count(ev); i++)
		json_array_append_new(a, json_integer(ev->vlan[i]));
	return a;
}

/* The service-tag data the verdict came from, or null for a policy without a tag file. */
static json_t *tags_json(const struct amlg_pcfg *pc)
{
	json_t *o;

	if (!pc->tags_change && !pc->tags_cloud[0])
		return json_null();
	o = json_pack("{s:o, s:I}", "cloud", json_text(pc->tags_cloud, sizeof(pc->tags_cloud)),
		      "change", (json_int_t)pc->tags_change);
	if (pc->tags_date[0])
		json_object_set_new(o, "date", json_text(pc->tags_date, sizeof(pc->tags_date)));
	return o;
}

json_t *event_json(const struct amlg_event *ev, const struct event_ctx *cx)
{
	const struct amlg_rule_info *r = event_rule(ev, cx);
	char ts[48], src[48], dst[48], p[8], hash[65];
	bool ported = ev->proto == AMLG_PROTO_TCP || ev->proto == AMLG_PROTO_UDP;
	json_t *o;

	time_str(ev->ts_ns + (uint64_t)cx->mono_to_real_ns, ts, sizeof(ts));
	o = json_pack("{s:s, s:o, s:s}", "time", ts, "iface",
		      json_text(cx->ifname ? cx->ifname : "", TEXT_MAX), "dir",
		      ev->dir == AMLG_DIR_OUT ? "out" : "in");
	if (ev->family) {
		json_object_set_new(o, "proto", json_string(l4_str(ev->proto, p, sizeof(p))));
		json_object_set_new(o, "src",
				    json_string(addr_str(ev->family, ev->saddr, src, sizeof(src))));
		json_object_set_new(o, "sport", ported ? json_integer(ev->sport) : json_null());
		json_object_set_new(o, "dst",
				    json_string(addr_str(ev->family, ev->daddr, dst, sizeof(dst))));
		json_object_set_new(o, "dport", ported ? json_integer(ev->dport) : json_null());
	} else {
		json_object_set_new(o, "proto", json_null());
		json_object_set_new(o, "src", json_null());
		json_object_set_new(o, "sport", json_null());
		json_object_set_new(o, "dst", json_null());
		json_object_set_new(o, "dport", json_null());
	}
	if (ev->proto == AMLG_PROTO_ICMP || ev->proto == AMLG_PROTO_ICMPV6) {
		json_object_set_new(o, "icmp_type", json_integer(ev->icmp_type));
		json_object_set_new(o, "icmp_code", json_integer(ev->icmp_code));
	}
	json_object_set_new(o, "vlan", vlan_json(ev));
	json_object_set_new(o, "reason", json_string(reason_str(ev->reason)));
	json_object_set_new(o, "rule", r ? json_text(r->origin, sizeof(r->origin)) : json_null());
	json_object_set_new(o, "flow",
			    r && r->flow[0] ? json_text(r->flow, sizeof(r->flow)) : json_null());
	/* the remote address was learned from DNS for a name: which one */
	if (ev->learned_name) {
		char name[AMLG_NAME_MAX];

		if (event_learned_name(cx->names_fd, ev->learned_name, name, sizeof(name)) == 0)
			json_object_set_new(o, "learned_as", json_text(name, sizeof(name)));
	}
	json_object_set_new(o, "action",
			    json_string(ev->flags & AMLG_EVF_DROPPED ? "drop" : "pass"));
	json_object_set_new(o, "len", json_integer(ev->pkt_len));
	json_object_set_new(o, "generation", json_integer((json_int_t)ev->generation));
	if (cx->hash && cx->generation == ev->generation)
		json_object_set_new(o, "policy_sha256", json_string(hex_str(cx->hash, 32, hash)));
	if (cx->pcfg && cx->pcfg->generation == ev->generation)
		json_object_set_new(o, "tags", tags_json(cx->pcfg));
	return o;
}

void event_print(FILE *f, const struct amlg_event *ev, const struct event_ctx *cx)
{
	const struct amlg_rule_info *r = event_rule(ev, cx);
	char ts[48], src[48], dst[48], p[8], t1[4 * TEXT_MAX + 1], t2[4 * TEXT_MAX + 1];

	time_str(ev->ts_ns + (uint64_t)cx->mono_to_real_ns, ts, sizeof(ts));
	fprintf(f, "%s %s %-3s ", ts,
		print_text(cx->ifname ? cx->ifname : "", TEXT_MAX, t1, sizeof(t1)),
		ev->dir == AMLG_DIR_OUT ? "out" : "in");
	if (!ev->family) {
		fprintf(f, "-");
	} else if (ev->proto == AMLG_PROTO_TCP || ev->proto == AMLG_PROTO_UDP) {
		bool v6 = ev->family == 6;

		fprintf(f, "%s %s%s%s:%u -> %s%s%s:%u", l4_str(ev->proto, p, sizeof(p)),
			v6 ? "[" : "", addr_str(ev->family, ev->saddr, src, sizeof(src)),
			v6 ? "]" : "", ev->sport, v6 ? "[" : "",
			addr_str(ev->family, ev->daddr, dst, sizeof(dst)), v6 ? "]" : "",
			ev->dport);
	} else {
		fprintf(f, "%s %s -> %s", l4_str(ev->proto, p, sizeof(p)),
			addr_str(ev->family, ev->saddr, src, sizeof(src)),
			addr_str(ev->family, ev->daddr, dst, sizeof(dst)));
	}
	if (vlan_count(ev))
		fprintf(f, " vlan %u", ev->vlan[0]);
	if (vlan_count(ev) > 1)
		fprintf(f, ".%u", ev->vlan[1]);
	fprintf(f, " %s %s", ev->flags & AMLG_EVF_DROPPED ? "DROP" : "VIOLATION",
		reason_str(ev->reason));
	if (r)
		fprintf(f, " (near %s%s%s)",
			print_text(r->origin, sizeof(r->origin), t1, sizeof(t1)),
			r->flow[0] ? " " : "",
			print_text(r->flow, sizeof(r->flow), t2, sizeof(t2)));
	if (ev->learned_name) {
		char name[AMLG_NAME_MAX];

		if (event_learned_name(cx->names_fd, ev->learned_name, name, sizeof(name)) == 0)
			fprintf(f, " [address learned as %s]",
				print_text(name, sizeof(name), t1, sizeof(t1)));
	}
	fputc('\n', f);
}
