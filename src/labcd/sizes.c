/*
 * sizes.c - a container's CPU, memory and disk limits as one line, read
 * from LXD's view of the instance, and the refusal of a disk size that
 * a pool would not keep (LXD's dir driver silently does not); btrfs
 * pools kept enforcing sizes; doctor's checks of both (sizes_doctor).
 */
#include <sys/ioctl.h>
#include <sys/statfs.h>

#include <linux/btrfs.h>
#include <linux/magic.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkup.h"
#include "db-gpus.h"
#include "gpu.h"
#include "log.h"
#include "pool.h"
#include "project.h"
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
sizes_disk_refused(struct op *op, const char *pool, const char *what,
    const char *fix)
{
	char driver[32];

	switch (pool_enforces(op_lxd(op), pool, driver,
	    sizeof(driver))) {
	case 1:
		return PROTO_OK;
	case 0:
		return op_error(op, "%s cannot be enforced: containers are "
		    "made on the storage pool %s, a '%s' pool, where LXD "
		    "ignores a root disk size and a container can fill the "
		    "whole disk. Nothing was changed. %s", what, pool, driver,
		    fix);
	default:
		return op_error(op, "%s: cannot tell whether the storage pool "
		    "%s enforces a disk size: %s", what, pool,
		    op_lxd_error(op));
	}
}

/* "GPUs 0,2 (GPU 0 and 1 inside)", "GPU 2 (GPU 0 inside)", "no GPUs". */
static void
gpus_text(struct op *op, const struct ct *ct, struct buf *b)
{
	struct buf host = BUF_INIT(0);
	struct gpu_use *u;
	char inside[48];
	size_t i, n = gpudb_of_container(op->db, ct->id, &u);

	long long end = 0;
	char until[64];

	for (i = 0; i < n; i++) {
		buf_printf(&host, "%s%d", i ? "," : "", u[i].gpu);
		if (u[i].lease_end > 0 && (end == 0 || u[i].lease_end < end))
			end = u[i].lease_end;
	}
	free(u);
	if (n == 0)
		buf_adds(b, "no GPUs");
	else {
		gpu_inside(n, inside, sizeof(inside));
		buf_printf(b, "GPU%s %s (%s", n > 1 ? "s" : "",
		    buf_str(&host), inside);
		if (end > 0) {
			gpu_until("until", end, until, sizeof(until));
			buf_printf(b, "; %s", until);
		}
		buf_adds(b, ")");
	}
	buf_free(&host);
}

void
sizes_line(struct op *op, const struct ct *ct, json_t *inst, struct buf *b)
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
		if (pool != NULL && pool_enforces(op_lxd(op), pool,
		    driver, sizeof(driver)) == 0)
			buf_printf(b, " (not enforced on the %s pool %s)",
			    driver, pool);
		buf_adds(b, ", ");
	}
	gpus_text(op, ct, b);
}

int
sizes_line_get(struct op *op, const struct ct *ct, struct buf *b)
{
	char project[64];
	json_t *inst = NULL;

	project_of(op, ct->user_id, op->actor->user, project);
	if (lxd_instance_get(op_lxd(op), project, ct->name, &inst) != 0) {
		buf_printf(b, "limits unknown (%s)", op_lxd_error(op));
		return -1;
	}
	sizes_line(op, ct, inst, b);
	json_decref(inst);
	return 0;
}

/*
 * btrfs pools. btrfs stops enforcing every size limit (qgroup) the moment
 * its quota accounting is marked inconsistent, until a rescan; since Linux
 * 6.8 it marks it so whenever a subvolume whose tree is drop_subtree_threshold
 * (default 3) levels deep or more is deleted: deleting one container of a few
 * hundred MiB lifts the disk limits of all the others, silently. Setting the
 * threshold to the deepest tree (8) makes deletes account in full. These
 * look at what LXD has mounted under <LXD's dir>/storage-pools.
 */
#define BTRFS_DEEPEST	8

/* The sysfs directory of the btrfs mounted at dirfd, or -1. */
static int
btrfs_sysfs(int dirfd, char *sys, size_t syssz)
{
	struct btrfs_ioctl_fs_info_args fi;
	const unsigned char *u = fi.fsid;
	struct statfs sf;

	if (fstatfs(dirfd, &sf) != 0 || sf.f_type != BTRFS_SUPER_MAGIC)
		return -1;
	memset(&fi, 0, sizeof(fi));
	if (ioctl(dirfd, BTRFS_IOC_FS_INFO, &fi) != 0)
		return -1;
	snprintf(sys, syssz, "/sys/fs/btrfs/%02x%02x%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x-%02x%02x%02x%02x%02x%02x/qgroups", u[0], u[1], u[2], u[3],
	    u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
	    u[14], u[15]);
	return 0;
}

/* A small number from a sysfs file, or -1. */
static int
sysfs_int(const char *dir, const char *name)
{
	char path[PATH_MAX], v[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, v, sizeof(v) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	v[n] = '\0';
	return atoi(v);
}

/*
 * Call fn for each btrfs pool with quotas on (a pool with none holds no
 * size yet): its name, path, sysfs directory and an open directory fd.
 */
static void
btrfs_pools(struct lxd *l, void (*fn)(const char *, const char *,
    const char *, int, void *), void *arg)
{
	char *top = lxd_pools_dir(l, NULL);
	DIR *d;
	struct dirent *de;

	if (top == NULL)
		return;
	if ((d = opendir(top)) == NULL) {
		free(top);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		char path[PATH_MAX], sys[128];
		int fd;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", top, de->d_name);
		fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd == -1)
			continue;
		if (btrfs_sysfs(fd, sys, sizeof(sys)) == 0 &&
		    access(sys, F_OK) == 0)
			fn(de->d_name, path, sys, fd, arg);
		close(fd);
	}
	closedir(d);
	free(top);
}

static void
mend_one(const char *pool, const char *path, const char *sys, int fd,
    void *arg)
{
	char f[160];
	int t = sysfs_int(sys, "drop_subtree_threshold");

	(void)arg;
	if (t >= 0 && t < BTRFS_DEEPEST) {
		int w;

		snprintf(f, sizeof(f), "%s/drop_subtree_threshold", sys);
		if ((w = open(f, O_WRONLY | O_CLOEXEC)) == -1 ||
		    write(w, "8\n", 2) != 2)
			log_warn("btrfs pool %s: cannot make deletes keep its "
			    "quota accounting (%s: %s); deleting a container may "
			    "lift every disk limit on it until a rescan ('labc "
			    "admin doctor' says)", pool, f, strerror(errno));
		else
			log_info("btrfs pool %s: deletes now keep its quota "
			    "accounting (drop_subtree_threshold %d -> 8)", pool,
			    t);
		if (w != -1)
			close(w);
	}
	if (sysfs_int(sys, "inconsistent") == 1) {
		struct btrfs_ioctl_quota_rescan_args a;

		memset(&a, 0, sizeof(a));
		if (ioctl(fd, BTRFS_IOC_QUOTA_RESCAN, &a) == 0)
			log_warn("btrfs pool %s: its quota accounting was "
			    "inconsistent, so no disk limit held: rescanning "
			    "%s", pool, path);
		else if (errno != EINPROGRESS)
			log_warn("btrfs pool %s: its quota accounting is "
			    "inconsistent, so no disk limit holds, and labcd "
			    "cannot rescan it (%s): run 'btrfs quota rescan %s'",
			    pool, strerror(errno), path);
	}
}

void
sizes_btrfs_mend(struct lxd *l)
{
	btrfs_pools(l, mend_one, NULL);
}

struct btrfs_look {
	struct buf	*warn, *fix;
};

static void
look_one(const char *pool, const char *path, const char *sys, int fd,
    void *arg)
{
	struct btrfs_look *k = arg;
	int t = sysfs_int(sys, "drop_subtree_threshold");

	(void)fd;
	if (sysfs_int(sys, "inconsistent") == 1) {
		buf_printf(k->warn, "%sbtrfs pool %s has its quota accounting "
		    "marked inconsistent: it enforces no disk limit until a "
		    "rescan", k->warn->len > 0 ? "; " : "", pool);
		buf_printf(k->fix, "%sbtrfs quota rescan -w %s",
		    k->fix->len > 0 ? "; " : "", path);
	}
	if (t >= 0 && t < BTRFS_DEEPEST) {
		buf_printf(k->warn, "%sdeleting a container on btrfs pool %s "
		    "can lift every disk limit on it (drop_subtree_threshold "
		    "%d)", k->warn->len > 0 ? "; " : "", pool, t);
		buf_printf(k->fix, "%secho 8 > %s/drop_subtree_threshold "
		    "(labcd does it when it runs as root without the systemd "
		    "sandbox; again after each mount)", k->fix->len > 0 ?
		    "; " : "", sys);
	}
}

void
sizes_btrfs_check(struct lxd *l, struct buf *warn, struct buf *fix)
{
	struct btrfs_look k = { warn, fix };

	btrfs_pools(l, look_one, &k);
}

#define QUOTAS_SHOWN		8	/* disk quotas named in the detail */

/*
 * Disk limits on a pool that does not enforce them (dir): default_disk,
 * quota_disk and the disk quotas of lab users' projects promise a size
 * that a container can write past.
 */
static void
check_disk_limits(struct checkup *d)
{
	struct op *op = checkup_op(d);
	struct lxd *l = checkup_lxd(d);
	const struct config *cfg = &op->srv->cfg;
	const char *prefix = cfg->project_prefix, *v;
	char *pool = pool_root(op), driver[32];
	struct buf what = BUF_INIT(0);
	json_t *projects = NULL, *p;
	size_t i, n = 0;

	if (pool == NULL || pool_enforces(l, pool, driver, sizeof(driver)) != 0)
		goto out;	/* none: lxdconf_doctor says so; else fine */
	if (*cfg->default_disk != '\0')
		buf_printf(&what, "; default_disk = %s", cfg->default_disk);
	if (*cfg->quota_disk != '\0')
		buf_printf(&what, "; quota_disk = %s", cfg->quota_disk);
	if (lxd_project_list(l, &projects) == 0) {
		json_array_foreach(projects, i, p) {
			json_t *conf = json_object_get(p, "config");
			const char *name = json_string_value(json_object_get(p,
			    "name"));

			v = json_string_value(json_object_get(conf,
			    "limits.disk"));
			if (name == NULL || strncmp(name, prefix,
			    strlen(prefix)) != 0 || json_object_get(conf,
			    PROJECT_OWNER_KEY) == NULL || v == NULL || *v == '\0')
				continue;
			if (n++ < QUOTAS_SHOWN)
				buf_printf(&what, "; %s's disk quota %s",
				    json_string_value(
				    json_object_get(conf, PROJECT_OWNER_KEY)), v);
		}
		if (n > QUOTAS_SHOWN)
			buf_printf(&what, " and %zu more", n - QUOTAS_SHOWN);
	}
	if (what.len > 0)
		checkup_row(d, "disk limits", "warn", SIZES_POOL_FIX,
		    "containers are made on pool %s (%s), which does not "
		    "enforce disk sizes, yet disk limits are configured: %s",
		    pool, driver, buf_str(&what) + 2);
	else
		checkup_row(d, "disk limits", "ok", NULL, "pool %s (%s) does "
		    "not enforce disk sizes, and none is configured (--disk "
		    "and disk= quotas are refused there)", pool, driver);
out:
	json_decref(projects);
	buf_free(&what);
	free(pool);
}

/* btrfs enforces no size while its quota accounting is inconsistent. */
static void
check_btrfs_quota(struct checkup *d)
{
	struct lxd *l = checkup_lxd(d);
	struct buf warn = BUF_INIT(0), fix = BUF_INIT(0);

	sizes_btrfs_check(l, &warn, &fix);
	if (warn.len > 0)
		checkup_row(d, "disk limits", "warn", buf_str(&fix), "%s",
		    buf_str(&warn));
	buf_free(&warn);
	buf_free(&fix);
}

void
sizes_doctor(struct checkup *d)
{
	check_disk_limits(d);
	check_btrfs_quota(d);
}
