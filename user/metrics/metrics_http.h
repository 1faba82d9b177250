/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The Prometheus endpoint: libmicrohttpd serving GET /metrics on the operator's address
 * (default 127.0.0.1 only), driven from the daemon's own epoll loop, so that a scrape reads the
 * maps in the same thread as everything else.
 */
#ifndef AMLG_METRICS_METRICS_HTTP_H
#define AMLG_METRICS_METRICS_HTTP_H

#include "metrics/metrics.h"

/* Fill the buffer with the exposition; 0 or -errno (the scrape gets a 500). */
typedef int (*metrics_render_fn)(void *ctx, struct mbuf *out);

struct metrics_http;

/* listen: "host:port", "[v6]:port" or "port".  0 or -errno (message printed). */
/* Parse "host:port", "[v6]:port" or ":port" / "port" (127.0.0.1); 0 or -EINVAL. */
int metrics_parse_listen(const char *s, char *host, size_t hostsz, unsigned *port);

int metrics_http_start(struct metrics_http **out, const char *listen, metrics_render_fn fn,
		       void *ctx);
/* The epoll fd to watch for reading; then call metrics_http_run(). */
int metrics_http_fd(const struct metrics_http *h);
/* Serve what is ready (and time out idle connections). */
void metrics_http_run(struct metrics_http *h);
unsigned long metrics_http_scrapes(const struct metrics_http *h);
void metrics_http_stop(struct metrics_http *h);

#endif
