/* SPDX-License-Identifier: GPL-2.0-only */
/* The one table of names for the datapath's numbers: reasons, match kinds, protocols, modes. */
#ifndef AMLG_BASE_NAMES_H
#define AMLG_BASE_NAMES_H

#include <stdint.h>

const char *reason_str(unsigned reason); /* "no-rule", "port", ... */
const char *match_str(unsigned match); /* "rule", "conntrack", ... */
const char *mode_str(unsigned mode); /* "audit" / "enforce" */
const char *role_str(unsigned role); /* "host" / "gateway" */
const char *l4_str(unsigned ipproto, char *buf, unsigned sz); /* "tcp", ..., or the number */
/* Parse a name back (-1 if unknown). */
int reason_parse(const char *s);
int mode_parse(const char *s);
int role_parse(const char *s);
/* Lower-case hex of n bytes into buf (2n+1 bytes). */
char *hex_str(const uint8_t *b, unsigned n, char *buf);

#endif
