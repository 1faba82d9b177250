/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Opening what other people may have prepared.  amlguard runs as root; the files it reads
 * (policies, site files, tag files, configurations) and the places it writes (logs, captures,
 * its own state) may sit in directories that others control.
 *
 *  - outputs never follow a symbolic link, never land in a directory that others can write
 *    (unless it is sticky and the file is ours), and never write through a hard link;
 *  - inputs that amlguard reads whole must be regular files: a FIFO would hang it;
 *  - its own directories (the pin root, the lock directory) are root's and nobody else's.
 *
 * Every function returns 0 (or a file descriptor) or -errno, with a sentence for the user in
 * why[] ("the directory /var/log/x is writable by others").
 */
#ifndef AMLG_BASE_SAFE_IO_H
#define AMLG_BASE_SAFE_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Open path for writing: flags are O_APPEND or O_TRUNC (O_WRONLY, O_CREAT, O_NOFOLLOW and
 * O_CLOEXEC are added).  Regular files and character devices (/dev/null) only.
 */
int open_output_nofollow(const char *path, int flags, mode_t mode, char *why, size_t whysz);

/* Open path for reading when it is a regular file; never blocks on a FIFO. */
int open_input_regular(const char *path, char *why, size_t whysz);

/*
 * A directory for amlguard's own state: created with mode 0700 when missing (create), then
 * refused unless it is a directory (not a link) owned by the effective user (root) that
 * nobody else can write.
 */
int secure_dir(const char *path, bool create, char *why, size_t whysz);

/* "a FIFO", "a directory", ... for the messages. */
const char *file_kind(mode_t mode);

#endif
