/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The Prometheus text exposition format (version 0.0.4): a growing buffer, "# HELP" and
 * "# TYPE" lines per family, samples with labels.  Names are checked, label values and help
 * texts escaped as the format says (\\, \" and \n in label values; \\ and \n in help).
 */
#ifndef AMLG_METRICS_METRICS_H
#define AMLG_METRICS_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct mbuf {
	char *s;
	size_t len, cap;
	int err; /* first error: -ENOMEM, or -EINVAL for a bad name */
};

struct mlabel {
	const char *name;
	const char *value;
};

void mbuf_init(struct mbuf *b);
void mbuf_free(struct mbuf *b);

bool metrics_valid_name(const char *s);
bool metrics_valid_label(const char *s);

/* type: "counter", "gauge", "untyped", "info" is written as a gauge. */
void metrics_family(struct mbuf *b, const char *name, const char *type, const char *help);
void metrics_u64(struct mbuf *b, const char *name, const struct mlabel *l, size_t n, uint64_t v);
void metrics_f64(struct mbuf *b, const char *name, const struct mlabel *l, size_t n, double v);

/* Appends a label value or a help text, escaped. */
void metrics_escape(struct mbuf *b, const char *s, bool label_value);

#endif
