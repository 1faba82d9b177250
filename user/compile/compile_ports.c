// SPDX-License-Identifier: GPL-2.0-only
/*
 * Protocol and port classes.  TCP and UDP are judged by destination port through a flat table of
 * 65536 classes per (direction, protocol); ICMP, ICMPv6 and every other protocol only by
 * protocol.  A rule of protocol "any" with ports can only mean TCP and UDP, since no other
 * protocol has ports; without ports it means every protocol.
 */
#include <errno.h>
#include <stdlib.h>

#include "compile_internal.h"
#include "base/vec.h"

#define PORTS 65536u

/* A rule starts (+1) or stops (-1) covering ports at this one. */
struct port_ev {
	uint32_t port;
	uint16_t bit;
	int16_t delta;
};

struct port_evs {
	struct port_ev *v;
	size_t n, cap;
};

/* Does the rule belong in the port table of this protocol slot? */
static bool ported(const struct crule *cr, unsigned pslot)
{
	switch (cr->proto) {
	case AMLG_PROTO_ANY:
		return pslot == AMLG_PSLOT_TCP || pslot == AMLG_PSLOT_UDP;
	case AMLG_PROTO_TCP:
		return pslot == AMLG_PSLOT_TCP;
	case AMLG_PROTO_UDP:
		return pslot == AMLG_PSLOT_UDP;
	default:
		return false;
	}
}

/* Does the rule match this protocol slot at some port? */
static bool in_pslot(const struct crule *cr, unsigned pslot)
{
	switch (cr->proto) {
	case AMLG_PROTO_ANY:
		return !cr->nports || pslot == AMLG_PSLOT_TCP || pslot == AMLG_PSLOT_UDP;
	case AMLG_PROTO_ICMP:
		return pslot == AMLG_PSLOT_ICMP;
	case AMLG_PROTO_ICMPV6:
		return pslot == AMLG_PSLOT_ICMPV6;
	default:
		return ported(cr, pslot);
	}
}

static int ev_add(struct port_evs *evs, uint32_t port, uint16_t bit, int16_t delta)
{
	if (VEC_RESERVE(evs->v, evs->n, evs->cap, 64))
		return -ENOMEM;
	evs->v[evs->n++] = (struct port_ev){ .port = port, .bit = bit, .delta = delta };
	return 0;
}

static int ev_range(struct port_evs *evs, uint32_t lo, uint32_t hi, uint16_t bit)
{
	int err;

	if (lo > hi)
		return 0;
	err = ev_add(evs, lo, bit, 1);
	return err ? err : ev_add(evs, hi + 1, bit, -1);
}

static int ev_cmp(const void *a, const void *b)
{
	const struct port_ev *x = a, *y = b;

	return x->port < y->port ? -1 : x->port > y->port;
}

static int collect(const struct compiled *c, unsigned dir, unsigned pslot, struct port_evs *evs)
{
	evs->n = 0;
	for (size_t i = 0; i < c->nrules; i++) {
		const struct crule *cr = &c->rules[i];
		int err = 0;

		if (cr->dir != dir || !ported(cr, pslot))
			continue;
		/* No port list: every port, 0 included, which is a port a packet can carry. */
		if (!cr->nports)
			err = ev_range(evs, 0, PORTS - 1, cr->bit);
		for (size_t j = 0; j < cr->nports && !err; j++)
			err = ev_range(evs, cr->ports[j].lo, cr->ports[j].hi, cr->bit);
		if (err)
			return err;
	}
	if (evs->n) /* qsort(NULL, 0) is undefined */
		qsort(evs->v, evs->n, sizeof(*evs->v), ev_cmp);
	return 0;
}

/*
 * Sweep the ports in order: the class only changes at a range boundary, so each run between two
 * boundaries is one class, interned once.  A rule may list overlapping ranges of its own, hence
 * a count per rule rather than a bit.
 */
static int sweep(struct compiled *c, struct class_table *t, unsigned dir, unsigned pslot,
		 const struct port_evs *evs)
{
	uint32_t *ports = &c->ports[AMLG_PORT_IDX(0, dir, pslot, 0)];
	uint32_t count[AMLG_MAX_RULES] = { 0 };
	struct amlg_bitmap bm = { 0 };
	size_t i = 0;

	for (uint32_t port = 0; port < PORTS;) {
		uint32_t next, cls;
		int err;

		for (; i < evs->n && evs->v[i].port == port; i++) {
			const struct port_ev *e = &evs->v[i];

			count[e->bit] += e->delta;
			if (count[e->bit])
				bm_set(&bm, e->bit);
			else
				bm_clear(&bm, e->bit);
		}
		err = class_intern(t, &bm, &cls);
		if (err)
			return err;
		/* The last boundary is at most 65535 + 1 = PORTS. */
		next = i < evs->n ? evs->v[i].port : PORTS;
		for (; port < next; port++)
			ports[port] = cls;
	}
	return 0;
}

static int proto_classes(struct compiled *c, struct class_table *t, unsigned dir)
{
	for (unsigned pslot = 0; pslot < AMLG_PSLOTS; pslot++) {
		struct amlg_bitmap bm = { 0 };
		int err;

		for (size_t i = 0; i < c->nrules; i++) {
			const struct crule *cr = &c->rules[i];

			if (cr->dir == dir && in_pslot(cr, pslot))
				bm_set(&bm, cr->bit);
		}
		err = class_intern(t, &bm, &c->proto_cls[dir][pslot]);
		if (err)
			return err;
	}
	return 0;
}

int compile_ports(struct compiled *c, struct class_table *t)
{
	struct port_evs evs = { 0 };
	int err = 0;

	c->ports = calloc(AMLG_PORTS_PER_SLOT, sizeof(*c->ports));
	if (!c->ports)
		return -ENOMEM;
	for (unsigned dir = 0; dir < AMLG_DIRS && !err; dir++) {
		for (unsigned pslot = 0; pslot < AMLG_PORTED_PSLOTS && !err; pslot++) {
			err = collect(c, dir, pslot, &evs);
			if (!err)
				err = sweep(c, t, dir, pslot, &evs);
		}
		if (!err)
			err = proto_classes(c, t, dir);
	}
	free(evs.v);
	return err;
}
