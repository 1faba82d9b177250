/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Violations as JSON lines, to a file or to standard output.  The file is opened for appending
 * and reopened on request (SIGHUP), so logrotate can move it away and the next line goes to a
 * new file of the same name.  sink_file_ops and sink_stdout_ops (sink.h) are this sink behind
 * the common interface.
 */
#ifndef AMLG_SINKS_SINK_FILE_H
#define AMLG_SINKS_SINK_FILE_H

#include <jansson.h>
#include <stdio.h>

struct sink_file {
	FILE *f;
	char *path; /* NULL: standard output */
	unsigned long lines, errors;
};

/* path NULL: standard output.  0 or -errno (message printed). */
int sink_file_open(struct sink_file *s, const char *path);
/* Reopen by name (after a rotation); on failure the old file stays in use. */
int sink_file_reopen(struct sink_file *s);
/* One object as one line; 0 or -errno (counted in errors). */
int sink_file_write(struct sink_file *s, json_t *o);
void sink_file_close(struct sink_file *s);

#endif
