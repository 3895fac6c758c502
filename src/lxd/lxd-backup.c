/*
 * lxd-backup.c - LXD's instance backups, streamed: made, exported into a
 * descriptor as the bytes come (never held in memory), deleted; and a
 * backup tarball imported from a descriptor as a new instance.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zlib.h>

#include "lxd-int.h"
#include "xmalloc.h"

#define BACKUP_TIMEOUT	(24L * 3600)	/* seconds a transfer may take */
#define UNPACK_SCRATCH	(256 * 1024)	/* inflate's output, dropped */
#define TAR_MAGIC_AT	257		/* "ustar" in a tar header */
#define TAR_MAGIC_END	(TAR_MAGIC_AT + 5)

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
		/* The error came as an envelope, into memory: read as every
		   other answer is, its errno from LXD's words. */
		struct lxd_envelope env;
		char msg[512] = "";

		r = lxd_envelope_parse(buf_str(&rs.body), rs.body.len,
		    rs.http, &env, msg, sizeof(msg));
		if (r == 0)	/* a success envelope with an HTTP error */
			r = lxd_errno_from_http(rs.http);
		lxd_envelope_clear(&env);
		r = lxd_seterr(l, r, "LXD refused the export of %s: %s", name,
		    msg[0] != '\0' ? msg : "HTTP error");
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

/*
 * What an import lets through: a gzip stream (what export and lxc export
 * write by default) counted as it unpacks, or a plain tar; the unpacked
 * bytes at most max. A gzip of zeros a thousand times its size would fill
 * the pool before any quota of LXD's applied.
 */
struct unpacked {
	z_stream	 z;
	int		 kind;		/* 0: not known yet; 'z', 't' */
	int		 zinit;
	unsigned char	 head[TAR_MAGIC_END];
	size_t		 nhead;
	long long	 out, max;
	unsigned char	*scratch;
};

/* Inflate n bytes of p, counting (and dropping) what comes out. */
static int
unpacked_gzip(struct unpacked *u, const unsigned char *p, size_t n)
{
	int zr;

	u->z.next_in = (unsigned char *)(uintptr_t)p;
	u->z.avail_in = (uInt)n;
	while (u->z.avail_in > 0) {
		u->z.next_out = u->scratch;
		u->z.avail_out = UNPACK_SCRATCH;
		zr = inflate(&u->z, Z_NO_FLUSH);
		u->out += UNPACK_SCRATCH - u->z.avail_out;
		if (u->max > 0 && u->out > u->max)
			return -EFBIG;
		if (zr == Z_STREAM_END) {
			/* Another member may follow (pigz, cat a.gz b.gz). */
			if (inflateReset(&u->z) != Z_OK)
				return -EBADMSG;
			continue;
		}
		if (zr == Z_BUF_ERROR && u->z.avail_out > 0)
			break;	/* wants more input */
		if (zr != Z_OK)
			return -EBADMSG;
	}
	return 0;
}

static int
unpacked_check(void *arg, const void *data, size_t n)
{
	struct unpacked *u = arg;
	const unsigned char *p = data;
	size_t take;
	int r;

	if (u->kind == 0) {
		take = sizeof(u->head) - u->nhead < n ? sizeof(u->head) -
		    u->nhead : n;
		memcpy(u->head + u->nhead, p, take);
		u->nhead += take;
		if (u->nhead >= 2 && u->head[0] == 0x1f && u->head[1] == 0x8b) {
			if (inflateInit2(&u->z, 16 + MAX_WBITS) != Z_OK)
				return -ENOMEM;
			u->zinit = 1;
			u->kind = 'z';
			/* What was held back, then the rest of this chunk. */
			if ((r = unpacked_gzip(u, u->head, u->nhead)) != 0)
				return r;
			return unpacked_gzip(u, p + take, n - take);
		}
		if (u->nhead < sizeof(u->head))
			return 0;	/* not enough to tell yet */
		if (memcmp(u->head + TAR_MAGIC_AT, "ustar", 5) != 0)
			return -ENOEXEC;
		u->kind = 't';
		u->out = (long long)u->nhead;
		p += take;
		n -= take;
	}
	if (u->kind == 'z')
		return unpacked_gzip(u, p, n);
	u->out += (long long)n;
	return u->max > 0 && u->out > u->max ? -EFBIG : 0;
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
		.source_check = unpacked_check,
	};
	struct unpacked u = { .max = max };
	json_t *out = NULL;
	int r;

	u.scratch = xmalloc(UNPACK_SCRATCH);
	rq.source_arg = &u;

	h = lxd_header(l, h, "name", "%s", name);
	if (pool != NULL && *pool != '\0')
		h = lxd_header(l, h, "pool", "%s", pool);
	rq.headers = h;
	*bytes = 0;
	r = lxd_request_moved(l, &rq, &out, NULL, 0, bytes);
	if (u.kind == 0)	/* fewer bytes than a tar header */
		r = lxd_seterr(l, -ENOEXEC, "the import of %s: %lld bytes, too "
		    "short to tell what they are", name, *bytes);
	json_decref(out);
	if (u.zinit)
		inflateEnd(&u.z);
	free(u.scratch);
	curl_slist_free_all(h);
	free(path);
	return r;
}
