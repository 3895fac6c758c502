/*
 * fuzz-cmd.c - a request's argv as labcd takes it apart: cmd_find picks the
 * command of the one table, cmd_parse its options and arguments, exactly as
 * server.c does (the input is argv words separated by NUL bytes, at most
 * PROTO_MAX_ARGS of at most PROTO_MAX_ARG bytes, as proto_argv_invalid
 * lets through). Nothing is executed. Checked beyond "no crash":
 * - the command found spells the first words of argv and no other command
 *   spells more of them; when none is found, no command's name matches;
 * - a parse that succeeds has positional arguments within the command's
 *   bounds, taken in order from argv, and option values that are "" for a
 *   flag or point into argv; a failure says why and gives the usage.
 */
#include "buf.h"
#include "fuzz.h"
#include "labcd.h"
#include "proto.h"

/* How many words name has (words are separated by one space). */
static int
nwords(const char *name)
{
	int n = 1;

	for (; *name != '\0'; name++)
		n += *name == ' ';
	return n;
}

/* Whether argv begins with the words of name. */
static int
spells(const char *name, int argc, char **argv)
{
	char *joined;
	size_t len = 0;
	int i, n = nwords(name), r;

	if (n > argc)
		return 0;
	for (i = 0; i < n; i++)
		len += strlen(argv[i]) + 1;
	joined = malloc(len + 1);
	FUZZ_CHECK(joined != NULL);
	joined[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0)
			strcat(joined, " ");
		strcat(joined, argv[i]);
	}
	r = strcmp(joined, name) == 0;
	free(joined);
	return r;
}

/* Whether p points at the start of an argv word, or just after its '='. */
static int
in_argv(const char *p, int argc, char **argv)
{
	int i;

	for (i = 0; i < argc; i++) {
		if (p == argv[i])
			return 1;
		if (p > argv[i] && p <= argv[i] + strlen(argv[i]) && p[-1] == '=')
			return 1;
	}
	return 0;
}

static void
check_parse(const struct cmd_entry *e, int argc, char **argv)
{
	struct args a;
	struct buf err = BUF_INIT(64 * 1024);
	int nopts = 0, i, j, r;

	while (nopts < CMD_MAXOPTS && e->opts[nopts].name != NULL)
		nopts++;
	r = cmd_parse(e, argc, argv, &a, &err);
	if (r == 0) {
		FUZZ_CHECK(err.len == 0);
		FUZZ_CHECK(a.argc >= e->min_args && a.argc <= argc);
		FUZZ_CHECK(e->max_args < 0 || a.argc <= e->max_args);
		FUZZ_CHECK(a.argv[a.argc] == NULL);
		/* Positional arguments are argv's words, in order. */
		for (i = 0, j = 0; i < a.argc; i++, j++) {
			while (j < argc && a.argv[i] != argv[j])
				j++;
			FUZZ_CHECK(j < argc);
		}
		for (i = 0; i < CMD_MAXOPTS; i++) {
			if (a.val[i] == NULL)
				continue;
			FUZZ_CHECK(i < nopts);
			if (e->opts[i].has_arg)
				FUZZ_CHECK(in_argv(a.val[i], argc, argv));
			else
				FUZZ_CHECK(*a.val[i] == '\0');
		}
	} else {
		FUZZ_CHECK(r == -1);
		FUZZ_CHECK(strstr(buf_str(&err), "usage: ") != NULL);
		FUZZ_CHECK(strncmp(buf_str(&err), e->name, strlen(e->name)) ==
		    0);
	}
	free((void *)(uintptr_t)a.argv);
	buf_free(&err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct cmd_entry *e;
	char *words = fuzz_string(data, size), *argv[PROTO_MAX_ARGS + 1], *p;
	int argc = 0, used, i;

	/* Words separated by NUL; a last one without. */
	for (p = words; p < words + size && argc < PROTO_MAX_ARGS; argc++) {
		argv[argc] = p;
		p += strlen(p) + 1;
		if (strlen(argv[argc]) > PROTO_MAX_ARG)
			goto out;	/* refused before it gets here */
	}
	argv[argc] = NULL;
	if (argc == 0)
		goto out;

	e = cmd_find(argc, argv, &used);
	if (e == NULL) {
		for (i = 0; cmd_table[i] != NULL; i++)
			FUZZ_CHECK(!spells(cmd_table[i]->name, argc, argv));
		goto out;
	}
	FUZZ_CHECK(used == nwords(e->name) && used <= argc);
	FUZZ_CHECK(spells(e->name, argc, argv));
	for (i = 0; cmd_table[i] != NULL; i++) {
		if (spells(cmd_table[i]->name, argc, argv))
			FUZZ_CHECK(nwords(cmd_table[i]->name) <= used);
	}
	check_parse(e, argc - used, argv + used);
out:
	free(words);
	return 0;
}
