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

#include "cli/cli.h"
#include "base/event.h"
#include "base/log.h"
#include "kernel/state.h"
#include "kernel/maps.h"
#include "kernel/rulecache.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

struct log_ctx {
	struct amlg_maps *m;
	struct event_ctx ev;
	struct rule_cache rc;
	bool text;
	unsigned long count;
	unsigned long bad;
};

static int on_event(void *ctx, void *data, size_t size)
{
	struct log_ctx *lc = ctx;
	struct amlg_event ev;

	if (event_decode(data, size, &ev)) {
		lc->bad++;
		return 0;
	}
	rule_cache_refresh(&lc->rc, lc->m, ev.generation, &lc->ev);
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
		state_report_open_error(ifname, err);
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
	rule_cache_free(&lc.rc);
	maps_close(&m);
	return err;
}
