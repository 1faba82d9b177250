// SPDX-License-Identifier: GPL-2.0-only
/* The daemon's counts of undeclared egress flows and of violations by flow ID. */
#include <stdio.h>
#include <string.h>

#include "base/vcount.h"

void vcount_undeclared(struct vcount *v, unsigned mode, unsigned reason)
{
	if (mode < VCOUNT_MODES && reason < AMLG_REASON_MAX)
		v->undeclared[mode][reason]++;
}

const struct vcount_flow *vcount_find(const struct vcount *v, unsigned dir, const char *flow)
{
	for (size_t i = 0; i < v->nflows; i++)
		if (v->flows[i].dir == dir && !strncmp(v->flows[i].flow, flow, AMLG_FLOW_MAX))
			return &v->flows[i];
	return NULL;
}

void vcount_flow(struct vcount *v, unsigned mode, unsigned dir, const char *flow)
{
	struct vcount_flow *f = (struct vcount_flow *)vcount_find(v, dir, flow);

	if (mode >= VCOUNT_MODES || dir >= AMLG_DIRS)
		return;
	if (!f && v->nflows == VCOUNT_FLOWS) {
		v->other[mode][dir]++;
		return;
	}
	if (!f) {
		f = &v->flows[v->nflows++];
		snprintf(f->flow, sizeof(f->flow), "%s", flow);
		f->dir = (uint8_t)dir;
	}
	f->n[mode]++;
}
