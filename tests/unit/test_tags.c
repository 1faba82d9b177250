// SPDX-License-Identifier: GPL-2.0-only
/*
 * Service tags (user/compile/tags*.c, user/base/prefix_set.c, user/azure/udr.c): the loader checked against
 * Python's own json parse of the files, lookups (case, whole names, regions, aliases),
 * suggestions for unknown names, broken files, the az CLI's output shape, gzip, the resolver
 * inside the compiler, diffs between the weekly files and the UDR list.  The file-based cases
 * run on the files the build generates in Microsoft's format (tests/tools/gentags.py), and
 * once more on Microsoft's real files when they are there.
 */
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "compile/compile.h"
#include "base/prefix_set.h"
#include "compile/tags.h"
#include "compile/tags_diff.h"
#include "azure/udr.h"
#include "tmpdir.h"

#define GEN AMLG_GEN_TAGS_DIR "/"
#define REAL AMLG_SHARED_DIR "/data/servicetags/"

/* One set of files in Microsoft's format, and what the tests know about them. */
struct fileset {
	const char *name;
	/* an old and a middle Public file, the newest one, Gov, a newer Gov, China */
	const char *files[6];
	unsigned pub_change;
	const char *pub_date, *old_date;
	size_t storage_we_n4; /* IPv4 prefixes of Storage.WestEurope, merged */
};

static const struct fileset generated = {
	"generated",
	{ GEN "ServiceTags_Public_20260601.json", GEN "ServiceTags_Public_20260601.json",
	  GEN "ServiceTags_Public_20261130.json", GEN "ServiceTags_AzureGovernment_20261130.json",
	  GEN "ServiceTags_AzureGovernment_20261130.json", GEN "ServiceTags_China_20261130.json" },
	402,
	"20261130",
	"20260601",
	1,
};

static const struct fileset microsoft = {
	"Microsoft's",
	{ REAL "ServiceTags_Public_20210106.json", REAL "ServiceTags_Public_20241229.json",
	  REAL "ServiceTags_Public_20251020.json", REAL "ServiceTags_AzureGovernment_20251020.json",
	  REAL "ServiceTags_AzureGovernment_20260719.json",
	  REAL "ServiceTags_China_20251020.json" },
	374,
	"20251020",
	"20210106",
	97,
};

static const struct fileset *fs = &generated;
#define NFILES (sizeof(fs->files) / sizeof(fs->files[0]))
#define PUB21 (fs->files[0])
#define PUB24 (fs->files[1])
#define PUB25 (fs->files[2])
#define GOV25 (fs->files[3])
#define CHINA25 (fs->files[5])

static char tmpdir[] = "/tmp/amlg-tags-XXXXXX";

/* One database per file, loaded once: Microsoft's Public file alone is 4 MB. */
static struct tag_db *dbs[6];

static struct tag_db *db_of(const char *path)
{
	for (size_t i = 0; i < NFILES; i++)
		if (!strcmp(fs->files[i], path))
			return dbs[i];
	fail_msg("no such test file %s", path);
	return NULL;
}

static int load_set(const struct fileset *set)
{
	struct tag_error e;

	fs = set;
	for (size_t i = 0; i < NFILES; i++) {
		if (tags_load(fs->files[i], &dbs[i], &e)) {
			print_message("%s: %s\n", fs->files[i], e.msg);
			return -1;
		}
	}
	print_message("service-tag files: %s (%s)\n", fs->name, fs->files[2]);
	return 0;
}

static int setup(void **state)
{
	if (!mkdtemp(tmpdir))
		return -1;
	return load_set(&generated);
}

static void free_set(void)
{
	for (size_t i = 0; i < NFILES; i++) {
		tags_free(dbs[i]);
		dbs[i] = NULL;
	}
}

static int setup_microsoft(void **state)
{
	free_set();
	return load_set(&microsoft);
}

static int teardown(void **state)
{
	free_set();
	return tmpdir_remove(tmpdir);
}

static int teardown_microsoft(void **state)
{
	free_set();
	return 0;
}

static char *write_tmp(const char *name, const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* ---- the loader against Python's json module */

/*
 * Python prints: values, IPv4 prefixes, IPv6 prefixes, changeNumber, cloud and the SHA-256 of
 * every "name<TAB>prefix" line, sorted.  The loader must agree on all of it, so every prefix
 * of every tag, IPv6 included, was read exactly as published.
 */
static const char py_count[] =
	"python3 -c 'import json, sys, hashlib\n"
	"d = json.load(open(sys.argv[1]))\n"
	"v = d[\"values\"]\n"
	"p = [(e[\"name\"], x) for e in v for x in e[\"properties\"][\"addressPrefixes\"]]\n"
	"s = \"\".join(sorted(n + \"\\t\" + x + \"\\n\" for n, x in p))\n"
	"print(len(v), sum(\":\" not in x for n, x in p), sum(\":\" in x for n, x in p),\n"
	"      d[\"changeNumber\"], d[\"cloud\"], hashlib.sha256(s.encode()).hexdigest())' ";

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void db_digest(const struct tag_db *db, char hex[65])
{
	size_t n = db->n4 + db->n6, k = 0;
	char **lines = calloc(n + 1, sizeof(*lines)), buf[PREFIX_STRLEN];
	unsigned char md[32];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	assert_non_null(lines);
	for (size_t i = 0; i < db->n; i++)
		for (size_t j = 0; j < db->v[i].npfx; j++)
			assert_true(asprintf(&lines[k++], "%s\t%s\n", db->v[i].name,
					     prefix_str(&db->v[i].pfx[j], buf, sizeof(buf))) > 0);
	assert_int_equal(k, n);
	qsort(lines, n, sizeof(*lines), cmp_str);
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (size_t i = 0; i < n; i++) {
		EVP_DigestUpdate(ctx, lines[i], strlen(lines[i]));
		free(lines[i]);
	}
	EVP_DigestFinal_ex(ctx, md, NULL);
	EVP_MD_CTX_free(ctx);
	free(lines);
	for (int i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", md[i]);
}

static void test_counts_match_python(void **state)
{
	if (system("python3 -c pass 2>/dev/null")) {
		print_message("no python3: skipped\n");
		skip();
	}
	for (size_t i = 0; i < NFILES; i++) {
		char cmd[1024], cloud[64], want[65], got[65];
		unsigned long nv, n4, n6, change;
		FILE *p;

		snprintf(cmd, sizeof(cmd), "%s'%s'", py_count, fs->files[i]);
		p = popen(cmd, "r");
		assert_non_null(p);
		assert_int_equal(fscanf(p, "%lu %lu %lu %lu %63s %64s", &nv, &n4, &n6, &change,
					cloud, want),
				 6);
		while (fgetc(p) != EOF)
			;
		assert_int_equal(pclose(p), 0);
		db_digest(dbs[i], got);
		print_message("%s: %lu values, %lu IPv4 and %lu IPv6 prefixes, cloud %s, change "
			      "%lu\n",
			      strrchr(fs->files[i], '/') + 1, nv, n4, n6, cloud, change);
		assert_int_equal(dbs[i]->n, nv);
		assert_int_equal(dbs[i]->n4, n4);
		assert_int_equal(dbs[i]->n6, n6);
		assert_int_equal(dbs[i]->change, change);
		assert_string_equal(dbs[i]->cloud, cloud);
		assert_string_equal(got, want);
	}
}

static void test_file_identity(void **state)
{
	assert_string_equal(db_of(PUB25)->cloud, "Public");
	assert_int_equal(db_of(PUB25)->change, fs->pub_change);
	assert_string_equal(db_of(PUB25)->date, fs->pub_date);
	assert_string_equal(db_of(GOV25)->cloud, "AzureGovernment");
	assert_string_equal(db_of(CHINA25)->cloud, "China");
	assert_string_equal(db_of(PUB21)->date, fs->old_date);
}

/* ---- lookups */

static const struct tag_entry *must(const struct tag_db *db, const char *name, const char *pub,
				    bool want_alias)
{
	const struct tag_entry *e;
	bool alias = !want_alias;

	e = tags_lookup(db, name, &alias);
	if (!e)
		fail_msg("%s not found", name);
	assert_string_equal(e->name, pub);
	assert_int_equal(alias, want_alias);
	return e;
}

static void test_case_insensitive(void **state)
{
	const struct tag_db *db;

	db = db_of(PUB25);
	must(db, "AzureFrontDoor.FrontEnd", "AzureFrontDoor.Frontend", false);
	must(db, "azurefrontdoor.frontend", "AzureFrontDoor.Frontend", false);
	must(db, "Storage.eastus2", "Storage.EastUS2", false);
	must(db, "AzureCloud.EASTUS2", "AzureCloud.eastus2", false);
	must(db, "STORAGE", "Storage", false);
}

static void test_whole_names(void **state)
{
	const struct tag_entry *aml, *inf;
	const struct tag_db *db;
	bool alias;

	db = db_of(PUB25);
	aml = must(db, "AzureMachineLearning", "AzureMachineLearning", false);
	inf = must(db, "AzureMachineLearningInference", "AzureMachineLearningInference", false);
	assert_ptr_not_equal(aml, inf);
	assert_null(tags_lookup(db, "AzureMachineLearn", &alias));
	assert_null(tags_lookup(db, "AzureMachineLearning.", &alias));
	assert_null(tags_lookup(db, "Storage.EastUS2x", &alias));
	assert_null(tags_lookup(db, "Storag", &alias));
}

/* Every prefix of a regional tag lies inside the global tag: the regional subset. */
static void test_regional_subsets(void **state)
{
	static const char *const pairs[][2] = {
		{ "Storage.WestEurope", "Storage" },
		{ "AzureMachineLearning.EastUS2", "AzureMachineLearning" },
		{ "BatchNodeManagement.EastUS2", "BatchNodeManagement" },
		{ "AzureKeyVault.WestEurope", "AzureKeyVault" },
	};
	const struct tag_db *db;

	db = db_of(PUB25);
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		struct prefix_list reg = { 0 }, all = { 0 }, rest = { 0 };
		const struct tag_entry *r = must(db, pairs[i][0], pairs[i][0], false);
		const struct tag_entry *g = must(db, pairs[i][1], pairs[i][1], false);

		assert_true(r->npfx > 0 && r->npfx < g->npfx);
		assert_int_equal(tags_prefixes(r, &reg), 0);
		assert_int_equal(tags_prefixes(g, &all), 0);
		assert_int_equal(prefix_list_subtract(&reg, &all, &rest), 0);
		assert_int_equal(rest.n, 0);
		assert_true(r->region[0] != '\0');
		assert_string_equal(g->region, "");
		prefix_list_free(&reg);
		prefix_list_free(&all);
		prefix_list_free(&rest);
	}
}

static void test_aliases(void **state)
{
	const struct tag_db *db;

	db = db_of(PUB25);
	must(db, "Keyvault.EastUS2", "AzureKeyVault.EastUS2", true);
	must(db, "keyvault.eastus2", "AzureKeyVault.EastUS2", true);
	must(db, "ContainerRegistry.WestEurope", "AzureContainerRegistry.WestEurope", true);
	must(db, "ContainerRegistry", "AzureContainerRegistry", true);
	must(db, "AzureKeyVault.EastUS2", "AzureKeyVault.EastUS2", false);
	/* MicrosoftContainerRegistry is its own tag, not an alias of anything. */
	must(db, "MicrosoftContainerRegistry", "MicrosoftContainerRegistry", false);
	must(db_of(GOV25), "Keyvault.USGovVirginia", "AzureKeyVault.USGovVirginia", true);
	must(db_of(CHINA25), "ContainerRegistry.ChinaEast2", "AzureContainerRegistry.ChinaEast2",
	     true);
}

static void explain(const struct tag_db *db, const char *name, const char *msg_has,
		    const char *hint_has)
{
	char msg[512], hint[512];

	tags_explain_unknown(db, name, msg, sizeof(msg), hint, sizeof(hint));
	if (!strstr(msg, msg_has))
		fail_msg("%s: message '%s' lacks '%s'", name, msg, msg_has);
	if (!strstr(hint, hint_has))
		fail_msg("%s: hint '%s' lacks '%s'", name, hint, hint_has);
}

static void test_unknown_names(void **state)
{
	explain(db_of(PUB25), "AzureMachineLearnin", "unknown service tag 'AzureMachineLearnin'",
		"did you mean 'AzureMachineLearning'?");
	/* a region no tag has: the region is what is wrong, said the same for every tag */
	explain(db_of(PUB25), "Storage.WestEuropa", "has the region 'WestEuropa'",
		"did you mean the region 'WestEurope'?");
	/* An unknown region of an alias: a mistyped digit is nearer than a missing one. */
	explain(db_of(PUB25), "Keyvault.EastUS3", "has the region 'EastUS3'",
		"did you mean the region 'EastUS2'?");
	/* A sub-tag the cloud lacks: the other parts are listed, nothing far-fetched offered. */
	explain(db_of(GOV25), "AzureFrontDoor.FirstParty", "(cloud AzureGovernment)",
		"Backend, Frontend, MicrosoftSecurity");
	explain(db_of(CHINA25), "AzureMachineLearning.EastUS2",
		"(cloud China) has the region 'EastUS2'", "ChinaEast");
	explain(db_of(PUB25), "NoSuchTagAtAll", "unknown service tag", "amlguard tags list");
}

static void test_ipv6_and_merge(void **state)
{
	struct prefix_list l = { 0 };
	const struct tag_entry *e;
	char buf[PREFIX_STRLEN];
	size_t n6 = 0;

	e = must(db_of(PUB25), "AzureKeyVault.WestEurope", "AzureKeyVault.WestEurope", false);
	assert_true(e->n6 > 0);
	assert_int_equal(tags_prefixes(e, &l), 0);
	for (size_t i = 0; i < l.n; i++) {
		n6 += l.v[i].family == 6;
		if (i)
			assert_true(prefix_cmp(&l.v[i - 1], &l.v[i]) < 0);
	}
	assert_true(n6 > 0);
	prefix_str(&e->pfx[e->npfx - 1], buf, sizeof(buf));
	assert_non_null(strchr(buf, ':'));
	prefix_list_free(&l);
}

/* ---- files that are not right */

#define ANY_LINE UINT32_MAX

static void expect_bad(const char *name, const char *text, const char *has, unsigned line)
{
	struct tag_db *keep = (struct tag_db *)&keep; /* a previous state that must survive */
	struct tag_db *db = keep;
	struct tag_error e;
	char *path = write_tmp(name, text);

	assert_int_equal(tags_load(path, &db, &e), -EINVAL);
	assert_ptr_equal(db, keep);
	if (!strstr(e.msg, has))
		fail_msg("%s: '%s' lacks '%s'", name, e.msg, has);
	if (line == ANY_LINE)
		assert_true(e.line > 0 && e.col > 0);
	else
		assert_int_equal(e.line, line);
}

#define GOOD_ENTRY                                                                         \
	"{\"name\": \"Storage\", \"id\": \"Storage\", \"properties\": {\"changeNumber\": " \
	"1, \"region\": \"\", \"regionId\": 0, \"platform\": \"Azure\", "                  \
	"\"systemService\": \"AzureStorage\", \"addressPrefixes\": [\"10.0.0.0/25\", "     \
	"\"10.0.0.128/25\", \"10.0.0.0/24\", \"2001:db8::/33\", \"2001:db8:8000::/33\"], " \
	"\"networkFeatures\": null}}"

static void test_broken_files(void **state)
{
	struct tag_db *db = NULL;
	struct tag_error e;
	char *text;
	FILE *f;
	size_t len;

	expect_bad("syntax.json",
		   "{\"changeNumber\": 1,\n \"cloud\": \"Public\",\n \"values\": [,]}",
		   "invalid JSON", 3);
	expect_bad("shape.json", "{\"changeNumber\": 1, \"cloud\": \"Public\", \"values\": 3}",
		   "no \"values\" list", 0);
	expect_bad("nocloud.json", "{\"changeNumber\": 1, \"values\": []}", "no \"cloud\"", 0);
	expect_bad("nochange.json", "{\"cloud\": \"Public\", \"values\": []}", "changeNumber", 0);
	expect_bad("prefix.json",
		   "{\"changeNumber\": 1, \"cloud\": \"Public\", \"values\": [{\"name\": \"X\", "
		   "\"properties\": {\"addressPrefixes\": [\"10.0.0.0/8\", \"1.2.3.4/33\"]}}]}",
		   "values[0] (X): addressPrefixes[1]: '1.2.3.4/33' is not an IP prefix", 0);
	expect_bad("hostbits.json",
		   "{\"changeNumber\": 1, \"cloud\": \"Public\", \"values\": [{\"name\": \"X\", "
		   "\"properties\": {\"addressPrefixes\": [\"10.0.0.1/8\"]}}]}",
		   "has host bits set", 0);
	expect_bad("dup.json",
		   "{\"changeNumber\": 1, \"cloud\": \"Public\", \"values\": [" GOOD_ENTRY
		   ", {\"name\": \"storage\", \"properties\": {\"addressPrefixes\": []}}]}",
		   "names must differ in more than case", 0);
	expect_bad("features.json",
		   "{\"changeNumber\": 1, \"cloud\": \"Public\", \"values\": [{\"name\": \"X\", "
		   "\"properties\": {\"addressPrefixes\": [], \"networkFeatures\": 3}}]}",
		   "networkFeatures", 0);
	expect_bad("empty.json", "", "invalid JSON", 1);
	/* The Public file cut in the middle: jansson says where it ended. */
	f = fopen(PUB25, "r");
	assert_non_null(f);
	text = calloc(1, 200001);
	len = fread(text, 1, 200000, f);
	fclose(f);
	assert_true(len > 1000);
	text[len / 2] = '\0';
	expect_bad("ServiceTags_Public_20251020.json", text, "invalid JSON", ANY_LINE);
	free(text);
	assert_int_equal(tags_load(tmpdir, &db, &e), -EISDIR);
	assert_null(db);
	assert_int_equal(tags_load("/nonexistent/ServiceTags.json", &db, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "No such file"));
}

/* ---- the other shapes: az CLI output, gzip, a byte-order mark */

/* "az network list-service-tags --location westeurope -o json": strings for changeNumber. */
static const char az_output[] =
	"{\n  \"changeNumber\": \"374\",\n  \"cloud\": \"Public\",\n"
	"  \"id\": \"/subscriptions/0/providers/Microsoft.Network/serviceTags/Public\",\n"
	"  \"name\": \"Public\",\n  \"nextLink\": null,\n"
	"  \"type\": \"Microsoft.Network/serviceTags\",\n  \"values\": [\n"
	"    {\"id\": \"Storage.WestEurope\", \"name\": \"Storage.WestEurope\", \"properties\": {"
	"\"addressPrefixes\": [\"20.38.108.0/22\", \"2603:1020:206::/48\"], \"changeNumber\": "
	"\"31\", \"networkFeatures\": null, \"region\": \"westeurope\", \"regionId\": 18, "
	"\"state\": \"GA\", \"systemService\": \"AzureStorage\"}, \"serviceTagChangeNumber\": "
	"\"31\"}\n  ]\n}\n";

static void test_az_cli_shape(void **state)
{
	struct tag_db *db = NULL;
	struct tag_error e;
	const struct tag_entry *t;

	assert_int_equal(tags_load(write_tmp("az.json", az_output), &db, &e), 0);
	assert_int_equal(db->change, 374);
	assert_string_equal(db->cloud, "Public");
	assert_string_equal(db->date, "");
	t = must(db, "storage.westeurope", "Storage.WestEurope", false);
	assert_int_equal(t->change, 31);
	assert_int_equal(t->region_id, 18);
	assert_int_equal(t->n4, 1);
	assert_int_equal(t->n6, 1);
	tags_free(db);
}

static void test_gzip_and_bom(void **state)
{
	char path[256], text[2048];
	struct prefix_list l = { 0 };
	struct tag_db *db = NULL;
	struct tag_error e;
	char buf[PREFIX_STRLEN];
	gzFile gz;

	snprintf(text, sizeof(text),
		 "\xef\xbb\xbf{\"changeNumber\": 7, \"cloud\": \"China\", \"values\": [" GOOD_ENTRY
		 "]}");
	snprintf(path, sizeof(path), "%s/ServiceTags_China_20250101.json.gz", tmpdir);
	gz = gzopen(path, "wb");
	assert_non_null(gz);
	assert_int_equal(gzputs(gz, text), (int)strlen(text));
	gzclose(gz);
	assert_int_equal(tags_load(path, &db, &e), 0);
	assert_string_equal(db->cloud, "China");
	assert_string_equal(db->date, "20250101");
	assert_int_equal(db->n4, 3);
	assert_int_equal(db->n6, 2);
	/* Published as five prefixes; merged and de-duplicated they are two. */
	assert_int_equal(tags_prefixes(must(db, "Storage", "Storage", false), &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(prefix_str(&l.v[0], buf, sizeof(buf)), "10.0.0.0/24");
	assert_string_equal(prefix_str(&l.v[1], buf, sizeof(buf)), "2001:db8::/32");
	prefix_list_free(&l);
	tags_free(db);
	/* A gzip file cut short is an error too, not a shorter tag list. */
	snprintf(text, sizeof(text), "head -c 60 '%s' > '%s/cut.json.gz'", path, tmpdir);
	assert_int_equal(system(text), 0);
	snprintf(path, sizeof(path), "%s/cut.json.gz", tmpdir);
	db = NULL;
	assert_true(tags_load(path, &db, &e) < 0);
	assert_null(db);
}

/*
 * A small gzip that inflates to far more than any tag file, and one within the size bound
 * with more prefixes than any: both refused, and quickly, not after gigabytes.  A corrupt
 * stream says so, and a FIFO is refused at once.
 */
static void test_hostile_files(void **state)
{
	static const char head[] = "{\"changeNumber\":1,\"cloud\":\"Public\",\"values\":[{\"name\":"
				   "\"X\",\"properties\":{\"addressPrefixes\":[";
	char path[256], *blank = calloc(1, 1 << 20);
	struct tag_db *db = NULL;
	struct tag_error e;
	gzFile gz;
	FILE *f;

	assert_non_null(blank);
	memset(blank, ' ', 1 << 20);
	snprintf(path, sizeof(path), "%s/bomb.json.gz", tmpdir);
	gz = gzopen(path, "wb9");
	assert_non_null(gz);
	gzputs(gz, head);
	for (int i = 0; i < 40; i++)
		assert_int_equal(gzwrite(gz, blank, 1 << 20), 1 << 20);
	gzputs(gz, "]}}]}");
	gzclose(gz);
	assert_int_equal(tags_load(path, &db, &e), -EFBIG);
	assert_string_equal(e.msg, "larger than 32 MiB: not a service-tag file");
	free(blank);
	snprintf(path, sizeof(path), "%s/many.json.gz", tmpdir);
	gz = gzopen(path, "wb1");
	assert_non_null(gz);
	gzputs(gz, head);
	for (unsigned i = 0; i < 1000001; i++)
		gzprintf(gz, "%s\"10.%u.%u.%u/32\"", i ? "," : "", (i >> 16) & 255, (i >> 8) & 255,
			 i & 255);
	gzputs(gz, "]}}]}");
	gzclose(gz);
	assert_int_equal(tags_load(path, &db, &e), -EFBIG);
	assert_non_null(strstr(e.msg, "1000001 prefixes, more than 1000000"));
	snprintf(path, sizeof(path), "%s/corrupt.json.gz", tmpdir);
	f = fopen(path, "wb");
	assert_non_null(f);
	fwrite("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03garbagegarbage", 1, 24, f);
	fclose(f);
	assert_int_equal(tags_load(path, &db, &e), -EINVAL);
	assert_string_equal(e.msg, "corrupt gzip data: invalid block type");
	snprintf(path, sizeof(path), "%s/fifo.json", tmpdir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(tags_load(path, &db, &e), -EINVAL);
	assert_string_equal(e.msg, "cannot read it: it is a FIFO, not a regular file");
	assert_null(db);
}

/* Generated: a region no tag has, one another tag has, and the tie a mistyped digit makes. */
static void test_region_messages(void **state)
{
	static const char text[] =
		"{\"changeNumber\": 1, \"cloud\": \"Public\", \"values\": ["
		"{\"name\": \"Storage\", \"properties\": {\"addressPrefixes\": [\"10.0.0.0/24\"]}},"
		"{\"name\": \"Storage.EastUS\", \"properties\": {\"addressPrefixes\": [\"10.0.0.0/26\"]}},"
		"{\"name\": \"Storage.EastUS2\", \"properties\": {\"addressPrefixes\": [\"10.0.0.64/26\"]}},"
		"{\"name\": \"Sql\", \"properties\": {\"addressPrefixes\": [\"10.1.0.0/24\"]}},"
		"{\"name\": \"Sql.EastUS\", \"properties\": {\"addressPrefixes\": [\"10.1.0.0/26\"]}},"
		"{\"name\": \"Sql.WestUS\", \"properties\": {\"addressPrefixes\": [\"10.1.0.64/26\"]}}"
		"]}";
	char path[256], msg[512], hint[512];
	struct tag_db *db = NULL;
	struct tag_error e;
	FILE *f;

	snprintf(path, sizeof(path), "%s/regions.json", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(tags_load(path, &db, &e), 0);
	/* no tag has EastUS3: the same words for every tag, and the region it most likely is */
	tags_explain_unknown(db, "Storage.EastUS3", msg, sizeof(msg), hint, sizeof(hint));
	assert_non_null(strstr(msg, "(cloud Public) has the region 'EastUS3'"));
	assert_string_equal(hint, "did you mean the region 'EastUS2'?");
	tags_explain_unknown(db, "Sql.EastUS3", msg, sizeof(msg), hint, sizeof(hint));
	assert_non_null(strstr(msg, "(cloud Public) has the region 'EastUS3'"));
	assert_string_equal(hint, "did you mean the region 'EastUS'?");
	/* EastUS2 exists, just not for Sql */
	tags_explain_unknown(db, "Sql.EastUS2", msg, sizeof(msg), hint, sizeof(hint));
	assert_non_null(strstr(msg, "service tag 'Sql' has no region 'EastUS2'"));
	assert_string_equal(hint, "did you mean 'Sql.EastUS'?");
	tags_free(db);
}

/* ---- the resolver inside the compiler */

static struct compiled *compile_with(const char *text, const struct tag_db *db, struct diag *d,
				     struct policy **p)
{
	struct tag_resolver r;
	struct compile_opts o = { .mode = -1, .tags = &r };
	struct compiled *c = NULL;

	tags_resolver_init(&r, db);
	assert_int_equal(policy_parse_string("t.policy", text, NULL, 0, d, p), 0);
	if (compile_policy(*p, &o, d, &c))
		return NULL;
	tags_record(db, c);
	return c;
}

static void test_resolver(void **state)
{
	const struct tag_db *db;
	const struct crule *cr;
	struct compiled *c;
	struct policy *p = NULL;
	struct diag d;

	db = db_of(PUB25);
	diag_init(&d);
	c = compile_with("platform off\n"
			 "allow out tcp port 443 to { tag:Keyvault.westeurope, "
			 "tag:AzureFrontDoor.FrontEnd, tag:Storage.WestEurope } flow X\n",
			 db, &d, &p);
	assert_non_null(c);
	assert_int_equal(d.nerrors, 0);
	cr = compiled_rule(c, AMLG_RULE_ID(AMLG_DIR_OUT, 0));
	assert_int_equal(cr->nres, 3);
	assert_string_equal(cr->res[0].note, "alias of AzureKeyVault.WestEurope");
	assert_string_equal(cr->res[1].note, "as AzureFrontDoor.Frontend");
	assert_null(cr->res[2].note);
	assert_int_equal(cr->res[2].n4, fs->storage_we_n4); /* Storage.WestEurope, merged */
	assert_string_equal(c->tags_cloud, "Public");
	assert_int_equal(c->tags_change, fs->pub_change);
	assert_string_equal(c->tags_date, fs->pub_date);
	assert_string_equal(c->tags_file, PUB25);
	compiled_free(c);
	policy_free(p);
	diag_free(&d);

	diag_init(&d);
	p = NULL;
	c = compile_with("platform off\nallow out tcp to tag:Keyvault.Nowhere flow X\n", db, &d,
			 &p);
	assert_null(c);
	assert_int_equal(d.nerrors, 1);
	assert_int_equal(d.msgs[0].loc.line, 2);
	assert_int_equal(d.msgs[0].loc.col, 18);
	assert_non_null(strstr(d.msgs[0].msg, "has the region 'Nowhere'"));
	assert_non_null(d.msgs[0].hint);
	policy_free(p);
	diag_free(&d);
}

static void test_open_for_policy(void **state)
{
	struct tag_db *db = (struct tag_db *)1;
	struct policy *p = NULL;
	struct diag d;
	char path[256];

	write_tmp("broken.json", "{\"changeNumber\": 1,\n\"cloud\": \"Public\", \"values\": [\n");
	write_tmp("good.json",
		  "{\"changeNumber\": 9, \"cloud\": \"Public\", \"values\": [" GOOD_ENTRY "]}");
	/* The policy's own tags statement, relative to the policy's directory. */
	snprintf(path, sizeof(path), "%s",
		 write_tmp("p.policy", "tags \"good.json\"\nallow out tcp to tag:storage\n"));
	diag_init(&d);
	assert_int_equal(policy_load(path, NULL, 0, &d, &p), 0);
	assert_int_equal(tags_open_for_policy(NULL, p, &d, &db), 0);
	assert_int_equal(db->change, 9);
	tags_free(db);
	/* --tags overrides it; a broken file is an error at its JSON position. */
	assert_int_equal(tags_open_for_policy(write_tmp("broken2.json", "{\n\"x\":\n"), p, &d, &db),
			 -EINVAL);
	assert_null(db);
	assert_int_equal(d.nerrors, 1);
	assert_int_equal(d.msgs[0].loc.line, 3);
	assert_non_null(strstr(d.msgs[0].loc.file, "broken2.json"));
	assert_non_null(strstr(d.msgs[0].msg, "invalid JSON"));
	policy_free(p);
	diag_free(&d);
	/* No file anywhere: no resolver, not an error. */
	diag_init(&d);
	assert_int_equal(policy_parse_string("t", "allow out tcp to any\n", NULL, 0, &d, &p), 0);
	assert_int_equal(tags_open_for_policy(NULL, p, &d, &db), 0);
	assert_null(db);
	policy_free(p);
	diag_free(&d);
}

/* ---- diffs between the weekly files */

static bool same_set(const struct prefix_list *a, const struct prefix_list *b)
{
	struct prefix_list x = { 0 }, y = { 0 };
	bool same;

	assert_int_equal(prefix_list_subtract(a, b, &x), 0);
	assert_int_equal(prefix_list_subtract(b, a, &y), 0);
	same = !x.n && !y.n;
	prefix_list_free(&x);
	prefix_list_free(&y);
	return same;
}

static void test_diff(void **state)
{
	static const char *const names[] = { "AzureMachineLearning", "Keyvault.WestEurope",
					     "AzureFrontDoor.FirstParty", "NoSuchTag" };
	const struct tag_db *old, *new;
	struct tag_diff d;

	old = db_of(PUB21);
	new = db_of(PUB25);
	assert_int_equal(tags_diff(old, new, names, 4, &d), 0);
	assert_int_equal(d.n, 4);
	assert_non_null(d.v[0].old);
	assert_non_null(d.v[0].new);
	assert_true(d.v[0].added.n > 0);
	assert_null(d.v[3].old);
	assert_null(d.v[3].new);
	/* (old less removed) plus added is new, as address sets, for every compared tag. */
	for (size_t i = 0; i < 3; i++) {
		struct prefix_list o = { 0 }, n = { 0 }, kept = { 0 };

		assert_int_equal(tags_prefixes(d.v[i].old, &o), 0);
		assert_int_equal(tags_prefixes(d.v[i].new, &n), 0);
		assert_int_equal(prefix_list_subtract(&o, &d.v[i].removed, &kept), 0);
		assert_int_equal(prefix_list_append(&kept, &d.v[i].added), 0);
		assert_true(same_set(&kept, &n));
		prefix_list_free(&o);
		prefix_list_free(&n);
		prefix_list_free(&kept);
	}
	tags_diff_free(&d);
	/* Every tag: 2024 to 2025 adds whole tags, and a file compared with itself is unchanged. */
	assert_int_equal(tags_diff(db_of(PUB24), new, NULL, 0, &d), 0);
	assert_true(d.n >= new->n &&d.changed > 0);
	tags_diff_free(&d);
	assert_int_equal(tags_diff(new, new, NULL, 0, &d), 0);
	assert_int_equal(d.n, new->n);
	assert_int_equal(d.changed, 0);
	tags_diff_free(&d);
}

static void test_policy_names(void **state)
{
	const char **names;
	struct policy *p = NULL;
	struct diag d;
	size_t n;

	diag_init(&d);
	assert_int_equal(policy_parse_string("t",
					     "set s = { tag:Storage.$r, 10.0.0.0/8 }\n"
					     "allow out tcp to { @s, tag:storage.westeurope }\n"
					     "allow in tcp from tag:AzureMachineLearning to @s\n",
					     (struct var_def[]){ { "r", "WestEurope" } }, 1, &d,
					     &p),
			 0);
	assert_int_equal(tags_policy_names(p, &names, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "Storage.WestEurope");
	assert_string_equal(names[1], "AzureMachineLearning");
	free(names);
	policy_free(p);
	diag_free(&d);
}

/* ---- prefix set difference */

static void subtract_case(const char *a, const char *b, const char *want)
{
	struct prefix_list la = { 0 }, lb = { 0 }, out = { 0 };
	char got[1024] = "", buf[PREFIX_STRLEN], *dup, *save = NULL;
	struct prefix p;

	dup = strdup(a);
	for (char *t = strtok_r(dup, " ", &save); t; t = strtok_r(NULL, " ", &save))
		assert_int_equal(prefix_parse(t, &p, NULL) || prefix_list_add(&la, &p), 0);
	free(dup);
	dup = strdup(b);
	for (char *t = strtok_r(dup, " ", &save); t; t = strtok_r(NULL, " ", &save))
		assert_int_equal(prefix_parse(t, &p, NULL) || prefix_list_add(&lb, &p), 0);
	free(dup);
	assert_int_equal(prefix_list_subtract(&la, &lb, &out), 0);
	for (size_t i = 0; i < out.n; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", i ? " " : "",
			 prefix_str(&out.v[i], buf, sizeof(buf)));
	assert_string_equal(got, want);
	prefix_list_free(&la);
	prefix_list_free(&lb);
	prefix_list_free(&out);
}

static void test_subtract(void **state)
{
	subtract_case("10.0.0.0/24", "10.0.0.0/25", "10.0.0.128/25");
	subtract_case("10.0.0.0/24", "10.0.0.0/16", "");
	subtract_case("10.0.0.0/24", "10.0.0.0/24", "");
	subtract_case("10.0.0.0/24", "10.0.1.0/24 2001:db8::/32", "10.0.0.0/24");
	subtract_case("10.0.0.0/30", "10.0.0.1/32", "10.0.0.0/32 10.0.0.2/31");
	subtract_case("10.0.0.0/25 10.0.0.128/25", "10.0.0.64/26", "10.0.0.0/26 10.0.0.128/25");
	subtract_case("2001:db8::/32", "2001:db8::/33", "2001:db8:8000::/33");
	subtract_case("0.0.0.0/0", "128.0.0.0/1", "0.0.0.0/1");
	subtract_case("", "10.0.0.0/8", "");
}

static void test_has_addr(void **state)
{
	struct prefix_list l = { 0 };
	struct prefix p;
	uint8_t a[16] = { 10, 0, 1, 5 };

	assert_int_equal(prefix_parse("10.0.0.0/24", &p, NULL) || prefix_list_add(&l, &p), 0);
	assert_int_equal(prefix_parse("10.0.1.0/25", &p, NULL) || prefix_list_add(&l, &p), 0);
	prefix_list_merge(&l);
	assert_true(prefix_list_has_addr(&l, 4, a));
	a[3] = 200;
	assert_false(prefix_list_has_addr(&l, 4, a));
	a[2] = 0;
	assert_true(prefix_list_has_addr(&l, 4, a));
	assert_false(prefix_list_has_addr(&l, 6, a));
	prefix_list_free(&l);
}

/* ---- forced-tunneling routes */

static void test_udr(void **state)
{
	struct prefix_list batch = { 0 }, aml = { 0 }, all = { 0 }, v4 = { 0 }, routes = { 0 };
	char msg[256], hint[256];
	struct policy *p = NULL;
	struct udr_plan u;
	struct diag d;

	diag_init(&d);
	assert_int_equal(
		policy_parse_string("t",
				    "define region = WestEurope\n"
				    "allow in tcp port 29876 from tag:BatchNodeManagement\n"
				    "allow in tcp port 44224 from tag:AzureMachineLearning\n",
				    NULL, 0, &d, &p),
		0);
	assert_int_equal(udr_plan(p, db_of(PUB25), false, &u, msg, sizeof(msg), hint, sizeof(hint)),
			 0);
	assert_string_equal(u.tags[0], "BatchNodeManagement.WestEurope");
	assert_string_equal(u.tags[1], "AzureMachineLearning.WestEurope");
	assert_int_equal(tags_prefixes(tags_find(db_of(PUB25), u.tags[0]), &batch), 0);
	assert_int_equal(tags_prefixes(tags_find(db_of(PUB25), u.tags[1]), &aml), 0);
	assert_int_equal(prefix_list_append(&all, &batch) || prefix_list_append(&all, &aml), 0);
	prefix_list_merge(&all);
	assert_int_equal(u.n6, 0);
	assert_true(u.skipped6 > 0);
	for (size_t i = 0; i < u.n; i++) {
		assert_int_equal(u.v[i].pfx.family, 4);
		assert_true(strlen(u.v[i].name) <= 80);
		for (size_t j = 0; j < i; j++) {
			assert_string_not_equal(u.v[i].name, u.v[j].name);
			assert_int_not_equal(prefix_cmp(&u.v[i].pfx, &u.v[j].pfx), 0);
		}
	}
	/* Together the routes cover exactly the IPv4 addresses of both tags. */
	for (size_t i = 0; i < all.n; i++)
		if (all.v[i].family == 4)
			assert_int_equal(prefix_list_add(&v4, &all.v[i]), 0);
	for (size_t i = 0; i < u.n; i++)
		assert_int_equal(prefix_list_add(&routes, &u.v[i].pfx), 0);
	assert_true(same_set(&v4, &routes));
	udr_plan_free(&u);
	assert_int_equal(udr_plan(p, db_of(PUB25), true, &u, msg, sizeof(msg), hint, sizeof(hint)),
			 0);
	assert_true(u.n6 > 0);
	udr_plan_free(&u);
	/* The region must exist in the file's cloud. */
	assert_int_equal(udr_plan(p, db_of(CHINA25), false, &u, msg, sizeof(msg), hint,
				  sizeof(hint)),
			 -EINVAL);
	assert_non_null(strstr(msg, "region 'WestEurope'"));
	policy_free(p);
	diag_free(&d);
	prefix_list_free(&batch);
	prefix_list_free(&aml);
	prefix_list_free(&all);
	prefix_list_free(&v4);
	prefix_list_free(&routes);
}

/*
 * The awkward cases the generated files have on purpose: prefixes that overlap inside a tag,
 * a region with the tag but no prefixes (a rule on it alone matches nothing: an error unless
 * optional), the regional AzureCloud names in lower case, no FirstParty outside Public.
 */
static void test_generated_shapes(void **state)
{
	struct prefix_list l = { 0 };
	const struct tag_entry *e;
	struct compiled *c;
	struct policy *p = NULL;
	struct diag d;
	bool alias;

	e = must(db_of(PUB25), "Storage.EastUS2", "Storage.EastUS2", false);
	assert_int_equal(e->n4, 2);
	assert_int_equal(tags_prefixes(e, &l), 0);
	assert_int_equal(prefix_list_count(&l, 4), 1); /* the /24 lies inside the /20 */
	prefix_list_free(&l);
	e = must(db_of(PUB25), "AzureMonitor.WestEurope", "AzureMonitor.WestEurope", false);
	assert_int_equal(e->npfx, 0);
	assert_string_equal(e->region, "westeurope");
	must(db_of(GOV25), "AzureCloud.USGOVVIRGINIA", "AzureCloud.usgovvirginia", false);
	assert_null(tags_lookup(db_of(CHINA25), "AzureFrontDoor.FirstParty", &alias));
	diag_init(&d);
	c = compile_with("allow out tcp port 443 to tag:AzureMonitor.WestEurope flow X\n",
			 db_of(PUB25), &d, &p);
	assert_null(c);
	assert_true(d.nerrors >= 1);
	policy_free(p);
	diag_free(&d);
	diag_init(&d);
	p = NULL;
	c = compile_with("allow out tcp port 443 to tag:AzureMonitor.WestEurope flow X optional\n",
			 db_of(PUB25), &d, &p);
	assert_non_null(c);
	assert_int_equal(d.nerrors, 0);
	compiled_free(c);
	policy_free(p);
	diag_free(&d);
}

int main(void)
{
	/* every file-based case, on Microsoft's real files too when they are there */
	const struct CMUnitTest files[] = {
		cmocka_unit_test(test_counts_match_python),
		cmocka_unit_test(test_file_identity),
		cmocka_unit_test(test_case_insensitive),
		cmocka_unit_test(test_whole_names),
		cmocka_unit_test(test_regional_subsets),
		cmocka_unit_test(test_aliases),
		cmocka_unit_test(test_unknown_names),
		cmocka_unit_test(test_ipv6_and_merge),
		cmocka_unit_test(test_resolver),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_udr),
	};
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generated_shapes),
		cmocka_unit_test(test_counts_match_python),
		cmocka_unit_test(test_file_identity),
		cmocka_unit_test(test_case_insensitive),
		cmocka_unit_test(test_whole_names),
		cmocka_unit_test(test_regional_subsets),
		cmocka_unit_test(test_aliases),
		cmocka_unit_test(test_unknown_names),
		cmocka_unit_test(test_ipv6_and_merge),
		cmocka_unit_test(test_broken_files),
		cmocka_unit_test(test_az_cli_shape),
		cmocka_unit_test(test_gzip_and_bom),
		cmocka_unit_test(test_hostile_files),
		cmocka_unit_test(test_region_messages),
		cmocka_unit_test(test_resolver),
		cmocka_unit_test(test_open_for_policy),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_policy_names),
		cmocka_unit_test(test_subtract),
		cmocka_unit_test(test_has_addr),
		cmocka_unit_test(test_udr),
	};
	int failed = cmocka_run_group_tests_name("generated tag files", tests, setup, teardown);

	if (access(microsoft.files[2], R_OK)) {
		print_message("no %s: the extra run on Microsoft's files is left out\n",
			      microsoft.files[2]);
		return failed;
	}
	return failed + cmocka_run_group_tests_name("Microsoft's tag files", files, setup_microsoft,
						    teardown_microsoft);
}
