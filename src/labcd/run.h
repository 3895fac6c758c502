/* run.h - running a host program without a shell (run.c). */
#ifndef LABCD_RUN_H
#define LABCD_RUN_H

#include <stddef.h>

/*
 * Run argv[0] (a path) with argv, no shell, stdin from /dev/null; stdout
 * and stderr together into *out (caller frees; may be NULL). Its exit
 * status, or -1 if it could not run.
 */
int	run_cmd(const char *const *argv, char **out);
/*
 * Is prog (a name) an executable in labcd's PATH? 1 with its path in out
 * (cut to outsz), or 0.
 */
int	run_find(const char *prog, char *out, size_t outsz);

#endif
