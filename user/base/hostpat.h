/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Host patterns as the datapath matches them (bpf/names.h): the kind, the text that must match
 * (the name itself, or the suffix after "*." or "*"), and the polynomial hash it is looked up by.
 */
#ifndef AMLG_BASE_HOSTPAT_H
#define AMLG_BASE_HOSTPAT_H

#include <stddef.h>
#include <stdint.h>

#include "bpf/amlguard_abi.h"

/* The hash the datapath computes over a name's bytes (lower case, no trailing dot). */
uint64_t name_hash(const char *s, size_t n);

/*
 * "pypi.org" -> exact "pypi.org"; "*.example.com" -> dot-wildcard "example.com";
 * "*pytorch.org" -> char-wildcard "pytorch.org".  Fills key and text (NUL-padded to
 * AMLG_NAME_MAX); -EINVAL if the pattern cannot be one (the parser has checked it already).
 */
int hostpat_key(const char *pattern, struct amlg_host_key *key, char text[AMLG_NAME_MAX]);

/* Does name match pattern?  The same semantics, in userspace (explain, fqdn listings, tests). */
int hostpat_match(const char *pattern, const char *name);

#endif
