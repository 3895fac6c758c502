/*
 * gateway.c - labc as the login shell of the one SSH gateway account.
 *
 * sshd asks 'labc --authorized-keys %u %k %t' about the key offered;
 * labcd answers a proven key of a lab user with the forced command "LABC
 * --as USER" and any other key with "LABC --anon". sshd then runs the
 * shell as 'labc -c "LABC --as USER"'. The key sshd actually accepted,
 * read from the file ExposeAuthInfo names in SSH_USER_AUTH, goes with
 * every request: labcd acts as USER only if it is USER's proven key, and
 * binds an anonymous session to it ('login' there registers it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "argv.h"
#include "client.h"
#include "gateway.h"
#include "proto.h"
#include "shell.h"
#include "sshkey.h"
#include "xmalloc.h"

int
gateway_forced(char **argv, int argc, const char **user)
{
	const char *base;

	if (argc == 3 && strcmp(argv[1], "--as") == 0)
		*user = argv[2];
	else if (argc == 2 && strcmp(argv[1], "--anon") == 0)
		*user = NULL;
	else
		return 0;
	base = strrchr(argv[0], '/');
	base = base != NULL ? base + 1 : argv[0];
	return strcmp(base, "labc") == 0;
}

/*
 * "TYPE BASE64" of the first public key sshd accepted, or NULL with why in
 * err. sshd writes the file for this account: a regular file of ours,
 * mode 0600. Anything else (a link, another's file) someone else made.
 */
static char *
accepted_key(char *err, size_t errsz)
{
	const char *path = getenv("SSH_USER_AUTH");
	char *line = NULL, *key = NULL;
	struct stat st;
	size_t cap = 0;
	FILE *f;
	int fd;

	if (path == NULL) {
		snprintf(err, errsz, "no SSH_USER_AUTH (sshd's ExposeAuthInfo "
		    "is off?)");
		return NULL;
	}
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		snprintf(err, errsz, "cannot open SSH_USER_AUTH %s: %s", path,
		    strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != getuid() || (st.st_mode & 07777) != 0600) {
		snprintf(err, errsz, "SSH_USER_AUTH %s is not sshd's: it must "
		    "be a regular file of this account, mode 0600", path);
		close(fd);
		return NULL;
	}
	if ((f = fdopen(fd, "r")) == NULL) {
		close(fd);
		snprintf(err, errsz, "cannot read SSH_USER_AUTH: %s",
		    strerror(errno));
		return NULL;
	}
	while (key == NULL && getline(&line, &cap, f) > 0) {
		char type[64], blob[16384];

		if (sscanf(line, "publickey %63s %16383s", type, blob) == 2)
			key = xasprintf("%s %s", type, blob);
	}
	free(line);
	fclose(f);
	if (key == NULL)
		snprintf(err, errsz, "SSH_USER_AUTH names no public key");
	return key;
}

/* What an anonymous session says first: which key, and what to do. */
static void
anon_banner(const char *key)
{
	struct sshkey k;

	if (sshkey_parse(key, &k, NULL, 0) != 0)
		return;
	fprintf(stderr, "Welcome to the lab's GPU containers (labcontainers)."
	    "\n\nYou came in with the SSH key %s (%s), which logs no "
	    "lab user in:\nyou are not logged in. What to do:\n"
	    "  login USER   log in with the password your admin gave you; "
	    "this also\n               registers this key as yours, so that "
	    "it logs you in\n               directly from then on\n"
	    "  guide        the member guide: first steps, connecting, VS "
	    "Code, data\n"
	    "  help         the commands;  exit  leaves\n"
	    "No account yet? Ask your lab's admin. To use another of your "
	    "keys:\nssh -i ~/.ssh/KEY -o IdentitiesOnly=yes ...\n\n",
	    k.fingerprint, k.type);
	sshkey_free(&k);
}

int
gateway_run(struct client *c, const char *user)
{
	const char *orig = getenv("SSH_ORIGINAL_COMMAND");
	char **words = NULL, err[512];
	int n = 0, r;

	if ((c->key = accepted_key(err, sizeof(err))) == NULL) {
		fprintf(stderr, "labc: this gateway command needs the SSH key "
		    "sshd accepted: %s\n", err);
		return PROTO_FAILED;
	}
	free(c->as);
	c->as = user != NULL ? xstrdup(user) : NULL;
	if (orig == NULL) {
		if (user == NULL)
			anon_banner(c->key);
		return shell_run(c, isatty(STDIN_FILENO), 0);
	}
	/* The person's command: split like a shell would quote, no more. */
	if (argv_split(orig, &words, &n, err, sizeof(err)) != 0) {
		fprintf(stderr, "labc: %s\n", err);
		return PROTO_USAGE;
	}
	if (n == 0) {
		argv_free(words);
		if (user == NULL)
			anon_banner(c->key);
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
