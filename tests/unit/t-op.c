/*
 * t-op.c - the operation context (op.c) without a request or LXD: a
 * failure's cause kept (and cut to its buffer), progress to whoever
 * listens or to nobody, and audit rows from explicit fields (audit.c) as
 * the background reconciler writes them, on a fresh database file. And
 * domain functions called as any caller would, with no socket: a claim
 * held twice (claim.c), keys refused with their cause (keys.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "claim.h"
#include "db-audit.h"
#include "db-users.h"
#include "keys.h"
#include "labcd.h"
#include "log.h"
#include "op.h"
#include "proto.h"
#include "test.h"
#include "xmalloc.h"

static char dir[] = "/tmp/t-op.XXXXXX";
static struct db *db;
static struct server srv;
static struct lxd *lxd;
static const struct ident labcd = { .root = 1, .admin = 1,
    .actor = "labcd", .via = "root" };

static void
cause(void)
{
	struct op op;
	char *big;

	op_init(&op, &srv, db, &lxd, &labcd, "reconcile");
	CHECK(op.cause[0] == '\0' && op.progress == NULL);
	CHECK(op_fail(&op, PROTO_FAILED, "cannot compare with LXD: %s",
	    "gone") == PROTO_FAILED);
	CHECK(strcmp(op.cause, "cannot compare with LXD: gone") == 0);
	CHECK(op_fail(&op, -2, "second") == -2);
	CHECK(strcmp(op.cause, "second") == 0);	/* the last one, alone */
	/* A cause longer than its buffer is cut, never overrun. */
	big = xmalloc(OP_CAUSE_MAX * 2);
	memset(big, 'x', OP_CAUSE_MAX * 2 - 1);
	big[OP_CAUSE_MAX * 2 - 1] = '\0';
	CHECK(op_fail(&op, -1, "%s", big) == -1);
	CHECK(strlen(op.cause) == OP_CAUSE_MAX - 1);
	free(big);
	/* No LXD connection made yet: no LXD message either. */
	CHECK(lxd == NULL && strcmp(op_lxd_error(&op), "") == 0);
}

static void
on_line(void *arg, const char *line)
{
	struct buf *b = arg;

	buf_printf(b, "%s|", line);
}

static void
progress(void)
{
	struct buf b = BUF_INIT(0);
	struct op op;

	op_init(&op, &srv, db, &lxd, &labcd, "reconcile");
	op_progress(&op, "nobody hears %d", 1);		/* no callback */
	op.progress = on_line;
	op.progress_arg = &b;
	op_progress(&op, "Creating: %d%%", 40);
	op_progress(&op, "%s", "done");
	CHECK(strcmp(buf_str(&b), "Creating: 40%|done|") == 0);
	buf_free(&b);
}

static void
audit_rows(void)
{
	struct ident alice = { .user_id = 7, .user = "alice",
	    .actor = "alice (uid 1000)" };
	struct audit_row *r;
	struct op op;
	int n;

	/* The reconciler's row: its actor, the owner's user and target. */
	op_init(&op, &srv, db, &lxd, &labcd, "reconcile");
	audit_row(db, op.actor->actor, "bob", op.command, "bob/box",
	    "released port 61000 and its GPUs");
	/* Inert: a control character in the target is escaped. */
	audit_row(db, "labcd", "", "audit retention", "a\033b", "ok");
	op_init(&op, &srv, db, &lxd, &alice, "key add");
	op_audit(&op, NULL, NULL, "SHA256:x added");	/* the actor's own */
	op_audit(&op, "bob", "", "for bob");
	n = auditdb_list(db, NULL, 10, &r);
	REQUIRE(n == 4);
	CHECK(strcmp(r[0].actor, "labcd") == 0 && strcmp(r[0].user, "bob") ==
	    0 && strcmp(r[0].command, "reconcile") == 0 &&
	    strcmp(r[0].target, "bob/box") == 0 &&
	    strcmp(r[0].result, "released port 61000 and its GPUs") == 0);
	CHECK(r[1].user == NULL && strcmp(r[1].target, "a\\x1bb") == 0);
	CHECK(strcmp(r[2].actor, "alice (uid 1000)") == 0 &&
	    strcmp(r[2].user, "alice") == 0 && r[2].target == NULL &&
	    strcmp(r[2].command, "key add") == 0);
	CHECK(strcmp(r[3].user, "bob") == 0 && r[3].target == NULL);
	auditdb_free(r, n);
}

#define KEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJBOen0GnBqGbAVGC2D73HIMWUYRTXdgKPXazWMKA8Di alice@lab"

static void
domain(void)
{
	struct ident alice = { .actor = "alice", .user = "alice" };
	struct op op;
	char fp[64];
	long long id = 0, other = 0;

	op_init(&op, &srv, db, &lxd, &alice, "start");
	CHECK(ct_claim_name(&op, 7, "box") == PROTO_OK);
	CHECK(ct_claim_name(&op, 7, "box") == PROTO_FAILED);
	CHECK(strcmp(op.cause, "box is being changed by another request, "
	    "or by labcd putting its records right; try again in a moment") ==
	    0);
	ct_release(7, "box");
	CHECK(ct_claim_name(&op, 7, "box") == PROTO_OK);
	ct_release(7, "box");

	REQUIRE(userdb_add(db, "alice", 0, "", "", &id) == 0);
	REQUIRE(userdb_add(db, "bob", 0, "", "", &other) == 0);
	op.command = "key add";
	op.cause[0] = '\0';
	CHECK(keys_add(&op, id, "not a key", 0, fp) == PROTO_FAILED);
	CHECK(op.cause[0] != '\0');
	CHECK(keys_add(&op, id, KEY, 0, fp) == PROTO_OK);
	CHECK(strncmp(fp, "SHA256:", 7) == 0);
	CHECK(keys_add(&op, id, KEY, 0, NULL) == PROTO_FAILED);
	CHECK(strstr(op.cause, "you have registered the key SHA256:") ==
	    op.cause);
	CHECK(keys_add(&op, other, KEY, 0, NULL) == PROTO_FAILED);
	CHECK(strstr(op.cause, "is registered by another lab user") != NULL);
}

int
main(void)
{
	char err[512], *path;
	int r;

	log_setup("t-op", LOG_LVL_ERROR, 0);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	path = xasprintf("%s/labcd.db", dir);
	if (db_prepare_file(path, err, sizeof(err)) != 0 ||
	    (db = db_open(path, err, sizeof(err))) == NULL) {
		printf("not ok - open the database: %s\n", err);
		return 1;
	}
	RUN(cause);
	RUN(progress);
	RUN(audit_rows);
	RUN(domain);
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
		(void)rmdir(dir);
	}
	free(path);
	return r;
}
