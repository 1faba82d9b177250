// SPDX-License-Identifier: GPL-2.0-only
/* DNS answers in wire format, for tests and benchmarks. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>

#include "dnsgen.h"

void dns_put8(struct dnsb *d, uint8_t v)
{
	d->b[d->n++] = v;
}

void dns_put16(struct dnsb *d, uint16_t v)
{
	dns_put8(d, (uint8_t)(v >> 8));
	dns_put8(d, (uint8_t)v);
}

void dns_put32(struct dnsb *d, uint32_t v)
{
	dns_put16(d, (uint16_t)(v >> 16));
	dns_put16(d, (uint16_t)v);
}

void dns_put_name(struct dnsb *d, const char *name)
{
	const char *p = name;

	while (*p) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);

		dns_put8(d, (uint8_t)len);
		memcpy(d->b + d->n, p, len);
		d->n += len;
		p += len;
		if (*p == '.')
			p++;
	}
	dns_put8(d, 0);
}

/* A response: header and question (the question name sits at offset 12). */
void dns_start(struct dnsb *d, const char *qname, uint16_t flags, uint16_t an)
{
	d->n = 0;
	dns_put16(d, 0x1234);
	dns_put16(d, flags);
	dns_put16(d, 1);
	dns_put16(d, an);
	dns_put16(d, 0);
	dns_put16(d, 0);
	dns_put_name(d, qname);
	dns_put16(d, 1);
	dns_put16(d, 1);
}

/* An answer whose owner is written out (owner != NULL) or points at the question (NULL). */
static void rr_hdr(struct dnsb *d, const char *owner, uint16_t type, uint32_t ttl)
{
	if (owner) {
		dns_put_name(d, owner);
	} else {
		dns_put8(d, 0xc0);
		dns_put8(d, 12);
	}
	dns_put16(d, type);
	dns_put16(d, 1);
	dns_put32(d, ttl);
}

void dns_a(struct dnsb *d, const char *owner, const char *addr, uint32_t ttl)
{
	uint8_t a[16];
	bool v6 = strchr(addr, ':');

	inet_pton(v6 ? AF_INET6 : AF_INET, addr, a);
	rr_hdr(d, owner, v6 ? 28 : 1, ttl);
	dns_put16(d, v6 ? 16 : 4);
	memcpy(d->b + d->n, a, v6 ? 16 : 4);
	d->n += v6 ? 16 : 4;
}

void dns_cname(struct dnsb *d, const char *owner, const char *target, uint32_t ttl)
{
	size_t at;

	rr_hdr(d, owner, 5, ttl);
	at = d->n;
	dns_put16(d, 0);
	dns_put_name(d, target);
	d->b[at] = (uint8_t)((d->n - at - 2) >> 8);
	d->b[at + 1] = (uint8_t)(d->n - at - 2);
}
