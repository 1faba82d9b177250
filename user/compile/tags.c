// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reading a service-tag file: Microsoft's weekly download ({"changeNumber", "cloud", "values":
 * [{"name", "id", "properties": {...}}]}) or the output of "az network list-service-tags"
 * (the same plus "id", "name", "type" at the top, and changeNumber as a string).  The file may
 * be gzip-compressed.  Everything is checked: a tag file is the ground truth of an allow-list,
 * so a file that is not exactly what it should be is refused as a whole, never half-used.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "base/safe_io.h"
#include "compile/tags.h"

/*
 * Bounds, for a file of someone else's making (a gzip of 1 MB can inflate to gigabytes): the
 * 2025 Public file is 4 MB with 93 362 prefixes and takes 26 MB to load.  Eight times its size
 * keeps the parsed JSON within a few hundred MB whatever it holds; ten times its prefixes is
 * still far above any real file.
 */
#define TAGS_FILE_MAX (32u << 20)
#define TAGS_PREFIX_MAX 1000000u

static void set_error(struct tag_error *e, unsigned line, unsigned col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void set_error(struct tag_error *e, unsigned line, unsigned col, const char *fmt, ...)
{
	va_list ap;

	e->line = line;
	e->col = col;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

/* The whole file, decompressed when it is gzip (zlib reads plain files unchanged). */
static int read_file(const char *path, char **text, size_t *len, struct tag_error *e)
{
	size_t cap = 1 << 20, n = 0;
	char *buf = NULL, *nb, why[256];
	gzFile gz;
	int fd, r, err = 0;

	fd = open_input_regular(path, why, sizeof(why));
	if (fd < 0) {
		set_error(e, 0, 0, "cannot read it: %s", why);
		return fd;
	}
	gz = gzdopen(fd, "rb");
	if (!gz) {
		close(fd);
		set_error(e, 0, 0, "cannot read it: out of memory");
		return -ENOMEM;
	}
	for (;;) {
		if (!buf || n == cap) {
			cap = buf ? cap * 2 : cap;
			if (cap > TAGS_FILE_MAX) {
				set_error(e, 0, 0, "larger than %u MiB: not a service-tag file",
					  TAGS_FILE_MAX >> 20);
				err = -EFBIG;
				break;
			}
			nb = realloc(buf, cap + 1);
			if (!nb) {
				err = -ENOMEM;
				set_error(e, 0, 0, "cannot read it: out of memory");
				break;
			}
			buf = nb;
		}
		r = gzread(gz, buf + n, (unsigned)(cap - n));
		if (r < 0) {
			int zerr, saved = errno;
			const char *zwhy = gzerror(gz, &zerr), *p = strstr(zwhy, ">: ");

			/* zlib puts "<fd:3>: " in front of its reason */
			if (!strncmp(zwhy, "<fd:", 4) && p)
				zwhy = p + 3;
			if (zerr == Z_ERRNO)
				set_error(e, 0, 0, "cannot read it: %s", strerror(saved));
			else
				set_error(e, 0, 0, "corrupt gzip data: %s", zwhy);
			err = zerr == Z_ERRNO ? -saved : -EINVAL;
			break;
		}
		if (!r)
			break;
		n += (size_t)r;
	}
	gzclose(gz);
	if (err) {
		free(buf);
		return err;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

/* YYYYMMDD from "..._YYYYMMDD.json" (or .json.gz), when the name has a plausible date. */
static void date_from_name(const char *path, char date[TAGS_DATE_MAX])
{
	const char *base = strrchr(path, '/'), *p;

	date[0] = '\0';
	base = base ? base + 1 : path;
	for (p = base; *p; p++) {
		int y, m, d;

		if (p != base && isdigit((unsigned char)p[-1]))
			continue;
		if (strspn(p, "0123456789") != 8 || (p[8] && p[8] != '.'))
			continue;
		if (sscanf(p, "%4d%2d%2d", &y, &m, &d) != 3 || y < 2000 || y > 2199 || m < 1 ||
		    m > 12 || d < 1 || d > 31)
			continue;
		memcpy(date, p, 8);
		date[8] = '\0';
	}
}

/* changeNumber: a number in the download, a string of digits in the az CLI's output. */
static int get_change(const json_t *v, uint32_t *out)
{
	const char *s;
	char *end;
	unsigned long n;

	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0 || json_integer_value(v) > UINT32_MAX)
			return -EINVAL;
		*out = (uint32_t)json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v))
		return -EINVAL;
	s = json_string_value(v);
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno || *end || n > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)n;
	return 0;
}

/* An optional string member: "" when absent or null. */
static int opt_string(const json_t *obj, const char *key, char **out)
{
	const json_t *v = json_object_get(obj, key);

	if (v && !json_is_null(v) && !json_is_string(v))
		return -EINVAL;
	*out = strdup(v && json_is_string(v) ? json_string_value(v) : "");
	return *out ? 0 : -ENOMEM;
}

static int parse_prefixes(struct tag_entry *t, const json_t *arr, size_t idx, struct tag_error *e)
{
	size_t i;
	json_t *v;

	t->pfx = calloc(json_array_size(arr) + 1, sizeof(*t->pfx));
	if (!t->pfx) {
		set_error(e, 0, 0, "out of memory");
		return -ENOMEM;
	}
	json_array_foreach(arr, i, v) {
		struct prefix *p = &t->pfx[t->npfx];
		bool hostbits = false;

		if (!json_is_string(v) || prefix_parse(json_string_value(v), p, &hostbits)) {
			set_error(e, 0, 0, "values[%zu] (%s): addressPrefixes[%zu]: %s%s%s", idx,
				  t->name, i, json_is_string(v) ? "'" : "not a string",
				  json_is_string(v) ? json_string_value(v) : "",
				  json_is_string(v) ? (hostbits ? "' has host bits set" :
								  "' is not an IP prefix") :
						      "");
			return -EINVAL;
		}
		t->npfx++;
		if (p->family == 4)
			t->n4++;
		else
			t->n6++;
	}
	return 0;
}

static int parse_entry(struct tag_entry *t, const json_t *v, size_t idx, struct tag_error *e)
{
	const json_t *name = json_object_get(v, "name"), *props = json_object_get(v, "properties");
	const json_t *pfx, *rid, *chg, *nf;

	if (!json_is_object(v) || !json_is_string(name) || !json_string_length(name)) {
		set_error(e, 0, 0, "values[%zu]: not an object with a \"name\"", idx);
		return -EINVAL;
	}
	t->name = strdup(json_string_value(name));
	if (!t->name) {
		set_error(e, 0, 0, "out of memory");
		return -ENOMEM;
	}
	pfx = json_object_get(props, "addressPrefixes");
	if (!json_is_object(props) || !json_is_array(pfx)) {
		set_error(e, 0, 0, "values[%zu] (%s): no \"properties\" with \"addressPrefixes\"",
			  idx, t->name);
		return -EINVAL;
	}
	if (opt_string(props, "region", &t->region) ||
	    opt_string(props, "systemService", &t->service)) {
		set_error(e, 0, 0,
			  "values[%zu] (%s): \"region\" or \"systemService\" is not a string", idx,
			  t->name);
		return -EINVAL;
	}
	rid = json_object_get(props, "regionId");
	if (rid && !json_is_null(rid) &&
	    (!json_is_integer(rid) || json_integer_value(rid) < 0 ||
	     json_integer_value(rid) > UINT32_MAX)) {
		set_error(e, 0, 0, "values[%zu] (%s): \"regionId\" is not a number", idx, t->name);
		return -EINVAL;
	}
	t->region_id = rid && json_is_integer(rid) ? (uint32_t)json_integer_value(rid) : 0;
	chg = json_object_get(props, "changeNumber");
	if (chg && !json_is_null(chg) && get_change(chg, &t->change)) {
		set_error(e, 0, 0, "values[%zu] (%s): \"changeNumber\" is not a number", idx,
			  t->name);
		return -EINVAL;
	}
	/* Informational only, but a file where it is neither a list nor null is not Microsoft's. */
	nf = json_object_get(props, "networkFeatures");
	if (nf && !json_is_null(nf) && !json_is_array(nf)) {
		set_error(e, 0, 0,
			  "values[%zu] (%s): \"networkFeatures\" is neither a list nor null", idx,
			  t->name);
		return -EINVAL;
	}
	return parse_prefixes(t, pfx, idx, e);
}

static int cmp_entry(const void *a, const void *b)
{
	return strcasecmp(((const struct tag_entry *)a)->name, ((const struct tag_entry *)b)->name);
}

static int parse_root(struct tag_db *db, const json_t *root, struct tag_error *e)
{
	const json_t *values = json_object_get(root, "values"),
		     *cloud = json_object_get(root, "cloud"),
		     *chg = json_object_get(root, "changeNumber");
	size_t i;
	json_t *v;
	int err;

	if (!json_is_object(root) || !json_is_array(values)) {
		set_error(e, 0, 0, "no \"values\" list at the top: not a service-tag file");
		return -EINVAL;
	}
	if (!json_is_string(cloud) || !json_string_length(cloud) ||
	    json_string_length(cloud) >= sizeof(db->cloud)) {
		set_error(e, 0, 0,
			  "no \"cloud\" name at the top (\"Public\", \"AzureGovernment\", "
			  "\"China\")");
		return -EINVAL;
	}
	snprintf(db->cloud, sizeof(db->cloud), "%s", json_string_value(cloud));
	if (!chg || get_change(chg, &db->change)) {
		set_error(e, 0, 0, "no \"changeNumber\" at the top, or it is not a number");
		return -EINVAL;
	}
	{
		size_t total = 0;

		json_array_foreach(values, i, v) {
			const json_t *pv = json_object_get(json_object_get(v, "properties"),
							   "addressPrefixes");

			total += json_is_array(pv) ? json_array_size(pv) : 0;
		}
		if (total > TAGS_PREFIX_MAX) {
			set_error(e, 0, 0,
				  "%zu prefixes, more than %u: not a service-tag file (the "
				  "Public cloud's has about 100 000)",
				  total, TAGS_PREFIX_MAX);
			return -EFBIG;
		}
	}
	db->v = calloc(json_array_size(values) + 1, sizeof(*db->v));
	if (!db->v) {
		set_error(e, 0, 0, "out of memory");
		return -ENOMEM;
	}
	json_array_foreach(values, i, v) {
		err = parse_entry(&db->v[db->n], v, i, e);
		db->n++;
		if (err)
			return err;
		db->n4 += db->v[db->n - 1].n4;
		db->n6 += db->v[db->n - 1].n6;
	}
	qsort(db->v, db->n, sizeof(*db->v), cmp_entry);
	/* Two names that differ only in case would make a lookup ambiguous. */
	for (i = 1; i < db->n; i++) {
		if (!strcasecmp(db->v[i - 1].name, db->v[i].name)) {
			set_error(e, 0, 0,
				  "two tags named '%s' and '%s': names must differ in more "
				  "than case",
				  db->v[i - 1].name, db->v[i].name);
			return -EINVAL;
		}
	}
	return 0;
}

int tags_load(const char *path, struct tag_db **out, struct tag_error *e)
{
	struct tag_db *db = NULL;
	json_error_t jerr;
	json_t *root = NULL;
	char *text = NULL;
	size_t len = 0, skip = 0;
	int err;

	memset(e, 0, sizeof(*e));
	err = read_file(path, &text, &len, e);
	if (err)
		return err;
	/* A byte-order mark, as some downloads carry, is no part of the JSON. */
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		skip = 3;
	root = json_loadb(text + skip, len - skip, 0, &jerr);
	free(text);
	if (!root) {
		set_error(e, (unsigned)(jerr.line > 0 ? jerr.line : 0),
			  (unsigned)(jerr.column > 0 ? jerr.column : 0), "invalid JSON: %s",
			  jerr.text);
		return -EINVAL;
	}
	db = calloc(1, sizeof(*db));
	if (db)
		db->path = strdup(path);
	if (!db || !db->path) {
		set_error(e, 0, 0, "out of memory");
		err = -ENOMEM;
	} else {
		date_from_name(path, db->date);
		err = parse_root(db, root, e);
	}
	json_decref(root);
	if (err) {
		tags_free(db);
		return err;
	}
	*out = db;
	return 0;
}

void tags_free(struct tag_db *db)
{
	if (!db)
		return;
	for (size_t i = 0; i < db->n; i++) {
		free(db->v[i].name);
		free(db->v[i].region);
		free(db->v[i].service);
		free(db->v[i].pfx);
	}
	free(db->v);
	free(db->path);
	free(db);
}

const struct tag_entry *tags_find(const struct tag_db *db, const char *name)
{
	struct tag_entry key = { .name = (char *)name };

	if (!db || !db->n)
		return NULL;
	return bsearch(&key, db->v, db->n, sizeof(*db->v), cmp_entry);
}

int tags_prefixes(const struct tag_entry *e, struct prefix_list *out)
{
	struct prefix_list l = { 0 };
	int err = 0;

	if (!e->npfx)
		return 0;
	for (size_t i = 0; i < e->npfx && !err; i++)
		err = prefix_list_add(&l, &e->pfx[i]);
	if (!err) {
		prefix_list_merge(&l);
		err = prefix_list_append(out, &l);
	}
	prefix_list_free(&l);
	return err;
}

char *tags_describe(const struct tag_db *db, char *buf, size_t sz)
{
	snprintf(buf, sz, "%s (cloud %s, changeNumber %u%s%s)", db->path, db->cloud, db->change,
		 db->date[0] ? ", date " : "", db->date);
	return buf;
}
