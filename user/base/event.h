/* SPDX-License-Identifier: GPL-2.0-only */
/* Violation events from the datapath: checking, and printing as JSON lines or text. */
#ifndef AMLG_BASE_EVENT_H
#define AMLG_BASE_EVENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bpf/amlguard_abi.h"

struct event_ctx {
	const char *ifname;
	/* Rule metadata of the policy that judged the event (matched by generation), or NULL. */
	const struct amlg_rule_info *rules;
	uint64_t generation;
	unsigned mode;
	const uint8_t *hash; /* policy SHA-256, or NULL */
	/* Header of the policy that judged the event (its service-tag file), or NULL. */
	const struct amlg_pcfg *pcfg;
	int64_t mono_to_real_ns; /* added to ts_ns for wall time; 0 if ts_ns is already wall time */
	int names_fd; /* amlg_names, for "learned as"; -1 or 0: none */
};

/* The name (hash) was learned for, from the amlg_names map; 0 or -ENOENT. */
int event_learned_name(int names_fd, uint64_t hash, char *buf, size_t sz);

/* Copy a ring-buffer sample into *ev after checking it; -EINVAL if it is not an event. */
int event_decode(const void *data, size_t size, struct amlg_event *ev);

/* Offset from CLOCK_MONOTONIC to CLOCK_REALTIME, now. */
int64_t mono_to_real_offset(void);

/* RFC 3339 UTC time with microseconds. */
char *time_str(uint64_t real_ns, char *buf, size_t sz);

json_t *event_json(const struct amlg_event *ev, const struct event_ctx *cx);
void event_print(FILE *f, const struct amlg_event *ev, const struct event_ctx *cx);

#endif
