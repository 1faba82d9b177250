// SPDX-License-Identifier: GPL-2.0-only
/* Installing a compiled policy into the datapath's maps, atomically. */
#include <bpf/bpf.h>
#include <errno.h>
#include <linux/membarrier.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "kernel/tables.h"

#define NSEC 1000000000ull

void tables_default_cfg(struct amlg_cfg *cfg, unsigned ifindex, unsigned role)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->role = role;
	cfg->ifindex = ifindex;
	cfg->next_generation = 1;
	cfg->report_interval_ns = 10 * NSEC;
	cfg->ct_timeout_ns[0] = 3600 * NSEC; /* tcp */
	cfg->ct_timeout_ns[1] = 180 * NSEC; /* udp */
	cfg->ct_timeout_ns[2] = 60 * NSEC; /* others */
	cfg->ct_closing_ns = 10 * NSEC;
	cfg->rate_per_sec = 1000;
	cfg->burst = 2000;
	cfg->snaplen = 128;
}

/* Wait until every BPF program that may have read the old active slot has finished. */
static void wait_for_readers(void)
{
	if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) == 0)
		return;
	/* No membarrier (nohz_full): a program runs for microseconds, 50 ms is ample. */
	usleep(50000);
}

static int create_lpm(const char *name, size_t key_size, size_t n)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_NO_PREALLOC);

	return bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, name, (unsigned)key_size, sizeof(uint32_t),
			      n ? (unsigned)n : 1, &o);
}

static int fill_lpm4(int fd, const struct clpm *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct amlg_lpm4_key k = { .prefixlen = AMLG_LPM_HDR_BITS + e[i].pfx.len,
					   .kind = e[i].kind };

		memcpy(k.addr, e[i].pfx.addr, 4);
		if (bpf_map_update_elem(fd, &k, &e[i].cls, BPF_NOEXIST))
			return -errno;
	}
	return 0;
}

static int fill_lpm6(int fd, const struct clpm *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct amlg_lpm6_key k = { .prefixlen = AMLG_LPM_HDR_BITS + e[i].pfx.len,
					   .kind = e[i].kind };

		memcpy(k.addr, e[i].pfx.addr, 16);
		if (bpf_map_update_elem(fd, &k, &e[i].cls, BPF_NOEXIST))
			return -errno;
	}
	return 0;
}

static int build_classes(const struct compiled *c)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_INNER_MAP);
	int fd, err;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "amlg_classes_in", sizeof(uint32_t),
			    sizeof(struct amlg_bitmap), (unsigned)c->nclasses, &o);
	if (fd < 0)
		return -errno;
	for (uint32_t i = 0; i < c->nclasses; i++) {
		if (bpf_map_update_elem(fd, &i, &c->classes[i], BPF_ANY)) {
			err = -errno;
			close(fd);
			return err;
		}
	}
	return fd;
}

/* The slot's whole port table in one batched update. */
/* The slot's host patterns (an empty map when the policy has none). */
static int build_hosts(const struct compiled *c)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_NO_PREALLOC);
	int fd, err;

	fd = bpf_map_create(BPF_MAP_TYPE_HASH, "amlg_hosts_in", sizeof(struct amlg_host_key),
			    sizeof(struct amlg_host), c->nhosts ? (unsigned)c->nhosts : 1, &o);
	if (fd < 0)
		return -errno;
	for (size_t i = 0; i < c->nhosts; i++) {
		const struct chost *h = &c->hosts[i];
		struct amlg_host v = { .id = h->id, .len = h->key.len, .kind = h->key.kind };

		v.cls[0] = h->cls[0];
		v.cls[1] = h->cls[1];
		memcpy(v.text, h->text, sizeof(v.text));
		if (bpf_map_update_elem(fd, &h->key, &v, BPF_NOEXIST)) {
			err = -errno;
			close(fd);
			return err;
		}
	}
	return fd;
}

/*
 * The slot's port classes.  fresh: the slot was never written (all zero, AMLG_CLASS_EMPTY), so
 * only the ports some rule names are written, not all AMLG_PORTS_PER_SLOT; undo: those same
 * ports back to empty (a first install that failed leaves the slot as it found it).
 */
enum ports_write { PORTS_ALL, PORTS_FRESH, PORTS_UNDO };

static int write_ports(const struct amlg_maps *m, uint32_t slot, const struct compiled *c,
		       enum ports_write how)
{
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	uint32_t *keys = malloc(AMLG_PORTS_PER_SLOT * sizeof(*keys));
	uint32_t *vals = how == PORTS_ALL ? c->ports : calloc(AMLG_PORTS_PER_SLOT, sizeof(*vals));
	uint32_t base = AMLG_PORT_IDX(slot, 0, 0, 0), n = 0, count;
	int err = 0;

	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < AMLG_PORTS_PER_SLOT; i++) {
		if (how != PORTS_ALL && !c->ports[i])
			continue;
		if (how == PORTS_FRESH)
			vals[n] = c->ports[i];
		keys[n++] = base + i;
	}
	count = n;
	if (n && bpf_map_update_batch(m->fd[M_PORTS], keys, vals, &count, &o))
		err = -errno;
	else if (count != n)
		err = -EIO;
out:
	free(keys);
	if (vals != c->ports)
		free(vals);
	return err;
}

/* The slot's rule descriptions and counters (zeroed), each map in one batch update. */
static int write_rules(const struct amlg_maps *m, uint32_t slot, const struct compiled *c)
{
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	size_t per_cpu = (sizeof(struct amlg_rstat) + 7) & ~(size_t)7;
	uint32_t *keys = malloc(AMLG_RULE_IDS * sizeof(*keys));
	struct amlg_rule_info *info = calloc(AMLG_RULE_IDS, sizeof(*info));
	void *zero = calloc(AMLG_RULE_IDS, per_cpu * (size_t)ncpus());
	uint32_t n = AMLG_RULE_IDS;
	int err = 0;

	if (!keys || !info || !zero) {
		err = -ENOMEM;
		goto out;
	}
	for (uint32_t id = 0; id < AMLG_RULE_IDS; id++) {
		const struct crule *r = compiled_rule(c, id);

		keys[id] = slot * AMLG_RULE_IDS + id;
		if (!r)
			continue;
		snprintf(info[id].flow, sizeof(info[id].flow), "%s", r->flow);
		snprintf(info[id].origin, sizeof(info[id].origin), "%s", r->origin);
		info[id].dir = r->dir;
		info[id].proto = r->proto;
		info[id].used = 1;
	}
	if (bpf_map_update_batch(m->fd[M_RULES], keys, info, &n, &o))
		err = -errno;
	else if (n != AMLG_RULE_IDS)
		err = -EIO;
	n = AMLG_RULE_IDS;
	if (!err && bpf_map_update_batch(m->fd[M_RSTATS], keys, zero, &n, &o))
		err = -errno;
	else if (!err && n != AMLG_RULE_IDS)
		err = -EIO;
out:
	free(keys);
	free(info);
	free(zero);
	return err;
}

static void fill_pcfg(struct amlg_pcfg *pc, const struct compiled *c, uint64_t gen)
{
	struct timespec ts;

	memset(pc, 0, sizeof(*pc));
	pc->generation = gen;
	pc->mode = (uint32_t)c->mode;
	pc->flags = c->flags;
	pc->nwords = c->nwords ? c->nwords : 1;
	pc->nrules[AMLG_DIR_OUT] = c->nrules_dir[AMLG_DIR_OUT];
	pc->nrules[AMLG_DIR_IN] = c->nrules_dir[AMLG_DIR_IN];
	pc->nclasses = (uint32_t)c->nclasses;
	memcpy(pc->proto_cls, c->proto_cls, sizeof(pc->proto_cls));
	clock_gettime(CLOCK_REALTIME, &ts);
	pc->load_time_ns = (uint64_t)ts.tv_sec * NSEC + (uint64_t)ts.tv_nsec;
	memcpy(pc->hash, c->sha256, sizeof(pc->hash));
	snprintf(pc->path, sizeof(pc->path), "%s", c->path);
	pc->n4 = (uint32_t)c->nlpm4;
	pc->n6 = (uint32_t)c->nlpm6;
	pc->compile_us = c->compile_us;
	pc->tags_change = c->tags_change;
	snprintf(pc->tags_cloud, sizeof(pc->tags_cloud), "%s", c->tags_cloud);
	snprintf(pc->tags_date, sizeof(pc->tags_date), "%s", c->tags_date);
	snprintf(pc->tags_file, sizeof(pc->tags_file), "%s", c->tags_file);
	memcpy(pc->host_lens, c->host_lens, sizeof(pc->host_lens));
	for (size_t i = 0; i < c->nresolvers && i < AMLG_RESOLVERS_MAX; i++) {
		pc->resolvers[i].family = c->resolvers[i].family;
		memcpy(pc->resolvers[i].addr, c->resolvers[i].addr, 16);
	}
	pc->nresolvers = (uint32_t)c->nresolvers;
	pc->dns_ttl_floor_s = c->dns_ttl_floor;
	pc->dns_grace_s = c->dns_grace;
	pc->sni_mode = (uint32_t)c->sni_mode;
}

/*
 * The strings of a policy header or rule read back from the maps, terminated: the maps are
 * pinned, and may have been written by another version; every printer takes them as C strings.
 */
static void terminate_pcfg(struct amlg_pcfg *pc)
{
	pc->path[sizeof(pc->path) - 1] = '\0';
	pc->tags_cloud[sizeof(pc->tags_cloud) - 1] = '\0';
	pc->tags_date[sizeof(pc->tags_date) - 1] = '\0';
	pc->tags_file[sizeof(pc->tags_file) - 1] = '\0';
}

static void terminate_rule(struct amlg_rule_info *r)
{
	r->flow[sizeof(r->flow) - 1] = '\0';
	r->origin[sizeof(r->origin) - 1] = '\0';
}

int tables_active(const struct amlg_maps *m, uint32_t *slot, struct amlg_pcfg *pc)
{
	struct amlg_cfg cfg;
	uint32_t s;
	int err = maps_cfg_read(m, &cfg);

	if (err)
		return err;
	s = cfg.active & 1;
	if (slot)
		*slot = s;
	if (pc && bpf_map_lookup_elem(m->fd[M_PCFG], &s, pc))
		return -errno;
	if (pc)
		terminate_pcfg(pc);
	return 0;
}

int tables_install(struct amlg_maps *m, const struct compiled *c, uint64_t *generation)
{
	int fd4 = -1, fd6 = -1, fdc = -1, fdh = -1, err;
	bool ports_written = false;
	struct amlg_pcfg cur, pc;
	struct amlg_cfg cfg;
	uint32_t active, target;
	uint64_t gen;

	err = tables_active(m, &active, &cur);
	if (err)
		return err;
	/* The first policy goes into the active slot: nothing reads it yet. */
	target = cur.generation ? active ^ 1 : active;
	if (cur.generation)
		wait_for_readers();

	fd4 = create_lpm("amlg_lpm4_in", sizeof(struct amlg_lpm4_key), c->nlpm4);
	fd6 = create_lpm("amlg_lpm6_in", sizeof(struct amlg_lpm6_key), c->nlpm6);
	if (fd4 < 0 || fd6 < 0) {
		err = -errno;
		goto out;
	}
	err = fill_lpm4(fd4, c->lpm4, c->nlpm4);
	if (!err)
		err = fill_lpm6(fd6, c->lpm6, c->nlpm6);
	if (err)
		goto out;
	fdc = build_classes(c);
	if (fdc < 0) {
		err = fdc;
		goto out;
	}
	fdh = build_hosts(c);
	if (fdh < 0) {
		err = fdh;
		goto out;
	}
	err = write_ports(m, target, c, cur.generation ? PORTS_ALL : PORTS_FRESH);
	ports_written = !err;
	if (!err)
		err = write_rules(m, target, c);
	if (err)
		goto out;
	if (bpf_map_update_elem(m->fd[M_LPM4], &target, &fd4, BPF_ANY) ||
	    bpf_map_update_elem(m->fd[M_LPM6], &target, &fd6, BPF_ANY) ||
	    bpf_map_update_elem(m->fd[M_CLASSES], &target, &fdc, BPF_ANY) ||
	    bpf_map_update_elem(m->fd[M_HOSTS], &target, &fdh, BPF_ANY)) {
		err = -errno;
		goto out;
	}
	err = maps_cfg_read(m, &cfg);
	if (err)
		goto out;
	gen = cfg.next_generation ? cfg.next_generation : 1;
	fill_pcfg(&pc, c, gen);
	if (bpf_map_update_elem(m->fd[M_PCFG], &target, &pc, BPF_ANY)) {
		err = -errno;
		goto out;
	}
	cfg.next_generation = gen + 1;
	cfg.active = target;
	/* The one write that switches every packet from now on to the new policy. */
	err = maps_cfg_write(m, &cfg);
	if (err)
		goto out;
	if (generation)
		*generation = gen;
out:
	if (err && ports_written && !cur.generation)
		write_ports(m, target, c, PORTS_UNDO);
	if (fd4 >= 0)
		close(fd4);
	if (fd6 >= 0)
		close(fd6);
	if (fdc >= 0)
		close(fdc);
	if (fdh >= 0)
		close(fdh);
	return err;
}

int tables_rules(const struct amlg_maps *m, uint32_t slot, struct amlg_rule_info **out)
{
	struct amlg_rule_info *r = calloc(AMLG_RULE_IDS, sizeof(*r));

	if (!r)
		return -ENOMEM;
	for (uint32_t id = 0; id < AMLG_RULE_IDS; id++) {
		uint32_t key = (slot & 1) * AMLG_RULE_IDS + id;

		if (bpf_map_lookup_elem(m->fd[M_RULES], &key, &r[id])) {
			int err = -errno;

			free(r);
			return err;
		}
		terminate_rule(&r[id]);
	}
	*out = r;
	return 0;
}
