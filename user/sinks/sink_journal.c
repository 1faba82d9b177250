// SPDX-License-Identifier: GPL-2.0-only
/* Violations to the systemd journal, with every JSON field as an AMLG_* field. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <syslog.h>
#include <systemd/sd-journal.h>

#include "base/log.h"
#include "sinks/sink.h"
#include "sinks/sink_journal.h"

#define MAX_FIELDS 48

void sink_journal_init(struct sink_journal *s)
{
	memset(s, 0, sizeof(*s));
}

int journal_field_name(const char *key, char *buf, size_t sz)
{
	size_t n = strlen(key);

	if (!n || n + 6 > sz || n + 5 > 64)
		return -EINVAL;
	memcpy(buf, "AMLG_", 5);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)key[i];

		if (!isalnum(ch) && ch != '_')
			return -EINVAL;
		buf[5 + i] = (char)toupper(ch);
	}
	buf[5 + n] = '\0';
	return 0;
}

/* A JSON value as field text: strings as they are, arrays joined with ','; NULL to skip. */
static char *value_text(json_t *v)
{
	char *s = NULL;

	switch (json_typeof(v)) {
	case JSON_STRING:
		return strdup(json_string_value(v));
	case JSON_INTEGER:
		if (asprintf(&s, "%" JSON_INTEGER_FORMAT, json_integer_value(v)) < 0)
			return NULL;
		return s;
	case JSON_TRUE:
		return strdup("true");
	case JSON_FALSE:
		return strdup("false");
	case JSON_ARRAY: {
		size_t i, len = 0;
		json_t *e;
		char *t;

		if (!json_array_size(v))
			return NULL;
		json_array_foreach(v, i, e) {
			char *part = value_text(e);

			if (!part)
				continue;
			t = realloc(s, len + strlen(part) + 2);
			if (!t) {
				free(part);
				break;
			}
			s = t;
			len += (size_t)sprintf(s + len, "%s%s", len ? "," : "", part);
			free(part);
		}
		return s;
	}
	default:
		return NULL;
	}
}

int sink_journal_send(struct sink_journal *s, json_t *o, const char *message, int priority)
{
	struct iovec iov[MAX_FIELDS];
	char *bufs[MAX_FIELDS];
	const char *key;
	json_t *v;
	int n = 0, err;

	if (asprintf(&bufs[n], "MESSAGE=%s", message) < 0)
		return -ENOMEM;
	n++;
	if (asprintf(&bufs[n], "PRIORITY=%d", priority) >= 0)
		n++;
	if (asprintf(&bufs[n], "MESSAGE_ID=%s", AMLG_JOURNAL_MESSAGE_ID) >= 0)
		n++;
	if (asprintf(&bufs[n], "SYSLOG_IDENTIFIER=amlguard") >= 0)
		n++;
	json_object_foreach(o, key, v) {
		char name[64], *text;

		if (n == MAX_FIELDS || journal_field_name(key, name, sizeof(name)))
			continue;
		text = value_text(v);
		if (!text)
			continue;
		if (asprintf(&bufs[n], "%s=%s", name, text) >= 0)
			n++;
		free(text);
	}
	for (int i = 0; i < n; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = strlen(bufs[i]);
	}
	err = sd_journal_sendv(iov, n);
	for (int i = 0; i < n; i++)
		free(bufs[i]);
	if (err < 0) {
		s->errors++;
		if (err != s->last_err)
			pr_warn("journal: cannot send a violation: %s (counted in "
				"amlguard_sink_errors_total{sink=\"journal\"})",
				strerror(-err));
		s->last_err = err;
		return err;
	}
	s->last_err = 0;
	s->sent++;
	return 0;
}

/* The journal behind struct sink_ops: MESSAGE is the event's one-line text. */
struct journal_sink {
	struct sink sink; /* first */
	struct sink_journal j;
};
_Static_assert(offsetof(struct journal_sink, sink) == 0, "sink_container() needs it first");

static int journal_open(struct sink *s, const char *path)
{
	sink_journal_init(&sink_container(s, struct journal_sink)->j);
	return 0;
}

static int journal_write(struct sink *s, const struct sink_event *e)
{
	struct sink_journal *j = &sink_container(s, struct journal_sink)->j;
	char *msg = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&msg, &len);
	int err;

	if (!f)
		return -ENOMEM;
	event_print(f, e->ev, e->cx);
	fclose(f);
	if (len && msg[len - 1] == '\n')
		msg[len - 1] = '\0';
	err = sink_journal_send(j, e->json, msg, LOG_WARNING);
	free(msg);
	return err;
}

static unsigned long journal_errors(const struct sink *s)
{
	return sink_container(s, const struct journal_sink)->j.errors;
}

const struct sink_ops sink_journal_ops = {
	.name = "journal",
	.size = sizeof(struct journal_sink),
	.open = journal_open, /* every event is a datagram to journald: nothing to reopen */
	.write = journal_write,
	.errors = journal_errors,
};
