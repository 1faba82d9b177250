// SPDX-License-Identifier: GPL-2.0-only
/*
 * The report of "check": whatever per-packet results the datapath's batch entry point hands back
 * (any verdict, reason, rule id, family, direction), grouped into flows and printed in both
 * forms.  Every packet must be counted once: in a flow, or as foreign.
 *
 * Input: records of a struct amlg_batch_res, a wire length and a time step.
 */
#include <stdlib.h>
#include <string.h>

#include "offline/check.h"
#include "compile/compile.h"
#include "fuzz.h"
#include "base/log.h"
#include "policy/policy.h"

#define RECORD (sizeof(struct amlg_batch_res) + 8)

static const char policy_text[] = "allow out tcp port 443 to 198.51.100.0/24 flow T-HTTPS\n"
				  "allow out udp port 53 to 198.51.100.53 flow T-DNS\n"
				  "allow in tcp port 44224 from 203.0.113.0/24 flow T-IN\n"
				  "allow out any to 192.0.2.0/24 flow T-VNET\n";

static struct policy *pol;
static struct compiled *comp;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_compile("check.policy", policy_text, &pol, &comp);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct check_report r;
	uint64_t ts = 0, sum = 0, number = 0, viol = 0;

	if (check_init(&r, comp))
		return 0;
	for (; size >= RECORD; data += RECORD, size -= RECORD) {
		struct amlg_batch_res res;
		uint32_t len, step;

		memcpy(&res, data, sizeof(res));
		memcpy(&len, data + sizeof(res), 4);
		memcpy(&step, data + sizeof(res) + 4, 4);
		/* time mostly goes forwards; a capture may step back */
		ts = step & 1 ? ts - (step >> 1) : ts + step;
		if (check_add(&r, &res, len, ts, ++number))
			fuzz_fail("check_add() failed");
	}
	for (size_t i = 0; i < r.cap; i++) {
		if (r.flows[i].used) {
			sum += r.flows[i].packets;
			viol += r.flows[i].violating_packets;
		}
	}
	if (sum + r.foreign != r.packets || r.packets != number || viol != r.violating_packets)
		fuzz_fail("%llu packets added, %llu in flows, %llu foreign",
			  (unsigned long long)number, (unsigned long long)sum,
			  (unsigned long long)r.foreign);
	check_violating_flows(&r);
	check_print(&r, fuzz_null());
	check_print_json(&r, fuzz_null());
	check_free(&r);
	return 0;
}
