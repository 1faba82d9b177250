// SPDX-License-Identifier: GPL-2.0-only
/* Attach an interface afresh, or adopt the datapath a previous run left enforcing. */
#include <bpf/bpf.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kernel/adopt.h"
#include "base/log.h"
#include "base/names.h"
#include "kernel/tables.h"

static int map_id(int fd, uint32_t *id)
{
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*id = info.id;
	return 0;
}

/* Does program prog_id use the map with id want? */
static bool prog_uses_map(uint32_t prog_id, uint32_t want)
{
	uint32_t ids[64], len;
	struct bpf_prog_info info;
	bool found = false;
	int fd = bpf_prog_get_fd_by_id(prog_id);

	if (fd < 0)
		return false;
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = sizeof(ids) / sizeof(ids[0]);
	info.map_ids = (uint64_t)(unsigned long)ids;
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) {
		uint32_t n = info.nr_map_ids < 64 ? info.nr_map_ids : 64;

		for (uint32_t i = 0; i < n && !found; i++)
			found = ids[i] == want;
	}
	close(fd);
	return found;
}

int iface_probe(const char *ifname, enum iface_found *found, struct amlg_maps *m, char *why,
		size_t whysz)
{
	unsigned ifindex = if_nametoindex(ifname);
	uint32_t prog[2], cfg_id = 0;
	struct amlg_cfg cfg;
	int err;

	*found = IFACE_FREE;
	why[0] = '\0';
	err = maps_open_pinned(ifname, m);
	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	*found = IFACE_STALE;
	if (maps_cfg_read(m, &cfg) || map_id(m->fd[M_CFG], &cfg_id)) {
		snprintf(why, whysz, "its configuration cannot be read");
	} else if (!ifindex || cfg.ifindex != ifindex) {
		snprintf(why, whysz, "the interface was re-created");
	} else if (amlg_tc_query(ifname, prog) || !prog[0] || !prog[1]) {
		snprintf(why, whysz, "the tc filters are gone");
	} else if (!prog_uses_map(prog[0], cfg_id) || !prog_uses_map(prog[1], cfg_id)) {
		snprintf(why, whysz, "the tc filters run another datapath");
	} else {
		*found = IFACE_LIVE;
		return 0;
	}
	maps_close(m);
	return 0;
}

static int adopt(const struct attach_opts *o, const struct compiled *c, struct amlg_maps *m,
		 uint64_t *gen, uint64_t *prev_gen)
{
	struct amlg_pcfg pc;
	struct amlg_cfg cfg;
	int err;

	err = maps_cfg_read(m, &cfg);
	if (!err)
		err = tables_active(m, NULL, &pc);
	if (err) {
		pr_err("%s: cannot read the pinned state: %s", o->ifname, strerror(-err));
		return err;
	}
	if (cfg.role != o->role) {
		pr_err("%s: the running datapath has role %s, the configuration says %s", o->ifname,
		       role_str(cfg.role), role_str(o->role));
		pr_hint("a role is fixed at attach time: 'amlguard detach -i %s' first, or fix "
			"the configuration",
			o->ifname);
		return -EINVAL;
	}
	*prev_gen = pc.generation;
	err = tables_install(m, c, gen);
	if (err) {
		pr_err("%s: cannot install the policy: %s; the running policy (generation %llu) "
		       "stays",
		       o->ifname, strerror(-err), (unsigned long long)pc.generation);
		return err;
	}
	return 0;
}

int iface_bring_up(const struct attach_opts *o, const struct compiled *c, struct amlg_maps *m,
		   uint64_t *gen, uint64_t *prev_gen, bool *adopted)
{
	enum iface_found found;
	char why[80];
	int err;

	*adopted = false;
	*prev_gen = 0;
	err = iface_probe(o->ifname, &found, m, why, sizeof(why));
	if (err) {
		pr_err("%s: cannot read the pinned state: %s", o->ifname, strerror(-err));
		return err;
	}
	if (found == IFACE_LIVE) {
		err = adopt(o, c, m, gen, prev_gen);
		if (err)
			maps_close(m);
		else
			*adopted = true;
		return err;
	}
	if (found == IFACE_STALE) {
		pr_warn("%s: pinned state without a live datapath (%s): attaching afresh",
			o->ifname, why);
		amlg_detach(o->ifname);
	}
	err = amlg_attach(o, c, gen);
	if (err)
		return err;
	err = maps_open_pinned(o->ifname, m);
	if (err)
		pr_err("%s: attached, but cannot open the pinned state: %s", o->ifname,
		       strerror(-err));
	return err;
}
