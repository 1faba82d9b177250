// SPDX-License-Identifier: GPL-2.0-only
/* The daemon's violations: from the ring buffers to the sinks and the alert command. */
#include <bpf/libbpf.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "daemon_int.h"
#include "base/log.h"

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static const struct sink_ops *const sink_ops[SINK_KINDS] = {
	[SINK_FILE] = &sink_file_ops,
	[SINK_STDOUT] = &sink_stdout_ops,
	[SINK_JOURNAL] = &sink_journal_ops,
	[SINK_PCAP] = &sink_pcap_ops,
};

/* The object as one line, newline included, for the alert command's standard input. */
static char *json_line(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT), *line = NULL;

	if (s && asprintf(&line, "%s\n", s) < 0)
		line = NULL;
	free(s);
	return line;
}

static struct alert_key flow_key(const struct amlg_event *ev)
{
	struct alert_key k = { .ifindex = ev->ifindex,
			       .family = ev->family,
			       .proto = ev->proto,
			       .sport = ev->sport,
			       .dport = ev->dport };

	memcpy(k.saddr, ev->saddr, sizeof(k.saddr));
	memcpy(k.daddr, ev->daddr, sizeof(k.daddr));
	return k;
}

/*
 * The metrics' counts: every new undeclared egress flow (the alerts' de-duplication, without
 * their rate limit), and every reported violation by the flow ID of the rule that covered its
 * address.  An event was judged in enforce mode exactly when its packet was dropped.
 */
static void count_violation(struct daemon *d, struct ifrun *ifr, const struct amlg_event *ev)
{
	unsigned mode = ev->flags & AMLG_EVF_DROPPED ? AMLG_MODE_ENFORCE : AMLG_MODE_AUDIT;
	const struct event_ctx *cx = &ifr->cx;

	if (!ifr->vc)
		return;
	if (ev->dir == AMLG_DIR_OUT && d->flows_seen.tab) {
		struct alert_key k = flow_key(ev);

		if (alert_limit_check(&d->flows_seen, &k, mono_ns()) != ALERT_DUPLICATE)
			vcount_undeclared(ifr->vc, mode, ev->reason);
	}
	if (ev->rule < AMLG_RULE_IDS && cx->rules && cx->generation == ev->generation &&
	    cx->rules[ev->rule].used)
		vcount_flow(ifr->vc, mode, ev->dir, cx->rules[ev->rule].flow);
}

static void to_alert(struct daemon *d, const struct amlg_event *ev, json_t *o)
{
	struct alert_key k = flow_key(ev);
	uint64_t now = mono_ns();
	char *payload;

	switch (alert_limit_check(&d->limit, &k, now)) {
	case ALERT_DUPLICATE:
		return;
	case ALERT_SUPPRESSED:
		d->dm.alerts_suppressed++;
		return;
	case ALERT_RUN:
		break;
	}
	payload = json_line(o);
	if (payload)
		alert_submit(&d->alerts, payload, now);
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct ifrun *ifr = ctx;
	struct daemon *d = ifr->d;
	struct amlg_event ev;
	struct sink_event se = { .ev = &ev, .cx = &ifr->cx };
	json_t *o;

	if (event_decode(data, size, &ev)) {
		ifr->events_malformed++;
		return 0;
	}
	ifr->events_received++;
	rule_cache_refresh(&ifr->rc, &ifr->maps, ev.generation, &ifr->cx);
	ifr->cx.mono_to_real_ns = d->mono_to_real;
	count_violation(d, ifr, &ev);
	se.real_ns = ev.ts_ns + (uint64_t)d->mono_to_real;
	o = event_json(&ev, &ifr->cx);
	if (!o)
		return 0;
	se.json = o;
	for (unsigned k = 0; k < SINK_KINDS; k++)
		if (d->sinks[k] && sink_write(d->sinks[k], &se) == 0)
			d->dm.records[k]++;
	if (d->alerts_on && ev.dir == AMLG_DIR_OUT)
		to_alert(d, &ev, o);
	json_decref(o);
	return 0;
}

int events_open(struct daemon *d)
{
	struct epoll_event ee = { .events = EPOLLIN, .data.u64 = EP_RING };
	int err;

	for (size_t i = 0; i < d->nifs; i++) {
		struct ifrun *ifr = &d->ifs[i];

		ifr->cx.ifname = ifr->name;
		/* an interface whose re-attach failed has no maps: nothing to read */
		if (ifr->maps.fd[M_EVENTS] < 0)
			continue;
		if (!d->rb) {
			d->rb = ring_buffer__new(ifr->maps.fd[M_EVENTS], on_event, ifr, NULL);
			err = d->rb ? 0 : -errno;
		} else {
			err = ring_buffer__add(d->rb, ifr->maps.fd[M_EVENTS], on_event, ifr);
		}
		if (err) {
			pr_err("%s: cannot read the event buffer: %s", ifr->name, strerror(-err));
			return err;
		}
	}
	if (d->rb && epoll_ctl(d->epfd, EPOLL_CTL_ADD, ring_buffer__epoll_fd(d->rb), &ee))
		return -errno;
	return 0;
}

void events_consume(struct daemon *d)
{
	if (d->rb)
		ring_buffer__consume(d->rb);
}

void events_close(struct daemon *d)
{
	if (!d->rb)
		return;
	/* What is waiting is read first: nothing is lost across a reload or at exit. */
	ring_buffer__consume(d->rb);
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, ring_buffer__epoll_fd(d->rb), NULL);
	ring_buffer__free(d->rb);
	d->rb = NULL;
}

static bool alerts_changed(const struct config *a, const struct config *b)
{
	return !same(a->alert_exec, b->alert_exec) ||
	       a->alert_max_running != b->alert_max_running ||
	       a->alert_window_s != b->alert_window_s || a->alert_rate != b->alert_rate ||
	       a->alert_period_s != b->alert_period_s || a->alert_timeout_s != b->alert_timeout_s;
}

static void alerts_close(struct daemon *d)
{
	if (!d->alerts_on)
		return;
	d->dm.alert_failures += d->alerts.failed + d->alerts.timed_out;
	d->dm.alerts_started += d->alerts.started;
	d->dm.alerts_dropped += d->alerts.dropped;
	alert_runner_free(&d->alerts, 2000);
	alert_limit_free(&d->limit);
	d->alerts_on = false;
}

static int alerts_open(struct daemon *d)
{
	const struct config *c = &d->cfg;
	int err;

	if (!c->alert_exec)
		return 0;
	err = alert_limit_init(&d->limit, c->alert_window_s, c->alert_rate, c->alert_period_s,
			       4096);
	if (err)
		return err;
	err = alert_runner_init(&d->alerts, c->alert_exec, c->alert_max_running, c->alert_timeout_s,
				d->epfd, EP_ALERT);
	if (err) {
		alert_limit_free(&d->limit);
		return err;
	}
	d->alerts_on = true;
	d->dm.alerts_on = true;
	return 0;
}

/*
 * One sink as d->cfg wants it: on (at path) or off.  A sink that stays on at the same place is
 * reopened, as after a rotation; one that moves is closed and opened again.
 */
static int sink_apply(struct daemon *d, enum sink_kind k, bool on, const char *path,
		      const char *old_path)
{
	struct sink **s = &d->sinks[k];

	if (*s && on && same(old_path, path))
		return sink_reopen(*s);
	sink_close(*s);
	*s = NULL;
	return on ? sink_open(sink_ops[k], path, s) : 0;
}

int sinks_apply(struct daemon *d, const struct config *old)
{
	const struct config *c = &d->cfg;
	const struct {
		enum sink_kind k;
		bool on;
		const char *path, *old_path;
	} want[] = {
		{ SINK_FILE, c->log_file, c->log_file, old ? old->log_file : NULL },
		{ SINK_PCAP, c->pcap, c->pcap, old ? old->pcap : NULL },
		{ SINK_STDOUT, c->log_stdout, NULL, NULL },
		{ SINK_JOURNAL, c->journal, NULL, NULL },
	};
	int err = 0;

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		err = sink_apply(d, want[i].k, want[i].on, want[i].path, want[i].old_path);
		if (err)
			return err;
	}
	if (!old || old->alert_window_s != d->cfg.alert_window_s) {
		alert_limit_free(&d->flows_seen);
		/* no rate: every new flow counts */
		err = alert_limit_init(&d->flows_seen, d->cfg.alert_window_s, UINT_MAX, 1, 4096);
		if (err)
			return err;
	}
	if (!old || alerts_changed(old, &d->cfg)) {
		alerts_close(d);
		err = alerts_open(d);
	}
	for (unsigned k = 0; k < SINK_KINDS; k++)
		d->dm.sink_on[k] = d->sinks[k] != NULL;
	return err;
}

void sinks_close(struct daemon *d)
{
	for (unsigned k = 0; k < SINK_KINDS; k++) {
		sink_close(d->sinks[k]);
		d->sinks[k] = NULL;
	}
	alerts_close(d);
	alert_limit_free(&d->flows_seen);
}

static void alert_summary(struct daemon *d, uint64_t now)
{
	unsigned long n = alert_limit_summary(&d->limit, now);
	char ts[48], msg[96], *payload;
	json_t *o;

	if (!n)
		return;
	snprintf(msg, sizeof(msg), "%lu more undeclared egress flow%s suppressed", n,
		 n == 1 ? "" : "s");
	pr_warn("alert: %s (at most %u alerts per %u s)", msg, d->cfg.alert_rate,
		d->cfg.alert_period_s);
	time_str(now + (uint64_t)d->mono_to_real, ts, sizeof(ts));
	o = json_pack("{s:s, s:b, s:I, s:s, s:i, s:i}", "time", ts, "summary", 1, "suppressed",
		      (json_int_t)n, "message", msg, "rate", d->cfg.alert_rate, "period_s",
		      d->cfg.alert_period_s);
	payload = o ? json_line(o) : NULL;
	json_decref(o);
	if (payload)
		alert_submit(&d->alerts, payload, now);
}

void sinks_tick(struct daemon *d, uint64_t now)
{
	for (unsigned k = 0; k < SINK_KINDS; k++)
		if (d->sinks[k])
			sink_flush(d->sinks[k]);
	if (d->alerts_on) {
		alert_tick(&d->alerts, now);
		alert_summary(d, now);
	}
	for (unsigned k = 0; k < SINK_KINDS; k++)
		d->dm.sink_errors[k] = d->sinks[k] ? sink_errors(d->sinks[k]) : 0;
}
