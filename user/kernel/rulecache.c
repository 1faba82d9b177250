// SPDX-License-Identifier: GPL-2.0-only
/* The rule names of the policy that judged an event, cached by generation. */
#include <bpf/bpf.h>
#include <stdlib.h>

#include "kernel/rulecache.h"
#include "kernel/tables.h"

void rule_cache_refresh(struct rule_cache *rc, const struct amlg_maps *m, uint64_t gen,
			struct event_ctx *cx)
{
	if (rc->rules && rc->pcfg.generation == gen)
		goto out;
	rule_cache_free(rc);
	for (uint32_t slot = 0; slot < AMLG_SLOTS; slot++) {
		struct amlg_pcfg pc;

		if (bpf_map_lookup_elem(m->fd[M_PCFG], &slot, &pc) || pc.generation != gen)
			continue;
		if (tables_rules(m, slot, &rc->rules) == 0)
			rc->pcfg = pc;
		break;
	}
out:
	cx->rules = rc->rules;
	cx->generation = rc->rules ? rc->pcfg.generation : 0;
	cx->hash = rc->rules ? rc->pcfg.hash : NULL;
	cx->mode = rc->pcfg.mode;
	cx->pcfg = rc->rules ? &rc->pcfg : NULL;
	cx->names_fd = m->fd[M_NAMES];
}

void rule_cache_free(struct rule_cache *rc)
{
	free(rc->rules);
	rc->rules = NULL;
	rc->pcfg.generation = 0;
}
