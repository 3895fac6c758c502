/*
 * labc.c - the labcontainers client: its own options, then one command
 * (from the command line or -c "..."), or the shell. The client is thin:
 * every word from the command on goes to labcd untouched.
 *
 *	labc [-S SOCKET] [--as USER] [CMD ARGS...]
 *	labc [-S SOCKET] [--as USER] -c "CMD ARGS"
 *	labc --version
 */
#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "argv.h"
#include "backup.h"
#include "client.h"
#include "gateway.h"
#include "proto.h"
#include "shell.h"
#include "version.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: labc [-S socket] [--as user] [command [arg ...]]\n"
	    "       labc [-S socket] [--as user] -c \"command arg ...\"\n"
	    "       labc [-S socket] --authorized-keys account [key type]\n"
	    "       labc --version\n"
	    "Without a command labc starts a shell; 'labc help' lists the "
	    "commands.\n");
}

/*
 * jansson's memory is zeroed before it is freed: prompt answers
 * (passwords) and session tokens pass through it.
 */
static void
labc_json_free(void *p)
{
	if (p == NULL)
		return;
	explicit_bzero(p, malloc_usable_size(p));
	free(p);
}

/*
 * One command. 'admin backup' is labc's own (backup.c): it writes files
 * as the admin who runs it; everything else is labcd's.
 */
static int
run(struct client *c, char **argv, int argc)
{
	if (argc >= 2 && strcmp(argv[0], "admin") == 0 &&
	    strcmp(argv[1], "backup") == 0)
		return backup_run(c, argc - 2, argv + 2);
	return client_run(c, argv, argc);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "as",		required_argument,	NULL, 'a' },
		{ "authorized-keys", no_argument,	NULL, 'K' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL,		0,			NULL, 0 }
	};
	const char *sock = NULL, *as = NULL, *cmd = NULL;
	struct client c;
	char **words = NULL, err[256];
	const char *gw_user = NULL;
	int ch, nwords = 0, login, persist, status, keys = 0;

	setlocale(LC_CTYPE, "");
	json_set_alloc_funcs(malloc, labc_json_free);
	signal(SIGPIPE, SIG_IGN);	/* a closed socket is an error */
	login = argv[0] != NULL && argv[0][0] == '-';

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:S:c:h", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'S':
			sock = optarg;
			break;
		case 'a':
			as = optarg;
			break;
		case 'c':
			cmd = optarg;
			break;
		case 'K':
			keys = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("labc %s\n", LABC_VERSION);
			return 0;
		case ':':
			fprintf(stderr, "labc: option %s needs a value\n",
			    argv[optind - 1]);
			usage(stderr);
			return PROTO_USAGE;
		default:
			if (optopt != 0)
				fprintf(stderr, "labc: unknown option -%c\n",
				    optopt);
			else
				fprintf(stderr, "labc: unknown option %s\n",
				    argv[optind - 1]);
			usage(stderr);
			return PROTO_USAGE;
		}
	}
	if ((sock != NULL && *sock == '\0') || (as != NULL && *as == '\0')) {
		fprintf(stderr, "labc: an empty %s is not allowed\n",
		    as != NULL && *as == '\0' ? "--as" : "-S");
		usage(stderr);
		return PROTO_USAGE;
	}
	if (cmd != NULL) {
		if (optind < argc) {
			fprintf(stderr, "labc: -c takes the whole command as "
			    "one word\n");
			usage(stderr);
			return PROTO_USAGE;
		}
		if (argv_split(cmd, &words, &nwords, err, sizeof(err)) != 0) {
			fprintf(stderr, "labc: -c: %s\n", err);
			return PROTO_USAGE;
		}
		if (nwords == 0) {
			argv_free(words);
			fprintf(stderr, "labc: -c: no command given (try "
			    "'help')\n");
			return PROTO_USAGE;
		}
	}

	/*
	 * The session token and history are kept in files only for a person
	 * at their own account: not for a login shell or -c (the shared
	 * gateway account, where they would pass from one person to the
	 * next) and not when acting --as someone.
	 */
	persist = !login && cmd == NULL && as == NULL && !keys;
	client_init(&c, sock, as, persist);
	if (keys)
		status = gateway_authorized_keys(&c, argc - optind,
		    argv + optind);
	else if (cmd != NULL && gateway_forced(words, nwords, &gw_user))
		status = gateway_run(&c, gw_user);
	else if (cmd != NULL)
		status = run(&c, words, nwords);
	else if (optind < argc)
		status = run(&c, argv + optind, argc - optind);
	else
		status = shell_run(&c, isatty(STDIN_FILENO), persist);
	client_free(&c);
	argv_free(words);
	if (fflush(stdout) != 0 && status == 0)
		status = PROTO_FAILED;
	return status;
}
