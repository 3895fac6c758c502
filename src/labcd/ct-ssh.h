/*
 * ct-ssh.h - a container's SSH port (ct-ssh.c): the proxy device labcd
 * gives it, how to connect to it, whether its sshd answers.
 */
#ifndef LABCD_CT_SSH_H
#define LABCD_CT_SSH_H

#include <stddef.h>
#include <jansson.h>

#include "config.h"

#define SSH_WAIT	30	/* seconds for sshd to answer after start */

struct ctx;

/*
 * The ssh proxy device of a container on host port PORT, as labcd makes it
 * everywhere (create, start, import, reconciliation, unlock).
 */
json_t	*ct_ssh_device(const struct config *cfg, int port);
/* The patch that puts it on an instance: {"devices": {"ssh": ...}}. */
json_t	*ct_ssh_patch(const struct config *cfg, int port);
/* It in lxc's words: "listen=tcp:ADDRESS:PORT connect=tcp:127.0.0.1:22". */
void	ct_ssh_device_words(const struct config *cfg, int port, char *out,
	    size_t outsz);
/*
 * Reply code (the command layer's, taking the request): how to connect
 * from a laptop: route is "ssh NAME.SUFFIX", through the
 * gateway with the block 'ssh-config' prints; direct is "ssh -p PORT
 * USER@HOST" by the container's own port, or "" where ssh_listen is a
 * loopback address (no one outside reaches it).
 */
void	ct_connect(struct ctx *c, const char *name, int port, char *route,
	    size_t routesz, char *direct, size_t directsz);
/* The lines launch, create, start and details end with: ct_connect's. */
void	ct_say_connect(struct ctx *c, const char *name, int port);
/* Does sshd answer on the port within SSH_WAIT seconds? 1 or 0. */
int	ct_ssh_answers(const char *listen_addr, int port);

#endif
