/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The rule names (flow IDs, file:line) of the policy that judged an event, read from the slot
 * whose generation matches the event's and kept until an event of another generation comes.
 */
#ifndef AMLG_KERNEL_RULECACHE_H
#define AMLG_KERNEL_RULECACHE_H

#include <stdint.h>

#include "base/event.h"
#include "kernel/maps.h"

struct rule_cache {
	struct amlg_pcfg pcfg;
	struct amlg_rule_info *rules; /* NULL: not loaded */
};

/* Point cx at the rules of policy generation gen (cx->rules NULL if that policy is gone). */
void rule_cache_refresh(struct rule_cache *rc, const struct amlg_maps *m, uint64_t gen,
			struct event_ctx *cx);
void rule_cache_free(struct rule_cache *rc);

#endif
