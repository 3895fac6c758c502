/*
 * backup.h - 'labc admin backup --all DIR' (backup.c): every container
 * exported into DIR by labc, as the admin, resumable.
 */
#ifndef LABC_BACKUP_H
#define LABC_BACKUP_H

#include "client.h"

/* argv: what follows "admin backup". The exit status. */
int	backup_run(struct client *c, int argc, char **argv);

#endif
