/*
 * ct-addr.h - ssh_port_mode = nat (ct-addr.c): a container's fixed IPv4
 * address on its bridge, and the NIC that holds it there.
 */
#ifndef LABCD_CT_ADDR_H
#define LABCD_CT_ADDR_H

#include <stddef.h>
#include <jansson.h>

struct op;
struct ct;

/* LXD refusing an address another NIC has statically: tries in all. */
#define CT_ADDR_TRIES	4

/*
 * The instance's own eth0 that holds addr on network and nothing else
 * (security.ipv4_filtering).
 */
json_t	*ct_nic_device(const char *network, const char *addr);
/*
 * Is d an eth0 labcd makes (ct_nic_device's keys only) on the network of
 * profile_nic? 1 or 0.
 */
int	ct_nic_ours(json_t *d, json_t *profile_nic);
/*
 * The eth0 nic the configured profiles give a container of project (the
 * last profile that has one), on a managed network; NULL and why if none.
 */
json_t	*ct_profile_nic(struct op *op, const char *project, char *why,
	    size_t whysz);
/*
 * Give the container (its row exists) a free address on its network
 * (ct_addr_nic), from the top of the subnet down, skipping the gateway,
 * LXD's leases and static entries, the addresses the view knows, the
 * other rows', and those in avoid (LXD refused them); kept in the row
 * and in ct.
 * PROTO_OK, or PROTO_FAILED said.
 */
int	ct_addr_pick(struct op *op, const char *project, struct ct *ct,
	    const char *const *avoid, size_t navoid);
/*
 * The nic a NAT port's container is on: {"network": ...} of the member's
 * own bridge with isolate_members, else ct_profile_nic's. NULL and why.
 */
json_t	*ct_addr_nic(struct op *op, const char *project, char *why,
	    size_t whysz);
/*
 * Before a start: is ct's address still on the network it must be on,
 * in that network's subnet now? If its bridge moved (isolate_members,
 * member_subnets) it gets a new address, its devices with it. PROTO_OK,
 * or PROTO_FAILED said.
 */
int	ct_addr_check(struct op *op, const char *project, struct ct *ct);

#endif
