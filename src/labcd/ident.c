/*
 * ident.c - who is asking. The uid comes from the socket (SO_PEERCRED),
 * never from a message; then root, the admin group, mapped host users, the
 * gateway's assertion and password sessions decide the identity. The
 * gateway uid is believed only from a process whose parent is sshd.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "db-keys.h"
#include "db-sessions.h"
#include "db-users.h"
#include "labcd.h"
#include "proto.h"
#include "sshkey.h"
#include "xmalloc.h"

/* Is uid (primary group gid, name) in the admin group? */
static int
in_admin_group(struct server *s, const struct passwd *pw)
{
	gid_t groups[256];
	int n = 256, i;

	if (s->admin_gid == (gid_t)-1 || pw == NULL)
		return 0;
	if (pw->pw_gid == s->admin_gid)
		return 1;
	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (groups[i] == s->admin_gid)
			return 1;
	}
	return 0;
}

uid_t
ident_uid_of(const char *name)
{
	struct passwd pwbuf, *pw = NULL;
	char strbuf[4096];

	if (getpwnam_r(name, &pwbuf, strbuf, sizeof(strbuf), &pw) != 0 ||
	    pw == NULL || pw->pw_uid == 0)
		return (uid_t)-1;
	return pw->pw_uid;
}

/*
 * The programs sshd runs a session's command from: sshd itself up to
 * OpenSSH 9.7, sshd-session from 9.8 on. Only these may be the parent of
 * a gateway process labcd believes.
 */
static const char *const sshd_programs[] = {
	"/usr/sbin/sshd",
	"/usr/lib/openssh/sshd-session",
	NULL
};

/*
 * ppid and start time (clock ticks since boot) from /proc/PID/stat. comm,
 * the second field, is in parentheses and may itself hold ')' and spaces:
 * the fields after it start after the last ')'.
 */
static int
proc_stat(pid_t pid, pid_t *ppid, unsigned long long *start)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	int fd, pp;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	/* state ppid pgrp session tty tpgid flags minflt cminflt majflt
	   cmajflt utime stime cutime cstime priority nice threads
	   itrealvalue starttime */
	if ((p = strrchr(buf, ')')) == NULL || sscanf(p + 1, " %*c %d %*d %*d "
	    "%*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
	    &pp, start) != 2)
		return -EIO;
	*ppid = pp;
	return 0;
}

/* Does pid run one of sshd_programs? */
static int
runs_sshd(pid_t pid)
{
	char path[64], exe[PATH_MAX];
	const char *const *p;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	if ((n = readlink(path, exe, sizeof(exe) - 1)) <= 0)
		return 0;
	exe[n] = '\0';
	/* A session older than an upgrade of OpenSSH runs a deleted file. */
	if (n > 10 && strcmp(exe + n - 10, " (deleted)") == 0)
		exe[n - 10] = '\0';
	for (p = sshd_programs; *p != NULL; p++) {
		if (strcmp(exe, *p) == 0)
			return 1;
	}
	return 0;
}

/* The real uid of pid (the first Uid: field of /proc/PID/status), or -1. */
static uid_t
proc_ruid(pid_t pid)
{
	char path[64], line[256];
	unsigned long u;
	uid_t r = (uid_t)-1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return r;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "Uid: %lu", &u) == 1) {
			r = (uid_t)u;
			break;
		}
	}
	fclose(f);
	return r;
}

/*
 * Is the peer pid's parent sshd, itself a child of root's sshd? Asked
 * when the client connects. The pid came from SO_PEERCRED at connect();
 * the parent's program is read, then
 * the parent must have started before the peer and the peer still be the
 * same process (same start time and parent), so a pid that changed hands
 * while we looked does not pass. Left open: a peer that exited between
 * connect() and this check, whose pid a child of sshd took in that
 * instant (SO_PEERPIDFD, Linux 6.5, would close it).
 */
static int
parent_is_sshd(pid_t pid)
{
	unsigned long long start, start2, pstart, gstart;
	pid_t ppid, ppid2, gpp, ggpp;

	if (pid <= 1 || proc_stat(pid, &ppid, &start) != 0 || ppid <= 1 ||
	    !runs_sshd(ppid))
		return 0;
	if (proc_stat(ppid, &gpp, &pstart) != 0 || pstart > start ||
	    proc_stat(pid, &ppid2, &start2) != 0 || ppid2 != ppid ||
	    start2 != start)
		return 0;
	/*
	 * The session's sshd must be the child of root's sshd (the monitor
	 * of privilege separation): an sshd that the gateway account
	 * started itself runs every process as that account: code that ever
	 * ran as it cannot pass off a forged ExposeAuthInfo file through an
	 * sshd of its own.
	 */
	if (gpp <= 1 || !runs_sshd(gpp) || proc_ruid(gpp) != 0 ||
	    proc_stat(gpp, &ggpp, &gstart) != 0 || gstart > pstart)
		return 0;
	return 1;
}

/* UID_MIN of /etc/login.defs (default 1000): below it, system accounts. */
static uid_t uid_min = 1000;
static pthread_once_t uid_min_once = PTHREAD_ONCE_INIT;

static void
read_uid_min(void)
{
	FILE *f = fopen("/etc/login.defs", "re");
	char line[256];
	unsigned long v;

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, " UID_MIN %lu", &v) == 1 && v > 0 &&
		    v < UINT_MAX)
			uid_min = (uid_t)v;
	}
	fclose(f);
}

uid_t
ident_uid_min(void)
{
	pthread_once(&uid_min_once, read_uid_min);
	return uid_min;
}

/* May this host uid be mapped to the lab user of its name? */
static int
mappable(struct server *s, uid_t uid)
{
	return uid >= ident_uid_min() && uid != ident_uid_of(s->cfg.gateway_user) &&
	    uid != ident_uid_of(s->cfg.gateway_keys_user) &&
	    uid != ident_uid_of(s->cfg.web_user);
}

void
ident_from_peer(struct server *s, int fd, struct ident *id)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	struct passwd pwbuf, *pw = NULL;
	char strbuf[4096];

	memset(id, 0, sizeof(*id));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0) {
		id->uid = (uid_t)-1;
		snprintf(id->host_user, sizeof(id->host_user), "unknown");
		return;
	}
	id->uid = cr.uid;
	id->pid = cr.pid;
	if (getpwuid_r(cr.uid, &pwbuf, strbuf, sizeof(strbuf), &pw) == 0 &&
	    pw != NULL)
		snprintf(id->host_user, sizeof(id->host_user), "%s",
		    pw->pw_name);
	else
		snprintf(id->host_user, sizeof(id->host_user), "uid %u",
		    (unsigned)cr.uid);
	id->root = cr.uid == 0;
	/* labc-web's account is never root, nobody or a gateway account,
	   whatever the config says; it is nobody's admin either. */
	id->web = !id->root && cr.uid == ident_uid_of(s->cfg.web_user) &&
	    cr.uid != ident_uid_of(s->cfg.gateway_user) &&
	    cr.uid != ident_uid_of(s->cfg.gateway_keys_user) &&
	    strcmp(id->host_user, "nobody") != 0;
	id->admin = id->root || (!id->web && in_admin_group(s, pw));
	/* Checked once, when the client connects: its process is young. */
	if (!id->root && cr.uid == ident_uid_of(s->cfg.gateway_user))
		id->from_sshd = parent_is_sshd(cr.pid);
}

/* Load a lab user by name into id; 0, -1 if none, -2 if locked. */
static int
load_user(struct ctx *c, const char *name)
{
	struct user_row u;

	if (userdb_get(c->db, name, &u) != 0)
		return -1;
	if (u.disabled)
		return -2;	/* locked by an admin */
	c->id.user_id = u.id;
	snprintf(c->id.user, sizeof(c->id.user), "%s", u.name);
	c->id.admin = c->id.admin || u.is_admin;
	return 0;
}

/* Is the key sshd accepted a proven key of lab user user_id? */
static int
key_is_users(struct ctx *c, const char *key, long long user_id)
{
	struct sshkey k;
	char err[256];
	int ok;

	if (key == NULL || sshkey_parse(key, &k, err, sizeof(err)) != 0)
		return 0;
	ok = keydb_proven(c->db, k.fingerprint, user_id);
	sshkey_free(&k);
	return ok;
}

int
ident_resolve(struct ctx *c, const char *as, const char *session,
    const char *key)
{
	struct ident *id = &c->id;
	struct server *s = c->srv;
	int r;

	snprintf(id->via, sizeof(id->via), "none");
	if ((as != NULL || key != NULL) && !id->root) {
		if (id->uid != ident_uid_of(s->cfg.gateway_user))
			return ctx_error(c, "%s is only for root and the SSH "
			    "gateway account; you are %s", as != NULL ? "--as" :
			    "a request with an SSH key", id->host_user);
		/* su, cron, setpriv...: the uid, but not sshd's word. */
		if (!id->from_sshd)
			return ctx_error(c, "the SSH gateway account %s is "
			    "believed only from sshd, and this process's parent "
			    "is not sshd: refused", id->host_user);
	}
	if (as == NULL && key != NULL && !id->root) {
		struct sshkey k;
		char err[256];

		/* An anonymous session, bound to the key sshd accepted. */
		if (sshkey_parse(key, &k, err, sizeof(err)) != 0)
			return ctx_error(c, "the SSH key of this connection: %s",
			    err);
		snprintf(id->gw_fp, sizeof(id->gw_fp), "%s", k.fingerprint);
		sshkey_free(&k);
		id->gw_key = key;
	}
	if (as != NULL) {
		const char *why = user_name_invalid(as);

		if (why != NULL)
			return ctx_error(c, "--as %.40s: %s", as, why);
		/* Acting for a member is being that member, nothing more. */
		id->admin = 0;
		if ((r = load_user(c, as)) != 0)
			return ctx_error(c, "--as %s: %s", as, r == -2 ?
			    "the account is locked (ask an admin)" :
			    "no such lab user");
		/* The gateway proves it with the key sshd accepted. */
		if (!id->root && !key_is_users(c, key, id->user_id))
			return ctx_error(c, "--as %s: the SSH key of this "
			    "connection is not %s's (or no longer registered)",
			    as, as);
		snprintf(id->via, sizeof(id->via), "%s", id->root ? "root" :
		    "gateway");
		snprintf(id->actor, sizeof(id->actor), "%s as %s",
		    id->host_user, id->user);
		return 0;
	}
	if (session != NULL) {
		char hash[65];
		long long uid = -1;

		auth_token_hash(session, hash);
		if (sessdb_find(c->db, hash, (long long)time(NULL), id->user,
		    &uid) != 0)
			uid = -1;
		/* A token is good only for the uid that logged in. */
		if (uid >= 0 && (uid_t)uid == id->uid) {
			char name[33];

			snprintf(name, sizeof(name), "%s", id->user);
			id->admin = 0;	/* the session's user, nothing more */
			if ((r = load_user(c, name)) == -2)
				return ctx_error(c, "%s is locked (ask an "
				    "admin)", name);
			if (r == 0) {
				snprintf(id->via, sizeof(id->via), "session");
				snprintf(id->actor, sizeof(id->actor), "%s",
				    id->user);
				return 0;
			}
		}
		id->user[0] = '\0';
		/* Expired or unknown: the client forgets it; other ways on. */
		c->stale_session = 1;
	}
	if (id->admin) {
		snprintf(id->via, sizeof(id->via), "%s", id->root ? "root" :
		    "admin-group");
		snprintf(id->actor, sizeof(id->actor), "%s", id->host_user);
	}
	if (s->cfg.map_host_users && !id->root && id->gw_key == NULL &&
	    mappable(s, id->uid) && user_name_invalid(id->host_user) == NULL &&
	    load_user(c, id->host_user) == 0) {
		if (strcmp(id->via, "none") == 0)
			snprintf(id->via, sizeof(id->via), "mapped");
		snprintf(id->actor, sizeof(id->actor), "%s", id->user);
		return 0;
	}
	if (strcmp(id->via, "none") == 0 && id->gw_key != NULL)
		snprintf(id->actor, sizeof(id->actor), "%.40s (not logged "
		    "in, key %.60s)", id->host_user, id->gw_fp);
	else if (strcmp(id->via, "none") == 0)
		snprintf(id->actor, sizeof(id->actor), "%s (not logged in)",
		    id->host_user);
	return 0;
}
