/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Text that may not be UTF-8 (file names, comments, interface names, names from the wire), for
 * JSON and for the metrics: jansson refuses such a string, and one refused string empties the
 * whole answer.  Valid UTF-8 is kept; every other byte becomes the four characters \xNN.
 */
#ifndef AMLG_BASE_JSON_TEXT_H
#define AMLG_BASE_JSON_TEXT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Is s (n bytes) well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF)? */
bool utf8_valid(const char *s, size_t n);
/* The length of the valid UTF-8 sequence at s (at most n bytes), or 0 when there is none. */
size_t utf8_seq(const unsigned char *s, size_t n);
/* A new string: s with every byte that is not part of valid UTF-8 as \xNN.  NULL: no memory. */
char *utf8_escape(const char *s);
/* A JSON string of s escaped as above; JSON null for NULL. */
json_t *json_str_escaped(const char *s);

#endif
