// SPDX-License-Identifier: GPL-2.0-only
/* A snapshot of an attached interface's state, read from its pinned maps. */
#include <bpf/bpf.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <net/if.h>

#include "base/ifname.h"
#include "kernel/loader.h"
#include "base/log.h"
#include "kernel/state.h"
#include "kernel/loader_xdp.h"
#include <net/if.h>
#include "kernel/tables.h"

void stats_sum(const struct amlg_stats *percpu, int n, struct amlg_stats *out)
{
	const uint64_t *in = (const uint64_t *)percpu;
	uint64_t *o = (uint64_t *)out;
	size_t words = sizeof(*out) / sizeof(uint64_t);

	memset(out, 0, sizeof(*out));
	for (int c = 0; c < n; c++)
		for (size_t w = 0; w < words; w++)
			o[w] += in[(size_t)c * words + w];
	/* The token bucket fields are state, not counters. */
	out->tb_tokens = out->tb_last_ns = 0;
}

static int read_stats(struct amlg_maps *m, struct amlg_state *st)
{
	int n = ncpus();
	struct amlg_stats *pc = calloc((size_t)n, sizeof(*pc));
	uint32_t zero = 0;
	int err = 0;

	if (!pc)
		return -ENOMEM;
	if (bpf_map_lookup_elem(m->fd[M_STATS], &zero, pc))
		err = -errno;
	else
		stats_sum(pc, n, &st->stats);
	free(pc);
	return err;
}

static int read_rules(struct amlg_maps *m, struct amlg_state *st)
{
	int n = ncpus();
	struct amlg_rstat *pc = calloc((size_t)n, sizeof(*pc));
	struct amlg_rule_info *info = NULL;
	int err;

	if (!pc)
		return -ENOMEM;
	err = tables_rules(m, st->slot, &info);
	st->rules = calloc(AMLG_RULE_IDS, sizeof(*st->rules));
	if (!err && !st->rules)
		err = -ENOMEM;
	for (uint32_t id = 0; !err && id < AMLG_RULE_IDS; id++) {
		uint32_t key = st->slot * AMLG_RULE_IDS + id;

		st->rules[id].info = info[id];
		if (!info[id].used)
			continue;
		if (bpf_map_lookup_elem(m->fd[M_RSTATS], &key, pc)) {
			err = -errno;
			break;
		}
		for (int c = 0; c < n; c++) {
			st->rules[id].packets += pc[c].packets;
			st->rules[id].bytes += pc[c].bytes;
		}
	}
	free(info);
	free(pc);
	return err;
}

static void count_ct(struct amlg_maps *m, struct amlg_state *st)
{
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);
	struct amlg_ct_key k, next;
	void *prev = NULL;

	if (bpf_obj_get_info_by_fd(m->fd[M_CT], &info, &len) == 0)
		st->ct_capacity = info.max_entries;
	st->ct_entries = 0;
	while (bpf_map_get_next_key(m->fd[M_CT], prev, &next) == 0) {
		st->ct_entries++;
		k = next;
		prev = &k;
		if (st->ct_entries > st->ct_capacity + 1024)
			break; /* keys churn under traffic: an estimate is all we claim */
	}
}

int state_read_maps(struct amlg_maps *m, const char *ifname, struct amlg_state *st)
{
	int err;

	memset(st, 0, sizeof(*st));
	snprintf(st->ifname, sizeof(st->ifname), "%s", ifname);
	err = maps_cfg_read(m, &st->cfg);
	if (!err)
		err = tables_active(m, &st->slot, &st->pcfg);
	if (!err)
		err = read_stats(m, st);
	if (!err)
		err = read_rules(m, st);
	if (!err)
		count_ct(m, st);
	return err;
}

int state_read(const char *ifname, struct amlg_state *st)
{
	struct amlg_maps m;
	int err;

	memset(st, 0, sizeof(*st));
	err = maps_open_pinned(ifname, &m);
	if (err)
		return err;
	err = state_read_maps(&m, ifname, st);
	maps_close(&m);
	if (!err)
		amlg_tc_query(ifname, st->prog_id);
	if (!err && !st->prog_id[0] && if_nametoindex(ifname)) {
		uint32_t id;

		if (xdp_query((int)if_nametoindex(ifname), &id, &st->xdp) == 0)
			st->prog_id[0] = id;
	}
	return err;
}

void state_free(struct amlg_state *st)
{
	free(st->rules);
	st->rules = NULL;
}

int state_list(char ***names, int *n)
{
	struct dirent *e;
	char **v = NULL;
	int cnt = 0, err;
	DIR *d;

	*names = NULL;
	*n = 0;
	err = pin_root_check(false);
	if (err)
		return err == -ENOENT ? 0 : err;
	d = opendir(AMLG_PIN_ROOT);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		char **nv;

		if (e->d_name[0] == '.')
			continue;
		nv = realloc(v, sizeof(*v) * (size_t)(cnt + 1));
		if (!nv)
			break;
		v = nv;
		v[cnt] = strdup(e->d_name);
		if (v[cnt])
			cnt++;
	}
	closedir(d);
	*names = v;
	*n = cnt;
	return 0;
}

void state_report_open_error(const char *ifname, int err)
{
	char why[96];

	if (!ifname_valid(ifname, why, sizeof(why))) {
		pr_err("%s: %s", ifname, why);
		pr_hint("'ip link' lists the interfaces");
	} else if (err == -ENOENT) {
		pr_err("%s: amlguard is not attached", ifname);
		if (!if_nametoindex(ifname))
			pr_hint("there is no interface named %s here ('ip link' lists them)",
				ifname);
		else
			pr_hint("attach it with: amlguard attach -i %s -p POLICY", ifname);
	} else if (err != -EPERM && err != -ENOTDIR) { /* those: pin_root_check() said why */
		pr_err("%s: cannot read the pinned state: %s", ifname, strerror(-err));
	}
}
