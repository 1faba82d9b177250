/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reading captures for "check": pcap and pcapng through libpcap, gzip-compressed ones through
 * zlib, in the link types captures of Linux hosts come in (Ethernet, Linux cooked v1 and v2, raw
 * IP, BSD loopback).  Every packet comes out as an Ethernet frame, the form the datapath reads;
 * nothing here looks further than the link layer.
 */
#ifndef AMLG_OFFLINE_CAPTURE_H
#define AMLG_OFFLINE_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct capture;

struct capture_pkt {
	const uint8_t *frame; /* valid until the next capture_next() */
	uint32_t cap; /* bytes at frame */
	uint32_t len; /* wire length (with the synthesized Ethernet header, if any) */
	uint32_t wire_len; /* what was on the wire: len less a synthesized or pseudo-header */
	uint64_t ts_ns; /* wall-clock time */
	uint64_t number; /* 1-based packet number in the file */
	const uint8_t *orig; /* the packet as stored, and its length, for writing it out again */
	uint32_t orig_cap, orig_len;
};

/* 0, or -errno with a message naming the file in err. */
int capture_open(const char *path, struct capture **out, char *err, size_t errsz);
/*
 * 1: a packet; 0: the end; -EINVAL: a corrupt record (message in capture_error(), naming the
 * packet and, in a pcap file, the record's byte offset).  A last packet cut short by the end of the file ends the capture (0) and is reported
 * by capture_truncated().
 */
int capture_next(struct capture *c, struct capture_pkt *p);
const char *capture_error(const struct capture *c);
/* The message about a truncated last packet, or NULL. */
const char *capture_truncated(const struct capture *c);
int capture_linktype(const struct capture *c);
const char *capture_linktype_name(const struct capture *c);
/* How far through the file, 0..1 (of the compressed bytes for gzip). */
double capture_progress(const struct capture *c);
void capture_close(struct capture *c);

/* The progress line of a capture being read ("\r  PATH: NN%, N packets", a newline when done). */
void capture_show_progress(const char *path, struct capture *c, uint64_t n, bool done);

#endif
