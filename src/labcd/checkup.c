/*
 * checkup.c - the rows of one run of 'admin doctor': each subsystem's
 * check adds its findings here (checkup_row), counted as problems and
 * warnings, and reads what it may look at (the op, LXD if it answered,
 * the gateway's sshd files). doctor.c orders the checks.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "checkup.h"
#include "labcd.h"
#include "xmalloc.h"

struct checkup {
	struct op	*op;
	struct table	*t;
	struct lxd	*l;		/* NULL when LXD is not reachable */
	const char	*dir, *conf;	/* --dir, --sshd-config, or NULL */
	int		 problems, warnings;
};

struct checkup *
checkup_new(struct op *op, struct table *t, const char *dir,
    const char *sshd_config)
{
	struct checkup *ck = xcalloc(1, sizeof(*ck));

	ck->op = op;
	ck->t = t;
	ck->dir = dir;
	ck->conf = sshd_config;
	return ck;
}

void
checkup_free(struct checkup *ck)
{
	free(ck);
}

void
checkup_set_lxd(struct checkup *ck, struct lxd *l)
{
	ck->l = l;
}

void
checkup_row(struct checkup *ck, const char *check, const char *status,
    const char *fix, const char *fmt, ...)
{
	va_list ap;
	char *detail;

	va_start(ap, fmt);
	detail = xvasprintf(fmt, ap);
	va_end(ap);
	if (strcmp(status, "problem") == 0)
		ck->problems++;
	else if (strcmp(status, "warn") == 0)
		ck->warnings++;
	table_add(ck->t, check, status, detail, fix);
	free(detail);
}

int
checkup_problems(const struct checkup *ck)
{
	return ck->problems;
}

int
checkup_warnings(const struct checkup *ck)
{
	return ck->warnings;
}

struct op *
checkup_op(struct checkup *ck)
{
	return ck->op;
}

struct lxd *
checkup_lxd(struct checkup *ck)
{
	return ck->l;
}

const char *
checkup_dir(const struct checkup *ck)
{
	return ck->dir;
}

const char *
checkup_sshd_config(const struct checkup *ck)
{
	return ck->conf;
}
