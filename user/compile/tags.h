/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Azure service tags: Microsoft's "Azure IP Ranges and Service Tags" JSON files as published
 * (ServiceTags_Public_YYYYMMDD.json, ..._AzureGovernment_..., ..._China_...) and the output of
 * "az network list-service-tags -o json", read with jansson into a table of tags, each with
 * its prefixes.  Names are looked up whole and case-insensitively; the documents' spellings
 * that differ from the published names are aliases (tags_resolve.c).
 */
#ifndef AMLG_COMPILE_TAGS_H
#define AMLG_COMPILE_TAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compile/compile.h"
#include "base/diag.h"
#include "base/prefix.h"

#define TAGS_CLOUD_MAX 32
#define TAGS_DATE_MAX 9 /* YYYYMMDD */

struct tag_entry {
	char *name; /* as published: "Storage", "Storage.EastUS2", "AzureFrontDoor.FirstParty" */
	char *region; /* properties.region ("eastus2", "" for a global tag) */
	char *service; /* properties.systemService, or "" */
	uint32_t region_id;
	uint32_t change; /* properties.changeNumber */
	struct prefix *pfx; /* as published, in the file's order */
	size_t npfx, n4, n6;
};

struct tag_db {
	char *path; /* as opened */
	char cloud[TAGS_CLOUD_MAX]; /* "Public", "AzureGovernment", "China" */
	uint32_t change; /* the file's changeNumber */
	char date[TAGS_DATE_MAX]; /* from the file name, or "" */
	struct tag_entry *v; /* sorted by name, case-insensitively */
	size_t n;
	size_t n4, n6; /* prefixes of every tag, as published */
};

/* Why a file could not be read: a message, and the JSON position when jansson has one. */
struct tag_error {
	unsigned line, col; /* 1-based; 0 = no position */
	char msg[320];
};

/*
 * Read a tag file (plain or gzip-compressed JSON).  On failure *out is untouched, e says why
 * and the result is -errno: -EINVAL for a file that is not a valid tag file.
 */
int tags_load(const char *path, struct tag_db **out, struct tag_error *e);
void tags_free(struct tag_db *db);

/* The tag of that exact name, compared case-insensitively, or NULL. */
const struct tag_entry *tags_find(const struct tag_db *db, const char *name);

/*
 * Resolve a name as a policy writes it: the published name in any case, or a documented alias
 * (ContainerRegistry -> AzureContainerRegistry, Keyvault -> AzureKeyVault), with or without a
 * ".Region" suffix.  Returns the tag or NULL; *alias is set when an alias was used.
 */
const struct tag_entry *tags_lookup(const struct tag_db *db, const char *name, bool *alias);

/*
 * Why name is unknown, as a message and a hint ("did you mean ..."): the nearest published name,
 * or for an unknown region of a known tag the nearest of that tag's regions.
 */
void tags_explain_unknown(const struct tag_db *db, const char *name, char *msg, size_t msz,
			  char *hint, size_t hsz);

/* Append the tag's prefixes, merged and de-duplicated, to out.  Returns 0 or -ENOMEM. */
int tags_prefixes(const struct tag_entry *e, struct prefix_list *out);

/* "file (cloud Public, changeNumber 374, date 20251020)" for messages. */
char *tags_describe(const struct tag_db *db, char *buf, size_t sz);

/* ---- the compiler's side (tags_resolve.c) */

/* A tag_resolver that resolves tag: items against db. */
void tags_resolver_init(struct tag_resolver *r, const struct tag_db *db);

/* Record which tag file a compiled policy came from (cloud, changeNumber, date, path). */
void tags_record(const struct tag_db *db, struct compiled *c);

/*
 * Open the tag file a policy resolves against: cli_path (--tags) when given, else the policy's
 * own 'tags' statement, else none (*out NULL, return 0).  A file that cannot be read is an
 * error added to d, at the 'tags' statement or at the JSON position in the file; returns
 * -EINVAL then (-ENOMEM on allocation failure).
 */
int tags_open_for_policy(const char *cli_path, const struct policy *p, struct diag *d,
			 struct tag_db **out);

#endif
