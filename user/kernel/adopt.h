/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Bringing an interface under the daemon: attach afresh, or adopt the datapath a previous run
 * left enforcing.  Adopting means: the pins exist, our two tc filters are on the interface and
 * run programs that use those very maps.  Then the maps are reused and only the policy is
 * installed (atomically, as a reload): no gap in enforcement, and counters and connection
 * tracking continue.  Pins without a live datapath (the interface was re-created, the filters
 * were removed) are cleared and the interface attached afresh.
 */
#ifndef AMLG_KERNEL_ADOPT_H
#define AMLG_KERNEL_ADOPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compile/compile.h"
#include "kernel/loader.h"
#include "kernel/maps.h"

enum iface_found {
	IFACE_FREE, /* no pinned state */
	IFACE_LIVE, /* our datapath, attached, with its pins: adoptable */
	IFACE_STALE, /* pins without a live datapath */
};

/* What amlguard left on ifname; with IFACE_LIVE the pinned maps are open in m. */
int iface_probe(const char *ifname, enum iface_found *found, struct amlg_maps *m, char *why,
		size_t whysz);

/*
 * Attach or adopt, then install c.  The pinned maps are open in m on success.  *adopted says
 * which; *prev_gen is the generation that was running (0 when attached afresh).
 */
int iface_bring_up(const struct attach_opts *o, const struct compiled *c, struct amlg_maps *m,
		   uint64_t *gen, uint64_t *prev_gen, bool *adopted);

#endif
