// SPDX-License-Identifier: GPL-2.0-only
/* The Prometheus endpoint, libmicrohttpd in the daemon's epoll loop. */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "metrics/metrics_http.h"
#include "base/num.h"

struct metrics_http {
	struct MHD_Daemon *d;
	metrics_render_fn fn;
	void *ctx;
	unsigned long scrapes;
	char listen[80];
};

int metrics_parse_listen(const char *s, char *host, size_t hostsz, unsigned *port)
{
	const char *colon, *h = "127.0.0.1";
	size_t hlen = strlen(h);

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		h = s + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon && colon != s) {
			if (memchr(s, ':', (size_t)(colon - s)))
				return -EINVAL; /* a bare IPv6 address needs brackets */
			h = s;
			hlen = (size_t)(colon - s);
		}
	}
	if (!hlen || hlen >= hostsz)
		return -EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	return num_parse_uint(colon ? colon + 1 : s, 1, 65535, port);
}

static const char index_page[] = "<html><head><title>amlguard</title></head><body>"
				 "<h1>amlguard</h1><p><a href=\"/metrics\">Metrics</a></p>"
				 "</body></html>\n";

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
			     void *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **state)
{
	static const char text[] = "text/plain; charset=utf-8";
	struct metrics_http *h = cls;
	struct mbuf b;
	int err;

	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, text, "only GET\n", 9,
			     MHD_RESPMEM_PERSISTENT);
	if (!strcmp(url, "/"))
		return reply(c, MHD_HTTP_OK, "text/html; charset=utf-8", (void *)index_page,
			     sizeof(index_page) - 1, MHD_RESPMEM_PERSISTENT);
	if (strcmp(url, "/metrics"))
		return reply(c, MHD_HTTP_NOT_FOUND, text, "not found; try /metrics\n", 24,
			     MHD_RESPMEM_PERSISTENT);
	mbuf_init(&b);
	err = h->fn(h->ctx, &b);
	if (err || !b.s) {
		mbuf_free(&b);
		pr_warn("metrics: cannot collect: %s", strerror(err ? -err : ENOMEM));
		return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, text, "cannot collect\n", 15,
			     MHD_RESPMEM_PERSISTENT);
	}
	h->scrapes++;
	/* The buffer is handed over: libmicrohttpd frees it after sending. */
	return reply(c, MHD_HTTP_OK, METRICS_CONTENT_TYPE, b.s, b.len, MHD_RESPMEM_MUST_FREE);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	pr_debug("metrics: %s", msg);
}

static int listen_socket(const char *listen_s, bool *v6)
{
	union {
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} a;
	socklen_t len;
	char host[64];
	unsigned port;
	int fd, one = 1, err;

	memset(&a, 0, sizeof(a));
	if (metrics_parse_listen(listen_s, host, sizeof(host), &port)) {
		pr_err("metrics: %s: expected ADDRESS:PORT, [IPV6]:PORT or PORT", listen_s);
		return -EINVAL;
	}
	if (inet_pton(AF_INET, host, &a.in.sin_addr) == 1) {
		a.in.sin_family = AF_INET;
		a.in.sin_port = htons((uint16_t)port);
		len = sizeof(a.in);
		*v6 = false;
	} else if (inet_pton(AF_INET6, host, &a.in6.sin6_addr) == 1) {
		a.in6.sin6_family = AF_INET6;
		a.in6.sin6_port = htons((uint16_t)port);
		len = sizeof(a.in6);
		*v6 = true;
	} else {
		pr_err("metrics: %s: '%s' is not an IP address", listen_s, host);
		return -EINVAL;
	}
	fd = socket(*v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (*v6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, len) || listen(fd, 16)) {
		err = -errno;
		pr_err("metrics: cannot listen on %s: %s", listen_s, strerror(-err));
		if (err == -EADDRINUSE)
			pr_hint("another program uses the port; choose another with metrics-listen");
		close(fd);
		return err;
	}
	return fd;
}

int metrics_http_start(struct metrics_http **out, const char *listen_s, metrics_render_fn fn,
		       void *ctx)
{
	struct metrics_http *h = calloc(1, sizeof(*h));
	bool v6 = false;
	char host[64];
	unsigned port;
	int fd;

	if (!h)
		return -ENOMEM;
	fd = listen_socket(listen_s, &v6);
	if (fd < 0) {
		free(h);
		return fd;
	}
	h->fn = fn;
	h->ctx = ctx;
	if (metrics_parse_listen(listen_s, host, sizeof(host), &port) == 0)
		snprintf(h->listen, sizeof(h->listen), v6 ? "[%s]:%u" : "%s:%u", host, port);
	h->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0), 0,
				NULL, NULL, on_request, h, MHD_OPTION_LISTEN_SOCKET, fd,
				MHD_OPTION_CONNECTION_LIMIT, 16u, MHD_OPTION_CONNECTION_TIMEOUT,
				10u, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_END);
	if (!h->d) {
		pr_err("metrics: cannot start the HTTP server on %s", listen_s);
		close(fd);
		free(h);
		return -EIO;
	}
	pr_info("metrics: serving http://%s/metrics", h->listen);
	*out = h;
	return 0;
}

int metrics_http_fd(const struct metrics_http *h)
{
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);

	return i ? i->epoll_fd : -1;
}

void metrics_http_run(struct metrics_http *h)
{
	MHD_run(h->d);
}

unsigned long metrics_http_scrapes(const struct metrics_http *h)
{
	return h ? h->scrapes : 0;
}

void metrics_http_stop(struct metrics_http *h)
{
	if (!h)
		return;
	/* MHD_stop_daemon closes the listening socket it was given. */
	MHD_stop_daemon(h->d);
	free(h);
}
