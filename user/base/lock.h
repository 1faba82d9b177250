/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One owner per interface: an flock(2) on /run/amlguard/<ifname>.lock.  The daemon holds it for
 * its whole life; attach, reload and detach hold it for the moment they change the interface.
 * The kernel drops the lock when its holder dies, kill -9 included, so a lock is never stale.
 * The file records who holds it ("<pid> <what>"), for the message of the one refused.
 *
 * The file is removed on release (and the directory with its last lock): nothing stays behind.
 * The lock is the file at the name: one taken on a file that was unlinked meanwhile is taken
 * again.  A file deleted under its holder (rm /run/amlguard/IFACE.lock) does not make the interface
 * free: the holder is found in /proc/locks, and the daemon puts its file back (lock_verify()).
 * The directory must be root's and nobody else's (created 0700).
 */
#ifndef AMLG_BASE_LOCK_H
#define AMLG_BASE_LOCK_H

#include <stddef.h>
#include <sys/types.h>

#define AMLG_LOCK_DIR "/run/amlguard"
/* What the daemon writes as its "what": a holder that will not let go soon. */
#define AMLG_LOCK_DAEMON "run"

struct iface_lock {
	int fd; /* -1: not held */
	char path[320];
	char dir[256];
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
 * For the holder, from time to time: is the file at the name still the one held?  0 when it
 * is, 1 when it was deleted or replaced and is held again, -EBUSY (with *holder) when
 * another process holds the file now at the name: this one has lost the interface.
 */
int lock_verify(struct iface_lock *l, struct lock_holder *holder);

/*
 * For the commands: take the interface's lock and print what to do when it is busy.  0, or
 * -errno after printing the error.
 */
int lock_iface(struct iface_lock *l, const char *ifname, const char *what);

#endif
