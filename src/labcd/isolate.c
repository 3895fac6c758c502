/*
 * isolate.c - members' containers do not reach each other (isolate_members).
 *
 * Each lab user's project gets a bridge of its own in LXD's default project
 * (user projects use the default project's networks), named from a hash of
 * the project and marked with it, with a /24 of member_subnets, and an LXD
 * network ACL of the same name on it: reject traffic to (egress) and from
 * (ingress) the rest of member_subnets and the profiles' shared bridge but
 * its host address (where containers that ran before isolation stay until
 * their next start), allow everything else. The project's copies of the
 * profiles point their nics at that bridge (project.c). Traffic between two members' bridges is routed by the host,
 * where LXD's bridge ACLs apply; a member's own containers share a bridge;
 * the host (labcd's nc by lease address) and beyond stay reachable.
 *
 * Measured on LXD 5.0.2 (nftables driver): an ACL on one shared bridge
 * filtered instance-to-instance traffic only while br_netfilter had
 * bridge-nf-call-iptables=1, which a stock Debian 12 host does not have;
 * per-NIC ACLs need an extension 5.0.2 lacks. LXD orders ACL rules drop,
 * reject, allow, then the default action, so "all but my own /24" is
 * written as the ranges around it, not as an allow before a reject.
 * doctor's check of what LXD needs for it: isolate_doctor.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkup.h"
#include "config.h"
#include "ipv4.h"
#include "isolate.h"
#include "labcd.h"
#include "log.h"
#include "lxd.h"
#include "xmalloc.h"

#define ISOLATE_DESC	"labcontainers: one lab user's containers"

/*
 * Held while a bridge is looked at and made or removed: two first starts
 * of one member (or a start and the reconciler) must not both make one,
 * two members' must not pick the same free /24, and a user's deletion
 * must not race a reconciler making their bridge again.
 */
static pthread_mutex_t make_lock = PTHREAD_MUTEX_INITIALIZER;

static int
is_nic(json_t *d)
{
	return strcmp(json_string_value(json_object_get(d, "type")) ?: "",
	    "nic") == 0;
}

/*
 * The bridge a nic is on: its network, or a bridged nic's parent (LXD 3.x
 * profiles, or hand-made). NULL for another kind (macvlan, physical...).
 */
static const char *
nic_bridge(json_t *d)
{
	const char *v = json_string_value(json_object_get(d, "network"));

	if (v == NULL && strcmp(json_string_value(json_object_get(d,
	    "nictype")) ?: "", "bridged") == 0)
		v = json_string_value(json_object_get(d, "parent"));
	return v;
}

void
isolate_bridge_name(const char *project, char out[ISOLATE_NAME_MAX])
{
	unsigned h = 2166136261u;	/* FNV-1a */
	const unsigned char *p;

	for (p = (const unsigned char *)project; *p != '\0'; p++)
		h = (h ^ *p) * 16777619u;
	snprintf(out, ISOLATE_NAME_MAX, "labc-%08x", h);
}

/*
 * Does the /24 at net overlap a route of this host? Like lxd init, a
 * route that holds all of member_subnets (bits) is not a collision: the
 * default route, or a campus 10.0.0.0/8 via its router; a bridge's own
 * /24 route is more specific and wins. The route in what if so.
 */
static int
routed(unsigned net, int bits, char *what, size_t whatsz)
{
	char line[256], ifname[64];
	unsigned dst, gw, flags, mask, ref, use, metric;
	char d[16];
	FILE *f = fopen("/proc/net/route", "r");
	int hit = 0;

	if (f == NULL)
		return 0;
	while (!hit && fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%63s %x %x %x %u %u %u %x", ifname, &dst,
		    &gw, &flags, &ref, &use, &metric, &mask) != 8 || mask == 0)
			continue;
		/* /proc/net/route is in network order, read little-endian. */
		dst = __builtin_bswap32(dst);
		mask = __builtin_bswap32(mask);
		if (bits > 0 && (mask & (~0u << (32 - bits))) != (~0u <<
		    (32 - bits)))
			continue;	/* broader than member_subnets */
		hit = ((net & mask) == (dst & mask)) ||
		    ((dst & 0xffffff00u) == net);
		if (hit) {
			ipv4_text(dst & mask, d);
			snprintf(what, whatsz, "this host's route %s/%d on %s",
			    d, __builtin_popcount(mask), ifname);
		}
	}
	fclose(f);
	return hit;
}

/* A free /24 of member_subnets; 0 or -1 with why. */
static int
pick_subnet(struct op *op, unsigned *out, char *why, size_t whysz)
{
	const char *range = op->srv->cfg.member_subnets;
	json_t *nets = NULL, *n;
	unsigned base, i, count, cand, net, mask;
	int bits, used;
	size_t j;
	char what[120] = "", first[160] = "", c24[16];

	if (config_subnets_parse(range, &base, &bits) != 0) {
		snprintf(why, whysz, "member_subnets %s is not a network", range);
		return -1;
	}
	if (lxd_call(op_lxd(op), "GET", "/1.0/networks?recursion=1", NULL,
	    &nets) != 0) {
		snprintf(why, whysz, "LXD did not list its networks: %s",
		    op_lxd_error(op));
		return -1;
	}
	count = 1u << (24 - bits);
	for (i = 0; i < count; i++) {
		cand = base + (i << 8);
		used = routed(cand, bits, what, sizeof(what));
		json_array_foreach(nets, j, n) {
			if (used)
				break;
			if (ipv4_cidr(json_string_value(json_object_get(
			    json_object_get(n, "config"), "ipv4.address")),
			    &net, &mask) != 0)
				continue;
			used = (cand & mask) == net ||
			    (net & 0xffffff00u) == cand;
			if (used)
				snprintf(what, sizeof(what), "LXD network %s",
				    json_string_value(json_object_get(n,
				    "name")) ?: "?");
		}
		if (used && first[0] == '\0') {
			ipv4_text(cand, c24);
			snprintf(first, sizeof(first), "%s/24 by %s", c24, what);
		}
		if (!used) {
			json_decref(nets);
			*out = cand;
			return 0;
		}
	}
	json_decref(nets);
	snprintf(why, whysz, "no free /24 left in member_subnets %s (each is "
	    "used by an LXD network or a route of this host; %s): choose a "
	    "range nothing uses, or a larger one", range, first);
	return -1;
}

/*
 * The configured profiles' bridge (the first nic with a network): its
 * ipv4.nat in nat ("true" if none), its ipv4.address in addr ("" if none).
 */
static void
template_net(struct op *op, char nat[16], char addr[48])
{
	char *list = xstrdup(op->srv->cfg.profiles), *save = NULL, *name, *path;
	json_t *prof = NULL, *d, *net = NULL, *conf;
	const char *k, *v;
	int found = 0;

	snprintf(nat, 16, "true");
	addr[0] = '\0';
	for (name = strtok_r(list, ", ", &save); name != NULL && !found;
	    name = strtok_r(NULL, ", ", &save)) {
		if (lxd_profile_get(op_lxd(op), name, &prof) != 0)
			continue;
		json_object_foreach(json_object_get(prof, "devices"), k, d) {
			if (found || !is_nic(d) || (v = nic_bridge(d)) == NULL)
				continue;
			found = 1;
			path = xasprintf("/1.0/networks/%s", v);
			if (lxd_call(op_lxd(op), "GET", path, NULL, &net) == 0) {
				conf = json_object_get(net, "config");
				if ((v = json_string_value(json_object_get(conf,
				    "ipv4.nat"))) != NULL)
					snprintf(nat, 16, "%s", v);
				if ((v = json_string_value(json_object_get(conf,
				    "ipv4.address"))) != NULL)
					snprintf(addr, 48, "%s", v);
			}
			json_decref(net);
			net = NULL;
			free(path);
		}
		json_decref(prof);
		prof = NULL;
	}
	free(list);
}

/* Append lo-hi (or lo alone) to a comma-separated list, if lo <= hi. */
static void
add_range(char *out, size_t outsz, unsigned lo, unsigned hi)
{
	char a[16], b[16];
	size_t n = strlen(out);

	if (lo > hi)
		return;
	ipv4_text(lo, a);
	ipv4_text(hi, b);
	if (lo == hi)
		snprintf(out + n, outsz - n, "%s%s", n > 0 ? "," : "", a);
	else
		snprintf(out + n, outsz - n, "%s%s-%s", n > 0 ? "," : "", a, b);
}

/*
 * The ACL's rules for the /24 at own: the rest of member_subnets, and the
 * shared bridge (shared: its ipv4.address) but its host address, where a
 * member's containers that ran before isolation stay until they restart.
 */
static json_t *
acl_body(struct op *op, const char *project, unsigned own, const char *shared)
{
	unsigned base, last, net, mask, gw, a, b, cc, d;
	char ranges[256] = "";
	int bits;

	(void)config_subnets_parse(op->srv->cfg.member_subnets, &base, &bits);
	last = base + ((1u << (32 - bits)) - 1);
	if (own < base || own > last)	/* member_subnets changed since */
		add_range(ranges, sizeof(ranges), base, last);
	else {
		if (own > base)
			add_range(ranges, sizeof(ranges), base, own - 1);
		if (own + 255 < last)
			add_range(ranges, sizeof(ranges), own + 256, last);
	}
	if (ipv4_cidr(shared, &net, &mask) == 0 && mask != 0 && mask != ~0u &&
	    (net & (~0u << (32 - bits))) != base &&
	    sscanf(shared, "%u.%u.%u.%u", &a, &b, &cc, &d) == 4) {
		gw = a << 24 | b << 16 | cc << 8 | d;
		if (gw > net)
			add_range(ranges, sizeof(ranges), net, gw - 1);
		add_range(ranges, sizeof(ranges), gw + 1, net | ~mask);
	}
	return json_pack("{s:s, s:[{s:s, s:s, s:s, s:s}], "
	    "s:[{s:s, s:s, s:s, s:s}], s:{s:s}}",
	    "description", ISOLATE_DESC,
	    "egress", "action", "reject", "destination", ranges, "state",
	    "enabled", "description", "other members' containers",
	    "ingress", "action", "reject", "source", ranges, "state",
	    "enabled", "description", "other members' containers",
	    "config", PROJECT_OWNER_KEY, project);
}

/* The ACL there, with the rules for own (*made: new); 0 or -1 with why. */
static int
ensure_acl(struct op *op, const char *project, const char *name, unsigned own,
    const char *shared, int *made, char *why, size_t whysz)
{
	struct lxd *l = op_lxd(op);
	json_t *want = acl_body(op, project, own, shared), *have = NULL;
	char *path = xasprintf("/1.0/network-acls/%s", name);
	int r;

	r = lxd_call(l, "GET", path, NULL, &have);
	if (r == -ENOENT) {
		json_object_set_new(want, "name", json_string(name));
		r = lxd_call(l, "POST", "/1.0/network-acls", want, NULL);
		*made = r == 0;
		/* Seen on LXD 5.0.2 right after a GET said none: set it. */
		if (r == -EEXIST) {
			json_object_del(want, "name");
			r = lxd_call(l, "PUT", path, want, NULL);
		}
	} else if (r == 0 && (!json_equal(json_object_get(have, "egress"),
	    json_object_get(want, "egress")) ||
	    !json_equal(json_object_get(have, "ingress"),
	    json_object_get(want, "ingress"))))
		r = lxd_call(l, "PUT", path, want, NULL);
	if (r != 0)
		snprintf(why, whysz, "LXD refused the network ACL %s: %s", name,
		    op_lxd_error(op));
	json_decref(have);
	json_decref(want);
	free(path);
	return r == 0 ? 0 : -1;
}

/* The bridge's config keys that make it isolated. */
static json_t *
isolating_config(const char *name)
{
	return json_pack("{s:s, s:s, s:s}", "security.acls", name,
	    "security.acls.default.egress.action", "allow",
	    "security.acls.default.ingress.action", "allow");
}

/* The bridge's /24 in member_subnets? */
static int
in_range(struct op *op, unsigned own)
{
	unsigned base;
	int bits;

	if (config_subnets_parse(op->srv->cfg.member_subnets, &base, &bits) != 0)
		return 1;
	return (own & (~0u << (32 - bits))) == base;
}

/* Does an instance of project run? -1 if LXD did not say. */
static int
any_running(struct op *op, const char *project, int *any)
{
	json_t *list = NULL, *inst;
	size_t i;
	int n = 0;

	if (lxd_instance_list(op_lxd(op), project, 0, &list) != 0)
		return -1;
	json_array_foreach(list, i, inst) {
		n += strcmp(json_string_value(json_object_get(inst, "status")) ?:
		    "", "Stopped") != 0;
	}
	if (any != NULL)
		*any = json_array_size(list) > 0;
	json_decref(list);
	return n > 0;
}

int
isolate_ensure(struct op *op, const char *project, char br[ISOLATE_NAME_MAX],
    char *why, size_t whysz)
{
	static int told;
	struct lxd *l = op_lxd(op);
	json_t *net = NULL, *conf, *want = NULL, *body = NULL, *v, *p = NULL;
	const char *owner, *k;
	unsigned own = 0, mask;
	char *path, nat[16], shared[48], ip[16], *acl;
	int r, differs = 0, made = 0, any = 0;

	isolate_bridge_name(project, br);
	template_net(op, nat, shared);
	path = xasprintf("/1.0/networks/%s", br);
	pthread_mutex_lock(&make_lock);
	/* A user deleted meanwhile does not get a bridge back. */
	if ((r = lxd_project_get(l, project, &p)) != 0) {
		snprintf(why, whysz, "LXD has no project %s (%s): no bridge is "
		    "made for it", project, op_lxd_error(op));
		goto out;
	}
	r = lxd_call(l, "GET", path, NULL, &net);
	if (r == 0) {
		conf = json_object_get(net, "config");
		owner = json_string_value(json_object_get(conf,
		    PROJECT_OWNER_KEY));
		if (owner == NULL || strcmp(owner, project) != 0 ||
		    ipv4_cidr(json_string_value(json_object_get(conf,
		    "ipv4.address")), &own, &mask) != 0 || mask != ~0u << 8) {
			snprintf(why, whysz, "LXD has a network %s that is not "
			    "project %s's bridge (its %s key, or its IPv4 /24); "
			    "the admin should delete or rename it", br, project,
			    PROJECT_OWNER_KEY);
			r = -1;
			goto out;
		}
		want = isolating_config(br);
		/* Outside member_subnets (changed): a new /24 while none runs. */
		if (!in_range(op, own) && any_running(op, project, NULL) == 0 &&
		    pick_subnet(op, &own, why, whysz) == 0) {
			ipv4_text(own + 1, ip);
			json_object_set_new(want, "ipv4.address",
			    json_sprintf("%s/24", ip));
			log_info("LXD bridge %s of project %s moves to %s/24, in "
			    "member_subnets", br, project, ip);
		}
		if ((r = ensure_acl(op, project, br, own, shared, &made,
		    why, whysz)) != 0)
			goto out;
		json_object_foreach(want, k, v) {
			differs |= !json_equal(v, json_object_get(conf, k));
		}
		body = json_pack("{s:O}", "config", want);
		if (differs && (r = lxd_call(l, "PATCH", path, body,
		    NULL)) != 0)
			snprintf(why, whysz, "LXD refused to put the ACL on %s: "
			    "%s", br, op_lxd_error(op));
		goto out;
	}
	if (r != -ENOENT) {
		snprintf(why, whysz, "%s", op_lxd_error(op));
		goto out;
	}
	if ((r = pick_subnet(op, &own, why, whysz)) != 0 ||
	    (r = ensure_acl(op, project, br, own, shared, &made,
	    why, whysz)) != 0)
		goto out;
	ipv4_text(own + 1, ip);
	want = isolating_config(br);
	json_object_set_new(want, "ipv4.address", json_sprintf("%s/24", ip));
	json_object_set_new(want, "ipv4.nat", json_string(nat));
	json_object_set_new(want, "ipv6.address", json_string("none"));
	json_object_set_new(want, "dns.mode", json_string("none"));
	json_object_set_new(want, PROJECT_OWNER_KEY, json_string(project));
	body = json_pack("{s:s, s:s, s:s, s:O}", "name", br, "type", "bridge",
	    "description", ISOLATE_DESC, "config", want);
	r = lxd_network_create(l, body);
	if (r != 0) {
		snprintf(why, whysz, "LXD refused to make the bridge %s (%s/24): "
		    "%s", br, ip, op_lxd_error(op));
		/* No ACL is left without its bridge. */
		acl = xasprintf("/1.0/network-acls/%s", br);
		if (made)
			(void)lxd_call(l, "DELETE", acl, NULL, NULL);
		free(acl);
		goto out;
	}
	log_info("LXD bridge %s (%s/24) made for project %s", br, ip, project);
	/* An upgrade: containers made before isolation move at next start. */
	if (any_running(op, project, &any) >= 0 && any && !told) {
		told = 1;
		log_warn("isolate_members: the containers of members made before "
		    "it move to bridges of their own at their next start, with a "
		    "new subnet and address, and containers in the default "
		    "project no longer reach them (isolate_members = no keeps "
		    "the shared bridge)");
	}
out:
	pthread_mutex_unlock(&make_lock);
	json_decref(p);
	json_decref(body);
	json_decref(want);
	json_decref(net);
	free(path);
	return r == 0 ? 0 : -1;
}

int
isolate_devices(json_t *devices, const char *br, char *bad, size_t badsz)
{
	const char *k;
	json_t *d;

	json_object_foreach(devices, k, d) {
		if (!is_nic(d))
			continue;
		if (nic_bridge(d) == NULL) {
			snprintf(bad, badsz, "%s (nictype %s)", k,
			    json_string_value(json_object_get(d, "nictype")) ?:
			    "?");
			return -1;
		}
		json_object_del(d, "nictype");
		json_object_del(d, "parent");
		json_object_set_new(d, "network", json_string(br));
	}
	return 0;
}

int
isolate_profiles_movable(struct op *op, char *why, size_t whysz)
{
	char *list = xstrdup(op->srv->cfg.profiles), *save = NULL, *name;
	char bad[120];
	json_t *prof, *devs;
	int r = 0;

	for (name = strtok_r(list, ", ", &save); name != NULL && r == 0;
	    name = strtok_r(NULL, ", ", &save)) {
		prof = NULL;
		if (lxd_profile_get(op_lxd(op), name, &prof) != 0)
			continue;
		devs = json_deep_copy(json_object_get(prof, "devices"));
		if (devs != NULL && isolate_devices(devs, "x", bad,
		    sizeof(bad)) != 0) {
			snprintf(why, whysz, "profile %s has nic %s, which "
			    "cannot be moved to a member's own bridge", name,
			    bad);
			r = -1;
		}
		json_decref(devs);
		json_decref(prof);
	}
	free(list);
	return r;
}

int
isolate_blocked(struct op *op, const char *project, json_t *devices,
    char *who, size_t whosz)
{
	json_t *list = NULL, *inst, *d, *w;
	const char *k, *have;
	size_t i;
	int blocked = 0;

	if (lxd_instance_list(op_lxd(op), project, 0, &list) != 0)
		return -1;
	json_array_foreach(list, i, inst) {
		if (strcmp(json_string_value(json_object_get(inst, "status")) ?:
		    "", "Stopped") == 0)
			continue;
		json_object_foreach(json_object_get(inst, "expanded_devices"),
		    k, d) {
			if (!is_nic(d) || (w = json_object_get(devices,
			    k)) == NULL)
				continue;
			have = nic_bridge(d);
			if (have == nic_bridge(w) || (have != NULL &&
			    nic_bridge(w) != NULL && strcmp(have,
			    nic_bridge(w)) == 0))
				continue;
			snprintf(who, whosz, "%s (on %s)", json_string_value(
			    json_object_get(inst, "name")) ?: "?", have ?: k);
			blocked = 1;
		}
	}
	json_decref(list);
	return blocked;
}

int
isolate_check(struct op *op, const char *project, char *why, size_t whysz)
{
	struct lxd *l = op_lxd(op);
	char br[ISOLATE_NAME_MAX], *path;
	json_t *net = NULL, *acl = NULL, *list = NULL, *inst, *d;
	const char *acls, *k, *nw;
	unsigned own, mask;
	size_t i;
	int r = 0;

	isolate_bridge_name(project, br);
	path = xasprintf("/1.0/networks/%s", br);
	if (lxd_call(l, "GET", path, NULL, &net) != 0) {
		snprintf(why, whysz, "it has no bridge of its own (%s): %s", br,
		    op_lxd_error(op));
		r = -1;
		goto out;
	}
	acls = json_string_value(json_object_get(json_object_get(net,
	    "config"), "security.acls"));
	free(path);
	path = xasprintf("/1.0/network-acls/%s", br);
	if (acls == NULL || strcmp(acls, br) != 0 ||
	    lxd_call(l, "GET", path, NULL, &acl) != 0) {
		snprintf(why, whysz, "its bridge %s lacks the network ACL %s",
		    br, br);
		r = -1;
		goto out;
	}
	if (ipv4_cidr(json_string_value(json_object_get(json_object_get(net,
	    "config"), "ipv4.address")), &own, &mask) == 0 &&
	    !in_range(op, own)) {
		snprintf(why, whysz, "its bridge %s has %s, outside "
		    "member_subnets %s (changed since)", br,
		    json_string_value(json_object_get(json_object_get(net,
		    "config"), "ipv4.address")), op->srv->cfg.member_subnets);
		r = 2;
		goto out;
	}
	if (lxd_instance_list(l, project, 0, &list) != 0)
		goto out;
	json_array_foreach(list, i, inst) {
		if (strcmp(json_string_value(json_object_get(inst, "status")) ?:
		    "", "Stopped") == 0)
			continue;
		json_object_foreach(json_object_get(inst, "expanded_devices"),
		    k, d) {
			if (!is_nic(d) || ((nw = nic_bridge(d)) != NULL &&
			    strcmp(nw, br) == 0))
				continue;
			if (nw != NULL)
				snprintf(why, whysz, "its container %s runs on "
				    "the shared bridge %s, not on its own %s",
				    json_string_value(json_object_get(inst,
				    "name")) ?: "?", nw, br);
			else
				snprintf(why, whysz, "its container %s has nic "
				    "%s (nictype %s), not on its own bridge %s",
				    json_string_value(json_object_get(inst,
				    "name")) ?: "?", k, json_string_value(
				    json_object_get(d, "nictype")) ?: "?", br);
			r = 1;
			goto out;
		}
	}
out:
	json_decref(list);
	json_decref(acl);
	json_decref(net);
	free(path);
	return r;
}

int
isolate_remove(struct op *op, const char *project)
{
	struct lxd *l = op_lxd(op);
	char br[ISOLATE_NAME_MAX], *path;
	json_t *net = NULL;
	const char *owner;
	int r;

	isolate_bridge_name(project, br);
	path = xasprintf("/1.0/networks/%s", br);
	pthread_mutex_lock(&make_lock);
	r = lxd_call(l, "GET", path, NULL, &net);
	if (r == 0) {
		owner = json_string_value(json_object_get(json_object_get(net,
		    "config"), PROJECT_OWNER_KEY));
		if (owner == NULL || strcmp(owner, project) != 0)
			goto out;	/* not this project's: left alone */
		r = lxd_call(l, "DELETE", path, NULL, NULL);
	}
	if (r == 0 || r == -ENOENT) {
		free(path);
		path = xasprintf("/1.0/network-acls/%s", br);
		r = lxd_call(l, "DELETE", path, NULL, NULL);
	}
	if (r == -ENOENT)
		r = 0;
out:
	pthread_mutex_unlock(&make_lock);
	json_decref(net);
	free(path);
	return r;
}

json_t *
isolate_orphans(struct op *op)
{
	struct lxd *l = op_lxd(op);
	const char *prefix = op->srv->cfg.project_prefix, *owner, *name;
	json_t *nets = NULL, *projects = NULL, *have, *out = NULL, *n, *p;
	char br[ISOLATE_NAME_MAX];
	size_t i;

	/* Networks first: a bridge listed was made after its project. */
	if (lxd_call(l, "GET", "/1.0/networks?recursion=1", NULL, &nets) != 0 ||
	    lxd_project_list(l, &projects) != 0)
		goto out;
	have = json_object();
	json_array_foreach(projects, i, p) {
		if ((name = json_string_value(json_object_get(p, "name"))) !=
		    NULL)
			json_object_set_new(have, name, json_true());
	}
	out = json_array();
	json_array_foreach(nets, i, n) {
		name = json_string_value(json_object_get(n, "name"));
		owner = json_string_value(json_object_get(json_object_get(n,
		    "config"), PROJECT_OWNER_KEY));
		/* Only this labcd's (its prefix, its name): others share LXD. */
		if (name == NULL || owner == NULL || strncmp(owner, prefix,
		    strlen(prefix)) != 0 || json_object_get(have, owner) != NULL)
			continue;
		isolate_bridge_name(owner, br);
		if (strcmp(name, br) != 0)
			continue;
		json_array_append_new(out, json_pack("{s:s, s:s}", "name", name,
		    "owner", owner));
	}
	json_decref(have);
out:
	json_decref(projects);
	json_decref(nets);
	return out;
}

/* isolate_members: what LXD needs for it; each member's state is drift. */
void
isolate_doctor(struct checkup *d)
{
	struct op *op = checkup_op(d);
	struct lxd *l = checkup_lxd(d);
	json_t *info = NULL;
	const char *fw;
	char why[300];

	if (!op->srv->cfg.isolate_members) {
		checkup_row(d, "isolation", "ok", NULL, "off (isolate_members "
		    "= no): members' containers share the profiles' bridge and "
		    "reach each other");
		return;
	}
	(void)lxd_call(l, "GET", "/1.0", NULL, &info);
	fw = json_string_value(json_object_get(json_object_get(info,
	    "environment"), "firewall"));
	if (!lxd_has_extension(l, "network_acl") ||
	    !lxd_has_extension(l, "network_bridge_acl"))
		checkup_row(d, "isolation", "problem", "upgrade LXD (5.0 has "
		    "them), or set isolate_members = no", "LXD lacks network "
		    "ACLs on bridges (network_acl, network_bridge_acl): "
		    "members' containers cannot be kept apart");
	else if (isolate_profiles_movable(op, why, sizeof(why)) != 0)
		checkup_row(d, "isolation", "problem", "give the profile a "
		    "bridged nic ('lxc profile device set ... network "
		    "lxdbr0'), or set isolate_members = no", "%s: no member's "
		    "container starts (it would not be kept apart)", why);
	else if (fw == NULL || *fw == '\0')
		checkup_row(d, "isolation", "warn", "apt-get install nftables, "
		    "then restart LXD", "LXD names no firewall driver, which "
		    "its network ACLs need");
	else
		checkup_row(d, "isolation", "ok", NULL, "on: each member's "
		    "containers on a bridge of their own with a network ACL "
		    "(LXD's firewall: %s); a member not yet so is listed under "
		    "drift; containers made before it get a new address at "
		    "their next start", fw);
	json_decref(info);
}
