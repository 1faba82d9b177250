/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What changed between two service-tag files: per tag, the addresses added and removed (as
 * address sets, so a prefix split in two is no change), for every tag or for the tags a policy
 * uses.  This is the weekly question: does the new download change what my policy allows?
 */
#ifndef AMLG_COMPILE_TAGS_DIFF_H
#define AMLG_COMPILE_TAGS_DIFF_H

#include "policy/policy.h"
#include "compile/tags.h"

struct tag_change {
	char *name; /* as the policy writes it, or the published name */
	const struct tag_entry *old, *new; /* NULL: not in that file */
	struct prefix_list added, removed;
};

struct tag_diff {
	struct tag_change *v;
	size_t n;
	size_t changed; /* entries with added or removed addresses, or present in one file only */
};

/*
 * Compare two files.  names NULL: every tag of either file; else those names, looked up like a
 * policy's tag: items (aliases, case).  Returns 0 or -ENOMEM.
 */
int tags_diff(const struct tag_db *old, const struct tag_db *new, const char *const *names,
	      size_t nnames, struct tag_diff *out);
void tags_diff_free(struct tag_diff *d);

/* The distinct tag names a policy's rules use (case-insensitively), in order of use; free(*out). */
int tags_policy_names(const struct policy *p, const char ***out, size_t *n);

#endif
