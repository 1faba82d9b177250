/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Forced tunneling (the "secure a training environment" document): with a 0.0.0.0/0 route to
 * on-premises, the compute subnet's route table needs routes with next hop Internet for every
 * prefix of BatchNodeManagement.{region} and AzureMachineLearning.{region}, or the managed
 * services' inbound connections are answered through the tunnel and break.  This computes that
 * route list for a policy (its region variable) and a tag file.
 */
#ifndef AMLG_AZURE_UDR_H
#define AMLG_AZURE_UDR_H

#include <stdbool.h>

#include "policy/policy.h"
#include "compile/tags.h"

#define UDR_NAME_MAX 81 /* Azure route names are at most 80 characters */
#define UDR_ROUTES_PER_TABLE 400 /* Azure's limit of routes in one route table */

struct udr_route {
	char name[UDR_NAME_MAX];
	struct prefix pfx;
	const char *tag; /* the published regional tag it comes from */
};

struct udr_plan {
	const char *region; /* the policy's region variable */
	const char *tags[2]; /* the regional tags used, published names; NULL when unused */
	struct udr_route *v;
	size_t n, n4, n6;
	size_t skipped6; /* IPv6 prefixes left out (ipv6 false) */
};

/*
 * The routes for the services the policy uses (tags BatchNodeManagement* and
 * AzureMachineLearning* anywhere in its rules), in the policy's region.  A prefix covered by
 * an earlier tag is not repeated (Azure refuses two routes with the same prefix).  On failure
 * msg and hint say why (no region variable, a region the tag file lacks) and the result is
 * -EINVAL; or -ENOMEM.
 */
int udr_plan(const struct policy *p, const struct tag_db *db, bool ipv6, struct udr_plan *out,
	     char *msg, size_t msz, char *hint, size_t hsz);
void udr_plan_free(struct udr_plan *u);

#endif
