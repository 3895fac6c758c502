/*
 * ident.c - who is asking. The uid comes from the socket (SO_PEERCRED),
 * never from a message; then root, the admin group, mapped host users, the
 * gateway's assertion and password sessions decide the identity.
 */
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "labcd.h"
#include "proto.h"
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
	id->admin = id->root || in_admin_group(s, pw);
}

/* Load a lab user by name into id; 0, or -1 if there is none. */
static int
load_user(struct ctx *c, const char *name)
{
	sqlite3_stmt *st = db_prepare(c->db,
	    "SELECT id, name, is_admin FROM users WHERE name = ?");
	int r = -1;

	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		c->id.user_id = sqlite3_column_int64(st, 0);
		snprintf(c->id.user, sizeof(c->id.user), "%s",
		    (const char *)sqlite3_column_text(st, 1));
		c->id.admin = c->id.admin || sqlite3_column_int(st, 2);
		r = 0;
	}
	sqlite3_finalize(st);
	return r;
}

int
ident_resolve(struct ctx *c, const char *as, const char *session)
{
	struct ident *id = &c->id;
	struct server *s = c->srv;

	snprintf(id->via, sizeof(id->via), "none");
	if (as != NULL) {
		const char *why = user_name_invalid(as);

		if (!id->root && id->uid != s->gateway_uid)
			return ctx_error(c, "--as is only for root and the SSH "
			    "gateway account; you are %s", id->host_user);
		if (why != NULL)
			return ctx_error(c, "--as %.40s: %s", as, why);
		/* Acting for a member is being that member, nothing more. */
		id->admin = 0;
		if (load_user(c, as) != 0)
			return ctx_error(c, "--as %s: no such lab user", as);
		snprintf(id->via, sizeof(id->via), "%s", id->root ? "root" :
		    "gateway");
		snprintf(id->actor, sizeof(id->actor), "%s as %s",
		    id->host_user, id->user);
		return 0;
	}
	if (session != NULL) {
		char hash[65];
		sqlite3_stmt *st;
		long long uid = -1;

		auth_token_hash(session, hash);
		st = db_prepare(c->db, "SELECT u.name, s.uid FROM sessions s "
		    "JOIN users u ON u.id = s.user_id WHERE s.token_hash = ? "
		    "AND s.expires > ?");
		sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (long long)time(NULL));
		if (sqlite3_step(st) == SQLITE_ROW) {
			uid = sqlite3_column_int64(st, 1);
			snprintf(id->user, sizeof(id->user), "%s",
			    (const char *)sqlite3_column_text(st, 0));
		}
		sqlite3_finalize(st);
		/* A token is good only for the uid that logged in. */
		if (uid >= 0 && (uid_t)uid == id->uid) {
			char name[33];

			snprintf(name, sizeof(name), "%s", id->user);
			id->admin = 0;	/* the session's user, nothing more */
			if (load_user(c, name) == 0) {
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
	if (s->cfg.map_host_users && !id->root &&
	    user_name_invalid(id->host_user) == NULL &&
	    load_user(c, id->host_user) == 0) {
		if (strcmp(id->via, "none") == 0)
			snprintf(id->via, sizeof(id->via), "mapped");
		snprintf(id->actor, sizeof(id->actor), "%s", id->user);
		return 0;
	}
	if (strcmp(id->via, "none") == 0)
		snprintf(id->actor, sizeof(id->actor), "%s (not logged in)",
		    id->host_user);
	return 0;
}
