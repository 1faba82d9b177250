/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * "explain": why the datapath judged a packet the way it did.  The verdict, reason and rule come
 * from the datapath (one packet through BPF_PROG_TEST_RUN); this module only tells the story:
 * which endpoint item (tag, CIDR, set member) and which of its prefixes covered the address,
 * and for a violation the rules that came nearest.
 */
#ifndef AMLG_OFFLINE_EXPLAIN_H
#define AMLG_OFFLINE_EXPLAIN_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "compile/compile.h"
#include "kernel/loader.h"

struct explain_query {
	uint8_t dir; /* AMLG_DIR_* */
	uint8_t proto; /* IP protocol number */
	uint8_t family;
	uint8_t saddr[16], daddr[16];
	uint16_t sport, dport; /* ICMP: sport is the echo identifier */
	uint8_t icmp_type;
};

/*
 * Parse "DIR PROTO SRC[:PORT] DST[:PORT]" (IPv6 as [addr]:port); 0 or -EINVAL with a message in
 * err.
 */
int explain_parse(int argc, char **argv, struct explain_query *q, char *err, size_t errsz);

/* The item of rule r (side) whose prefixes cover addr, and the most specific such prefix. */
bool explain_cover(const struct crule *r, uint8_t side, int family, const uint8_t *addr,
		   const struct item_res **res, const struct prefix **pfx);
/* Does r take this protocol, and this destination port? */
bool explain_proto(const struct crule *r, uint8_t proto);
bool explain_port(const struct crule *r, uint8_t proto, uint16_t port);

/*
 * Queries from a stream, one a line ('#' starts a comment, blank lines are skipped); name is the
 * file's name for messages ("FILE:LINE: ...").  0, or -EINVAL/-ENOMEM with a message in err.
 */
int explain_read_file(FILE *f, const char *name, struct explain_query **out, size_t *nout,
		      char *err, size_t errsz);

void explain_print(FILE *f, const struct compiled *c, const struct explain_query *q,
		   const struct offline_verdict *v);
json_t *explain_json(const struct compiled *c, const struct explain_query *q,
		     const struct offline_verdict *v);

#endif
