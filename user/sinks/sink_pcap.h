/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The violating packets' first bytes as a capture file that tcpdump and Wireshark read: libpcap
 * writes it (nanosecond timestamps, Ethernet), zlib compresses it when the name ends in ".gz".
 * Timestamps are the packets' own, moved from CLOCK_MONOTONIC to wall-clock time.
 *
 * An existing plain capture is appended to (libpcap checks that it is compatible).  A gzip
 * stream cannot be safely continued after a crash, so an existing ".gz" is moved aside to
 * NAME-<time>.pcap.gz first.  Reopening (after a rotation) only happens when the name no
 * longer refers to the file being written.  sink_pcap_ops (sink.h) is this sink behind the
 * common interface; `check --write-violations` uses the functions below directly.
 */
#ifndef AMLG_SINKS_SINK_PCAP_H
#define AMLG_SINKS_SINK_PCAP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <zlib.h>

#include "bpf/amlguard_abi.h"

struct pcap;
struct pcap_dumper;

struct sink_pcap {
	struct pcap *pd;
	struct pcap_dumper *dump;
	gzFile gz; /* NULL: plain */
	char *path;
	dev_t dev;
	ino_t ino;
	bool dirty;
	unsigned long packets, errors;
	int err; /* the first write error, -errno */
};

/* 0 or -errno (message printed). */
int sink_pcap_open(struct sink_pcap *s, const char *path);
/* After a rotation: reopen when path is no longer the file being written. */
int sink_pcap_reopen(struct sink_pcap *s);
/* One event's packet bytes; real_ns is its wall-clock time.  0, or -errno: not written. */
int sink_pcap_write(struct sink_pcap *s, const struct amlg_event *ev, uint64_t real_ns);
/* One Ethernet frame: cap bytes at frame of a len-byte packet, at wall-clock real_ns. */
int sink_pcap_write_raw(struct sink_pcap *s, uint64_t real_ns, const uint8_t *frame, uint32_t cap,
			uint32_t len);
/* Push what is buffered to the file (a gzip stream is sync-flushed: readable up to here). */
int sink_pcap_flush(struct sink_pcap *s);
/* 0, or the first write error (-errno): a capture that was not written whole. */
int sink_pcap_close(struct sink_pcap *s);

#endif
