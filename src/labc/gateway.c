/*
 * gateway.c - labc as the login shell of the one SSH gateway account.
 *
 * sshd asks 'labc --authorized-keys %u %k %t' for the keys it may accept;
 * labcd answers each registered key with the forced command
 * "LABC --as USER". sshd then runs the shell as 'labc -c "LABC --as
 * USER"'. That string alone proves nothing (anyone let in by the empty
 * password fallback could send it), so the key sshd actually accepted,
 * read from the file ExposeAuthInfo names in SSH_USER_AUTH, goes with
 * every request: labcd acts as USER only if that key is USER's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "argv.h"
#include "client.h"
#include "gateway.h"
#include "proto.h"
#include "shell.h"
#include "xmalloc.h"

int
gateway_forced(char **argv, int argc, const char **user)
{
	const char *base;

	if (argc != 3 || strcmp(argv[1], "--as") != 0)
		return 0;
	base = strrchr(argv[0], '/');
	base = base != NULL ? base + 1 : argv[0];
	if (strcmp(base, "labc") != 0)
		return 0;
	*user = argv[2];
	return 1;
}

/* "TYPE BASE64" of the first public key sshd accepted, or NULL. */
static char *
accepted_key(void)
{
	const char *path = getenv("SSH_USER_AUTH");
	char *line = NULL, *key = NULL;
	size_t cap = 0;
	FILE *f;

	if (path == NULL || (f = fopen(path, "r")) == NULL)
		return NULL;
	while (key == NULL && getline(&line, &cap, f) > 0) {
		char type[64], blob[16384];

		if (sscanf(line, "publickey %63s %16383s", type, blob) == 2)
			key = xasprintf("%s %s", type, blob);
	}
	free(line);
	fclose(f);
	return key;
}

int
gateway_run(struct client *c, const char *user)
{
	const char *orig = getenv("SSH_ORIGINAL_COMMAND");
	char **words = NULL, err[256];
	int n = 0, r;

	if ((c->key = accepted_key()) == NULL) {
		fprintf(stderr, "labc: this gateway command needs the SSH key "
		    "sshd accepted (sshd's ExposeAuthInfo is off?)\n");
		return PROTO_FAILED;
	}
	free(c->as);
	c->as = xstrdup(user);
	if (orig == NULL)
		return shell_run(c, isatty(STDIN_FILENO), 0);
	/* The person's command: split like a shell would quote, no more. */
	if (argv_split(orig, &words, &n, err, sizeof(err)) != 0) {
		fprintf(stderr, "labc: %s\n", err);
		return PROTO_USAGE;
	}
	if (n == 0) {
		argv_free(words);
		return shell_run(c, isatty(STDIN_FILENO), 0);
	}
	r = client_run(c, words, n);
	argv_free(words);
	return r;
}

int
gateway_authorized_keys(struct client *c, int argc, char **argv)
{
	char self[4096], *req[6];
	ssize_t n;

	if (argc != 1 && argc != 3) {
		fprintf(stderr, "usage: labc --authorized-keys ACCOUNT "
		    "[KEY TYPE]\n");
		return PROTO_USAGE;
	}
	/* The forced command names this very program. */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		snprintf(self, sizeof(self), "labc");
	else
		self[n] = '\0';
	req[0] = "gateway";
	req[1] = "authorized-keys";
	req[2] = argv[0];
	req[3] = self;
	req[4] = argc == 3 ? argv[2] : NULL;	/* %t */
	req[5] = argc == 3 ? argv[1] : NULL;	/* %k */
	return client_run(c, req, argc == 3 ? 6 : 4);
}
