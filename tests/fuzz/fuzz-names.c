/*
 * fuzz-names.c - the container, snapshot and lab user name rules
 * (names.c). A name
 * is accepted exactly when it matches the rule the error message states,
 * here written as a POSIX regular expression (C locale: [a-z] is ASCII),
 * and an accepted name is safe where labcd puts it: an LXD instance name
 * (a hostname label), an SQL text, an LXD project suffix.
 */
#include <regex.h>

#include "ct.h"
#include "fuzz.h"
#include "labcd.h"

/* "1 to 63 lowercase letters, digits or '-', starting with a letter and
   not ending with '-'" */
#define CT_RULE		"^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$"
/* "1 to 32 lowercase letters, digits or '-', starting with a letter" */
#define USER_RULE	"^[a-z][a-z0-9-]{0,31}$"
/* "1 to 63 letters, digits, '-', '_' or '.', starting with a letter or
   digit" */
#define SNAP_RULE	"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$"

static regex_t ct_re, user_re, snap_re;

static void
compile(regex_t *re, const char *rule)
{
	if (regcomp(re, rule, REG_EXTENDED | REG_NOSUB) != 0)
		abort();
}

static void
check(const char *name)
{
	const char *ct = ct_name_invalid(name), *user = user_name_invalid(name);
	const char *snap = snap_name_invalid(name);
	size_t n = strlen(name);

	FUZZ_CHECK((snap == NULL) == (regexec(&snap_re, name, 0, NULL, 0) ==
	    0));
	if (snap == NULL) {
		/* One path segment of LXD's: no '/', not "." or "..", no
		   option-like '-' first, nothing to quote in a URL or SQL. */
		FUZZ_CHECK(n >= 1 && n <= 63 && name[0] != '-' &&
		    name[0] != '.');
		FUZZ_CHECK(strpbrk(name, "/'\"\\ %?#&;") == NULL);
	} else
		FUZZ_CHECK(*snap != '\0' && fuzz_printable(snap));

	FUZZ_CHECK((ct == NULL) == (regexec(&ct_re, name, 0, NULL, 0) == 0));
	FUZZ_CHECK((user == NULL) == (regexec(&user_re, name, 0, NULL, 0) ==
	    0));
	if (ct == NULL) {
		/* A hostname label (RFC 1123), as LXD wants. */
		FUZZ_CHECK(n >= 1 && n <= 63 && name[0] != '-' &&
		    name[n - 1] != '-');
		FUZZ_CHECK(strspn(name, "abcdefghijklmnopqrstuvwxyz"
		    "0123456789-") == n);
	} else
		FUZZ_CHECK(*ct != '\0' && fuzz_printable(ct));
	if (user == NULL) {
		/* Fits struct ident's user[33], quoting-free everywhere. */
		FUZZ_CHECK(n >= 1 && n <= 32);
		FUZZ_CHECK(strpbrk(name, "'\"\\/ %_.") == NULL);
	} else
		FUZZ_CHECK(*user != '\0' && fuzz_printable(user));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	char *name = fuzz_string(data, size);

	if (!ready) {
		compile(&ct_re, CT_RULE);
		compile(&user_re, USER_RULE);
		compile(&snap_re, SNAP_RULE);
		ready = 1;
	}
	/* The whole input (up to a NUL), and each line of it alone. */
	check(name);
	for (char *line = name, *nl; line != NULL; line = nl) {
		if ((nl = strchr(line, '\n')) != NULL)
			*nl++ = '\0';
		check(line);
	}
	free(name);
	return 0;
}
