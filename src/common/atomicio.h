/*
 * atomicio.h - write all of a buffer to a descriptor, however the kernel
 * splits it (like OpenSSH's atomicio.c): for files, sockets and pipes
 * alike. Not part of the protocol; proto.c uses it for its frames.
 */
#ifndef LABC_ATOMICIO_H
#define LABC_ATOMICIO_H

#include <stddef.h>

/* Write exactly n bytes, retrying on EINTR and short writes. 0 or -errno. */
int	write_all(int fd, const void *p, size_t n);
/* The same to a socket, with send(MSG_NOSIGNAL): a peer gone is -EPIPE,
   not SIGPIPE. */
int	send_all(int fd, const void *p, size_t n);

#endif
