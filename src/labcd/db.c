/*
 * db.c - opening the database and migrating its schema forward. The
 * migrations list only grows: a database of any older version is brought
 * to DB_SCHEMA_VERSION in one transaction each step.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "buf.h"
#include "db-sql.h"
#include "db.h"
#include "log.h"
#include "xmalloc.h"

static const char *const migrations[] = {
	/* 1: accounts, sessions, SSH keys, audit log */
	"CREATE TABLE users ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  pwhash TEXT,"
	"  is_admin INTEGER NOT NULL DEFAULT 0,"
	"  failures INTEGER NOT NULL DEFAULT 0,"
	"  locked_until INTEGER NOT NULL DEFAULT 0,"
	"  created INTEGER NOT NULL);"
	"CREATE TABLE sessions ("
	"  token_hash TEXT PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  uid INTEGER NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  expires INTEGER NOT NULL);"
	"CREATE TABLE keys ("
	"  id INTEGER PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  type TEXT NOT NULL,"
	"  blob TEXT NOT NULL,"
	"  fingerprint TEXT NOT NULL UNIQUE,"
	"  comment TEXT NOT NULL DEFAULT '',"
	"  created INTEGER NOT NULL);"
	"CREATE INDEX keys_user ON keys(user_id);"
	"CREATE TABLE audit ("
	"  id INTEGER PRIMARY KEY,"
	"  time INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  user TEXT,"
	"  command TEXT NOT NULL,"
	"  target TEXT,"
	"  result TEXT NOT NULL);"
	"CREATE INDEX audit_user ON audit(user, id);",

	/* 2: LXD projects of users, containers with their stable ports */
	"ALTER TABLE users ADD COLUMN project TEXT;"
	"CREATE TABLE containers ("
	"  id INTEGER PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users(id),"
	"  name TEXT NOT NULL,"
	"  port INTEGER NOT NULL UNIQUE,"
	"  image TEXT NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'creating',"
	"  provisioned INTEGER NOT NULL DEFAULT 0,"
	"  keys_synced INTEGER NOT NULL DEFAULT 0,"
	"  created INTEGER NOT NULL,"
	"  UNIQUE (user_id, name));",

	/* 3: accounts an admin has locked (no key, session or password) */
	"ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;",

	/* 4: GPUs given to containers, and the GPU quota (NULL: none) */
	"CREATE TABLE gpus ("
	"  container_id INTEGER NOT NULL REFERENCES containers(id)"
	"    ON DELETE CASCADE,"
	"  gpu INTEGER NOT NULL,"
	"  pci TEXT NOT NULL,"
	"  exclusive INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (container_id, gpu));"
	"ALTER TABLE users ADD COLUMN gpu_quota INTEGER;",

	/*
	 * 5: a key logs its user in at the gateway only once proven: added
	 * by an admin, made by 'key gen', or presented to sshd by its holder
	 * who then logged in. Keys from before were all added by an admin or
	 * pasted by their member; they stay proven so that no lab is locked
	 * out by the upgrade ('key list' shows it; a doubtful one can be
	 * deleted and pasted again).
	 */
	"ALTER TABLE keys ADD COLUMN"
	"  proven INTEGER NOT NULL DEFAULT 0;"
	"UPDATE keys SET proven = 1;",

	/*
	 * 6: GPUs over time. A GPU given to a container has a start, may
	 * have an end (a lease: 0 none), whether its owner was warned of
	 * the end, and since when it has been idle (0: busy or not known).
	 * gpu_usage keeps what sampling saw, per minute, GPU, and the
	 * container holding it (by name: rows outlive the container), for
	 * 'usage'; notices wait for their user's next labc command.
	 */
	"ALTER TABLE gpus ADD COLUMN since INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE gpus ADD COLUMN lease_end INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE gpus ADD COLUMN warned INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE gpus ADD COLUMN idle_since INTEGER NOT NULL DEFAULT 0;"
	"UPDATE gpus SET since = CAST(strftime('%s', 'now') AS INTEGER);"
	"ALTER TABLE users ADD COLUMN gpu_idle_exempt INTEGER NOT NULL "
	"  DEFAULT 0;"
	"ALTER TABLE containers ADD COLUMN gpu_idle_exempt INTEGER NOT NULL "
	"  DEFAULT 0;"
	"CREATE TABLE gpu_usage ("
	"  minute INTEGER NOT NULL,"		/* unix time / 60 */
	"  gpu INTEGER NOT NULL,"
	"  user TEXT NOT NULL,"			/* '': nobody held it */
	"  container TEXT NOT NULL,"
	"  held INTEGER NOT NULL DEFAULT 0,"	/* seconds */
	"  used INTEGER NOT NULL DEFAULT 0,"	/* seconds with a process */
	"  util INTEGER NOT NULL DEFAULT 0,"	/* sum of % x seconds */
	"  mem INTEGER NOT NULL DEFAULT 0,"	/* most MiB seen */
	"  PRIMARY KEY (minute, gpu, user, container)) WITHOUT ROWID;"
	"CREATE TABLE notices ("
	"  id INTEGER PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  time INTEGER NOT NULL,"
	"  text TEXT NOT NULL);"
	"CREATE INDEX notices_user ON notices(user_id, id);",

	/*
	 * 7: the GPU queue: what a container waits for (spec as --gpu
	 * takes it), for how long once given, and whether it starts then;
	 * users' gpu_served orders the round-robin (the last time one of
	 * theirs was served, as a growing number; 0: never).
	 */
	"CREATE TABLE gpu_queue ("
	"  id INTEGER PRIMARY KEY,"
	"  container_id INTEGER NOT NULL REFERENCES containers(id)"
	"    ON DELETE CASCADE,"
	"  spec TEXT NOT NULL,"
	"  exclusive INTEGER NOT NULL DEFAULT 0,"
	"  lease INTEGER NOT NULL DEFAULT 0,"
	"  start INTEGER NOT NULL DEFAULT 0,"
	"  created INTEGER NOT NULL);"
	"ALTER TABLE users ADD COLUMN gpu_served INTEGER NOT NULL DEFAULT 0;"
	/* The same sums as gpu_usage per hour: 'usage' over months reads
	   these, and only the first hour's minutes. */
	"CREATE TABLE gpu_usage_hour ("
	"  hour INTEGER NOT NULL,"		/* unix time / 3600 */
	"  gpu INTEGER NOT NULL,"
	"  user TEXT NOT NULL,"
	"  container TEXT NOT NULL,"
	"  held INTEGER NOT NULL DEFAULT 0,"
	"  used INTEGER NOT NULL DEFAULT 0,"
	"  util INTEGER NOT NULL DEFAULT 0,"
	"  mem INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (hour, gpu, user, container)) WITHOUT ROWID;"
	"INSERT INTO gpu_usage_hour SELECT minute / 60, gpu, user, container, "
	"  sum(held), sum(used), sum(util), max(mem) FROM gpu_usage "
	"  GROUP BY 1, 2, 3, 4;",

	/*
	 * 8: for the status page. The seconds each minute's row sampled (a
	 * GPU nobody holds has held 0), so a GPU's utilisation over time is
	 * sum(util) / sum(secs); and each user's GPU seconds of all time,
	 * which only grow (Prometheus counters), unlike the pruned rows.
	 */
	"ALTER TABLE gpu_usage ADD COLUMN secs INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE gpu_totals ("
	"  user TEXT PRIMARY KEY,"
	"  held INTEGER NOT NULL DEFAULT 0,"
	"  used INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
	"INSERT INTO gpu_totals SELECT user, sum(held), sum(used) "
	"  FROM gpu_usage_hour WHERE user <> '' GROUP BY user;",

	/*
	 * 9: how many snapshots each user may keep, over all their
	 * containers (NULL: no limit); users from before get 10, the
	 * shipped quota_snapshots, as a new user would.
	 */
	("ALTER TABLE users ADD COLUMN snap_quota INTEGER;"
	"UPDATE users SET snap_quota = 10;"),

	/*
	 * 10: ssh_port_mode = nat: the fixed IPv4 address labcd gave a
	 * container on its bridge (network), which its port forwards to;
	 * NULL for a container whose port is a forkproxy.
	 */
	"ALTER TABLE containers ADD COLUMN network TEXT;"
	"ALTER TABLE containers ADD COLUMN addr TEXT;"
	"CREATE UNIQUE INDEX containers_addr ON containers (network, addr);",

	/*
	 * 11: several servers (an LXD cluster): the member whose GPU a row
	 * gives; '' on one server. A container's GPUs are all on its own
	 * member, so (container_id, gpu) stays the key.
	 */
	"ALTER TABLE gpus ADD COLUMN server TEXT NOT NULL DEFAULT '';",

	/*
	 * 12: GPU use over time on several servers: a GPU of the history is
	 * its server ('' on one server) and number, as in gpus. SQLite
	 * cannot change a key: the tables are made again.
	 */
	"CREATE TABLE gpu_usage_new ("
	"  minute INTEGER NOT NULL,"
	"  server TEXT NOT NULL DEFAULT '',"
	"  gpu INTEGER NOT NULL,"
	"  user TEXT NOT NULL,"
	"  container TEXT NOT NULL,"
	"  held INTEGER NOT NULL DEFAULT 0,"
	"  used INTEGER NOT NULL DEFAULT 0,"
	"  util INTEGER NOT NULL DEFAULT 0,"
	"  mem INTEGER NOT NULL DEFAULT 0,"
	"  secs INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (minute, server, gpu, user, container)) WITHOUT ROWID;"
	"INSERT INTO gpu_usage_new (minute, gpu, user, container, held, used, "
	"  util, mem, secs) SELECT minute, gpu, user, container, held, used, "
	"  util, mem, secs FROM gpu_usage;"
	"DROP TABLE gpu_usage;"
	"ALTER TABLE gpu_usage_new RENAME TO gpu_usage;"
	"CREATE TABLE gpu_usage_hour_new ("
	"  hour INTEGER NOT NULL,"
	"  server TEXT NOT NULL DEFAULT '',"
	"  gpu INTEGER NOT NULL,"
	"  user TEXT NOT NULL,"
	"  container TEXT NOT NULL,"
	"  held INTEGER NOT NULL DEFAULT 0,"
	"  used INTEGER NOT NULL DEFAULT 0,"
	"  util INTEGER NOT NULL DEFAULT 0,"
	"  mem INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (hour, server, gpu, user, container)) WITHOUT ROWID;"
	"INSERT INTO gpu_usage_hour_new (hour, gpu, user, container, held, "
	"  used, util, mem) SELECT hour, gpu, user, container, held, used, "
	"  util, mem FROM gpu_usage_hour;"
	"DROP TABLE gpu_usage_hour;"
	"ALTER TABLE gpu_usage_hour_new RENAME TO gpu_usage_hour;",
};

/* Record sqlite's message after what; returns -1. */
static int
db_fail(struct db *db, const char *what)
{
	snprintf(db->err, sizeof(db->err), "%s: %s", what, sqlite3_errmsg(db->h));
	return -1;
}

int
db_check(struct db *db, char **integrity, char **fk, int *fk_rows)
{
	sqlite3_stmt *st = NULL;
	struct buf b = BUF_INIT(0);
	int n = 0, ok = 0;

	*integrity = *fk = NULL;
	*fk_rows = 0;
	/* Not db_prepare: a broken schema must be said, not abort labcd. */
	if (sqlite3_prepare_v2(db->h, "PRAGMA integrity_check", -1, &st,
	    NULL) != SQLITE_OK) {
		*integrity = xstrdup(sqlite3_errmsg(db->h));
		sqlite3_finalize(st);
		return -1;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *s = (const char *)sqlite3_column_text(st, 0);

		if (n++ == 0 && s != NULL && strcmp(s, "ok") == 0)
			ok = 1;
		else if (n <= 3)
			buf_printf(&b, "%s%s", b.len ? "; " : "", s ? s : "");
	}
	if (sqlite3_finalize(st) != SQLITE_OK && n == 0)
		buf_printf(&b, "%s", sqlite3_errmsg(db->h));
	if (!ok)
		*integrity = buf_steal(&b);
	buf_free(&b);
	n = 0;
	if (sqlite3_prepare_v2(db->h, "PRAGMA foreign_key_check", -1, &st,
	    NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		return 0;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n++ < 3)
			buf_printf(&b, "%s%s row %lld -> %s", b.len ? "; " : "",
			    sqlite3_column_text(st, 0),
			    (long long)sqlite3_column_int64(st, 1),
			    sqlite3_column_text(st, 2));
	}
	sqlite3_finalize(st);
	*fk = buf_steal(&b);
	*fk_rows = n;
	return 0;
}

int
db_readonly(struct db *db)
{
	return sqlite3_db_readonly(db->h, "main") == 1;
}

sqlite3_stmt *
db_prepare(struct db *db, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK) {
		/* Only a wrong SQL text or a broken database gets here. */
		log_error("database: cannot prepare '%.80s': %s", sql,
		    sqlite3_errmsg(db->h));
		abort();
	}
	return st;
}

/* Run SQL with no result rows; 0 or -1 (db->err). */
static int
db_exec(struct db *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(db->err, sizeof(db->err), "%s", msg != NULL ? msg :
		    sqlite3_errmsg(db->h));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int
db_done(struct db *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_fail(db, "database write failed");
	return 0;
}

int
db_begin(struct db *db)
{
	return db_exec(db, "BEGIN IMMEDIATE");
}

int
db_commit(struct db *db)
{
	if (db_exec(db, "COMMIT") != 0) {
		db_rollback(db);
		return -1;
	}
	return 0;
}

void
db_rollback(struct db *db)
{
	if (!sqlite3_get_autocommit(db->h))
		(void)sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
}

int
db_schema_version(struct db *db)
{
	sqlite3_stmt *st = db_prepare(db, "PRAGMA user_version");
	int v = -1;

	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* A file: URI for path, percent-escaping what URIs reserve. */
static char *
db_uri(const char *path, const char *query)
{
	struct buf b;
	const char *p;
	char *uri;

	buf_init(&b, 8192);
	(void)buf_adds(&b, "file:");
	for (p = path; *p != '\0'; p++) {
		if (*p == '%' || *p == '?' || *p == '#')
			(void)buf_printf(&b, "%%%02X", (unsigned char)*p);
		else
			(void)buf_add(&b, p, 1);
	}
	(void)buf_printf(&b, "?%s", query);
	uri = sqlite3_mprintf("%s", buf_str(&b));
	buf_free(&b);
	return uri;
}

/* No -wal file beside path, or an empty one. */
static int
wal_empty(const char *path)
{
	char *wal = xasprintf("%s-wal", path);
	struct stat st;
	int r = stat(wal, &st) != 0 || st.st_size == 0;

	free(wal);
	return r;
}

/* Is the file system under path mounted read-only? */
static int
on_readonly_fs(const char *path)
{
	struct statvfs sv;

	return statvfs(path, &sv) == 0 && (sv.f_flag & ST_RDONLY);
}

struct db *
db_open(const char *path, char *err, size_t errsz)
{
	struct db *db = xcalloc(1, sizeof(*db));
	char *uri = NULL;
	int r;

	if (on_readonly_fs(path)) {
		/*
		 * SQLite cannot make the -shm file of a WAL database there;
		 * nothing can change the file either, so read it as
		 * immutable (every write then fails with "readonly") -
		 * unless a WAL holds changes not in the file yet, which
		 * immutable would not see: then read-only, as SQLite can.
		 */
		uri = db_uri(path, wal_empty(path) ? "mode=ro&immutable=1" :
		    "mode=ro");
		r = sqlite3_open_v2(uri, &db->h, SQLITE_OPEN_READONLY |
		    SQLITE_OPEN_URI | SQLITE_OPEN_NOFOLLOW, NULL);
		sqlite3_free(uri);
	} else
		r = sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE |
		    SQLITE_OPEN_NOFOLLOW, NULL);
	if (r != SQLITE_OK) {
		snprintf(err, errsz, "cannot open database %s: %s", path,
		    db->h != NULL ? sqlite3_errmsg(db->h) : "out of memory");
		db_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db->h, 10000);
	sqlite3_extended_result_codes(db->h, 1);
	if (db_exec(db, "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL")
	    != 0) {
		snprintf(err, errsz, "database %s: %s", path, db->err);
		db_close(db);
		return NULL;
	}
	return db;
}

void
db_close(struct db *db)
{
	if (db == NULL)
		return;
	sqlite3_close(db->h);
	free(db);
}

/* Refuse a path whose last component is not a regular file. */
static int
check_regular(const char *path, char *err, size_t errsz)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errsz, "database %s is not a regular file (%s): "
		    "refusing to use it; move it away", path,
		    S_ISLNK(st.st_mode) ? "a symbolic link" :
		    S_ISFIFO(st.st_mode) ? "a FIFO" : "something else");
		return -1;
	}
	return 0;
}

static int
migrate(struct db *db, char *err, size_t errsz)
{
	int v = db_schema_version(db), n = sizeof(migrations) /
	    sizeof(migrations[0]);

	if (v > n) {
		snprintf(err, errsz, "the database has schema version %d, newer "
		    "than this labcd (%d): use a newer labcd", v, n);
		return -1;
	}
	for (; v < n; v++) {
		char *setv = xasprintf("PRAGMA user_version=%d", v + 1);

		if (db_begin(db) != 0 || db_exec(db, migrations[v]) != 0 ||
		    db_exec(db, setv) != 0 || db_commit(db) != 0) {
			snprintf(err, errsz, "migrating the database to schema "
			    "version %d failed: %s", v + 1, db->err);
			db_rollback(db);
			free(setv);
			return -1;
		}
		free(setv);
		log_info("database: migrated to schema version %d", v + 1);
	}
	return 0;
}

int
db_prepare_file(const char *path, char *err, size_t errsz)
{
	char *copy = xstrdup(path), *dir = dirname(copy);
	struct db *db;
	struct stat st;
	int fd, r;

	*err = '\0';
	/*
	 * 0755, as the systemd unit makes it: the gateway account's home is
	 * in it (admin gateway setup) and sshd must enter that. The database
	 * is 0600 below, and SQLite gives its -wal and -shm the same mode.
	 */
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		snprintf(err, errsz, "cannot create %s: %s", dir,
		    strerror(errno));
		free(copy);
		return -1;
	}
	free(copy);
	if (check_regular(path, err, errsz) != 0) {
		if (*err == '\0')
			snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return -1;
	}
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK, 0600);
	if (fd < 0 && errno == EROFS && (db = db_open(path, err, errsz)) !=
	    NULL) {
		/* Serve what can be read; every change fails until then. */
		r = db_schema_version(db) == (int)(sizeof(migrations) /
		    sizeof(migrations[0])) ? 0 : -1;
		if (r == 0)
			log_warn("database %s is on a read-only file system: "
			    "labcd answers what only reads, every change fails "
			    "until it is writable again", path);
		else
			snprintf(err, errsz, "database %s is on a read-only file "
			    "system and needs a newer schema: make it writable",
			    path);
		db_close(db);
		return r;
	}
	if (fd < 0) {
		snprintf(err, errsz, "cannot open database %s: %s", path,
		    strerror(errno));
		return -1;
	}
	/*
	 * It holds password hashes: a file copied in with a looser mode
	 * (a restored backup) is made 0600 again; SQLite gives its -wal and
	 * -shm files the database's mode.
	 */
	if (fstat(fd, &st) == 0 && (st.st_mode & 077) != 0) {
		log_warn("database %s had mode %04o: now 0600", path,
		    (unsigned)(st.st_mode & 07777));
		if (fchmod(fd, 0600) != 0) {
			snprintf(err, errsz, "cannot make database %s mode "
			    "0600: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
	}
	close(fd);
	if ((db = db_open(path, err, errsz)) == NULL)
		return -1;
	r = db_exec(db, "PRAGMA journal_mode=WAL");
	if (r != 0)
		snprintf(err, errsz, "database %s: %s", path, db->err);
	else
		r = migrate(db, err, errsz);
	db_close(db);
	return r;
}
