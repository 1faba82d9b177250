// SPDX-License-Identifier: GPL-2.0-only
/* amlguard log: the violations the datapath reported, as JSON lines (or text with --text). */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "event.h"
#include "log.h"
#include "maps.h"
#include "tables.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

struct log_ctx {
	struct amlg_maps *m;
	struct event_ctx ev;
	struct amlg_pcfg pcfg;
	struct amlg_rule_info *rules;
	bool text;
	unsigned long count;
	unsigned long bad;
};

/* Rule names of the policy that judged the event: re-read after each reload. */
static void refresh_rules(struct log_ctx *lc, uint64_t generation)
{
	uint32_t slot;

	if (lc->rules && lc->pcfg.generation == generation)
		return;
	for (slot = 0; slot < AMLG_SLOTS; slot++) {
		struct amlg_pcfg pc;

		if (bpf_map_lookup_elem(lc->m->fd[M_PCFG], &slot, &pc) ||
		    pc.generation != generation)
			continue;
		free(lc->rules);
		lc->rules = NULL;
		if (tables_rules(lc->m, slot, &lc->rules))
			return;
		lc->pcfg = pc;
		lc->ev.rules = lc->rules;
		lc->ev.generation = generation;
		lc->ev.hash = lc->pcfg.hash;
		lc->ev.pcfg = &lc->pcfg;
		lc->ev.mode = pc.mode;
		return;
	}
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct log_ctx *lc = ctx;
	struct amlg_event ev;

	if (event_decode(data, size, &ev)) {
		lc->bad++;
		return 0;
	}
	refresh_rules(lc, ev.generation);
	if (lc->text)
		event_print(stdout, &ev, &lc->ev);
	else
		json_print(event_json(&ev, &lc->ev));
	lc->count++;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: amlguard log -i IFACE [-f] [--text]\n\n"
		"Prints the violations waiting in the interface's event buffer, one JSON object\n"
		"a line: time, iface, dir, proto, src, sport, dst, dport, vlan, reason, rule,\n"
		"flow, action.  -f keeps following until interrupted.  Events are consumed:\n"
		"two readers of the same interface share them.\n");
}

int do_log(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "follow", no_argument, NULL, 'f' },
		{ "text", no_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct log_ctx lc = { 0 };
	struct ring_buffer *rb = NULL;
	const char *ifname = NULL;
	bool follow = false;
	struct amlg_maps m;
	int opt, err;

	while ((opt = getopt_long(argc, argv, "i:fjh", opts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			ifname = optarg;
			break;
		case 'f':
			follow = true;
			break;
		case 't':
			lc.text = true;
			break;
		case 'j':
			json_output = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (!ifname) {
		pr_err("log: no interface given (-i IFACE)");
		return -EINVAL;
	}
	err = require_root("log");
	if (err)
		return err;
	err = maps_open_pinned(ifname, &m);
	if (err) {
		pr_err("%s: amlguard is not attached (%s)", ifname, strerror(-err));
		return err;
	}
	lc.m = &m;
	lc.ev.ifname = ifname;
	lc.ev.mono_to_real_ns = mono_to_real_offset();
	rb = ring_buffer__new(m.fd[M_EVENTS], on_event, &lc, NULL);
	if (!rb) {
		err = -errno;
		pr_err("%s: cannot read the event buffer: %s", ifname, strerror(-err));
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	setvbuf(stdout, NULL, _IOLBF, 0);
	err = ring_buffer__consume(rb);
	while (follow && !stop && err >= 0)
		err = ring_buffer__poll(rb, 200);
	if (err == -EINTR)
		err = 0;
	if (err > 0)
		err = 0;
	if (lc.bad)
		pr_warn("%s: %lu malformed events skipped", ifname, lc.bad);
out:
	ring_buffer__free(rb);
	free(lc.rules);
	maps_close(&m);
	return err;
}
