/* lxd-instance.c - instances: create, read, list, state, update, delete. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lxd-int.h"
#include "xmalloc.h"

int
lxd_instance_create(struct lxd *l, const char *project,
    const struct lxd_create *c)
{
	json_t *body, *src, *profiles;
	char *path;
	size_t i;
	int r;

	if ((c->image_alias != NULL) + (c->image_fingerprint != NULL) +
	    (c->copy_of != NULL) != 1)
		return lxd_seterr(l, -EINVAL, "create %s: give exactly one of "
		    "an image alias, fingerprint or instance to copy", c->name);
	if (c->copy_of != NULL) {
		src = json_pack("{s:s, s:s, s:b}", "type", "copy", "source",
		    c->copy_of, "instance_only", 1);
		if (c->copy_project != NULL)
			json_object_set_new(src, "project",
			    json_string(c->copy_project));
	} else if (c->image_alias != NULL)
		src = json_pack("{s:s, s:s}", "type", "image", "alias",
		    c->image_alias);
	else
		src = json_pack("{s:s, s:s}", "type", "image", "fingerprint",
		    c->image_fingerprint);
	body = json_pack("{s:s, s:s, s:o}", "name", c->name, "type",
	    "container", "source", src);
	if (c->profiles != NULL) {
		profiles = json_array();
		for (i = 0; c->profiles[i] != NULL; i++)
			json_array_append_new(profiles,
			    json_string(c->profiles[i]));
		json_object_set_new(body, "profiles", profiles);
	}
	if (c->config != NULL)
		json_object_set(body, "config", c->config);
	if (c->devices != NULL)
		json_object_set(body, "devices", c->devices);
	path = c->target != NULL && *c->target != '\0' ? lxd_path(project,
	    "/1.0/instances?target=%s", c->target) : lxd_path(project,
	    "/1.0/instances");
	r = lxd_call(l, "POST", path, body, NULL);
	free(path);
	json_decref(body);
	return r;
}

int
lxd_instance_rename(struct lxd *l, const char *project, const char *name,
    const char *new_name)
{
	char *path = lxd_path(project, "/1.0/instances/%s", name);
	json_t *body = json_pack("{s:s}", "name", new_name);
	int r = lxd_call(l, "POST", path, body, NULL);

	json_decref(body);
	free(path);
	return r;
}

int
lxd_instance_metadata(struct lxd *l, const char *project, const char *name,
    json_t **out)
{
	char *path = lxd_path(project, "/1.0/instances/%s/metadata", name);
	int r = lxd_call(l, "GET", path, NULL, out);

	free(path);
	return r;
}

int
lxd_instance_get(struct lxd *l, const char *project, const char *name,
    json_t **out)
{
	char *path = lxd_path(project, "/1.0/instances/%s", name);
	int r = lxd_call(l, "GET", path, NULL, out);

	free(path);
	return r;
}

int
lxd_instance_get_full(struct lxd *l, const char *project, const char *name,
    json_t **out)
{
	char *path = lxd_path(project, "/1.0/instances/%s?recursion=1", name);
	int r = lxd_call(l, "GET", path, NULL, out);

	free(path);
	return r;
}

int
lxd_instance_state(struct lxd *l, const char *project, const char *name,
    json_t **out)
{
	char *path = lxd_path(project, "/1.0/instances/%s/state", name);
	int r = lxd_call(l, "GET", path, NULL, out);

	free(path);
	return r;
}

int
lxd_instance_list(struct lxd *l, const char *project, int with_state,
    json_t **out)
{
	char *path;
	int r;

	if (project == NULL)
		path = xasprintf("/1.0/instances?recursion=%d&all-projects=true",
		    with_state ? 2 : 1);
	else
		path = lxd_path(project, with_state ?
		    "/1.0/instances?recursion=2" : "/1.0/instances?recursion=1");
	r = lxd_call(l, "GET", path, NULL, out);
	free(path);
	if (r == 0 && !json_is_array(*out)) {
		json_decref(*out);
		*out = NULL;
		return lxd_seterr(l, -EPROTO, "LXD listed instances without "
		    "a list");
	}
	return r;
}

int
lxd_instance_set_state(struct lxd *l, const char *project, const char *name,
    const char *action, int timeout, int force)
{
	json_t *body = json_pack("{s:s, s:b}", "action", action, "force",
	    force);
	char *path = lxd_path(project, "/1.0/instances/%s/state", name);
	int r;

	if (timeout >= 0)
		json_object_set_new(body, "timeout", json_integer(timeout));
	r = lxd_call(l, "PUT", path, body, NULL);
	json_decref(body);
	free(path);
	return r;
}

int
lxd_instance_shutdown(struct lxd *l, const char *project, const char *name,
    int timeout)
{
	json_t *st = NULL;
	const char *status;
	time_t deadline = time(NULL) + timeout, t0;
	int r = -ETIMEDOUT, slice, left, stopped, again;

	if (timeout <= 0)
		return lxd_instance_set_state(l, project, name, "stop", -1, 0);
	while ((left = (int)(deadline - time(NULL))) > 0) {
		slice = left < LXD_SHUTDOWN_SLICE ? left : LXD_SHUTDOWN_SLICE;
		t0 = time(NULL);
		r = lxd_instance_set_state(l, project, name, "stop", slice, 0);
		if (r == 0 || r == -EALREADY || r == -ENOENT)
			return r;
		/* Refused for another reason than the time: said as is. */
		if (lxd_instance_state(l, project, name, &st) != 0)
			return r;
		status = lxd_state_status(st);
		stopped = status != NULL && strcmp(status, "Stopped") == 0;
		/* Still up, or on its way up or down: signalled again. */
		again = status != NULL && (strcmp(status, "Running") == 0 ||
		    strcmp(status, "Starting") == 0 ||
		    strcmp(status, "Stopping") == 0);
		json_decref(st);
		st = NULL;
		if (stopped)
			return 0;
		if (!again)
			return r;
		if (time(NULL) - t0 < 1)
			sleep(1);	/* refused at once: not a busy loop */
	}
	return r;
}

int
lxd_instance_delete(struct lxd *l, const char *project, const char *name)
{
	char *path = lxd_path(project, "/1.0/instances/%s", name);
	int r = lxd_call(l, "DELETE", path, NULL, NULL);

	free(path);
	return r;
}

int
lxd_instance_patch(struct lxd *l, const char *project, const char *name,
    json_t *patch)
{
	char *path = lxd_path(project, "/1.0/instances/%s", name);
	int r = lxd_call(l, "PATCH", path, patch, NULL);

	free(path);
	return r;
}

static int
drop_device(struct lxd *l, json_t *inst, json_t **put, void *arg)
{
	const char *device = arg;
	json_t *devs = json_object_get(inst, "devices");

	if (json_object_get(devs, device) == NULL)
		return lxd_seterr(l, -ENOENT, "instance %s has no device %s",
		    json_string_value(json_object_get(inst, "name")), device);
	json_object_del(devs, device);
	*put = json_incref(inst);
	return 0;
}

int
lxd_instance_remove_device(struct lxd *l, const char *project,
    const char *name, const char *device)
{
	char *path = lxd_path(project, "/1.0/instances/%s", name);
	int r = lxd_update(l, path, drop_device, (void *)(uintptr_t)device);

	free(path);
	return r;
}

const char *
lxd_state_status(json_t *state)
{
	return json_string_value(json_object_get(state, "status"));
}

const char *
lxd_state_ipv4(json_t *state, const char *iface)
{
	json_t *nets = json_object_get(state, "network"), *nic, *addrs, *a;
	const char *key;
	size_t i;

	json_object_foreach(nets, key, nic) {
		if (iface != NULL ? strcmp(key, iface) != 0 :
		    strcmp(key, "lo") == 0)
			continue;
		addrs = json_object_get(nic, "addresses");
		json_array_foreach(addrs, i, a) {
			const char *fam = json_string_value(json_object_get(a,
			    "family"));
			const char *scope = json_string_value(json_object_get(a,
			    "scope"));

			if (fam != NULL && strcmp(fam, "inet") == 0 &&
			    scope != NULL && strcmp(scope, "global") == 0)
				return json_string_value(json_object_get(a,
				    "address"));
		}
	}
	return NULL;
}
