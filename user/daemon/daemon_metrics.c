// SPDX-License-Identifier: GPL-2.0-only
/* The daemon's metrics: collected on each scrape and each textfile interval. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "daemon_int.h"
#include "base/log.h"
#include "metrics/metrics_textfile.h"

#define NSEC 1000000000ull

int daemon_metrics_render(void *ctx, struct mbuf *b)
{
	struct daemon *d = ctx;
	struct iface_metrics *im = calloc(d->nifs ? d->nifs : 1, sizeof(*im));
	struct daemon_metrics dm = d->dm;
	int err;

	if (!im)
		return -ENOMEM;
	for (size_t i = 0; i < d->nifs; i++) {
		im[i].ifname = d->ifs[i].name;
		im[i].ok = state_read(d->ifs[i].name, &im[i].st) == 0;
		im[i].events_received = d->ifs[i].events_received;
		im[i].events_malformed = d->ifs[i].events_malformed;
		im[i].vc = d->ifs[i].vc;
		if (im[i].ok)
			im[i].tags_time = metrics_tags_time(&im[i].st.pcfg);
	}
	if (d->alerts_on) {
		dm.alerts_started += d->alerts.started;
		dm.alerts_dropped += d->alerts.dropped;
		dm.alert_failures += d->alerts.failed + d->alerts.timed_out;
		dm.alerts_running = d->alerts.running;
	}
	err = metrics_render(b, im, d->nifs, &dm);
	for (size_t i = 0; i < d->nifs; i++)
		state_free(&im[i].st);
	free(im);
	return err;
}

int metrics_apply(struct daemon *d, const struct config *old)
{
	const char *want = d->cfg.metrics_listen;
	struct epoll_event ee = { .events = EPOLLIN, .data.u64 = EP_HTTP };
	int err;

	if (old && d->http && want && old->metrics_listen && !strcmp(old->metrics_listen, want))
		return 0;
	metrics_close(d);
	if (!want)
		return 0;
	err = metrics_http_start(&d->http, want, daemon_metrics_render, d);
	if (err)
		return err;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, metrics_http_fd(d->http), &ee)) {
		err = -errno;
		metrics_close(d);
	}
	return err;
}

void metrics_close(struct daemon *d)
{
	if (!d->http)
		return;
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, metrics_http_fd(d->http), NULL);
	metrics_http_stop(d->http);
	d->http = NULL;
}

void metrics_tick(struct daemon *d, uint64_t now)
{
	struct mbuf b;
	int err;

	if (d->http)
		metrics_http_run(d->http); /* idle connections time out */
	if (!d->cfg.metrics_textfile || now < d->next_textfile_ns)
		return;
	d->next_textfile_ns = now + d->cfg.metrics_interval_s * NSEC;
	mbuf_init(&b);
	err = daemon_metrics_render(d, &b);
	if (!err)
		err = metrics_textfile_write(d->cfg.metrics_textfile, b.s, b.len);
	if (err)
		pr_warn("%s: cannot write the metrics: %s", d->cfg.metrics_textfile,
			strerror(-err));
	mbuf_free(&b);
}
