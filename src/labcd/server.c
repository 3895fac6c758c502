/*
 * server.c - the listening socket, one thread per client connection, and
 * serving one request: identity, the command table, permissions, the
 * command itself, the audit row and the result.
 */
#include <errno.h>
#include <grp.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "db-keys.h"
#include "db-notices.h"
#include "health.h"
#include "labcd.h"
#include "log.h"
#include "lxd.h"
#include "proto.h"
#include "server.h"
#include "sshkey.h"
#include "xmalloc.h"

#define THREAD_STACK	(512 * 1024)
#define RESERVED_MAX	16	/* slots kept for root and admins */

struct conn {
	struct server	*srv;
	int		 fd;
	struct lxd	*lxd;		/* made at the first need */
	char		 uid_place[32];	/* "uid N" */
	char		 key_place[80];	/* at the gateway: "key SHA256:..." */
	int		 anon;		/* holds one of ANON_PLACE's */
	const char	*place;		/* of the request: one of them */
};

/*
 * Connections held per place (under srv->lock): "uid N" for every
 * caller but root, and at the gateway also "key FINGERPRINT", the SSH key
 * of the session, since one gateway uid stands for many people.
 */
struct holder {
	char	 place[80];
	int	 n;
};
static struct holder *holders;
static int nholders;
/*
 * Connections accepted but not yet admitted (under srv->lock): their
 * threads decide. They do not count as clients, so a burst of refused
 * ones never crowds out one that may come in; PENDING_MAX bounds them.
 */
#define PENDING_MAX	64
/*
 * Gateway sessions whose key is no lab user's proven key (keys are free
 * to make) hold together at most a quarter of max_clients_gateway, so
 * that members' keys always find room.
 */
#define ANON_PLACE	"gateway: keys of nobody"
static int npending;

static volatile sig_atomic_t stopping;

/*
 * Say in the log that connections are being refused, at most once every
 * 10 s (each refusal would let a flood write the journal full).
 */
static void
log_refusal(const char *who, const char *why)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static time_t last;
	time_t now = time(NULL);
	int say;

	pthread_mutex_lock(&lock);
	if ((say = now - last >= 10))
		last = now;
	pthread_mutex_unlock(&lock);
	if (say)
		log_warn("refusing connections (%s): %s", who, why);
	else
		log_debug("client %s refused: %s", who, why);
}

/* The last slots of max_clients: for root and the admin group only. */
static int
reserved(const struct server *s)
{
	int n = s->cfg.max_clients / 16;

	return n < 1 ? 1 : n > RESERVED_MAX ? RESERVED_MAX : n;
}

/* Take one of place's at most cap connections (srv->lock held): 0 or -1. */
static int
hold(const char *place, int cap)
{
	struct holder *free_one = NULL;
	int i;

	for (i = 0; i < nholders; i++) {
		if (strcmp(holders[i].place, place) == 0) {
			if (holders[i].n >= cap)
				return -1;
			holders[i].n++;
			return 0;
		}
		if (holders[i].n == 0 && free_one == NULL)
			free_one = &holders[i];
	}
	if (free_one == NULL)
		return -1;	/* cannot happen: two per connection */
	snprintf(free_one->place, sizeof(free_one->place), "%s", place);
	free_one->n = 1;
	return 0;
}

static void
unhold(const char *place)
{
	int i;

	for (i = 0; i < nholders && *place != '\0'; i++) {
		if (holders[i].n > 0 && strcmp(holders[i].place, place) == 0) {
			holders[i].n--;
			return;
		}
	}
}

/* A request or connection labcd will not serve: a result saying why. */
static void
refuse(int fd, int status, const char *why)
{
	struct proto_result res = { .status = status, .error = why };

	(void)proto_result_send(fd, &res);
}

/* Unknown command: say so, or list the subcommands of a word group. */
static void
unknown(struct buf *b, char *const *argv)
{
	size_t plen;
	char *prefix;
	int i, n = 0;

	prefix = xasprintf("%s ", argv[0]);
	plen = strlen(prefix);
	for (i = 0; cmd_table[i] != NULL; i++) {
		if (strncmp(cmd_table[i]->name, prefix, plen) != 0)
			continue;
		if (n++ == 0)
			buf_printf(b, "'%s' needs more words; one of:", argv[0]);
		buf_printf(b, "\n  %s", cmd_table[i]->name);
	}
	free(prefix);
	if (n == 0)
		buf_printf(b, "unknown command '%.64s'\nrun 'help' for the list "
		    "of commands", argv[0]);
}

/* A database connection for one request: an idle one, or a new one. */
static struct db *
db_take(struct server *s, char *err, size_t errsz)
{
	struct db *db = NULL;

	pthread_mutex_lock(&s->lock);
	if (s->ndb_idle > 0)
		db = s->db_idle[--s->ndb_idle];
	pthread_mutex_unlock(&s->lock);
	return db != NULL ? db : db_open(s->db_path, err, errsz);
}

/* Give it back after the request; beyond DB_POOL idle ones, close it. */
static void
db_give(struct server *s, struct db *db)
{
	if (db == NULL)
		return;
	db_rollback(db);	/* nothing half done stays open */
	pthread_mutex_lock(&s->lock);
	if (s->ndb_idle < DB_POOL) {
		s->db_idle[s->ndb_idle++] = db;
		db = NULL;
	}
	pthread_mutex_unlock(&s->lock);
	db_close(db);
}

/*
 * A refused --as is someone claiming to be another: audited like any
 * refusal, under the host account that asked.
 */
static void
audit_refused_as(struct ctx *c, const char *as)
{
	c->id.user[0] = '\0';
	if (as != NULL && user_name_invalid(as) != NULL)
		as = "an invalid name";	/* no newlines in logs */
	snprintf(c->id.actor, sizeof(c->id.actor), "%s%s%.32s%s",
	    c->id.host_user, as != NULL ? " (as " : "", as != NULL ? as : "",
	    as != NULL ? ")" : "");
	audit(c, "refused");
}

/*
 * Before a command runs: what labcd kept for the lab user (a GPU lease
 * about to end, a GPU taken back) is told on stderr, once, where a
 * person reads it, as health_notice does for admins.
 */
static void
notices_tell(struct ctx *c, int quiet)
{
	char (*lines)[NOTICE_MAX];
	size_t i, n;

	if (c->id.user_id <= 0 || quiet || c->dead ||
	    c->cmd->flags & (CMD_HIDDEN | CMD_STREAM) ||
	    !noticedb_any(c->db, c->id.user_id))
		return;
	lines = xcalloc(NOTICES_KEPT, sizeof(*lines));
	n = noticedb_take(c->db, c->id.user_id, lines, NOTICES_KEPT);
	for (i = 0; i < n; i++)
		ctx_progress(c, "labcd: %s", lines[i]);
	free(lines);
}

/*
 * Serve one request; bad is what proto_request_decode said of it, with
 * why. Returns 0 to keep the connection, -1 to close it.
 */
static int
serve(struct conn *cn, const struct ident *peer, struct db **db,
    const struct proto_request *req, int bad, const char *why)
{
	struct ctx c;
	const char *fmt;
	char **argv = req->argv, err[512];
	int argc = req->argc, used, status;

	if (bad != 0) {
		/* Malformed argv: close; a bad --as: say so, go on. */
		refuse(cn->fd, PROTO_USAGE, why);
		return bad == -EINVAL ? 0 : -1;
	}
	memset(&c, 0, sizeof(c));
	c.srv = cn->srv;
	c.fd = cn->fd;
	c.lxdp = &cn->lxd;
	c.id = *peer;
	c.place = cn->place;
	buf_init(&c.out, PROTO_MAX_FRAME / 2);
	buf_init(&c.err, 64 * 1024);
	c.session = req->session;
	c.tty = req->tty;
	c.otty = req->otty;
	c.color = req->color;
	c.cols = req->cols;

	if (*db == NULL && (*db = db_take(cn->srv, err, sizeof(err))) == NULL) {
		log_error("%s", err);
		refuse(cn->fd, PROTO_FAILED, "labcd cannot open its database; "
		    "the admin should look at labcd's log");
		return 0;
	}
	c.db = *db;

	if (c.id.web && (status = acl_web_only(&c, argc == 0 ? NULL :
	    cmd_find(argc, argv, &used))) != 0)
		goto done;
	if (argc == 0) {
		status = PROTO_USAGE;
		(void)buf_adds(&c.err, "no command given: run 'help' for the "
		    "list of commands");
		goto done;
	}
	if ((c.cmd = cmd_find(argc, argv, &used)) == NULL) {
		status = PROTO_USAGE;
		unknown(&c.err, argv);
		goto done;
	}
	if (cmd_parse(c.cmd, argc - used, argv + used, &c.args, &c.err) != 0) {
		status = PROTO_USAGE;
		goto done;
	}
	if (c.args.help)
		cmd_help_instead(&c, argv, used);
	if ((fmt = c.args.format) != NULL) {
		if (strcmp(fmt, "json") == 0)
			c.format = FMT_JSON;
		else if (strcmp(fmt, "csv") == 0)
			c.format = FMT_CSV;
		else if (strcmp(fmt, "table") != 0) {
			status = ctx_usage(&c, "--format must be table, json "
			    "or csv");
			goto done;
		}
	}
	if ((status = ident_resolve(&c, req->as, req->session,
	    req->key)) != 0) {
		if (acl_audited(&c))
			audit_refused_as(&c, req->as);
		goto done;
	}
	if ((status = acl_allowed(&c)) != 0) {
		if (acl_refusal_audited(&c))
			audit(&c, "refused");
		goto done;
	}
	if (c.cmd->target == CMD_TARGET_CT)
		ctx_target(&c, "%.100s", c.args.argv[0]);
	health_notice(&c, req->quiet);
	notices_tell(&c, req->quiet);
	status = c.cmd->exec(&c);
	if (acl_audited(&c)) {
		char res[200];

		/* The first line of the error says enough. */
		snprintf(res, sizeof(res), "%s%.*s", status == 0 ? "ok" :
		    status == PROTO_USAGE ? "usage: " : "failed: ",
		    status == 0 ? 0 : (int)strcspn(buf_str(&c.err), "\n"),
		    buf_str(&c.err));
		audit(&c, res);
	}
done:
	ctx_result(&c, status);
	if (c.new_session != NULL) {
		explicit_bzero(c.new_session, strlen(c.new_session));
		free(c.new_session);
	}
	json_decref(c.data);
	free((void *)(uintptr_t)c.args.argv);
	op_end(&c.op);
	buf_free(&c.out);
	buf_free(&c.err);
	return c.dead ? -1 : 0;
}

/*
 * May this caller hold one more connection? NULL, or why not. Root always
 * may (up to max_clients); the last slots are for root and admins; every
 * other host account has max_clients_per_uid, the gateway account
 * max_clients_gateway for all its sessions.
 */
static const char *
admit(struct conn *cn, const struct ident *peer, int gateway, char *why,
    size_t whysz)
{
	struct server *s = cn->srv;
	int cap = gateway ? s->cfg.max_clients_gateway :
	    s->cfg.max_clients_per_uid, r = 0;

	pthread_mutex_lock(&s->lock);
	npending--;
	if (s->nclients >= s->cfg.max_clients - (peer->admin ? 0 :
	    reserved(s)))
		r = -1;
	else if (!peer->root && hold(cn->uid_place, cap) != 0)
		r = -2;
	else
		s->nclients++;
	pthread_cond_broadcast(&s->idle);	/* npending dropped */
	pthread_mutex_unlock(&s->lock);
	if (r == -1)
		snprintf(why, whysz, "labcd is serving too many clients; try "
		    "again in a moment");
	else if (r == -2)
		snprintf(why, whysz, "%s already holds %d connections to labcd "
		    "(at most %d at once%s): close some (other labc "
		    "shells, nc streams) and try again", peer->host_user, cap,
		    cap, gateway ? " for the gateway account" : " per account");
	return r != 0 ? why : NULL;
}

/* Is the key a lab user's proven key? (a fingerprint, "" for none) */
static int
key_proven(struct server *s, struct db **db, const char *fp)
{
	char err[256];

	if (*fp == '\0')
		return 0;
	if (*db == NULL && (*db = db_take(s, err, sizeof(err))) == NULL) {
		log_error("%s", err);
		return 0;	/* counted as anonymous: the smaller share */
	}
	return keydb_proven(*db, fp, 0);
}

/*
 * At the gateway, the SSH key of the request is the place: one key holds
 * at most max_clients_per_uid connections, and keys that are nobody's
 * proven key at most a quarter of max_clients_gateway together. 0, or -1
 * with why.
 */
static int
admit_key(struct conn *cn, struct db **db, const char *key, char *why,
    size_t whysz)
{
	struct server *s = cn->srv;
	char place[80], fp[64] = "", err[128];
	struct sshkey k;
	int r = 0, anon, share = s->cfg.max_clients_gateway / 4;

	if (key != NULL && sshkey_parse(key, &k, err, sizeof(err)) == 0) {
		snprintf(place, sizeof(place), "key %s", k.fingerprint);
		snprintf(fp, sizeof(fp), "%s", k.fingerprint);
		sshkey_free(&k);
	} else if (key != NULL && *key != '\0') {
		char h[65];	/* not a key line: still one place per value */

		auth_token_hash(key, h);
		snprintf(place, sizeof(place), "key #%.32s", h);
	} else
		snprintf(place, sizeof(place), "key (none)");
	if (strcmp(place, cn->key_place) == 0)
		return 0;
	anon = !key_proven(s, db, fp);
	if (share < 1)
		share = 1;
	pthread_mutex_lock(&s->lock);
	if (hold(place, s->cfg.max_clients_per_uid) != 0)
		r = -1;
	else if (anon && !cn->anon && hold(ANON_PLACE, share) != 0) {
		unhold(place);
		r = -2;
	} else {
		unhold(cn->key_place);
		snprintf(cn->key_place, sizeof(cn->key_place), "%s", place);
		if (cn->anon && !anon)
			unhold(ANON_PLACE);
		cn->anon = anon;
	}
	pthread_mutex_unlock(&s->lock);
	if (r == -1)
		snprintf(why, whysz, "this SSH key already holds %d connections "
		    "to labcd (at most %d at once): close some sessions and "
		    "try again", s->cfg.max_clients_per_uid,
		    s->cfg.max_clients_per_uid);
	else if (r == -2)
		snprintf(why, whysz, "the gateway is serving %d sessions of SSH "
		    "keys no lab user has proven (at most %d at once; members' "
		    "keys still get in): try again in a moment", share, share);
	return r != 0 ? -1 : 0;
}

#define TRIM_EVERY_MS	1000
static long long	 last_trim;	/* mono_ms() of the last; s->lock */
static int		 trim_owed;	/* a client left, none trimmed; s->lock */

/* The accept loop, no one having come for a second: the trim owed. */
static void
trim_if_owed(struct server *s)
{
	int trim;

	pthread_mutex_lock(&s->lock);
	trim = trim_owed && s->nclients == 0;
	if (trim) {
		trim_owed = 0;
		last_trim = mono_ms();
	}
	pthread_mutex_unlock(&s->lock);
	if (trim)
		malloc_trim(0);
}

static void *
conn_main(void *arg)
{
	struct conn *cn = arg;
	struct server *s = cn->srv;
	struct timeval tv = { 60, 0 };
	int ms = s->cfg.frame_timeout * 1000, gateway, r, bad, trim;
	struct proto_request req;
	struct ident peer;
	struct db *db = NULL;
	char err[256], why[256], badwhy[256];
	json_t *msg;

	ident_from_peer(s, cn->fd, &peer);
	gateway = !peer.root && peer.uid == ident_uid_of(s->cfg.gateway_user);
	snprintf(cn->uid_place, sizeof(cn->uid_place), "uid %u",
	    (unsigned)peer.uid);
	setsockopt(cn->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (admit(cn, &peer, gateway, why, sizeof(why)) != NULL) {
		log_refusal(peer.host_user, why);
		refuse(cn->fd, PROTO_FAILED, why);
		lxd_free(cn->lxd);
		close(cn->fd);
		free(cn);
		return NULL;
	}
	if (peer.root)
		cn->uid_place[0] = '\0';	/* holds nothing */
	for (;;) {
		/* Idle for frame_timeout, then each frame within it. */
		r = proto_recv_timed(cn->fd, &msg, ms, ms, err, sizeof(err));
		if (r == -EPIPE)
			break;
		if (r != 0) {
			log_debug("client %s: %s", peer.host_user, err);
			if (r == -ETIMEDOUT)
				snprintf(why, sizeof(why), "idle for %d s: "
				    "closing the connection",
				    s->cfg.frame_timeout);
			else if (r == -ETIME)
				snprintf(why, sizeof(why), "a message was not "
				    "complete within %d s: closing the "
				    "connection", s->cfg.frame_timeout);
			else
				snprintf(why, sizeof(why), "%s", err);
			if (r != -EIO)
				refuse(cn->fd, PROTO_USAGE, why);
			break;
		}
		bad = proto_request_decode(msg, &req, badwhy, sizeof(badwhy));
		json_decref(msg);
		if (bad == -EBADMSG) {
			refuse(cn->fd, PROTO_USAGE, badwhy);
			proto_request_free(&req);
			break;
		}
		if (gateway && admit_key(cn, &db, req.key, why,
		    sizeof(why)) != 0) {
			db_give(s, db);
			db = NULL;
			log_refusal(peer.host_user, why);
			refuse(cn->fd, PROTO_FAILED, why);
			proto_request_free(&req);
			break;
		}
		cn->place = gateway ? cn->key_place : cn->uid_place[0] != '\0' ?
		    cn->uid_place : "uid 0";
		pthread_mutex_lock(&s->lock);
		s->nbusy++;
		pthread_mutex_unlock(&s->lock);
		r = serve(cn, &peer, &db, &req, bad, badwhy);
		proto_request_free(&req);
		db_give(s, db);
		db = NULL;
		pthread_mutex_lock(&s->lock);
		s->nbusy--;
		pthread_cond_broadcast(&s->idle);
		pthread_mutex_unlock(&s->lock);
		if (r != 0 || stopping)
			break;
	}
	lxd_free(cn->lxd);
	close(cn->fd);
	pthread_mutex_lock(&s->lock);
	unhold(cn->uid_place);
	unhold(cn->key_place);
	if (cn->anon)
		unhold(ANON_PLACE);
	s->nclients--;
	trim = s->nclients == 0 && mono_ms() - last_trim >= TRIM_EVERY_MS;
	if (trim)
		last_trim = mono_ms();
	else if (s->nclients == 0)
		trim_owed = 1;		/* the accept loop, when quiet */
	pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->lock);
	free(cn);
	/*
	 * The last client gone: give back the pages its requests freed (a
	 * list of hundreds of containers, a status snapshot), at most once
	 * a second (else the accept loop does once no one came for a
	 * second), or glibc keeps them as labcd's for good.
	 */
	if (trim)
		malloc_trim(0);
	return NULL;
}

/* Is something listening at path? (another labcd) */
static int
socket_alive(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), r;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	r = fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	if (fd >= 0)
		close(fd);
	return r;
}

int
server_listen(struct server *s, char *err, size_t errsz)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *path = s->socket_path;
	char *dir, *slash;
	struct stat st;
	mode_t old;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errsz, "socket path %s is too long", path);
		return -1;
	}
	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
			snprintf(err, errsz, "cannot create %s: %s", dir,
			    strerror(errno));
			free(dir);
			return -1;
		}
	}
	free(dir);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errsz, "%s exists and is not a socket "
			    "(%s): refusing to replace it; move it away",
			    path, S_ISLNK(st.st_mode) ? "a symbolic link" :
			    S_ISFIFO(st.st_mode) ? "a FIFO" : "a file");
			return -1;
		}
		if (socket_alive(path)) {
			snprintf(err, errsz, "another labcd is already "
			    "listening at %s", path);
			return -1;
		}
		unlink(path);
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	old = umask(0777 & ~(mode_t)s->cfg.socket_mode);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    listen(fd, 128) != 0) {
		umask(old);
		snprintf(err, errsz, "cannot listen at %s: %s", path,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	umask(old);
	if (chmod(path, (mode_t)s->cfg.socket_mode) != 0 ||
	    (*s->cfg.socket_group != '\0' && chown(path, (uid_t)-1,
	    getgrnam(s->cfg.socket_group) != NULL ?
	    getgrnam(s->cfg.socket_group)->gr_gid : (gid_t)-1) != 0)) {
		snprintf(err, errsz, "cannot set the mode of %s: %s", path,
		    strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	s->listen_fd = fd;
	return 0;
}

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

int
server_run(struct server *s)
{
	struct sigaction sa;
	pthread_attr_t attr;
	struct pollfd pfd = { .fd = s->listen_fd, .events = POLLIN };
	struct timespec until;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	nholders = 2 * s->cfg.max_clients + 2;
	holders = xcalloc((size_t)nholders, sizeof(*holders));
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, THREAD_STACK);
	log_info("labcd listening at %s", s->socket_path);
	while (!stopping) {
		struct conn *cn;
		pthread_t t;
		int fd;

		/* Too many undecided: the rest wait in the kernel's queue. */
		pthread_mutex_lock(&s->lock);
		if (npending >= PENDING_MAX) {
			clock_deadline(&until, 100);
			(void)pthread_cond_timedwait(&s->idle, &s->lock, &until);
			pthread_mutex_unlock(&s->lock);
			continue;
		}
		pthread_mutex_unlock(&s->lock);
		if (poll(&pfd, 1, 1000) <= 0) {
			trim_if_owed(s);
			continue;
		}
		fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		pthread_mutex_lock(&s->lock);
		npending++;
		pthread_mutex_unlock(&s->lock);
		cn = xcalloc(1, sizeof(*cn));
		cn->srv = s;
		cn->fd = fd;
		if (pthread_create(&t, &attr, conn_main, cn) != 0) {
			log_error("cannot start a thread for a client");
			close(fd);
			free(cn);
			pthread_mutex_lock(&s->lock);
			npending--;
			pthread_mutex_unlock(&s->lock);
		}
	}
	pthread_attr_destroy(&attr);
	log_info("stopping: no new connections");
	close(s->listen_fd);
	unlink(s->socket_path);
	/* Let requests in progress finish, for at most 30 s; idle
	   connections just end with the process. */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 30;
	pthread_mutex_lock(&s->lock);
	while (s->nbusy > 0) {
		if (pthread_cond_timedwait(&s->idle, &s->lock, &until) != 0)
			break;
	}
	pthread_mutex_unlock(&s->lock);
	/* Idle connections only: a request still running keeps its own. */
	pthread_mutex_lock(&s->lock);
	while (s->ndb_idle > 0)
		db_close(s->db_idle[--s->ndb_idle]);
	pthread_mutex_unlock(&s->lock);
	return 0;
}
