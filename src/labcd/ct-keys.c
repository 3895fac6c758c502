/*
 * ct-keys.c - the owner's keys in their containers: the block labcd keeps
 * in each authorized_keys (the owner's other lines kept), pushed at every
 * key change, and the container user made with them at the first start.
 * Reading a user's keys and writing them is one step per user (key_lock).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct-keys.h"
#include "db-keys.h"
#include "db-users.h"
#include "inert.h"
#include "labcd.h"
#include "log.h"
#include "lxd.h"
#include "project.h"
#include "proto.h"
#include "xmalloc.h"

/*
 * Reading a user's keys and writing them into containers is one step per
 * user. Two key changes at once each read the keys and then write them;
 * the older read could be written last, leaving a deleted key in (or an
 * added key out of) a container that the database says is synced.
 */
#define KEY_LOCKS	16
static pthread_mutex_t key_locks[KEY_LOCKS];
static pthread_once_t key_locks_once = PTHREAD_ONCE_INIT;

static void
key_locks_init(void)
{
	int i;

	for (i = 0; i < KEY_LOCKS; i++)
		pthread_mutex_init(&key_locks[i], NULL);
}

static pthread_mutex_t *
key_lock(long long user_id)
{
	pthread_once(&key_locks_once, key_locks_init);
	return &key_locks[(unsigned long long)user_id % KEY_LOCKS];
}

/*
 * ~/.ssh/authorized_keys in a container holds the owner's registered keys
 * in a block between these markers, and whatever else its owner put there
 * around it, which labcd keeps. A file without the markers was written by
 * an older labcd, which wrote only the registered keys (every time, the
 * whole file): it is replaced, so that a key deleted since goes too.
 */
#define KEYS_BEGIN	"# labcontainers: keys of "
#define KEYS_END	"# labcontainers: end"
#define KEYS_READ_MAX	(256 * 1024)	/* bigger: the block alone */

/* The user's registered keys as the managed block. */
static char *
authorized_keys(struct op *op, long long user_id)
{
	struct buf f = BUF_INIT(0);
	struct key_row *keys;
	struct user_row u;
	int i, n;

	/* No such user: an empty name (u is zeroed). */
	(void)userdb_get_id(op->db, user_id, &u);
	buf_printf(&f, KEYS_BEGIN "%s (labcd writes this block at every 'key "
	    "add' and 'key del': add your own lines outside it)\n", u.name);
	n = keydb_list(op->db, user_id, &keys);
	for (i = 0; i < n; i++)
		buf_printf(&f, "%s %s%s%s\n", keys[i].type, keys[i].blob,
		    *keys[i].comment ? " " : "", keys[i].comment);
	keydb_free(keys, n);
	buf_printf(&f, KEYS_END " of %s's keys\n", u.name);
	return buf_steal(&f);
}

static int
starts(const char *line, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);

	return n >= k && memcmp(line, prefix, k) == 0;
}

/*
 * The file the container has (old, len bytes: its owner's words, any
 * bytes) with its block(s) replaced by block, where the first one was;
 * every other line kept as it is. A begin marker without an end runs to
 * the end of the file. No marker at all: block alone (an older labcd's).
 */
static char *
keys_merge(const char *old, size_t len, const char *block, size_t *outlen)
{
	struct buf b = BUF_INIT(0);
	const char *p = old, *end = old + len, *nl;
	int inside = 0, placed = 0, marked = 0;
	size_t n;

	for (p = old; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		if (starts(p, (size_t)(nl - p), KEYS_BEGIN)) {
			marked = 1;
			break;
		}
	}
	if (!marked) {
		*outlen = strlen(block);
		return xstrdup(block);
	}
	for (p = old; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		n = (size_t)(nl - p);
		if (!inside && starts(p, n, KEYS_BEGIN)) {
			inside = 1;
			if (!placed++)
				buf_adds(&b, block);
			continue;
		}
		if (inside) {
			if (starts(p, n, KEYS_END))
				inside = 0;
			continue;
		}
		buf_add(&b, p, n);
		buf_adds(&b, "\n");
	}
	*outlen = b.len;
	return buf_steal(&b);
}

static void
home_of(struct op *op, char *out, size_t outsz)
{
	const char *u = op->srv->cfg.container_user;

	snprintf(out, outsz, strcmp(u, "root") == 0 ? "/root" : "/home/%s", u);
}

/*
 * What is at path inside the container, told by exit status, without
 * opening it: LXD's files GET opens whatever is there and says "file" of
 * a FIFO, and blocks on it. Anything but a regular file or a directory
 * is removed (a symlink too: LXD would write through it).
 */
static const char keys_type_sh[] =
    "f=$1\n"
    "if [ -L \"$f\" ]; then t=3\n"
    "elif [ ! -e \"$f\" ]; then exit 2\n"
    "elif [ -f \"$f\" ]; then exit 0\n"
    "elif [ -d \"$f\" ]; then exit 4\n"
    "elif [ -p \"$f\" ]; then t=5\n"
    "elif [ -S \"$f\" ]; then t=6\n"
    "else t=7; fi\n"
    "rm -f -- \"$f\" || exit 1\n"
    "exit $t\n";

/*
 * Write the block of keys into one container's authorized_keys, keeping
 * its owner's other lines; 0, -EAGAIN (the container is not running: the
 * keys go in at its next start) or -1 (logged). What the file holds is
 * the owner's (root inside): it is read only when it is a regular file
 * (keys_type_sh says so first), at most KEYS_READ_MAX bytes; anything
 * else goes, and the block is written in its place. The owner can still
 * swap the file between the check and the read or the write; that costs
 * them their own request (LXD's timeout), nobody else's.
 * LXD's file API acts inside the container, as its root.
 */
static int
push_keys(struct op *op, const char *project, const char *name,
    const char *keys, int uid, int gid)
{
	static const char *const what[] = { [3] = "a symlink",
	    [5] = "a FIFO", [6] = "a socket", [7] = "not a regular file" };
	struct lxd *l = op_lxd(op);
	char home[128], path[160], type[16];
	const char *argv[] = { "sh", "-c", keys_type_sh, "labc-keys", NULL,
	    NULL };
	char *old = NULL, *merged = NULL;
	size_t len = 0, mlen = 0;
	json_t *st = NULL;
	int r, status = -1;

	home_of(op, home, sizeof(home));
	snprintf(path, sizeof(path), "%s/.ssh/authorized_keys", home);
	argv[4] = path;
	if ((r = lxd_exec(l, project, name, argv, &status, NULL, NULL)) != 0) {
		/* A stopped one has its keys pushed when it starts. */
		if (lxd_instance_state(l, project, name, &st) == 0 &&
		    lxd_state_status(st) != NULL &&
		    strcmp(lxd_state_status(st), "Running") != 0) {
			json_decref(st);
			return -EAGAIN;
		}
		json_decref(st);
		goto fail;
	}
	switch (status) {
	case 0:
		r = lxd_file_read(l, project, name, path, KEYS_READ_MAX, &old,
		    &len, type, sizeof(type));
		break;
	case 2:
		r = -ENOENT;
		break;
	case 3:
	case 5:
	case 6:
	case 7:
		log_warn("%s/%s: %s is %s: replaced by a file with the keys "
		    "of %s", project, name, path, what[status],
		    op->actor->user);
		r = -ENOENT;
		break;
	case 4:
		log_warn("keys of %s not written into %s/%s: %s is a "
		    "directory, not a file", op->actor->user, project, name,
		    path);
		return -1;
	default:
		log_warn("keys of %s not written into %s/%s: checking %s "
		    "failed (exit status %d)", op->actor->user, project, name,
		    path, status);
		return -1;
	}
	if (r == 0 && *type != '\0' && strcmp(type, "file") != 0) {
		/* Swapped since the check. */
		log_warn("keys of %s not written into %s/%s: %s is a %s, not "
		    "a file", op->actor->user, project, name, path, type);
		free(old);
		return -1;
	} else if (r == 0)
		merged = keys_merge(old, len, keys, &mlen);
	else if (r == -E2BIG)
		log_warn("%s/%s: %s is larger than %d bytes: replaced by the "
		    "keys of %s alone", project, name, path, KEYS_READ_MAX,
		    op->actor->user);
	else if (r != -ENOENT)
		goto fail;
	if (merged == NULL) {
		merged = xstrdup(keys);
		mlen = strlen(keys);
	}
	free(old);
	old = NULL;
	if (lxd_file_push(l, project, name, path, merged, mlen,
	    uid, gid, 0600, LXD_FILE_MKDIRS) != 0)
		goto fail;
	free(merged);
	return 0;
fail:
	log_warn("keys of %s not written into %s/%s: %s", op->actor->user,
	    project, name, op_lxd_error(op));
	free(old);
	free(merged);
	return -1;
}

int
ct_sync_keys(struct op *op, long long user_id, const char *user)
{
	pthread_mutex_t *lock = key_lock(user_id);
	char project[64], *keys;
	struct ct *cts;
	size_t i, n;
	int failed = 0;

	pthread_mutex_lock(lock);
	keys = authorized_keys(op, user_id);
	project_of(op, user_id, user, project);
	/*
	 * The list first, then the pushes: an update of keys_synced made
	 * while this SELECT still read (an older snapshot, once another
	 * request wrote) failed with SQLITE_BUSY_SNAPSHOT, unseen, and a
	 * container LXD did not take the keys into stayed marked synced.
	 */
	ctdb_list(op->db, user_id, 1, &cts, &n);
	for (i = 0; i < n; i++) {
		const char *name = cts[i].name;
		int ok;

		/* uid 1000 is the container user: ct_start makes it so. */
		ok = push_keys(op, project, name, keys, 1000, 1000) == 0;
		failed += !ok;
		if (ctdb_set_keys_synced(op->db, cts[i].id, ok) != 0) {
			log_error("keys of %s: cannot record whether %s has "
			    "them: %s", user, name, op->db->err);
			failed++;
		}
	}
	pthread_mutex_unlock(lock);
	free(cts);
	free(keys);
	return failed ? -1 : 0;
}

/*
 * Make the container user with sudo (uid 1000 where free), own its home,
 * and write the keys ($2) as its authorized_keys. Runs once per
 * container, as root inside; its errors go to ERRLOG, read on failure
 * only (recording the output would cost four more LXD requests).
 */
#define PROVISION_ERRLOG "/run/labc-provision.err"
static const char provision_sh[] =
    "exec 2>" PROVISION_ERRLOG "\n"
    "u=\"$1\"; set -e\n"
    "if ! id -u \"$u\" >/dev/null 2>&1; then\n"
    "  useradd -m -s /bin/bash -u 1000 \"$u\" 2>/dev/null ||"
    " useradd -m -s /bin/bash \"$u\"\n"
    "fi\n"
    "# a locked password would keep sshd from taking keys\n"
    "if passwd -S \"$u\" 2>/dev/null | grep -q \" L \"; then"
    " usermod -p '*' \"$u\"; fi\n"
    "if getent group sudo >/dev/null; then usermod -aG sudo \"$u\"; fi\n"
    "if [ -d /etc/sudoers.d ]; then\n"
    "  echo \"$u ALL=(ALL) NOPASSWD:ALL\" > /etc/sudoers.d/90-labc\n"
    "  chmod 0440 /etc/sudoers.d/90-labc\n"
    "fi\n"
    "h=$(getent passwd \"$u\" | cut -d: -f6)\n"
    "mkdir -p \"$h/.ssh\"; chmod 700 \"$h/.ssh\"\n"
    "f=\"$h/.ssh/authorized_keys\"\n"
    "if [ \"$2\" != - ]; then\n"
    "  # lines outside labcd's block are kept (a file without it is an\n"
    "  # older labcd's: replaced)\n"
    "  (umask 077; { if [ -f \"$f\" ] && [ ! -L \"$f\" ] && grep -q '^"
    KEYS_BEGIN "' \"$f\"; then sed '/^" KEYS_BEGIN "/,/^" KEYS_END "/d'"
    " \"$f\"; fi; printf '%s' \"$2\"; } > \"$f.labc\"; mv -f \"$f.labc\""
    " \"$f\")\n"
    "fi\n"
    "chown \"$u:\" \"$h\"; chown -R \"$u:\" \"$h/.ssh\"\n"
    "rm -f " PROVISION_ERRLOG "\n";

/* Keys longer than this go by the files API (argv has its limits). */
#define PROVISION_KEYS_MAX	(64 * 1024)

/*
 * The container user and its keys; the caller records provisioned. The
 * user's key lock is held from reading the keys to writing them, as for
 * every push (a key added meanwhile is not overwritten by older ones).
 * *stopped: it failed because the container is not running.
 */
int
ct_provision(struct op *op, const char *project, struct ct *ct, int *stopped)
{
	char *keys, *err = NULL;
	const char *argv[] = { "sh", "-c", provision_sh, "labc-provision",
	    op->srv->cfg.container_user, "-", NULL };
	int status = -1, inline_keys, r;

	pthread_mutex_lock(key_lock(ct->user_id));
	keys = authorized_keys(op, ct->user_id);
	if ((inline_keys = strlen(keys) < PROVISION_KEYS_MAX))
		argv[5] = keys;
	r = lxd_exec(op_lxd(op), project, ct->name, argv, &status, NULL, NULL);
	*stopped = r == -ESRCH;
	if (r != 0 || status != 0) {
		pthread_mutex_unlock(key_lock(ct->user_id));
		if (r == 0)
			(void)lxd_file_get(op_lxd(op), project, ct->name,
			    PROVISION_ERRLOG, 4096, &err, NULL);
		if (err != NULL) {
			/* The container's own words: shown inert. */
			struct buf b = BUF_INIT(0);

			inert_add(&b, err, strlen(err), INERT_LINES);
			free(err);
			err = buf_steal(&b);
		}
		r = op_error(op, "making the user %s in %s failed: %s",
		    op->srv->cfg.container_user, ct->name, r != 0 ?
		    op_lxd_error(op) : err != NULL && *err != '\0' ? err :
		    "the script failed");
		free(err);
		free(keys);
		return r;
	}
	/* uid 1000 is the container user, as provision_sh makes it. */
	r = inline_keys ? 0 : push_keys(op, project, ct->name, keys, 1000,
	    1000);
	/* Under the lock: a key change after it marks it unsynced again. */
	if (r == 0)
		(void)ctdb_set_keys_synced(op->db, ct->id, 1);
	pthread_mutex_unlock(key_lock(ct->user_id));
	free(keys);
	ct->keys_synced = r == 0;
	return PROTO_OK;
}

void
ct_keys_refresh(struct op *op, const char *project, struct ct *ct)
{
	char *keys;

	pthread_mutex_lock(key_lock(ct->user_id));
	keys = authorized_keys(op, ct->user_id);
	if (push_keys(op, project, ct->name, keys, 1000, 1000) == 0)
		(void)ctdb_set_keys_synced(op->db, ct->id, 1);
	pthread_mutex_unlock(key_lock(ct->user_id));
	free(keys);
}
