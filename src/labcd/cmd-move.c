/*
 * cmd-move.c - move: a stopped container to another of the lab's servers
 * (LXD's cluster move: its disk is copied there, then it is renamed back
 * over the old one). It keeps its name, port, keys and limits; its port
 * then listens on the new server's address.
 *
 * Refused while it runs (LXD would stop it; the member decides when),
 * while it holds GPUs (they are its server's: detach them first), and
 * for a container with a fixed address (ssh_port_mode = nat: the address
 * is on its server's bridge).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "ct.h"
#include "db-gpus.h"
#include "lxd.h"
#include "proto.h"

#define MOVE_TIMEOUT	86400	/* s: LXD's copy of a big disk */

static int
move(struct ctx *c, struct ct *ct, const char *to)
{
	struct op *op = ctx_op(c);
	struct lxd *l = ctx_lxd(c);
	struct gpu_use *gpus = NULL;
	json_t *inst = NULL;
	char project[64], member[MEMBER_NAME_MAX], why[320], addr[64];
	const char *status, *from;
	size_t ngpus;
	int r = PROTO_OK;

	if ((r = cluster_place(op, to, member, why, sizeof(why))) != 0)
		return ctx_cause(c, r);
	if (*ct->addr != '\0')
		return ctx_error(c, "%s has a fixed address on its server's "
		    "bridge (ssh_port_mode = nat), which does not move with "
		    "it: 'copy' it on the other server instead ('copy %s NEW "
		    "--server %s')", ct->name, ct->name, to);
	ngpus = gpudb_of_container(c->db, ct->id, &gpus);
	free(gpus);
	if (ngpus > 0)
		return ctx_error(c, "%s holds GPUs of its server: 'gpu detach "
		    "%s all' first, then attach GPUs of %s after the move",
		    ct->name, ct->name, to);
	project_of(op, ct->user_id, c->id.user, project);
	if (lxd_instance_get(l, project, ct->name, &inst) != 0)
		return ctx_error(c, "%s", lxd_error(l));
	status = json_string_value(json_object_get(inst, "status")) ?: "";
	from = json_string_value(json_object_get(inst, "location")) ?: "";
	if (strcmp(status, "Stopped") != 0)
		r = ctx_error(c, "%s is %s: move takes a stopped container "
		    "('stop %s' first)", ct->name, *status ? status : "not "
		    "stopped", ct->name);
	else if (strcmp(from, to) == 0)
		r = ctx_error(c, "%s is on %s already", ct->name, to);
	if (r != PROTO_OK) {
		json_decref(inst);
		return r;
	}
	op_progress(op, "Moving %s from %s to %s", ct->name, from, to);
	json_decref(inst);
	/*
	 * A big disk takes long: the claim is held until LXD's operation
	 * ends, whatever it takes (a day at most), so that reconciliation
	 * never sees the half-moved container as labcd's to mend.
	 */
	lxd_set_op_timeout(l, MOVE_TIMEOUT);
	r = lxd_instance_move(l, project, ct->name, to);
	lxd_set_op_timeout(l, 0);
	if (r != 0)
		return ctx_error(c, "LXD could not move %s to %s: %s ('list' "
		    "says where it is now)", ct->name, to, lxd_error(l));
	(void)cluster_ports_addr(op, to, addr, sizeof(addr));
	ctx_printf(c, "Moved %s to %s; its port %d is on %s once it runs.\n",
	    ct->name, to, ct->port, addr);
	return PROTO_OK;
}

static int
cmd_move_exec(struct ctx *c)
{
	const char *to = cmd_opt(c, "server");
	struct ct ct;
	int r;

	if (to == NULL)
		return ctx_usage(c, "move needs --server NAME: the server to "
		    "move to ('servers' lists them)");
	if ((r = cluster_server_opt(ctx_op(c), to)) != 0)
		return ctx_cause(c, r);
	if ((r = ct_find_ready(c, c->args.argv[0], &ct)) != 0)
		return r;
	if (ct_claim_for(ctx_op(c), &ct) != 0)
		return ctx_fail(c, ctx_op(c));
	r = move(c, &ct, to);
	ct_release(ct.user_id, ct.name);
	return r;
}

const struct cmd_entry cmd_move_entry = {
	.name = "move",
	.args = "NAME --server SERVER",
	.summary = "move a stopped container to another server",
	.help = "Where the lab has several servers: the container's disk goes\n"
	    "to SERVER (which takes a while for a big one), and it keeps its\n"
	    "name, port, keys and limits. It must be stopped and hold no\n"
	    "GPUs (they belong to its server).",
	.flags = CMD_USER,
	.min_args = 1, .max_args = 1,
	.target = CMD_TARGET_CT,
	.opts = { { "server", 0, 1, "SERVER" } },
	.exec = cmd_move_exec,
};
