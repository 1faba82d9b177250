/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One owner per interface: an flock(2) on /run/amlguard/<ifname>.lock.  The daemon holds it for
 * its whole life; attach, reload and detach hold it for the moment they change the interface.
 * The kernel drops the lock when its holder dies, kill -9 included, so a lock is never stale.
 * The file records who holds it ("<pid> <what>"), for the message of the one refused.
 */
#ifndef AMLG_LOCK_H
#define AMLG_LOCK_H

#include <stddef.h>
#include <sys/types.h>

#define AMLG_LOCK_DIR "/run/amlguard"
/* What the daemon writes as its "what": a holder that will not let go soon. */
#define AMLG_LOCK_DAEMON "run"

struct iface_lock {
	int fd; /* -1: not held */
	char path[320];
};

struct lock_holder {
	pid_t pid; /* 0: unknown */
	char what[32];
};

/*
 * Take dir/<ifname>.lock (dir NULL: AMLG_LOCK_DIR, created if missing).  A holder that is the
 * daemon refuses at once; another holder is waited for up to wait_ms.  Returns 0, or -EBUSY
 * with *holder filled in (when not NULL), or another -errno.
 */
int lock_acquire(struct iface_lock *l, const char *dir, const char *ifname, const char *what,
		 unsigned wait_ms, struct lock_holder *holder);
void lock_release(struct iface_lock *l);

/*
 * For the commands: take the interface's lock and print what to do when it is busy.  0, or
 * -errno after printing the error.
 */
int lock_iface(struct iface_lock *l, const char *ifname, const char *what);

#endif
