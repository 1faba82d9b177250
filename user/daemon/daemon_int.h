/* SPDX-License-Identifier: GPL-2.0-only */
/* What the daemon's files share: its state. */
#ifndef AMLG_DAEMON_DAEMON_INT_H
#define AMLG_DAEMON_DAEMON_INT_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "sinks/alert.h"
#include "sinks/alert_limit.h"
#include "daemon/config.h"
#include "daemon/daemon.h"
#include "base/event.h"
#include "base/lock.h"
#include "kernel/maps.h"
#include "metrics/metrics_collect.h"
#include "metrics/metrics_http.h"
#include "kernel/rulecache.h"
#include "sinks/sink.h"
#include "base/vcount.h"

/* epoll data: what the fd is, in the upper half; a slot number in the lower. */
#define EP_SIGNAL (1ull << 32)
#define EP_RING (2ull << 32)
#define EP_TIMER (3ull << 32)
#define EP_HTTP (4ull << 32)
#define EP_ALERT (5ull << 32)
#define EP_KIND(u) ((u)&0xffffffff00000000ull)

struct daemon;

struct ifrun {
	struct daemon *d;
	char name[IFNAMSIZ];
	unsigned role;
	struct amlg_maps maps;
	struct iface_lock lock;
	struct rule_cache rc;
	struct event_ctx cx;
	uint64_t generation;
	uint64_t lost_full, lost_rate; /* datapath counters at the last check */
	bool filters_gone; /* reported once */
	unsigned retried_ifindex; /* the interface index a re-attach was last tried on */
	bool repin_failed; /* reported once */
	bool lock_lost; /* another process holds its lock now: hands off */
	unsigned lock_busy; /* ticks in a row another process held the file at the lock's name */
	uint64_t events_received, events_malformed;
	struct vcount *vc; /* violations counted for the metrics */
};

struct daemon {
	const struct daemon_opts *o;
	struct config cfg;
	struct ifrun ifs[CONFIG_MAX_IFACES];
	size_t nifs;
	int epfd, sigfd, timerfd;
	struct ring_buffer *rb;
	/* sinks */
	struct sink *sinks[SINK_KINDS]; /* NULL: off */
	struct alert_limit limit;
	struct alert_runner alerts;
	bool alerts_on;
	struct alert_limit flows_seen; /* undeclared egress flows, de-duplicated for the metrics */
	/* metrics */
	struct metrics_http *http;
	struct daemon_metrics dm;
	uint64_t next_textfile_ns;
	int64_t mono_to_real;
	uint64_t watchdog_ns, next_watchdog_ns;
	unsigned ticks;
	bool stop;
	int exit_err; /* why the loop stopped on its own (-errno), 0 for a signal */
};

/* daemon_events.c: the ring buffers to the sinks and alerts. */
int events_open(struct daemon *d);
void events_consume(struct daemon *d);
void events_close(struct daemon *d);
/* Open the sinks of d->cfg; old: the configuration they were opened with (NULL: none). */
int sinks_apply(struct daemon *d, const struct config *old);
void sinks_close(struct daemon *d);
void sinks_tick(struct daemon *d, uint64_t now);

/* daemon_metrics.c */
int daemon_metrics_render(void *ctx, struct mbuf *b);
/* Start or restart the HTTP endpoint for d->cfg; old as for sinks_apply(). */
int metrics_apply(struct daemon *d, const struct config *old);
void metrics_close(struct daemon *d);
void metrics_tick(struct daemon *d, uint64_t now);

uint64_t mono_ns(void);

#endif
