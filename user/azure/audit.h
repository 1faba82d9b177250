/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * "amlguard audit": Azure's own filters (network security groups, Azure Firewall policy rule
 * collection groups) judged against a policy, in both directions:
 *
 *  - every documented flow of the policy, as representative packets (both ends of every
 *    prefix of every endpoint item, both ends of every port range), through the Azure rules
 *    with Azure's semantics: a flow the rules block is reported with the blocking rule;
 *  - every Allow rule of the Azure rules, as representative packets of what it allows (both
 *    ends of its prefixes and of the gaps the policy leaves in them), through the policy: what
 *    the rule allows beyond the policy is reported, with the flow IDs that cover the rest.
 *
 * One classifier judges both: the Azure rules are translated into amlguard's policy language
 * (one rule per Azure rule, in Azure's evaluation order, so that the datapath's "lowest rule
 * bit wins" is Azure's "first match by priority"), compiled by the same compiler against the
 * same tag file, and every packet runs through the eBPF datapath with BPF_PROG_TEST_RUN.
 */
#ifndef AMLG_AZURE_AUDIT_H
#define AMLG_AZURE_AUDIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "compile/compile.h"
#include "kernel/loader.h"
#include "compile/tags.h"

#define AZ_P_TCP 1
#define AZ_P_UDP 2
#define AZ_P_ICMP 4
#define AZ_P_OTHER 8 /* Esp, Ah: no packet of a policy flow */
#define AZ_P_ALL (AZ_P_TCP | AZ_P_UDP | AZ_P_ICMP | AZ_P_OTHER)

struct az_rule {
	char *name;
	int priority; /* NSG priority; firewall: evaluation rank */
	bool allow;
	bool deflt; /* an NSG default rule */
	bool app; /* firewall application rule */
	uint8_t dir; /* AMLG_DIR_OUT (Outbound) or AMLG_DIR_IN */
	unsigned protos; /* AZ_P_* */
	char **src, **dst; /* as written: CIDRs, tags, "*" */
	size_t nsrc, ndst;
	struct port_range *ports; /* destination ports; none = any */
	size_t nports;
	bool src_ports; /* a source port range other than "*": not modelled */
	bool asg; /* application security groups: not resolvable */
	char **fqdns; /* application rule: targetFqdns */
	size_t nfqdns;
	uint16_t app_ports[64]; /* application rule: protocols' ports */
	size_t napp_ports;
	char *where; /* "collection C" for firewall rules */
};

struct az_set {
	char *file;
	char *name;
	bool fw; /* a firewall rule collection group (or several) */
	struct az_rule *v;
	size_t n;
	/* the translation, compiled, and its datapath */
	struct policy *pol;
	struct compiled *c;
	struct offline o;
	bool loaded;
	char *text; /* the generated policy */
};

struct audit_opts {
	struct prefix_list vnet; /* the VNet's ranges: VirtualNetwork, Internet, local addresses */
	const struct tag_db *db;
};

/* Read an NSG (ARM or az shape, or an ARM template holding one); adds the default rules. */
int az_nsg_load(const char *path, struct az_set *s, char *err, size_t errsz);
/* Read firewall rule collection groups (one, a list, or a template) into one rule set. */
int az_fw_load(const char *path, struct az_set *s, char *err, size_t errsz);
void az_set_free(struct az_set *s);

/*
 * Translate, compile and load s.  Errors are printed (the generated text's errors with the
 * Azure rule they come from).  0 or -errno.
 */
int az_compile(struct az_set *s, const struct audit_opts *o);

/*
 * Run the audit of the policy c (compiled from p) against the rule sets.  The result is a
 * JSON report; *findings counts blocked flows and rules that allow more.  0 or -errno.
 */
int audit_run(const struct compiled *c, struct az_set *sets, size_t nsets,
	      const struct audit_opts *o, json_t **report, size_t *findings);
void audit_print(FILE *f, const json_t *report);

#endif
