/* lxd-files.c - the files API (push, read, mkdir) and exec with output. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lxd-int.h"
#include "xmalloc.h"

/* Does path exist in the instance? 1 yes, 0 no, or a negative error. */
static int
path_exists(struct lxd *l, const char *project, const char *name,
    const char *path)
{
	char *p = lxd_path(project, "/1.0/instances/%s/files?path=%s", name,
	    path);
	struct lxd_req rq = { .method = "GET", .path = p, .limit = 1 << 20 };
	struct lxd_envelope env;
	struct lxd_resp rs;
	int r;

	r = lxd_http(l, &rq, &rs);
	free(p);
	if (r == 0 && rs.http == 200)
		r = 1;
	else if (r == 0) {
		r = lxd_envelope_parse(buf_str(&rs.body), rs.body.len, rs.http,
		    &env, l->err, sizeof(l->err));
		lxd_envelope_clear(&env);
		if (r == -ENOENT)
			r = 0;
		else if (r == 0)
			r = lxd_seterr(l, -EPROTO, "LXD answered HTTP %ld "
			    "reading %s", rs.http, path);
	} else if (r == -E2BIG)
		r = 1;			/* a big file: it exists */
	lxd_resp_free(&rs);
	return r;
}

static int
post_file(struct lxd *l, const char *project, const char *name,
    const char *path, const char *type, const void *data, size_t len,
    int uid, int gid, int mode)
{
	char *p = lxd_path(project, "/1.0/instances/%s/files?path=%s", name,
	    path);
	struct lxd_req rq = {
		.method = "POST", .path = p,
		.body = data != NULL ? data : "", .body_len = len,
		.content_type = "application/octet-stream",
	};
	struct curl_slist *h = NULL;
	int r;

	h = lxd_header(l, h, "type", "%s", type);
	h = lxd_header(l, h, "uid", "%d", uid);
	h = lxd_header(l, h, "gid", "%d", gid);
	/* LXD parses the mode with base detection: keep the leading 0. */
	h = lxd_header(l, h, "mode", "0%o", (unsigned)mode & 07777);
	if (strcmp(type, "file") == 0)
		h = lxd_header(l, h, "write", "overwrite");
	rq.headers = h;
	r = lxd_request(l, &rq, NULL, NULL, 0);
	curl_slist_free_all(h);
	free(p);
	return r;
}

int
lxd_mkdir(struct lxd *l, const char *project, const char *name,
    const char *path, int uid, int gid, int mode)
{
	int r;

	if ((r = lxd_connect(l)) != 0)
		return r;
	if ((r = path_exists(l, project, name, path)) < 0)
		return r;
	if (r == 1)
		return 0;
	return post_file(l, project, name, path, "directory", NULL, 0, uid,
	    gid, mode);
}

int
lxd_file_push(struct lxd *l, const char *project, const char *name,
    const char *path, const void *data, size_t len, int uid, int gid,
    int mode, int flags)
{
	int r;

	if (path[0] != '/')
		return lxd_seterr(l, -EINVAL, "file path %s is not absolute",
		    path);
	if ((r = lxd_connect(l)) != 0)
		return r;
	if (flags & LXD_FILE_MKDIRS) {
		char *dir = xstrdup(path), *slash;

		/* Create each missing parent, outermost first. */
		for (slash = strchr(dir + 1, '/'); slash != NULL;
		    slash = strchr(slash + 1, '/')) {
			*slash = '\0';
			/* Directories open to whoever may read the file. */
			r = lxd_mkdir(l, project, name, dir, uid, gid, 0700 |
			    (mode & 0040 ? 0050 : 0) | (mode & 0004 ? 0005 : 0));
			*slash = '/';
			if (r != 0)
				break;
		}
		free(dir);
		if (r != 0)
			return r;
	}
	return post_file(l, project, name, path, "file", data, len, uid, gid,
	    mode);
}

int
lxd_file_get(struct lxd *l, const char *project, const char *name,
    const char *path, size_t limit, char **data, size_t *len)
{
	return lxd_file_read(l, project, name, path, limit, data, len, NULL,
	    0);
}

int
lxd_file_read(struct lxd *l, const char *project, const char *name,
    const char *path, size_t limit, char **data, size_t *len, char *type,
    size_t typesz)
{
	char *p = lxd_path(project, "/1.0/instances/%s/files?path=%s", name,
	    path);
	struct lxd_req rq = { .method = "GET", .path = p, .limit = limit };
	struct lxd_envelope env;
	struct lxd_resp rs;
	int r;

	*data = NULL;
	if (len != NULL)
		*len = 0;
	if (type != NULL && typesz > 0)
		*type = '\0';
	if ((r = lxd_connect(l)) != 0 || (r = lxd_http(l, &rq, &rs)) != 0)
		goto out;
	if (rs.http != 200) {
		r = lxd_envelope_parse(buf_str(&rs.body), rs.body.len, rs.http,
		    &env, l->err, sizeof(l->err));
		lxd_envelope_clear(&env);
		if (r == 0)
			r = lxd_seterr(l, -EIO, "reading %s failed (HTTP %ld)",
			    path, rs.http);
		goto out;
	}
	if (len != NULL)
		*len = rs.body.len;
	if (type != NULL)
		snprintf(type, typesz, "%s", rs.ftype);
	*data = buf_steal(&rs.body);
out:
	lxd_resp_free(&rs);
	free(p);
	return r;
}

/* GET one exec log (a raw body, not an envelope), then DELETE it. */
static int
fetch_log(struct lxd *l, const char *project, const char *url, char **text)
{
	char *p = xasprintf("%s%cproject=%s", url, strchr(url, '?') ? '&' :
	    '?', project != NULL ? project : "default");
	struct lxd_req rq = { .method = "GET", .path = p };
	struct lxd_resp rs;
	int r;

	if ((r = lxd_http(l, &rq, &rs)) == 0 && rs.http != 200)
		r = lxd_seterr(l, -EIO, "LXD did not give the exec output %s "
		    "(HTTP %ld)", url, rs.http);
	if (r == 0 && text != NULL)
		*text = buf_steal(&rs.body);
	lxd_resp_free(&rs);
	(void)lxd_call(l, "DELETE", p, NULL, NULL);
	free(p);
	return r;
}

int
lxd_exec(struct lxd *l, const char *project, const char *name,
    const char *const *argv, int *status, char **out, char **err)
{
	json_t *body, *cmd = json_array(), *meta = NULL, *output;
	char *path;
	size_t i;
	int r;

	if (out != NULL)
		*out = NULL;
	if (err != NULL)
		*err = NULL;
	for (i = 0; argv[i] != NULL; i++)
		json_array_append_new(cmd, json_string(argv[i]));
	body = json_pack("{s:o, s:b, s:b, s:b, s:{s:s, s:s}}",
	    "command", cmd, "wait-for-websocket", 0, "interactive", 0,
	    "record-output", out != NULL || err != NULL, "environment",
	    "HOME", "/root", "PATH",
	    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	path = lxd_path(project, "/1.0/instances/%s/exec", name);
	r = lxd_call(l, "POST", path, body, &meta);
	free(path);
	json_decref(body);
	if (r != 0)
		return r;
	*status = (int)json_integer_value(json_object_get(meta, "return"));
	output = json_object_get(meta, "output");
	if (json_is_string(json_object_get(output, "1")))
		r = fetch_log(l, project, json_string_value(json_object_get(
		    output, "1")), out);
	if (r == 0 && json_is_string(json_object_get(output, "2")))
		r = fetch_log(l, project, json_string_value(json_object_get(
		    output, "2")), err);
	json_decref(meta);
	if (r == 0) {
		if (out != NULL && *out == NULL)
			*out = xstrdup("");
		if (err != NULL && *err == NULL)
			*err = xstrdup("");
	}
	return r;
}
