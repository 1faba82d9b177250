/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Violations to the systemd journal with structured fields: MESSAGE is the one-line text form,
 * and every field of the JSON object is also an AMLG_<NAME> field (AMLG_DST, AMLG_DPORT,
 * AMLG_REASON, AMLG_FLOW, ...), so `journalctl AMLG_REASON=no-rule` finds them.  journald
 * forwards them to syslog where one runs.  sink_journal_ops (sink.h) is this sink behind the
 * common interface.
 */
#ifndef AMLG_SINKS_SINK_JOURNAL_H
#define AMLG_SINKS_SINK_JOURNAL_H

#include <jansson.h>

/* Every violation carries this MESSAGE_ID (journalctl MESSAGE_ID=...). */
#define AMLG_JOURNAL_MESSAGE_ID "7c1a2f0e9b5d4e5f8a3b6c2d1e0f9a84"

struct sink_journal {
	unsigned long sent, errors;
	int last_err; /* reported once, until a send works again */
};

void sink_journal_init(struct sink_journal *s);
/* Send one event: its JSON object and its one-line text.  0 or -errno (counted). */
int sink_journal_send(struct sink_journal *s, json_t *o, const char *message, int priority);

/* The journal field name for a JSON key: "AMLG_" + upper case; 0 or -EINVAL if unusable. */
int journal_field_name(const char *key, char *buf, size_t sz);

#endif
