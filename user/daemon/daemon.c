// SPDX-License-Identifier: GPL-2.0-only
/* amlguard run: bring the interfaces up, then serve events, signals and metrics until told. */
#include <bpf/bpf.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "kernel/adopt.h"
#include "daemon_int.h"
#include "compile/pipeline.h"
#include "kernel/loader.h"
#include "base/log.h"
#include "base/names.h"
#include "kernel/state.h"
#include "kernel/tables.h"

#define NSEC 1000000000ull
#define LOSS_CHECK_TICKS 10

uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC + (uint64_t)ts.tv_nsec;
}

/* ---- configuration and policies ------------------------------------------------------------ */

static int load_config(const struct daemon_opts *o, struct config *c)
{
	struct srcloc cli = { 0 }, whole;
	struct diag dg;
	int err = 0;

	config_init(c);
	diag_init(&dg);
	cli.file = diag_intern(&dg, "command line");
	whole = cli;
	if (o->config_path) {
		whole.file = diag_intern(&dg, o->config_path);
		err = config_load(c, o->config_path, &dg);
	}
	for (size_t i = 0; !err && i < o->nset; i++)
		err = config_set(c, o->set[i].section, o->set[i].key, o->set[i].value, cli, &dg);
	if (!err)
		err = config_check(c, whole, &dg);
	if (dg.n && o->json && (err || diag_failed(&dg))) {
		char *j = diag_json(&dg);

		if (j)
			puts(j);
		free(j);
	} else if (dg.n) {
		diag_print(&dg, stderr);
	}
	diag_free(&dg);
	if (err)
		config_free(c);
	return err;
}

struct compiled_set {
	struct compiled *c[CONFIG_MAX_IFACES];
	struct policy *p[CONFIG_MAX_IFACES];
};

static void compiled_set_free(struct compiled_set *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		compiled_free(s->c[i]);
		policy_free(s->p[i]);
		s->c[i] = NULL;
		s->p[i] = NULL;
	}
}

static int compile_one(const struct iface_conf *f, bool json, struct compiled **c,
		       struct policy **p)
{
	struct pipeline_opts o;

	pipeline_opts_init(&o);
	o.policy = f->policy;
	o.tags = f->tags;
	o.mode = f->mode;
	memcpy(o.vars, f->vars, sizeof(f->vars[0]) * f->nvars);
	o.nvars = f->nvars;
	return pipeline_compile(&o, json, c, p);
}

/* Every interface's policy, or none: a reload with one bad policy changes nothing. */
static int compile_all(const struct config *c, bool json, struct compiled_set *s)
{
	int err = 0;

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < c->nifaces; i++) {
		int e = compile_one(&c->ifaces[i], json, &s->c[i], &s->p[i]);

		if (e && !err)
			err = e;
	}
	if (err)
		compiled_set_free(s, c->nifaces);
	return err;
}

/* ---- interfaces ---------------------------------------------------------------------------- */

static void set_snaplen(struct ifrun *ifr, unsigned snaplen)
{
	struct amlg_cfg cfg;

	if (!snaplen || maps_cfg_read(&ifr->maps, &cfg) || cfg.snaplen == snaplen)
		return;
	cfg.snaplen = snaplen;
	if (maps_cfg_write(&ifr->maps, &cfg))
		pr_warn("%s: cannot set the snap length", ifr->name);
}

static int iface_up(struct daemon *d, const struct iface_conf *f, const struct compiled *c)
{
	struct ifrun *ifr = &d->ifs[d->nifs];
	struct attach_opts ao = { .ifname = f->name, .role = f->role, .ct_size = f->ct_size };
	struct lock_holder h = { 0 };
	uint64_t gen = 0, prev = 0;
	bool adopted;
	int err;

	memset(ifr, 0, sizeof(*ifr));
	ifr->d = d;
	snprintf(ifr->name, sizeof(ifr->name), "%s", f->name);
	ifr->role = f->role;
	maps_init(&ifr->maps);
	ifr->vc = calloc(1, sizeof(*ifr->vc));
	if (!ifr->vc)
		return -ENOMEM;
	err = lock_acquire(&ifr->lock, NULL, f->name, AMLG_LOCK_DAEMON, 5000, &h);
	if (err == -EBUSY) {
		pr_err("%s: another amlguard (pid %ld, '%s') holds this interface", f->name,
		       (long)h.pid, h.what[0] ? h.what : "?");
		pr_hint("one daemon per interface: stop the other one first");
	} else if (err) {
		pr_err("%s: cannot lock %s/%s.lock: %s", f->name, AMLG_LOCK_DIR, f->name,
		       strerror(-err));
	} else {
		err = iface_bring_up(&ao, c, &ifr->maps, &gen, &prev, &adopted);
		if (err)
			lock_release(&ifr->lock);
	}
	if (err) {
		free(ifr->vc);
		ifr->vc = NULL;
		return err;
	}
	set_snaplen(ifr, d->cfg.snaplen);
	ifr->generation = gen;
	if (adopted)
		pr_info("%s: adopted the running datapath (generation %llu), installed %s as "
			"generation %llu in %s mode; counters and connection tracking continue",
			f->name, (unsigned long long)prev, f->policy, (unsigned long long)gen,
			mode_str((unsigned)c->mode));
	else
		pr_info("%s: attached, role %s, %s in %s mode (generation %llu)", f->name,
			role_str(f->role), f->policy, mode_str((unsigned)c->mode),
			(unsigned long long)gen);
	d->nifs++;
	return 0;
}

static void iface_down(struct daemon *d, struct ifrun *ifr)
{
	rule_cache_free(&ifr->rc);
	maps_close(&ifr->maps);
	free(ifr->vc);
	ifr->vc = NULL;
	if (ifr->lock_lost) {
		pr_err("%s: left as it is: another process owns it now", ifr->name);
	} else if (d->cfg.detach_on_exit) {
		if (amlg_detach(ifr->name) == 0)
			pr_info("%s: detached", ifr->name);
	} else {
		pr_info("%s: left enforcing its policy (generation %llu)", ifr->name,
			(unsigned long long)ifr->generation);
	}
	lock_release(&ifr->lock);
}

static struct ifrun *iface_find(struct daemon *d, const char *name)
{
	for (size_t i = 0; i < d->nifs; i++)
		if (!strcmp(d->ifs[i].name, name))
			return &d->ifs[i];
	return NULL;
}

/* ---- status for systemd -------------------------------------------------------------------- */

static void notify_status(struct daemon *d, const char *state)
{
	char buf[512];
	size_t off = 0;

	for (size_t i = 0; i < d->nifs && off < sizeof(buf); i++) {
		struct amlg_pcfg pc;
		int n;

		if (tables_active(&d->ifs[i].maps, NULL, &pc))
			continue;
		n = snprintf(buf + off, sizeof(buf) - off, "%s%s %s (generation %llu)",
			     off ? ", " : "", d->ifs[i].name, mode_str(pc.mode),
			     (unsigned long long)pc.generation);
		if (n > 0)
			off += (size_t)n;
	}
	sd_notifyf(0, "%sSTATUS=%s%s", state, off ? buf : "no interface",
		   d->dm.last_reload_ok ? "" : "; the last reload failed");
}

/* ---- reload -------------------------------------------------------------------------------- */

static bool same_set(const struct daemon *d, const struct config *c)
{
	if (d->nifs != c->nifaces)
		return false;
	for (size_t i = 0; i < c->nifaces; i++)
		if (strcmp(d->ifs[i].name, c->ifaces[i].name))
			return false;
	return true;
}

static int check_roles(struct daemon *d, const struct config *c)
{
	for (size_t i = 0; i < c->nifaces; i++) {
		struct ifrun *ifr = iface_find(d, c->ifaces[i].name);

		if (ifr && ifr->role != c->ifaces[i].role) {
			pr_err("%s: the role cannot change from %s to %s by a reload", ifr->name,
			       role_str(ifr->role), role_str(c->ifaces[i].role));
			pr_hint("stop amlguard, 'amlguard detach -i %s', then start it again",
				ifr->name);
			return -EINVAL;
		}
	}
	return 0;
}

static void reload(struct daemon *d)
{
	struct ifrun old_ifs[CONFIG_MAX_IFACES];
	struct compiled_set cs;
	struct config nc, oc;
	size_t nold = d->nifs;
	bool failed = false, set_changed;
	int err;

	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)(mono_ns() / 1000));
	pr_info("reload: reading the configuration and the policies");
	err = load_config(d->o, &nc);
	if (err) {
		pr_err("reload: the configuration has errors; nothing was changed");
		goto fail;
	}
	err = compile_all(&nc, d->o->json, &cs);
	if (!err)
		err = check_roles(d, &nc);
	if (err) {
		pr_err("reload: nothing was changed; the running policies stay");
		compiled_set_free(&cs, nc.nifaces);
		config_free(&nc);
		goto fail;
	}
	set_changed = !same_set(d, &nc);
	if (set_changed)
		events_close(d);
	/* The new configuration in place; the old one kept to compare sinks and metrics. */
	oc = d->cfg;
	d->cfg = nc;
	memcpy(old_ifs, d->ifs, sizeof(old_ifs[0]) * nold);
	d->nifs = 0;
	for (size_t i = 0; i < nc.nifaces; i++) {
		const struct iface_conf *f = &nc.ifaces[i];
		struct ifrun *prev = NULL;
		uint64_t gen;

		for (size_t j = 0; j < nold; j++)
			if (old_ifs[j].d && !strcmp(old_ifs[j].name, f->name))
				prev = &old_ifs[j];
		if (!prev) {
			if (iface_up(d, f, cs.c[i]))
				failed = true;
			continue;
		}
		d->ifs[d->nifs] = *prev;
		prev->d = NULL; /* moved */
		/* an interface waiting to come back is attached with this policy when it does */
		d->ifs[d->nifs].retried_ifindex = 0;
		if (d->ifs[d->nifs].maps.fd[M_CFG] < 0) {
			pr_warn("%s: not attached: the policy is installed when the interface is "
				"back",
				f->name);
			d->nifs++;
			continue;
		}
		err = tables_install(&d->ifs[d->nifs].maps, cs.c[i], &gen);
		if (err) {
			pr_err("%s: cannot install the policy: %s; the running policy stays",
			       f->name, strerror(-err));
			failed = true;
		} else {
			d->ifs[d->nifs].generation = gen;
			pr_info("%s: installed %s in %s mode (generation %llu)", f->name, f->policy,
				mode_str((unsigned)cs.c[i]->mode), (unsigned long long)gen);
		}
		set_snaplen(&d->ifs[d->nifs], nc.snaplen);
		d->nifs++;
	}
	for (size_t j = 0; j < nold; j++) {
		if (!old_ifs[j].d)
			continue;
		pr_info("%s: no longer in the configuration", old_ifs[j].name);
		iface_down(d, &old_ifs[j]);
	}
	/* The pointers of moved entries follow them. */
	for (size_t i = 0; i < d->nifs; i++)
		d->ifs[i].d = d;
	compiled_set_free(&cs, nc.nifaces);
	if (set_changed && events_open(d))
		failed = true;
	if (sinks_apply(d, &oc) || metrics_apply(d, &oc))
		failed = true;
	config_free(&oc);
	if (failed)
		goto fail;
	d->dm.reloads_ok++;
	d->dm.last_reload_ok = true;
	pr_info("reload: done");
	notify_status(d, "READY=1\n");
	return;
fail:
	d->dm.reloads_failed++;
	d->dm.last_reload_ok = false;
	notify_status(d, "READY=1\n");
}

/* ---- the loop ------------------------------------------------------------------------------ */

/* Events the datapath could not send, logged every LOSS_CHECK_TICKS while it happens. */
static void check_losses(struct daemon *d)
{
	for (size_t i = 0; i < d->nifs; i++) {
		struct ifrun *ifr = &d->ifs[i];
		struct amlg_stats st;
		int n = ncpus();
		struct amlg_stats *pc = calloc((size_t)n, sizeof(*pc));
		uint32_t zero = 0;

		if (pc && ifr->maps.fd[M_STATS] >= 0 &&
		    bpf_map_lookup_elem(ifr->maps.fd[M_STATS], &zero, pc) == 0) {
			stats_sum(pc, n, &st);
			if (st.events_ringbuf_full > ifr->lost_full ||
			    st.events_ratelimited > ifr->lost_rate)
				pr_warn("%s: violation events lost: %llu to a full ring buffer, %llu "
					"to the rate limit (totals %llu and %llu)",
					ifr->name,
					(unsigned long long)(st.events_ringbuf_full -
							     ifr->lost_full),
					(unsigned long long)(st.events_ratelimited -
							     ifr->lost_rate),
					(unsigned long long)st.events_ringbuf_full,
					(unsigned long long)st.events_ratelimited);
			ifr->lost_full = st.events_ringbuf_full;
			ifr->lost_rate = st.events_ratelimited;
		}
		free(pc);
	}
}

static const struct iface_conf *conf_of(const struct daemon *d, const char *name)
{
	for (size_t i = 0; i < d->cfg.nifaces; i++)
		if (!strcmp(d->cfg.ifaces[i].name, name))
			return &d->cfg.ifaces[i];
	return NULL;
}

/*
 * Our filters are gone but the interface is there: it was deleted and created again, or the
 * filters were removed.  Attach afresh with the running configuration's policy.  The old maps
 * went with the old datapath: connection tracking and the counters start over (live TCP flows
 * continue through mid-stream pickup).
 */
static void iface_reattach(struct daemon *d, struct ifrun *ifr)
{
	const struct iface_conf *f = conf_of(d, ifr->name);
	struct attach_opts ao = { .ifname = ifr->name, .role = ifr->role };
	struct compiled *c = NULL;
	struct policy *p = NULL;
	uint64_t gen = 0;
	int err;

	if (!f || compile_one(f, d->o->json, &c, &p)) {
		pr_err("%s: the interface is back, but its policy cannot be compiled: it stays "
		       "unprotected",
		       ifr->name);
		pr_hint("fix the policy and reload (systemctl reload amlguard)");
		return;
	}
	ao.ct_size = f->ct_size;
	events_close(d);
	rule_cache_free(&ifr->rc);
	maps_close(&ifr->maps);
	amlg_unpin(ifr->name);
	err = amlg_attach(&ao, c, &gen);
	if (!err)
		err = maps_open_pinned(ifr->name, &ifr->maps);
	if (err) {
		pr_err("%s: the interface is back, but attaching failed: %s; it stays unprotected",
		       ifr->name, strerror(-err));
	} else {
		ifr->generation = gen;
		ifr->filters_gone = false;
		ifr->lost_full = ifr->lost_rate = 0;
		set_snaplen(ifr, d->cfg.snaplen);
		pr_warn("%s: the interface is back: attached afresh, %s in %s mode (generation "
			"%llu); connection tracking and counters start over",
			ifr->name, f->policy, mode_str((unsigned)c->mode), (unsigned long long)gen);
	}
	compiled_free(c);
	policy_free(p);
	if (events_open(d))
		pr_err("cannot read the event buffers again: violations are not logged");
}

/*
 * Every second: our tc filters on every interface (gone with a deleted interface: said once,
 * and attached afresh when it is back), and the pinned maps (removed: pinned again, so that
 * status, log and the next start find them; the datapath enforces either way).
 */
static bool filters_there(const char *ifname)
{
	uint32_t prog[2];

	/* asked twice before concluding: a netlink hiccup must not cost a re-attach */
	for (int i = 0; i < 2; i++) {
		if (amlg_tc_query(ifname, prog) == 0 && prog[0] && prog[1])
			return true;
		if (!i)
			usleep(20000);
	}
	return false;
}

static void watch_interfaces(struct daemon *d)
{
	for (size_t i = 0; i < d->nifs; i++) {
		struct ifrun *ifr = &d->ifs[i];
		unsigned ifindex = if_nametoindex(ifr->name);
		int n;

		if (ifindex && ifr->maps.fd[M_CFG] >= 0 && filters_there(ifr->name)) {
			ifr->filters_gone = false;
			ifr->retried_ifindex = 0;
			n = maps_repin(ifr->name, &ifr->maps);
			if (n > 0) {
				pr_warn("%s: %d pinned maps under %s were removed: pinned them again "
					"(the datapath kept enforcing)",
					ifr->name, n, AMLG_PIN_ROOT);
				ifr->repin_failed = false;
			} else if (n < 0 && !ifr->repin_failed) {
				pr_err("%s: the pinned maps under %s were removed and cannot be pinned "
				       "again: %s; the datapath keeps enforcing, but status and log "
				       "cannot find it",
				       ifr->name, AMLG_PIN_ROOT, strerror(-n));
				ifr->repin_failed = true;
			}
			continue;
		}
		if (!ifr->filters_gone)
			pr_err("%s: amlguard's tc filters are gone%s: the interface is not protected",
			       ifr->name, ifindex ? "" : " with the interface");
		ifr->filters_gone = true;
		if (ifindex && ifindex != ifr->retried_ifindex) {
			ifr->retried_ifindex = ifindex;
			iface_reattach(d, ifr);
		}
	}
}

/*
 * The interface locks: a lock file deleted (or replaced) under the daemon is put back, so that
 * no second daemon takes the interface; one that another process holds by now means that this
 * daemon has lost the interface: it says so and stops, touching nothing.
 */
/*
 * Ticks in a row that another process must hold the file at the lock's name before this daemon
 * gives the interface up: one that is about to be refused (it finds this daemon through
 * /proc/locks) holds the file it made for a moment only.
 */
#define LOCK_BUSY_TICKS 5

static void verify_locks(struct daemon *d)
{
	for (size_t i = 0; i < d->nifs; i++) {
		struct ifrun *ifr = &d->ifs[i];
		struct lock_holder h = { 0 };
		int r = lock_verify(&ifr->lock, &h);

		if (r != -EBUSY)
			ifr->lock_busy = 0;
		if (r == 1) {
			pr_warn("%s: the lock file %s was removed or replaced under this daemon; "
				"it holds it again",
				ifr->name, ifr->lock.path);
		} else if (r == -EBUSY && ++ifr->lock_busy < LOCK_BUSY_TICKS) {
			/* an amlguard that is finding out it must not take the interface */
			pr_debug("%s: %s is held by pid %ld for now", ifr->name, ifr->lock.path,
				 (long)h.pid);
		} else if (r == -EBUSY) {
			pr_err("%s: the lock file %s was replaced and pid %ld ('%s') holds it: "
			       "another amlguard has taken this interface over; stopping",
			       ifr->name, ifr->lock.path, (long)h.pid, h.what[0] ? h.what : "?");
			pr_hint("one daemon per interface: stop the other one, then restart this one");
			ifr->lock_lost = true;
			d->exit_err = -EBUSY;
			d->stop = true;
		} else if (r < 0) {
			pr_debug("%s: cannot check its lock file %s: %s", ifr->name, ifr->lock.path,
				 strerror(-r));
		}
	}
}

static void tick(struct daemon *d)
{
	uint64_t now = mono_ns(), expirations;

	if (read(d->timerfd, &expirations, sizeof(expirations)) < 0)
		return;
	d->mono_to_real = mono_to_real_offset();
	sinks_tick(d, now);
	metrics_tick(d, now);
	watch_interfaces(d);
	verify_locks(d);
	if (++d->ticks % LOSS_CHECK_TICKS == 0)
		check_losses(d);
	if (d->watchdog_ns && now >= d->next_watchdog_ns) {
		sd_notify(0, "WATCHDOG=1");
		d->next_watchdog_ns = now + d->watchdog_ns / 2;
	}
}

static void on_signal(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->sigfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			reload(d);
			break;
		case SIGCHLD:
			if (d->alerts_on)
				alert_reap(&d->alerts, mono_ns());
			break;
		case SIGTERM:
		case SIGINT:
			pr_info("signal %d: stopping", (int)si.ssi_signo);
			d->stop = true;
			break;
		}
	}
}

static int loop(struct daemon *d)
{
	struct epoll_event ev[16];

	while (!d->stop) {
		int n = epoll_wait(d->epfd, ev, 16, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (int i = 0; i < n && !d->stop; i++) {
			uint64_t u = ev[i].data.u64;

			switch (EP_KIND(u)) {
			case EP_SIGNAL:
				on_signal(d);
				break;
			case EP_RING:
				events_consume(d);
				break;
			case EP_TIMER:
				tick(d);
				break;
			case EP_HTTP:
				if (d->http)
					metrics_http_run(d->http);
				break;
			case EP_ALERT:
				if (d->alerts_on)
					alert_on_writable(&d->alerts, (unsigned)u);
				break;
			}
		}
	}
	return 0;
}

static int setup_fds(struct daemon *d)
{
	struct itimerspec its = { .it_interval = { .tv_sec = 1 }, .it_value = { .tv_sec = 1 } };
	struct epoll_event ee = { .events = EPOLLIN };
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &mask, NULL))
		return -errno;
	/* A closed alert pipe or metrics connection is an error to handle, not a death. */
	signal(SIGPIPE, SIG_IGN);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	d->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	d->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (d->epfd < 0 || d->sigfd < 0 || d->timerfd < 0)
		return -errno;
	if (timerfd_settime(d->timerfd, 0, &its, NULL))
		return -errno;
	ee.data.u64 = EP_SIGNAL;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->sigfd, &ee))
		return -errno;
	ee.data.u64 = EP_TIMER;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->timerfd, &ee))
		return -errno;
	return 0;
}

static void teardown(struct daemon *d)
{
	sd_notify(0, "STOPPING=1");
	events_close(d);
	for (size_t i = 0; i < d->nifs; i++)
		iface_down(d, &d->ifs[i]);
	d->nifs = 0;
	metrics_close(d);
	sinks_close(d);
	if (d->epfd >= 0)
		close(d->epfd);
	if (d->sigfd >= 0)
		close(d->sigfd);
	if (d->timerfd >= 0)
		close(d->timerfd);
	config_free(&d->cfg);
}

int daemon_run(const struct daemon_opts *o)
{
	struct daemon d = { .o = o, .epfd = -1, .sigfd = -1, .timerfd = -1 };
	struct compiled_set cs;
	uint64_t wd_usec = 0;
	int err;

	err = load_config(o, &d.cfg);
	if (err)
		return err;
	err = compile_all(&d.cfg, o->json, &cs);
	if (err) {
		config_free(&d.cfg);
		return err;
	}
	d.mono_to_real = mono_to_real_offset();
	d.dm.last_reload_ok = true;
	d.dm.start_time = (double)(mono_ns() + (uint64_t)d.mono_to_real) / 1e9;
	err = setup_fds(&d);
	if (err)
		pr_err("cannot set up the event loop: %s", strerror(-err));
	/* The sinks and the metrics first: a typo there fails before anything is attached. */
	if (!err)
		err = sinks_apply(&d, NULL);
	if (!err)
		err = metrics_apply(&d, NULL);
	for (size_t i = 0; !err && i < d.cfg.nifaces; i++)
		err = iface_up(&d, &d.cfg.ifaces[i], cs.c[i]);
	compiled_set_free(&cs, d.cfg.nifaces);
	if (!err)
		err = events_open(&d);
	if (err) {
		teardown(&d);
		return err;
	}
	if (sd_watchdog_enabled(0, &wd_usec) > 0)
		d.watchdog_ns = wd_usec * 1000;
	/* Every interface enforces its policy and every sink is open: now we are ready. */
	notify_status(&d, "READY=1\n");
	pr_info("running (pid %ld); SIGHUP reloads, SIGTERM stops", (long)getpid());
	err = loop(&d);
	if (!err)
		err = d.exit_err;
	teardown(&d);
	return err;
}
