/*
 * argv.h - split one command line into words the way a POSIX shell quotes
 * them, and nothing more: no expansion of $, globs, ~, no operators, no
 * comments. Used by labc's shell and -c, and for sshd's
 * SSH_ORIGINAL_COMMAND, so it is meant for hostile input.
 */
#ifndef LABC_ARGV_H
#define LABC_ARGV_H

#include <stddef.h>

#define ARGV_MAX_WORDS	256		/* words in one line */
#define ARGV_MAX_LINE	(64 * 1024)	/* bytes in one line */

/*
 * Split line into *argv (NULL-terminated, *argc words; an empty or blank
 * line gives 0 words). Quoting: '...' is literal; "..." is literal except
 * \" \\ \$ \` (and backslash-newline, removed); outside quotes a backslash
 * makes the next character literal (backslash-newline is removed; a
 * backslash that ends the line stays, as in sh). Words are separated by
 * unquoted space, tab, newline, CR, VT and FF.
 * 0, or -EINVAL (unterminated quote) or -E2BIG
 * (more than ARGV_MAX_WORDS words or ARGV_MAX_LINE bytes) with a reason in
 * err; then *argv is NULL and *argc 0.
 */
int	argv_split(const char *line, char ***argv, int *argc, char *err,
	    size_t errsz);
/* Free what argv_split returned (NULL is fine). */
void	argv_free(char **argv);

#endif
