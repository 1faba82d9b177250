/* SPDX-License-Identifier: GPL-2.0-only */
/* Helpers the export targets share (export.c). */
#ifndef AMLG_AZURE_EXPORT_INT_H
#define AMLG_AZURE_EXPORT_INT_H

#include "azure/export.h"

#define XADDRS_TAGS_MAX 64

/* One side of a rule, as a target sees it: any, service tags, prefixes per family, hosts. */
struct xaddrs {
	bool any;
	const char *tags[XADDRS_TAGS_MAX]; /* published names, de-duplicated */
	size_t ntags;
	struct prefix_list pfx[2]; /* IPv4, IPv6; merged */
	size_t nhosts;
};

/* expand: a tag as its prefixes (nftables), else by name (Azure). */
int xaddrs_get(const struct export_ctx *x, const struct crule *r, uint8_t side, bool expand,
	       struct xaddrs *a);

/* Both sides of a rule, as xaddrs_get() without expansion gives them: 0 or -errno. */
int xaddrs_both(const struct export_ctx *x, const struct crule *r, struct xaddrs *local,
		struct xaddrs *remote);
void xaddrs_free(struct xaddrs *a);
/* The flow ID, or "line-N" for a rule without one. */
void export_rule_name(const struct crule *r, char *buf, size_t sz);
/* "FLOW: comment; extra (file:line)", cut to sz - 1 bytes on a character boundary. */
void export_describe(const struct crule *r, const char *extra, char *buf, size_t sz);
/* "443" or "29876-29877". */
void export_port_str(const struct port_range *p, char *buf, size_t sz);

#endif
