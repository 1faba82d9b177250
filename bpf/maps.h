/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Maps of the datapath.  Policy tables come in AMLG_SLOTS copies: the fixed-size ones are plain
 * arrays indexed by slot, the variable-size ones (LPM tries, class bitmaps) are map-in-map with
 * one inner map per slot.  The loader fills the inactive slot and flips amlg_cfg.active.
 */
#ifndef AMLG_MAPS_H
#define AMLG_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "amlguard_abi.h"

/* The loader flips "active" between 0 and 1: a single byte of the value changes. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct amlg_cfg);
} amlg_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, AMLG_SLOTS);
	__type(key, __u32);
	__type(value, struct amlg_pcfg);
} amlg_pcfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, AMLG_SLOTS *AMLG_RULE_IDS);
	__type(key, __u32);
	__type(value, struct amlg_rule_info);
} amlg_rules SEC(".maps");

/* 256 Ki entries per slot, written by the loader with one batched update. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, AMLG_SLOTS *AMLG_PORTS_PER_SLOT);
	__type(key, __u32);
	__type(value, __u32);
} amlg_ports SEC(".maps");

struct amlg_lpm4_inner {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(key_size, sizeof(struct amlg_lpm4_key));
	__uint(value_size, sizeof(__u32));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, AMLG_SLOTS);
	__type(key, __u32);
	__array(values, struct amlg_lpm4_inner);
} amlg_lpm4 SEC(".maps");

struct amlg_lpm6_inner {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(key_size, sizeof(struct amlg_lpm6_key));
	__uint(value_size, sizeof(__u32));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, AMLG_SLOTS);
	__type(key, __u32);
	__array(values, struct amlg_lpm6_inner);
} amlg_lpm6 SEC(".maps");

struct amlg_classes_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_INNER_MAP);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct amlg_bitmap));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, AMLG_SLOTS);
	__type(key, __u32);
	__array(values, struct amlg_classes_inner);
} amlg_classes SEC(".maps");

/*
 * The inner maps give sizes rather than BTF types: clang emits only a forward declaration for a
 * struct that is used through an inner map's type alone, and libbpf cannot size that.
 */

/* Sized by the loader (--ct-size); LRU so that a full table evicts instead of failing. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct amlg_ct_key);
	__type(value, struct amlg_ct_val);
} amlg_ct SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct amlg_frag_key);
	__type(value, struct amlg_frag_val);
} amlg_frag SEC(".maps");

/*
 * Address pairs with an allowed flow, per protocol, for the non-first fragments that arrive before
 * their first fragment (see tie_fragment() in frag.h).  Written when an allowed flow's
 * entry is made and when an allowed first fragment is remembered; an entry counts only under the
 * policy generation that wrote it.  Internal to the datapath: not pinned.
 */
struct amlg_pair_key {
	__u8 family;
	__u8 proto;
	__u16 pad;
	__u8 lo[16];
	__u8 hi[16];
};

struct amlg_pair_val {
	__u64 generation;
	__u64 last_seen;
	__u16 rule;
	__u8 pad[6];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct amlg_pair_key);
	__type(value, struct amlg_pair_val);
} amlg_pair SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} amlg_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct amlg_stats);
} amlg_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, AMLG_SLOTS *AMLG_RULE_IDS);
	__type(key, __u32);
	__type(value, struct amlg_rstat);
} amlg_rstats SEC(".maps");

/* Host patterns of each slot's policy (see amlguard_abi.h): key -> pattern. */
struct amlg_hosts_inner {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(key_size, sizeof(struct amlg_host_key));
	__uint(value_size, sizeof(struct amlg_host));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, AMLG_SLOTS);
	__type(key, __u32);
	__array(values, struct amlg_hosts_inner);
} amlg_hosts SEC(".maps");

/*
 * Addresses learned from DNS answers.  Not per slot: what was learned survives a policy swap and
 * is read through the new policy's patterns.  A plain hash, not an LRU: when it is full the
 * datapath removes expired entries first (and counts what it removed), never a live one quietly.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct amlg_learn_key);
	__type(value, struct amlg_learned);
} amlg_learned SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct amlg_name);
} amlg_names SEC(".maps");

/* Offline batches (see amlguard_abi.h): headers and packed bytes in, the results out, and
 * the buffer a packet is judged in. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct amlg_batch_idx);
} amlg_batch_idx SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, AMLG_BLOB_CHUNKS);
	__type(key, __u32);
	__type(value, struct amlg_batch_chunk);
} amlg_batch_blob SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct amlg_batch_out);
} amlg_batch_out SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct amlg_batch_pkt);
} amlg_batch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 256);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct amlg_lpm4_key);
	__type(value, __u8);
} amlg_local4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 256);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct amlg_lpm6_key);
	__type(value, __u8);
} amlg_local6 SEC(".maps");

#endif
