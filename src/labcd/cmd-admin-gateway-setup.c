/*
 * cmd-admin-gateway-setup.c - admin gateway setup: the one SSH account
 * members reach the server through. Makes the account (login shell labc,
 * empty password for the keyless fallback, no LXD access), writes an
 * sshd drop-in that applies to that account only, checks it with sshd -t
 * and says what it changed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "labcd.h"
#include "proto.h"
#include "run.h"
#include "xmalloc.h"

/*
 * The labc next to this labcd (a build tree), else in the bin beside its
 * sbin (make install: PREFIX/sbin/labcd, PREFIX/bin/labc), else the
 * package's.
 */
static char *
labc_path(void)
{
	static const char *const rel[] = { "labc", "../bin/labc" };
	char self[4096], real[PATH_MAX], *slash, *p;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	size_t i;

	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
				p = xasprintf("%.*s/%s", (int)(slash - self),
				    self, rel[i]);
				if (access(p, X_OK) == 0 &&
				    realpath(p, real) != NULL) {
					free(p);
					return xstrdup(real);
				}
				free(p);
			}
		}
	}
	return xstrdup("/usr/bin/labc");
}

static char *
dropin_text(struct ctx *c, const char *labc)
{
	const struct config *cfg = &c->srv->cfg;
	const char *sock = c->srv->socket_path;
	int plain = strcmp(sock, "/run/labcontainers/labcd.sock") == 0;
	char *sockopt = plain ? xstrdup("") : xasprintf("-S %s ", sock);
	char *env = plain ? xstrdup("") :
	    xasprintf("\tSetEnv LABC_SOCKET=%s\n", sock);
	char *t = xasprintf(
	    "# labcontainers SSH gateway: written by 'labc admin gateway "
	    "setup'.\n"
	    "# Members log in as %s with their own registered key; labcd says\n"
	    "# who they are. It applies to the account %s only.\n"
	    "Match User %s\n"
	    "\tAuthorizedKeysFile none\n"
	    "\tAuthorizedKeysCommand %s %s--authorized-keys %%u %%k %%t\n"
	    "\tAuthorizedKeysCommandUser %s\n"
	    "\tExposeAuthInfo yes\n"
	    "\t# A registered key; or, without one yet, the empty password\n"
	    "\t# (press Enter), then 'login'. Not PasswordAuthentication: its\n"
	    "\t# \"none\" method would let everyone in before their key.\n"
	    "\tPasswordAuthentication no\n"
	    "\tKbdInteractiveAuthentication yes\n"
	    "\tPermitEmptyPasswords yes\n"
	    "\tDisableForwarding yes\n"
	    "\tPermitTunnel no\n"
	    "\tPermitTTY yes\n"
	    "%s", cfg->gateway_user, cfg->gateway_user, cfg->gateway_user,
	    labc, sockopt, cfg->gateway_keys_user, env);

	free(sockopt);
	free(env);
	return t;
}

static char *
read_file(const char *path)
{
	struct buf b = BUF_INIT(1 << 20);
	char chunk[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		(void)buf_add(&b, chunk, (size_t)n);
	close(fd);
	return buf_steal(&b);
}

/* Write path atomically (temp + rename), mode 0644. */
static int
write_file(const char *path, const char *text)
{
	char *tmp = xasprintf("%s.labc-tmp", path);
	int fd, r = -1;

	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0644);
	if (fd >= 0 && proto_write_all(fd, text, strlen(text)) == 0 &&
	    fsync(fd) == 0 && close(fd) == 0) {
		fd = -1;
		r = rename(tmp, path);
	}
	if (fd >= 0)
		close(fd);
	if (r != 0)
		unlink(tmp);
	free(tmp);
	return r;
}

static int
account(struct ctx *c, const char *labc)
{
	const char *user = c->srv->cfg.gateway_user;
	struct passwd *pw = getpwnam(user);
	char *out = NULL;
	int r;

	if (pw == NULL) {
		char *home = xasprintf("/var/lib/labcontainers/%s", user);
		const char *add[] = { "/usr/sbin/useradd", "--system",
		    "--create-home", "--home-dir", home, "--shell", labc,
		    "--comment", "labcontainers SSH gateway", user, NULL };
		const char *pw_del[] = { "/usr/bin/passwd", "-d", user, NULL };

		(void)mkdir("/var/lib/labcontainers", 0755);
		r = run_cmd(add, &out);
		free(home);
		if (r != 0) {
			r = ctx_error(c, "useradd %s failed: %s", user,
			    out ? out : "");
			free(out);
			return r;
		}
		free(out);
		if (run_cmd(pw_del, &out) != 0) {
			r = ctx_error(c, "passwd -d %s failed: %s", user,
			    out ? out : "");
			free(out);
			return r;
		}
		free(out);
		ctx_printf(c, "Made the account %s (shell %s, empty password "
		    "for the keyless fallback).\n", user, labc);
		return PROTO_OK;
	}
	if (pw->pw_uid == 0)
		return ctx_error(c, "gateway_user %s is root: choose another "
		    "account", user);
	if (strcmp(pw->pw_shell, labc) != 0) {
		const char *mod[] = { "/usr/sbin/usermod", "--shell", labc,
		    user, NULL };

		if ((r = run_cmd(mod, &out)) != 0) {
			r = ctx_error(c, "usermod %s failed: %s", user,
			    out ? out : "");
			free(out);
			return r;
		}
		free(out);
		ctx_printf(c, "Set the login shell of %s to %s (it was %s).\n",
		    user, labc, pw->pw_shell);
	} else
		ctx_printf(c, "The account %s is right already.\n", user);
	return PROTO_OK;
}

static int
cmd_admin_gateway_setup_exec(struct ctx *c)
{
	const char *dir = cmd_opt(c, "dir") ?: "/etc/ssh/sshd_config.d";
	const char *conf = cmd_opt(c, "sshd-config") ?: "/etc/ssh/sshd_config";
	char *labc = cmd_opt(c, "labc") ? xstrdup(cmd_opt(c, "labc")) :
	    labc_path();
	char *path = xasprintf("%s/50-labcontainers.conf", dir);
	char *text = NULL, *old = NULL, *out = NULL;
	const char *check[] = { "/usr/sbin/sshd", "-t", "-f", conf, NULL };
	int r;

	ctx_target(c, "%s", c->srv->cfg.gateway_user);
	if (labc[0] != '/' || access(labc, X_OK) != 0) {
		r = ctx_error(c, "labc is not at %s: give --labc PATH", labc);
		goto out;
	}
	if ((r = account(c, labc)) != 0)
		goto out;
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		r = ctx_error(c, "cannot make %s: %s", dir, strerror(errno));
		goto out;
	}
	text = dropin_text(c, labc);
	old = read_file(path);
	if (old != NULL && strcmp(old, text) == 0) {
		ctx_printf(c, "%s is right already.\n", path);
	} else {
		if (write_file(path, text) != 0) {
			r = ctx_error(c, "cannot write %s: %s", path,
			    strerror(errno));
			goto out;
		}
		if ((r = run_cmd(check, &out)) != 0) {
			/* Never leave sshd a configuration it refuses. */
			if (old != NULL)
				(void)write_file(path, old);
			else
				unlink(path);
			r = ctx_error(c, "sshd -t -f %s refused the drop-in, so "
			    "it was taken back:\n%s", conf, out ? out : "");
			goto out;
		}
		ctx_printf(c, "%s %s (Match User %s: keys from labc, no "
		    "forwarding).\nsshd -t accepts it; reload sshd to use it: "
		    "systemctl reload ssh\n", old ? "Updated" : "Wrote", path,
		    c->srv->cfg.gateway_user);
	}
	r = PROTO_OK;
out:
	free(labc);
	free(path);
	free(text);
	free(old);
	free(out);
	return r;
}

const struct cmd_entry cmd_admin_gateway_setup_entry = {
	.name = "admin gateway setup",
	.args = "[--dir DIR] [--sshd-config FILE] [--labc PATH]",
	.summary = "make the SSH gateway account and its sshd drop-in",
	.help = "Makes the account gateway_user if missing (login shell labc,\n"
	    "empty password so members without a key can log in and then\n"
	    "'login'), and writes DIR/50-labcontainers.conf (default\n"
	    "/etc/ssh/sshd_config.d), a Match block for that account only,\n"
	    "checked with sshd -t -f FILE. Running it again changes nothing\n"
	    "that is right.",
	.flags = CMD_ADMIN | CMD_ROOT,
	.opts = {
		{ "dir", 0, 1, "DIR" }, { "sshd-config", 0, 1, "FILE" },
		{ "labc", 0, 1, "PATH" },
	},
	.exec = cmd_admin_gateway_setup_exec,
};
