/*
 * sizes.c - a container's CPU, memory and disk limits as one line, read
 * from LXD's view of the instance, and whether a storage pool keeps a
 * root disk to its size (LXD's dir driver silently does not).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu.h"
#include "proto.h"
#include "sizes.h"
#include "xmalloc.h"

/* "16GiB" -> "16 GiB"; plain bytes in binary units; else as it is. */
static void
size_text(const char *v, char *out, size_t outsz)
{
	size_t n = strspn(v, "0123456789.");

	if (n > 0 && v[n] == '\0') {
		const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
		double d = strtod(v, NULL);
		int u = 0;

		while (d >= 1024 && u < 5) {
			d /= 1024;
			u++;
		}
		snprintf(out, outsz, d == (long long)d ? "%.0f %s" : "%.1f %s",
		    d, units[u]);
	} else if (n > 0 && strchr("kKMGTPE", v[n]) != NULL)
		snprintf(out, outsz, "%.*s %s", (int)n, v, v + n);
	else
		snprintf(out, outsz, "%s", v);
}

int
sizes_pool_enforces(struct lxd *l, const char *pool, char *driver,
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

int
sizes_disk_refused(struct ctx *c, const char *pool, const char *what,
    const char *fix)
{
	char driver[32];

	switch (sizes_pool_enforces(ctx_lxd(c), pool, driver,
	    sizeof(driver))) {
	case 1:
		return PROTO_OK;
	case 0:
		return ctx_error(c, "%s cannot be enforced: containers are "
		    "made on the storage pool %s, a '%s' pool, where LXD "
		    "ignores a root disk size and a container can fill the "
		    "whole disk. Nothing was changed. %s", what, pool, driver,
		    fix);
	default:
		return ctx_error(c, "%s: cannot tell whether the storage pool "
		    "%s enforces a disk size: %s", what, pool,
		    ctx_lxd_error(c));
	}
}

/* "GPUs 0,2 (GPU 0 and 1 inside)", "GPU 2 (GPU 0 inside)", "no GPUs". */
static void
gpus_text(struct ctx *c, const struct ct *ct, struct buf *b)
{
	sqlite3_stmt *st = db_prepare(c->db, "SELECT DISTINCT gpu FROM gpus "
	    "WHERE container_id = ? ORDER BY gpu");
	struct buf host = BUF_INIT(0);
	char inside[48];
	size_t n = 0;

	sqlite3_bind_int64(st, 1, ct->id);
	while (sqlite3_step(st) == SQLITE_ROW)
		buf_printf(&host, "%s%d", n++ ? "," : "",
		    sqlite3_column_int(st, 0));
	sqlite3_finalize(st);
	if (n == 0)
		buf_adds(b, "no GPUs");
	else {
		gpu_inside(n, inside, sizeof(inside));
		buf_printf(b, "GPU%s %s (%s)", n > 1 ? "s" : "",
		    buf_str(&host), inside);
	}
	buf_free(&host);
}

void
sizes_line(struct ctx *c, const struct ct *ct, json_t *inst, struct buf *b)
{
	json_t *conf = json_object_get(inst, "expanded_config");
	json_t *root = json_object_get(json_object_get(inst,
	    "expanded_devices"), "root");
	const char *cpu = json_string_value(json_object_get(conf, "limits.cpu"));
	const char *mem = json_string_value(json_object_get(conf,
	    "limits.memory"));
	const char *disk = json_string_value(json_object_get(root, "size"));
	const char *pool = json_string_value(json_object_get(root, "pool"));
	char t[64];

	if (cpu == NULL || *cpu == '\0')
		buf_adds(b, "no limit on CPUs, ");
	else if (strspn(cpu, "0123456789") == strlen(cpu))
		buf_printf(b, "%s CPU%s, ", cpu, strcmp(cpu, "1") ? "s" : "");
	else
		buf_printf(b, "CPUs %s, ", cpu);	/* pinned: "0-3", "1,3" */
	if (mem == NULL || *mem == '\0')
		buf_adds(b, "no limit on memory, ");
	else {
		size_text(mem, t, sizeof(t));
		buf_printf(b, "%s memory, ", t);
	}
	if (disk == NULL || *disk == '\0')
		buf_adds(b, "no limit on disk, ");
	else {
		char driver[32];

		size_text(disk, t, sizeof(t));
		buf_printf(b, "%s disk", t);
		if (pool != NULL && sizes_pool_enforces(ctx_lxd(c), pool,
		    driver, sizeof(driver)) == 0)
			buf_printf(b, " (not enforced on the %s pool %s)",
			    driver, pool);
		buf_adds(b, ", ");
	}
	gpus_text(c, ct, b);
}

int
sizes_line_get(struct ctx *c, const struct ct *ct, struct buf *b)
{
	char project[64];
	json_t *inst = NULL;

	ct_project_of(c, ct->user_id, c->id.user, project);
	if (lxd_instance_get(ctx_lxd(c), project, ct->name, &inst) != 0) {
		buf_printf(b, "limits unknown (%s)", ctx_lxd_error(c));
		return -1;
	}
	sizes_line(c, ct, inst, b);
	json_decref(inst);
	return 0;
}
