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
 * everywhere (create, start, import, reconciliation, unlock): forkproxy
 * into the container, or with ssh_port_mode = nat and the container's
 * fixed address (ct-addr.c) addr, LXD's NAT to addr:22.
 */
json_t	*ct_ssh_device(const struct config *cfg, int port, const char *addr);
/*
 * Does ct's port forward to its fixed address (ssh_port_mode = nat and
 * one given)? 1 or 0. Else it is a forkproxy, wherever it was made.
 */
struct ct;
int	ct_port_nat(const struct config *cfg, const struct ct *ct);
/*
 * The patch that puts it on an instance: {"devices": {"ssh": ...}}, and
 * with NAT the eth0 that holds addr on network (ct_nic_device).
 */
json_t	*ct_ssh_patch(const struct config *cfg, int port, const char *network,
	    const char *addr);
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
