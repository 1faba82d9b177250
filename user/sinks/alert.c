// SPDX-License-Identifier: GPL-2.0-only
/* Running the alert command without ever blocking the event loop. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sinks/alert.h"
#include "base/log.h"

#define NSEC 1000000000ull

extern char **environ;

int alert_runner_init(struct alert_runner *r, const char *cmd, unsigned max_running,
		      unsigned timeout_s, int epfd, uint64_t ep_tag)
{
	memset(r, 0, sizeof(*r));
	r->cmd = strdup(cmd);
	r->jobs = calloc(max_running, sizeof(*r->jobs));
	if (!r->cmd || !r->jobs) {
		free(r->cmd);
		free(r->jobs);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < max_running; i++)
		r->jobs[i].fd = -1;
	r->max_running = max_running;
	r->timeout_ns = timeout_s * NSEC;
	r->epfd = epfd;
	r->ep_tag = ep_tag;
	return 0;
}

static void finish_input(struct alert_runner *r, struct alert_job *j)
{
	if (j->fd >= 0) {
		epoll_ctl(r->epfd, EPOLL_CTL_DEL, j->fd, NULL);
		close(j->fd);
		j->fd = -1;
	}
	free(j->buf);
	j->buf = NULL;
}

/* Write what the pipe takes; the rest when it is writable again. */
static void pump(struct alert_runner *r, struct alert_job *j, unsigned slot, bool registered)
{
	while (j->off < j->len) {
		ssize_t n = write(j->fd, j->buf + j->off, j->len - j->off);

		if (n > 0) {
			j->off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct epoll_event ev = { .events = EPOLLOUT,
						  .data.u64 = r->ep_tag | slot };

			if (!registered && epoll_ctl(r->epfd, EPOLL_CTL_ADD, j->fd, &ev) == 0)
				return;
			if (registered)
				return;
		}
		/* EPIPE: the command does not read its input; that is its business. */
		break;
	}
	finish_input(r, j);
}

static int spawn(struct alert_runner *r, unsigned slot, char *payload, uint64_t now)
{
	struct alert_job *j = &r->jobs[slot];
	char *argv[] = { "/bin/sh", "-c", r->cmd, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;
	int p[2], err;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGCHLD);
	sigaddset(&dfl, SIGHUP);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGINT);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[0], 0);
	/* Its output goes with ours to the journal, never into a JSON stream on stdout. */
	posix_spawn_file_actions_adddup2(&fa, 2, 1);
	posix_spawnattr_init(&at);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dfl);
	/* Its own process group: a timeout kills the command's children too. */
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
					      POSIX_SPAWN_SETPGROUP);
	err = -posix_spawn(&pid, argv[0], &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(p[0]);
	if (err) {
		close(p[1]);
		return err;
	}
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	*j = (struct alert_job){
		.pid = pid, .fd = p[1], .buf = payload, .len = strlen(payload), .started_ns = now
	};
	r->running++;
	r->started++;
	pump(r, j, slot, false);
	return 0;
}

static void start(struct alert_runner *r, char *payload, uint64_t now)
{
	for (unsigned i = 0; i < r->max_running; i++) {
		int err;

		if (r->jobs[i].pid)
			continue;
		err = spawn(r, i, payload, now);
		if (err) {
			r->failed++;
			pr_err("alert: cannot run '%s': %s", r->cmd, strerror(-err));
			free(payload);
		}
		return;
	}
}

void alert_submit(struct alert_runner *r, char *payload, uint64_t now_ns)
{
	if (r->running < r->max_running && !r->qlen) {
		start(r, payload, now_ns);
		return;
	}
	if (r->qlen == ALERT_QUEUE_MAX) {
		if (!(r->dropped++ % 100))
			pr_warn("alert: %u commands running and %u waiting; alerts are dropped "
				"(%lu so far)",
				r->running, r->qlen, r->dropped);
		free(payload);
		return;
	}
	r->queue[(r->qhead + r->qlen++) % ALERT_QUEUE_MAX] = payload;
}

void alert_on_writable(struct alert_runner *r, unsigned slot)
{
	if (slot < r->max_running && r->jobs[slot].fd >= 0)
		pump(r, &r->jobs[slot], slot, true);
}

static void log_exit(struct alert_runner *r, const struct alert_job *j, int status)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return;
	r->failed++;
	if (j->killed)
		pr_warn("alert: '%s' (pid %d) ran longer than %llu s and was killed", r->cmd,
			(int)j->pid, (unsigned long long)(r->timeout_ns / NSEC));
	else if (WIFEXITED(status))
		pr_warn("alert: '%s' (pid %d) failed with exit status %d%s", r->cmd, (int)j->pid,
			WEXITSTATUS(status),
			WEXITSTATUS(status) == 127 ? " (command not found)" :
			WEXITSTATUS(status) == 126 ? " (not executable)" :
						     "");
	else if (WIFSIGNALED(status))
		pr_warn("alert: '%s' (pid %d) was killed by signal %d", r->cmd, (int)j->pid,
			WTERMSIG(status));
}

void alert_reap(struct alert_runner *r, uint64_t now_ns)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (unsigned i = 0; i < r->max_running; i++) {
			struct alert_job *j = &r->jobs[i];

			if (j->pid != pid)
				continue;
			log_exit(r, j, status);
			finish_input(r, j);
			j->pid = 0;
			j->killed = 0;
			r->running--;
			break;
		}
	}
	while (r->qlen && r->running < r->max_running) {
		char *payload = r->queue[r->qhead];

		r->qhead = (r->qhead + 1) % ALERT_QUEUE_MAX;
		r->qlen--;
		start(r, payload, now_ns);
	}
}

void alert_tick(struct alert_runner *r, uint64_t now_ns)
{
	for (unsigned i = 0; i < r->max_running; i++) {
		struct alert_job *j = &r->jobs[i];

		if (j->pid && !j->killed && now_ns - j->started_ns > r->timeout_ns) {
			j->killed = 1;
			r->timed_out++;
			kill(-j->pid, SIGKILL);
		}
	}
}

void alert_runner_free(struct alert_runner *r, unsigned wait_ms)
{
	struct timespec ts = { .tv_nsec = 10 * 1000000 };

	/* What waits in the queue is not started any more. */
	for (unsigned i = 0; i < r->qlen; i++)
		free(r->queue[(r->qhead + i) % ALERT_QUEUE_MAX]);
	r->qlen = 0;
	for (unsigned waited = 0; r->jobs && r->running && waited < wait_ms; waited += 10) {
		nanosleep(&ts, NULL);
		alert_reap(r, 0);
	}
	for (unsigned i = 0; r->jobs && i < r->max_running; i++) {
		if (r->jobs[i].pid) {
			kill(-r->jobs[i].pid, SIGKILL);
			waitpid(r->jobs[i].pid, NULL, 0);
		}
		finish_input(r, &r->jobs[i]);
	}
	free(r->jobs);
	free(r->cmd);
	memset(r, 0, sizeof(*r));
}
