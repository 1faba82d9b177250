/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The XDP entry point (bpf/amlguard_xdp.bpf.c): loaded on the maps of a loaded tc datapath, so
 * that both share connection tracking, counters, events and the policy; attached to an
 * interface's XDP hook, native where the driver has it, generic otherwise.
 */
#ifndef AMLG_KERNEL_LOADER_XDP_H
#define AMLG_KERNEL_LOADER_XDP_H

#include <stdbool.h>
#include <stdint.h>

struct amlguard_bpf;
struct amlguard_xdp_bpf;

enum { AMLG_XDP_NONE, AMLG_XDP_NATIVE, AMLG_XDP_GENERIC };

/* Load amlg_xdp for role on tc's maps; 0 or -errno after a message naming what. */
int xdp_load(struct amlguard_bpf *tc, unsigned role, struct amlguard_xdp_bpf **out,
	     const char *what);
void xdp_unload(struct amlguard_xdp_bpf *x);
int xdp_prog_fd(struct amlguard_xdp_bpf *x);
/* Attach prog_fd to ifindex's XDP hook: native, else generic; *mode says which. */
int xdp_attach(int ifindex, int prog_fd, int *mode, const char *ifname);
/* Our program on the interface's XDP hook: its id and mode (AMLG_XDP_NONE: not there). */
int xdp_query(int ifindex, uint32_t *prog_id, int *mode);
/* Take our program off the hook; 0 if it was there, -ENOENT if not. */
int xdp_detach(int ifindex);
const char *xdp_mode_str(int mode);

#endif
