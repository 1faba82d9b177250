// SPDX-License-Identifier: GPL-2.0-only
/* amlguard log: the violations the datapath reported, as JSON lines (or text with --text). */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/params.h"
#include "base/event.h"
#include "base/log.h"
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

struct log_cfg {
	const char *ifname;
	bool follow, text;
};

static const struct cli_opt opts[] = {
	CLI_OPT_STRING(struct log_cfg, ifname, "interface", 'i', "IFACE", "the interface"),
	CLI_OPT_FLAG(struct log_cfg, follow, "follow", 'f', "keep following until interrupted"),
	CLI_OPT_FLAG(struct log_cfg, text, "text", 0, "one line of text per violation"),
	CLI_OPT_JSON,
	CLI_OPT_END,
};

static const struct cli_cmd cmd = { .name = "log", .usage = usage, .opts = opts };

int do_log(int argc, char **argv)
{
	struct log_cfg cfg = { 0 };
	struct log_ctx lc = { 0 };
	struct ring_buffer *rb = NULL;
	const char *ifname;
	struct amlg_maps m;
	int first, err;

	err = cli_parse(&cmd, &cfg, argc, argv, &first);
	if (err)
		return err > 0 ? 0 : err;
	ifname = cfg.ifname;
	lc.text = cfg.text;
	err = cli_iface(cmd.name, ifname) ?: cli_open_pinned(cmd.name, ifname, &m);
	if (err)
		return err;
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
	while (cfg.follow && !stop && err >= 0)
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
