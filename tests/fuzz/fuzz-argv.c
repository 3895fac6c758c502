/*
 * fuzz-argv.c - argv_split, which splits SSH_ORIGINAL_COMMAND and labc's
 * shell lines: hostile by design. Checked beyond "no crash":
 * - a split gives argc words of at most the line's length, NULL-terminated,
 *   and never more than ARGV_MAX_WORDS; an error leaves nothing behind and
 *   says why;
 * - the words, quoted again with single quotes, split back to the same
 *   words (the splitter and the quoting rules agree);
 * - a line without quotes or backslashes splits exactly at blanks.
 */
#include <errno.h>

#include "argv.h"
#include "buf.h"
#include "fuzz.h"

static int
blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	    c == '\f';
}

/* The words joined, each in single quotes ('\'' for a quote). */
static char *
requote(char **argv, int argc)
{
	struct buf b = BUF_INIT(0);
	const char *p;
	int i;

	for (i = 0; i < argc; i++) {
		buf_adds(&b, i == 0 ? "'" : " '");
		for (p = argv[i]; *p != '\0'; p++) {
			if (*p == '\'')
				buf_adds(&b, "'\\''");
			else
				buf_add(&b, p, 1);
		}
		buf_adds(&b, "'");
	}
	return buf_steal(&b);
}

/* Split at blanks only, as argv_split must when nothing is quoted. */
static void
check_plain(const char *line, char **argv, int argc)
{
	const char *p = line, *w;
	int n = 0;

	for (;;) {
		while (blank(*p))
			p++;
		if (*p == '\0')
			break;
		for (w = p; *p != '\0' && !blank(*p); p++)
			;
		FUZZ_CHECK(n < argc);
		FUZZ_CHECK(strlen(argv[n]) == (size_t)(p - w) &&
		    memcmp(argv[n], w, (size_t)(p - w)) == 0);
		n++;
	}
	FUZZ_CHECK(n == argc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = fuzz_string(data, size), **argv, **again, *q, err[256];
	size_t len = strlen(line), total = 0;
	int argc, argc2, r, i;

	err[0] = '\0';
	r = argv_split(line, &argv, &argc, err, sizeof(err));
	if (r != 0) {
		FUZZ_CHECK(r == -EINVAL || r == -E2BIG);
		FUZZ_CHECK(argv == NULL && argc == 0);
		FUZZ_CHECK(err[0] != '\0' && fuzz_printable(err));
		FUZZ_CHECK(r != -EINVAL || strpbrk(line, "'\"") != NULL);
		free(line);
		return 0;
	}
	FUZZ_CHECK(len <= ARGV_MAX_LINE);
	FUZZ_CHECK(argc >= 0 && argc <= ARGV_MAX_WORDS);
	FUZZ_CHECK(argv != NULL && argv[argc] == NULL);
	for (i = 0; i < argc; i++) {
		FUZZ_CHECK(argv[i] != NULL);
		total += strlen(argv[i]);
	}
	/* Quoting only ever removes characters. */
	FUZZ_CHECK(total <= len);
	if (strpbrk(line, "'\"\\") == NULL)
		check_plain(line, argv, argc);

	q = requote(argv, argc);
	if (strlen(q) <= ARGV_MAX_LINE) {
		r = argv_split(q, &again, &argc2, err, sizeof(err));
		FUZZ_CHECK(r == 0);
		FUZZ_CHECK(argc2 == argc);
		for (i = 0; i < argc; i++)
			FUZZ_CHECK(strcmp(argv[i], again[i]) == 0);
		argv_free(again);
	}
	free(q);
	argv_free(argv);
	free(line);
	return 0;
}
