/*
 * names.c - the rules for names that come from outside: container names
 * (ct.h) and lab user names (labcd.h). Pure functions, kept apart from the
 * code that acts on the names so that tests/fuzz can check them alone.
 */
#include <string.h>

#include "labcd.h"

/* ASCII only, whatever the locale: a name goes into LXD and SQL. */
static int
lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static int
digit(char c)
{
	return c >= '0' && c <= '9';
}

/* 1 to max lowercase letters, digits or '-', starting with a letter. */
static int
label_ok(const char *name, size_t max)
{
	size_t n = strlen(name), i;

	if (n < 1 || n > max || !lower(name[0]))
		return 0;
	for (i = 0; i < n; i++) {
		if (!lower(name[i]) && !digit(name[i]) && name[i] != '-')
			return 0;
	}
	return 1;
}

const char *
ct_name_invalid(const char *name)
{
	if (label_ok(name, 63) && name[strlen(name) - 1] != '-')
		return NULL;
	return "a container name is 1 to 63 lowercase letters, digits or "
	    "'-', starting with a letter and not ending with '-'";
}

const char *
snap_name_invalid(const char *name)
{
	size_t n = strlen(name), i;

	if (n >= 1 && n <= 63 && (lower(name[0]) || digit(name[0]) ||
	    (name[0] >= 'A' && name[0] <= 'Z'))) {
		for (i = 0; i < n; i++)
			if (!lower(name[i]) && !digit(name[i]) &&
			    !(name[i] >= 'A' && name[i] <= 'Z') &&
			    strchr("-_.", name[i]) == NULL)
				break;
		if (i == n)
			return NULL;
	}
	return "a snapshot name is 1 to 63 letters, digits, '-', '_' or '.', "
	    "starting with a letter or digit";
}

const char *
user_name_invalid(const char *name)
{
	if (label_ok(name, 32))
		return NULL;
	return "a user name is 1 to 32 lowercase letters, digits or '-', "
	    "starting with a letter";
}
