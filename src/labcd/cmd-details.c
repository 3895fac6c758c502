/*
 * cmd-details.c - details: everything about your containers, and how to
 * connect. What they are from labcd's view of LXD (view.c); what a running
 * one uses now (memory, disk, CPU time) from LXD, one request each: no
 * event carries it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct.h"
#include "gpu.h"
#include "lxd.h"
#include "project.h"
#include "proto.h"
#include "users.h"
#include "view.h"
#include "xmalloc.h"

static void
human(long long bytes, char *out, size_t outsz)
{
	const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(out, outsz, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
}

/*
 * One container's block of text and its data object: v is labcd's view of
 * it (NULL: LXD has no such instance), state LXD's measure of its use now
 * (NULL unless it runs).
 */
static json_t *
describe(struct ctx *c, const struct ct *ct, const struct view_ct *v,
    json_t *state)
{
	const char *status = v != NULL ? v->status :
	    "missing (deleted outside labcontainers)";
	const char *ip = v != NULL && *v->ipv4 ? v->ipv4 : NULL;
	const char *cpu = v != NULL && *v->cpu ? v->cpu : NULL;
	const char *mem = v != NULL && *v->memory ? v->memory : NULL;
	const char *disk = v != NULL && *v->disk ? v->disk : NULL;
	const char *desc = v != NULL && *v->image ? v->image : NULL;
	const char *fp = v != NULL && *v->fingerprint ? v->fingerprint : NULL;
	long long mem_used = json_integer_value(json_object_get(json_object_get(
	    state, "memory"), "usage"));
	long long disk_used = json_integer_value(json_object_get(
	    json_object_get(json_object_get(state, "disk"), "root"), "usage"));
	long long cpu_ns = json_integer_value(json_object_get(json_object_get(
	    state, "cpu"), "usage"));
	char cmd[160], direct[400], created[32], mu[32], du[32], *gpus;
	json_t *o;

	ct_connect(c, ct->name, ct->port, cmd, sizeof(cmd), direct,
	    sizeof(direct));
	users_time(ct->created, created);
	human(mem_used, mu, sizeof(mu));
	human(disk_used, du, sizeof(du));
	ctx_printf(c, "%s\n", ct->name);
	ctx_printf(c, "  state:    %s\n", *status ? status : "?");
	ctx_printf(c, "  ipv4:     %s\n", ip ? ip : "-");
	ctx_printf(c, "  ssh port: %d\n", ct->port);
	ctx_printf(c, "  connect:  %s    (see 'help ssh-config')\n", cmd);
	if (*direct != '\0')
		ctx_printf(c, "  direct:   %s\n", direct);
	ctx_printf(c, "  image:    %s%s%s%s%s%.12s\n", ct->image,
	    desc ? " (" : "", desc ? desc : "", desc ? ")" : "",
	    fp ? ", " : "", fp ? fp : "");
	ctx_printf(c, "  cpu:      %s, used %.1f s\n", cpu ? cpu : "no limit",
	    (double)cpu_ns / 1e9);
	ctx_printf(c, "  memory:   %s, used %s\n", mem ? mem : "no limit", mu);
	ctx_printf(c, "  disk:     %s, used %s\n", disk ? disk : "no limit", du);
	gpus = gpu_of_container(ctx_op(c), ct->id);
	ctx_printf(c, "  gpus:     %s\n", *gpus ? gpus : "none");
	ctx_printf(c, "  created:  %s UTC\n", created);
	o = json_pack("{s:s, s:s, s:s?, s:i, s:s, s:s, s:s?, s:s?, s:s?, "
	    "s:s?, s:I, s:I, s:I, s:s, s:s, s:s?}", "name", ct->name, "state",
	    *status ? status : "?", "ipv4", ip, "port", ct->port, "ssh", cmd,
	    "image", ct->image, "fingerprint", fp, "cpu", cpu, "memory", mem,
	    "disk", disk, "memory_used", (json_int_t)mem_used, "disk_used",
	    (json_int_t)disk_used, "cpu_ns", (json_int_t)cpu_ns, "created",
	    created, "gpus", gpus, "ssh_direct", *direct ? direct : NULL);
	free(gpus);
	return o;
}

static int
cmd_details_exec(struct ctx *c)
{
	json_t *out = json_array();
	char project[64];
	struct ct *cts;
	struct view_ct *insts;
	size_t j, ncts, ninsts;
	int k, n = 0, status = PROTO_OK;

	for (k = 0; k < c->args.argc; k++) {
		struct ct ct;

		if (ct_find(c, c->args.argv[k], &ct) != 0)
			status = PROTO_FAILED;
	}
	if (status != PROTO_OK) {
		json_decref(out);
		return status;
	}
	project_of(ctx_op(c), c->id.user_id, c->id.user, project);
	if (view_instances(ctx_op(c), project, &insts, &ninsts) != 0) {
		json_decref(out);
		return ctx_fail(c, ctx_op(c));
	}
	ctdb_list(c->db, c->id.user_id, 0, &cts, &ncts);
	for (j = 0; j < ncts; j++) {
		const char *name = cts[j].name;
		const struct view_ct *v;
		json_t *state = NULL;
		struct ct ct = cts[j];
		int want = c->args.argc == 0;

		for (k = 0; k < c->args.argc; k++)
			want |= strcmp(c->args.argv[k], name) == 0;
		if (!want)
			continue;
		v = view_lookup(insts, ninsts, project, name);
		/* Its use now: LXD measures it, no event says it. */
		if (v != NULL && strcmp(v->status, "Running") == 0 &&
		    lxd_instance_state(ctx_lxd(c), project, name, &state) != 0) {
			json_decref(state);
			state = NULL;
		}
		if (n++ > 0)
			ctx_printf(c, "\n");
		json_array_append_new(out, describe(c, &ct, v, state));
		json_decref(state);
	}
	free(cts);
	free(insts);
	if (n == 0)
		ctx_printf(c, "You have no containers: 'launch NAME' makes "
		    "one.\n");
	c->data = json_pack("{s:o}", "containers", out);
	return PROTO_OK;
}

const struct cmd_entry cmd_details_entry = {
	.name = "details",
	.args = "[NAME...]",
	.summary = "show a container's state, address, port, limits and use",
	.help = "Without NAME, all your containers.",
	.flags = CMD_USER | CMD_READONLY | CMD_NOAUDIT,
	.min_args = 0, .max_args = 64,
	.exec = cmd_details_exec,
};
