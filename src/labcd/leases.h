/*
 * leases.h - the IPv4 address LXD's DHCP gave a container (leases.c):
 * LXD's record, not what the container says about itself (its owner is
 * root there and can put any address on any interface).
 */
#ifndef LABCD_LEASES_H
#define LABCD_LEASES_H

#include <jansson.h>

struct lxd;
struct leases;

/* LXD's leases of a network (an array) as {mac: IPv4 address}. */
json_t		*leases_map(json_t *list);
/* A NIC device's network (or parent) and MAC (its own, else LXD's
   volatile.NAME.hwaddr in conf): borrowed, NULL where none. */
void		 leases_nic(json_t *dev, const char *name, json_t *conf,
		    const char **network, const char **mac);
/* A cache of leases per (project, network), for one request. */
struct leases	*leases_new(struct lxd *l);
void		 leases_free(struct leases *ls);
/*
 * The lease of a running instance (an LXD instance object, recursion=0
 * or 1): that of its first NIC by name (eth0 before eth1) that has one.
 * NULL if none has; *unmanaged (if not NULL) is set when a NIC's network
 * gives no leases (not managed by LXD), so its address is unknown to LXD.
 * Caller frees.
 */
char		*leases_ipv4(struct leases *ls, json_t *inst,
		    const char *project, int *unmanaged);

#endif
