/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * DNS answers in wire format, for the packet builder's users (tests, benchmarks): a header and
 * question, then answers whose owner is written out or points at the question.
 */
#ifndef AMLG_DNSGEN_H
#define AMLG_DNSGEN_H

#include <stddef.h>
#include <stdint.h>

struct dnsb {
	uint8_t b[1400];
	size_t n;
};

void dns_put8(struct dnsb *d, uint8_t v);
void dns_put16(struct dnsb *d, uint16_t v);
void dns_put32(struct dnsb *d, uint32_t v);
void dns_put_name(struct dnsb *d, const char *name);
/* A response (flags, e.g. 0x8180) with one question for qname (at offset 12) and an answers. */
void dns_start(struct dnsb *d, const char *qname, uint16_t flags, uint16_t an);
/* An A or AAAA (by the address's form); owner NULL points at the question's name. */
void dns_a(struct dnsb *d, const char *owner, const char *addr, uint32_t ttl);
void dns_cname(struct dnsb *d, const char *owner, const char *target, uint32_t ttl);

#endif
