// SPDX-License-Identifier: GPL-2.0-only
/* The datapath's lifecycle: load, install, pin, attach; detach; and the offline instance. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/pkt_cls.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "amlguard.skel.h"
#include "kernel/loader.h"
#include "kernel/loader_xdp.h"
#include "base/log.h"
#include "kernel/tables.h"

static void maps_from_skel(struct amlguard_bpf *s, struct amlg_maps *m)
{
	struct bpf_map *maps[M_COUNT] = {
		[M_CFG] = s->maps.amlg_cfg,	    [M_PCFG] = s->maps.amlg_pcfg,
		[M_RULES] = s->maps.amlg_rules,	    [M_PORTS] = s->maps.amlg_ports,
		[M_LPM4] = s->maps.amlg_lpm4,	    [M_LPM6] = s->maps.amlg_lpm6,
		[M_CLASSES] = s->maps.amlg_classes, [M_CT] = s->maps.amlg_ct,
		[M_FRAG] = s->maps.amlg_frag,	    [M_EVENTS] = s->maps.amlg_events,
		[M_STATS] = s->maps.amlg_stats,	    [M_RSTATS] = s->maps.amlg_rstats,
		[M_HOSTS] = s->maps.amlg_hosts,	    [M_LEARNED] = s->maps.amlg_learned,
		[M_NAMES] = s->maps.amlg_names,
	};

	maps_init(m);
	for (int i = 0; i < M_COUNT; i++)
		m->fd[i] = bpf_map__fd(maps[i]);
}

/* Open and load the object; on a verifier rejection show the end of its log. */
/*
 * Which entry points to load: the verifier takes about 0.1 s for each, so every user loads
 * only the ones it runs.  live: the tc entry points; offline: the single-packet test entry
 * point; batch: the batch entry point.
 */
#define LOAD_LIVE 1
#define LOAD_OFFLINE 2
#define LOAD_BATCH 4

static int load_object(struct amlguard_bpf **out, unsigned role, unsigned ct_size, int which,
		       const char *what)
{
	struct amlguard_bpf *s;
	int err;

	log_libbpf_reset();
	s = amlguard_bpf__open();
	if (!s) {
		err = -errno;
		pr_err("%s: cannot open the datapath object: %s", what, strerror(-err));
		return err;
	}
	s->rodata->amlg_role = role;
	bpf_map__set_max_entries(s->maps.amlg_ct, ct_size ? ct_size : AMLG_CT_DEFAULT);
	bpf_program__set_autoload(s->progs.amlg_test, which & LOAD_OFFLINE);
	bpf_program__set_autoload(s->progs.amlg_batch_run, which & LOAD_BATCH);
	if (!(which & (LOAD_OFFLINE | LOAD_BATCH))) {
		/* The offline batch blob is 2 MiB: a live attach needs none of it. */
		bpf_map__set_max_entries(s->maps.amlg_batch_blob, 1);
		bpf_map__set_max_entries(s->maps.amlg_local4, 1);
		bpf_map__set_max_entries(s->maps.amlg_local6, 1);
	}
	bpf_program__set_autoload(s->progs.amlg_ingress, which & LOAD_LIVE);
	bpf_program__set_autoload(s->progs.amlg_egress, which & LOAD_LIVE);
	err = amlguard_bpf__load(s);
	if (err) {
		pr_err("%s: the kernel refused the datapath program: %s", what, strerror(-err));
		if (err == -EPERM)
			pr_hint("amlguard needs CAP_BPF and CAP_NET_ADMIN (run it as root)");
		fprintf(stderr, "  last lines of the verifier log:\n");
		log_libbpf_print_tail(stderr, 20);
		amlguard_bpf__destroy(s);
		return err;
	}
	*out = s;
	return 0;
}

static int init_cfg(struct amlg_maps *m, unsigned ifindex, unsigned role)
{
	struct amlg_cfg cfg;

	tables_default_cfg(&cfg, ifindex, role);
	return maps_cfg_write(m, &cfg);
}

static int pin_maps(struct amlguard_bpf *s, const char *dir)
{
	struct bpf_map *map;
	char path[320];
	int err;

	/* the pin root goes with the last attachment: a detach elsewhere may just remove it */
	for (int i = 0;; i++) {
		err = pin_root_check(true);
		if (err)
			return err;
		if (!mkdir(dir, 0700))
			break;
		if (errno != ENOENT || i == 3)
			return -errno;
	}
	for (int i = 0; i < M_COUNT; i++) {
		map = bpf_object__find_map_by_name(s->obj, amlg_map_names[i]);
		if (!map)
			return -ENOENT;
		snprintf(path, sizeof(path), "%s/%s", dir, amlg_map_names[i]);
		err = bpf_map__pin(map, path);
		if (err)
			return err;
		if (chmod(path, 0600))
			return -errno;
	}
	return 0;
}

static void unpin_dir(const char *dir)
{
	char path[320];

	for (int i = 0; i < M_COUNT; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, amlg_map_names[i]);
		unlink(path);
	}
	rmdir(dir);
	/* and the pin root with its last attachment: nothing stays behind */
	rmdir(AMLG_PIN_ROOT);
}

static void hook_init(struct bpf_tc_hook *h, int ifindex, enum bpf_tc_attach_point where)
{
	memset(h, 0, sizeof(*h));
	h->sz = sizeof(*h);
	h->ifindex = ifindex;
	h->attach_point = where;
}

static void opts_init(struct bpf_tc_opts *o, int prog_fd)
{
	memset(o, 0, sizeof(*o));
	o->sz = sizeof(*o);
	o->handle = AMLG_TC_HANDLE;
	o->priority = AMLG_TC_PRIO;
	o->prog_fd = prog_fd;
}

int amlg_attach(const struct attach_opts *o, const struct compiled *c, uint64_t *generation)
{
	struct amlguard_bpf *s = NULL;
	struct amlguard_xdp_bpf *x = NULL;
	struct bpf_tc_hook hook, in, eg;
	struct bpf_tc_opts topts;
	struct amlg_maps m;
	bool created = false, pinned = false, att_in = false, att_eg = false;
	char dir[256];
	int ifindex, err, xmode;

	maps_init(&m);
	ifindex = (int)if_nametoindex(o->ifname);
	if (!ifindex) {
		pr_err("%s: no such interface", o->ifname);
		return -ENODEV;
	}
	if (pin_dir(o->ifname, dir, sizeof(dir))) {
		pr_err("%s: interface name not usable as a pin directory", o->ifname);
		return -EINVAL;
	}
	err = bpffs_ensure();
	if (err) {
		if (err != -ENOTSUP) {
			pr_err("/sys/fs/bpf: no BPF filesystem and cannot mount one: %s",
			       strerror(-err));
			pr_hint("mount it with: mount -t bpf bpf /sys/fs/bpf");
		}
		return err;
	}
	err = pin_root_check(false);
	if (err && err != -ENOENT)
		return err;
	/* an empty directory (a crash between mkdir and the pins) attaches nothing: remove it */
	if (access(dir, F_OK) == 0 && rmdir(dir) == 0)
		pr_debug("%s: removed the empty pin directory %s", o->ifname, dir);
	if (access(dir, F_OK) == 0) {
		pr_err("%s: amlguard is already attached (state pinned in %s)", o->ifname, dir);
		pr_hint("use 'amlguard reload -i %s -p POLICY' to change the policy, or "
			"'amlguard detach -i %s' first",
			o->ifname, o->ifname);
		return -EEXIST;
	}
	err = load_object(&s, o->role, o->ct_size, LOAD_LIVE, o->ifname);
	if (err)
		return err;
	if (o->xdp) {
		err = xdp_load(s, o->role, &x, o->ifname);
		if (err) {
			amlguard_bpf__destroy(s);
			return err;
		}
	}
	maps_from_skel(s, &m);
	err = init_cfg(&m, (unsigned)ifindex, o->role);
	if (!err)
		err = tables_install(&m, c, generation);
	if (err) {
		pr_err("%s: cannot install the policy: %s", o->ifname, strerror(-err));
		goto fail;
	}
	err = pin_maps(s, dir);
	pinned = true;
	if (err) {
		pr_err("%s: cannot pin the maps in %s: %s", o->ifname, dir, strerror(-err));
		goto fail;
	}

	hook_init(&hook, ifindex, BPF_TC_INGRESS | BPF_TC_EGRESS);
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		pr_err("%s: cannot create the clsact qdisc: %s", o->ifname, strerror(-err));
		goto fail;
	}
	created = err == 0;
	if (created) {
		struct amlg_cfg cfg;

		err = maps_cfg_read(&m, &cfg);
		cfg.flags |= AMLG_CF_CREATED_CLSACT;
		if (!err)
			err = maps_cfg_write(&m, &cfg);
		if (err) {
			pr_err("%s: cannot record the clsact qdisc: %s", o->ifname, strerror(-err));
			goto fail;
		}
	}
	hook_init(&in, ifindex, BPF_TC_INGRESS);
	hook_init(&eg, ifindex, BPF_TC_EGRESS);
	opts_init(&topts, bpf_program__fd(s->progs.amlg_ingress));
	/* with --xdp the ingress is XDP's, attached last: after it the datapath is complete */
	err = o->xdp ? 0 : bpf_tc_attach(&in, &topts);
	if (err) {
		pr_err("%s: cannot attach to tc ingress: %s", o->ifname, strerror(-err));
		if (err == -EEXIST)
			pr_hint("a tc filter with handle 0x%x prio %u is already there",
				AMLG_TC_HANDLE, AMLG_TC_PRIO);
		goto fail;
	}
	att_in = !o->xdp;
	opts_init(&topts, bpf_program__fd(s->progs.amlg_egress));
	err = bpf_tc_attach(&eg, &topts);
	if (err) {
		pr_err("%s: cannot attach to tc egress: %s", o->ifname, strerror(-err));
		goto fail;
	}
	att_eg = true;
	if (x) {
		err = xdp_attach(ifindex, xdp_prog_fd(x), &xmode, o->ifname);
		if (err)
			goto fail;
		pr_debug("%s: XDP attached in %s mode", o->ifname, xdp_mode_str(xmode));
	}
	maps_close(&m);
	xdp_unload(x);
	amlguard_bpf__destroy(s);
	return 0;

fail:
	if (att_eg) {
		opts_init(&topts, 0);
		bpf_tc_detach(&eg, &topts);
	}
	if (att_in) {
		opts_init(&topts, 0);
		bpf_tc_detach(&in, &topts);
	}
	if (created) {
		hook_init(&hook, ifindex, BPF_TC_INGRESS | BPF_TC_EGRESS);
		bpf_tc_hook_destroy(&hook);
	}
	if (pinned)
		unpin_dir(dir);
	maps_close(&m);
	xdp_unload(x);
	amlguard_bpf__destroy(s);
	return err;
}

int amlg_tc_query(const char *ifname, uint32_t prog_id[2])
{
	enum bpf_tc_attach_point pts[2] = { BPF_TC_INGRESS, BPF_TC_EGRESS };
	int ifindex = (int)if_nametoindex(ifname);

	prog_id[0] = prog_id[1] = 0;
	if (!ifindex)
		return -ENODEV;
	for (int i = 0; i < 2; i++) {
		struct bpf_tc_hook h;
		struct bpf_tc_opts o;

		hook_init(&h, ifindex, pts[i]);
		opts_init(&o, 0);
		if (bpf_tc_query(&h, &o) == 0)
			prog_id[i] = o.prog_id;
	}
	return 0;
}

void amlg_unpin(const char *ifname)
{
	char dir[256];

	if (pin_dir(ifname, dir, sizeof(dir)) == 0 && access(dir, F_OK) == 0)
		unpin_dir(dir);
}

int amlg_detach(const char *ifname)
{
	enum bpf_tc_attach_point pts[2] = { BPF_TC_INGRESS, BPF_TC_EGRESS };
	int ifindex = (int)if_nametoindex(ifname);
	bool created = false, had_pins, had_filter = false;
	struct amlg_maps m;
	char dir[256];

	if (pin_dir(ifname, dir, sizeof(dir))) {
		pr_err("%s: not a usable interface name", ifname);
		return -EINVAL;
	}
	had_pins = maps_open_pinned(ifname, &m) == 0;
	if (had_pins) {
		struct amlg_cfg cfg;

		created = maps_cfg_read(&m, &cfg) == 0 && (cfg.flags & AMLG_CF_CREATED_CLSACT);
		maps_close(&m);
	}
	if (ifindex) {
		for (int i = 0; i < 2; i++) {
			struct bpf_tc_hook h;
			struct bpf_tc_opts o;

			hook_init(&h, ifindex, pts[i]);
			opts_init(&o, 0);
			if (bpf_tc_detach(&h, &o) == 0)
				had_filter = true;
		}
		if (xdp_detach(ifindex) == 0)
			had_filter = true;
		if (created) {
			struct bpf_tc_hook h;

			hook_init(&h, ifindex, BPF_TC_INGRESS | BPF_TC_EGRESS);
			bpf_tc_hook_destroy(&h);
		}
	}
	if (access(dir, F_OK) == 0)
		unpin_dir(dir);
	if (!had_pins && !had_filter) {
		pr_err("%s: amlguard is not attached", ifname);
		if (!ifindex)
			pr_hint("there is no interface named %s either", ifname);
		return -ENOENT;
	}
	return 0;
}

static int open_offline(struct offline *o, const struct compiled *c, unsigned ct_size,
			unsigned role, int which)
{
	int err;

	memset(o, 0, sizeof(*o));
	maps_init(&o->maps);
	o->prog_fd = o->batch_fd = o->ingress_fd = o->egress_fd = -1;
	err = load_object(&o->skel, role, ct_size, which, "offline datapath");
	if (err)
		return err;
	maps_from_skel(o->skel, &o->maps);
	o->prog_fd = which & LOAD_OFFLINE ? bpf_program__fd(o->skel->progs.amlg_test) : -1;
	o->batch_fd = which & LOAD_BATCH ? bpf_program__fd(o->skel->progs.amlg_batch_run) : -1;
	o->batch_idx_fd = bpf_map__fd(o->skel->maps.amlg_batch_idx);
	o->batch_blob_fd = bpf_map__fd(o->skel->maps.amlg_batch_blob);
	o->batch_out_fd = bpf_map__fd(o->skel->maps.amlg_batch_out);
	if (which & LOAD_LIVE) {
		o->ingress_fd = bpf_program__fd(o->skel->progs.amlg_ingress);
		o->egress_fd = bpf_program__fd(o->skel->progs.amlg_egress);
	}
	o->role = role;
	err = init_cfg(&o->maps, 1, role);
	if (!err && c)
		err = tables_install(&o->maps, c, NULL);
	if (err) {
		pr_err("offline datapath: cannot install the policy: %s", strerror(-err));
		offline_close(o);
	}
	return err;
}

int offline_open(struct offline *o, const struct compiled *c, unsigned ct_size)
{
	return open_offline(o, c, ct_size, AMLG_ROLE_HOST, LOAD_OFFLINE);
}

int offline_open_batch(struct offline *o, const struct compiled *c, unsigned ct_size)
{
	return open_offline(o, c, ct_size, AMLG_ROLE_HOST, LOAD_BATCH);
}

int offline_open_both(struct offline *o, const struct compiled *c, unsigned ct_size)
{
	return open_offline(o, c, ct_size, AMLG_ROLE_HOST, LOAD_OFFLINE | LOAD_BATCH);
}

int offline_open_role(struct offline *o, const struct compiled *c, unsigned ct_size, unsigned role)
{
	return open_offline(o, c, ct_size, role, LOAD_LIVE);
}

int offline_run_prog(struct offline *o, int prog_fd, const void *frame, size_t len)
{
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = frame, .data_size_in = (__u32)len,
		    .repeat = 1);

	if (bpf_prog_test_run_opts(prog_fd, &t))
		return -errno;
	return (int)t.retval;
}

int offline_run(struct offline *o, const void *frame, size_t len, unsigned dir, uint64_t ts_ns,
		struct offline_verdict *v)
{
	struct __sk_buff ctx = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = frame, .data_size_in = (__u32)len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .ctx_out = &ctx,
		    .ctx_size_out = sizeof(ctx), .repeat = 1);
	int err;

	ctx.cb[AMLG_CB_DIR] = dir;
	ctx.tstamp = ts_ns;
	err = bpf_prog_test_run_opts(o->prog_fd, &t);
	if (err)
		return -errno;
	v->verdict = ctx.cb[AMLG_CB_VERDICT] & 0xff;
	v->reason = (ctx.cb[AMLG_CB_VERDICT] >> 8) & 0xff;
	v->match = (ctx.cb[AMLG_CB_VERDICT] >> 16) & 0xff;
	v->dropped = (ctx.cb[AMLG_CB_VERDICT] >> 24) & 0xff;
	v->rule = (uint16_t)ctx.cb[AMLG_CB_RULE];
	v->generation = ctx.cb[AMLG_CB_GEN];
	v->event = (uint8_t)ctx.cb[AMLG_CB_EVENT];
	v->retval = t.retval;
	return 0;
}

int offline_set_local(struct offline *o, const struct prefix_list *local)
{
	const uint8_t one = 1;

	for (size_t i = 0; i < local->n; i++) {
		const struct prefix *p = &local->v[i];
		int err;

		if (p->family == 4) {
			struct amlg_lpm4_key k = { .prefixlen = AMLG_LPM_HDR_BITS + p->len };

			memcpy(k.addr, p->addr, 4);
			err = bpf_map__update_elem(o->skel->maps.amlg_local4, &k, sizeof(k), &one,
						   sizeof(one), BPF_ANY);
		} else {
			struct amlg_lpm6_key k = { .prefixlen = AMLG_LPM_HDR_BITS + p->len };

			memcpy(k.addr, p->addr, 16);
			err = bpf_map__update_elem(o->skel->maps.amlg_local6, &k, sizeof(k), &one,
						   sizeof(one), BPF_ANY);
		}
		if (err)
			return err;
	}
	return 0;
}

static int discard_event(void *ctx, void *data, size_t size)
{
	return 0;
}

/* Zero every entry of an array with one batch update: the blob and rule arrays are big. */
static int array_zero(int fd, unsigned n, size_t vs)
{
	uint32_t *keys = calloc(n, sizeof(*keys)), count = n;
	void *zero = calloc(n, vs);
	int err = 0;

	if (!keys || !zero) {
		err = -ENOMEM;
	} else {
		for (uint32_t i = 0; i < n; i++)
			keys[i] = i;
		if (bpf_map_update_batch(fd, keys, zero, &count, NULL))
			err = -errno;
	}
	free(keys);
	free(zero);
	return err;
}

/* Empty one map of the object, as it was when loaded. */
static int map_clear(struct bpf_map *map)
{
	size_t vs = bpf_map__value_size(map);
	unsigned n = bpf_map__max_entries(map);
	int fd = bpf_map__fd(map), err = 0;
	struct ring_buffer *rb;
	void *next;

	switch (bpf_map__type(map)) {
	case BPF_MAP_TYPE_RINGBUF:
		rb = ring_buffer__new(fd, discard_event, NULL, NULL);
		if (!rb)
			return -errno;
		err = ring_buffer__consume(rb);
		ring_buffer__free(rb);
		return err < 0 ? err : 0;
	case BPF_MAP_TYPE_ARRAY_OF_MAPS:
		for (uint32_t i = 0; i < n; i++)
			if (bpf_map_delete_elem(fd, &i) && errno != ENOENT)
				return -errno;
		return 0;
	case BPF_MAP_TYPE_ARRAY:
		return array_zero(fd, n, vs);
	case BPF_MAP_TYPE_PERCPU_ARRAY:
		return array_zero(fd, n, ((vs + 7) & ~(size_t)7) * (size_t)ncpus());
	default: /* hash, LRU hash, LPM trie: delete every key */
		next = malloc(bpf_map__key_size(map));
		if (!next)
			return -ENOMEM;
		while (bpf_map_get_next_key(fd, NULL, next) == 0)
			if (bpf_map_delete_elem(fd, next)) {
				err = -errno;
				break;
			}
		free(next);
		return err;
	}
}

int offline_reset(struct offline *o, const struct compiled *c)
{
	struct bpf_map *map;
	int err = 0;

	bpf_object__for_each_map(map, o->skel->obj) {
		if (bpf_map__is_internal(map)) /* .rodata: the role, frozen at load */
			continue;
		err = map_clear(map);
		if (err) {
			pr_err("offline datapath: cannot empty map %s: %s", bpf_map__name(map),
			       strerror(-err));
			return err;
		}
	}
	err = init_cfg(&o->maps, 1, o->role);
	if (!err && c)
		err = tables_install(&o->maps, c, NULL);
	if (err)
		pr_err("offline datapath: cannot install the policy: %s", strerror(-err));
	return err;
}

/*
 * Forget what earlier packets taught the datapath (connection tracking, fragments, names and
 * addresses learned from DNS), keeping the policy and the counters.
 */
int offline_forget(struct offline *o)
{
	struct bpf_map *maps[] = { o->skel->maps.amlg_ct, o->skel->maps.amlg_frag,
				   o->skel->maps.amlg_learned, o->skel->maps.amlg_names };
	int err = 0;

	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]) && !err; i++)
		err = map_clear(maps[i]);
	return err;
}

void offline_close(struct offline *o)
{
	maps_close(&o->maps);
	amlguard_bpf__destroy(o->skel);
	o->skel = NULL;
}
