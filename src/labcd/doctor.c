/*
 * doctor.c - the checks of what labcd depends on, each explained, one row
 * per finding (check, status, detail, fix). A "problem" comes with the
 * command that fixes it; a "warn" is worth a look; "ok" says what was
 * seen. They change nothing. 'admin doctor' (cmd-admin-doctor.c) shows
 * them; labcd runs them in the background every doctor_interval
 * (health.c).
 *
 * The checks live with their subsystems, each reporting through a
 * checkup (checkup.h): gpu_doctor (gpu.c), ports_doctor (ports.c),
 * isolate_doctor (isolate.c), sizes_doctor (sizes.c), lxdconf_doctor
 * (lxdconf.c), db_doctor (db-doctor.c), reconcile_doctor (reconcile.c),
 * gateway_doctor (gateway.c). Here: whether LXD answers, and their order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "checkup.h"
#include "cluster.h"
#include "db.h"
#include "doctor.h"
#include "gateway.h"
#include "gpu.h"
#include "isolate.h"
#include "lxd.h"
#include "lxdconf.h"
#include "ports.h"
#include "reconcile.h"
#include "sizes.h"
#include "status.h"

/* One certificate of lxd_url's pair: there, a certificate, and how long
   it has left (a warning within 30 days). */
static void
check_cert(struct checkup *d, const char *what, const char *path,
    const char *fix)
{
	char subj[256], err[512], when[32];
	long long nb, na, now = (long long)time(NULL);
	time_t t;
	struct tm tm;

	if (lxd_cert_info(path, subj, sizeof(subj), &nb, &na, err,
	    sizeof(err)) != 0) {
		checkup_row(d, "lxd tls", "problem", fix, "%s: %s", what, err);
		return;
	}
	t = (time_t)na;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d", &tm);
	if (now < nb || now > na)
		checkup_row(d, "lxd tls", "problem", fix, "%s %s (%s) is out "
		    "of its dates (valid until %s): labcd sends nothing with "
		    "it", what, path, subj, when);
	else if (na - now < 30LL * 86400)
		checkup_row(d, "lxd tls", "warn", fix, "%s %s (%s) expires on "
		    "%s, in %lld days", what, path, subj, when,
		    (na - now) / 86400);
	else
		checkup_row(d, "lxd tls", "ok", NULL, "%s %s (%s) valid until "
		    "%s", what, path, subj, when);
}

/* Over HTTPS: both certificates, and a private key only root reads. */
static void
check_tls(struct checkup *d)
{
	const struct config *cfg = &checkup_op(d)->srv->cfg;
	struct stat st;

	check_cert(d, "labcd's client certificate", cfg->lxd_cert,
	    "make one with 'labcd --lxd-cert' and add it on the server with "
	    "'lxc config trust add FILE'");
	check_cert(d, "LXD's pinned certificate", cfg->lxd_server_cert,
	    "copy the server's server.crt (in LXD's directory) to "
	    "lxd_server_cert");
	if (stat(cfg->lxd_key, &st) != 0)
		checkup_row(d, "lxd tls", "problem", "make one with 'labcd "
		    "--lxd-cert'", "labcd's private key %s: %s", cfg->lxd_key,
		    strerror(errno));
	else if (st.st_uid != 0 || (st.st_mode & 077) != 0)
		checkup_row(d, "lxd tls", "problem", "chown root: and chmod "
		    "600 it", "labcd's private key %s can be read by others "
		    "than root (mode %04o, owner uid %u): whoever reads it "
		    "speaks to LXD as labcd", cfg->lxd_key,
		    (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid);
}

static void
check_lxd(struct checkup *d)
{
	const struct config *cfg = &checkup_op(d)->srv->cfg;
	struct lxd *l = op_lxd(checkup_op(d));
	int r;

	if (lxd_is_remote(l))
		check_tls(d);
	if ((r = lxd_connect(l)) != 0) {
		checkup_row(d, "lxd", "problem", !lxd_is_remote(l) ?
		    "start LXD: systemctl start lxd (no systemd: lxd --group "
		    "lxd &), or set lxd_socket in labcd.conf" :
		    r == -EKEYREJECTED ? "see the lxd tls rows: the server "
		    "must trust lxd_cert, and lxd_server_cert must be its "
		    "certificate" : "on the server: lxc config set "
		    "core.https_address ADDRESS:8443, and open the port to "
		    "this machine", "LXD is not reachable at %s: %s",
		    *cfg->lxd_url ? cfg->lxd_url : *cfg->lxd_socket ?
		    cfg->lxd_socket : lxd_where(l), lxd_error(l));
		return;
	}
	checkup_set_lxd(d, l);
	checkup_row(d, "lxd", "ok", NULL, "%s %s at %s",
	    lxd_server_kind(l) == LXD_SERVER_INCUS ? "Incus" : "LXD",
	    lxd_server_version(l), lxd_where(l));
}

/*
 * A cluster: each member up, or which is down and why (LXD's word, or
 * that its address does not answer). One LXD: nothing to say.
 */
static void
check_servers(struct checkup *d)
{
	const struct config *cfg = &checkup_op(d)->srv->cfg;
	struct cluster_member *m;
	size_t n, i, up = 0;

	if (cluster_fetch(op_lxd(checkup_op(d)), &m, &n) != 0) {
		checkup_row(d, "servers", "problem", "see the lxd row", "LXD "
		    "did not list its cluster members: %s",
		    op_lxd_error(checkup_op(d)));
		return;
	}
	cluster_read_nodes(checkup_op(d), m, n);
	for (i = 0; i < n; i++) {
		if (m[i].up) {
			json_t *reading;
			char why[640];

			up++;
			if (cluster_node_reading(checkup_op(d), &m[i],
			    &reading, why, sizeof(why)) == 0)
				json_decref(reading);
			else
				checkup_row(d, "servers", "warning", "on that "
				    "server: systemctl enable --now labcd-node "
				    "(labcd.8)", "the GPUs of server %s are "
				    "not read: %s", m[i].name, why);
			continue;
		}
		checkup_row(d, "servers", "problem", "on that server: start "
		    "LXD (systemctl start lxd), or take it out of the "
		    "cluster (lxc cluster remove --force); its containers "
		    "show as unreachable meanwhile, and new ones go to the "
		    "others", "server %s (%s) is down: %s", m[i].name,
		    *m[i].addr ? m[i].addr : "no address", m[i].message);
	}
	if (n > 0 && !config_listen_wildcard(cfg))
		checkup_row(d, "servers", "warning", "ssh_listen = 0.0.0.0 "
		    "(the default): each server then listens on its own "
		    "addresses", "ssh_listen is %s, one address, and the "
		    "containers of the other servers cannot listen there",
		    cfg->ssh_listen);
	if (n > 0 && up == n)
		checkup_row(d, "servers", "ok", NULL, "%zu servers in LXD's "
		    "cluster, all up", n);
	free(m);
}

const char *const doctor_columns[] = { "check", "status", "detail", "fix",
	NULL };

int
doctor_checks(struct op *op, const char *dir, const char *sshd_config,
    struct table *t, int *warnings)
{
	struct checkup *d = checkup_new(op, t, dir, sshd_config);
	int lxd, problems;

	check_lxd(d);
	lxd = checkup_lxd(d) != NULL;
	if (lxd) {
		check_servers(d);
		lxdconf_doctor(d);
		sizes_doctor(d);
		lxdconf_image_doctor(d);
		isolate_doctor(d);
	}
	ports_doctor(d);
	gateway_doctor(d);
	status_doctor(d);
	gpu_doctor(d);		/* the checks that need LXD, if it answered */
	db_doctor(d);
	if (lxd)
		reconcile_doctor(d);
	*warnings = checkup_warnings(d);
	problems = checkup_problems(d);
	checkup_free(d);
	return problems;
}
