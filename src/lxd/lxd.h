/*
 * lxd.h - a small client for the LXD (5.0) / Incus (6) REST API over the
 * daemon's unix socket or over HTTPS, built on libcurl and jansson.
 *
 * One struct lxd is one connection; it is not shared between threads (give
 * each thread its own). Every function returns 0 or a negative errno:
 *   -ENOENT      LXD said 404 (no such instance, image, project, ...)
 *   -EEXIST      LXD said 409 (already exists)
 *   -EACCES      LXD said 403
 *   -EAGAIN      LXD said 412 (ETag mismatch: read again and retry)
 *   -ECONNREFUSED LXD is not running (no socket, or nothing answers)
 *   -EKEYREJECTED over HTTPS: the server's certificate is not the pinned
 *                one, a certificate is out of its dates, or LXD does not
 *                trust labcd's certificate
 *   -ECONNRESET  LXD went away in the middle of a request
 *   -ETIMEDOUT   the request or the operation ran out of time
 *   -ESTALE      an operation vanished before its outcome was read
 *   -EPROTO      LXD answered something that is not its API
 *   -EALREADY    the instance is so already ("already running", "already
 *                stopped"): a start or stop with nothing to do
 *   -ESRCH       the instance is not running (exec, or files, of one that
 *                stopped)
 *   -EBUSY       the instance is busy: another operation holds it, so an
 *                update cannot start ("update operation")
 *   -EDQUOT      a project limit refused it ("Reached maximum ...")
 *   -EIO         LXD reported any other failure
 * and lxd_error() then holds the message, LXD's own text where it gave one.
 * The last four are read from LXD's words, here (lxd.c) and nowhere else;
 * lxd_refusal() says more of a refusal where a caller words it.
 */
#ifndef LABC_LXD_H
#define LABC_LXD_H

#include <stddef.h>
#include <jansson.h>

struct lxd;

enum lxd_server { LXD_SERVER_UNKNOWN, LXD_SERVER_LXD, LXD_SERVER_INCUS };

/*
 * Progress of a long operation: stage is the operation metadata key (for
 * example "create_instance_from_image_unpack_progress"), text its value
 * ("Unpack: 45%"), percent parsed from it or -1.
 */
typedef void (*lxd_progress_fn)(void *arg, const char *stage,
    const char *text, int percent);

/*
 * Where LXD is. Its unix socket (socket, or found: env, LXD deb, LXD snap,
 * Incus), or, with url ("https://HOST:PORT"), over HTTPS: the client
 * certificate and key are labcd's own (LXD trusts the certificate), and
 * server_cert is the server's certificate, pinned: the one trust anchor,
 * so no other certificate passes, whatever CA signed it, and the name in
 * it does not matter. Both certificates are checked for their dates
 * before anything is sent.
 */
struct lxd_target {
	const char	*socket;
	const char	*url;
	const char	*cert;
	const char	*key;
	const char	*server_cert;
};
struct lxd	*lxd_open(const struct lxd_target *t);
/* lxd_open of a socket: a path, or NULL to find it. */
struct lxd	*lxd_new(const char *socket);
void		 lxd_free(struct lxd *l);
const char	*lxd_error(const struct lxd *l);
/* The unix socket in use, or NULL over HTTPS. */
const char	*lxd_socket_path(const struct lxd *l);
/* Where LXD is, for messages: the socket's path or the URL. */
const char	*lxd_where(const struct lxd *l);
/* 1 over HTTPS. */
int		 lxd_is_remote(const struct lxd *l);
/*
 * A certificate file's subject and end of validity (seconds since 1970):
 * 0, or -ENOENT (no such file), -EACCES, -EINVAL (not a PEM certificate)
 * with the reason in err. For doctor and for the checks before a
 * connection.
 */
int		 lxd_cert_info(const char *path, char *subject, size_t subjsz,
		    long long *not_before, long long *not_after, char *err,
		    size_t errsz);
/*
 * LXD's storage pools directory beside its socket ("DIR/storage-pools"),
 * with "/POOL" if pool is not NULL: a new string, or NULL if the socket's
 * directory is not known or pool has a '/'. Seen from labcd's mount
 * namespace: a snap LXD keeps its pools out of sight.
 */
char		*lxd_pools_dir(const struct lxd *l, const char *pool);
/*
 * A file of LXD's directory beside its socket ("DIR/cluster.crt"): a new
 * string, or NULL over HTTPS or if file has a '/'.
 */
char		*lxd_dir_file(const struct lxd *l, const char *file);
/* How long lxd_call waits for an operation to end (default 600 s). */
void		 lxd_set_op_timeout(struct lxd *l, long seconds);
/* Request timeout in seconds for plain requests (default 30; labcd keeps
   it, a test shortens it). */
void		 lxd_set_timeout(struct lxd *l, long seconds);
/* Where to report progress of the next operations (NULL: nowhere). */
void		 lxd_set_progress(struct lxd *l, lxd_progress_fn fn, void *arg);

/* GET /1.0 once (done lazily by every call); then what the server is. */
int		 lxd_connect(struct lxd *l);
enum lxd_server	 lxd_server_kind(const struct lxd *l);
const char	*lxd_server_version(const struct lxd *l);
int		 lxd_has_extension(const struct lxd *l, const char *ext);
/* "X-LXD-" or "X-Incus-" */
const char	*lxd_header_prefix(const struct lxd *l);

/*
 * The generic call. path is below the socket root ("/1.0/instances?..."),
 * body may be NULL. Sync answers give their metadata; async ones are waited
 * for (up to 600 seconds) and give the finished operation's metadata. *out
 * may be NULL if not wanted.
 */
int	lxd_call(struct lxd *l, const char *method, const char *path,
	    json_t *body, json_t **out);
/* Wait for an operation ("/1.0/operations/ID") and give its metadata. */
int	lxd_wait(struct lxd *l, const char *op, long timeout, json_t **out);

/* Percent-escape one URL component (caller frees). */
char	*lxd_escape(const char *s);

/* --- instances --- */
struct lxd_create {
	const char	*name;
	const char	*image_alias;		/* one of alias, fingerprint, */
	const char	*image_fingerprint;
	const char	*copy_of;		/* an instance of the same project,
						   or "NAME/SNAPSHOT" (its
						   snapshots are not copied) */
	const char	*copy_project;		/* copy_of's project, if not
						   the same (NULL: the same) */
	const char	*const *profiles;	/* NULL-terminated, or NULL */
	json_t		*config;		/* borrowed, may be NULL */
	json_t		*devices;		/* borrowed, may be NULL */
	const char	*target;		/* the cluster member to make it
						   on; NULL or "": LXD chooses */
};
int	lxd_instance_create(struct lxd *l, const char *project,
	    const struct lxd_create *c);
int	lxd_instance_get(struct lxd *l, const char *project, const char *name,
	    json_t **out);
/* The instance with its state, snapshots and backups (recursion=1). */
int	lxd_instance_get_full(struct lxd *l, const char *project,
	    const char *name, json_t **out);
int	lxd_instance_state(struct lxd *l, const char *project,
	    const char *name, json_t **out);
/*
 * Every instance of a project (or of all projects if project is NULL) in
 * one request; with_state asks for state too (recursion=2).
 */
int	lxd_instance_list(struct lxd *l, const char *project, int with_state,
	    json_t **out);
/* action: start, stop, restart, freeze, unfreeze; timeout < 0: LXD's */
int	lxd_instance_set_state(struct lxd *l, const char *project,
	    const char *name, const char *action, int timeout, int force);
/*
 * A clean shutdown within timeout seconds (> 0). LXD signals the
 * instance's init once per request, and an init still booting ignores
 * it: the signal is sent again every LXD_SHUTDOWN_SLICE seconds. 0, or
 * -EALREADY if it was stopped, or the last refusal.
 */
#define LXD_SHUTDOWN_SLICE	10
int	lxd_instance_shutdown(struct lxd *l, const char *project,
	    const char *name, int timeout);
int	lxd_instance_delete(struct lxd *l, const char *project,
	    const char *name);
/* PATCH: merges config keys and devices. */
int	lxd_instance_patch(struct lxd *l, const char *project,
	    const char *name, json_t *patch);
/* Rename a stopped instance (POST {"name"}). */
int	lxd_instance_rename(struct lxd *l, const char *project,
	    const char *name, const char *new_name);
/*
 * Its image metadata (GET .../metadata): {"templates": {PATH: {"when":
 * [...], ...}}, "properties", ...}.
 */
int	lxd_instance_metadata(struct lxd *l, const char *project,
	    const char *name, json_t **out);
/* Remove a device (PUT with If-Match; retried on a concurrent change). */
int	lxd_instance_remove_device(struct lxd *l, const char *project,
	    const char *name, const char *device);

/* Helpers over a state object (from lxd_instance_state or recursion=2). */
const char *lxd_state_status(json_t *state);
/* First global IPv4 address of iface (NULL: any but lo); NULL if none. */
const char *lxd_state_ipv4(json_t *state, const char *iface);

/* --- files and exec --- */
#define LXD_FILE_MKDIRS	0x1	/* create missing parent directories */
int	lxd_file_push(struct lxd *l, const char *project, const char *name,
	    const char *path, const void *data, size_t len, int uid, int gid,
	    int mode, int flags);
int	lxd_mkdir(struct lxd *l, const char *project, const char *name,
	    const char *path, int uid, int gid, int mode);
/* Read a file (at most limit bytes); *data is NUL-terminated. */
int	lxd_file_get(struct lxd *l, const char *project, const char *name,
	    const char *path, size_t limit, char **data, size_t *len);
/*
 * lxd_file_get, and what the path is, as LXD says ("file", "directory",
 * "symlink": LXD does not follow a symlink, its data is the target).
 */
int	lxd_file_read(struct lxd *l, const char *project, const char *name,
	    const char *path, size_t limit, char **data, size_t *len,
	    char *type, size_t typesz);
/*
 * Run argv in the instance (uid 0); *status is the command's exit status.
 * out/err may be NULL; they get the output. With both NULL the output is
 * not recorded (to /dev/null): four requests fewer.
 */
int	lxd_exec(struct lxd *l, const char *project, const char *name,
	    const char *const *argv, int *status, char **out, char **err);

/* --- images --- */
int	lxd_image_list(struct lxd *l, const char *project, json_t **out);
int	lxd_image_alias_get(struct lxd *l, const char *project,
	    const char *alias, char **fingerprint);
/*
 * Import a unified image tarball; gives its fingerprint (caller frees).
 * For issue 19, no command yet: the one user of lxd_req's upload, which
 * its streamed import will go through.
 */
int	lxd_image_import(struct lxd *l, const char *project,
	    const char *tarball, char **fingerprint);
/* Alias, or full / unique-prefix fingerprint -> full fingerprint. */
int	lxd_image_resolve(struct lxd *l, const char *project, const char *ref,
	    char **fingerprint);

/* --- projects --- */
int	lxd_project_create(struct lxd *l, const char *name, json_t *config,
	    const char *description);
int	lxd_project_get(struct lxd *l, const char *name, json_t **out);
/* Sets these config keys, leaves the others (GET + PUT with ETag). */
int	lxd_project_set_config(struct lxd *l, const char *name,
	    json_t *config);
int	lxd_project_delete(struct lxd *l, const char *name);
int	lxd_project_list(struct lxd *l, json_t **out);
/* Limits and usage: {"resources": {"containers": {"Limit","Usage"}...}} */
int	lxd_project_state(struct lxd *l, const char *name, json_t **out);

/* --- networks --- */
/* A network as the instances of project see it (its config and all). */
int	lxd_network_get(struct lxd *l, const char *project,
	    const char *network, json_t **out);
/*
 * The DHCP leases of a managed network, as the instances of project see
 * them (LXD lists only the leases of that project's instances): an array
 * of {"hostname", "hwaddr", "address", "type"}.
 */
int	lxd_network_leases(struct lxd *l, const char *project,
	    const char *network, json_t **out);

/* --- a cluster (lxd-cluster.c) --- */
/* 1 when the server is a cluster member, 0 when not; or -errno. */
int	lxd_clustered(struct lxd *l);
/*
 * GET /1.0/cluster/members?recursion=1: an array of {"server_name",
 * "url", "status" (Online, Offline, Evacuated, Blocked), "message", ...};
 * an empty array from a server that is not clustered.
 */
int	lxd_cluster_members(struct lxd *l, json_t **out);
/* The resources of one member (NULL or "": the server asked). */
int	lxd_resources_of(struct lxd *l, const char *member, json_t **out);
/*
 * 1 when an instance object of a list is LXD's stand-in for one on a
 * member it cannot reach now (status "Error", no config): only its name,
 * project and location are known. Pure.
 */
int	lxd_instance_unreachable(json_t *inst);
/*
 * POST /1.0/networks with body ({"name", "type", "config", ...}); on a
 * cluster first on each member, as LXD asks (its member-specific step),
 * and nothing pending left when it fails.
 */
int	lxd_network_create(struct lxd *l, json_t *body);
/* Move a stopped instance to another member (LXD's migration, not live). */
int	lxd_instance_move(struct lxd *l, const char *project,
	    const char *name, const char *member);

/* --- server --- */
int	lxd_resources(struct lxd *l, json_t **out);
/* A profile of the default project. */
int	lxd_profile_get(struct lxd *l, const char *name, json_t **out);
/* A profile of a project. */
int	lxd_profile_get_in(struct lxd *l, const char *project,
	    const char *name, json_t **out);
/*
 * Delete every profile of a project that has its own, but its default (it
 * goes with the project); a project without leaves the default's alone.
 */
int	lxd_profile_delete_all(struct lxd *l, const char *project);
/* Make a profile of a project, or replace what it has (PUT, else POST). */
int	lxd_profile_put(struct lxd *l, const char *project, const char *name,
	    json_t *config, json_t *devices, const char *description);

/* --- snapshots --- */
/*
 * A stateless snapshot that expires at expires (unix seconds), or never
 * (0), whatever the instance's snapshots.expiry says.
 */
int	lxd_snapshot_create(struct lxd *l, const char *project,
	    const char *name, const char *snap, long long expires);
/* Each with name, created_at, expires_at and size (-1: not known). */
int	lxd_snapshot_list(struct lxd *l, const char *project,
	    const char *name, json_t **out);
/* How many the instance has (one light request): >= 0, or LXD's errno. */
int	lxd_snapshot_count(struct lxd *l, const char *project,
	    const char *name);
int	lxd_snapshot_restore(struct lxd *l, const char *project,
	    const char *name, const char *snap);
int	lxd_snapshot_delete(struct lxd *l, const char *project,
	    const char *name, const char *snap);

/* --- backups, streamed (lxd-backup.c) --- */
/*
 * Make a backup of the instance (its snapshots too if snapshots; in the
 * pool's own format if optimized), gzip, that LXD deletes by itself at
 * expires (unix seconds) should nobody else.
 */
int	lxd_backup_create(struct lxd *l, const char *project,
	    const char *name, const char *backup, int snapshots, int optimized,
	    long long expires);
/*
 * Write the backup's tarball into fd as it comes (never all in memory);
 * *bytes written, also on failure (-EPIPE etc.: fd's reader went away).
 */
int	lxd_backup_export(struct lxd *l, const char *project,
	    const char *name, const char *backup, int fd, long long *bytes);
int	lxd_backup_delete(struct lxd *l, const char *project,
	    const char *name, const char *backup);
/*
 * A new instance name from the backup tarball read from fd to its end,
 * on pool (NULL: the tarball's or the profile's); *bytes read. Only gzip
 * or plain tar (else -ENOEXEC; a broken gzip stream: -EBADMSG), at most
 * max bytes read and max bytes unpacked (else -EFBIG; 0: no cap).
 */
int	lxd_backup_import(struct lxd *l, const char *project,
	    const char *name, const char *pool, int fd, long long max,
	    long long *bytes);

/* What LXD's last refusal was about, where its errno does not say. */
enum lxd_refusal {
	LXD_REFUSED_OTHER,
	LXD_REFUSED_DNS_NAME,	/* another instance has the name in DNS */
	LXD_REFUSED_INSTANCES,	/* the project's number of instances */
	LXD_REFUSED_LIMITS,	/* another of its limits.* */
	LXD_REFUSED_DISK_FULL,	/* its volume is full (quota, space) */
};
enum lxd_refusal lxd_refusal(const struct lxd *l);
/*
 * Was the last refusal a project's aggregate limit on key (such as
 * "limits.cpu")? 1 or 0.
 */
int	lxd_refused_aggregate(const struct lxd *l, const char *key);
/*
 * Was it a project limit that its instances do not each set, "either
 * directly or via a profile" (LXD refuses such a limit)? 1 or 0.
 */
int	lxd_refused_unset_limit(const struct lxd *l);

/* --- pure helpers, exposed for tests --- */
/*
 * Decode one response envelope. kind: 's' sync, 'a' async (op gets the
 * operation path), 'e' error. Returns 0 or the errno matching an error.
 */
struct lxd_envelope {
	char	 kind;
	long	 code;		/* status_code or error_code */
	const char *error;	/* LXD's text, or NULL */
	const char *operation;	/* async: "/1.0/operations/ID" */
	json_t	*metadata;	/* borrowed from root */
	json_t	*root;
};
int	lxd_envelope_parse(const char *body, size_t len, long http,
	    struct lxd_envelope *env, char *msg, size_t msgsz);
void	lxd_envelope_clear(struct lxd_envelope *env);
int	lxd_errno_from_http(long code);
/* The errno of an LXD refusal: r, or for -EIO what msg (LXD's words)
   says. */
int	lxd_errno_from_text(int r, const char *msg);
int	lxd_progress_percent(const char *text);

/* --- the event stream (lxd-events.c) --- */
/*
 * GET /1.0/events?type=lifecycle,operation&all-projects=true as a
 * websocket on its own connection (libcurl 7.88 has no websockets: it
 * only connects, over the socket or TLS, and carries the bytes). One JSON object per event: {"type", "timestamp",
 * "project", "metadata"}; lifecycle metadata has "action"
 * ("instance-started") and "source" ("/1.0/instances/c1?project=p").
 * LXD pings every 10 s and drops a listener that leaves three pings
 * unanswered, and one whose socket stays full for 5 s: read it without
 * pause (lxd_events_next answers pings).
 */
struct lxd_events;

/* On its own connection to where l is (socket or HTTPS, as l). NULL with
   the reason in err. */
struct lxd_events *lxd_events_open(struct lxd *l, char *err, size_t errsz);
/* For poll(2) of POLLRDHUP: the connection's socket. Over TLS, data may
   wait decrypted with nothing to read on it: lxd_events_next knows. */
int	lxd_events_fd(const struct lxd_events *ev);
/*
 * The next event (the caller owns *event), waiting up to timeout_ms (< 0:
 * forever). 0 with an event; -EAGAIN when the time ran out; -EPIPE when
 * LXD closed the stream, -EPROTO when it sent something that is not a
 * websocket of JSON events (or a message over LXD_WS_MAX): the stream is
 * over, close it, open a new one and reload. lxd_events_error() says why.
 */
int	lxd_events_next(struct lxd_events *ev, json_t **event,
	    int timeout_ms);
const char *lxd_events_error(const struct lxd_events *ev);
void	lxd_events_close(struct lxd_events *ev);
/*
 * The instance a lifecycle event is about: its project (the event's own,
 * else the source's ?project=, else "default") and name, borrowed from the
 * event or written into the buffers. 0, or -ENOENT if the event is not
 * about an instance.
 */
int	lxd_event_instance(json_t *event, char *project, size_t projsz,
	    char *name, size_t namesz);

/* The websocket's pure parts, exposed for tests and fuzzing. */
#define LXD_WS_MAX	(1024u * 1024)	/* one message, all fragments */
#define LXD_WS_GUID	"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
enum {
	LXD_WS_CONT = 0x0, LXD_WS_TEXT = 0x1, LXD_WS_BINARY = 0x2,
	LXD_WS_CLOSE = 0x8, LXD_WS_PING = 0x9, LXD_WS_PONG = 0xa,
};
struct lxd_ws_frame {
	int		 fin;
	int		 opcode;
	const unsigned char *payload;	/* into the parsed bytes */
	size_t		 len;
};
/*
 * One server frame from the n bytes at p: the bytes it took (> 0), 0 if
 * more are needed, -EMSGSIZE if its payload is over max, -EPROTO if it is
 * not a frame a server may send (reserved bits or opcodes, a mask, a
 * control frame fragmented or over 125 bytes, a length not in its
 * shortest form).
 */
long	lxd_ws_parse(const void *p, size_t n, size_t max,
	    struct lxd_ws_frame *f);
/* A client frame (masked with mask) of a control payload of up to 125
   bytes into out (len + 6 bytes): its size. */
size_t	lxd_ws_encode(unsigned char *out, int opcode, const void *payload,
	    size_t len, const unsigned char mask[4]);
/* Sec-WebSocket-Accept for key: base64(SHA-1(key GUID)), 28 characters. */
void	lxd_ws_accept(const char *key, char out[29]);

#endif
