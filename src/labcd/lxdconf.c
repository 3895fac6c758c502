/*
 * lxdconf.c - what labcd.conf asks LXD to have, as doctor checks it: the
 * profiles (each there), the storage pool of their root disk (or
 * storage_pool) with room left, the bridge of their nic giving DHCP
 * without names in DNS, and default_image.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkup.h"
#include "labcd.h"
#include "lxd.h"
#include "lxdconf.h"
#include "xmalloc.h"

#define POOL_WARN_PERCENT	10	/* free space below this: warn */

/* The profiles of labcd.conf, each once; caller frees the array. */
static char **
profile_names(struct checkup *d, size_t *n)
{
	struct op *op = checkup_op(d);
	char *plist = xstrdup(op->srv->cfg.profiles), *save = NULL, *p;
	char **v = xcalloc(strlen(plist) / 2 + 2, sizeof(*v));

	*n = 0;
	for (p = strtok_r(plist, ", ", &save); p != NULL;
	    p = strtok_r(NULL, ", ", &save))
		v[(*n)++] = xstrdup(p);
	free(plist);
	return v;
}

static void
add_name(json_t *set, const char *name)
{
	if (name != NULL && *name != '\0')
		json_object_set_new(set, name, json_true());
}

/* "1.5 GiB", or "12.0 MiB" for small pools. */
static void
size_text(double bytes, char out[32])
{
	if (bytes >= 1073741824.0)
		snprintf(out, 32, "%.1f GiB", bytes / 1073741824.0);
	else
		snprintf(out, 32, "%.1f MiB", bytes / 1048576.0);
}

static void
check_pool(struct checkup *d, const char *pool)
{
	struct lxd *l = checkup_lxd(d);
	char *e = lxd_escape(pool), *path = xasprintf("/1.0/storage-pools/%s/"
	    "resources", e), *fix;
	json_t *res = NULL, *space;
	double used, total, freep;
	char fs[32], ts[32];

	if (lxd_call(l, "GET", path, NULL, &res) != 0) {
		checkup_row(d, "storage pool", "problem", "lxc storage list "
		    "(then set storage_pool in labcd.conf, or the profile's "
		    "root disk)", "pool %s: %s", pool, lxd_error(l));
		goto out;
	}
	space = json_object_get(res, "space");
	used = json_number_value(json_object_get(space, "used"));
	total = json_number_value(json_object_get(space, "total"));
	if (total <= 0) {
		checkup_row(d, "storage pool", "warn", NULL, "pool %s: LXD "
		    "gives no size", pool);
		goto out;
	}
	freep = 100.0 * (total - used) / total;
	size_text(total - used, fs);
	size_text(total, ts);
	if (freep < POOL_WARN_PERCENT) {
		fix = xasprintf("free space in %s (lxc list --all-projects; "
		    "lxc image list) or grow it (lxc storage set %s size=...)",
		    pool, pool);
		checkup_row(d, "storage pool", "warn", fix, "pool %s: %.1f%% "
		    "free (%s of %s), under %d%%", pool, freep, fs, ts,
		    POOL_WARN_PERCENT);
		free(fix);
	} else
		checkup_row(d, "storage pool", "ok", NULL, "pool %s: %.0f%% "
		    "free (%s of %s)", pool, freep, fs, ts);
out:
	json_decref(res);
	free(path);
	free(e);
}

static void
check_bridge(struct checkup *d, const char *net)
{
	struct lxd *l = checkup_lxd(d);
	char *e = lxd_escape(net), *path = xasprintf("/1.0/networks/%s", e);
	char *fix = NULL;
	json_t *n = NULL, *conf;
	const char *addr, *dhcp, *dns;

	if (lxd_call(l, "GET", path, NULL, &n) != 0) {
		fix = xasprintf("lxc network create %s "
		    "ipv4.address=10.X.Y.1/24 ipv4.nat=true ipv6.address=none "
		    "dns.mode=none (a free subnet), or fix the profiles' nic "
		    "device", net);
		checkup_row(d, "bridge", "problem", fix, "network %s: %s", net,
		    lxd_error(l));
		goto out;
	}
	if (!json_is_true(json_object_get(n, "managed"))) {
		checkup_row(d, "bridge", "warn", NULL, "%s is not managed by "
		    "LXD: DHCP for the containers is up to the host", net);
		goto out;
	}
	conf = json_object_get(n, "config");
	addr = json_string_value(json_object_get(conf, "ipv4.address"));
	dhcp = json_string_value(json_object_get(conf, "ipv4.dhcp"));
	dns = json_string_value(json_object_get(conf, "dns.mode"));
	if (addr == NULL || *addr == '\0' || strcmp(addr, "none") == 0) {
		fix = xasprintf("lxc network set %s ipv4.address=10.X.Y.1/24 "
		    "(a free subnet)", net);
		checkup_row(d, "bridge", "problem", fix, "%s has no IPv4 "
		    "address, so no DHCP: containers get no address", net);
	} else if (dhcp != NULL && strcmp(dhcp, "false") == 0) {
		fix = xasprintf("lxc network set %s ipv4.dhcp=true", net);
		checkup_row(d, "bridge", "problem", fix, "%s has DHCP off "
		    "(ipv4.dhcp=false): containers get no address", net);
	} else if (dns == NULL || strcmp(dns, "none") != 0) {
		fix = xasprintf("lxc network set %s dns.mode=none", net);
		checkup_row(d, "bridge", "warn", fix, "%s (%s, DHCP on) puts "
		    "container names in DNS (dns.mode=%s): two users' "
		    "containers of the same name cannot run at once", net, addr,
		    dns != NULL ? dns : "managed");
	} else
		checkup_row(d, "bridge", "ok", NULL, "%s: %s, DHCP on, "
		    "dns.mode=none", net, addr);
out:
	free(fix);
	json_decref(n);
	free(path);
	free(e);
}

/* Profiles exist; their root pools and bridges, and storage_pool. */
void
lxdconf_doctor(struct checkup *d)
{
	struct op *op = checkup_op(d);
	struct lxd *l = checkup_lxd(d);
	const struct config *cfg = &op->srv->cfg;
	json_t *pools = json_object(), *nets = json_object(), *v;
	const char *k;
	size_t n, i;
	char **names = profile_names(d, &n);

	add_name(pools, cfg->storage_pool);
	for (i = 0; i < n; i++) {
		json_t *prof = NULL, *dev;
		const char *dk;

		if (lxd_profile_get(l, names[i], &prof) != 0) {
			char *fix = xasprintf("lxc profile create %s, or fix "
			    "'profiles' in labcd.conf", names[i]);

			checkup_row(d, "profile", "problem", fix, "profile %s: "
			    "%s", names[i], lxd_error(l));
			free(fix);
			continue;
		}
		json_object_foreach(json_object_get(prof, "devices"), dk, dev) {
			const char *type = json_string_value(json_object_get(
			    dev, "type"));

			if (type != NULL && strcmp(type, "disk") == 0 &&
			    json_string_value(json_object_get(dev, "path")) &&
			    strcmp(json_string_value(json_object_get(dev,
			    "path")), "/") == 0 && *cfg->storage_pool == '\0')
				add_name(pools, json_string_value(
				    json_object_get(dev, "pool")));
			if (type != NULL && strcmp(type, "nic") == 0) {
				add_name(nets, json_string_value(
				    json_object_get(dev, "network")));
				add_name(nets, json_string_value(
				    json_object_get(dev, "parent")));
			}
		}
		json_decref(prof);
	}
	if (json_object_size(pools) == 0)
		checkup_row(d, "storage pool", "problem", "lxc profile device "
		    "add default root disk path=/ pool=POOL, or set "
		    "storage_pool in labcd.conf", "no root disk pool in the "
		    "profiles (%s) and no storage_pool", cfg->profiles);
	json_object_foreach(pools, k, v)
		check_pool(d, k);
	if (json_object_size(nets) == 0)
		checkup_row(d, "bridge", "warn", NULL, "no nic device in the "
		    "profiles (%s): containers have no network", cfg->profiles);
	json_object_foreach(nets, k, v)
		check_bridge(d, k);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	json_decref(pools);
	json_decref(nets);
}

void
lxdconf_image_doctor(struct checkup *d)
{
	struct op *op = checkup_op(d);
	struct lxd *l = checkup_lxd(d);
	const char *img = op->srv->cfg.default_image;
	char *fp = NULL, *fix;

	if (lxd_image_resolve(l, "default", img, &fp) != 0) {
		fix = xasprintf("lxc image alias create %s FINGERPRINT (an "
		    "image of 'lxc image list'), or set default_image in "
		    "labcd.conf", img);
		checkup_row(d, "default image", "problem", fix, "default_image "
		    "%s: %s", img, lxd_error(l));
		free(fix);
		return;
	}
	checkup_row(d, "default image", "ok", NULL, "%s is %.12s", img, fp);
	free(fp);
}
