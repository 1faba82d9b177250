/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The policy compiler: resolves every rule's endpoints to prefixes and builds the tables the
 * datapath reads (see bpf/amlguard_abi.h):
 *
 *  - LPM entries (direction, side, prefix) -> class: the bitmap of the rules whose endpoint covers
 *    that prefix.  A rule's bit is pushed down into every more specific prefix, so the longest
 *    match alone carries every rule that covers the address.
 *  - the port table (direction, tcp/udp, port) -> class, and per (direction, protocol) the class of
 *    rules that match the protocol at any port;
 *  - the classes themselves, de-duplicated, class 0 being the empty bitmap.
 *
 * Rule bits follow the policy's order, the platform rules first; the lowest set bit of
 * address & port wins.
 */
#ifndef AMLG_COMPILE_COMPILE_H
#define AMLG_COMPILE_COMPILE_H

#include <jansson.h>
#include <stdio.h>

#include "bpf/amlguard_abi.h"
#include "policy/policy.h"

/* How one endpoint item resolved, for "compile" output and "explain". */
struct item_res {
	const struct ep_item *item; /* NULL for platform rules */
	uint8_t side; /* AMLG_SIDE_* */
	enum ep_kind kind; /* the item's kind, kept for platform rules too */
	char *text; /* the item as written: "any", "10.0.0.0/8", "tag:Name", "host:pattern" */
	size_t n4, n6; /* prefixes it contributed, before merging */
	struct prefix_list pfx; /* those prefixes, merged: what "explain" names */
	char *note; /* e.g. "alias of AzureContainerRegistry.EastUS2", "not enforced yet" */
};

struct crule {
	uint8_t dir;
	uint16_t bit;
	uint8_t proto;
	bool platform;
	const struct rule *src; /* NULL for platform rules */
	char flow[AMLG_FLOW_MAX];
	char origin[AMLG_ORIGIN_MAX]; /* "file:line" or "platform" */
	struct port_range *ports; /* copy; nports == 0 = any */
	size_t nports;
	struct prefix_list remote; /* merged */
	struct prefix_list local; /* merged; n == 0 and !has_local = any */
	bool has_local;
	struct item_res *res;
	size_t nres;
	size_t nhosts; /* host: items (enforced by DNS learning, not by prefixes) */
};

/* A host pattern: what the datapath looks names up by, and the rules it belongs to. */
struct chost {
	struct amlg_host_key key;
	char text[AMLG_NAME_MAX]; /* the name, or the suffix after "*." or "*" */
	char pattern[AMLG_NAME_MAX]; /* as written, lower case */
	uint32_t id;
	struct amlg_bitmap bm[AMLG_DIRS]; /* its rules */
	uint32_t cls[AMLG_DIRS];
};

struct clpm {
	struct prefix pfx;
	uint8_t kind; /* AMLG_LPM_KIND(dir, side) */
	uint32_t cls;
};

struct compiled {
	int mode;
	uint32_t flags; /* AMLG_PF_* */
	struct crule *rules; /* out rules by bit, then in rules by bit */
	size_t nrules;
	unsigned nrules_dir[AMLG_DIRS];
	struct clpm *lpm4, *lpm6;
	size_t nlpm4, nlpm6;
	struct amlg_bitmap *classes;
	size_t nclasses;
	uint32_t *ports; /* AMLG_PORTS_PER_SLOT entries, indexed with AMLG_PORT_IDX(0, ...) */
	uint32_t proto_cls[AMLG_DIRS][AMLG_PSLOTS];
	unsigned nwords;
	char path[AMLG_PATH_MAX];
	uint8_t sha256[32];
	uint32_t compile_us;
	/* The service-tag file the tags resolved against (tags_record); all zero without one. */
	uint32_t tags_change;
	char tags_cloud[32];
	char tags_date[16];
	char tags_file[AMLG_PATH_MAX];
	/* Flow IDs the policy declares to have no packet rule (points into the policy). */
	const struct noflow *noflows;
	size_t nnoflows;
	/* Host rules: the patterns, and the settings of DNS learning and ClientHello checks. */
	struct chost *hosts;
	size_t nhosts;
	uint64_t host_lens[3][4]; /* per AMLG_HOST_* kind - 1: pattern lengths in use */
	struct prefix resolvers[AMLG_RESOLVERS_MAX];
	size_t nresolvers;
	unsigned dns_ttl_floor, dns_grace;
	int sni_mode;
};

/*
 * Resolves a tag item to prefixes (appended to out).  Returns 0, or -ENOENT after adding a
 * diagnostic at item->loc.  *note may be set to a malloc'd remark (alias used, ...).
 */
struct tag_resolver {
	int (*resolve)(void *ctx, const struct ep_item *item, struct prefix_list *out, char **note,
		       struct diag *d);
	void *ctx;
};

struct compile_opts {
	int mode; /* -1: the policy's own; else AMLG_MODE_* */
	const struct tag_resolver *tags; /* NULL: a tag is an error */
};

/* The built-in platform allow-list, as policy text (compiled like any other rules). */
extern const char amlg_platform_policy[];

/*
 * Compile p (and the platform rules when p->platform).  o may be NULL (the policy's mode, no
 * tag resolver).  Every problem is added to d; on any error the result is -EINVAL and *out is
 * NULL.  The compiled policy points into p (crule.src, item_res.item): keep p until it is freed.
 */
int compile_policy(const struct policy *p, const struct compile_opts *o, struct diag *d,
		   struct compiled **out);
void compiled_free(struct compiled *c);

/* The global rule id (AMLG_RULE_ID) to its rule, or NULL. */
const struct crule *compiled_rule(const struct compiled *c, unsigned id);

/* Table sizes of a compiled policy, for "compile" and "status". */
struct compiled_stats {
	size_t lpm4[AMLG_DIRS * 2], lpm6[AMLG_DIRS * 2]; /* entries per AMLG_LPM_KIND */
	size_t nclasses;
	size_t ports_used; /* port-table entries whose class is not empty */
	unsigned nwords;
	/*
	 * Estimated kernel memory of one policy slot: LPM trie nodes (and their intermediate
	 * nodes), classes, rule metadata, the slot's share of the port table and its header.
	 */
	size_t mem_bytes;
};

void compiled_stats(const struct compiled *c, struct compiled_stats *s);

/*
 * The output of "amlguard compile": every rule with what each endpoint item resolved to, then
 * the table sizes; verbose adds each endpoint's merged prefixes.  json prints the same as one
 * JSON object (in "ports", [] means any port; "local" is null when the rule has no local
 * endpoint).  Returns 0, -ENOMEM or -EIO.
 */
int compiled_print(const struct compiled *c, FILE *f, bool json, bool verbose);
/* The JSON object compiled_print prints; NULL without memory. */
json_t *compiled_json(const struct compiled *c, bool verbose);

#endif
