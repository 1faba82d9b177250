// SPDX-License-Identifier: GPL-2.0-only
/*
 * The daemon's configuration: the first chunk of the input is read as the configuration file
 * (config_load()), the second parsed on top of it as a second layer, and the lines of the third
 * applied as command-line settings ("KEY=VALUE" global, "IFACE KEY=VALUE" for a section), then
 * config_check() and the diagnostics printed.  Whatever is accepted must be within the limits
 * the daemon relies on.
 */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/config.h"
#include "metrics/metrics_http.h"
#include "fuzz.h"
#include "base/log.h"

static void check_config(const struct config *c)
{
	char host[64];
	unsigned port;

	if (c->nifaces > CONFIG_MAX_IFACES || c->snaplen > AMLG_SNAP_MAX ||
	    c->alert_max_running < 1 || c->alert_max_running > 64 || c->alert_rate < 1 ||
	    c->alert_period_s < 1 || c->alert_timeout_s < 1 || c->metrics_interval_s < 1)
		fuzz_fail("a setting out of its range was accepted");
	if (c->metrics_listen &&
	    metrics_parse_listen(c->metrics_listen, host, sizeof(host), &port) != 0)
		fuzz_fail("metrics-listen '%s' was accepted but does not parse", c->metrics_listen);
	for (size_t i = 0; i < c->nifaces; i++) {
		const struct iface_conf *f = &c->ifaces[i];
		size_t n = strlen(f->name);

		if (!n || n >= IFNAMSIZ || strpbrk(f->name, "/ \t:"))
			fuzz_fail("interface name '%s' was accepted", f->name);
		if (f->nvars > PIPELINE_MAX_VARS || f->mode > 1 || f->role > 1 ||
		    (f->ct_size && (f->ct_size < 1024 || f->ct_size > 1u << 24)))
			fuzz_fail("interface '%s': a setting out of its range", f->name);
		for (size_t k = 0; k < f->nvars; k++)
			if (!f->vars[k].name || !f->vars[k].value)
				fuzz_fail("interface '%s': a variable without a name or value",
					  f->name);
	}
}

/* "KEY=VALUE" or "IFACE KEY=VALUE", as run's options set them. */
static void cli_layer(struct config *c, char *text, struct diag *d)
{
	const char *file = diag_intern(d, "command line");
	char *save = NULL, *line;
	unsigned n = 0;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' '), *eq = strchr(line, '='), *key = line, *sect = NULL;
		struct srcloc loc = { .file = file, .line = ++n, .col = 1, .len = 1 };

		if (!eq)
			continue;
		if (sp && sp < eq) {
			*sp = '\0';
			sect = line;
			key = sp + 1;
		}
		*eq = '\0';
		config_set(c, sect, key, eq + 1, loc, d);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_path("amlguard.conf");
	char *chunks[3];
	size_t lens[3], n = fuzz_split(data, size, chunks, lens, 3);
	struct config c;
	struct diag d;
	int err;

	log_set_level(LOGL_QUIET);
	config_init(&c);
	diag_init(&d);
	fuzz_write(path, chunks[0], lens[0]);
	err = config_load(&c, path, &d);
	if ((err == 0) == diag_failed(&d))
		fuzz_fail("config_load() returned %d with %zu errors", err, d.nerrors);
	if (n > 1)
		config_parse(&c, "layer.conf", chunks[1], NULL, &d);
	if (n > 2)
		cli_layer(&c, chunks[2], &d);
	config_check(&c, (struct srcloc){ 0 }, &d);
	check_config(&c);
	diag_print(&d, fuzz_null());
	free(diag_json(&d));
	diag_free(&d);
	config_free(&c);
	if (c.nifaces || c.log_file)
		fuzz_fail("config_free() left settings behind");
	fuzz_free_chunks(chunks, n);
	return 0;
}
