/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * "amlguard export": a compiled policy in the languages of other filters.  Azure's network
 * security groups (export_nsg.c) and Azure Firewall policy rule collection groups
 * (export_azfw.c), as the JSON of their ARM resources, and an nftables ruleset (export_nft.c).
 *
 * What a target cannot express (an NSG has no host names) is never dropped silently: it is a
 * "gap", listed with the rule and flow ID it belongs to, and the export is partial.
 */
#ifndef AMLG_AZURE_EXPORT_H
#define AMLG_AZURE_EXPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "compile/compile.h"
#include "compile/tags.h"

/* Limits of Azure, from Microsoft's "Azure subscription and service limits" (networking). */
#define NSG_RULES_MAX 1000 /* security rules per network security group */
#define NSG_ADDRS_MAX 4000 /* addresses and ranges per NSG, source and destination each */
#define NSG_PRIO_MIN 100
#define NSG_PRIO_MAX 4096
#define NSG_NAME_MAX 80
#define NSG_DESC_MAX 140
#define AZFW_COMBOS_MAX 20000 /* unique source-destination combinations of network rules */
#define AZFW_GROUP_BYTES_MAX (2u << 20) /* size of the rules of one rule collection group */
#define AZFW_APP_PORT_MAX 64000 /* application rule protocol port (API model) */
#define AZFW_APP_PORTS_MAX 16 /* ports of a range enumerated into one application rule */

struct export_gap {
	char flow[AMLG_FLOW_MAX];
	char origin[AMLG_ORIGIN_MAX];
	char *what; /* "host:*.instances.azureml.ms" */
	char *why;
};

struct export_opts {
	const char *name; /* the NSG or rule collection group's name */
	bool deny_rest; /* NSG: a final deny-all rule per direction */
	bool log_rest; /* nft: log what the rules do not allow */
	int prio_step; /* NSG priorities: 100, 100 + step, ...; 0 = 10 */
	int group_prio; /* azfw: the rule collection group's priority */
};

struct export_ctx {
	const struct compiled *c;
	const struct tag_db *db; /* may be NULL: no tags in the policy */
	const struct export_opts *o;
	struct export_gap *gaps;
	size_t ngaps;
	struct export_gap *notes; /* remarks that do not make the export partial */
	size_t nnotes;
};

int export_gap(struct export_ctx *x, const struct crule *r, bool partial, const char *what,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void export_ctx_free(struct export_ctx *x);

/* The published name of a tag item ("storage.eastus2" -> "Storage.EastUS2"). */
const char *export_tag_name(const struct export_ctx *x, const struct item_res *ir);

/*
 * Build the documents.  Each returns 0 with the document in *out (and the gaps in x), or -E2BIG
 * after printing which limit the policy exceeds, or -ENOMEM.
 */
int export_nsg(struct export_ctx *x, json_t **out, size_t *nrules, size_t *nprefixes);
/* The same rules as an ARM deployment template (one networkSecurityGroups resource). */
json_t *export_nsg_template(const struct export_ctx *x, json_t *nsg);
int export_azfw(struct export_ctx *x, json_t **out, size_t *nrules, size_t *ncombos);
int export_nft(struct export_ctx *x, FILE *f, size_t *nrules, size_t *nelems);

#endif
