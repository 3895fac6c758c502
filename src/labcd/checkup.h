/*
 * checkup.h - how a subsystem reports its own check to 'admin doctor'
 * (checkup.c): one row per finding, and what the check may look at.
 * doctor.c makes the checkup and orders the checks; each subsystem's
 * check (gpu_doctor, ports_doctor, ...) only reads it and adds rows.
 */
#ifndef LABCD_CHECKUP_H
#define LABCD_CHECKUP_H

struct checkup;
struct lxd;
struct op;
struct table;

/*
 * A checkup that adds its rows to t (doctor_columns). dir and
 * sshd_config: the gateway's sshd drop-in directory and configuration,
 * NULL for the defaults. LXD counts as down until checkup_set_lxd.
 */
struct checkup *checkup_new(struct op *op, struct table *t, const char *dir,
	    const char *sshd_config);
void	checkup_free(struct checkup *ck);
/* LXD answered: the checks that need it may run (l stays the op's). */
void	checkup_set_lxd(struct checkup *ck, struct lxd *l);

/*
 * One finding: check, status ("ok", "warn" or "problem", which are
 * counted), fix (NULL for none) and the detail from fmt.
 */
void	checkup_row(struct checkup *ck, const char *check, const char *status,
	    const char *fix, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));
/* The rows so far that are problems; that are warnings. */
int	checkup_problems(const struct checkup *ck);
int	checkup_warnings(const struct checkup *ck);

/* The operation the checks run in (server, database, actor). */
struct op *checkup_op(struct checkup *ck);
/* The LXD connection, or NULL when LXD is not reachable. */
struct lxd *checkup_lxd(struct checkup *ck);
/* --dir and --sshd-config of 'admin doctor', or NULL (the defaults). */
const char *checkup_dir(const struct checkup *ck);
const char *checkup_sshd_config(const struct checkup *ck);

#endif
