// SPDX-License-Identifier: GPL-2.0-only
/*
 * amlg-udpflood: one UDP flow driven from both ends at a fixed rate, for the load tests.
 *
 *   amlg-udpflood -b ADDR:PORT -c ADDR:PORT -r PPS -t SECONDS      the opening end
 *   amlg-udpflood -b ADDR:PORT -R -r PPS -t SECONDS [-w SECONDS]   the answering end
 *
 * The opening end binds, connects and sends; the answering end binds, waits (at most -w seconds,
 * 5 by default) for the first datagram, connects to its sender and sends too: both ways of the
 * one 5-tuple carry PPS datagrams per second for SECONDS, the flow opened from the first end.
 * Each end receives what it can meanwhile and for a short linger after (-l milliseconds, 500),
 * then prints "sent N received M errors E" and exits 0 (1 when nothing could be sent).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

/* "192.0.2.10:5300" or "[2001:db8::1]:5300" */
static int parse_sa(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	size_t n;
	long port;
	char *end;

	if (!colon || colon == s)
		return -1;
	n = (size_t)(colon - s);
	if (s[0] == '[') {
		if (n < 2 || s[n - 1] != ']')
			return -1;
		s++;
		n -= 2;
	}
	if (n >= sizeof(host))
		return -1;
	memcpy(host, s, n);
	host[n] = 0;
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535)
		return -1;
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		((struct sockaddr_in *)ss)->sin_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
		*len = sizeof(struct sockaddr_in);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
		*len = sizeof(struct sockaddr_in6);
		return 0;
	}
	return -1;
}

static void usage(void)
{
	fprintf(stderr, "usage: amlg-udpflood -b ADDR:PORT (-c ADDR:PORT | -R) -r PPS -t SECONDS "
			"[-w SECONDS] [-l MS]\n");
	exit(2);
}

/* Receive whatever is queued; returns the number of datagrams. */
static unsigned long long drain(int fd)
{
	unsigned long long n = 0;
	char buf[2048];

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		n++;
	return n;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage local, peer;
	socklen_t llen = 0, plen = 0;
	const char *bind_s = NULL, *conn_s = NULL;
	unsigned long long sent = 0, received = 0, errors = 0, t0, dur, end;
	double rate = 0, secs = 0, wait_s = 5, linger_ms = 500;
	int answer = 0, opt, fd, bufsz = 8 << 20;
	char payload[64];

	while ((opt = getopt(argc, argv, "b:c:Rr:t:w:l:")) != -1) {
		switch (opt) {
		case 'b':
			bind_s = optarg;
			break;
		case 'c':
			conn_s = optarg;
			break;
		case 'R':
			answer = 1;
			break;
		case 'r':
			rate = atof(optarg);
			break;
		case 't':
			secs = atof(optarg);
			break;
		case 'w':
			wait_s = atof(optarg);
			break;
		case 'l':
			linger_ms = atof(optarg);
			break;
		default:
			usage();
		}
	}
	if (!bind_s || answer == !!conn_s || rate <= 0 || rate > 1e6 || secs <= 0 || secs > 60 ||
	    wait_s <= 0 || wait_s > 60 || linger_ms < 0 || linger_ms > 10000)
		usage();
	if (parse_sa(bind_s, &local, &llen) || (conn_s && parse_sa(conn_s, &peer, &plen))) {
		fprintf(stderr, "amlg-udpflood: error: bad address\n");
		return 2;
	}
	fd = socket(local.ss_family, SOCK_DGRAM, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz)) ||
	    bind(fd, (struct sockaddr *)&local, llen)) {
		fprintf(stderr, "amlg-udpflood: error: %s: %s\n", bind_s, strerror(errno));
		return 2;
	}
	if (answer) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char buf[2048];
		ssize_t r;

		if (poll(&p, 1, (int)(wait_s * 1000)) != 1) {
			fprintf(stderr, "amlg-udpflood: error: nothing arrived in %.1f s\n",
				wait_s);
			return 1;
		}
		plen = sizeof(peer);
		r = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &plen);
		if (r < 0) {
			fprintf(stderr, "amlg-udpflood: error: recvfrom: %s\n", strerror(errno));
			return 2;
		}
		received++;
	}
	if (connect(fd, (struct sockaddr *)&peer, plen)) {
		fprintf(stderr, "amlg-udpflood: error: connect: %s\n", strerror(errno));
		return 2;
	}
	memset(payload, 'u', sizeof(payload));
	t0 = now_ns();
	dur = (unsigned long long)(secs * 1e9);
	for (;;) {
		unsigned long long t = now_ns() - t0, due;
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (t >= dur)
			break;
		/* as many as are due by now: the rate holds on average even if we were late */
		due = (unsigned long long)((double)t * rate / 1e9) + 1;
		while (sent < due) {
			memcpy(payload, &sent, sizeof(sent));
			if (send(fd, payload, sizeof(payload), MSG_DONTWAIT) < 0) {
				errors++;
				if (errno == EAGAIN || errno == ENOBUFS)
					break;
			}
			sent++;
		}
		received += drain(fd);
		/* sleep until the next datagram is due (at least 50 us), or something arrives */
		{
			double next = (double)(sent)*1e9 / rate;
			long long wait = (long long)next - (long long)(now_ns() - t0);
			struct timespec ts = { 0, wait > 50000 ? wait : 50000 };

			ppoll(&p, 1, &ts, NULL);
		}
	}
	end = now_ns() + (unsigned long long)(linger_ms * 1e6);
	while (now_ns() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 50) == 1)
			received += drain(fd);
	}
	printf("sent %llu received %llu errors %llu\n", sent, received, errors);
	close(fd);
	return sent ? 0 : 1;
}
