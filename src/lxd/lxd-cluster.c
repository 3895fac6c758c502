/*
 * lxd-cluster.c - an LXD cluster as labcd sees it: its members, each
 * member's resources, placing an instance on one and moving it to another.
 * On a server that is not clustered there is one member, the server
 * itself, with no name: callers need not tell the two apart.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lxd-int.h"
#include "xmalloc.h"

int
lxd_clustered(struct lxd *l)
{
	int r;

	if ((r = lxd_connect(l)) != 0)
		return r;
	return l->clustered;
}

int
lxd_cluster_members(struct lxd *l, json_t **out)
{
	int r;

	*out = NULL;
	if ((r = lxd_clustered(l)) < 0)
		return r;
	if (r == 0) {
		*out = json_array();
		return 0;
	}
	if ((r = lxd_call(l, "GET", "/1.0/cluster/members?recursion=1", NULL,
	    out)) == 0 && !json_is_array(*out)) {
		json_decref(*out);
		*out = NULL;
		return lxd_seterr(l, -EPROTO, "LXD at %s answered GET "
		    "/1.0/cluster/members without a list", lxd_where(l));
	}
	return r;
}

int
lxd_resources_of(struct lxd *l, const char *member, json_t **out)
{
	char *path;
	int r;

	if (member == NULL || *member == '\0')
		return lxd_resources(l, out);
	path = lxd_path(NULL, "/1.0/resources?target=%s", member);
	r = lxd_call(l, "GET", path, NULL, out);
	free(path);
	return r;
}

int
lxd_instance_move(struct lxd *l, const char *project, const char *name,
    const char *member)
{
	/* live false: LXD takes a missing "live" as true, a stateful stop. */
	json_t *body = json_pack("{s:s, s:b, s:b}", "name", name, "migration",
	    1, "live", 0);
	char *path = lxd_path(project, "/1.0/instances/%s?target=%s", name,
	    member);
	int r = lxd_call(l, "POST", path, body, NULL);

	free(path);
	json_decref(body);
	return r;
}

int
lxd_instance_unreachable(json_t *inst)
{
	const char *status = json_string_value(json_object_get(inst,
	    "status"));

	/* LXD's stub: instances_get.go, for a member it cannot reach. */
	return status != NULL && strcmp(status, "Error") == 0 &&
	    !json_is_object(json_object_get(inst, "config"));
}

int
lxd_network_create(struct lxd *l, json_t *body)
{
	const char *name = json_string_value(json_object_get(body, "name"));
	json_t *members = NULL, *m, *pending;
	char *path;
	size_t i;
	int r;

	if (name == NULL)
		return lxd_seterr(l, -EINVAL, "a network needs a name");
	if ((r = lxd_cluster_members(l, &members)) != 0)
		return r;
	/* On a cluster: defined on each member first (LXD's "pending"). */
	pending = json_pack("{s:s, s:O}", "name", name, "type",
	    json_object_get(body, "type"));
	json_array_foreach(members, i, m) {
		path = lxd_path(NULL, "/1.0/networks?target=%s",
		    json_string_value(json_object_get(m, "server_name")) ?: "");
		r = lxd_call(l, "POST", path, pending, NULL);
		free(path);
		if (r != 0 && r != -EEXIST)
			break;
		r = 0;
	}
	json_decref(pending);
	json_decref(members);
	if (r == 0)
		r = lxd_call(l, "POST", "/1.0/networks", body, NULL);
	if (r != 0 && json_array_size(members) > 0) {
		char err[sizeof(l->err)];

		/* Nothing pending is left behind. */
		snprintf(err, sizeof(err), "%s", l->err);
		path = lxd_path(NULL, "/1.0/networks/%s", name);
		(void)lxd_call(l, "DELETE", path, NULL, NULL);
		free(path);
		snprintf(l->err, sizeof(l->err), "%s", err);
	}
	return r;
}
