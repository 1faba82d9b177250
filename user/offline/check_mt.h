/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * "check --threads N": the captures' packets split across N offline instances of the datapath,
 * each judged in its own thread, the verdicts merged back in capture order.
 *
 * Connection tracking, fragments and ICMP errors are state of an address pair, so the split is a
 * symmetric hash of the packet's address pair (an ICMP error's: the pair of the packet it quotes):
 * every packet of a flow, both directions and all fragments, goes to one worker, in order.  DNS
 * (port 53) goes to every worker, in order, since the names it teaches serve all flows; only its
 * owner's verdict is reported.  The result is that of one instance while the flows fit in each
 * instance's connection table (--ct-size).
 */
#ifndef AMLG_OFFLINE_CHECK_MT_H
#define AMLG_OFFLINE_CHECK_MT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "offline/check.h"
#include "compile/compile.h"
#include "base/prefix.h"
#include "sinks/sink_pcap.h"

#define CHECK_MT_MAX 4

/* The default: the CPUs this process may run on, 1 to CHECK_MT_MAX. */
unsigned check_mt_default(void);

/* Which of n workers judges an Ethernet frame; *all: every worker runs it (DNS). */
unsigned check_mt_worker(const uint8_t *frame, uint32_t cap, unsigned n, bool *all);

struct check_mt_args {
	const struct compiled *c;
	unsigned ct_size;
	const struct prefix_list *local;
	unsigned threads; /* 2..CHECK_MT_MAX */
	struct check_report *rep;
	struct sink_pcap *viol; /* or NULL */
	bool progress;
	uint64_t since_ns, until_ns; /* only packets in [since, until); until 0: open */
};

/*
 * Every capture of paths[0..n) into a->rep; 0 or -errno after a message.  A corrupt record ends
 * the run as in the single-threaded check: the packets before it are judged, its message is left
 * in a->rep->error, and the return is -EINVAL.
 */
int check_mt_run(const struct check_mt_args *a, char **paths, int n);

#endif
