// SPDX-License-Identifier: GPL-2.0-only
/*
 * Service-tag resolution from Microsoft's "Azure IP Ranges and Service Tags" JSON, read with
 * jansson.  A stand-in for the project's resolver while it is being written: a tag item resolves
 * to the addressPrefixes of the value whose name matches it, case-insensitively (no aliases).
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <strings.h>

#include "bench.h"
#include "base/diag.h"

struct tagdb {
	json_t *root;
	json_t *values;
};

int tagdb_open(const char *path, struct tagdb **out)
{
	struct tagdb *db = calloc(1, sizeof(*db));
	json_error_t je;

	if (!db)
		return -ENOMEM;
	db->root = json_load_file(path, 0, &je);
	if (!db->root) {
		fprintf(stderr, "amlg-bench: error: %s:%d: %s\n", path, je.line, je.text);
		free(db);
		return -EINVAL;
	}
	db->values = json_object_get(db->root, "values");
	if (!json_is_array(db->values)) {
		fprintf(stderr, "amlg-bench: error: %s: no \"values\" array\n", path);
		tagdb_free(db);
		return -EINVAL;
	}
	*out = db;
	return 0;
}

void tagdb_free(struct tagdb *db)
{
	if (!db)
		return;
	json_decref(db->root);
	free(db);
}

static int resolve(void *ctx, const struct ep_item *item, struct prefix_list *out, char **note,
		   struct diag *d)
{
	struct tagdb *db = ctx;
	size_t i, j;
	json_t *v, *p;

	json_array_foreach(db->values, i, v) {
		const char *name = json_string_value(json_object_get(v, "name"));
		json_t *pfx = json_object_get(json_object_get(v, "properties"), "addressPrefixes");

		if (!name || strcasecmp(name, item->name))
			continue;
		json_array_foreach(pfx, j, p) {
			struct prefix x;

			if (!json_is_string(p) || prefix_parse_loose(json_string_value(p), &x))
				continue;
			if (prefix_list_add(out, &x))
				return -ENOMEM;
		}
		return 0;
	}
	(void)note;
	diag_error(d, item->loc, "service tag '%s' is not in the tag file", item->name);
	return -ENOENT;
}

void tagdb_resolver(struct tagdb *db, struct tag_resolver *r)
{
	r->resolve = resolve;
	r->ctx = db;
}
