// SPDX-License-Identifier: GPL-2.0-only
/*
 * Live helpers, run inside a benchmark namespace (nsenter --net):
 *   live attach -i IFACE --prog empty|lpm|dir16-8-8|plen-hash [-p POLICY]
 *        load a comparison program with the policy's address entries and attach it to tc
 *        ingress the way amlguard attaches (same handle and priority); it stays attached after
 *        we exit, until the namespace goes.
 *   live stats -i IFACE
 *        the kernel's run-time counters (kernel.bpf_stats_enabled) of the programs on the
 *        interface's tc hooks and XDP: "hook id run_time_ns run_cnt" per line.
 *   live mapmem PINDIR
 *        kernel memory (memlock) of every map pinned in PINDIR and of the inner maps of its
 *        map-in-map tables: "name bytes" per line.
 *   live xdpf-fill PREFIXES
 *        put each prefix's network address into xdp-filter's pinned IPv4 map as a source match
 *        (xdp-filter matches exact addresses, not prefixes).
 */
#include <bpf/bpf.h>
#include <dirent.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "bench_abi.h"
#include "kernel/loader.h"
#include "kernel/maps.h"

#define XDPF_MAP_V4 "/sys/fs/bpf/xdp-filter/filter_ipv4"
#define XDPF_MODE_SRC 1

static void tc_init(struct bpf_tc_hook *h, struct bpf_tc_opts *o, int ifindex,
		    enum bpf_tc_attach_point where, int prog_fd)
{
	memset(h, 0, sizeof(*h));
	h->sz = sizeof(*h);
	h->ifindex = ifindex;
	h->attach_point = where;
	memset(o, 0, sizeof(*o));
	o->sz = sizeof(*o);
	o->handle = AMLG_TC_HANDLE;
	o->priority = AMLG_TC_PRIO;
	o->prog_fd = prog_fd;
}

static int live_attach(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "prog", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	const char *ifname = NULL, *prog = NULL, *policy = NULL;
	struct compiled_policy cp = { 0 };
	struct bpf_tc_hook h;
	struct bpf_tc_opts o;
	struct bench_obj b;
	int opt, kind = -1, ifindex, err;

	while ((opt = getopt_long(argc, argv, "i:p:", lo, NULL)) != -1) {
		if (opt == 'i')
			ifname = optarg;
		else if (opt == 'p')
			policy = optarg;
		else if (opt == 'P')
			prog = optarg;
		else
			return -EINVAL;
	}
	for (int k = 0; prog && k < BP_COUNT; k++)
		if (!strcmp(prog, bench_prog_names[k]))
			kind = k;
	if (!ifname || kind < 0 || (kind != BP_EMPTY && !policy)) {
		fprintf(stderr, "usage: amlg-bench live attach -i IFACE --prog "
				"empty|lpm|dir16-8-8|plen-hash [-p POLICY]\n");
		return -EINVAL;
	}
	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex) {
		fprintf(stderr, "amlg-bench: error: %s: no such interface\n", ifname);
		return -ENODEV;
	}
	if (policy) {
		const char *how;

		err = compile_file(policy, NULL, NULL, 0, &cp, &how);
		if (err)
			return err;
	}
	err = bench_obj_open(&b, (enum bench_prog)kind, cp.c, BENCH_DIR_INGRESS);
	if (err) {
		fprintf(stderr, "amlg-bench: error: %s: cannot load: %s\n", prog, strerror(-err));
		compiled_policy_free(&cp);
		return err;
	}
	tc_init(&h, &o, ifindex, BPF_TC_INGRESS, b.prog_fd);
	err = bpf_tc_hook_create(&h);
	if (err == -EEXIST)
		err = 0;
	if (!err)
		err = bpf_tc_attach(&h, &o);
	if (err)
		fprintf(stderr, "amlg-bench: error: %s: cannot attach to tc ingress: %s\n", ifname,
			strerror(-err));
	else
		printf("%s attached to %s ingress (prog id %u, %zu entries, %zu bytes)\n", prog,
		       ifname, o.prog_id, b.entries, b.mem_bytes);
	bench_obj_close(&b);
	compiled_policy_free(&cp);
	return err;
}

static void print_prog(const char *hook, __u32 id)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	int fd;

	if (!id)
		return;
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		printf("%s %u %llu %llu\n", hook, id, (unsigned long long)info.run_time_ns,
		       (unsigned long long)info.run_cnt);
	close(fd);
}

static int live_stats(int argc, char **argv)
{
	enum bpf_tc_attach_point pts[2] = { BPF_TC_INGRESS, BPF_TC_EGRESS };
	const char *names[2] = { "ingress", "egress" };
	const char *ifname = NULL;
	__u32 xdp_id = 0;
	int opt, ifindex;

	while ((opt = getopt(argc, argv, "i:")) != -1) {
		if (opt != 'i')
			return -EINVAL;
		ifname = optarg;
	}
	ifindex = ifname ? (int)if_nametoindex(ifname) : 0;
	if (!ifindex) {
		fprintf(stderr, "usage: amlg-bench live stats -i IFACE\n");
		return -EINVAL;
	}
	for (int i = 0; i < 2; i++) {
		struct bpf_tc_hook h;
		struct bpf_tc_opts o;

		tc_init(&h, &o, ifindex, pts[i], 0);
		if (bpf_tc_query(&h, &o) == 0)
			print_prog(names[i], o.prog_id);
	}
	if (bpf_xdp_query_id(ifindex, 0, &xdp_id) == 0)
		print_prog("xdp", xdp_id);
	return 0;
}

static int xdpf_fill(int argc, char **argv)
{
	char line[128];
	int n = ncpus(), fd, err = 0;
	size_t count = 0;
	__u64 *val;
	FILE *f;

	if (argc < 2) {
		fprintf(stderr, "usage: amlg-bench live xdpf-fill PREFIXES\n");
		return -EINVAL;
	}
	fd = bpf_obj_get(XDPF_MAP_V4);
	if (fd < 0) {
		err = -errno;
		fprintf(stderr, "amlg-bench: error: %s: %s (is xdp-filter loaded?)\n", XDPF_MAP_V4,
			strerror(-err));
		return err;
	}
	f = fopen(argv[1], "r");
	val = calloc((size_t)n, sizeof(*val));
	if (!f || !val) {
		err = -errno;
		goto out;
	}
	for (int c = 0; c < n; c++)
		val[c] = XDPF_MODE_SRC;
	while (fgets(line, sizeof(line), f)) {
		struct prefix p;
		__u32 key;

		line[strcspn(line, "\n")] = 0;
		if (prefix_parse_loose(line, &p) || p.family != 4)
			continue;
		memcpy(&key, p.addr, 4);
		if (bpf_map_update_elem(fd, &key, val, BPF_ANY)) {
			err = -errno;
			fprintf(stderr, "amlg-bench: error: xdp-filter map: %s after %zu entries\n",
				strerror(-err), count);
			break;
		}
		count++;
	}
	if (!err)
		printf("%zu addresses in xdp-filter\n", count);
out:
	if (f)
		fclose(f);
	free(val);
	close(fd);
	return err;
}

static int map_mem(int argc, char **argv)
{
	struct dirent *de;
	char path[512];
	DIR *d;

	if (argc < 2 || !(d = opendir(argv[1]))) {
		fprintf(stderr, "usage: amlg-bench live mapmem PINDIR\n");
		return -EINVAL;
	}
	while ((de = readdir(d))) {
		struct bpf_map_info info = { 0 };
		__u32 len = sizeof(info);
		int fd;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", argv[1], de->d_name);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		printf("%s %zu\n", de->d_name, map_memlock(fd));
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
		    info.type == BPF_MAP_TYPE_ARRAY_OF_MAPS) {
			for (__u32 k = 0; k < info.max_entries; k++) {
				__u32 id;
				int in;

				if (bpf_map_lookup_elem(fd, &k, &id))
					continue;
				in = bpf_map_get_fd_by_id(id);
				if (in < 0)
					continue;
				printf("%s[%u] %zu\n", de->d_name, k, map_memlock(in));
				close(in);
			}
		}
		close(fd);
	}
	closedir(d);
	return 0;
}

int cmd_live(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "mapmem"))
		return map_mem(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "attach"))
		return live_attach(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "stats"))
		return live_stats(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "xdpf-fill"))
		return xdpf_fill(argc - 1, argv + 1);
	fprintf(stderr, "usage: amlg-bench live attach|stats|mapmem|xdpf-fill ...\n");
	return -EINVAL;
}
