/* server.h - listening and serving (server.c). */
#ifndef LABCD_SERVER_H
#define LABCD_SERVER_H

#include <stddef.h>

struct server;

int	server_listen(struct server *s, char *err, size_t errsz);
/* Serve until SIGTERM/SIGINT; then finish what is running. */
int	server_run(struct server *s);

#endif
