// SPDX-License-Identifier: GPL-2.0-only
/* Which violations become alerts: per-flow de-duplication and a rate per period. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sinks/alert_limit.h"

#define NSEC 1000000000ull
#define PROBES 16

struct alert_seen {
	struct alert_key k;
	uint64_t seen;
	bool used;
};

int alert_limit_init(struct alert_limit *l, unsigned window_s, unsigned rate, unsigned period_s,
		     size_t capacity)
{
	size_t cap = 16;

	memset(l, 0, sizeof(*l));
	while (cap < capacity)
		cap <<= 1;
	l->tab = calloc(cap, sizeof(*l->tab));
	if (!l->tab)
		return -ENOMEM;
	l->cap = cap;
	l->window_ns = window_s * NSEC;
	l->period_ns = (period_s ? period_s : 1) * NSEC;
	l->rate = rate;
	return 0;
}

void alert_limit_free(struct alert_limit *l)
{
	free(l->tab);
	l->tab = NULL;
}

static uint64_t key_hash(const struct alert_key *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* true if k was seen within the window; else it is remembered as seen now. */
static bool seen_recently(struct alert_limit *l, const struct alert_key *k, uint64_t now)
{
	size_t mask = l->cap - 1, i = (size_t)key_hash(k) & mask, victim = i;

	if (!l->window_ns)
		return false;
	for (size_t n = 0; n < PROBES; n++, i = (i + 1) & mask) {
		struct alert_seen *e = &l->tab[i];
		bool live = e->used && now - e->seen < l->window_ns;

		if (live && !memcmp(&e->k, k, sizeof(*k)))
			return true;
		if (!live) {
			victim = i;
			break;
		}
		if (e->seen < l->tab[victim].seen)
			victim = i;
	}
	/* The slot of an expired entry, or the oldest one nearby: old flows are forgotten first. */
	l->tab[victim] = (struct alert_seen){ .k = *k, .seen = now, .used = true };
	return false;
}

static void roll_period(struct alert_limit *l, uint64_t now)
{
	if (now - l->period_start < l->period_ns)
		return;
	l->pending += l->suppressed;
	l->suppressed = 0;
	l->in_period = 0;
	l->period_start = now;
}

enum alert_decision alert_limit_check(struct alert_limit *l, const struct alert_key *k,
				      uint64_t now_ns)
{
	if (seen_recently(l, k, now_ns))
		return ALERT_DUPLICATE;
	roll_period(l, now_ns);
	if (l->in_period < l->rate) {
		l->in_period++;
		return ALERT_RUN;
	}
	l->suppressed++;
	return ALERT_SUPPRESSED;
}

unsigned long alert_limit_summary(struct alert_limit *l, uint64_t now_ns)
{
	unsigned long n;

	if (l->suppressed && now_ns - l->period_start >= l->period_ns) {
		l->pending += l->suppressed;
		l->suppressed = 0;
	}
	n = l->pending;
	l->pending = 0;
	return n;
}
