/*
 * gateway.c - what the gateway needs on the host, as doctor checks it:
 * the gateway account (login shell labc, password locked, a home of
 * root's), the account sshd asks about keys as, and the sshd drop-in
 * that 'admin gateway setup' writes (valid, in force for the account,
 * and what sshd then applies to it).
 */
#include <errno.h>
#include <pwd.h>
#include <shadow.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkup.h"
#include "gateway.h"
#include "inert.h"
#include "labcd.h"
#include "log.h"
#include "run.h"
#include "xmalloc.h"

/*
 * The gateway uid is trusted to assert lab users: only sshd's key login
 * may reach it. Its password is locked ('*' or '!...', not empty: an
 * empty one lets every local user su to it), its home is root's, and sshd
 * runs the key lookup as an account of its own.
 */
static void
check_gateway_account(struct checkup *d, const struct passwd *pw,
    const char *fix)
{
	struct op *op = checkup_op(d);
	const struct config *cfg = &op->srv->cfg;
	struct spwd *sp = getspnam(pw->pw_name);
	struct passwd kpw, *kp = NULL;
	char kbuf[4096];
	struct stat st;

	if (sp == NULL || sp->sp_pwdp == NULL || (strcmp(sp->sp_pwdp, "*") != 0
	    && sp->sp_pwdp[0] != '!'))
		checkup_row(d, "gateway password", "problem", fix, "%s's "
		    "password is %s: any local user could su to it and speak "
		    "for lab users", pw->pw_name, sp == NULL ? "not in "
		    "/etc/shadow" :
		    sp->sp_pwdp == NULL || sp->sp_pwdp[0] == '\0' ? "empty" :
		    "usable");
	else if (stat(pw->pw_dir, &st) != 0 || st.st_uid != 0 ||
	    (st.st_mode & 022))
		checkup_row(d, "gateway password", "problem", fix, "%s's "
		    "password is locked, but its home %s is not root's alone",
		    pw->pw_name, pw->pw_dir);
	else
		checkup_row(d, "gateway password", "ok", NULL, "%s's password "
		    "is locked (SSH keys only); its home %s is root's",
		    pw->pw_name, pw->pw_dir);
	/* Not getpwnam: pw is its static entry. */
	if (getpwnam_r(cfg->gateway_keys_user, &kpw, kbuf, sizeof(kbuf), &kp)
	    != 0)
		kp = NULL;
	if (kp == NULL || kp->pw_uid == 0 || kp->pw_uid == pw->pw_uid ||
	    strcmp(kp->pw_name, "nobody") == 0)
		checkup_row(d, "gateway key lookup", "problem",
		    kp == NULL ? fix :
		    "set gateway_keys_user to an account of its own (default "
		    "labc-keys), then labc admin gateway setup", "%s "
		    "(gateway_keys_user) %s", cfg->gateway_keys_user,
		    kp == NULL ? "does not exist" : "is not an account of its "
		    "own: labcd answers it about every key");
	else
		checkup_row(d, "gateway key lookup", "ok", NULL, "sshd asks as "
		    "%s (uid %u)", kp->pw_name, (unsigned)kp->pw_uid);
}

/* sshd -T's value for key (a line "key value"), or NULL; caller frees. */
static char *
sshd_value(const char *conf, const char *key)
{
	size_t klen = strlen(key);
	const char *p;

	for (p = conf; p != NULL && *p != '\0'; p = strchr(p, '\n'),
	    p = p != NULL ? p + 1 : NULL) {
		if (strncmp(p, key, klen) == 0 && p[klen] == ' ')
			return xstrndup(p + klen + 1, strcspn(p + klen + 1,
			    "\n"));
	}
	return NULL;
}

/*
 * What sshd applies to the gateway account (sshd -T -C user=...): public
 * keys only, every key forced to labc (no authorized_keys file, no
 * ForceCommand that would replace labc), no forwarding of any kind, no
 * user rc. With every key forced, a Subsystem sftp request runs labc,
 * which refuses it: that is how sftp is unreachable for the account.
 */
static void
check_gateway_sshd(struct checkup *d, const char *eff, const char *fix)
{
	struct op *op = checkup_op(d);
	static const char *const want[][2] = {
		{ "authenticationmethods", "publickey" },
		{ "authorizedkeysfile", "none" },
		{ "forcecommand", "none" },
		{ "disableforwarding", "yes" },
		{ "allowtcpforwarding", "no" },
		{ "allowstreamlocalforwarding", "no" },
		{ "x11forwarding", "no" },
		{ "permittunnel", "no" },
		{ "permituserrc", "no" },
		{ "exposeauthinfo", "yes" },
	};
	struct buf bad = BUF_INIT(4096);
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char *v = sshd_value(eff, want[i][0]);

		/* sshd -T leaves out a ForceCommand that is not set. */
		if (v == NULL && strcmp(want[i][0], "forcecommand") == 0)
			continue;
		if (v == NULL || strcmp(v, want[i][1]) != 0)
			buf_printf(&bad, "%s%s %s (want %s)", bad.len ? ", " :
			    "", want[i][0], v ? v : "unset", want[i][1]);
		free(v);
	}
	if (bad.len > 0)
		checkup_row(d, "gateway sshd", "problem", fix, "sshd -T for "
		    "%s: %s", op->srv->cfg.gateway_user, buf_str(&bad));
	else
		checkup_row(d, "gateway sshd", "ok", NULL, "%s: public keys "
		    "only, each forced to labc (so no shell and no sftp), no "
		    "forwarding, no user rc", op->srv->cfg.gateway_user);
	buf_free(&bad);
}

void
gateway_doctor(struct checkup *d)
{
	struct op *op = checkup_op(d);
	const struct config *cfg = &op->srv->cfg;
	const char *odir = checkup_dir(d), *oconf = checkup_sshd_config(d);
	const char *dir = odir ?: "/etc/ssh/sshd_config.d";
	const char *conf = oconf ?: "/etc/ssh/sshd_config";
	char *path = xasprintf("%s/50-labcontainers.conf", dir), *out = NULL;
	char *who = xasprintf("user=%s,host=doctor,addr=127.0.0.1",
	    cfg->gateway_user), *fix;
	const char *test[] = { "/usr/sbin/sshd", "-t", "-f", conf, NULL };
	const char *eff[] = { "/usr/sbin/sshd", "-T", "-f", conf, "-C", who,
	    NULL };
	struct passwd *pw = getpwnam(cfg->gateway_user);
	struct stat sb;
	int r;

	fix = xasprintf("labc admin gateway setup%s%s%s%s", odir ?
	    " --dir " : "", odir ?: "", oconf ? " --sshd-config " : "",
	    oconf ?: "");
	if (pw == NULL)
		checkup_row(d, "gateway account", "problem", fix, "no host "
		    "account %s (gateway_user)", cfg->gateway_user);
	else if (strstr(pw->pw_shell, "labc") == NULL)
		checkup_row(d, "gateway account", "problem", fix, "%s has the "
		    "login shell %s, not labc", cfg->gateway_user,
		    pw->pw_shell);
	else
		checkup_row(d, "gateway account", "ok", NULL, "%s (uid %u, "
		    "shell %s)", cfg->gateway_user, (unsigned)pw->pw_uid,
		    pw->pw_shell);
	if (pw != NULL)
		check_gateway_account(d, pw, fix);

	if (access(test[0], X_OK) != 0) {
		checkup_row(d, "sshd drop-in", "problem", "apt-get install "
		    "openssh-server", "%s: %s: no sshd for the gateway",
		    test[0], strerror(errno));
		goto out;
	}
	if (stat(path, &sb) != 0) {
		checkup_row(d, "sshd drop-in", "problem", fix, "%s: %s", path,
		    strerror(errno));
		goto out;
	}
	if ((r = run_cmd(test, &out)) != 0) {
		char *f2 = xasprintf("correct %s (or remove it and run: %s), "
		    "then sshd -t -f %s", path, fix, conf);

		out[strcspn(out, "\n")] = '\0';
		/*
		 * sshd ran as root and quotes the files it reads: its words
		 * go to root only (an admin is not root); the log keeps them.
		 */
		if (r > 0) {
			char *shown = inert_str(out);

			log_warn("admin doctor: sshd -t -f %s: %s", conf,
			    shown);
			free(shown);
		}
		checkup_row(d, "sshd drop-in", "problem", f2, "sshd -t -f %s "
		    "refuses the configuration: %s", conf, r < 0 ? "sshd did "
		    "not run" :
		    op->actor->root ? out : "its message is in labcd's log (or "
		    "run 'sudo labc admin doctor' to see it)");
		free(f2);
		goto out;
	}
	free(out);
	out = NULL;
	/* In force for the gateway account: the Include reaches it. */
	if (run_cmd(eff, &out) != 0 || strstr(out, "\nauthorizedkeyscommand ")
	    == NULL || strstr(out, "--authorized-keys") == NULL) {
		char *f2 = xasprintf("add 'Include %s/*.conf' at the top of %s",
		    dir, conf);

		checkup_row(d, "sshd drop-in", "problem", f2, "%s is valid, "
		    "but sshd does not apply it to %s (sshd -T -C %s)", path,
		    cfg->gateway_user, who);
		free(f2);
		goto out;
	}
	checkup_row(d, "sshd drop-in", "ok", NULL, "%s: sshd -t accepts it, "
	    "and it applies to %s", path, cfg->gateway_user);
	check_gateway_sshd(d, out, fix);
out:
	free(fix);
	free(out);
	free(who);
	free(path);
}
