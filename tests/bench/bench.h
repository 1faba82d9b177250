/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * amlg-bench: the C half of scripts/bench.  Each command lives in its own file and exports
 * only cmd_<name>(); the shared pieces are the prefix and policy generator, the tag resolver
 * and the comparison programs' table builder.
 */
#ifndef AMLG_BENCH_H
#define AMLG_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "compile/compile.h"
#include "policy/policy.h"
#include "base/prefix.h"
#include "cpolicy.h"

/* ---- deterministic random numbers (xorshift64*) ---- */
struct rng {
	uint64_t s;
};

void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
uint32_t rng_below(struct rng *r, uint32_t n);

/* ---- synthetic prefix sets and policies (bench_gen.c) ---- */
/*
 * n IPv4 prefixes of /16-/32 with lengths drawn from the real tag file's histogram, and m IPv6
 * prefixes likewise, at random addresses outside the documentation, private and special ranges.
 */
int gen_prefixes(uint64_t seed, size_t n4, size_t n6, struct prefix_list *out);

/* A synthetic policy: rule r covers the prefixes j with j % nrules == r (or one of them each
 * when there are fewer prefixes than rules), tcp port BENCH_PORT0 + r, direction out. */
#define BENCH_PORT0 10000
struct synth {
	struct prefix_list v4, v6;
	unsigned nrules;
	char *text; /* policy text */
};

int synth_policy(struct synth *s, uint64_t seed, size_t n4, size_t n6, unsigned nrules);
void synth_free(struct synth *s);
/* An address of rule r's IPv4 (family 4) or IPv6 prefixes; variant picks among them. */
void synth_addr(const struct synth *s, unsigned r, int family, uint32_t variant, uint8_t *addr);

/*
 * Compile a policy file the way the CLI does (pipeline_compile: the project's own tag resolver
 * when it has one).  If that fails and a tag file is given, retry with the benchmark's jansson
 * resolver; if it still fails and vars are given, retry both with them.  *how says what worked:
 * "project", "project+vars", "bench-resolver", "bench-resolver+vars".
 */
int compile_file(const char *path, const char *tags, const struct var_def *vars, size_t nvars,
		 struct compiled_policy *cp, const char **how);

/* ---- service tags from Microsoft's JSON, with jansson (bench_tags.c) ---- */
struct tagdb;
int tagdb_open(const char *path, struct tagdb **out);
void tagdb_free(struct tagdb *db);
/* A resolver for compile_opts.tags backed by db. */
void tagdb_resolver(struct tagdb *db, struct tag_resolver *r);

/* ---- the comparison programs (bench_progs.c) ---- */
enum bench_prog {
	BP_EMPTY,
	BP_LPM,
	BP_DIR, /* DIR-16-8-8 for IPv4, per-length hash for IPv6 */
	BP_PLEN, /* per-length hash for both */
	BP_COUNT,
};

extern const char *const bench_prog_names[BP_COUNT];

struct bench_obj {
	enum bench_prog kind;
	void *skel;
	int prog_fd;
	size_t mem_bytes; /* the lookup structure's kernel memory (bpf_map_info memlock) */
	size_t entries; /* entries written */
};

/* Load one comparison program with c's address entries; dir_mode is BENCH_DIR_*. */
int bench_obj_open(struct bench_obj *b, enum bench_prog kind, const struct compiled *c,
		   unsigned dir_mode);
void bench_obj_close(struct bench_obj *b);

/* Kernel memory of a map (memlock from fdinfo), 0 if unknown. */
size_t map_memlock(int map_fd);

/* ---- commands ---- */
int cmd_datapath(int argc, char **argv);
int cmd_gen(int argc, char **argv);
int cmd_live(int argc, char **argv);
int cmd_pcap(int argc, char **argv);
int cmd_compile(int argc, char **argv);

#endif
