/*
 * cmd-admin-gateway-setup.c - admin gateway setup: the one SSH account
 * members reach the server through, and the account sshd asks about keys
 * as. The gateway account gets login shell labc, password '*' (su and
 * login refuse it; sshd's public-key login works) and a home of root's;
 * labcd believes its uid, so nothing but sshd may run as it. Writes an
 * sshd drop-in that applies to that account only (public keys only, no
 * forwarding, no user rc), checks it with sshd -t and says what it changed.
 * Run on an older install, it fixes what that left (an empty password).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <shadow.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicio.h"
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
	    "# Members log in as %s with their own key; labcd says who they\n"
	    "# are. A key that is no lab user's proven key gets an anonymous\n"
	    "# session, where 'login' registers it. Every key is forced to run\n"
	    "# labc, so no shell, sftp or forwarding. For the account %s only.\n"
	    "Match User %s\n"
	    "\tAuthorizedKeysFile none\n"
	    "\tAuthorizedKeysCommand %s %s--authorized-keys %%u %%k %%t\n"
	    "\tAuthorizedKeysCommandUser %s\n"
	    "\tExposeAuthInfo yes\n"
	    "\tAuthenticationMethods publickey\n"
	    "\tPubkeyAuthentication yes\n"
	    "\tPasswordAuthentication no\n"
	    "\tKbdInteractiveAuthentication no\n"
	    "\tPermitEmptyPasswords no\n"
	    "\tDisableForwarding yes\n"
	    "\tAllowTcpForwarding no\n"
	    "\tAllowStreamLocalForwarding no\n"
	    "\tAllowAgentForwarding no\n"
	    "\tX11Forwarding no\n"
	    "\tPermitTunnel no\n"
	    "\tPermitUserRC no\n"
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
	if (fd >= 0 && write_all(fd, text, strlen(text)) == 0 &&
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

/* Run argv; on failure say so (with its output) and return the status. */
static int
run_or_say(struct ctx *c, const char *const *argv)
{
	char *out = NULL;
	int r;

	if ((r = run_cmd(argv, &out)) != 0)
		r = ctx_error(c, "%s %s failed: %s", argv[0], argv[1],
		    out ? out : "");
	free(out);
	return r;
}

/*
 * The password is '*': no password matches it, so su and login refuse the
 * account (an empty one lets every local user su to it: pam_unix nullok),
 * while sshd's key login works ('!' would stop that where sshd runs
 * without PAM). useradd leaves '!'.
 */
static int
lock_password(struct ctx *c, const char *user, int made)
{
	const char *mod[] = { "/usr/sbin/usermod", "--password", "*", user,
	    NULL };
	struct spwd *sp = getspnam(user);
	const char *was;
	int r;

	if (sp != NULL && sp->sp_pwdp != NULL && strcmp(sp->sp_pwdp, "*") == 0)
		return PROTO_OK;
	was = sp == NULL || sp->sp_pwdp == NULL || sp->sp_pwdp[0] == '\0' ?
	    "empty, so any local user could su to it" : sp->sp_pwdp[0] == '!' ?
	    "locked with '!', which stops key logins where sshd runs without "
	    "PAM" : "a usable password";
	if ((r = run_or_say(c, mod)) != 0)
		return r;
	if (!made)
		ctx_printf(c, "Locked the password of %s ('*'; it was %s). SSH "
		    "keys still work.\n", user, was);
	return PROTO_OK;
}

/*
 * The home is root's and not writable by the account: nothing there
 * (~/.ssh/rc, ~/.ssh/authorized_keys) is the account's to write.
 */
static int
root_home(struct ctx *c, const struct passwd *pw)
{
	struct stat st;

	if (lstat(pw->pw_dir, &st) != 0) {
		if (errno != ENOENT || mkdir(pw->pw_dir, 0755) != 0)
			return ctx_error(c, "cannot make the home %s of %s: %s",
			    pw->pw_dir, pw->pw_name, strerror(errno));
		if (chown(pw->pw_dir, 0, 0) != 0 || chmod(pw->pw_dir, 0755) != 0)
			return ctx_error(c, "cannot give %s to root: %s",
			    pw->pw_dir, strerror(errno));
		return PROTO_OK;
	}
	if (S_ISDIR(st.st_mode) && st.st_uid == 0 && !(st.st_mode & 022))
		return PROTO_OK;
	if (!S_ISDIR(st.st_mode) || (st.st_uid != 0 &&
	    st.st_uid != pw->pw_uid))
		return ctx_error(c, "the home %s of %s is not a directory of "
		    "its own: give it one (usermod --home "
		    "/var/lib/labcontainers/%s %s) and run this again",
		    pw->pw_dir, pw->pw_name, pw->pw_name, pw->pw_name);
	if (st.st_uid == 0 && (st.st_mode & S_ISVTX))
		return ctx_error(c, "the home %s of %s is a shared directory "
		    "(sticky, writable by others): give it one of its own "
		    "(usermod --home /var/lib/labcontainers/%s %s)",
		    pw->pw_dir, pw->pw_name, pw->pw_name, pw->pw_name);
	if (chown(pw->pw_dir, 0, 0) != 0 || chmod(pw->pw_dir, 0755) != 0)
		return ctx_error(c, "cannot give %s to root: %s", pw->pw_dir,
		    strerror(errno));
	ctx_printf(c, "Gave the home %s of %s to root, mode 0755 (it was "
	    "writable by %s).\n", pw->pw_dir, pw->pw_name, st.st_uid == 0 ?
	    "others" : pw->pw_name);
	return PROTO_OK;
}

static int
account(struct ctx *c, const char *labc)
{
	const char *user = c->srv->cfg.gateway_user;
	struct passwd *pw = getpwnam(user);
	char *home = xasprintf("/var/lib/labcontainers/%s", user);
	int r, made = 0, said = 0;

	if (pw == NULL) {
		const char *add[] = { "/usr/sbin/useradd", "--system",
		    "--no-create-home", "--home-dir", home, "--shell", labc,
		    "--comment", "labcontainers SSH gateway", user, NULL };

		(void)mkdir("/var/lib/labcontainers", 0755);
		if ((r = run_or_say(c, add)) != 0)
			goto out;
		made = 1;
		if ((pw = getpwnam(user)) == NULL) {
			r = ctx_error(c, "useradd made no account %s", user);
			goto out;
		}
	}
	if (pw->pw_uid == 0) {
		r = ctx_error(c, "gateway_user %s is root: choose another "
		    "account", user);
		goto out;
	}
	if (!made && strcmp(pw->pw_shell, labc) != 0) {
		const char *mod[] = { "/usr/sbin/usermod", "--shell", labc,
		    user, NULL };

		if ((r = run_or_say(c, mod)) != 0)
			goto out;
		ctx_printf(c, "Set the login shell of %s to %s (it was %s).\n",
		    user, labc, pw->pw_shell);
		said = 1;
	}
	if ((r = lock_password(c, user, made)) != 0 ||
	    (r = root_home(c, pw)) != 0)
		goto out;
	if (made)
		ctx_printf(c, "Made the account %s (shell %s, password '*': "
		    "SSH keys only; home %s, root's).\n", user, labc,
		    pw->pw_dir);
	else if (!said && c->out.len == 0)
		ctx_printf(c, "The account %s is right already.\n", user);
	r = PROTO_OK;
out:
	free(home);
	return r;
}

/*
 * The account sshd runs 'labc --authorized-keys' as: one of its own (not
 * nobody, which other daemons share), since labcd answers it every key.
 */
static int
keys_account(struct ctx *c)
{
	const struct config *cfg = &c->srv->cfg;
	const char *user = cfg->gateway_keys_user;
	struct passwd *pw;
	int r;

	if (strcmp(user, "nobody") == 0 || strcmp(user, cfg->gateway_user) == 0)
		return ctx_error(c, "gateway_keys_user %s: sshd's key lookup "
		    "needs an account of its own (the default is labc-keys); "
		    "change it in the configuration and run this again", user);
	if ((pw = getpwnam(user)) != NULL) {
		const char *sh = strrchr(pw->pw_shell, '/');

		/*
		 * labcd answers this account every lab user's keys: an
		 * account people or other daemons use (www-data, a member's
		 * login) must not be it. Ours is a system account that
		 * cannot log in.
		 */
		if (pw->pw_uid == 0 || pw->pw_uid >= ident_uid_min() ||
		    sh == NULL || (strcmp(sh, "/nologin") != 0 &&
		    strcmp(sh, "/false") != 0))
			return ctx_error(c, "gateway_keys_user %s is an account "
			    "that can log in or is not a system account (uid "
			    "%u, shell %s): sshd's key lookup needs one of its "
			    "own; set gateway_keys_user to a name that does not "
			    "exist yet (the default is labc-keys) and run this "
			    "again", user, (unsigned)pw->pw_uid, pw->pw_shell);
		ctx_printf(c, "The account %s is right already.\n", user);
		return PROTO_OK;
	}
	{
		const char *add[] = { "/usr/sbin/useradd", "--system",
		    "--no-create-home", "--home-dir", "/nonexistent", "--shell",
		    "/usr/sbin/nologin", "--comment", "labcontainers sshd key "
		    "lookup", user, NULL };

		if ((r = run_or_say(c, add)) != 0)
			return r;
	}
	ctx_printf(c, "Made the account %s (sshd asks labc about keys as it; "
	    "no login).\n", user);
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
	if ((r = account(c, labc)) != 0 || (r = keys_account(c)) != 0)
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
		/* sshd -t wants its privilege separation directory, which
		 * only ssh.service or Debian's init script make. */
		if (mkdir("/run/sshd", 0755) == 0)
			(void)chmod("/run/sshd", 0755);
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
		ctx_printf(c, "%s %s (Match User %s: public keys from labc "
		    "only, no forwarding, no user rc%s).\nsshd -t accepts it; "
		    "reload sshd to use it: systemctl reload ssh\n", old ?
		    "Updated" : "Wrote", path, c->srv->cfg.gateway_user,
		    old != NULL && strstr(old, "PermitEmptyPasswords yes") ?
		    "; no more empty-password login" : "");
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
	    "password '*': SSH keys only; home root's) and the account\n"
	    "gateway_keys_user sshd asks about keys as, and writes\n"
	    "DIR/50-labcontainers.conf (default /etc/ssh/sshd_config.d), a\n"
	    "Match block for that account only (public keys only, no\n"
	    "forwarding, no user rc), checked with sshd -t -f FILE. Running\n"
	    "it again changes nothing that is right, and fixes an older\n"
	    "install's empty password and drop-in.",
	.flags = CMD_ADMIN | CMD_ROOT,
	.opts = {
		{ "dir", 0, 1, "DIR" }, { "sshd-config", 0, 1, "FILE" },
		{ "labc", 0, 1, "PATH" },
	},
	.exec = cmd_admin_gateway_setup_exec,
};
