// SPDX-License-Identifier: GPL-2.0-only
/* Messages to stderr by level; libbpf's own messages one level quieter. */
#include <bpf/libbpf.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

static enum log_level level = LOGL_INFO;
static bool json_errors;

/* The tail of libbpf's output: a verifier log can be megabytes, the reason is at its end. */
#define TAIL_LINES 64
static char *tail[TAIL_LINES];
static unsigned tail_next, tail_count;
/* "check --threads" loads its instances in parallel: libbpf calls back from each thread. */
static pthread_mutex_t tail_lock = PTHREAD_MUTEX_INITIALIZER;

void log_set_level(enum log_level l)
{
	level = l;
}

enum log_level log_get_level(void)
{
	return level;
}

void log_set_json(bool json)
{
	json_errors = json;
}

static void vlog(const char *prefix, const char *fmt, va_list ap)
{
	fprintf(stderr, "amlguard: %s", prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void pr_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (json_errors) {
		char *msg = NULL;
		json_t *o;

		if (vasprintf(&msg, fmt, ap) >= 0) {
			o = json_pack("{s:s}", "error", msg);
			if (!o) {
				/* Not UTF-8 (a path from the command line): '?' beats no error. */
				for (char *c = msg; *c; c++)
					if ((unsigned char)*c >= 0x80)
						*c = '?';
				o = json_pack("{s:s}", "error", msg);
			}
			json_dumpf(o, stdout, JSON_COMPACT);
			fputc('\n', stdout);
			json_decref(o);
			free(msg);
		}
	} else {
		vlog("error: ", fmt, ap);
	}
	va_end(ap);
}

void pr_warn(const char *fmt, ...)
{
	va_list ap;

	if (level < LOGL_WARN)
		return;
	va_start(ap, fmt);
	vlog("warning: ", fmt, ap);
	va_end(ap);
}

void pr_info(const char *fmt, ...)
{
	va_list ap;

	if (level < LOGL_INFO)
		return;
	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void pr_debug(const char *fmt, ...)
{
	va_list ap;

	if (level < LOGL_DEBUG)
		return;
	va_start(ap, fmt);
	vlog("debug: ", fmt, ap);
	va_end(ap);
}

void pr_hint(const char *fmt, ...)
{
	va_list ap;

	if (json_errors)
		return;
	va_start(ap, fmt);
	fputs("  hint: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void tail_add(const char *line, size_t len)
{
	char *copy = strndup(line, len);

	if (!copy)
		return;
	free(tail[tail_next]);
	tail[tail_next] = copy;
	tail_next = (tail_next + 1) % TAIL_LINES;
	if (tail_count < TAIL_LINES)
		tail_count++;
}

static int libbpf_print(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	char *msg = NULL, *p, *nl;
	int n;

	n = vasprintf(&msg, fmt, ap);
	if (n < 0)
		return 0;
	pthread_mutex_lock(&tail_lock);
	for (p = msg; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl) {
			if (*p)
				tail_add(p, strlen(p));
			break;
		}
		if (nl > p)
			tail_add(p, (size_t)(nl - p));
	}
	pthread_mutex_unlock(&tail_lock);
	/* libbpf's warnings are our debug output: the caller reports the failure itself. */
	if (level >= LOGL_DEBUG || (lvl == LIBBPF_WARN && level > LOGL_DEBUG))
		fprintf(stderr, "libbpf: %s", msg);
	free(msg);
	return n;
}

void log_libbpf_init(void)
{
	libbpf_set_print(libbpf_print);
}

void log_libbpf_reset(void)
{
	pthread_mutex_lock(&tail_lock);
	for (unsigned i = 0; i < TAIL_LINES; i++) {
		free(tail[i]);
		tail[i] = NULL;
	}
	tail_next = tail_count = 0;
	pthread_mutex_unlock(&tail_lock);
}

void log_libbpf_print_tail(FILE *f, unsigned lines)
{
	unsigned n = lines < tail_count ? lines : tail_count;
	unsigned start = (tail_next + TAIL_LINES - n) % TAIL_LINES;

	for (unsigned i = 0; i < n; i++)
		fprintf(f, "  | %s\n", tail[(start + i) % TAIL_LINES]);
}
