// SPDX-License-Identifier: GPL-2.0-only
/* Policy text, parsed and compiled in one call. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/diag.h"
#include "cpolicy.h"

int compiled_policy_text(const char *name, const char *text, int mode,
			 const struct tag_resolver *tags, struct compiled_policy *cp)
{
	struct compile_opts o = { .mode = mode, .tags = tags };
	struct diag d;
	int err;

	memset(cp, 0, sizeof(*cp));
	diag_init(&d);
	err = policy_parse_string(name, text, NULL, 0, &d, &cp->p);
	if (!err)
		err = compile_policy(cp->p, &o, &d, &cp->c);
	if (err || diag_failed(&d)) {
		diag_print(&d, stderr);
		err = err ? err : -EINVAL;
	}
	diag_free(&d);
	return err;
}

void compiled_policy_free(struct compiled_policy *cp)
{
	compiled_free(cp->c);
	policy_free(cp->p);
	cp->c = NULL;
	cp->p = NULL;
}
