/*
 * t-inert.c - text made inert for a terminal: every control character
 * (C0, DEL, C1 raw or in UTF-8, bidi overrides, bytes that are not UTF-8)
 * is shown visibly; other UTF-8 passes; a cut never splits an escape; CSV
 * formula starts are recognised.
 */
#include <stdlib.h>
#include <string.h>

#include "inert.h"
#include "test.h"
#include "xmalloc.h"

static int
same(const char *in, int flags, const char *want)
{
	struct buf b = BUF_INIT(0);
	int ok;

	inert_add(&b, in, strlen(in), flags);
	ok = strcmp(buf_str(&b), want) == 0;
	if (!ok)
		printf("#   got [%s], want [%s]\n", buf_str(&b), want);
	buf_free(&b);
	return ok;
}

static void
control_characters(void)
{
	CHECK(same("box", 0, "box"));
	CHECK(same("box\033]0;PWNED\a", 0, "box\\x1b]0;PWNED\\x07"));
	CHECK(same("a\nb\tc\rd\x7f", 0, "a\\x0ab\\x09c\\x0dd\\x7f"));
	CHECK(same("a\nb\tc\r", INERT_LINES, "a\nb\tc\\x0d"));
	CHECK(same("", 0, ""));
}

static void
utf8(void)
{
	CHECK(same("gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x98\x80", 0,
	    "gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x98\x80"));
	/* U+009B (CSI) in UTF-8, and a raw 0x9b byte. */
	CHECK(same("a\xc2\x9b" "2Jb", 0, "a\\u009b2Jb"));
	CHECK(same("a\x9b" "2J", 0, "a\\x9b2J"));
	/* Right-to-left override; overlong and surrogate encodings. */
	CHECK(same("x\xe2\x80\xaey", 0, "x\\u202ey"));
	CHECK(same("\xc0\x9b", 0, "\\xc0\\x9b"));
	CHECK(same("\xed\xa0\x80", 0, "\\xed\\xa0\\x80"));
	CHECK(same("\xe2\x82", 0, "\\xe2\\x82"));
}

static void
colour(void)
{
	CHECK(same("\033[1mname\033[0m", INERT_SGR, "\033[1mname\033[0m"));
	CHECK(same("\033[2J", INERT_SGR, "\\x1b[2J"));
	CHECK(same("\033[1mx", 0, "\\x1b[1mx"));
}

static void
copy_cuts_whole(void)
{
	char out[8];

	inert_copy(out, sizeof(out), "abcd\033efgh");
	CHECKF(strcmp(out, "abcd") == 0, "[%s]", out);
	inert_copy(out, sizeof(out), "ab\033efgh");
	CHECKF(strcmp(out, "ab\\x1be") == 0, "[%s]", out);
	inert_copy(out, sizeof(out), "abcdef\xc3\xbc");
	CHECKF(strcmp(out, "abcdef") == 0, "[%s]", out);
	inert_copy(out, sizeof(out), "ab\xc2\x9b" "cdef");
	CHECKF(strcmp(out, "ab") == 0, "[%s]", out);
	inert_copy(out, sizeof(out), "a\xc2\x9b" "bcdef");
	CHECKF(strcmp(out, "a\\u009b") == 0, "[%s]", out);
	inert_copy(out, sizeof(out), "short");
	CHECKF(strcmp(out, "short") == 0, "[%s]", out);
}

static void
csv_formula(void)
{
	CHECK(inert_csv_formula("=1+2"));
	CHECK(inert_csv_formula("+1"));
	CHECK(inert_csv_formula("-1"));
	CHECK(inert_csv_formula("@SUM(A1)"));
	CHECK(inert_csv_formula("\tx"));
	CHECK(inert_csv_formula("\rx"));
	CHECK(inert_csv_formula("-1+1"));
	CHECK(!inert_csv_formula("-"));
	CHECK(!inert_csv_formula("box"));
	CHECK(!inert_csv_formula(""));
}

int
main(void)
{
	RUN(control_characters);
	RUN(utf8);
	RUN(colour);
	RUN(copy_cuts_whole);
	RUN(csv_formula);
	return t_done();
}
