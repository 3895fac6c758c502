/*
 * pool.c - the storage pool of containers' root disks: storage_pool, or
 * the root disk of the profiles; and whether a pool keeps a root disk to
 * its size.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "labcd.h"
#include "lxd.h"
#include "pool.h"
#include "xmalloc.h"

json_t *
pool_profile_root(struct op *op)
{
	const struct config *cfg = &op->srv->cfg;
	char *profiles = xstrdup(cfg->profiles), *save = NULL, *p;
	json_t *root = NULL, *prof, *d;

	for (p = strtok_r(profiles, ",", &save); p != NULL;
	    p = strtok_r(NULL, ",", &save)) {
		prof = NULL;
		if (lxd_profile_get(op_lxd(op), p, &prof) == 0 &&
		    json_is_object(d = json_object_get(json_object_get(prof,
		    "devices"), "root"))) {
			json_decref(root);
			root = json_deep_copy(d);
		}
		json_decref(prof);
	}
	free(profiles);
	return root;
}

char *
pool_root(struct op *op)
{
	const struct config *cfg = &op->srv->cfg;
	json_t *root;
	const char *v;
	char *pool = NULL;

	if (*cfg->storage_pool != '\0')
		return xstrdup(cfg->storage_pool);
	root = pool_profile_root(op);
	if ((v = json_string_value(json_object_get(root, "pool"))) != NULL)
		pool = xstrdup(v);
	json_decref(root);
	return pool;
}

int
pool_enforces(struct lxd *l, const char *pool, char *driver,
    size_t driversz)
{
	char *e = lxd_escape(pool), *path = xasprintf("/1.0/storage-pools/%s",
	    e);
	json_t *p = NULL;
	const char *d;
	int r;

	free(e);
	r = lxd_call(l, "GET", path, NULL, &p);
	free(path);
	if (r != 0)
		return -1;
	d = json_string_value(json_object_get(p, "driver"));
	if (driver != NULL)
		snprintf(driver, driversz, "%s", d != NULL ? d : "?");
	/*
	 * btrfs (qgroups), zfs (quota), lvm and ceph (block sizes) keep a
	 * root disk to its size; dir only on a filesystem with project
	 * quotas, which LXD does not tell through its API.
	 */
	r = d == NULL || strcmp(d, "dir") != 0;
	json_decref(p);
	return r;
}
