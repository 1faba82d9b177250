// SPDX-License-Identifier: GPL-2.0-only
/*
 * Compile a policy as the CLI does (or, if the project cannot resolve its service tags yet, with
 * the benchmark's jansson resolver), for the control-plane benchmark: one line of table sizes,
 * the compiler's own time and which resolver was used.
 */
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <time.h>

#include "bench.h"

int cmd_compile(int argc, char **argv)
{
	const char *policy = NULL, *tags = NULL, *how = "";
	struct var_def vars[8];
	size_t nvars = 0;
	struct compiled_stats st;
	struct compiled_policy cp;
	struct timespec a, b;
	int opt, err;

	while ((opt = getopt(argc, argv, "p:t:v:")) != -1) {
		if (opt == 'v' && strchr(optarg, '=') && nvars < 8) {
			*strchr(optarg, '=') = 0;
			vars[nvars].name = optarg;
			vars[nvars++].value = optarg + strlen(optarg) + 1;
		} else if (opt == 'p')
			policy = optarg;
		else if (opt == 't')
			tags = optarg;
		else
			return -EINVAL;
	}
	if (!policy) {
		fprintf(stderr,
			"usage: amlg-bench compile -p POLICY [-t TAGFILE] [-v NAME=VALUE]...\n");
		return -EINVAL;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	err = compile_file(policy, tags, vars, nvars, &cp, &how);
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (!err) {
		compiled_stats(cp.c, &st);
		printf("rules %zu lpm4 %zu lpm6 %zu classes %zu compile_us %u total_us %ld "
		       "slot_bytes %zu resolver %s\n",
		       cp.c->nrules, cp.c->nlpm4, cp.c->nlpm6, st.nclasses, cp.c->compile_us,
		       (long)((b.tv_sec - a.tv_sec) * 1000000 + (b.tv_nsec - a.tv_nsec) / 1000),
		       st.mem_bytes, how);
		compiled_policy_free(&cp);
	}
	return err;
}
