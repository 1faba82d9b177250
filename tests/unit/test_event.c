// SPDX-License-Identifier: GPL-2.0-only
/*
 * Violation events (user/base/event.c): checking ring-buffer samples, the time format, and the JSON
 * and text printers.  The JSON is parsed back and checked field by field, so that fields added
 * later do not break these tests.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "unit.h"

#include "base/event.h"
#include "memout.h"

#define TS_NS 1700000000123456789ull /* 2023-11-14T22:13:20.123456789Z */
#define TS_STR "2023-11-14T22:13:20.123456Z"
#define GEN 5
#define RULE_FLOW 3 /* used, with a flow ID */
#define RULE_NOFLOW 4 /* used, without a flow ID */
#define RULE_UNUSED 5

struct fixture {
	struct amlg_rule_info *rules;
	uint8_t hash[32];
	struct event_ctx cx;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	fx->rules = calloc(AMLG_RULE_IDS, sizeof(*fx->rules));
	assert_non_null(fx->rules);
	strcpy(fx->rules[RULE_FLOW].origin, "test.policy:7");
	strcpy(fx->rules[RULE_FLOW].flow, "COMPUTE-OUT-STORAGE");
	fx->rules[RULE_FLOW].used = 1;
	strcpy(fx->rules[RULE_NOFLOW].origin, "test.policy:9");
	fx->rules[RULE_NOFLOW].used = 1;
	/* Metadata that is not in use must not be shown even if the memory holds some. */
	strcpy(fx->rules[RULE_UNUSED].origin, "stale.policy:1");
	strcpy(fx->rules[RULE_UNUSED].flow, "STALE");
	for (unsigned i = 0; i < sizeof(fx->hash); i++)
		fx->hash[i] = (uint8_t)i;
	fx->cx = (struct event_ctx){
		.ifname = "eth0",
		.rules = fx->rules,
		.generation = GEN,
		.mode = AMLG_MODE_AUDIT,
		.hash = NULL,
		.mono_to_real_ns = 0,
	};
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	free(fx->rules);
	free(fx);
	return 0;
}

static void set_addr(struct amlg_event *ev, const char *src, const char *dst)
{
	int af = ev->family == 6 ? AF_INET6 : AF_INET;

	assert_int_equal(inet_pton(af, src, ev->saddr), 1);
	assert_int_equal(inet_pton(af, dst, ev->daddr), 1);
}

static struct amlg_event ev_base(void)
{
	struct amlg_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.ts_ns = TS_NS;
	ev.generation = GEN;
	ev.ifindex = 2;
	ev.pkt_len = 74;
	ev.type = AMLG_EV_VIOLATION;
	ev.dir = AMLG_DIR_OUT;
	ev.reason = AMLG_REASON_NO_RULE;
	ev.rule = AMLG_RULE_NONE;
	return ev;
}

/* A violation of an IP flow. */
static struct amlg_event ev_ip(uint8_t family, uint8_t proto, uint16_t sport, uint16_t dport,
			       const char *src, const char *dst)
{
	struct amlg_event ev = ev_base();

	ev.family = family;
	ev.proto = proto;
	ev.sport = sport;
	ev.dport = dport;
	set_addr(&ev, src, dst);
	return ev;
}

static struct amlg_event ev_tcp4(void)
{
	return ev_ip(4, AMLG_PROTO_TCP, 40000, 443, "10.0.0.1", "20.1.2.3");
}

static struct amlg_event ev_udp6(void)
{
	return ev_ip(6, AMLG_PROTO_UDP, 5353, 53, "fd00::1", "2001:db8::53");
}

static struct amlg_event ev_non_ip(void)
{
	struct amlg_event ev = ev_base();

	ev.dir = AMLG_DIR_IN;
	ev.reason = AMLG_REASON_NON_IP;
	ev.pkt_len = 60;
	return ev;
}

/* ---- event_decode */

static void test_decode_valid(void **state)
{
	struct amlg_event in = ev_tcp4(), out;

	in.cap_len = 54;
	for (unsigned i = 0; i < in.cap_len; i++)
		in.pkt[i] = (uint8_t)i;
	memset(&out, 0xaa, sizeof(out));
	assert_int_equal(event_decode(&in, sizeof(in), &out), 0);
	assert_memory_equal(&in, &out, sizeof(in));

	/* Every family the datapath sends: none (non-IP), 4 and 6. */
	in = ev_non_ip();
	assert_int_equal(event_decode(&in, sizeof(in), &out), 0);
	in = ev_udp6();
	assert_int_equal(event_decode(&in, sizeof(in), &out), 0);
	assert_memory_equal(&in, &out, sizeof(in));

	/* The limits themselves are valid. */
	in = ev_tcp4();
	in.cap_len = AMLG_SNAP_MAX;
	in.reason = AMLG_REASON_MAX - 1;
	in.dir = AMLG_DIRS - 1;
	assert_int_equal(event_decode(&in, sizeof(in), &out), 0);
	assert_int_equal(out.cap_len, AMLG_SNAP_MAX);
}

static void test_decode_size(void **state)
{
	struct amlg_event in = ev_tcp4(), out;
	uint8_t big[sizeof(in) + 8];

	assert_int_equal(event_decode(&in, 0, &out), -EINVAL);
	assert_int_equal(event_decode(&in, 1, &out), -EINVAL);
	assert_int_equal(event_decode(&in, sizeof(in) - 1, &out), -EINVAL);
	assert_int_equal(event_decode(&in, offsetof(struct amlg_event, pkt), &out), -EINVAL);

	/* A longer sample (ring-buffer padding) is fine: the event is its start. */
	memset(big, 0xee, sizeof(big));
	memcpy(big, &in, sizeof(in));
	memset(&out, 0, sizeof(out));
	assert_int_equal(event_decode(big, sizeof(big), &out), 0);
	assert_memory_equal(&in, &out, sizeof(in));
}

static void test_decode_invalid(void **state)
{
	static const struct {
		const char *what;
		size_t off;
		unsigned val;
	} cases[] = {
		{ "type 0", offsetof(struct amlg_event, type), 0 },
		{ "type 2", offsetof(struct amlg_event, type), AMLG_EV_VIOLATION + 1 },
		{ "type 255", offsetof(struct amlg_event, type), 255 },
		{ "family 2 (AF_INET)", offsetof(struct amlg_event, family), 2 },
		{ "family 5", offsetof(struct amlg_event, family), 5 },
		{ "family 10 (AF_INET6)", offsetof(struct amlg_event, family), 10 },
		{ "dir 2", offsetof(struct amlg_event, dir), AMLG_DIRS },
		{ "dir 255", offsetof(struct amlg_event, dir), 255 },
		{ "reason max", offsetof(struct amlg_event, reason), AMLG_REASON_MAX },
		{ "reason 255", offsetof(struct amlg_event, reason), 255 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct amlg_event in = ev_tcp4(), out;

		((uint8_t *)&in)[cases[i].off] = (uint8_t)cases[i].val;
		if (event_decode(&in, sizeof(in), &out) != -EINVAL)
			fail_msg("%s: accepted", cases[i].what);
	}

	for (unsigned cap = AMLG_SNAP_MAX + 1; cap < 0x10000; cap = cap * 2 + 1) {
		struct amlg_event in = ev_tcp4(), out;

		in.cap_len = (uint16_t)cap;
		if (event_decode(&in, sizeof(in), &out) != -EINVAL)
			fail_msg("cap_len %u: accepted", cap);
	}
}

/* ---- time */

static void test_time_str(void **state)
{
	static const struct {
		uint64_t ns;
		const char *want;
	} cases[] = {
		{ 0, "1970-01-01T00:00:00.000000Z" },
		{ 999, "1970-01-01T00:00:00.000000Z" }, /* below a microsecond */
		{ 1000, "1970-01-01T00:00:00.000001Z" },
		{ 999999999, "1970-01-01T00:00:00.999999Z" }, /* cut, not rounded */
		{ 1000000000, "1970-01-01T00:00:01.000000Z" },
		{ TS_NS, TS_STR },
		{ 951782400ull * 1000000000 + 500000000, "2000-02-29T00:00:00.500000Z" },
		{ 4102444799ull * 1000000000 + 999999000, "2099-12-31T23:59:59.999999Z" },
		{ 4102444800ull * 1000000000, "2100-01-01T00:00:00.000000Z" },
	};
	char buf[48];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_ptr_equal(time_str(cases[i].ns, buf, sizeof(buf)), buf);
		assert_string_equal(buf, cases[i].want);
	}
	/* A short buffer is cut and terminated. */
	time_str(TS_NS, buf, 11);
	assert_string_equal(buf, "2023-11-14");
}

static void test_time_ignores_tz(void **state)
{
	char buf[48];
	char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;

	setenv("TZ", "EST5EDT,M3.2.0,M11.1.0", 1); /* POSIX form: needs no tzdata */
	tzset();
	time_str(TS_NS, buf, sizeof(buf));
	if (old) {
		setenv("TZ", old, 1);
		free(old);
	} else {
		unsetenv("TZ");
	}
	tzset();
	assert_string_equal(buf, TS_STR);
}

static void test_mono_to_real(void **state)
{
	struct timespec mono, real;
	int64_t want, got;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	want = ((int64_t)real.tv_sec - mono.tv_sec) * 1000000000 + (real.tv_nsec - mono.tv_nsec);
	got = mono_to_real_offset();
	/* The same offset, up to the clocks being read a little apart (and NTP slew). */
	assert_true(llabs(got - want) < 100000000);
	assert_true(got > 0);
}

/* ---- event_json */

static json_t *to_json(const struct amlg_event *ev, const struct event_ctx *cx)
{
	json_t *o = event_json(ev, cx), *back;
	json_error_t err;
	char *s;

	assert_non_null(o);
	assert_true(json_is_object(o));
	/* What consumers see is the text: check the round trip through it. */
	s = json_dumps(o, JSON_COMPACT);
	assert_non_null(s);
	json_decref(o);
	back = json_loads(s, 0, &err);
	if (!back)
		fail_msg("event JSON does not parse: %s: %s", err.text, s);
	free(s);
	return back;
}

static void assert_str_field(const json_t *o, const char *key, const char *want)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_string(v))
		fail_msg("\"%s\" is not a string", key);
	assert_string_equal(json_string_value(v), want);
}

static void assert_int_field(const json_t *o, const char *key, json_int_t want)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		fail_msg("\"%s\" is not an integer", key);
	assert_int_equal(json_integer_value(v), want);
}

static void assert_null_field(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_null(v))
		fail_msg("\"%s\" is %s", key, v ? "not null" : "missing");
}

static void assert_vlan(const json_t *o, size_t n, const unsigned *want)
{
	const json_t *a = json_object_get(o, "vlan");

	assert_true(json_is_array(a));
	assert_int_equal(json_array_size(a), n);
	for (size_t i = 0; i < n; i++) {
		assert_true(json_is_integer(json_array_get(a, i)));
		assert_int_equal(json_integer_value(json_array_get(a, i)), want[i]);
	}
}

static void test_json_tcp4(void **state)
{
	struct fixture *fx = *state;
	struct amlg_event ev = ev_tcp4();
	json_t *o = to_json(&ev, &fx->cx);

	assert_str_field(o, "time", TS_STR);
	assert_str_field(o, "iface", "eth0");
	assert_str_field(o, "dir", "out");
	assert_str_field(o, "proto", "tcp");
	assert_str_field(o, "src", "10.0.0.1");
	assert_int_field(o, "sport", 40000);
	assert_str_field(o, "dst", "20.1.2.3");
	assert_int_field(o, "dport", 443);
	assert_vlan(o, 0, NULL);
	assert_str_field(o, "reason", "no-rule");
	assert_null_field(o, "rule");
	assert_null_field(o, "flow");
	assert_str_field(o, "action", "pass");
	assert_int_field(o, "len", 74);
	assert_int_field(o, "generation", GEN);
	assert_null(json_object_get(o, "icmp_type"));
	assert_null(json_object_get(o, "icmp_code"));
	assert_null(json_object_get(o, "policy_sha256"));
	json_decref(o);
}

static void test_json_udp6(void **state)
{
	struct fixture *fx = *state;
	struct amlg_event ev = ev_udp6();
	json_t *o;

	ev.dir = AMLG_DIR_IN;
	ev.sport = 65535;
	ev.dport = 1;
	o = to_json(&ev, &fx->cx);
	assert_str_field(o, "dir", "in");
	assert_str_field(o, "proto", "udp");
	/* Addresses without brackets in JSON: the port is its own field. */
	assert_str_field(o, "src", "fd00::1");
	assert_int_field(o, "sport", 65535);
	assert_str_field(o, "dst", "2001:db8::53");
	assert_int_field(o, "dport", 1);
	assert_null(json_object_get(o, "icmp_type"));
	json_decref(o);

	/* A v4-mapped and a full-length address print the usual way. */
	ev = ev_udp6();
	set_addr(&ev, "::ffff:10.0.0.1", "2001:db8:1:2:3:4:5:6");
	o = to_json(&ev, &fx->cx);
	assert_str_field(o, "src", "::ffff:10.0.0.1");
	assert_str_field(o, "dst", "2001:db8:1:2:3:4:5:6");
	json_decref(o);
}

static void test_json_icmp(void **state)
{
	struct fixture *fx = *state;
	struct amlg_event ev = ev_base();
	json_t *o;

	ev.family = 4;
	ev.proto = AMLG_PROTO_ICMP;
	ev.icmp_type = 8;
	ev.icmp_code = 0;
	ev.sport = 1234; /* ignored for ICMP */
	ev.reason = AMLG_REASON_PROTO;
	set_addr(&ev, "10.0.0.1", "10.0.0.2");
	o = to_json(&ev, &fx->cx);
	assert_str_field(o, "proto", "icmp");
	assert_str_field(o, "src", "10.0.0.1");
	assert_str_field(o, "dst", "10.0.0.2");
	assert_null_field(o, "sport");
	assert_null_field(o, "dport");
	assert_int_field(o, "icmp_type", 8);
	assert_int_field(o, "icmp_code", 0);
	assert_str_field(o, "reason", "proto");
	json_decref(o);

	ev = ev_base();
	ev.family = 6;
	ev.proto = AMLG_PROTO_ICMPV6;
	ev.icmp_type = 1; /* destination unreachable */
	ev.icmp_code = 4; /* port unreachable */
	set_addr(&ev, "fe80::1", "ff02::1");
	o = to_json(&ev, &fx->cx);
	assert_str_field(o, "proto", "icmpv6");
	assert_str_field(o, "src", "fe80::1");
	assert_str_field(o, "dst", "ff02::1");
	assert_null_field(o, "sport");
	assert_null_field(o, "dport");
	assert_int_field(o, "icmp_type", 1);
	assert_int_field(o, "icmp_code", 4);
	json_decref(o);
}

static void test_json_other_proto(void **state)
{
	struct fixture *fx = *state;
	struct amlg_event ev = ev_base();
	json_t *o;

	ev.family = 4;
	ev.proto = 47; /* GRE */
	set_addr(&ev, "10.0.0.1", "10.0.0.2");
	o = to_json(&ev, &fx->cx);
	assert_str_field(o, "proto", "47");
	assert_str_field(o, "src", "10.0.0.1");
	assert_null_field(o, "sport");
	assert_null_field(o, "dport");
	assert_null(json_object_get(o, "icmp_type"));
	json_decref(o);
}

static void test_json_non_ip(void **state)
{
	struct fixture *fx = *state;
	struct amlg_event ev = ev_non_ip();
	json_t *o = to_json(&ev, &fx->cx);

	assert_str_field(o, "dir", "in");
	assert_null_field(o, "proto");
	assert_null_field(o, "src");
	assert_null_field(o, "sport");
	assert_null_field(o, "dst");
	assert_null_field(o, "dport");
	assert_null(json_object_get(o, "icmp_type"));
	assert_str_field(o, "reason", "non-ip");
	assert_int_field(o, "len", 60);
	json_decref(o);
}

static void test_json_vlan(void **state)
{
	static const unsigned one[] = { 100 }, two[] = { 100, 4094 };
	struct fixture *fx = *state;
	struct amlg_event ev = ev_tcp4();
	json_t *o;

	ev.vlan[0] = 100;
	o = to_json(&ev, &fx->cx);
	assert_vlan(o, 1, one);
	json_decref(o);

	ev.vlan[1] = 4094;
	o = to_json(&ev, &fx->cx);
	assert_vlan(o, 2, two);
	json_decref(o);

	/* Non-IP frames carry their tags too. */
	ev = ev_non_ip();
	ev.vlan[0] = 100;
	o = to_json(&ev, &fx->cx);
	assert_vlan(o, 1, one);
	json_decref(o);
}

static void test_json_rule(void **state)
{
	struct fixture *fx = *state;
	struct amlg_event ev = ev_tcp4();
	json_t *o;

	ev.reason = AMLG_REASON_PORT;
	ev.rule = RULE_FLOW;
	o = to_json(&ev, &fx->cx);
	assert_str_field(o, "reason", "port");
	assert_str_field(o, "rule", "test.policy:7");
	assert_str_field(o, "flow", "COMPUTE-OUT-STORAGE");
	json_decref(o);

	/* A rule without a flow ID. */
	ev.rule = RULE_NOFLOW;
	o = to_json(&ev, &fx->cx);
	assert_str_field(o, "rule", "test.policy:9");
	assert_null_field(o, "flow");
	json_decref(o);

	/* Unused metadata, no rule, an id out of range. */
	ev.rule = RULE_UNUSED;
	o = to_json(&ev, &fx->cx);
	assert_null_field(o, "rule");
	assert_null_field(o, "flow");
	json_decref(o);
	ev.rule = AMLG_RULE_NONE;
	o = to_json(&ev, &fx->cx);
	assert_null_field(o, "rule");
	json_decref(o);
	ev.rule = AMLG_RULE_IDS;
	o = to_json(&ev, &fx->cx);
	assert_null_field(o, "rule");
	json_decref(o);

	/* Judged by another policy than the one whose metadata we hold. */
	ev.rule = RULE_FLOW;
	ev.generation = GEN - 1;
	o = to_json(&ev, &fx->cx);
	assert_null_field(o, "rule");
	assert_null_field(o, "flow");
	assert_int_field(o, "generation", GEN - 1);
	json_decref(o);

	/* No metadata at all. */
	ev.generation = GEN;
	fx->cx.rules = NULL;
	o = to_json(&ev, &fx->cx);
	assert_null_field(o, "rule");
	assert_null_field(o, "flow");
	json_decref(o);
}

static void test_json_action(void **state)
{
	struct fixture *fx = *state;
	struct amlg_event ev = ev_tcp4();
	json_t *o;

	ev.flags = AMLG_EVF_DROPPED;
	o = to_json(&ev, &fx->cx);
	assert_str_field(o, "action", "drop");
	json_decref(o);

	ev.flags = AMLG_EVF_FRAGMENT;
	o = to_json(&ev, &fx->cx);
	assert_str_field(o, "action", "pass");
	json_decref(o);

	ev.flags = AMLG_EVF_DROPPED | AMLG_EVF_FRAGMENT;
	o = to_json(&ev, &fx->cx);
	assert_str_field(o, "action", "drop");
	json_decref(o);
}

static void test_json_ctx(void **state)
{
	struct fixture *fx = *state;
	struct amlg_event ev = ev_tcp4();
	json_t *o;

	/* Live events: monotonic time plus the offset; a negative offset works too. */
	ev.ts_ns = 5000000000ull;
	fx->cx.mono_to_real_ns = (int64_t)TS_NS - 5000000000ll;
	o = to_json(&ev, &fx->cx);
	assert_str_field(o, "time", TS_STR);
	json_decref(o);
	ev.ts_ns = TS_NS + 2000000000ull;
	fx->cx.mono_to_real_ns = -2000000000ll;
	o = to_json(&ev, &fx->cx);
	assert_str_field(o, "time", TS_STR);
	json_decref(o);

	/* No interface name: an empty string. */
	fx->cx.mono_to_real_ns = 0;
	ev.ts_ns = TS_NS;
	fx->cx.ifname = NULL;
	o = to_json(&ev, &fx->cx);
	assert_str_field(o, "iface", "");
	json_decref(o);

	/* The policy hash, only for events judged by that policy. */
	fx->cx.hash = fx->hash;
	o = to_json(&ev, &fx->cx);
	assert_str_field(o, "policy_sha256",
			 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
	json_decref(o);
	ev.generation = GEN + 1;
	o = to_json(&ev, &fx->cx);
	assert_null(json_object_get(o, "policy_sha256"));
	json_decref(o);
}

/* ---- event_print */

static char *printed(const struct amlg_event *ev, const struct event_ctx *cx)
{
	struct memout m;

	event_print(memout_open(&m), ev, cx);
	return memout_close(&m);
}

static void assert_printed(const struct amlg_event *ev, const struct event_ctx *cx,
			   const char *want)
{
	char *got = printed(ev, cx);

	assert_string_equal(got, want);
	free(got);
}

static void test_print_ip(void **state)
{
	struct fixture *fx = *state;
	struct amlg_event ev = ev_tcp4();

	assert_printed(&ev, &fx->cx,
		       TS_STR " eth0 out tcp 10.0.0.1:40000 -> 20.1.2.3:443 VIOLATION no-rule\n");

	/* "in" is padded to the width of "out". */
	ev = ev_udp6();
	ev.dir = AMLG_DIR_IN;
	ev.reason = AMLG_REASON_PORT;
	assert_printed(&ev, &fx->cx,
		       TS_STR " eth0 in  udp [fd00::1]:5353 -> [2001:db8::53]:53 VIOLATION port\n");

	ev = ev_base();
	ev.family = 4;
	ev.proto = AMLG_PROTO_ICMP;
	ev.icmp_type = 8;
	ev.reason = AMLG_REASON_PROTO;
	set_addr(&ev, "10.0.0.1", "10.0.0.2");
	assert_printed(&ev, &fx->cx,
		       TS_STR " eth0 out icmp 10.0.0.1 -> 10.0.0.2 VIOLATION proto\n");

	/* Without ports, IPv6 addresses need no brackets. */
	ev = ev_base();
	ev.family = 6;
	ev.proto = AMLG_PROTO_ICMPV6;
	set_addr(&ev, "fe80::1", "ff02::1");
	assert_printed(&ev, &fx->cx,
		       TS_STR " eth0 out icmpv6 fe80::1 -> ff02::1 VIOLATION no-rule\n");

	ev = ev_base();
	ev.family = 4;
	ev.proto = 47;
	set_addr(&ev, "10.0.0.1", "10.0.0.2");
	assert_printed(&ev, &fx->cx,
		       TS_STR " eth0 out 47 10.0.0.1 -> 10.0.0.2 VIOLATION no-rule\n");
}

static void test_print_non_ip(void **state)
{
	struct fixture *fx = *state;
	struct amlg_event ev = ev_non_ip();

	assert_printed(&ev, &fx->cx, TS_STR " eth0 in  - VIOLATION non-ip\n");
	ev.vlan[0] = 7;
	assert_printed(&ev, &fx->cx, TS_STR " eth0 in  - vlan 7 VIOLATION non-ip\n");
}

static void test_print_vlan_drop(void **state)
{
	struct fixture *fx = *state;
	struct amlg_event ev = ev_tcp4();

	ev.vlan[0] = 100;
	assert_printed(&ev, &fx->cx,
		       TS_STR " eth0 out tcp 10.0.0.1:40000 -> 20.1.2.3:443 vlan 100 VIOLATION "
			      "no-rule\n");
	ev.vlan[1] = 200;
	ev.flags = AMLG_EVF_DROPPED;
	assert_printed(&ev, &fx->cx,
		       TS_STR " eth0 out tcp 10.0.0.1:40000 -> 20.1.2.3:443 vlan 100.200 DROP "
			      "no-rule\n");
}

static void test_print_rule(void **state)
{
	struct fixture *fx = *state;
	struct amlg_event ev = ev_tcp4();

	ev.reason = AMLG_REASON_PORT;
	ev.rule = RULE_FLOW;
	ev.flags = AMLG_EVF_DROPPED;
	assert_printed(&ev, &fx->cx,
		       TS_STR " eth0 out tcp 10.0.0.1:40000 -> 20.1.2.3:443 DROP port "
			      "(near test.policy:7 COMPUTE-OUT-STORAGE)\n");

	ev.rule = RULE_NOFLOW;
	assert_printed(&ev, &fx->cx,
		       TS_STR " eth0 out tcp 10.0.0.1:40000 -> 20.1.2.3:443 DROP port "
			      "(near test.policy:9)\n");

	/* Another generation's rule ids mean nothing here. */
	ev.rule = RULE_FLOW;
	ev.generation = GEN + 1;
	assert_printed(&ev, &fx->cx,
		       TS_STR " eth0 out tcp 10.0.0.1:40000 -> 20.1.2.3:443 DROP port\n");

	ev.generation = GEN;
	ev.rule = RULE_UNUSED;
	assert_printed(&ev, &fx->cx,
		       TS_STR " eth0 out tcp 10.0.0.1:40000 -> 20.1.2.3:443 DROP port\n");

	ev = ev_udp6();
	ev.reason = AMLG_REASON_PORT;
	ev.rule = RULE_FLOW;
	fx->cx.ifname = NULL;
	assert_printed(&ev, &fx->cx,
		       TS_STR "  out udp [fd00::1]:5353 -> [2001:db8::53]:53 VIOLATION port "
			      "(near test.policy:7 COMPUTE-OUT-STORAGE)\n");
}

/*
 * Names and rule metadata that are not clean text: an interface name in another encoding,
 * control characters, rule strings without their NUL (pinned maps of another version).  The
 * event must still be printed whole, the bytes escaped, nothing read past a field.
 */
static void test_unclean_text(void **state)
{
	struct fixture *fx = *state;
	struct amlg_event ev = ev_tcp4();
	char *text;
	json_t *o;

	ev.reason = AMLG_REASON_PORT;
	ev.rule = AMLG_RULE_IDS - 1;
	fx->rules[ev.rule].used = 1;
	memset(fx->rules[ev.rule].flow, 'F', sizeof(fx->rules[ev.rule].flow));
	memset(fx->rules[ev.rule].origin, 'o', sizeof(fx->rules[ev.rule].origin));
	fx->rules[ev.rule].origin[0] = '\x1b';
	fx->cx.ifname = "eth\xf3\x1b[2J";
	o = to_json(&ev, &fx->cx);
	assert_str_field(o, "iface", "eth\\xf3\\x1b[2J");
	assert_int_equal(strlen(json_string_value(json_object_get(o, "flow"))),
			 sizeof(fx->rules[0].flow));
	assert_int_equal(strlen(json_string_value(json_object_get(o, "rule"))),
			 sizeof(fx->rules[0].origin));
	json_decref(o);
	text = printed(&ev, &fx->cx);
	assert_non_null(strstr(text, " eth\\xf3\\x1b[2J out tcp "));
	assert_non_null(strstr(text, "(near \\x1booo"));
	assert_null(strchr(text, '\x1b'));
	free(text);
}

UNIT_TESTS(NULL, NULL, cmocka_unit_test(test_decode_valid), cmocka_unit_test(test_decode_size),
	   cmocka_unit_test(test_decode_invalid), cmocka_unit_test(test_time_str),
	   cmocka_unit_test(test_time_ignores_tz), cmocka_unit_test(test_mono_to_real),
	   cmocka_unit_test_setup_teardown(test_json_tcp4, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_json_udp6, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_json_icmp, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_json_other_proto, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_json_non_ip, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_json_vlan, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_json_rule, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_json_action, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_json_ctx, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_print_ip, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_print_non_ip, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_print_vlan_drop, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_print_rule, setup, teardown),
	   cmocka_unit_test_setup_teardown(test_unclean_text, setup, teardown))
