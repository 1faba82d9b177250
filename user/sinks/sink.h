/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Where the daemon writes violations, whatever the place: a sink is opened, given one event at
 * a time, reopened after a rotation (SIGHUP) and closed.  The JSON-lines file and standard
 * output (sink_file.h), the journal (sink_journal.h) and the capture (sink_pcap.h) each provide
 * a struct sink_ops on top of their own functions; a caller keeps struct sink pointers and never
 * needs to know which one it holds.
 */
#ifndef AMLG_SINKS_SINK_H
#define AMLG_SINKS_SINK_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/event.h"

/* One violation, in every form a sink may want it. */
struct sink_event {
	const struct amlg_event *ev;
	const struct event_ctx *cx; /* how to describe ev (event_print()) */
	json_t *json; /* ev as event_json() made it */
	uint64_t real_ns; /* the packet's wall-clock time */
};

struct sink;

/*
 * A sink's state is a struct whose first member is its struct sink (sink_container() gets it
 * back); sink_open() allocates it zeroed, sink_close() frees it.
 */
struct sink_ops {
	const char *name; /* "file", "stdout", "journal", "pcap": the metrics' sink label */
	size_t size; /* of the sink's state */
	/* Start writing to path (NULL for those that have none); 0 or -errno, message printed. */
	int (*open)(struct sink *s, const char *path);
	/* 0: written; -ENODATA: the event has nothing for this sink; else -errno, counted. */
	int (*write)(struct sink *s, const struct sink_event *e);
	/* After a rotation (NULL: nothing to reopen); on failure the sink goes on as it can. */
	int (*reopen)(struct sink *s);
	/* Push what is buffered (NULL: nothing ever is); 0 or -errno, message printed. */
	int (*flush)(struct sink *s);
	/* Writes that failed since the sink was opened. */
	unsigned long (*errors)(const struct sink *s);
	/* Let go of what the sink holds (NULL: nothing); 0, or -errno when it is not whole. */
	int (*close)(struct sink *s);
};

struct sink {
	const struct sink_ops *ops;
};

/* The sink's state: a struct type whose first member, named sink, is s. */
#define sink_container(s, type) ((type *)(s))

extern const struct sink_ops sink_file_ops; /* path: the JSON-lines file */
extern const struct sink_ops sink_stdout_ops; /* JSON lines to standard output; no path */
extern const struct sink_ops sink_journal_ops; /* no path */
extern const struct sink_ops sink_pcap_ops; /* path: the capture file */

/* *sp: a new sink, or NULL on failure; 0 or -errno (message printed). */
int sink_open(const struct sink_ops *ops, const char *path, struct sink **sp);
int sink_write(struct sink *s, const struct sink_event *e);
int sink_reopen(struct sink *s);
int sink_flush(struct sink *s);
unsigned long sink_errors(const struct sink *s);
/* Close and free s (NULL-safe); 0, or -errno when what it wrote is not whole. */
int sink_close(struct sink *s);

#endif
