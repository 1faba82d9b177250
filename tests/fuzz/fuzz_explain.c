// SPDX-License-Identifier: GPL-2.0-only
/*
 * "explain": its packet grammar (explain_parse(), "DIR PROTO SRC[:PORT] DST[:PORT]"), the frame
 * built from a parsed query (pkt_build()) and the story told about a verdict, in text and JSON,
 * for whatever verdict the datapath might hand back (any rule id, reason, match).
 *
 * Input: the words, one per line, up to the first NUL; after it, the verdict's bytes.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "compile/compile.h"
#include "offline/explain.h"
#include "fuzz.h"
#include "base/log.h"
#include "offline/pktgen.h"
#include "policy/policy.h"

#define MAX_WORDS 6

static const char policy_text[] =
	"set near = { 198.51.100.0/25, 2001:db8:1::/48 }\n"
	"allow out tcp port 443 to @near flow T-HTTPS\n"
	"allow out tcp port { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, "
	"20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40000-"
	"40010, 50000-50010, 60000-60010 } to 198.51.100.0/24 flow T-MANY\n"
	"allow out udp port 53 to 198.51.100.53 flow T-DNS\n"
	"allow in tcp port 44224 from 203.0.113.0/24 to 192.0.2.0/24 flow T-IN\n"
	"allow out icmp to 198.51.100.0/24\n"
	"allow out any to 192.0.2.0/24 flow T-VNET\n";

static struct policy *pol;
static struct compiled *comp;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_compile("explain.policy", policy_text, &pol, &comp);
	return 0;
}

static void check_query(const struct explain_query *q)
{
	char src[48], dst[48];
	struct pkt_spec s = { 0 };
	uint8_t frame[PKT_MAX];

	if (q->dir > AMLG_DIR_IN || (q->family != 4 && q->family != 6))
		fuzz_fail("explain_parse() accepted dir %u family %u", q->dir, q->family);
	s.src = inet_ntop(q->family == 4 ? AF_INET : AF_INET6, q->saddr, src, sizeof(src));
	s.dst = inet_ntop(q->family == 4 ? AF_INET : AF_INET6, q->daddr, dst, sizeof(dst));
	if (!s.src || !s.dst)
		fuzz_fail("a parsed address does not print");
	s.proto = q->proto;
	s.sport = q->sport;
	s.dport = q->dport;
	s.icmp_type = q->icmp_type;
	if (!pkt_build(&s, frame, sizeof(frame)))
		fuzz_fail("no frame for a parsed query");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t tlen = nul ? (size_t)(nul - data) : size;
	char *text = malloc(tlen + 1), *words[MAX_WORDS], *save = NULL, *w, err[256];
	struct offline_verdict v = { 0 };
	struct explain_query q;
	int argc = 0;

	if (!text)
		return 0;
	memcpy(text, data, tlen);
	text[tlen] = '\0';
	for (w = strtok_r(text, "\n", &save); w && argc < MAX_WORDS;
	     w = strtok_r(NULL, "\n", &save))
		words[argc++] = w;
	if (explain_parse(argc, words, &q, err, sizeof(err))) {
		if (!err[0])
			fuzz_fail("explain_parse() refused without a message");
		free(text);
		return 0;
	}
	check_query(&q);
	if (nul) {
		size_t left = size - tlen - 1;

		memcpy(&v, nul + 1, left < sizeof(v) ? left : sizeof(v));
	}
	explain_print(fuzz_null(), comp, &q, &v);
	json_decref(explain_json(comp, &q, &v));
	free(text);
	return 0;
}
