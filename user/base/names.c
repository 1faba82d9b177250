// SPDX-License-Identifier: GPL-2.0-only
/* The one table of names for the datapath's numbers. */
#include <stdio.h>
#include <string.h>

#include "bpf/amlguard_abi.h"
#include "base/names.h"

static const char *const reasons[AMLG_REASON_MAX] = {
	[AMLG_REASON_NONE] = "none",
	[AMLG_REASON_NO_RULE] = "no-rule",
	[AMLG_REASON_PORT] = "port",
	[AMLG_REASON_PROTO] = "proto",
	[AMLG_REASON_MALFORMED] = "malformed",
	[AMLG_REASON_FRAGMENT] = "fragment",
	[AMLG_REASON_NON_IP] = "non-ip",
	[AMLG_REASON_NO_POLICY] = "no-policy",
	[AMLG_REASON_SNI_MISMATCH] = "sni-mismatch",
	[AMLG_REASON_NO_SNI] = "no-sni",
	[AMLG_REASON_MALFORMED_DNS] = "malformed-dns",
	[AMLG_REASON_SNI_SPLIT] = "sni-split",
};

static const char *const matches[AMLG_MATCH_MAX] = {
	[AMLG_MATCH_NONE] = "none",	[AMLG_MATCH_RULE] = "rule",
	[AMLG_MATCH_CT] = "conntrack",	[AMLG_MATCH_RELATED] = "related",
	[AMLG_MATCH_LINK] = "link",	[AMLG_MATCH_FRAG] = "fragment",
	[AMLG_MATCH_PICKUP] = "pickup",
};

const char *reason_str(unsigned reason)
{
	return reason < AMLG_REASON_MAX && reasons[reason] ? reasons[reason] : "unknown";
}

const char *match_str(unsigned match)
{
	return match < AMLG_MATCH_MAX && matches[match] ? matches[match] : "unknown";
}

const char *mode_str(unsigned mode)
{
	return mode == AMLG_MODE_ENFORCE ? "enforce" : "audit";
}

const char *role_str(unsigned role)
{
	return role == AMLG_ROLE_GATEWAY ? "gateway" : "host";
}

const char *l4_str(unsigned ipproto, char *buf, unsigned sz)
{
	switch (ipproto) {
	case AMLG_PROTO_TCP:
		return "tcp";
	case AMLG_PROTO_UDP:
		return "udp";
	case AMLG_PROTO_ICMP:
		return "icmp";
	case AMLG_PROTO_ICMPV6:
		return "icmpv6";
	default:
		snprintf(buf, sz, "%u", ipproto);
		return buf;
	}
}

int reason_parse(const char *s)
{
	for (int i = 0; i < AMLG_REASON_MAX; i++)
		if (reasons[i] && !strcmp(reasons[i], s))
			return i;
	return -1;
}

int mode_parse(const char *s)
{
	if (!strcmp(s, "audit"))
		return AMLG_MODE_AUDIT;
	if (!strcmp(s, "enforce"))
		return AMLG_MODE_ENFORCE;
	return -1;
}

int role_parse(const char *s)
{
	if (!strcmp(s, "host"))
		return AMLG_ROLE_HOST;
	if (!strcmp(s, "gateway"))
		return AMLG_ROLE_GATEWAY;
	return -1;
}

char *hex_str(const uint8_t *b, unsigned n, char *buf)
{
	for (unsigned i = 0; i < n; i++)
		sprintf(buf + 2 * i, "%02x", b[i]);
	buf[2 * n] = '\0';
	return buf;
}
