// SPDX-License-Identifier: GPL-2.0-only
/*
 * Flow logs (user/azure/flowlog.c, flowlog_report.c): the tuple parser of both formats, MAC addresses,
 * the streaming reader over plain and gzip files (metadata, malformed tuples and records named by
 * file, record and tuple, cut-short files, files that are not flow logs), time arguments, and
 * the report's merge keeping the earliest tuple's NSG rule.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "unit.h"

#include "bpf/amlguard_abi.h"
#include "azure/flowlog.h"
#include "azure/flowlog_check.h"
#include "azure/flowlog_report.h"

static struct fl_tuple parse_ok(enum fl_kind k, const char *s)
{
	struct fl_tuple t;
	const char *why = NULL;

	if (fl_tuple_parse(k, s, strlen(s), &t, &why))
		fail_msg("'%s': %s", s, why);
	return t;
}

static void parse_bad(enum fl_kind k, const char *s, const char *want)
{
	struct fl_tuple t;
	const char *why = NULL;

	assert_int_equal(fl_tuple_parse(k, s, strlen(s), &t, &why), -EINVAL);
	assert_non_null(why);
	if (!strstr(why, want))
		fail_msg("'%s': '%s' does not say '%s'", s, why, want);
}

static void test_vnet_tuples(void **state)
{
	/* the documentation's sample */
	struct fl_tuple t = parse_ok(
		FL_VNET, "1663146003606,10.0.0.6,52.239.184.180,23956,443,6,O,E,NX,3,767,2,1580");
	const uint8_t src[4] = { 10, 0, 0, 6 }, dst[4] = { 52, 239, 184, 180 };

	assert_int_equal(t.ts_ms, 1663146003606ull);
	assert_int_equal(t.family, 4);
	assert_memory_equal(t.saddr, src, 4);
	assert_memory_equal(t.daddr, dst, 4);
	assert_int_equal(t.sport, 23956);
	assert_int_equal(t.dport, 443);
	assert_int_equal(t.proto, 6);
	assert_int_equal(t.dir, AMLG_DIR_OUT);
	assert_int_equal(t.state, 'E');
	assert_false(t.denied);
	assert_true(t.counters);
	assert_int_equal(t.pkts_s2d, 3);
	assert_int_equal(t.bytes_s2d, 767);
	assert_int_equal(t.pkts_d2s, 2);
	assert_int_equal(t.bytes_d2s, 1580);
	/* B without counters, inbound, the encryption reasons */
	t = parse_ok(FL_VNET, "1493763938,185.170.185.105,10.2.0.4,35370,23,6,I,B,NX,,,,");
	assert_int_equal(t.dir, AMLG_DIR_IN);
	assert_int_equal(t.state, 'B');
	assert_false(t.counters);
	t = parse_ok(FL_VNET, "1,10.0.0.6,10.0.0.7,1,2,17,O,C,NX_LOCAL_DST,0,0,0,0");
	assert_int_equal(t.proto, 17);
	assert_true(t.counters);
	t = parse_ok(FL_VNET, "1,10.0.0.6,10.0.0.7,1,2,6,O,B,X,,,,");
	/* denied */
	t = parse_ok(FL_VNET, "1663145998065,101.33.218.153,10.0.0.6,55188,22,6,I,D,NX,0,0,0,0");
	assert_true(t.denied);
	assert_int_equal(t.state, 'D');
	/* IPv6, and ICMP without ports */
	t = parse_ok(FL_VNET, "5,2001:db8::1,2001:db8:1::5,50000,443,6,O,E,NX,1,2,3,4");
	assert_int_equal(t.family, 6);
	assert_int_equal(t.saddr[0], 0x20);
	assert_int_equal(t.daddr[5], 0x01);
	t = parse_ok(FL_VNET, "5,10.0.0.6,10.0.0.7,,,1,O,E,NX,1,84,1,84");
	assert_int_equal(t.proto, 1);
	assert_int_equal(t.sport, 0);
	(void)state;
}

static void test_nsg_tuples(void **state)
{
	struct fl_tuple t =
		parse_ok(FL_NSG, "1542110379,10.5.16.4,203.0.113.117,59932,443,T,O,A,E,1,66,1,66");

	assert_int_equal(t.ts_ms, 1542110379000ull);
	assert_int_equal(t.proto, 6);
	assert_int_equal(t.dir, AMLG_DIR_OUT);
	assert_false(t.denied);
	assert_int_equal(t.state, 'E');
	assert_int_equal(t.bytes_d2s, 66);
	t = parse_ok(FL_NSG, "1542110402,192.0.2.190,10.5.16.4,28746,443,U,I,D,B,,,,");
	assert_int_equal(t.proto, 17);
	assert_true(t.denied);
	assert_false(t.counters);
	/* version 1: no state, no counters */
	t = parse_ok(FL_NSG, "1487282421,192.0.2.95,10.1.0.4,51529,5358,T,I,D");
	assert_true(t.denied);
	assert_int_equal(t.state, 0);
	(void)state;
}

static void test_bad_tuples(void **state)
{
	parse_bad(FL_VNET, "", "13 comma-separated fields");
	parse_bad(FL_VNET, "1,10.0.0.6,10.0.0.7,1,2,6,O,B,NX,,,", "13 comma-separated");
	parse_bad(FL_VNET, "1,10.0.0.6,10.0.0.7,1,2,6,O,B,NX,,,,,", "13 comma-separated");
	parse_bad(FL_VNET, "x,10.0.0.6,10.0.0.7,1,2,6,O,B,NX,,,,", "time");
	parse_bad(FL_VNET, "1,10.0.0.256,10.0.0.7,1,2,6,O,B,NX,,,,", "source");
	parse_bad(FL_VNET, "1,10.0.0,10.0.0.7,1,2,6,O,B,NX,,,,", "source");
	parse_bad(FL_VNET, "1,10.0.0.6,10.0.0.7.8,1,2,6,O,B,NX,,,,", "destination");
	parse_bad(FL_VNET, "1,10.0.0.6,2001:db8::1,1,2,6,O,B,NX,,,,", "families");
	parse_bad(FL_VNET, "1,10.0.0.6,10.0.0.7,65536,2,6,O,B,NX,,,,", "source port");
	parse_bad(FL_VNET, "1,10.0.0.6,10.0.0.7,1,,6,O,B,NX,,,,", "destination port");
	parse_bad(FL_VNET, "1,10.0.0.6,10.0.0.7,1,2,256,O,B,NX,,,,", "protocol");
	parse_bad(FL_VNET, "1,10.0.0.6,10.0.0.7,1,2,6,X,B,NX,,,,", "direction");
	parse_bad(FL_VNET, "1,10.0.0.6,10.0.0.7,1,2,6,O,A,NX,,,,", "flow state");
	parse_bad(FL_VNET, "1,10.0.0.6,10.0.0.7,1,2,6,O,B,,,,,", "encryption");
	parse_bad(FL_VNET, "1,10.0.0.6,10.0.0.7,1,2,6,O,C,NX,1,x,2,3", "counter");
	parse_bad(FL_VNET, "1,10.0.0.6,10.0.0.7,1,2,6,O,C,NX,1,,2,3", "counter");
	parse_bad(FL_NSG, "1,10.0.0.6,10.0.0.7,1,2,6,O,A,B,,,,", "neither T nor U");
	parse_bad(FL_NSG, "1,10.0.0.6,10.0.0.7,1,2,T,O,X,B,,,,", "decision");
	parse_bad(FL_NSG, "1,10.0.0.6,10.0.0.7,1,2,T,O,A,D,,,,", "flow state");
	parse_bad(FL_NSG, "1,10.0.0.6,10.0.0.7,1,2,T,O,A,B,,,", "version 2");
	(void)state;
}

static void test_mac(void **state)
{
	uint8_t m[6];
	const uint8_t want[6] = { 0x00, 0x22, 0x48, 0x71, 0xc2, 0x05 };

	assert_int_equal(fl_mac_parse("00224871C205", 12, m), 0);
	assert_memory_equal(m, want, 6);
	assert_int_equal(fl_mac_parse("00:22:48:71:c2:05", 17, m), 0);
	assert_memory_equal(m, want, 6);
	assert_int_equal(fl_mac_parse("00-22-48-71-C2-05", 17, m), 0);
	assert_memory_equal(m, want, 6);
	assert_int_equal(fl_mac_parse("00224871C2", 10, m), -EINVAL);
	assert_int_equal(fl_mac_parse("00224871C205FF", 14, m), -EINVAL);
	assert_int_equal(fl_mac_parse("0022487XC205", 12, m), -EINVAL);
	(void)state;
}

static void test_time(void **state)
{
	uint64_t ms;

	assert_int_equal(fl_time_parse("2026-12-03", &ms), 0);
	assert_int_equal(ms, 1796256000000ull);
	assert_int_equal(fl_time_parse("2026-12-03T08:00:00Z", &ms), 0);
	assert_int_equal(ms, 1796284800000ull);
	assert_int_equal(fl_time_parse("2026-12-03T08:00", &ms), 0);
	assert_int_equal(ms, 1796284800000ull);
	assert_int_equal(fl_time_parse("@1796284800", &ms), 0);
	assert_int_equal(ms, 1796284800000ull);
	assert_int_equal(fl_time_parse("yesterday", &ms), -EINVAL);
	assert_int_equal(fl_time_parse("2026-12-03T08:00:00+01:00", &ms), -EINVAL);
	assert_int_equal(fl_time_parse("@", &ms), -EINVAL);
	(void)state;
}

/* ------------------------------------------------------------------ the reader */

struct seen {
	struct fl_meta m[16];
	struct fl_tuple t[16];
	int n;
	char bad[8][512];
	int nbad;
	struct fl_pool pool;
};

static int on_tuple(void *arg, const struct fl_meta *m, const struct fl_tuple *t)
{
	struct seen *s = arg;

	if (s->n < 16) {
		s->m[s->n] = *m;
		s->t[s->n] = *t;
	}
	s->n++;
	return 0;
}

static void on_bad(void *arg, const char *msg, bool record)
{
	struct seen *s = arg;

	if (s->nbad < 8)
		snprintf(s->bad[s->nbad], sizeof(s->bad[0]), "%s", msg);
	s->nbad++;
	(void)record;
}

static const char *on_intern(void *arg, const char *str, size_t len)
{
	struct seen *s = arg;

	return fl_pool_get(&s->pool, str, len);
}

static char dir_tmpl[] = "/tmp/amlg-flowlog-XXXXXX";

static const char *write_file(const char *name, const char *text, bool gz)
{
	static char path[4][256];
	static int i;
	char *p = path[i++ % 4];

	snprintf(p, 256, "%s/%s", dir_tmpl, name);
	if (gz) {
		gzFile g = gzopen(p, "wb");

		assert_non_null(g);
		assert_int_equal(gzwrite(g, text, (unsigned)strlen(text)), (int)strlen(text));
		gzclose(g);
	} else {
		FILE *f = fopen(p, "w");

		assert_non_null(f);
		fputs(text, f);
		fclose(f);
	}
	return p;
}

static int read_into(const char *path, struct seen *s, struct fl_file_stats *st, char *err)
{
	struct fl_reader_ops ops = {
		.tuple = on_tuple, .bad = on_bad, .intern = on_intern, .arg = s
	};

	memset(s, 0, sizeof(*s));
	return fl_read_file(path, &ops, st, err, 512);
}

/* Metadata after the tuples, and a flowGroups rule after its tuples: still theirs. */
static const char vnet_doc[] =
	"{\"records\":[{\"flowRecords\":{\"flows\":[{\"flowGroups\":[{\"flowTuples\":["
	"\"1663146003599,10.0.0.6,52.239.184.180,23956,443,6,O,B,NX,0,0,0,0\","
	"\"1663146003606,10.0.0.6,52.239.184.180,23956,443,6,O,E,NX,3,767,2,1580\","
	"\"1663146003607,10.0.0.6,52.239.184.180,23956\","
	"17],\"rule\":\"DefaultRule_AllowInternetOutBound\"}],\"aclID\":\"acl-1\"}]},"
	"\"time\":\"2022-09-14T09:00:52.5625085Z\",\"flowLogVersion\":4,\"macAddress\":\"00224871C205\","
	"\"category\":\"FlowLogFlowEvent\",\"flowLogResourceID\":\"/FLOWLOGS/VNETFLOWLOG\"},"
	"{\"flowLogVersion\":5,\"flowRecords\":{\"flows\":[]}},"
	"[1,2],"
	"{\"time\":\"x\",\"flowLogVersion\":4,\"macAddress\":\"0022487\",\"flowRecords\":{\"flows\":[{"
	"\"aclID\":\"acl-2\",\"flowGroups\":[{\"rule\":\"BlockHigh\",\"flowTuples\":["
	"\"1663145998065,101.33.218.153,10.0.0.6,55188,22,6,I,D,NX,0,0,0,0\"]}]}]}}"
	"]}";

static void test_reader_vnet(void **state)
{
	struct seen s;
	struct fl_file_stats st;
	char err[512];

	for (int gz = 0; gz < 2; gz++) {
		const char *p = write_file(gz ? "v.json.gz" : "v.json", vnet_doc, gz);

		assert_int_equal(read_into(p, &s, &st, err), 0);
		assert_int_equal(s.n, 3);
		assert_int_equal(st.tuples, 3);
		assert_int_equal(st.records, 3);
		assert_int_equal(st.bad_tuples, 2);
		assert_int_equal(st.bad_records, 3);
		assert_false(st.truncated);
		assert_string_equal(s.m[0].rule, "DefaultRule_AllowInternetOutBound");
		assert_string_equal(s.m[0].acl, "acl-1");
		assert_string_equal(s.m[0].resource, "/FLOWLOGS/VNETFLOWLOG");
		assert_true(s.m[0].has_mac);
		assert_int_equal(s.m[0].mac[5], 0x05);
		assert_int_equal(s.m[0].kind, FL_VNET);
		assert_int_equal(s.m[1].tuple, 1);
		assert_int_equal(s.t[1].pkts_d2s, 2);
		/* the record with a bad MAC: judged without a NIC, said so */
		assert_int_equal(s.m[2].record, 3);
		assert_false(s.m[2].has_mac);
		assert_string_equal(s.m[2].rule, "BlockHigh");
		assert_true(s.t[2].denied);
		/* the messages name the file, the record and the tuple */
		assert_int_equal(s.nbad, 5);
		assert_non_null(strstr(
			s.bad[0],
			"record 0, tuple 2 (records[0].flowRecords.flows[0].flowGroups[0].flowTuples[2])"));
		assert_non_null(strstr(s.bad[0], p));
		assert_non_null(strstr(s.bad[0], "13 comma-separated"));
		assert_non_null(strstr(s.bad[1], "record 0, tuple 3"));
		assert_non_null(strstr(s.bad[1], "a number, not a string"));
		assert_non_null(strstr(s.bad[2], "record 1: flowLogVersion 5 is not supported"));
		assert_non_null(strstr(s.bad[3], "record 2: an array, not an object"));
		assert_non_null(strstr(s.bad[4], "record 3: the MAC address"));
		fl_pool_free(&s.pool);
	}
	(void)state;
}

static const char nsg_doc[] =
	" \n{\"records\":[{\"time\":\"2018-11-13T12:00:35.3899262Z\",\"systemId\":\"x\","
	"\"category\":\"NetworkSecurityGroupFlowEvent\",\"resourceId\":\"/NSG/FABRIKAM\","
	"\"operationName\":\"NetworkSecurityGroupFlowEvents\",\"properties\":{\"Version\":2,"
	"\"flows\":[{\"rule\":\"DefaultRule_DenyAllInBound\",\"flows\":[{\"mac\":\"000D3AF87856\","
	"\"flowTuples\":[\"1542110402,192.0.2.190,10.5.16.4,28746,443,U,I,D,B,,,,\"]}]},"
	"{\"rule\":\"DefaultRule_AllowInternetOutBound\",\"flows\":[{\"mac\":\"000D3AF87857\","
	"\"flowTuples\":[\"1542110379,10.5.16.4,203.0.113.117,59932,443,T,O,A,E,1,66,1,66\"]}]}]}}]}";

static void test_reader_nsg(void **state)
{
	struct seen s;
	struct fl_file_stats st;
	char err[512];
	const char *p = write_file("n.json.gz", nsg_doc, true);

	assert_int_equal(read_into(p, &s, &st, err), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.nbad, 0);
	assert_int_equal(s.m[0].kind, FL_NSG);
	assert_string_equal(s.m[0].rule, "DefaultRule_DenyAllInBound");
	assert_string_equal(s.m[0].acl, "/NSG/FABRIKAM");
	assert_int_equal(s.m[0].mac[5], 0x56);
	assert_int_equal(s.m[1].mac[5], 0x57);
	assert_string_equal(s.m[1].rule, "DefaultRule_AllowInternetOutBound");
	assert_true(s.t[0].denied);
	assert_false(s.t[1].denied);
	fl_pool_free(&s.pool);
	(void)state;
}

static void test_reader_bad_files(void **state)
{
	struct seen s;
	struct fl_file_stats st;
	char err[512];
	char cut[sizeof(vnet_doc)];
	const char *p;

	/* cut inside the second record: the first is read, the cut one is named */
	memcpy(cut, vnet_doc, sizeof(cut));
	cut[strstr(vnet_doc, "{\"flowLogVersion\":5") - vnet_doc + 10] = 0;
	for (int gz = 0; gz < 2; gz++) {
		p = write_file(gz ? "cut.json.gz" : "cut.json", cut, gz);
		assert_int_equal(read_into(p, &s, &st, err), 0);
		assert_int_equal(s.n, 2);
		assert_true(st.truncated);
		assert_non_null(strstr(s.bad[s.nbad - 1], "record 1: the file ends inside it"));
		fl_pool_free(&s.pool);
	}
	/* broken JSON after a record: the rest is not read, said where */
	p = write_file("broken.json",
		       "{\"records\":[{\"flowLogVersion\":4,\"flowRecords\":{}},{\"x\":tru}]}",
		       false);
	assert_int_equal(read_into(p, &s, &st, err), 0);
	assert_non_null(strstr(s.bad[s.nbad - 1], "record 1: invalid JSON at byte"));
	fl_pool_free(&s.pool);
	/* not flow logs */
	p = write_file("other.json", "{\"value\":[1,2,3]}", false);
	assert_int_equal(read_into(p, &s, &st, err), -EINVAL);
	assert_non_null(strstr(err, "not a flow log (no \"records\" array)"));
	fl_pool_free(&s.pool);
	p = write_file("recs.json", "{\"records\":{}}", false);
	assert_int_equal(read_into(p, &s, &st, err), -EINVAL);
	assert_non_null(strstr(err, "\"records\" is an object, not an array"));
	fl_pool_free(&s.pool);
	p = write_file("text.json", "hello", false);
	assert_int_equal(read_into(p, &s, &st, err), -EINVAL);
	assert_non_null(strstr(err, "not a flow log (invalid JSON"));
	fl_pool_free(&s.pool);
	assert_int_equal(read_into("/nonexistent/PT1H.json", &s, &st, err), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/PT1H.json: cannot open"));
	/* sniffing: JSON (plain, gzip, after a BOM) is a flow log candidate, a capture is not */
	assert_int_equal(fl_sniff(write_file("a.json.gz", nsg_doc, true)), 1);
	assert_int_equal(fl_sniff(write_file("b.json", "\xef\xbb\xbf{\"records\":[]}", false)), 1);
	assert_int_equal(fl_sniff(write_file("c.pcap", "\xd4\xc3\xb2\xa1\x02\x00\x04\x00", false)),
			 0);
	(void)state;
}

/* ------------------------------------------------------------------ the report */

static void test_report_meta_order(void **state)
{
	struct fl_report r;
	struct fl_flow k = { .family = 4,
			     .proto = 6,
			     .dir = AMLG_DIR_OUT,
			     .lport = 1,
			     .rport = 443 },
		       *f;
	bool created;

	assert_int_equal(fl_report_init(&r), 0);
	f = fl_report_find(&r, &k, &created, NULL);
	assert_true(created);
	/* the earliest tuple's rule wins, whatever the order tuples (or shards) come in */
	fl_flow_meta(f, 200, "B-rule", "acl", "res");
	f->first_ms = 200;
	f->tuples = 1;
	fl_flow_meta(f, 300, "C-rule", "acl", "res");
	assert_string_equal(f->nsg_rule, "B-rule");
	fl_flow_meta(f, 100, "Z-rule", "acl", "res");
	f->first_ms = 100;
	assert_string_equal(f->nsg_rule, "Z-rule");
	fl_flow_meta(f, 100, "A-rule", "acl", "res");
	assert_string_equal(f->nsg_rule, "A-rule");
	assert_ptr_equal(fl_report_find(&r, &k, &created, NULL), f);
	assert_false(created);
	k.denied = 1;
	assert_ptr_not_equal(fl_report_find(&r, &k, &created, NULL), f);
	assert_true(created);
	/* many flows: indices and pointers stay put across rehashing and chunks */
	for (unsigned i = 0; i < 200000; i++) {
		k.lport = (uint16_t)i;
		k.rport = (uint16_t)(i >> 16);
		assert_non_null(fl_report_find(&r, &k, &created, NULL));
	}
	assert_int_equal(r.n, 200002);
	k.denied = 0;
	k.lport = 1;
	k.rport = 443;
	assert_ptr_equal(fl_report_find(&r, &k, &created, NULL), f);
	fl_report_free(&r);
	(void)state;
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir_tmpl) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir_tmpl);
	return system(cmd) == 0 ? 0 : -1;
}

UNIT_TESTS(setup, teardown, cmocka_unit_test(test_vnet_tuples), cmocka_unit_test(test_nsg_tuples),
	   cmocka_unit_test(test_bad_tuples), cmocka_unit_test(test_mac),
	   cmocka_unit_test(test_time), cmocka_unit_test(test_reader_vnet),
	   cmocka_unit_test(test_reader_nsg), cmocka_unit_test(test_reader_bad_files),
	   cmocka_unit_test(test_report_meta_order))
