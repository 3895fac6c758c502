/* lxd-image.c - images and aliases: list, import a tarball, resolve. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lxd-int.h"
#include "xmalloc.h"

int
lxd_image_list(struct lxd *l, const char *project, json_t **out)
{
	char *path = lxd_path(project, "/1.0/images?recursion=1");
	int r = lxd_call(l, "GET", path, NULL, out);

	free(path);
	return r;
}

int
lxd_image_alias_get(struct lxd *l, const char *project, const char *alias,
    char **fingerprint)
{
	char *path = lxd_path(project, "/1.0/images/aliases/%s", alias);
	json_t *meta = NULL;
	const char *fp;
	int r;

	*fingerprint = NULL;
	r = lxd_call(l, "GET", path, NULL, &meta);
	free(path);
	if (r == 0) {
		fp = json_string_value(json_object_get(meta, "target"));
		if (fp == NULL)
			r = lxd_seterr(l, -EPROTO, "image alias %s has no "
			    "target", alias);
		else
			*fingerprint = xstrdup(fp);
	} else if (r == -ENOENT)
		lxd_seterr(l, r, "no image alias '%s'", alias);
	json_decref(meta);
	return r;
}

int
lxd_image_import(struct lxd *l, const char *project, const char *tarball,
    char **fingerprint)
{
	char *path = lxd_path(project, "/1.0/images");
	struct lxd_req rq = {
		.method = "POST", .path = path,
		.content_type = "application/octet-stream",
		.timeout = 1800,
	};
	json_t *meta = NULL;
	struct stat st;
	const char *fp;
	FILE *f;
	int r;

	*fingerprint = NULL;
	if ((f = fopen(tarball, "rb")) == NULL || fstat(fileno(f), &st) != 0) {
		r = lxd_seterr(l, -errno, "cannot read image %s: %s", tarball,
		    strerror(errno));
		if (f != NULL)
			fclose(f);
		free(path);
		return r;
	}
	rq.upload = f;
	rq.upload_size = st.st_size;
	r = lxd_request(l, &rq, &meta, NULL, 0);
	fclose(f);
	free(path);
	if (r == 0) {
		fp = json_string_value(json_object_get(meta, "fingerprint"));
		if (fp != NULL)
			*fingerprint = xstrdup(fp);
		else
			r = lxd_seterr(l, -EPROTO, "LXD imported %s without "
			    "naming its fingerprint", tarball);
	}
	json_decref(meta);
	return r;
}

static int
is_hex(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		if (!isxdigit((unsigned char)*s) || isupper((unsigned char)*s))
			return 0;
	}
	return 1;
}

int
lxd_image_resolve(struct lxd *l, const char *project, const char *ref,
    char **fingerprint)
{
	json_t *meta = NULL;
	char *path;
	const char *fp;
	int r;

	*fingerprint = NULL;
	r = lxd_image_alias_get(l, project, ref, fingerprint);
	if (r != -ENOENT)
		return r;
	if (!is_hex(ref) || strlen(ref) > 64)
		return lxd_seterr(l, -ENOENT, "no image '%s': it is neither an "
		    "alias nor a fingerprint (see the list of images)", ref);
	/* LXD accepts a unique fingerprint prefix here. */
	path = lxd_path(project, "/1.0/images/%s", ref);
	r = lxd_call(l, "GET", path, NULL, &meta);
	free(path);
	if (r == 0) {
		fp = json_string_value(json_object_get(meta, "fingerprint"));
		if (fp != NULL)
			*fingerprint = xstrdup(fp);
		else
			r = lxd_seterr(l, -EPROTO, "image %s has no "
			    "fingerprint", ref);
	} else if (r == -ENOENT)
		lxd_seterr(l, r, "no image '%s': it is neither an alias nor a "
		    "fingerprint (see the list of images)", ref);
	json_decref(meta);
	return r;
}
