/*
 * doctor.h - the checks of what labcd depends on (doctor.c), which
 * 'admin doctor' shows and health.c runs in the background.
 */
#ifndef LABCD_DOCTOR_H
#define LABCD_DOCTOR_H

#include "labcd.h"

/* The columns of doctor's rows, NULL-terminated. */
extern const char *const doctor_columns[];
/*
 * Every check of 'admin doctor', one row each into t (doctor_columns:
 * check, status ok|warn|problem, detail, fix). dir and sshd_config: the
 * gateway's sshd drop-in directory and configuration, NULL for the
 * defaults. Changes nothing; what only root may read (sshd -t's output)
 * is shown to a root actor. The number of problems; *warnings.
 */
int	doctor_checks(struct op *op, const char *dir, const char *sshd_config,
	    struct table *t, int *warnings);

#endif
