/*
 * backup.c - a member's container as a tarball: LXD makes a backup of it
 * (its own, with an expiry), labcd streams LXD's export of it into the
 * socket whose other end the member's labc writes to stdout (through the
 * gateway, that is the ssh channel), then deletes the backup. Nothing of
 * it is held in labcd's memory beyond curl's buffer; a reader that goes
 * away stops the transfer, and the backup is deleted then too.
 */
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "backup.h"
#include "log.h"
#include "lxd.h"
#include "project.h"
#include "proto.h"

/* A backup lives this long at most if labcd dies during its export. */
#define BACKUP_EXPIRY	(6 * 3600)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct { long long user_id; int n; } running[BACKUP_AT_ONCE];

/* Take a place for user_id: 0, or -1 (theirs, or everyone's, are full). */
static int
take(long long user_id, int *all)
{
	int i, mine = 0, free_slot = -1;

	pthread_mutex_lock(&lock);
	*all = 1;
	for (i = 0; i < BACKUP_AT_ONCE; i++) {
		if (running[i].n == 0) {
			if (free_slot < 0)
				free_slot = i;
			continue;
		}
		if (running[i].user_id == user_id)
			mine++;
	}
	if (mine < BACKUP_PER_USER && free_slot >= 0) {
		running[free_slot].user_id = user_id;
		running[free_slot].n = 1;
		pthread_mutex_unlock(&lock);
		return 0;
	}
	*all = free_slot < 0;
	pthread_mutex_unlock(&lock);
	return -1;
}

static void
give_back(long long user_id)
{
	int i;

	pthread_mutex_lock(&lock);
	for (i = 0; i < BACKUP_AT_ONCE; i++)
		if (running[i].n > 0 && running[i].user_id == user_id) {
			running[i].n = 0;
			break;
		}
	pthread_mutex_unlock(&lock);
}

int
backup_export(struct op *op, const struct ct *ct, int snapshots,
    int optimized, int fd, long long *bytes)
{
	struct lxd *l = op_lxd(op);
	char project[64], name[48];
	unsigned char rnd[6];
	int r, all, dr;

	*bytes = 0;
	if (take(ct->user_id, &all) != 0)
		return op_error(op, all ? "%d exports are running on this "
		    "server: try again later" : "you have %d exports running: "
		    "wait for one to end", all ? BACKUP_AT_ONCE :
		    BACKUP_PER_USER);
	project_of(op, ct->user_id, op->actor->user, project);
	randombytes_buf(rnd, sizeof(rnd));
	snprintf(name, sizeof(name), "labc-export-%02x%02x%02x%02x%02x%02x",
	    rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
	op_progress(op, "Making a backup of %s", ct->name);
	if ((r = lxd_backup_create(l, project, ct->name, name, snapshots,
	    optimized, (long long)time(NULL) + BACKUP_EXPIRY)) != 0) {
		give_back(ct->user_id);
		return op_error(op, "LXD could not make a backup of %s: %s",
		    ct->name, op_lxd_error(op));
	}
	op_progress(op, "Sending it");
	r = lxd_backup_export(l, project, ct->name, name, fd, bytes);
	if (r != 0)
		r = r == -EAGAIN ? op_error(op, "the export of %s stopped after "
		    "%lld bytes: the receiving end took nothing for %d s "
		    "(transfer_stall)", ct->name, *bytes,
		    op->srv->cfg.transfer_stall) :
		    op_error(op, "the export of %s stopped after %lld bytes: "
		    "%s", ct->name, *bytes, r == -EPIPE || r == -ECONNRESET ?
		    "the receiving end went away" : op_lxd_error(op));
	if ((dr = lxd_backup_delete(l, project, ct->name, name)) != 0 &&
	    dr != -ENOENT)
		log_error("%s/%s: cannot delete the backup %s: %s (LXD "
		    "deletes it at its expiry, in %d h)", project, ct->name,
		    name, lxd_error(l), BACKUP_EXPIRY / 3600);
	give_back(ct->user_id);
	return r == 0 ? PROTO_OK : r;
}
