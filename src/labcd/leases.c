/*
 * leases.c - the IPv4 address LXD's DHCP gave a container, looked up by
 * the MAC address LXD gave its NIC. One request per (project, network),
 * whatever the number of containers: list asks for all of them at once.
 * Not the container's own state: what it reports about its interfaces is
 * its owner's to choose.
 */
#include <stdlib.h>
#include <string.h>

#include "leases.h"
#include "lxd.h"
#include "xmalloc.h"

struct leases {
	struct lxd	*l;
	json_t		*nets;		/* "project/network": {mac: ip} or null */
};

struct leases *
leases_new(struct lxd *l)
{
	struct leases *ls = xcalloc(1, sizeof(*ls));

	ls->l = l;
	ls->nets = json_object();
	return ls;
}

void
leases_free(struct leases *ls)
{
	if (ls == NULL)
		return;
	json_decref(ls->nets);
	free(ls);
}

json_t *
leases_map(json_t *list)
{
	json_t *m = json_object(), *v;
	size_t i;

	json_array_foreach(list, i, v) {
		const char *mac = json_string_value(json_object_get(v,
		    "hwaddr"));
		const char *ip = json_string_value(json_object_get(v,
		    "address"));

		/* IPv6 leases have no MAC; the first wins */
		if (mac != NULL && *mac != '\0' && ip != NULL &&
		    strchr(ip, ':') == NULL && json_object_get(m, mac) == NULL)
			json_object_set_new(m, mac, json_string(ip));
	}
	return m;
}

void
leases_nic(json_t *dev, const char *name, json_t *conf, const char **network,
    const char **mac)
{
	char *vkey;

	*network = json_string_value(json_object_get(dev, "network"));
	if (*network == NULL)
		*network = json_string_value(json_object_get(dev, "parent"));
	*mac = json_string_value(json_object_get(dev, "hwaddr"));
	if (*mac == NULL) {
		vkey = xasprintf("volatile.%s.hwaddr", name);
		*mac = json_string_value(json_object_get(conf, vkey));
		free(vkey);
	}
}

/* The IPv4 leases of a network in a project as {mac: address}, cached. */
static json_t *
of_network(struct leases *ls, const char *project, const char *network)
{
	char *key = xasprintf("%s/%s", project, network);
	json_t *m = json_object_get(ls->nets, key), *list = NULL;

	if (m == NULL) {
		if (lxd_network_leases(ls->l, project, network, &list) != 0)
			m = json_null();	/* not LXD's: no leases */
		else
			m = leases_map(list);
		json_decref(list);
		json_object_set_new(ls->nets, key, m);
	}
	free(key);
	return m;
}

char *
leases_ipv4(struct leases *ls, json_t *inst, const char *project,
    int *unmanaged)
{
	json_t *devs = json_object_get(inst, "expanded_devices"), *d;
	json_t *conf = json_object_get(inst, "expanded_config"), *m;
	const char *name, *best = NULL, *bestnic = NULL, *net, *mac;

	if (unmanaged != NULL)
		*unmanaged = 0;
	json_object_foreach(devs, name, d) {
		if (strcmp(json_string_value(json_object_get(d, "type")) ?: "",
		    "nic") != 0)
			continue;
		leases_nic(d, name, conf, &net, &mac);
		if (net == NULL || mac == NULL ||
		    json_is_null(m = of_network(ls, project, net))) {
			if (unmanaged != NULL)
				*unmanaged = 1;
			continue;
		}
		if (json_object_get(m, mac) != NULL && (bestnic == NULL ||
		    strcmp(name, bestnic) < 0)) {
			bestnic = name;
			best = json_string_value(json_object_get(m, mac));
		}
	}
	return best != NULL ? xstrdup(best) : NULL;
}
