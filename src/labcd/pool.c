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

char *
pool_root(struct op *op)
{
	const struct config *cfg = &op->srv->cfg;
	char *profiles = xstrdup(cfg->profiles), *save = NULL, *p, *pool = NULL;

	if (*cfg->storage_pool != '\0') {
		free(profiles);
		return xstrdup(cfg->storage_pool);
	}
	for (p = strtok_r(profiles, ",", &save); p != NULL;
	    p = strtok_r(NULL, ",", &save)) {
		json_t *prof = NULL;
		const char *v;

		if (lxd_profile_get(op_lxd(op), p, &prof) == 0 &&
		    (v = json_string_value(json_object_get(json_object_get(
		    json_object_get(prof, "devices"), "root"), "pool"))) !=
		    NULL) {
			free(pool);
			pool = xstrdup(v);
		}
		json_decref(prof);
	}
	free(profiles);
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
