/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The datapath's maps as file descriptors, whether they come from a freshly loaded object or from
 * the pins of an attached interface (/sys/fs/bpf/amlguard/<ifname>/<map>).
 */
#ifndef AMLG_KERNEL_MAPS_H
#define AMLG_KERNEL_MAPS_H

#include <stdbool.h>
#include <stddef.h>

#include "bpf/amlguard_abi.h"

enum amlg_map_id {
	M_CFG,
	M_PCFG,
	M_RULES,
	M_PORTS,
	M_LPM4,
	M_LPM6,
	M_CLASSES,
	M_CT,
	M_FRAG,
	M_EVENTS,
	M_STATS,
	M_RSTATS,
	M_HOSTS,
	M_LEARNED,
	M_NAMES,
	M_COUNT
};

struct amlg_maps {
	int fd[M_COUNT];
	bool owned; /* fds opened from pins: closed by maps_close() */
};

extern const char *const amlg_map_names[M_COUNT];

void maps_init(struct amlg_maps *m);
/* Open every pinned map of ifname; -ENOENT if amlguard is not attached there. */
int maps_open_pinned(const char *ifname, struct amlg_maps *m);
/*
 * The interface-wide configuration.  Written with one map update: the datapath reads "active"
 * once per packet, and since it only ever changes between 0 and 1, a single byte flips.
 */
int maps_cfg_read(const struct amlg_maps *m, struct amlg_cfg *cfg);
int maps_cfg_write(const struct amlg_maps *m, const struct amlg_cfg *cfg);
void maps_close(struct amlg_maps *m);

/* "/sys/fs/bpf/amlguard/<ifname>", or "" if the name does not fit. */
int pin_dir(const char *ifname, char *buf, size_t sz);
/*
 * The pin root must be root's and nobody else's: a directory others can write lets them hide
 * (rename) an attachment's pins or block attach.  create: make it (0700) when missing.  0, or
 * -errno (-ENOENT when missing and not created; other refusals printed, once).
 */
int pin_root_check(bool create);
/*
 * Pin again, from m, every map whose pin under ifname's pin directory is missing (someone
 * removed /sys/fs/bpf/amlguard under a running daemon).  Returns how many were pinned, or
 * -errno.
 */
int maps_repin(const char *ifname, const struct amlg_maps *m);
/* Make sure a BPF filesystem is mounted at /sys/fs/bpf, mounting it if not; 0 or -errno. */
int bpffs_ensure(void);

/* Number of possible CPUs, for per-CPU map values. */
int ncpus(void);

#endif
