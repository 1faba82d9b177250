/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Azure flow logs for "check": virtual network flow logs (flowLogVersion 4) and NSG flow logs
 * (Version 2, and the counter-less Version 1), plain or gzip-compressed, read as a stream (yajl,
 * zlib) so a file of any size takes the memory of one record.  Only reading happens here: each
 * flow tuple comes out parsed, with the record's NIC and resource and its group's NSG rule; the
 * verdicts come from the datapath (flowlog_check.c).
 */
#ifndef AMLG_AZURE_FLOWLOG_H
#define AMLG_AZURE_FLOWLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum fl_kind {
	FL_VNET = 1, /* flowRecords.flows[].flowGroups[].flowTuples[] */
	FL_NSG = 2, /* properties.flows[].flows[].flowTuples[] */
};

/* One flow tuple, parsed. */
struct fl_tuple {
	uint64_t ts_ms; /* epoch milliseconds (NSG logs' seconds times 1000) */
	uint8_t family; /* 4 or 6 */
	uint8_t proto; /* IANA number */
	uint8_t dir; /* AMLG_DIR_OUT ('O': the source is the NIC) or AMLG_DIR_IN */
	uint8_t state; /* 'B', 'C', 'E', 'D' (VNet deny), or 0 (NSG version 1) */
	bool denied; /* VNet state D, NSG decision D */
	bool counters; /* the four counters were given */
	uint16_t sport, dport;
	uint8_t saddr[16], daddr[16];
	uint64_t pkts_s2d, bytes_s2d, pkts_d2s, bytes_d2s;
};

/*
 * Parse one tuple string (len bytes at s, no NUL needed) of the given kind.  VNet:
 * time_ms,src,dst,sport,dport,proto,dir,state,encryption,pkts,bytes,pkts,bytes; NSG:
 * time_s,src,dst,sport,dport,T|U,dir,A|D[,state,pkts,bytes,pkts,bytes].  Returns 0, or
 * -EINVAL with *why saying what is wrong.
 */
int fl_tuple_parse(enum fl_kind kind, const char *s, size_t len, struct fl_tuple *t,
		   const char **why);

/* "00224871C205", "00:22:48:71:c2:05" or "00-22-48-71-C2-05" to 6 bytes; 0 or -EINVAL. */
int fl_mac_parse(const char *s, size_t len, uint8_t mac[6]);

/* What a tuple came with: its record's and group's metadata (strings live until the reader's end). */
struct fl_meta {
	const char *file;
	uint64_t record; /* index in "records" */
	uint64_t tuple; /* index among the record's tuples */
	enum fl_kind kind;
	uint8_t mac[6]; /* the NIC */
	bool has_mac;
	const char *rule; /* NSG rule (flowGroups[].rule, properties.flows[].rule), or NULL */
	const char *acl; /* VNet: aclID; NSG: the NSG's resourceId */
	const char *resource; /* VNet: flowLogResourceID; NSG: resourceId */
};

struct fl_reader_ops {
	/* A tuple: 0 to go on, or -errno to stop reading (returned by fl_read_file). */
	int (*tuple)(void *arg, const struct fl_meta *m, const struct fl_tuple *t);
	/* A malformed tuple or record, or a file that ends early: msg names the place. */
	void (*bad)(void *arg, const char *msg, bool record);
	/* Progress through the file, 0..1 of its (compressed) bytes; NULL: none. */
	void (*progress)(void *arg, double done, uint64_t tuples);
	/* Intern a string for the tuples' metadata (must live as long as the caller needs it). */
	const char *(*intern)(void *arg, const char *s, size_t len);
	void *arg;
};

struct fl_file_stats {
	uint64_t records, tuples; /* read (tuples: handed to ops->tuple) */
	uint64_t bad_records, bad_tuples;
	bool truncated; /* ended inside a record */
};

/*
 * Is the file (or gzip-compressed file) JSON, i.e. not a capture?  1 yes, 0 no, -errno when it
 * cannot be read.
 */
int fl_sniff(const char *path);

/*
 * Read one flow-log file (plain or gzip), handing each tuple to ops->tuple in file order.
 * Returns 0 when the file was read (malformed tuples and records counted in *st and reported
 * through ops->bad), -EINVAL when it is not a flow log or its JSON is broken before any record
 * (message in err), another -errno when it cannot be read, or what ops->tuple returned.
 */
int fl_read_file(const char *path, const struct fl_reader_ops *ops, struct fl_file_stats *st,
		 char *err, size_t errsz);

#endif
