/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The policy language: what a parsed policy looks like.  The grammar is in docs/policy.md.
 *
 * Parsing resolves everything that is purely textual (variables, includes, named sets) so that the
 * compiler sees a flat list of rules whose endpoints are lists of items: CIDRs, "any", service tags
 * and host patterns.  Tags and hosts are resolved by the compiler.
 */
#ifndef AMLG_POLICY_POLICY_H
#define AMLG_POLICY_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/diag.h"
#include "base/prefix.h"

enum ep_kind {
	EP_ANY, /* every address of both families */
	EP_CIDR, /* one prefix */
	EP_TAG, /* tag:Name or tag:Name.Region */
	EP_HOST, /* host:pattern */
};

struct ep_item {
	enum ep_kind kind;
	struct srcloc loc; /* where the item is written (inside the set definition for @set items) */
	struct prefix pfx; /* EP_CIDR */
	char *name; /* EP_TAG: "Name" or "Name.Region"; EP_HOST: the pattern, lower case */
	char *set; /* the @set it was written in, or NULL */
};

struct endpoint {
	struct ep_item *items;
	size_t n; /* 0 only for an omitted local endpoint (= any) or an empty set */
};

struct port_range {
	uint16_t lo, hi; /* inclusive, 1..65535 */
};

struct rule {
	uint8_t dir; /* AMLG_DIR_OUT / AMLG_DIR_IN */
	uint8_t proto; /* AMLG_PROTO_ANY / TCP / UDP / ICMP / ICMPV6 */
	struct port_range *ports;
	size_t nports; /* 0 = any port */
	struct endpoint remote;
	struct endpoint local; /* n == 0: any local address */
	bool has_local;
	char *flow; /* flow ID, or NULL */
	char *comment; /* or NULL */
	bool optional; /* may resolve to no address without an error */
	struct srcloc loc; /* the "allow" keyword */
	struct srcloc flow_loc;
};

/* "noflow ID comment \"why\"": a documented flow ID that is no packet flow of this policy. */
struct noflow {
	char *flow;
	char *comment; /* the reason, never empty */
	char *origin; /* "file:line", kept after the diag (and its interned names) is gone */
	struct srcloc loc; /* the flow ID; its file lives only as long as the parse's diag */
};

struct policy_var {
	char *name;
	char *value;
	bool from_cli; /* given with --var */
	bool used;
	struct srcloc loc; /* the define, or no location for --var */
	struct srcloc use_loc; /* the first use, for "defined after its first use" */
};

struct policy_file {
	char *path; /* as opened */
	uint8_t sha256[32];
};

struct policy {
	char *path; /* the top file */
	struct rule *rules;
	size_t nrules;
	int mode; /* AMLG_MODE_AUDIT unless the policy says otherwise */
	bool mode_set;
	struct srcloc mode_loc;
	bool platform; /* built-in platform rules; default on */
	struct srcloc platform_loc;
	char *tags_path; /* "tags" statement, resolved against the declaring file's directory */
	struct srcloc tags_loc;
	struct policy_var *vars;
	size_t nvars;
	struct noflow *noflows;
	size_t nnoflows;
	/* host rules: "resolver", "dns ttl-floor|grace", "sni" statements (policy_dns.c) */
	struct prefix *resolvers; /* trusted DNS servers; none given: Azure DNS */
	size_t nresolvers;
	struct srcloc resolvers_loc;
	unsigned dns_ttl_floor; /* seconds */
	unsigned dns_grace;
	bool ttl_floor_set, grace_set;
	struct srcloc ttl_floor_loc, grace_loc;
	int sni_mode; /* AMLG_SNI_* */
	bool sni_set;
	struct srcloc sni_loc;
	struct policy_file *files; /* top file then includes, in the order read */
	size_t nfiles;
	uint8_t sha256[32]; /* over every file's content in that order */
};

/* Defaults of the DNS settings, and the resolver trusted when the policy names none. */
#define POLICY_DNS_TTL_FLOOR 5
#define POLICY_DNS_GRACE 30
#define POLICY_DNS_RESOLVER "168.63.129.16"

struct var_def {
	const char *name;
	const char *value;
};

/*
 * Read and parse a policy file and its includes.  vars are the --var overrides.  Every error is
 * added to d (all of them, not just the first); on any error the return value is -EINVAL and *out
 * is NULL.  An unreadable file is reported in d too.
 */
int policy_load(const char *path, const struct var_def *vars, size_t nvars, struct diag *d,
		struct policy **out);
/* The same on a string; name is what locations print.  Includes resolve against cwd. */
int policy_parse_string(const char *name, const char *text, const struct var_def *vars,
			size_t nvars, struct diag *d, struct policy **out);
void policy_free(struct policy *p);

/* Keyword tables, for suggestions and for docs. */
extern const char *const policy_statements[]; /* NULL-terminated */
extern const char *const policy_protocols[];

const char *proto_name(int proto); /* "tcp", ..., "any" */
const char *dir_name(int dir); /* "out" / "in" */

#endif
