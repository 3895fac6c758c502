/*
 * health.c - labcd watching itself, so that admins hear of a problem
 * before members hit it, with or without systemd: doctor's checks (the
 * very function 'admin doctor' runs) every doctor_interval, and the audit
 * log pruned to audit_retention_days once a day (the first time an hour
 * after labcd announced it: see prune_plan). It all
 * runs in a thread of its own, like the reconciler: the checks call LXD
 * and run sshd -t, and no client ever waits for them. The last result
 * stays in memory: each admin is told of new problems once, at their next
 * command (health_notice); health_last gives it to the status page of
 * issue 18, not written yet.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "db-audit.h"
#include "doctor.h"
#include "health.h"
#include "inert.h"
#include "log.h"
#include "lxd.h"
#include "sizes.h"
#include "xmalloc.h"

#define DOCTOR_FIRST	60	/* seconds after start-up: LXD may be starting */
#define PRUNE_EVERY	86400	/* seconds between prunings of the audit log */
#define PRUNE_NOTICE	3600	/* seconds from announcing the first to it */
#define TOLD_MAX	64	/* admins remembered as told */

#define PRUNE_COMMAND	"audit retention"	/* its audit rows' command */

static pthread_mutex_t	 lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 wake = PTHREAD_COND_INITIALIZER;
static int		 stopping, started;
static pthread_t	 thread;

/* The last background run (under lock). */
static json_t		*last_checks;	/* its rows; NULL before the first */
static time_t		 last_time;
static int		 last_problems, last_warnings;
static unsigned		 last_gen;	/* runs that found a problem the
					   run before did not */
static char		 last_names[256];	/* "default image, ssh ports" */

/* Admins told of a generation (under lock): "root", "user X", "host X". */
static struct {
	char		 who[80];
	unsigned	 gen;
} told[TOLD_MAX];
static int		 told_next;

/* The problems of the run before ("check: detail"): the thread's own. */
static json_t		*prev_keys;

/*
 * labcd acting on its own, for the checks: an admin, not root (what root
 * alone may see stays in the log).
 */
static const struct ident labcd_admin = { .admin = 1, .actor = "labcd",
    .via = "labcd", .host_user = "labcd" };

static const char *
field(json_t *row, const char *key)
{
	const char *v = json_string_value(json_object_get(row, key));

	return v != NULL ? v : "";
}

/*
 * Keep a run's rows; then say in the log what is new and what is gone
 * (after: whoever reads the log may act on it at once).
 */
static void
record(json_t *rows, int problems, int warnings, long long ms)
{
	json_t *keys = json_object(), *named = json_object(), *row, *v;
	struct buf names = BUF_INIT(sizeof(last_names));
	const char *k;
	size_t i;
	int fresh = 0;

	json_array_foreach(rows, i, row) {
		char *key;

		if (strcmp(field(row, "status"), "problem") != 0)
			continue;
		key = xasprintf("%s: %s", field(row, "check"), field(row,
		    "detail"));
		json_object_set_new(keys, key, json_true());
		if (prev_keys == NULL || json_object_get(prev_keys, key) ==
		    NULL)
			fresh++;
		free(key);
		/* The checks by name, each once, wherever its rows are. */
		if (json_object_get(named, field(row, "check")) != NULL)
			continue;
		json_object_set_new(named, field(row, "check"), json_true());
		buf_printf(&names, "%s%s", names.len ? ", " : "",
		    field(row, "check"));
	}
	json_decref(named);
	pthread_mutex_lock(&lock);
	json_decref(last_checks);
	last_checks = json_incref(rows);
	last_time = time(NULL);
	last_problems = problems;
	last_warnings = warnings;
	if (fresh > 0)
		last_gen++;
	snprintf(last_names, sizeof(last_names), "%s", buf_str(&names));
	pthread_mutex_unlock(&lock);
	buf_free(&names);

	json_array_foreach(rows, i, row) {
		char *key, *shown;

		if (strcmp(field(row, "status"), "problem") != 0)
			continue;
		key = xasprintf("%s: %s", field(row, "check"), field(row,
		    "detail"));
		if (prev_keys == NULL || json_object_get(prev_keys, key) ==
		    NULL) {
			shown = inert_str(key);
			log_warn("doctor: %s (fix: %s)", shown, field(row,
			    "fix"));
			free(shown);
		}
		free(key);
	}
	json_object_foreach(prev_keys, k, v) {
		char *shown;

		if (json_object_get(keys, k) != NULL)
			continue;
		shown = inert_str(k);
		log_info("doctor: no longer found: %s", shown);
		free(shown);
	}
	json_decref(prev_keys);
	prev_keys = keys;
	log_info("doctor: %d problem%s, %d warning%s (%lld ms)%s", problems,
	    problems == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s", ms,
	    problems > 0 ? ": 'labc admin doctor' says how to fix each" : "");
}

/* One run of doctor's checks, on a database connection of its own. */
static void
doctor_pass(struct server *s, struct lxd **l)
{
	struct table *t;
	struct op op;
	struct db *db;
	json_t *rows;
	char err[512];
	struct timespec t0, t1;
	int problems, warnings;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((db = db_open(s->db_path, err, sizeof(err))) == NULL) {
		log_error("doctor: %s", err);
		return;
	}
	op_init(&op, s, db, l, &labcd_admin, "doctor");
	t = table_new(doctor_columns);
	problems = doctor_checks(&op, NULL, NULL, t, &warnings);
	op_end(&op);
	/* What labcd can mend by itself (sizes.h), once said. */
	if (*l != NULL)
		sizes_btrfs_mend(*l);
	rows = table_rows(t);
	table_free(t);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	record(rows, problems, warnings, (t1.tv_sec - t0.tv_sec) * 1000LL +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000);
	json_decref(rows);
	db_close(db);
}

/* Audit rows older than audit_retention_days go; the removal is audited. */
static void
prune_pass(struct server *s)
{
	int days = s->cfg.audit_retention_days, n;
	time_t now = time(NULL), cutoff = now - (time_t)days * 86400;
	struct db *db;
	struct tm tm;
	char err[512], day[32], res[200];

	if ((db = db_open(s->db_path, err, sizeof(err))) == NULL) {
		log_error("audit retention: %s", err);
		return;
	}
	if (db_readonly(db)) {
		db_close(db);
		return;
	}
	if ((n = days <= 0 ? 0 : auditdb_prune(db, (long long)cutoff)) < 0)
		log_error("audit retention: %s", db->err);
	else if (n > 0) {
		localtime_r(&cutoff, &tm);
		strftime(day, sizeof(day), "%Y-%m-%d %H:%M", &tm);
		snprintf(res, sizeof(res), "removed %d row%s older than %d "
		    "day%s (before %s; audit_retention_days)", n, n == 1 ? "" :
		    "s", days, days == 1 ? "" : "s", day);
		audit_row(db, "labcd", NULL, PRUNE_COMMAND, NULL, res);
	}
	db_close(db);
}

/*
 * When the next pruning is (now, or later). Rows go no sooner than an
 * hour after a labcd announced it, in the log and in the audit log: an
 * admin who upgrades to a labcd with audit_retention_days (365 by
 * default) and has older rows has that hour to back the database up or
 * set 0. The announcement is an audit row of "audit retention", as each
 * removal is: the first such row of the database is when it was
 * announced. With nothing to remove there is nothing to announce: look
 * again in a day.
 */
static time_t
prune_plan(struct server *s)
{
	int days = s->cfg.audit_retention_days, n = 0;
	time_t now = time(NULL), at = now + PRUNE_EVERY, first = 0;
	struct db *db;
	struct tm tm;
	char err[512], when[32], res[240];

	if ((db = db_open(s->db_path, err, sizeof(err))) == NULL) {
		log_error("audit retention: %s", err);
		return at;
	}
	if (db_readonly(db))
		goto out;
	n = auditdb_count_before(db, (long long)now - (long long)days * 86400);
	if (n == 0)
		goto out;
	first = (time_t)auditdb_first(db, "labcd", PRUNE_COMMAND);
	if (first != 0) {
		at = first + PRUNE_NOTICE > now ? first + PRUNE_NOTICE : now;
		goto out;
	}
	at = now + PRUNE_NOTICE;
	localtime_r(&at, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
	snprintf(res, sizeof(res), "%d row%s older than %d day%s go at %s "
	    "(audit_retention_days; back the database up first, or set 0 "
	    "to keep them)", n, n == 1 ? "" : "s", days, days == 1 ? "" :
	    "s", when);
	log_warn("audit retention: %s", res);
	audit_row(db, "labcd", NULL, PRUNE_COMMAND, NULL, res);
out:
	db_close(db);
	return at;
}

static void *
health_main(void *arg)
{
	struct server *s = arg;
	struct lxd *l = NULL;
	int every = s->cfg.doctor_interval;
	time_t now = time(NULL), next, next_doctor = 0, next_prune = 0;

	if (every > 0)
		next_doctor = now + (every < DOCTOR_FIRST ? every :
		    DOCTOR_FIRST);
	if (s->cfg.audit_retention_days > 0)
		next_prune = now;
	pthread_mutex_lock(&lock);
	while (!stopping) {
		now = time(NULL);
		next = next_doctor == 0 ? next_prune : next_prune == 0 ?
		    next_doctor : next_doctor < next_prune ? next_doctor :
		    next_prune;
		if (next == 0) {
			pthread_cond_wait(&wake, &lock);
			continue;
		}
		if (now < next) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += next - now;
			pthread_cond_timedwait(&wake, &lock, &ts);
			continue;
		}
		pthread_mutex_unlock(&lock);
		if (next_prune != 0 && now >= next_prune) {
			next_prune = prune_plan(s);
			if (next_prune <= time(NULL)) {
				prune_pass(s);
				next_prune = time(NULL) + PRUNE_EVERY;
			}
		}
		if (next_doctor != 0 && now >= next_doctor) {
			doctor_pass(s, &l);
			next_doctor = time(NULL) + every;
		}
		pthread_mutex_lock(&lock);
	}
	pthread_mutex_unlock(&lock);
	lxd_free(l);
	return NULL;
}

void
health_start(struct server *s)
{
	if (s->cfg.doctor_interval == 0 && s->cfg.audit_retention_days == 0)
		return;
	if (pthread_create(&thread, NULL, health_main, s) != 0) {
		log_error("cannot start the background doctor: run 'labc "
		    "admin doctor' by hand");
		return;
	}
	started = 1;
}

void
health_stop(void)
{
	if (!started)
		return;
	pthread_mutex_lock(&lock);
	stopping = 1;
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
	pthread_join(thread, NULL);
	started = 0;
	json_decref(prev_keys);
	prev_keys = NULL;
	pthread_mutex_lock(&lock);
	json_decref(last_checks);
	last_checks = NULL;
	pthread_mutex_unlock(&lock);
}

json_t *
health_last(void)
{
	json_t *o = NULL;

	pthread_mutex_lock(&lock);
	if (last_checks != NULL)
		o = json_pack("{s:I, s:i, s:i, s:O}", "time",
		    (json_int_t)last_time, "problems", last_problems,
		    "warnings", last_warnings, "checks", last_checks);
	pthread_mutex_unlock(&lock);
	return o;
}

void
health_notice(struct ctx *c, int quiet)
{
	char who[80], names[sizeof(last_names)], when[32];
	time_t at, now = time(NULL);
	struct tm tm, today;
	int i, slot = -1, problems;

	/*
	 * Admins only, and only where a person reads stderr: not for a
	 * request the client shows nothing of (the shell's prompt), not
	 * for programs (hidden commands), not into an nc stream.
	 */
	if (!c->id.admin || quiet || c->dead ||
	    c->cmd->flags & (CMD_HIDDEN | CMD_STREAM))
		return;
	if (c->id.root)
		snprintf(who, sizeof(who), "root");
	else if (c->id.user[0] != '\0')
		snprintf(who, sizeof(who), "user %s", c->id.user);
	else
		snprintf(who, sizeof(who), "host %s", c->id.host_user);
	pthread_mutex_lock(&lock);
	if (last_gen == 0 || last_problems == 0) {
		pthread_mutex_unlock(&lock);
		return;
	}
	for (i = 0; i < TOLD_MAX; i++) {
		if (strcmp(told[i].who, who) == 0) {
			slot = i;
			break;
		}
	}
	if (slot >= 0 && told[slot].gen == last_gen) {
		pthread_mutex_unlock(&lock);
		return;
	}
	if (slot < 0) {
		slot = told_next;
		told_next = (told_next + 1) % TOLD_MAX;
		snprintf(told[slot].who, sizeof(told[slot].who), "%s", who);
	}
	told[slot].gen = last_gen;
	problems = last_problems;
	at = last_time;
	snprintf(names, sizeof(names), "%s", last_names);
	pthread_mutex_unlock(&lock);
	/* Running doctor right now: they see it all anyway. */
	if (c->cmd->flags & CMD_DOCTOR)
		return;
	localtime_r(&at, &tm);
	localtime_r(&now, &today);
	strftime(when, sizeof(when), tm.tm_yday == today.tm_yday &&
	    tm.tm_year == today.tm_year ? "%H:%M" : "%Y-%m-%d %H:%M", &tm);
	ctx_progress(c, "labcd: doctor found %d problem%s at %s (%s): see "
	    "'labc admin doctor'", problems, problems == 1 ? "" : "s", when,
	    names);
}
