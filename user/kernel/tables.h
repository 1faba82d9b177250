/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Installing a compiled policy into the datapath's maps, atomically: everything is written into
 * the inactive slot, then one aligned store flips amlg_cfg.active.  A packet reads the slot
 * once, so it sees the old policy or the new one, never a mix.  Before the inactive slot is
 * touched, an RCU grace period (membarrier) guarantees that no packet still uses it.
 */
#ifndef AMLG_KERNEL_TABLES_H
#define AMLG_KERNEL_TABLES_H

#include "compile/compile.h"
#include "kernel/maps.h"

/* Default interface-wide settings of a fresh attach. */
void tables_default_cfg(struct amlg_cfg *cfg, unsigned ifindex, unsigned role);

/*
 * Install c.  On success *generation is the new policy's generation.  On failure the running
 * policy is untouched (only the inactive slot may have been partly written).
 */
int tables_install(struct amlg_maps *m, const struct compiled *c, uint64_t *generation);

/* The active slot and its header. */
int tables_active(const struct amlg_maps *m, uint32_t *slot, struct amlg_pcfg *pc);

/* Rule metadata of a slot (AMLG_RULE_IDS entries); caller frees. */
int tables_rules(const struct amlg_maps *m, uint32_t slot, struct amlg_rule_info **out);

#endif
