/*
 * argv.c - split a command line into words with POSIX shell quoting and
 * no expansion (argv.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"
#include "xmalloc.h"

void
argv_free(char **argv)
{
	char **a;

	if (argv == NULL)
		return;
	for (a = argv; *a != NULL; a++)
		free(*a);
	free(argv);
}

static int
argv_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	    c == '\f';
}

int
argv_split(const char *line, char ***argv, int *argc, char *err,
    size_t errsz)
{
	const char *p;
	char **words = NULL, *word = NULL;
	size_t len, wlen = 0;
	int n = 0, inword = 0, was, r = 0;

	*argv = NULL;
	*argc = 0;
	len = strnlen(line, ARGV_MAX_LINE + 1);
	if (len > ARGV_MAX_LINE) {
		snprintf(err, errsz, "line too long (more than %d bytes)",
		    ARGV_MAX_LINE);
		return -E2BIG;
	}
	words = xcalloc(ARGV_MAX_WORDS + 1, sizeof(*words));
	word = xmalloc(len + 1);	/* no word is longer than the line */

	for (p = line; ; p++) {
		if (*p == '\0' || (argv_blank(*p))) {
			if (inword) {
				if (n == ARGV_MAX_WORDS) {
					snprintf(err, errsz, "too many words "
					    "(more than %d)", ARGV_MAX_WORDS);
					r = -E2BIG;
					goto out;
				}
				words[n++] = xstrndup(word, wlen);
				wlen = 0;
				inword = 0;
			}
			if (*p == '\0')
				break;
			continue;
		}
		was = inword;
		inword = 1;
		switch (*p) {
		case '\'':
			for (p++; *p != '\'' && *p != '\0'; p++)
				word[wlen++] = *p;
			if (*p == '\0') {
				snprintf(err, errsz, "unterminated single "
				    "quote");
				r = -EINVAL;
				goto out;
			}
			break;
		case '"':
			for (p++; *p != '"' && *p != '\0'; p++) {
				if (*p == '\\' && p[1] == '\n') {
					p++;
					continue;
				}
				if (*p == '\\' && (p[1] == '"' ||
				    p[1] == '\\' || p[1] == '$' || p[1] == '`'))
					p++;
				word[wlen++] = *p;
			}
			if (*p == '\0') {
				snprintf(err, errsz, "unterminated double "
				    "quote");
				r = -EINVAL;
				goto out;
			}
			break;
		case '\\':
			if (p[1] == '\0') {
				/* As in sh: a last backslash is itself. */
				word[wlen++] = *p;
				break;
			}
			p++;
			if (*p == '\n') {
				/* A line continuation: no character at all. */
				inword = was;
				break;
			}
			word[wlen++] = *p;
			break;
		default:
			word[wlen++] = *p;
			break;
		}
	}
	*argv = words;
	*argc = n;
	words = NULL;
out:
	free(word);
	argv_free(words);
	return r;
}
