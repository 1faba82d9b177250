// SPDX-License-Identifier: GPL-2.0-only
/* The XDP entry point: load it on the tc datapath's maps, attach, query, detach. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/if_link.h>
#include <string.h>
#include <unistd.h>

#include "amlguard.skel.h"
#include "amlguard_xdp.skel.h"
#include "kernel/loader_xdp.h"
#include "base/log.h"

#define XDP_PROG_NAME "amlg_xdp"

int xdp_load(struct amlguard_bpf *tc, unsigned role, struct amlguard_xdp_bpf **out,
	     const char *what)
{
	struct amlguard_xdp_bpf *x;
	struct bpf_program *p;
	struct bpf_map *m;
	int err;

	x = amlguard_xdp_bpf__open();
	if (!x) {
		err = -errno;
		pr_err("%s: cannot open the XDP datapath object: %s", what, strerror(-err));
		return err;
	}
	x->rodata->amlg_role = role;
	/* only the XDP entry point: the tc ones come from the tc object */
	bpf_object__for_each_program(p, x->obj)
		bpf_program__set_autoload(p, p == x->progs.amlg_xdp);
	bpf_object__for_each_map(m, x->obj) {
		struct bpf_map *t;

		if (bpf_map__is_internal(m))
			continue;
		t = bpf_object__find_map_by_name(tc->obj, bpf_map__name(m));
		err = t ? bpf_map__reuse_fd(m, bpf_map__fd(t)) : -ENOENT;
		if (err) {
			pr_err("%s: cannot share map %s with the XDP entry point: %s", what,
			       bpf_map__name(m), strerror(-err));
			amlguard_xdp_bpf__destroy(x);
			return err;
		}
	}
	log_libbpf_reset();
	err = amlguard_xdp_bpf__load(x);
	if (err) {
		pr_err("%s: the kernel refused the XDP datapath program: %s", what, strerror(-err));
		fprintf(stderr, "  last lines of the verifier log:\n");
		log_libbpf_print_tail(stderr, 20);
		amlguard_xdp_bpf__destroy(x);
		return err;
	}
	*out = x;
	return 0;
}

void xdp_unload(struct amlguard_xdp_bpf *x)
{
	amlguard_xdp_bpf__destroy(x);
}

int xdp_prog_fd(struct amlguard_xdp_bpf *x)
{
	return bpf_program__fd(x->progs.amlg_xdp);
}

int xdp_attach(int ifindex, int prog_fd, int *mode, const char *ifname)
{
	int err, gen;

	/* never replace another program: the hook must be free */
	err = bpf_xdp_attach(ifindex, prog_fd, XDP_FLAGS_UPDATE_IF_NOEXIST | XDP_FLAGS_DRV_MODE,
			     NULL);
	if (!err) {
		*mode = AMLG_XDP_NATIVE;
		return 0;
	}
	if (err == -EEXIST || err == -EBUSY) {
		pr_err("%s: another XDP program is on the interface", ifname);
		return err;
	}
	gen = bpf_xdp_attach(ifindex, prog_fd, XDP_FLAGS_UPDATE_IF_NOEXIST | XDP_FLAGS_SKB_MODE,
			     NULL);
	if (gen) {
		pr_err("%s: cannot attach to XDP (native: %s; generic: %s)", ifname, strerror(-err),
		       strerror(-gen));
		return gen;
	}
	*mode = AMLG_XDP_GENERIC;
	return 0;
}

static bool ours(uint32_t id)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);
	bool yes;

	if (fd < 0)
		return false;
	memset(&info, 0, sizeof(info));
	yes = bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && !strcmp(info.name, XDP_PROG_NAME);
	close(fd);
	return yes;
}

int xdp_query(int ifindex, uint32_t *prog_id, int *mode)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	*prog_id = 0;
	*mode = AMLG_XDP_NONE;
	if (bpf_xdp_query(ifindex, 0, &q))
		return -errno;
	if (q.drv_prog_id && ours(q.drv_prog_id)) {
		*prog_id = q.drv_prog_id;
		*mode = AMLG_XDP_NATIVE;
	} else if (q.skb_prog_id && ours(q.skb_prog_id)) {
		*prog_id = q.skb_prog_id;
		*mode = AMLG_XDP_GENERIC;
	}
	return 0;
}

int xdp_detach(int ifindex)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, o);
	uint32_t id;
	int mode;

	if (xdp_query(ifindex, &id, &mode) || mode == AMLG_XDP_NONE)
		return -ENOENT;
	o.old_prog_fd = bpf_prog_get_fd_by_id(id);
	if (o.old_prog_fd < 0)
		return -errno;
	/* only if it is still ours */
	mode = bpf_xdp_detach(ifindex,
			      XDP_FLAGS_REPLACE | (mode == AMLG_XDP_NATIVE ? XDP_FLAGS_DRV_MODE :
									     XDP_FLAGS_SKB_MODE),
			      &o);
	close(o.old_prog_fd);
	return mode;
}

const char *xdp_mode_str(int mode)
{
	return mode == AMLG_XDP_NATIVE ? "native" : mode == AMLG_XDP_GENERIC ? "generic" : "none";
}
