// SPDX-License-Identifier: GPL-2.0-only
/*
 * A policy as an nftables ruleset for the host it protects (amlguard's --role host): table inet
 * amlguard with an input and an output chain.  Connection tracking passes the replies of
 * allowed connections (ct state established,related); loopback, IPv6 neighbour discovery and
 * MLD always pass, as in the datapath.  Then every rule of the policy, the platform rules
 * first, in the policy's order: its addresses in named interval sets (rN_remote4, rN_local6,
 * ...), its ports as an anonymous set, a counter and the flow ID as comment.  What no rule
 * allows hits the last rule: counted and dropped in enforce mode, counted, logged and
 * accepted in audit mode (or logged and dropped with --log).  Host rules have no nftables
 * form: they are listed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azure/export.h"
#include "export_int.h"

#define NFT_COMMENT_MAX 127

static void print_set(FILE *f, const char *name, int family, const struct prefix_list *l,
		      size_t *nelems)
{
	char buf[PREFIX_STRLEN];

	fprintf(f, "\tset %s {\n\t\ttype %s\n\t\tflags interval\n", name,
		family == 6 ? "ipv6_addr" : "ipv4_addr");
	if (l->n) {
		fprintf(f, "\t\telements = {");
		for (size_t i = 0; i < l->n; i++)
			fprintf(f, "%s%s", i ? ", " : " ", prefix_str(&l->v[i], buf, sizeof(buf)));
		fprintf(f, " }\n");
	}
	fprintf(f, "\t}\n");
	*nelems += l->n;
}

struct nft_side {
	struct xaddrs a;
	bool set[2]; /* a named set per family (one with elements) */
};

/* The protocol and port part of a rule line. */
static void print_l4(FILE *f, const struct crule *r)
{
	char buf[16];

	switch (r->proto) {
	case AMLG_PROTO_TCP:
		fprintf(f, " meta l4proto tcp");
		break;
	case AMLG_PROTO_UDP:
		fprintf(f, " meta l4proto udp");
		break;
	case AMLG_PROTO_ICMP:
		fprintf(f, " meta l4proto icmp");
		return;
	case AMLG_PROTO_ICMPV6:
		fprintf(f, " meta l4proto ipv6-icmp");
		return;
	default:
		if (!r->nports)
			return;
		fprintf(f, " meta l4proto { tcp, udp }");
		break;
	}
	if (!r->nports)
		return;
	fprintf(f, " th dport {");
	for (size_t i = 0; i < r->nports; i++) {
		export_port_str(&r->ports[i], buf, sizeof(buf));
		fprintf(f, "%s%s", i ? ", " : " ", buf);
	}
	fprintf(f, " }");
}

static void comment(const struct crule *r, char *buf, size_t sz)
{
	/* nft strings cannot hold '"'. */
	snprintf(buf, sz, "%.47s %.79s", r->flow[0] ? r->flow : "-", r->origin);
	for (char *p = buf; *p; p++)
		if (*p == '"' || *p == '\\')
			*p = '\'';
}

int export_nft(struct export_ctx *x, FILE *f, size_t *nrules, size_t *nelems)
{
	const char *chain_name[AMLG_DIRS] = { [AMLG_DIR_OUT] = "output", [AMLG_DIR_IN] = "input" };
	const char *fam_kw[2] = { "ip", "ip6" };
	struct nft_side *sides;
	bool enforce = x->c->mode == AMLG_MODE_ENFORCE;
	int err = 0;

	*nrules = *nelems = 0;
	sides = calloc(x->c->nrules * 2 + 1, sizeof(*sides));
	if (!sides)
		return -ENOMEM;
	fprintf(f,
		"#!/usr/sbin/nft -f\n"
		"# amlguard export --format nft: %s (mode %s)\n"
		"# The same allow-list as the eBPF datapath, for hosts without it.  Load with\n"
		"# 'nft -f FILE'; it replaces the table inet amlguard and nothing else.\n"
		"table inet amlguard\ndelete table inet amlguard\n\ntable inet amlguard {\n",
		x->c->path, enforce ? "enforce" : "audit");
	for (size_t i = 0; i < x->c->nrules && !err; i++) {
		const struct crule *r = &x->c->rules[i];

		for (int s = 0; s < 2 && !err; s++) {
			struct nft_side *sd = &sides[2 * i + s];
			uint8_t side = s ? AMLG_SIDE_LOCAL : AMLG_SIDE_REMOTE;

			err = xaddrs_get(x, r, side, true, &sd->a);
			if (err)
				break;
			for (int fam = 0; fam < 2 && !sd->a.any; fam++) {
				char name[64];

				if (!sd->a.pfx[fam].n)
					continue;
				snprintf(name, sizeof(name), "r%zu_%s%d", i, s ? "local" : "remote",
					 fam ? 6 : 4);
				print_set(f, name, fam ? 6 : 4, &sd->a.pfx[fam], nelems);
				sd->set[fam] = true;
			}
		}
		for (size_t k = 0; k < r->nres && !err; k++)
			if (r->res[k].kind == EP_HOST)
				err = export_gap(x, r, true, r->res[k].text,
						 "nftables matches addresses, not names or "
						 "TLS server names (SNI)");
		for (size_t k = 0; k < r->nres && !err; k++)
			if (r->res[k].kind == EP_TAG && !r->res[k].pfx.n)
				err = export_gap(x, r, false, r->res[k].text,
						 "resolved to no prefix: the rule allows nothing");
	}
	for (uint8_t d = AMLG_DIRS; d-- > 0 && !err;) {
		fprintf(f,
			"\n\tchain %s {\n\t\ttype filter hook %s priority filter; policy %s;\n"
			"\t\tct state established,related accept\n",
			chain_name[d], chain_name[d], enforce ? "drop" : "accept");
		fprintf(f, "\t\t%s \"lo\" accept\n", d == AMLG_DIR_IN ? "iifname" : "oifname");
		fprintf(f, "\t\ticmpv6 type { nd-router-solicit, nd-router-advert, "
			   "nd-neighbor-solicit, nd-neighbor-advert, nd-redirect, "
			   "mld-listener-query, mld-listener-report, mld-listener-done, "
			   "mld2-listener-report } accept\n");
		for (size_t i = 0; i < x->c->nrules; i++) {
			const struct crule *r = &x->c->rules[i];
			const struct nft_side *rem = &sides[2 * i], *loc = &sides[2 * i + 1];
			const char *raddr = d == AMLG_DIR_OUT ? "daddr" : "saddr";
			const char *laddr = d == AMLG_DIR_OUT ? "saddr" : "daddr";
			char cm[NFT_COMMENT_MAX + 1];

			if (r->dir != d)
				continue;
			comment(r, cm, sizeof(cm));
			for (int fam = 0; fam < 3; fam++) {
				bool rs = !rem->a.any, ls = !loc->a.any;
				size_t blen = 0;
				char *buf = NULL;
				FILE *l;

				/* fam 2: a rule that neither side restricts, written once */
				if (fam == 2 ? (rs || ls) : (!rs && !ls))
					continue;
				if (fam < 2 &&
				    ((r->proto == AMLG_PROTO_ICMP && fam == 1) ||
				     (r->proto == AMLG_PROTO_ICMPV6 && fam == 0) ||
				     (rs && !rem->a.pfx[fam].n) || (ls && !loc->a.pfx[fam].n)))
					continue;
				l = open_memstream(&buf, &blen);
				if (!l) {
					err = -ENOMEM;
					break;
				}
				if (rs)
					fprintf(l, " %s %s @r%zu_remote%d", fam_kw[fam], raddr, i,
						fam ? 6 : 4);
				if (ls)
					fprintf(l, " %s %s @r%zu_local%d", fam_kw[fam], laddr, i,
						fam ? 6 : 4);
				print_l4(l, r);
				fprintf(l, " counter accept comment \"%s\"", cm);
				fclose(l);
				fprintf(f, "\t\t%s\n", buf + 1);
				free(buf);
				(*nrules)++;
			}
		}
		if (enforce)
			fprintf(f, "\t\tcounter %sdrop comment \"amlguard: not allowed\"\n",
				x->o->log_rest ? "log prefix \"amlguard-drop: \" " : "");
		else
			fprintf(f, "\t\tcounter log prefix \"amlguard-audit: \" accept comment "
				   "\"amlguard: not allowed\"\n");
		fprintf(f, "\t}\n");
	}
	fprintf(f, "}\n");
	for (size_t i = 0; i < x->c->nrules * 2; i++)
		xaddrs_free(&sides[i].a);
	free(sides);
	if (!err && (ferror(f) || fflush(f)))
		err = -EIO;
	return err;
}
