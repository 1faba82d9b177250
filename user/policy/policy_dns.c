// SPDX-License-Identifier: GPL-2.0-only
/*
 * The statements that tune host rules:
 *
 *   resolver ADDRESS | { ADDRESS, ... }   trusted DNS servers (default: Azure DNS, 168.63.129.16);
 *                                         answers from any other server teach nothing
 *   dns ttl-floor SECONDS                 a learned address lives at least this long
 *   dns grace SECONDS                     and this much longer than its TTL
 *   sni require | allow-missing | off     ClientHello checks of flows that only a host rule allows
 *
 * Each may appear once across the policy and its includes ("resolver" once too: one list).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/amlguard_abi.h"
#include "policy_int.h"

static const char *const dns_settings[] = { "ttl-floor", "grace" };
static const char *const sni_modes[] = { "require", "allow-missing", "off" };

/* "'x' is already set" with a note at the first one; the statement is still parsed. */
static void already(struct pctx *c, const char *what, struct srcloc kw, struct srcloc first)
{
	diag_error(c->p->d, kw, "'%s' is already set", what);
	diag_hint(c->p->d, "'%s' may appear once across the policy and its includes", what);
	diag_note(c->p->d, first, "first set here");
	c->failed = true;
}

static int resolver_item(struct pctx *c, void *arg)
{
	struct policy *pol = c->p->pol;
	struct prefix p, *v;
	bool hostbits;

	if (c->tok.kind != T_WORD || !c->text)
		return pol_expected(c, "an IPv4 or IPv6 address", NULL);
	if (prefix_parse(c->text, &p, &hostbits) || p.len != prefix_bits(p.family)) {
		diag_error(c->p->d, c->tok.loc, "'%s' is not an address", c->text);
		diag_hint(c->p->d, "a resolver is one server: 168.63.129.16, or 2001:db8::53");
		return -EINVAL;
	}
	if (pol->nresolvers == AMLG_RESOLVERS_MAX) {
		diag_error(c->p->d, c->tok.loc, "more than %d resolvers", AMLG_RESOLVERS_MAX);
		return -EINVAL;
	}
	v = realloc(pol->resolvers, (pol->nresolvers + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	pol->resolvers = v;
	v[pol->nresolvers++] = p;
	return 0;
}

int pol_parse_resolver(struct pctx *c)
{
	struct policy *pol = c->p->pol;
	struct srcloc kw = c->tok.loc;
	int err;

	if (pol->nresolvers)
		already(c, "resolver", kw, pol->resolvers_loc);
	else
		pol->resolvers_loc = kw;
	err = pol_advance(c);
	if (err)
		return err;
	if (c->tok.kind == T_LBRACE) {
		err = pol_parse_list(c, resolver_item, NULL, "an address", false);
	} else {
		err = resolver_item(c, NULL);
		if (!err)
			err = pol_advance(c);
	}
	return err ? err : pol_expect_end(c);
}

/*
 * A number of seconds, 0 to one day.  Digits only: strtoul() alone would take "-0", a blank
 * from a variable, and negate "-18446744073709551615" into 1.
 */
static int parse_seconds(struct pctx *c, unsigned *out)
{
	char *end;
	unsigned long v;

	if (c->tok.kind != T_WORD || !c->text)
		return pol_expected(c, "a number of seconds", NULL);
	errno = 0;
	v = strtoul(c->text, &end, 10);
	if (!isdigit((unsigned char)c->text[0]) || errno || *end || v > 86400) {
		diag_error(c->p->d, c->tok.loc, "'%s' is not a number of seconds from 0 to 86400",
			   c->text);
		return -EINVAL;
	}
	*out = (unsigned)v;
	return 0;
}

int pol_parse_dns(struct pctx *c)
{
	struct policy *pol = c->p->pol;
	struct srcloc kw = c->tok.loc;
	unsigned v = 0;
	int err, which;

	err = pol_advance(c);
	if (err)
		return err;
	if (c->tok.kind != T_WORD || !c->text)
		return pol_expected(c, "'ttl-floor' or 'grace'", NULL);
	which = pol_lookup(c->text, dns_settings, 2);
	if (which < 0) {
		diag_error(c->p->d, c->tok.loc, "unknown dns setting '%s'", c->text);
		pol_hint_suggest(c, c->text, dns_settings, 2,
				 "the dns settings are ttl-floor and grace");
		return -EINVAL;
	}
	err = pol_advance(c);
	if (!err)
		err = parse_seconds(c, &v);
	if (err)
		return err;
	if (which == 0) {
		if (pol->ttl_floor_set)
			already(c, "dns ttl-floor", kw, pol->ttl_floor_loc);
		pol->dns_ttl_floor = v;
		pol->ttl_floor_set = true;
		pol->ttl_floor_loc = kw;
	} else {
		if (pol->grace_set)
			already(c, "dns grace", kw, pol->grace_loc);
		pol->dns_grace = v;
		pol->grace_set = true;
		pol->grace_loc = kw;
	}
	err = pol_advance(c);
	return err ? err : pol_expect_end(c);
}

int pol_parse_sni(struct pctx *c)
{
	struct policy *pol = c->p->pol;
	struct srcloc kw = c->tok.loc;
	int err, i;

	err = pol_advance(c);
	if (err)
		return err;
	if (c->tok.kind != T_WORD || !c->text)
		return pol_expected(c, "'require', 'allow-missing' or 'off'", NULL);
	i = pol_lookup(c->text, sni_modes, 3);
	if (i < 0) {
		diag_error(c->p->d, c->tok.loc, "unknown sni setting '%s'", c->text);
		pol_hint_suggest(c, c->text, sni_modes, 3, "sni is require, allow-missing or off");
		return -EINVAL;
	}
	if (pol->sni_set)
		already(c, "sni", kw, pol->sni_loc);
	pol->sni_mode = i == 0 ? AMLG_SNI_REQUIRE : i == 1 ? AMLG_SNI_ALLOW_MISSING : AMLG_SNI_OFF;
	pol->sni_set = true;
	pol->sni_loc = kw;
	err = pol_advance(c);
	return err ? err : pol_expect_end(c);
}
