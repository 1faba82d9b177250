/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The report of "check" over flow logs: one entry per flow (as the NIC sees it, per NIC and NSG
 * decision) with the datapath's verdict, the NSG's decision and the summed counters; printed as a
 * table or as JSON lines, and merged back from JSON lines (check --merge), so that shards of a
 * large audit add up to the report of the whole.
 */
#ifndef AMLG_AZURE_FLOWLOG_REPORT_H
#define AMLG_AZURE_FLOWLOG_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* What became of a flow: the datapath's verdict crossed with the NSG's decision. */
enum fl_status {
	FS_VIOLATION, /* undeclared, the NSG let it through */
	FS_BLOCKED, /* documented, the NSG denied it: a required flow blocked */
	FS_ATTEMPTED, /* undeclared, the NSG denied it */
	FS_ALLOWED, /* documented, the NSG allowed it */
	FS_COUNT,
};

struct fl_flow {
	/* the key: the flow from the NIC's side, the NIC, and the NSG's decision */
	uint8_t family, proto, dir, denied;
	uint8_t mac[6];
	uint8_t has_mac;
	uint8_t pad;
	uint16_t lport, rport; /* 0 for protocols without ports */
	uint8_t laddr[16], raddr[16];
	/* the datapath's verdict */
	uint8_t verdict, reason, match, judged;
	const char *flow_id, *origin; /* of the allowing or near rule; NULL: none */
	/* from the tuples */
	const char *nsg_rule, *acl, *resource; /* of the earliest tuple */
	uint64_t packets, bytes, tuples;
	uint64_t first_ms, last_ms;
};

/* Strings kept once (rule names, resource IDs, flow IDs). */
struct fl_pool {
	char **v; /* open addressing */
	size_t cap, n;
};

const char *fl_pool_get(struct fl_pool *p, const char *s, size_t len);
void fl_pool_free(struct fl_pool *p);

struct fl_report {
	/* flows, in chunks (their indices never move), and a hash of their indices */
	struct fl_flow **chunks;
	size_t nchunks, n;
	uint64_t *slots; /* hash << 32 | index + 1; 0 empty */
	size_t cap;
	struct fl_pool pool;
	/* what was read */
	uint64_t files, records, tuples, judged, outside_window, other_nic, not_local;
	uint64_t bad_records, bad_tuples, unreadable_files, truncated_files;
	uint64_t packets, bytes, first_ms, last_ms; /* of the judged tuples */
	char policy[65]; /* SHA-256 of the policy, hex */
	/* flow IDs that may be "never seen": the policy's own (check), or the shards' common ones */
	const char **never;
	size_t nnever;
	bool never_set; /* merge: the list was given by a first shard */
};

int fl_report_init(struct fl_report *r);
void fl_report_free(struct fl_report *r);
struct fl_flow *fl_flow_at(const struct fl_report *r, size_t i);
/* The flow with k's key, created (zeroed but for the key) when new: *created says which. */
struct fl_flow *fl_report_find(struct fl_report *r, const struct fl_flow *k, bool *created,
			       size_t *index);
/* The same with the key's hash (fl_key_hash) computed already. */
struct fl_flow *fl_report_find_hashed(struct fl_report *r, const struct fl_flow *k, uint64_t h,
				      bool *created, size_t *index);
uint64_t fl_key_hash(const struct fl_flow *k);
/* Prefetch the slot of hash h, or (flow) the flow in it: lookups of a batch of tuples overlap. */
void fl_report_prefetch(const struct fl_report *r, uint64_t h, bool flow);
/* Put the tuple's NSG metadata on f if the tuple (at ts) comes first (ties broken by name). */
void fl_flow_meta(struct fl_flow *f, uint64_t ts, const char *rule, const char *acl,
		  const char *resource);
enum fl_status fl_flow_status(const struct fl_flow *f);
size_t fl_report_count(const struct fl_report *r, enum fl_status s);

void fl_report_print(const struct fl_report *r, FILE *f);
void fl_report_print_json(const struct fl_report *r, FILE *f);
/* 1 when the report has violations or blocked required flows, else 0. */
int fl_report_exit(const struct fl_report *r);

/*
 * Add a report of some of the files (a reading thread's) to into; its flows are taken over when
 * into has none yet (from is left empty then).  0 or -ENOMEM.
 */
int fl_report_absorb(struct fl_report *into, struct fl_report *from);

/*
 * Merge the JSON lines of "check -j" over flow logs (a file, or "-" for stdin) into r.  Returns 0,
 * or -EINVAL with a message naming the file and line.
 */
int fl_report_merge_file(struct fl_report *r, const char *path);

#endif
