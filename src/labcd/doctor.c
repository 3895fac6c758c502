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
#include "checkup.h"
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

static void
check_lxd(struct checkup *d)
{
	const struct config *cfg = &checkup_op(d)->srv->cfg;
	struct lxd *l = op_lxd(checkup_op(d));

	if (lxd_connect(l) != 0) {
		checkup_row(d, "lxd", "problem", "start LXD: systemctl start "
		    "lxd (no systemd: lxd --group lxd &), or set lxd_socket in "
		    "labcd.conf", "LXD is not reachable at %s: %s",
		    *cfg->lxd_socket ? cfg->lxd_socket : lxd_socket_path(l),
		    lxd_error(l));
		return;
	}
	checkup_set_lxd(d, l);
	checkup_row(d, "lxd", "ok", NULL, "%s %s at %s",
	    lxd_server_kind(l) == LXD_SERVER_INCUS ? "Incus" : "LXD",
	    lxd_server_version(l), lxd_socket_path(l));
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
