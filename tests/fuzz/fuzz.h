/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the fuzz targets: a private temporary directory, writing an input to a file,
 * splitting an input into NUL-terminated chunks, and a sink for everything a target prints.
 * Each target defines LLVMFuzzerTestOneInput() (and LLVMFuzzerInitialize() when it prepares
 * files); it is linked either with libFuzzer (the fuzz build) or with replay.c, which runs the
 * regression corpus in every build.
 */
#ifndef AMLG_FUZZ_H
#define AMLG_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Chunks of one input are separated by this line, so one input can hold several files. */
#define FUZZ_SEP "\n@@\n"
#define FUZZ_MAX_CHUNKS 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The target's own temporary directory, created on first use and removed at exit. */
const char *fuzz_tmpdir(void);
/* path = tmpdir/name; the buffer is static (one at a time). */
const char *fuzz_path(const char *name);
/* Write size bytes to path (truncating); aborts on failure, which is not the input's fault. */
void fuzz_write(const char *path, const void *data, size_t size);
/*
 * Split data at FUZZ_SEP into at most max malloc'd chunks, each NUL-terminated (an embedded NUL
 * ends its text early as a C string); lens (may be NULL) gets their whole lengths, for files.
 * Returns the number of chunks.
 */
size_t fuzz_split(const uint8_t *data, size_t size, char **chunks, size_t *lens, size_t max);
void fuzz_free_chunks(char **chunks, size_t n);
/* A stream to /dev/null for the printers, opened once. */
FILE *fuzz_null(void);
struct policy;
struct compiled;
/*
 * Parse and compile a policy the target carries in its text, quietly (the log level set to
 * quiet too); a policy that does not compile is the target's fault: its errors are printed and
 * the target aborts.
 */
void fuzz_compile(const char *name, const char *text, struct policy **p, struct compiled **c);
/* Abort with a message: an oracle of the target found a wrong result. */
void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
