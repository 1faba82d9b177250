/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The metrics as a node_exporter textfile: written to a temporary file beside the target and
 * renamed over it, so the collector never reads half a file.
 */
#ifndef AMLG_METRICS_METRICS_TEXTFILE_H
#define AMLG_METRICS_METRICS_TEXTFILE_H

#include <stddef.h>

/* 0 or -errno; on failure the previous file stays as it was. */
int metrics_textfile_write(const char *path, const char *text, size_t len);

#endif
