/*
 * inert.h - text from others made safe to show on a terminal (inert.c).
 */
#ifndef LABC_INERT_H
#define LABC_INERT_H

#include <stddef.h>

#include "buf.h"

#define INERT_LINES	0x01	/* let newlines and tabs through */
#define INERT_SGR	0x02	/* let colour sequences (ESC [ 0-9; m) through */

/*
 * Append s[0..n) to b with every control character shown visibly: C0 and
 * DEL as \xNN, C1 written in UTF-8 (U+0080..U+009F, such as U+009B, a CSI)
 * and the bidirectional overrides as \uNNNN, bytes that are not UTF-8 as
 * \xNN. Everything else, other UTF-8 included, is copied as it is.
 */
void	inert_add(struct buf *b, const char *s, size_t n, int flags);
/* s made inert, with no flags (caller frees). */
char	*inert_str(const char *s);
/* The first n bytes of a C string made inert into out (outsz > 0), cut at
 * a character, never in the middle of one or of an escape. */
void	inert_copy(char *out, size_t outsz, const char *s);
/* A CSV cell must not start a formula (=, +, -, @, tab, CR): 1 if s
 * would (a lone "-" would not). */
int	inert_csv_formula(const char *s);

#endif
