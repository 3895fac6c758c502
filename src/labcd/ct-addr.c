/*
 * ct-addr.c - ssh_port_mode = nat: the fixed IPv4 address labcd gives a
 * container on its bridge, kept in the database beside its port. LXD's
 * NAT proxy forwards the port to that address (nftables DNAT, no helper
 * process), so the address must be the container's alone: its NIC gets
 * it as LXD's static DHCP entry and carries security.ipv4_filtering, so
 * the container cannot send from any other address, and another
 * container (root inside, on a bridge members share) cannot answer for
 * it. The device and the NIC are made here and nowhere else (ct-ssh.c
 * asks for them).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct-addr.h"
#include "ct-ssh.h"
#include "db-containers.h"
#include "ipv4.h"
#include "isolate.h"
#include "labcd.h"
#include "log.h"
#include "lxd.h"
#include "view.h"
#include "xmalloc.h"

json_t *
ct_nic_device(const char *network, const char *addr)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "nic", "name",
	    "eth0", "network", network, "ipv4.address", addr,
	    "security.ipv4_filtering", "true");
}

int
ct_nic_ours(json_t *d, json_t *profile_nic)
{
	const char *k;
	json_t *v;

	if (d == NULL || profile_nic == NULL ||
	    strcmp(json_string_value(json_object_get(d, "type")) ?: "",
	    "nic") != 0 ||
	    strcmp(json_string_value(json_object_get(d,
	    "security.ipv4_filtering")) ?: "", "true") != 0 ||
	    !json_equal(json_object_get(d, "network"),
	    json_object_get(profile_nic, "network")))
		return 0;
	json_object_foreach(d, k, v) {
		if (strcmp(k, "type") != 0 && strcmp(k, "name") != 0 &&
		    strcmp(k, "network") != 0 && strcmp(k, "ipv4.address") != 0 &&
		    strcmp(k, "security.ipv4_filtering") != 0)
			return 0;
	}
	return 1;
}

json_t *
ct_profile_nic(struct op *op, const char *project, char *why, size_t whysz)
{
	struct lxd *l = op_lxd(op);
	char *list = xstrdup(op->srv->cfg.profiles), *save = NULL, *name;
	json_t *prof, *d, *nic = NULL;

	/* A later profile's eth0 replaces an earlier one's, as in LXD. */
	for (name = strtok_r(list, ", ", &save); name != NULL;
	    name = strtok_r(NULL, ", ", &save)) {
		prof = NULL;
		if (lxd_profile_get_in(l, project, name, &prof) != 0) {
			snprintf(why, whysz, "cannot read the profile %s of "
			    "project %s: %s", name, project, lxd_error(l));
			json_decref(nic);
			free(list);
			return NULL;
		}
		d = json_object_get(json_object_get(prof, "devices"), "eth0");
		if (d != NULL) {
			json_decref(nic);
			nic = json_incref(d);
		}
		json_decref(prof);
	}
	free(list);
	if (nic == NULL || strcmp(json_string_value(json_object_get(nic,
	    "type")) ?: "", "nic") != 0 || *(json_string_value(
	    json_object_get(nic, "network")) ?: "") == '\0') {
		snprintf(why, whysz, "ssh_port_mode = nat needs the profiles "
		    "(%s) to give containers an eth0 on an LXD-managed bridge "
		    "(network=NAME); they do not", op->srv->cfg.profiles);
		json_decref(nic);
		return NULL;
	}
	return nic;
}

/* Mark the addresses of leases (a list of LXD's) in the subnet as used. */
static void
mark_leases(json_t *leases, unsigned net, unsigned mask, unsigned char *used)
{
	json_t *v;
	size_t i;
	unsigned ip;

	json_array_foreach(leases, i, v) {
		if (ipv4_addr(json_string_value(json_object_get(v, "address")),
		    &ip) == 0 && (ip & mask) == net)
			used[ip - net] = 1;
	}
}

/*
 * What else holds an address of the subnet now: LXD's leases and static
 * entries as the project and the default project see them, and every
 * instance address the view knows (the other members' projects).
 */
static void
mark_used(struct op *op, const char *project, const char *network,
    unsigned net, unsigned mask, unsigned char *used)
{
	struct lxd *l = op_lxd(op);
	struct view_ct *v = NULL;
	json_t *leases;
	size_t n = 0, i;
	unsigned ip;

	used[0] = used[~mask] = 1;	/* the network and broadcast */
	leases = NULL;
	if (lxd_network_leases(l, project, network, &leases) == 0)
		mark_leases(leases, net, mask, used);
	json_decref(leases);
	leases = NULL;
	if (lxd_network_leases(l, "default", network, &leases) == 0)
		mark_leases(leases, net, mask, used);
	json_decref(leases);
	if (view_list(NULL, &v, &n) == 0) {
		for (i = 0; i < n; i++) {
			if (ipv4_addr(v[i].ipv4, &ip) == 0 &&
			    (ip & mask) == net)
				used[ip - net] = 1;
		}
		free(v);
	}
}

json_t *
ct_addr_nic(struct op *op, const char *project, char *why, size_t whysz)
{
	char br[ISOLATE_NAME_MAX];

	/*
	 * The member's own bridge (isolate.c), whatever the profiles say
	 * while their copy in the project waits for the member's running
	 * containers: a NAT port's container is never on a shared one.
	 */
	if (op->srv->cfg.isolate_members) {
		isolate_bridge_name(project, br);
		return json_pack("{s:s, s:s}", "type", "nic", "network", br);
	}
	return ct_profile_nic(op, project, why, whysz);
}

int
ct_addr_pick(struct op *op, const char *project, struct ct *ct,
    const char *const *avoid, size_t navoid)
{
	struct lxd *l = op_lxd(op);
	json_t *nic, *netj = NULL;
	const char *network, *cidr;
	unsigned char *used;
	unsigned net, mask, gw, host;
	char why[300], a[16];
	size_t i;
	int r, set;

	if ((nic = ct_addr_nic(op, project, why, sizeof(why))) == NULL)
		return op_error(op, "%s", why);
	network = json_string_value(json_object_get(nic, "network"));
	if (lxd_network_get(l, project, network, &netj) != 0) {
		r = op_error(op, "cannot read the network %s: %s", network,
		    lxd_error(l));
		goto out;
	}
	cidr = json_string_value(json_object_get(json_object_get(netj,
	    "config"), "ipv4.address"));
	if (ipv4_cidr(cidr, &net, &mask) != 0 || ipv4_addr(cidr, &gw) != 0 ||
	    ~mask < 3 || ~mask > 65535) {
		r = op_error(op, "ssh_port_mode = nat needs the network %s to "
		    "have an IPv4 subnet of its own (ipv4.address, /16 to "
		    "/30); it has '%s'", network, cidr ?: "none");
		goto out;
	}
	used = xcalloc(~mask + 1, 1);
	mark_used(op, project, network, net, mask, used);
	used[gw - net] = 1;
	for (i = 0; i < navoid; i++)
		if (ipv4_addr(avoid[i], &host) == 0 && (host & mask) == net)
			used[host - net] = 1;
	/*
	 * From the top of the subnet down: LXD's DHCP gives dynamic
	 * addresses anywhere in it, but the top is where a lab's own static
	 * ones are least likely. The unique index decides between two
	 * launches that pick at once.
	 */
	r = -1;
	set = 1;
	for (host = ~mask - 1; host >= 1 && r != PROTO_OK; host--) {
		if (used[host] || ctdb_addr_taken(op->db, network, (ipv4_text(
		    net + host, a), a)))
			continue;
		/* Taken by a row since: the next; else what the DB says. */
		if ((set = ctdb_set_addr(op->db, ct->id, network, a)) == 0) {
			snprintf(ct->network, sizeof(ct->network), "%s",
			    network);
			snprintf(ct->addr, sizeof(ct->addr), "%s", a);
			r = PROTO_OK;
		} else if (set < 0)
			break;
	}
	free(used);
	if (r != PROTO_OK && set < 0)
		r = op_error(op, "cannot record the address of %s: %s",
		    ct->name, op->db->err);
	else if (r != PROTO_OK)
		r = op_error(op, "no free address left on the network %s (%s) "
		    "for the port of %s: delete a container, or the admin "
		    "gives the bridge a larger subnet", network, cidr,
		    ct->name);
out:
	json_decref(netj);
	json_decref(nic);
	return r;
}

int
ct_addr_check(struct op *op, const char *project, struct ct *ct)
{
	struct lxd *l = op_lxd(op);
	json_t *nic, *netj = NULL, *patch;
	const char *network, *cidr;
	unsigned net, mask, ip;
	char why[300], old[16];
	int r;

	if ((nic = ct_addr_nic(op, project, why, sizeof(why))) == NULL)
		return op_error(op, "cannot start %s: %s", ct->name, why);
	network = json_string_value(json_object_get(nic, "network"));
	r = lxd_network_get(l, project, network, &netj);
	cidr = json_string_value(json_object_get(json_object_get(netj,
	    "config"), "ipv4.address"));
	if (r == 0 && strcmp(network, ct->network) == 0 &&
	    ipv4_cidr(cidr, &net, &mask) == 0 && ipv4_addr(ct->addr, &ip) == 0 &&
	    (ip & mask) == net) {
		json_decref(netj);
		json_decref(nic);
		return PROTO_OK;
	}
	json_decref(netj);
	json_decref(nic);
	if (r != 0)
		return op_error(op, "cannot start %s: its network: %s",
		    ct->name, lxd_error(l));
	/* Its bridge moved (member_subnets, isolate_members): anew. */
	snprintf(old, sizeof(old), "%s", ct->addr);
	if ((r = ct_addr_pick(op, project, ct, NULL, 0)) != PROTO_OK)
		return r;
	log_info("%s/%s: its port's address %s is not on its bridge now: "
	    "%s on %s", project, ct->name, old, ct->addr, ct->network);
	patch = ct_ssh_patch(&op->srv->cfg, ct->port, ct->network, ct->addr);
	r = lxd_instance_patch(l, project, ct->name, patch);
	json_decref(patch);
	return r == 0 ? PROTO_OK : op_error(op, "cannot give %s its new "
	    "address %s: %s", ct->name, ct->addr, lxd_error(l));
}
