/*
 * labcd.h - what the daemon's files share: the server, one client's
 * request context, identity, and the command table's entry type.
 */
#ifndef LABCD_H
#define LABCD_H

#include <pthread.h>
#include <sys/types.h>
#include <jansson.h>

#include "buf.h"
#include "config.h"
#include "db.h"
#include "op.h"

#define DB_POOL		4	/* idle database connections kept */

struct server {
	struct config	 cfg;
	const char	*socket_path;
	const char	*db_path;
	int		 listen_fd;
	gid_t		 admin_gid;	/* (gid_t)-1: no admin group */
	pthread_mutex_t	 lock;
	int		 nclients;	/* connections */
	int		 nbusy;		/* of them, serving a request */
	pthread_cond_t	 idle;		/* nbusy dropped */
	/*
	 * Idle SQLite connections (under lock), kept open between requests:
	 * opening one costs a file open, the WAL and shm mapping and the
	 * PRAGMAs each time. A request takes one for its duration, so no
	 * two threads ever use one connection at once.
	 */
	struct db	*db_idle[DB_POOL];
	int		 ndb_idle;
};

/* Who is asking; resolved for every request (ident.c). */
struct ident {
	uid_t		 uid;		/* from SO_PEERCRED */
	pid_t		 pid;
	char		 host_user[64];	/* host account name, or "uid N" */
	long long	 user_id;	/* lab user, 0 if none */
	char		 user[33];	/* lab user name, "" if none */
	int		 admin;		/* may run admin commands */
	int		 root;		/* uid 0 */
	char		 via[32];	/* root, admin-group, mapped, gateway,
					   session, none */
	char		 actor[128];	/* for the audit log */
	int		 from_sshd;	/* the gateway uid, and the peer's
					   parent is sshd (ident_from_peer) */
	int		 web;		/* the web_user account (labc-web):
					   it may run CMD_WEB commands only */
	const char	*gw_key;	/* an anonymous gateway session: the
					   key sshd accepted, "TYPE BASE64" */
	char		 gw_fp[64];	/* and its fingerprint */
};

/*
 * Options of a command, parsed by the table (cmd.c). Every command also
 * takes --help and -h (the text of 'help COMMAND'), and with CMD_FORMAT
 * --format; neither is declared here.
 */
struct cmd_opt {
	const char	*name;		/* long name, without "--" */
	char		 letter;	/* short form, or 0 */
	int		 flags;
#define OPT_ARG		0x001	/* takes a value (1 in the tables) */
	/* and a role (acl.c): CMD_ADMIN, CMD_ROOT: only they may give it;
	   CMD_NOAUDIT: given, the command changes nothing (not audited) */
	const char	*arg_name;	/* in usage, e.g. "PUBKEY" */
};

#define CMD_MAXOPTS	12

struct args {
	const char	*val[CMD_MAXOPTS];	/* value, or "" for a flag */
	int		 argc;			/* positional */
	char	*const	*argv;
	const char	*format;		/* --format (CMD_FORMAT), or NULL */
	int		 help;			/* --help or -h */
};

/*
 * The LXD config key that names a project's (and a container's) lab user:
 * the mark project.c writes and reads, and isolate.c on its bridges.
 */
#define PROJECT_OWNER_KEY	"user.labc.owner"

struct ctx;

struct cmd_entry {
	const char	*name;		/* may be several words */
	const char	*args;		/* usage after the name */
	const char	*summary;	/* one line */
	const char	*help;		/* more lines, may be NULL */
	/*
	 * Who may run it (acl.c decides, before exec): CMD_ANON anyone;
	 * else a lab user, or an admin unless CMD_USER; CMD_ADMIN, CMD_ROOT
	 * and CMD_SSHD narrow that. What happens is audited (ok, failed,
	 * usage, refused) unless CMD_NOAUDIT; an admin refused a root-only
	 * command or option is audited even then.
	 */
	int		 flags;
#define CMD_ANON	0x001	/* anyone, even without identity */
#define CMD_USER	0x002	/* needs a lab user */
#define CMD_ADMIN	0x004	/* needs an admin */
#define CMD_READONLY	0x008	/* changes nothing (may be CMD_NOAUDIT) */
#define CMD_FORMAT	0x010	/* takes --format table|json|csv */
#define CMD_HIDDEN	0x020	/* for programs, not listed in help */
#define CMD_ROOT	0x040	/* needs uid 0: it reads or changes the
				   host as root (an admin is not root) */
#define CMD_NOAUDIT	0x080	/* leaves no audit row (a read) */
#define CMD_SSHD	0x100	/* for sshd only: root or gateway_keys_user,
				   never the gateway account or nobody */
#define CMD_NOCSV	0x200	/* with CMD_FORMAT: no csv in its usage (the
				   command refuses it when it has looked) */
#define CMD_STREAM	0x400	/* its output is a byte stream (nc): no
				   notice of doctor's findings into it */
#define CMD_DOCTOR	0x800	/* shows doctor's findings itself: the
				   admin counts as told of them */
#define CMD_WEB		0x1000	/* the status page's: root, admins and
				   web_user, the one thing web_user may run */
	int		 min_args, max_args;	/* positional; max -1: any */
	struct cmd_opt	 opts[CMD_MAXOPTS];
	/*
	 * CMD_TARGET_CT: the first argument names a container of the
	 * caller's, the audit row's target, set by the dispatcher after
	 * acl_allowed and before exec. Ownership is still ct_find's, in exec:
	 * a command of several names goes on after one that is not yours.
	 */
	enum { CMD_TARGET_NONE, CMD_TARGET_CT } target;
	int		(*exec)(struct ctx *);
};

/* One request being served. */
struct ctx {
	struct server		*srv;
	int			 fd;
	struct db		*db;
	struct lxd		**lxdp;		/* the connection's: ctx_lxd() */
	struct ident		 id;
	const struct cmd_entry	*cmd;
	struct args		 args;
	int			 tty, color, cols;
	int			 otty;		/* its stdout is a terminal */
	enum { FMT_TABLE, FMT_JSON, FMT_CSV } format;
	struct buf		 out, err;
	json_t			*data;		/* structured result */
	const char		*session;	/* token the client sent */
	char			*new_session;	/* login */
	int			 logout;
	int			 stale_session;	/* sent one that is not valid */
	const char		*place;		/* "uid N", or at the gateway
						   "key FINGERPRINT" */
	char			 target[128];	/* for the audit log */
	int			 dead;		/* client went away */
	struct op		 op;		/* the domain's view: ctx_op() */
};

/* cmd.c */
extern const struct cmd_entry *const cmd_table[];
const struct cmd_entry *cmd_find(int argc, char *const *argv, int *used);
int	cmd_parse(const struct cmd_entry *e, int argc, char *const *argv,
	    struct args *a, struct buf *err);
const char *cmd_opt(const struct ctx *c, const char *name);
void	cmd_usage(const struct cmd_entry *e, struct buf *b);
/* After a parse with --help: make the request 'help' of argv's used words. */
void	cmd_help_instead(struct ctx *c, char *const *argv, int used);

/* acl.c: the table's policy */
/* 0 allowed, else PROTO_FAILED with the reason in c->err. */
int	acl_allowed(struct ctx *c);
/*
 * web_user may run e (CMD_WEB) and nothing else, not even to be told a
 * usage: 0, or PROTO_FAILED with the reason. e NULL: no such command.
 */
int	acl_web_only(struct ctx *c, const struct cmd_entry *e);
/* Is this request audited (its outcome, or a refused --as)? */
int	acl_audited(const struct ctx *c);
/* Is acl_allowed's refusal audited? Also an admin refused root's powers. */
int	acl_refusal_audited(const struct ctx *c);

/* reply.c: what a command says */
void	ctx_printf(struct ctx *c, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	ctx_error(struct ctx *c, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));	/* PROTO_FAILED */
int	ctx_usage(struct ctx *c, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));	/* PROTO_USAGE */
void	ctx_progress(struct ctx *c, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Ask the person; 0 and *answer (caller frees and wipes), or -1. */
int	ctx_prompt(struct ctx *c, const char *text, int echo, char **answer);
/*
 * Answer with a stream of raw bytes instead of a result (nc): the fd to
 * carry it, or -1 if the client is gone. No result follows either way.
 */
int	ctx_stream(struct ctx *c);
/*
 * A data stream one way, then the request's result as usual (export:
 * dir 'o', labcd writes; import: 'i', labcd reads to the end): labcd's
 * end of a socket whose other end went to the client (caller closes), or
 * -1 if the client is gone. A client that reads (or sends) nothing for
 * transfer_stall seconds is cut off: labcd's read or write fails with
 * EAGAIN.
 */
int	ctx_stream_data(struct ctx *c, int dir);
/* Send the request's one result, from c->out, c->err, c->data... */
void	ctx_result(struct ctx *c, int status);
void	ctx_target(struct ctx *c, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/*
 * A table: columns, then rows of the same width; rendered per format. A
 * column name ending in TABLE_NUM ("port#") holds numbers: its integers
 * are numbers in JSON (the name is without it everywhere).
 */
#define TABLE_NUM	'#'
struct table;
struct table *table_new(const char *const *cols);
void	table_add(struct table *t, ...);	/* ncols strings, NULL = "" */
/* The rows as JSON objects, by column name (caller decrefs). */
json_t	*table_rows(const struct table *t);
/* Renders into c->out and sets data[key] to the rows as objects. */
void	ctx_table(struct ctx *c, const char *key, struct table *t);
void	table_free(struct table *t);

/*
 * ctx-op.c: the request's operation context for the domain (op.h): its
 * server, database, the connection's LXD client, the caller as actor,
 * progress to this client. Filled afresh from the request at each call.
 */
struct op *ctx_op(struct ctx *c);
/* The domain's cause as the reply's error: PROTO_FAILED. */
int	ctx_fail(struct ctx *c, const struct op *op);
/*
 * The cause of the request's op for a domain status r (not 0): with
 * PROTO_USAGE a usage error (with the command's usage), else a failure.
 * Returns r.
 */
int	ctx_cause(struct ctx *c, int r);
/* The connection's LXD client (op_lxd of the request's op). */
struct lxd *ctx_lxd(struct ctx *c);
/* LXD's message for the last failed call, for ctx_error. */
const char *ctx_lxd_error(struct ctx *c);

/* ident.c */
/* The uid of a host account (not root), or -1: looked up each time. */
uid_t	ident_uid_of(const char *name);
/* UID_MIN of /etc/login.defs (default 1000): below it, system accounts. */
uid_t	ident_uid_min(void);
void	ident_from_peer(struct server *s, int fd, struct ident *id);
/*
 * Apply a request's "as" (with "key", the SSH key the gateway's sshd
 * accepted) and "session"; 0 or PROTO_FAILED (c->err).
 */
int	ident_resolve(struct ctx *c, const char *as, const char *session,
	    const char *key);

/* auth.c */
/* 0, -1 on failure, -EBUSY if too many checks wait already. */
int	auth_hash(const char *password, char out[128]);
/*
 * 0 if password matches hash, -1 if not (a NULL or empty hash costs the
 * same work and never matches), -EBUSY if too many checks wait already.
 * anon: for an anonymous gateway session (these share one slot).
 */
int	auth_verify(const char *hash, const char *password, int anon);
/* A random password for a new account (caller frees). */
char	*auth_generate(void);
/* A new session token (caller frees) and its stored hash. */
char	*auth_new_token(char hash[65]);
void	auth_token_hash(const char *token, char hash[65]);
/* A password policy check: NULL if fine, else why not. */
const char *auth_weak(const char *password, const char *user);

/* throttle.c: password guessing (login, passwd) */
/*
 * Claim one password check for user (as typed) from place: 0, or the
 * seconds to wait and *why (static text). After a 0, throttle_done.
 */
long long throttle_claim(struct server *s, const char *user,
	    const char *place, const char **why);
/*
 * The check's outcome: ok 1 right, 0 wrong, -1 not made (the try is given
 * back). For a wrong one: the wrong ones in a row from place, and *wait
 * the seconds place must now wait (0 if none).
 */
int	throttle_done(struct server *s, const char *user, const char *place,
	    int ok, long long *wait);
/* user logged in from place before (a session of user is still there). */
void	throttle_known(struct server *s, const char *user, const char *place);

/* audit.c */
/*
 * One audit row, from explicit fields: actor, the lab user it concerns
 * (NULL or "": none), command, target (NULL or "": none) and result.
 */
void	audit_row(struct db *db, const char *actor, const char *user,
	    const char *command, const char *target, const char *result);
/* The request's row: its actor, user, command and target. */
void	audit(struct ctx *c, const char *result);

/* names.c */
/* Valid lab user name? NULL if so, else the rule. */
const char *user_name_invalid(const char *name);
/* NULL if a valid container name, else the rule (names.c). */
const char *ct_name_invalid(const char *name);
/* The same for a snapshot name (labcd's scheduled names pass). */
const char *snap_name_invalid(const char *name);

#endif
