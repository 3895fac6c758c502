/*
 * t-db-store.c - the store of users, sessions, keys and audit rows
 * (db-users.c, db-sessions.c, db-keys.c, db-audit.c) on a fresh database
 * file: rows in and out, the filters each caller relies on (a locked
 * user's keys, an expired session, another user's key), and the cascade
 * when a user goes; GPU use over time, a GPU being its server and number.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db-audit.h"
#include "db-gpus.h"
#include "db-keys.h"
#include "db-sessions.h"
#include "db-users.h"
#include "log.h"
#include "test.h"
#include "xmalloc.h"

static char dir[] = "/tmp/t-db-store.XXXXXX";
static struct db *db;

static long long
add_user(const char *name, int admin, const char *gpu_quota)
{
	long long id = 0;

	CHECKF(userdb_add(db, name, admin, gpu_quota, admin ? "4" : "", &id) ==
	    0, "add %s: %s",
	    name, db->err);
	return id;
}

static void
users(void)
{
	long long alice = add_user("alice", 0, ""), bob = add_user("bob", 1,
	    "2");
	struct user_row u, *rows;
	char *hash;
	int n, used, quota;

	REQUIRE(alice > 0 && bob > alice);
	CHECK(userdb_add(db, "alice", 0, "", "", NULL) == -1);
	CHECK(strstr(db->err, "database write failed: ") == db->err);
	REQUIRE(userdb_get(db, "alice", &u) == 0);
	CHECK(u.id == alice && strcmp(u.name, "alice") == 0 && !u.is_admin);
	CHECK(!u.has_password && !u.disabled && u.created > 0);
	CHECK(u.gpu_quota == -1 && u.snap_quota == -1 && u.project[0] == '\0');
	CHECK(userdb_get(db, "carol", &u) == -1 && u.id == 0);
	REQUIRE(userdb_get_id(db, bob, &u) == 0);
	CHECK(strcmp(u.name, "bob") == 0 && u.is_admin && u.gpu_quota == 2);
	CHECK(u.snap_quota == 4);
	CHECK(userdb_set_snap_quota(db, bob, -1) == 0);
	CHECK(userdb_get_id(db, bob, &u) == 0 && u.snap_quota == -1);
	CHECK(userdb_set_snap_quota(db, bob, 0) == 0);
	CHECK(userdb_get_id(db, bob, &u) == 0 && u.snap_quota == 0);

	CHECK(userdb_pwhash(db, alice) == NULL);
	CHECK(userdb_set_pwhash(db, alice, "$argon2id$x") == 0);
	hash = userdb_pwhash(db, alice);
	CHECK(hash != NULL && strcmp(hash, "$argon2id$x") == 0);
	free(hash);
	CHECK(userdb_get(db, "alice", &u) == 0 && u.has_password);

	CHECK(userdb_lock(db, alice, 1) == 0);
	CHECK(userdb_get(db, "alice", &u) == 0 && u.disabled);
	CHECK(userdb_lock(db, alice, 0) == 0);
	CHECK(userdb_get(db, "alice", &u) == 0 && !u.disabled);

	CHECK(userdb_set_gpu_quota(db, alice, 3) == 0);
	CHECK(userdb_gpus(db, alice, &used, &quota) == 0 && used == 0 &&
	    quota == 3);
	CHECK(userdb_set_gpu_quota(db, alice, -1) == 0);
	CHECK(userdb_gpus(db, alice, &used, &quota) == 0 && quota == -1);

	/* The first project recorded stays. */
	CHECK(userdb_set_project(db, alice, "labc-alice") == 0);
	CHECK(userdb_set_project(db, alice, "other") == 0);
	CHECK(userdb_get(db, "alice", &u) == 0 &&
	    strcmp(u.project, "labc-alice") == 0);

	n = userdb_list(db, NULL, &rows);
	REQUIRE(n == 2);
	CHECK(strcmp(rows[0].name, "alice") == 0 &&
	    strcmp(rows[1].name, "bob") == 0);
	free(rows);
	n = userdb_list(db, "bob", &rows);
	CHECK(n == 1 && rows[0].id == bob);
	free(rows);
	CHECK(userdb_list(db, "carol", &rows) == 0 && rows == NULL);
}

static void
sessions(void)
{
	struct user_row a, b;
	char user[33] = "";
	long long uid = -1;

	REQUIRE(userdb_get(db, "alice", &a) == 0);
	REQUIRE(userdb_get(db, "bob", &b) == 0);
	CHECK(sessdb_add(db, "h1", a.id, 1001, 100, 200) == 0);
	CHECK(sessdb_add(db, "h2", a.id, 1001, 100, 300) == 0);
	CHECK(sessdb_add(db, "h3", b.id, 1002, 100, 300) == 0);
	CHECK(sessdb_add(db, "h1", b.id, 1002, 100, 300) == -1);

	CHECK(sessdb_find(db, "h1", 150, user, &uid) == 0 &&
	    strcmp(user, "alice") == 0 && uid == 1001);
	CHECK(sessdb_find(db, "h1", 200, user, &uid) == -1);	/* expired */
	CHECK(sessdb_find(db, "nope", 150, user, &uid) == -1);
	CHECK(sessdb_known(db, "alice", 1001, 250));
	CHECK(!sessdb_known(db, "alice", 1002, 250));
	CHECK(!sessdb_known(db, "alice", 1001, 300));

	CHECK(sessdb_prune(db, 200) == 0);		/* h1 goes */
	CHECK(sessdb_find(db, "h1", 0, user, &uid) == -1);
	CHECK(sessdb_add(db, "h4", a.id, 1001, 100, 300) == 0);
	CHECK(sessdb_end_user(db, a.id, "h4") == 0);	/* h2 goes */
	CHECK(sessdb_find(db, "h2", 150, user, &uid) == -1);
	CHECK(sessdb_find(db, "h4", 150, user, &uid) == 0);
	CHECK(sessdb_end_user(db, a.id, NULL) == 0);
	CHECK(sessdb_find(db, "h4", 150, user, &uid) == -1);
	CHECK(sessdb_delete(db, "h3") == 0);
	CHECK(sessdb_find(db, "h3", 150, user, &uid) == -1);
}

static void
keys(void)
{
	struct user_row a, b, *rows;
	struct key_row k, *kr;
	int n;

	REQUIRE(userdb_get(db, "alice", &a) == 0);
	REQUIRE(userdb_get(db, "bob", &b) == 0);
	CHECK(keydb_add(db, a.id, "ssh-ed25519", "AAAA1", "SHA256:a1",
	    "laptop", 1) == 0);
	CHECK(keydb_add(db, a.id, "ssh-ed25519", "AAAA2", "SHA256:a2", "", 0)
	    == 0);
	CHECK(keydb_add(db, b.id, "ssh-rsa", "AAAA3", "SHA256:b1", "work", 1)
	    == 0);
	CHECK(keydb_add(db, b.id, "ssh-rsa", "AAAA3", "SHA256:b1", "", 1)
	    == -1);					/* one user per key */

	REQUIRE(keydb_find(db, "SHA256:b1", &k) == 0);
	CHECK(k.user_id == b.id && strcmp(k.user, "bob") == 0 && k.proven);
	CHECK(strcmp(k.type, "ssh-rsa") == 0 && strcmp(k.blob, "AAAA3") == 0);
	keydb_row_free(&k);
	CHECK(keydb_find(db, "SHA256:none", &k) == -1);

	CHECK(keydb_proven(db, "SHA256:a1", a.id));
	CHECK(keydb_proven(db, "SHA256:a1", 0));
	CHECK(!keydb_proven(db, "SHA256:a1", b.id));
	CHECK(!keydb_proven(db, "SHA256:a2", 0));

	n = keydb_list(db, a.id, &kr);
	REQUIRE(n == 2);
	CHECK(strcmp(kr[0].fingerprint, "SHA256:a1") == 0 &&
	    strcmp(kr[0].comment, "laptop") == 0 && kr[0].created > 0);
	CHECK(strcmp(kr[1].comment, "") == 0 && !kr[1].proven);
	keydb_free(kr, n);

	/* The gateway's keys: proven ones of users not locked. */
	n = keydb_usable(db, NULL, &kr);
	CHECK(n == 2 && strcmp(kr[0].user, "alice") == 0 &&
	    strcmp(kr[1].user, "bob") == 0);
	keydb_free(kr, n);
	CHECK(userdb_lock(db, b.id, 1) == 0);
	n = keydb_usable(db, "SHA256:b1", &kr);
	CHECK(n == 0);
	keydb_free(kr, n);
	CHECK(userdb_lock(db, b.id, 0) == 0);
	n = keydb_usable(db, "SHA256:b1", &kr);
	CHECK(n == 1 && strcmp(kr[0].blob, "AAAA3") == 0);
	keydb_free(kr, n);

	/* Only an unproven key moves, once. */
	CHECK(keydb_prove(db, "SHA256:a2", b.id) == 1);
	CHECK(keydb_prove(db, "SHA256:a2", a.id) == 0);
	CHECK(keydb_proven(db, "SHA256:a2", b.id));

	CHECK(keydb_count_match(db, a.id, "SHA256:x", "laptop") == 1);
	CHECK(keydb_count_match(db, b.id, "SHA256:b1", "") == 2);
	CHECK(keydb_delete_match(db, a.id, "SHA256:a1", "") == 0);
	CHECK(keydb_count_match(db, a.id, "SHA256:a1", "laptop") == 0);

	n = userdb_list(db, "bob", &rows);
	CHECK(n == 1 && rows[0].nkeys == 2);
	free(rows);
}

static void
audit(void)
{
	struct audit_row *r;
	int n;

	CHECK(auditdb_add(db, 100, "root", NULL, "admin user add", "alice",
	    "ok") == 0);
	CHECK(auditdb_add(db, 200, "alice", "alice", "key add", NULL, "ok")
	    == 0);
	CHECK(auditdb_add(db, 300, "labcd", NULL, "audit retention", "",
	    "announced") == 0);
	CHECK(auditdb_add(db, 400, "labcd", NULL, "audit retention", NULL,
	    "removed") == 0);

	n = auditdb_list(db, NULL, 3, &r);		/* newest 3, oldest first */
	REQUIRE(n == 3);
	CHECK(r[0].time == 200 && strcmp(r[0].user, "alice") == 0 &&
	    r[0].target == NULL);
	CHECK(r[1].user == NULL && strcmp(r[1].target, "") == 0);
	CHECK(r[2].time == 400 && strcmp(r[2].result, "removed") == 0);
	auditdb_free(r, n);
	n = auditdb_list(db, "alice", 50, &r);
	CHECK(n == 1 && strcmp(r[0].command, "key add") == 0);
	auditdb_free(r, n);

	CHECK(auditdb_count_before(db, 300) == 2);
	CHECK(auditdb_first(db, "labcd", "audit retention") == 300);
	CHECK(auditdb_first(db, "labcd", "doctor") == 0);
	CHECK(auditdb_prune(db, 300) == 2);
	CHECK(auditdb_count_before(db, 1000) == 2);
}

static void
user_goes_with_keys_and_sessions(void)
{
	struct user_row b;
	struct key_row k;
	char user[33];
	long long uid;

	REQUIRE(userdb_get(db, "bob", &b) == 0);
	CHECK(sessdb_add(db, "hb", b.id, 1002, 100, 300) == 0);
	CHECK(userdb_delete(db, b.id) == 0);
	CHECK(userdb_get(db, "bob", &b) == -1);
	CHECK(keydb_find(db, "SHA256:b1", &k) == -1);
	CHECK(sessdb_find(db, "hb", 150, user, &uid) == -1);
}

/* GPU use over time: a GPU is its server and number (several servers). */
static void
gpu_usage_per_server(void)
{
	static const char *const servers[] = { "", "m1", "m2" };
	struct gpu_sample_row row = { .minute = 1000, .gpu = 0,
	    .user = "alice", .container = "box", .held = 10, .used = 5,
	    .secs = 10 };
	struct gpu_usage_row *u, t;
	struct gpu_util_point *pts;
	size_t n, i;

	for (i = 0; i < 3; i++) {
		row.server = servers[i];
		row.util = 100 * (long long)(i + 1);	/* 10, 20, 30 % */
		CHECK(gpudb_usage_add(db, &row) == 0);
	}
	row.server = NULL;			/* NULL: one server, "" */
	row.util = 100;
	CHECK(gpudb_usage_add(db, &row) == 0);
	n = gpudb_usage(db, 999, GPU_BY_GPU, NULL, &u);
	REQUIRE(n == 3);
	CHECK(strcmp(u[0].server, "") == 0 && u[0].gpu == 0 &&
	    u[0].held == 20 && u[0].util == 200);
	CHECK(strcmp(u[1].server, "m1") == 0 && u[1].held == 10 &&
	    u[1].util == 200);
	CHECK(strcmp(u[2].server, "m2") == 0 && u[2].util == 300);
	free(u);
	n = gpudb_usage(db, 999, GPU_BY_USER, "alice", &u);
	CHECK(n == 1 && u[0].held == 40 && u[0].used == 20 &&
	    strcmp(u[0].server, "") == 0 && u[0].gpu == -1);
	free(u);
	CHECK(gpudb_usage_total(db, 999, &t) == 0 && t.held == 40);
	n = gpudb_util_history(db, 999, 10, &pts);
	REQUIRE(n == 3);
	CHECK(strcmp(pts[0].server, "") == 0 && pts[0].util > 9.9 &&
	    pts[0].util < 10.1);
	CHECK(strcmp(pts[2].server, "m2") == 0 && pts[2].util > 29.9 &&
	    pts[2].util < 30.1);
	free(pts);
	CHECK(gpudb_usage_prune(db, 2000) == 3);
}

int
main(void)
{
	char err[512], *path;
	int r;

	log_setup("t-db-store", LOG_LVL_WARN, 0);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	path = xasprintf("%s/sub/labcd.db", dir);
	if (db_prepare_file(path, err, sizeof(err)) != 0 ||
	    (db = db_open(path, err, sizeof(err))) == NULL) {
		printf("not ok - open the database: %s\n", err);
		return 1;
	}
	RUN(users);
	RUN(sessions);
	RUN(keys);
	RUN(audit);
	RUN(user_goes_with_keys_and_sessions);
	RUN(gpu_usage_per_server);
	db_close(db);
	r = t_done();
	if (r == 0) {
		static const char *const sfx[] = { "", "-wal", "-shm" };
		size_t i;

		for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
			char *f = xasprintf("%s%s", path, sfx[i]);

			(void)unlink(f);
			free(f);
		}
		*strrchr(path, '/') = '\0';
		(void)rmdir(path);
		(void)rmdir(dir);
	}
	free(path);
	return r;
}
