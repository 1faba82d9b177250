// SPDX-License-Identifier: GPL-2.0-only
/*
 * The decoder of the datapath's violation events and everything that prints one: the input's
 * first bytes are a ring-buffer sample, the rest builds the context the daemon and "amlguard
 * log" hold (rule metadata, the policy header with its tag-file identity, the policy hash, the
 * clock offset, the interface name), all as arbitrary as pinned maps written by another version
 * could be.  A decoded event goes through event_json(), event_print(), the journal's field
 * names and the capture sink; a rejected one must not be touched.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/event.h"
#include "fuzz.h"
#include "base/log.h"
#include "sinks/sink_journal.h"
#include "sinks/sink_pcap.h"

/* Reads what is left of the input, zeros past its end. */
struct reader {
	const uint8_t *p;
	size_t n;
};

static void take(struct reader *r, void *dst, size_t n)
{
	size_t k = n < r->n ? n : r->n;

	memcpy(dst, r->p, k);
	memset((uint8_t *)dst + k, 0, n - k);
	r->p += k;
	r->n -= k;
}

static uint8_t take8(struct reader *r)
{
	uint8_t v;

	take(r, &v, 1);
	return v;
}

static struct amlg_rule_info *rules; /* AMLG_RULE_IDS entries, like tables_rules() reads */
static struct sink_pcap pcap;
static unsigned written;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_set_level(LOGL_QUIET);
	rules = calloc(AMLG_RULE_IDS, sizeof(*rules));
	if (!rules || sink_pcap_open(&pcap, fuzz_path("events.pcap")))
		fuzz_fail("cannot set up");
	return 0;
}

static void journal_names(json_t *o)
{
	const char *key;
	json_t *v;

	json_object_foreach(o, key, v) {
		char name[64];

		journal_field_name(key, name, sizeof(name));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader r = { data, size };
	struct event_ctx cx = { .names_fd = -1 };
	uint8_t sample[sizeof(struct amlg_event) + 8], hash[32], flags, nrules;
	struct amlg_pcfg pcfg;
	struct amlg_event ev;
	size_t ssz = size < sizeof(sample) ? size : sizeof(sample);
	uint16_t touched[16];
	char ifname[32];
	bool valid;
	json_t *o;

	take(&r, sample, ssz);
	if (ssz >= sizeof(ev))
		memcpy(&ev, sample, sizeof(ev));
	valid = ssz >= sizeof(ev) && ev.type == AMLG_EV_VIOLATION && ev.dir < AMLG_DIRS &&
		(!ev.family || ev.family == 4 || ev.family == 6) && ev.cap_len <= AMLG_SNAP_MAX &&
		ev.reason < AMLG_REASON_MAX;
	if ((event_decode(sample, ssz, &ev) == 0) != valid)
		fuzz_fail("event_decode() %s a %s event", valid ? "refused" : "accepted",
			  valid ? "valid" : "bad");
	if (!valid)
		return 0;
	flags = take8(&r);
	take(&r, &cx.mono_to_real_ns, sizeof(cx.mono_to_real_ns));
	cx.generation = flags & 1 ? ev.generation : ev.generation + 1;
	cx.mode = flags >> 7;
	if (flags & 2) {
		take(&r, hash, sizeof(hash));
		cx.hash = hash;
	}
	if (flags & 4) {
		take(&r, &pcfg, sizeof(pcfg));
		if (flags & 8)
			pcfg.generation = ev.generation;
		cx.pcfg = &pcfg;
	}
	nrules = take8(&r) % 16;
	for (unsigned i = 0; i < nrules; i++) {
		uint16_t id;

		take(&r, &id, sizeof(id));
		/* the event's own rule is the interesting one */
		id = flags & 16 ? ev.rule % AMLG_RULE_IDS : id % AMLG_RULE_IDS;
		touched[i] = id;
		take(&r, &rules[id], sizeof(rules[id]));
	}
	if (flags & 32)
		cx.rules = rules;
	take(&r, ifname, sizeof(ifname) - 1);
	ifname[sizeof(ifname) - 1] = '\0';
	cx.ifname = flags & 64 ? ifname : NULL;

	o = event_json(&ev, &cx);
	if (!o)
		fuzz_fail("event_json() returned nothing");
	free(json_dumps(o, JSON_COMPACT));
	journal_names(o);
	json_decref(o);
	event_print(fuzz_null(), &ev, &cx);
	sink_pcap_write(&pcap, &ev, (uint64_t)cx.mono_to_real_ns + ev.ts_ns);
	/* keep the capture small: start it over now and then */
	if (++written % 4096 == 0) {
		sink_pcap_close(&pcap);
		unlink(fuzz_path("events.pcap"));
		if (sink_pcap_open(&pcap, fuzz_path("events.pcap")))
			fuzz_fail("cannot restart the capture");
	}
	for (unsigned i = 0; i < nrules; i++)
		memset(&rules[touched[i]], 0, sizeof(rules[0]));
	return 0;
}
