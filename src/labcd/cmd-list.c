/*
 * cmd-list.c - list: your containers (or everyone's with --all, for
 * admins), from labcd's view of LXD (view.c): no LXD request while the
 * view follows LXD's events, else one, plus one for the DHCP leases of
 * each (project, network) among the running ones.
 *
 * The address shown is the container's DHCP lease, LXD's record, not what
 * the container says about itself.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "ct.h"
#include "project.h"
#include "proto.h"
#include "view.h"
#include "xmalloc.h"

/*
 * "running" from "Running"; "missing" when LXD has no such instance;
 * "unreachable" when its server is down (then its last known state is
 * not known to be true).
 */
static void
state_word(const struct view_ct *v, const struct cluster_member *m,
    size_t nm, char *out, size_t outsz)
{
	const struct cluster_member *at;
	size_t i;

	if (v != NULL && (v->unreachable || ((at = cluster_find(m, nm,
	    v->location)) != NULL && !at->up))) {
		snprintf(out, outsz, "unreachable");
		return;
	}
	snprintf(out, outsz, "%s", v == NULL ? "missing" : *v->status ?
	    v->status : "?");
	for (i = 0; out[i] != '\0'; i++)
		out[i] = (char)(out[i] >= 'A' && out[i] <= 'Z' ? out[i] + 32 :
		    out[i]);
}

static int
cmd_list_exec(struct ctx *c)
{
	static const char *const cols[] = { "name", "state", "ipv4", "port#",
	    "image", NULL };
	static const char *const cols_all[] = { "owner", "name", "state",
	    "ipv4", "port#", "image", NULL };
	/* On a cluster: the server each is on, after its name. */
	static const char *const ccols[] = { "name", "server", "state", "ipv4",
	    "port#", "image", NULL };
	static const char *const ccols_all[] = { "owner", "name", "server",
	    "state", "ipv4", "port#", "image", NULL };
	int all = cmd_opt(c, "all") != NULL;
	struct cluster_member *members;
	size_t nmembers;
	struct table *t;
	struct ct_owned *rows;
	struct view_ct *insts;
	char project[64];
	size_t i, n, ninsts;

	if (!all && c->id.user_id == 0)
		return ctx_error(c, "you have no lab user: log in, use --as "
		    "USER, or (admins) list --all");
	if (!all)
		project_of(ctx_op(c), c->id.user_id, c->id.user, project);
	if (cluster_members(ctx_op(c), &members, &nmembers) != 0)
		return ctx_fail(c, ctx_op(c));
	if (view_instances(ctx_op(c), all ? NULL : project, &insts,
	    &ninsts) != 0) {
		free(members);
		return ctx_fail(c, ctx_op(c));
	}

	t = table_new(nmembers > 0 ? (all ? ccols_all : ccols) :
	    all ? cols_all : cols);
	ctdb_list_owned(c->db, all, c->id.user_id, 0, &rows, &n);
	for (i = 0; i < n; i++) {
		const struct ct *ct = &rows[i].ct;
		const char *owner = rows[i].user;
		const struct view_ct *v;
		char state[32], port[16];
		const char *ip = "-";

		project_name(c->srv->cfg.project_prefix, rows[i].project, owner,
		    project);
		v = view_lookup(insts, ninsts, project, ct->name);
		state_word(v, members, nmembers, state, sizeof(state));
		if (strcmp(state, "running") == 0 && *v->ipv4 != '\0')
			ip = v->ipv4;
		if (strcmp(ct->state, "ready") != 0)
			snprintf(state, sizeof(state), "%s", ct->state);
		snprintf(port, sizeof(port), "%d", ct->port);
		if (nmembers > 0 && all)
			table_add(t, owner, ct->name, v != NULL &&
			    *v->location ? v->location : "-", state, ip, port,
			    ct->image);
		else if (nmembers > 0)
			table_add(t, ct->name, v != NULL && *v->location ?
			    v->location : "-", state, ip, port, ct->image);
		else if (all)
			table_add(t, owner, ct->name, state, ip, port,
			    ct->image);
		else
			table_add(t, ct->name, state, ip, port, ct->image);
	}
	free(members);
	free(rows);
	free(insts);
	ctx_table(c, "containers", t);
	table_free(t);
	return PROTO_OK;
}

const struct cmd_entry cmd_list_entry = {
	.name = "list",
	.args = "[--all]",
	.summary = "list your containers",
	.help = "state is LXD's; 'missing' means the container was deleted\n"
	    "outside labcontainers, 'unreachable' that its server is down.\n"
	    "With several servers, 'server' says which each is on. ipv4 is\n"
	    "the address LXD's DHCP gave a running container ('details'\n"
	    "shows what the container itself says). Admins see everyone's\n"
	    "with --all.",
	.flags = CMD_READONLY | CMD_NOAUDIT | CMD_FORMAT,
	.opts = { { "all", 'a', CMD_ADMIN, NULL } },
	.exec = cmd_list_exec,
};
