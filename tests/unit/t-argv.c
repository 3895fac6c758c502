/*
 * t-argv.c - argv_split: POSIX shell quoting without any expansion, its
 * errors and limits, and random hostile lines.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"
#include "test.h"
#include "xmalloc.h"

/* Split line and compare with the expected words (NULL-terminated). */
static int
same(const char *line, ...)
{
	va_list ap;
	char **argv, err[256];
	const char *w;
	int argc, i = 0, ok = 1;

	if (argv_split(line, &argv, &argc, err, sizeof(err)) != 0) {
		printf("#   split of [%s] failed: %s\n", line, err);
		return 0;
	}
	va_start(ap, line);
	while ((w = va_arg(ap, const char *)) != NULL) {
		if (i >= argc || strcmp(argv[i], w) != 0) {
			printf("#   [%s] word %d: got [%s], want [%s]\n", line,
			    i, i < argc ? argv[i] : "(none)", w);
			ok = 0;
		}
		i++;
	}
	va_end(ap);
	if (i != argc) {
		printf("#   [%s]: got %d words, want %d\n", line, argc, i);
		ok = 0;
	}
	if (argv[argc] != NULL)
		ok = 0;
	argv_free(argv);
	return ok;
}

/* Split line, expect error r with a message containing what. */
static int
fails(const char *line, int r, const char *what)
{
	char **argv = (char **)1, err[256] = "";
	int argc = -1, got;

	got = argv_split(line, &argv, &argc, err, sizeof(err));
	if (got != r || argv != NULL || argc != 0 ||
	    strstr(err, what) == NULL) {
		printf("#   [%.40s]: got %d [%s], want %d [%s]\n", line, got,
		    err, r, what);
		return 0;
	}
	return 1;
}

static void
plain_words(void)
{
	CHECK(same("list", "list", NULL));
	CHECK(same("launch box --gpu 0,1", "launch", "box", "--gpu", "0,1",
	    NULL));
	CHECK(same("  \t a \t\t b  ", "a", "b", NULL));
	CHECK(same("a\nb\r\nc\vd\fe", "a", "b", "c", "d", "e", NULL));
}

static void
empty_lines(void)
{
	CHECK(same("", NULL));
	CHECK(same("   \t  ", NULL));
	CHECK(same("\n", NULL));
}

static void
single_quotes(void)
{
	CHECK(same("'a b'", "a b", NULL));
	CHECK(same("'a\"b\\c$d`e'", "a\"b\\c$d`e", NULL));
	CHECK(same("x'y'z", "xyz", NULL));
	CHECK(same("'' a", "", "a", NULL));
	CHECK(same("'\\'", "\\", NULL));
	CHECK(same("'line\nbreak'", "line\nbreak", NULL));
}

static void
double_quotes(void)
{
	CHECK(same("\"a b\"", "a b", NULL));
	CHECK(same("\"\\\"\"", "\"", NULL));
	CHECK(same("\"\\\\\"", "\\", NULL));
	CHECK(same("\"\\$HOME\"", "$HOME", NULL));
	CHECK(same("\"\\`x\\`\"", "`x`", NULL));
	/* Other backslashes stay, as in sh. */
	CHECK(same("\"\\n\\a\\'\"", "\\n\\a\\'", NULL));
	CHECK(same("\"it's\"", "it's", NULL));
	CHECK(same("\"\"", "", NULL));
	CHECK(same("\"a\\\nb\"", "ab", NULL));
	CHECK(same("a\"b c\"d'e f'g", "ab cde fg", NULL));
}

static void
backslashes(void)
{
	CHECK(same("a\\ b", "a b", NULL));
	CHECK(same("\\'x\\\"", "'x\"", NULL));
	CHECK(same("\\\\", "\\", NULL));
	CHECK(same("\\$x", "$x", NULL));
	/* Backslash-newline joins, and is no word by itself. */
	CHECK(same("ab\\\ncd", "abcd", NULL));
	CHECK(same("a \\\n b", "a", "b", NULL));
	CHECK(same("'' \\\n", "", NULL));
	CHECK(same("''\\\nx", "x", NULL));
	/* A backslash that ends the line stays, as in sh. */
	CHECK(same("a\\", "a\\", NULL));
	CHECK(same("a \\", "a", "\\", NULL));
}

static void
nothing_expanded(void)
{
	CHECK(same("$HOME ~ ~root *.c ? [a-z] $(id) `id` ${x}", "$HOME", "~",
	    "~root", "*.c", "?", "[a-z]", "$(id)", "`id`", "${x}", NULL));
	CHECK(same("a;b | c && d > e < f & # g", "a;b", "|", "c", "&&",
	    "d", ">", "e", "<", "f", "&", "#", "g", NULL));
	CHECK(same("\"$HOME\"", "$HOME", NULL));
	CHECK(same("caf\xc3\xa9 \xff\xfe", "caf\xc3\xa9", "\xff\xfe", NULL));
}

static void
errors(void)
{
	CHECK(fails("'abc", -EINVAL, "unterminated single quote"));
	CHECK(fails("a \"bc", -EINVAL, "unterminated double quote"));
	CHECK(fails("\"\\\"", -EINVAL, "unterminated double quote"));
	CHECK(fails("'", -EINVAL, "single quote"));
}

static void
limits(void)
{
	char *line, **argv, err[256];
	size_t i;
	int argc;

	/* 256 words pass, 257 do not. */
	line = xmalloc(2 * 257 + 1);
	for (i = 0; i < 256; i++) {
		line[2 * i] = 'w';
		line[2 * i + 1] = ' ';
	}
	line[2 * 256] = '\0';
	CHECK(argv_split(line, &argv, &argc, err, sizeof(err)) == 0);
	CHECK(argc == 256);
	argv_free(argv);
	line[2 * 256] = 'x';
	line[2 * 256 + 1] = '\0';
	CHECK(fails(line, -E2BIG, "too many words"));
	/* Blanks do not count as words. */
	line[2 * 256] = ' ';
	CHECK(argv_split(line, &argv, &argc, err, sizeof(err)) == 0);
	CHECK(argc == 256);
	argv_free(argv);
	free(line);

	/* 64 KiB pass, one byte more does not, even as one word. */
	line = xmalloc(ARGV_MAX_LINE + 2);
	memset(line, 'a', ARGV_MAX_LINE);
	line[ARGV_MAX_LINE] = '\0';
	CHECK(argv_split(line, &argv, &argc, err, sizeof(err)) == 0);
	CHECK(argc == 1 && strlen(argv[0]) == ARGV_MAX_LINE);
	argv_free(argv);
	line[ARGV_MAX_LINE] = 'a';
	line[ARGV_MAX_LINE + 1] = '\0';
	CHECK(fails(line, -E2BIG, "too long"));
	memset(line, ' ', ARGV_MAX_LINE + 1);
	CHECK(fails(line, -E2BIG, "too long"));
	free(line);
}

static void
small_error_buffer(void)
{
	char **argv, err[4];
	int argc;

	CHECK(argv_split("'", &argv, &argc, err, sizeof(err)) == -EINVAL);
	CHECK(strlen(err) == 3);
}

/*
 * Random lines made of the characters that matter: never a crash (the
 * suite runs this under ASan), and every answer keeps the invariants.
 */
static void
random_lines(void)
{
	static const char set[] = "ab '\"\\$`\n\t ";
	char line[64], **argv, err[256];
	uint32_t x = 12345;
	int i, j, n, argc, r, bad = 0;
	size_t total;

	for (i = 0; i < 200000; i++) {
		n = (int)(x % sizeof(line));
		for (j = 0; j < n; j++) {
			x = x * 1103515245u + 12345u;
			line[j] = set[(x >> 16) % (sizeof(set) - 1)];
		}
		line[n] = '\0';
		x = x * 1103515245u + 12345u;
		r = argv_split(line, &argv, &argc, err, sizeof(err));
		if (r == 0) {
			total = 0;
			for (j = 0; j < argc; j++)
				total += strlen(argv[j]);
			if (argv[argc] != NULL || argc > n ||
			    total > (size_t)n)
				bad++;
			argv_free(argv);
		} else if ((r != -EINVAL) || argv != NULL || *err == '\0')
			bad++;
	}
	CHECKF(bad == 0, "%d lines broke an invariant", bad);
}

int
main(void)
{
	RUN(plain_words);
	RUN(empty_lines);
	RUN(single_quotes);
	RUN(double_quotes);
	RUN(backslashes);
	RUN(nothing_expanded);
	RUN(errors);
	RUN(limits);
	RUN(small_error_buffer);
	RUN(random_lines);
	return t_done();
}
