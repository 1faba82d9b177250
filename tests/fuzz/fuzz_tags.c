// SPDX-License-Identifier: GPL-2.0-only
/*
 * The service-tag loader: the input as a tag file (plain or gzip), then every query a policy
 * compile, "tags list/show/diff" and "udr" make of it.  A file is taken whole or refused with a
 * message; a loaded one must be sorted, its counts must add up and every tag must be found by
 * its own name.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "base/log.h"
#include "base/prefix.h"
#include "compile/tags.h"
#include "compile/tags_diff.h"

/* Names a policy would look up: published, aliases, case variants, near misses, regions. */
static const char *const queries[] = {
	"AzureMachineLearning",
	"azuremachinelearning",
	"Storage.EastUS2",
	"Storage.eastus2",
	"Storage.",
	".EastUS2",
	"ContainerRegistry",
	"Keyvault.WestEurope",
	"AzureFrontDoor.FrontEnd",
	"BatchNodeManagement.X",
	"",
	"A",
	"Storage.EastUS2.Extra",
};

static struct tag_db *reference;

static const char ref_json[] =
	"{\"changeNumber\": 1, \"cloud\": \"Public\", \"values\": ["
	"{\"name\": \"Storage\", \"properties\": {\"addressPrefixes\": [\"192.0.2.0/24\"]}},"
	"{\"name\": \"Storage.EastUS2\", \"properties\": {\"region\": \"eastus2\", "
	"\"addressPrefixes\": [\"192.0.2.0/25\", \"2001:db8::/32\"]}}]}";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct tag_error e;

	log_set_level(LOGL_QUIET);
	fuzz_write(fuzz_path("ServiceTags_Public_20250101.json"), ref_json, strlen(ref_json));
	if (tags_load(fuzz_path("ServiceTags_Public_20250101.json"), &reference, &e))
		fuzz_fail("the reference tag file: %s", e.msg);
	return 0;
}

static void check_db(const struct tag_db *db)
{
	size_t n4 = 0, n6 = 0;

	for (size_t i = 0; i < db->n; i++) {
		const struct tag_entry *t = &db->v[i];
		struct prefix_list l = { 0 };

		if (i && strcasecmp(db->v[i - 1].name, t->name) >= 0)
			fuzz_fail("tags not sorted or not distinct: '%s' then '%s'",
				  db->v[i - 1].name, t->name);
		if (tags_find(db, t->name) != t)
			fuzz_fail("tag '%s' is not found by its own name", t->name);
		if (t->n4 + t->n6 != t->npfx)
			fuzz_fail("tag '%s': %zu + %zu prefixes of %zu", t->name, t->n4, t->n6,
				  t->npfx);
		n4 += t->n4;
		n6 += t->n6;
		if (tags_prefixes(t, &l))
			fuzz_fail("tags_prefixes(%s) failed", t->name);
		if (t->npfx && !l.n)
			fuzz_fail("tag '%s': %zu prefixes merge to none", t->name, t->npfx);
		prefix_list_free(&l);
	}
	if (n4 != db->n4 || n6 != db->n6)
		fuzz_fail("prefix totals %zu/%zu, counted %zu/%zu", db->n4, db->n6, n4, n6);
}

static void query_db(const struct tag_db *db)
{
	const char *names[4] = { NULL };
	size_t nnames = 0;
	char msg[512], hint[512], desc[1024];
	struct tag_diff diff;
	bool alias;

	tags_describe(db, desc, sizeof(desc));
	for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		if (!tags_lookup(db, queries[i], &alias))
			tags_explain_unknown(db, queries[i], msg, sizeof(msg), hint, sizeof(hint));
	}
	/* names the file itself holds, as a policy would write them */
	for (size_t i = 0; i < db->n && i < 3; i++) {
		names[nnames++] = db->v[i].name;
		tags_explain_unknown(db, db->v[i].name, msg, sizeof(msg), hint, sizeof(hint));
	}
	if (tags_diff(reference, db, NULL, 0, &diff) == 0)
		tags_diff_free(&diff);
	if (tags_diff(db, reference, names, nnames, &diff) == 0)
		tags_diff_free(&diff);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a date in the name, as Microsoft names its downloads */
	const char *path = fuzz_path("ServiceTags_Public_20251020.json");
	struct tag_db *db = NULL;
	struct tag_error e;
	int err;

	fuzz_write(path, data, size);
	err = tags_load(path, &db, &e);
	if (err) {
		if (db || !e.msg[0])
			fuzz_fail("tags_load() failed (%d) without a message or left a result",
				  err);
		return 0;
	}
	if (!db || strcmp(db->date, "20251020"))
		fuzz_fail("tags_load() succeeded without a result or the file's date");
	check_db(db);
	query_db(db);
	tags_free(db);
	return 0;
}
