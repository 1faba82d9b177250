// SPDX-License-Identifier: GPL-2.0-only
/* The datapath's maps as file descriptors; pins; the BPF filesystem. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "base/log.h"
#include "kernel/maps.h"
#include "base/safe_io.h"

#define BPFFS "/sys/fs/bpf"

const char *const amlg_map_names[M_COUNT] = {
	[M_CFG] = AMLG_MAP_CFG,		[M_PCFG] = AMLG_MAP_PCFG,
	[M_RULES] = AMLG_MAP_RULES,	[M_PORTS] = AMLG_MAP_PORTS,
	[M_LPM4] = AMLG_MAP_LPM4,	[M_LPM6] = AMLG_MAP_LPM6,
	[M_CLASSES] = AMLG_MAP_CLASSES, [M_CT] = AMLG_MAP_CT,
	[M_FRAG] = AMLG_MAP_FRAG,	[M_EVENTS] = AMLG_MAP_EVENTS,
	[M_STATS] = AMLG_MAP_STATS,	[M_RSTATS] = AMLG_MAP_RSTATS,
	[M_HOSTS] = AMLG_MAP_HOSTS,	[M_LEARNED] = AMLG_MAP_LEARNED,
	[M_NAMES] = AMLG_MAP_NAMES,
};

void maps_init(struct amlg_maps *m)
{
	for (int i = 0; i < M_COUNT; i++)
		m->fd[i] = -1;
	m->owned = false;
}

int pin_dir(const char *ifname, char *buf, size_t sz)
{
	int n = snprintf(buf, sz, "%s/%s", AMLG_PIN_ROOT, ifname);

	/* "." and ".." are no interface's name (dev_valid_name), and would leave the pin root. */
	if (n < 0 || (size_t)n >= sz || strchr(ifname, '/') || !*ifname || !strcmp(ifname, ".") ||
	    !strcmp(ifname, "..")) {
		buf[0] = '\0';
		return -EINVAL;
	}
	return 0;
}

int pin_root_check(bool create)
{
	static bool told;
	char why[160];
	int err = secure_dir(AMLG_PIN_ROOT, create, why, sizeof(why));

	if (err && err != -ENOENT && !told) {
		/* someone else's directory could hide, rename or replace the pins */
		pr_err("%s: refusing it as amlguard's pin directory: %s", AMLG_PIN_ROOT, why);
		pr_hint("look at what is in it, remove it, and attach again (amlguard creates it, "
			"0700 and root's)");
		told = true;
	}
	return err;
}

int maps_repin(const char *ifname, const struct amlg_maps *m)
{
	char dir[256], path[320];
	struct stat st;
	int n = 0;

	if (pin_dir(ifname, dir, sizeof(dir)))
		return -EINVAL;
	for (int i = 0; i < M_COUNT; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, amlg_map_names[i]);
		if (stat(path, &st) == 0)
			continue;
		if (errno != ENOENT)
			return -errno;
		for (int k = 0;; k++) {
			int err = pin_root_check(true);

			if (err)
				return err;
			if (!mkdir(dir, 0700) || errno == EEXIST)
				break;
			if (errno != ENOENT || k == 3)
				return -errno;
		}
		if (bpf_obj_pin(m->fd[i], path) || chmod(path, 0600))
			return -errno;
		n++;
	}
	return n;
}

int maps_cfg_read(const struct amlg_maps *m, struct amlg_cfg *cfg)
{
	uint32_t zero = 0;

	return bpf_map_lookup_elem(m->fd[M_CFG], &zero, cfg) ? -errno : 0;
}

int maps_cfg_write(const struct amlg_maps *m, const struct amlg_cfg *cfg)
{
	uint32_t zero = 0;

	return bpf_map_update_elem(m->fd[M_CFG], &zero, cfg, BPF_ANY) ? -errno : 0;
}

int maps_open_pinned(const char *ifname, struct amlg_maps *m)
{
	char dir[256], path[320];
	int err;

	maps_init(m);
	m->owned = true;
	err = pin_dir(ifname, dir, sizeof(dir));
	if (!err)
		err = pin_root_check(false);
	if (err)
		return err;
	for (int i = 0; i < M_COUNT; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, amlg_map_names[i]);
		m->fd[i] = bpf_obj_get(path);
		if (m->fd[i] < 0) {
			err = -errno;
			pr_debug("%s: %s", path, strerror(-err));
			maps_close(m);
			return err;
		}
	}
	return 0;
}

void maps_close(struct amlg_maps *m)
{
	if (m->owned) {
		for (int i = 0; i < M_COUNT; i++)
			if (m->fd[i] >= 0)
				close(m->fd[i]);
	}
	maps_init(m);
}

/* Are we in PID 1's mount namespace? */
static bool init_mount_ns(void)
{
	struct stat self, init;

	if (stat("/proc/self/ns/mnt", &self) || stat("/proc/1/ns/mnt", &init))
		return true; /* cannot tell: assume the normal case */
	return self.st_ino == init.st_ino && self.st_dev == init.st_dev;
}

int bpffs_ensure(void)
{
	struct statfs st;

	if (statfs(BPFFS, &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	/*
	 * A private mount namespace without the BPF filesystem ("ip netns exec" remounts /sys):
	 * pins made in a filesystem mounted here would vanish with this process.
	 */
	if (!init_mount_ns()) {
		pr_err("%s is not a BPF filesystem in this mount namespace: pinned state would "
		       "vanish when amlguard exits",
		       BPFFS);
		pr_hint("'ip netns exec' remounts /sys; use 'nsenter --net=/run/netns/NAME "
			"amlguard ...' instead, or mount the BPF filesystem here yourself");
		return -ENOTSUP;
	}
	if (mkdir(BPFFS, 0700) && errno != EEXIST)
		return -errno;
	if (mount("bpf", BPFFS, "bpf", 0, "mode=0700"))
		return -errno;
	pr_info("mounted the BPF filesystem at %s", BPFFS);
	return 0;
}

int ncpus(void)
{
	int n = libbpf_num_possible_cpus();

	return n > 0 ? n : 1;
}
