/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The datapath's lifecycle: open the object, set its read-only knobs, load it, install the
 * policy, pin the maps, attach to tc; and the reverse.  Also the offline instance that tests,
 * "check" and "explain" run packets through with BPF_PROG_TEST_RUN.
 */
#ifndef AMLG_KERNEL_LOADER_H
#define AMLG_KERNEL_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compile/compile.h"
#include "kernel/maps.h"

#define AMLG_TC_HANDLE 0xa319
#define AMLG_TC_PRIO 1
#define AMLG_CT_DEFAULT 65536

struct attach_opts {
	const char *ifname;
	unsigned role; /* AMLG_ROLE_* */
	unsigned ct_size; /* 0: AMLG_CT_DEFAULT */
	bool xdp; /* ingress by XDP (loader_xdp.h) instead of tc */
};

/* 0, or -errno after printing a message a user can act on. */
int amlg_attach(const struct attach_opts *o, const struct compiled *c, uint64_t *generation);
int amlg_detach(const char *ifname);
/* Remove the interface's pinned state only (a datapath that went with its interface). */
void amlg_unpin(const char *ifname);
/* Is our filter on the interface's hooks? (ingress, egress) */
int amlg_tc_query(const char *ifname, uint32_t prog_id[2]);

struct amlguard_bpf;

struct offline {
	struct amlguard_bpf *skel;
	struct amlg_maps maps;
	int prog_fd; /* amlg_test: direction and time from the caller */
	int batch_fd; /* amlg_batch_run */
	int batch_idx_fd, batch_blob_fd, batch_out_fd; /* amlg_batch_idx, _blob, _out */
	int ingress_fd, egress_fd; /* the live entry points, for role tests */
	unsigned role; /* AMLG_ROLE_* */
};

struct offline_verdict {
	uint8_t verdict; /* AMLG_VERDICT_* */
	uint8_t reason;
	uint8_t match;
	uint8_t dropped;
	uint16_t rule;
	uint8_t event;
	uint32_t generation; /* low 32 bits */
	uint32_t retval; /* TC_ACT_* */
};

/*
 * Load the datapath without attaching it, with c installed (c may be NULL: no policy yet).  Each
 * entry point loaded costs about 0.1 s of verifier time, so each open loads only what its user
 * runs: offline_open the single-packet entry point (offline_run; batch_fd is -1),
 * offline_open_batch the batch entry point (batch_run; prog_fd is -1), offline_open_both both.
 */
int offline_open(struct offline *o, const struct compiled *c, unsigned ct_size);
int offline_open_batch(struct offline *o, const struct compiled *c, unsigned ct_size);
int offline_open_both(struct offline *o, const struct compiled *c, unsigned ct_size);
/* The live entry points only (offline_run_prog), for the given role. */
int offline_open_role(struct offline *o, const struct compiled *c, unsigned ct_size, unsigned role);
/* Run one Ethernet frame through the datapath; dir is AMLG_DIR_*, ts_ns the packet's time. */
int offline_run(struct offline *o, const void *frame, size_t len, unsigned dir, uint64_t ts_ns,
		struct offline_verdict *v);
/* Run a frame through a live entry point (prog_fd: ingress_fd or egress_fd); returns TC_ACT_*. */
int offline_run_prog(struct offline *o, int prog_fd, const void *frame, size_t len);
/*
 * Forget what earlier packets taught the datapath (connection tracking, fragments, names and
 * addresses learned from DNS): the next packet is judged as the first of a capture.
 */
int offline_forget(struct offline *o);
/*
 * Back to the state of a fresh offline_open with c installed (c may be NULL), without loading
 * again: every map emptied (connections, learned names, counters, events, the protected side),
 * the configuration rewritten.  Tests share one loaded instance this way.
 */
int offline_reset(struct offline *o, const struct compiled *c);
void offline_close(struct offline *o);
/* The protected side, for batches with AMLG_DIR_AUTO (at most 256 prefixes per family). */
int offline_set_local(struct offline *o, const struct prefix_list *local);

#endif
