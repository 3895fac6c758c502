/*
 * relay.h - carry bytes both ways between a connection and a pair of
 * descriptors (relay.c), in the kernel with splice(2) where it can: the
 * gateway's 'nc' joins sshd's pipes to the container's sshd this way.
 */
#ifndef LABC_RELAY_H
#define LABC_RELAY_H

#include <stddef.h>

/*
 * Copy in -> sock and sock -> out until sock has nothing more to say (its
 * end of file, or an error). At in's end of file sock is shut for
 * writing, and sock's replies still come. 0, or -errno with what broke in
 * err.
 */
int	relay_run(int in, int out, int sock, char *err, size_t errsz);

/*
 * One direction, for tests: in -> out until in's end of file, with
 * splice(2) through a pipe, or read/write where either side cannot
 * splice (a terminal). Bytes moved, or -errno.
 */
long long relay_copy(int in, int out);
/* The same, adding to *seen as bytes go out (another thread reads it). */
long long relay_copy_seen(int in, int out, _Atomic long long *seen);

#endif
