/*
 * lxd-backup.c - LXD's instance backups, streamed: made, exported into a
 * descriptor as the bytes come (never held in memory), deleted; and a
 * backup tarball imported from a descriptor as a new instance.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lxd-int.h"
#include "xmalloc.h"

#define BACKUP_TIMEOUT	(24L * 3600)	/* seconds a transfer may take */

int
lxd_backup_create(struct lxd *l, const char *project, const char *name,
    const char *backup, int snapshots, int optimized, long long expires)
{
	time_t t = (time_t)expires;
	struct tm tm;
	char at[32];
	json_t *body;
	char *path;
	int r;

	gmtime_r(&t, &tm);
	strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
	body = json_pack("{s:s, s:s, s:b, s:b, s:s}", "name", backup,
	    "expires_at", at, "instance_only", !snapshots,
	    "optimized_storage", optimized != 0, "compression_algorithm",
	    "gzip");
	path = lxd_path(project, "/1.0/instances/%s/backups", name);
	r = lxd_call(l, "POST", path, body, NULL);
	free(path);
	json_decref(body);
	return r;
}

int
lxd_backup_export(struct lxd *l, const char *project, const char *name,
    const char *backup, int fd, long long *bytes)
{
	char *path = lxd_path(project, "/1.0/instances/%s/backups/%s/export",
	    name, backup);
	struct lxd_req rq = {
		.method = "GET", .path = path, .sink = 1, .sink_fd = fd,
		.timeout = BACKUP_TIMEOUT, .limit = 1024 * 1024,
	};
	struct lxd_resp rs;
	int r;

	*bytes = 0;
	if ((r = lxd_connect(l)) != 0) {
		free(path);
		return r;
	}
	r = lxd_http(l, &rq, &rs);
	*bytes = rs.moved;
	if (r == 0 && (rs.http < 200 || rs.http > 299)) {
		/* The error came as an envelope, into memory. */
		json_t *m = json_loadb(buf_str(&rs.body), rs.body.len, 0, NULL);
		const char *e = json_string_value(json_object_get(m, "error"));

		r = lxd_seterr(l, rs.http == 404 ? -ENOENT : -EIO, "LXD "
		    "refused the export of %s: %s", name, e != NULL ? e :
		    "HTTP error");
		json_decref(m);
	}
	lxd_resp_free(&rs);
	free(path);
	return r;
}

int
lxd_backup_delete(struct lxd *l, const char *project, const char *name,
    const char *backup)
{
	char *path = lxd_path(project, "/1.0/instances/%s/backups/%s", name,
	    backup);
	int r = lxd_call(l, "DELETE", path, NULL, NULL);

	free(path);
	return r;
}

int
lxd_backup_import(struct lxd *l, const char *project, const char *name,
    const char *pool, int fd, long long max, long long *bytes)
{
	char *path = lxd_path(project, "/1.0/instances");
	struct curl_slist *h = NULL;
	struct lxd_req rq = {
		.method = "POST", .path = path,
		.content_type = "application/octet-stream",
		.source = 1, .source_fd = fd, .source_max = max,
		.timeout = BACKUP_TIMEOUT,
	};
	json_t *out = NULL;
	int r;

	h = lxd_header(l, h, "name", "%s", name);
	if (pool != NULL && *pool != '\0')
		h = lxd_header(l, h, "pool", "%s", pool);
	rq.headers = h;
	*bytes = 0;
	r = lxd_request_moved(l, &rq, &out, NULL, 0, bytes);
	json_decref(out);
	curl_slist_free_all(h);
	free(path);
	return r;
}
