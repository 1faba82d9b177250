/* SPDX-License-Identifier: GPL-2.0-only */
/* Messages to stderr by level; libbpf's own messages one level quieter. */
#ifndef AMLG_BASE_LOG_H
#define AMLG_BASE_LOG_H

#include <stdbool.h>
#include <stdio.h>

enum log_level { LOGL_QUIET, LOGL_WARN, LOGL_INFO, LOGL_DEBUG };

void log_set_level(enum log_level l);
enum log_level log_get_level(void);
/* JSON mode: errors are printed as {"error": "..."} on stdout instead of text on stderr. */
void log_set_json(bool json);

void pr_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A second line under an error, telling the user what to do. */
void pr_hint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Route libbpf's messages through us and keep the last lines of the verifier log, so that a
 * refused program can be explained in a few lines instead of thousands.
 */
void log_libbpf_init(void);
void log_libbpf_print_tail(FILE *f, unsigned lines);
void log_libbpf_reset(void);

#endif
