/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Running the operator's alert command (--alert-exec CMD, through /bin/sh -c) with one JSON
 * object on its standard input.  Never blocks the daemon's event loop: the command is spawned,
 * its input written through a non-blocking pipe (the rest when epoll says it is writable), and
 * it is reaped on SIGCHLD.  At most max_running commands run at once; the others wait in a
 * short queue, and what does not fit is counted as dropped.  A command that fails (exit status
 * not 0, killed, not runnable) or runs past the timeout (it is killed) is logged.
 */
#ifndef AMLG_SINKS_ALERT_H
#define AMLG_SINKS_ALERT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ALERT_QUEUE_MAX 64

struct alert_job {
	pid_t pid; /* 0: free slot */
	int fd; /* the write end of its standard input, -1 once all is written */
	char *buf;
	size_t len, off;
	uint64_t started_ns;
	int killed; /* by the timeout */
};

struct alert_runner {
	char *cmd;
	unsigned max_running;
	uint64_t timeout_ns;
	int epfd; /* where unfinished input pipes wait for EPOLLOUT */
	uint64_t ep_tag; /* epoll data: ep_tag | slot */
	struct alert_job *jobs;
	unsigned running;
	char *queue[ALERT_QUEUE_MAX];
	unsigned qhead, qlen;
	unsigned long started, failed, timed_out, dropped;
};

int alert_runner_init(struct alert_runner *r, const char *cmd, unsigned max_running,
		      unsigned timeout_s, int epfd, uint64_t ep_tag);
/* Run the command with payload (taken over, freed here) as its input, or queue it. */
void alert_submit(struct alert_runner *r, char *payload, uint64_t now_ns);
/* epoll said the input pipe of slot is writable. */
void alert_on_writable(struct alert_runner *r, unsigned slot);
/* SIGCHLD: reap what has exited, log failures, start what is queued. */
void alert_reap(struct alert_runner *r, uint64_t now_ns);
/* Periodically: kill commands running past the timeout. */
void alert_tick(struct alert_runner *r, uint64_t now_ns);
/* Wait up to wait_ms for running commands, kill the rest, free everything. */
void alert_runner_free(struct alert_runner *r, unsigned wait_ms);

#endif
