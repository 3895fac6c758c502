/*
 * cmd-servers.c - servers: the lab's servers (LXD's cluster members, or
 * the one LXD), each with its state, address, free CPU and memory, GPUs
 * and how many containers are on it. Everyone may see it: it is what a
 * member chooses --server by. Nobody's containers are named.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "config.h"
#include "db-gpus.h"
#include "gpu.h"
#include "labcd.h"
#include "lxd.h"
#include "proto.h"
#include "view.h"

/* cpu, memory free/total and GPUs of one member (NULL: the server). */
static void
resources(struct ctx *c, const char *member, char *cpu, char *mem,
    char *gpus, size_t sz)
{
	json_t *res = NULL, *m;
	long long total, used;
	char t[32], f[32];

	snprintf(cpu, sz, "-");
	snprintf(mem, sz, "-");
	snprintf(gpus, sz, "-");
	if (lxd_resources_of(ctx_lxd(c), member, &res) != 0)
		return;
	snprintf(cpu, sz, "%lld", json_integer_value(json_object_get(
	    json_object_get(res, "cpu"), "total")));
	m = json_object_get(res, "memory");
	total = json_integer_value(json_object_get(m, "total"));
	used = json_integer_value(json_object_get(m, "used"));
	config_size_str(total > used ? total - used : 0, f, sizeof(f));
	config_size_str(total, t, sizeof(t));
	snprintf(mem, sz, "%s of %s", f, t);
	snprintf(gpus, sz, "%zu", json_array_size(json_object_get(
	    json_object_get(res, "gpu"), "cards")));
	json_decref(res);
}

static int
cmd_servers_exec(struct ctx *c)
{
	static const char *const cols[] = { "server", "state", "address",
	    "cpus", "memory_free", "gpus", "gpus_free", "containers", "why",
	    NULL };
	struct cluster_member *m;
	struct view_ct *v;
	struct table *t;
	size_t n, nv, i, k;
	char cpu[96], mem[96], gpus[96], count[16], name[256], addr[64];
	char why[800], nodewhy[640], gfree[16];

	if (cluster_members(ctx_op(c), &m, &n) != 0)
		return ctx_fail(c, ctx_op(c));
	if (view_instances(ctx_op(c), NULL, &v, &nv) != 0) {
		free(m);
		return ctx_fail(c, ctx_op(c));
	}
	t = table_new(cols);
	cluster_read_nodes(ctx_op(c), m, n);
	if (n == 0) {
		/* One LXD: this server. */
		config_server_name(&c->srv->cfg, name, sizeof(name));
		/* Where its ports are: ssh_listen, or LXD's host. */
		if (!config_listen_wildcard(&c->srv->cfg) ||
		    !config_lxd_local(&c->srv->cfg))
			config_ports_addr(&c->srv->cfg, addr, sizeof(addr));
		else
			snprintf(addr, sizeof(addr), "-");
		resources(c, NULL, cpu, mem, gpus, sizeof(cpu));
		snprintf(count, sizeof(count), "%zu", nv);
		/* Free: not given to any container. */
		snprintf(gfree, sizeof(gfree), "%d", atoi(gpus) > 0 ?
		    atoi(gpus) - gpudb_held_count(c->db, "") : 0);
		if (strcmp(gpus, "-") == 0)
			snprintf(gfree, sizeof(gfree), "-");
		table_add(t, name, "up", addr, cpu, mem, gpus, gfree, count,
		    "");
	}
	for (i = 0; i < n; i++) {
		size_t here = 0;

		for (k = 0; k < nv; k++)
			here += strcmp(v[k].location, m[i].name) == 0;
		snprintf(count, sizeof(count), "%zu", here);
		why[0] = '\0';
		snprintf(gfree, sizeof(gfree), "-");
		if (m[i].up) {
			json_t *reading;
			int nfree, total;

			resources(c, m[i].name, cpu, mem, gpus, sizeof(cpu));
			/* Its GPUs as its node reads them (NVML). */
			if (cluster_node_reading(ctx_op(c), &m[i], &reading,
			    nodewhy, sizeof(nodewhy)) == 0) {
				json_decref(reading);
				nfree = gpu_free_on(ctx_op(c), m[i].name,
				    &total);
				snprintf(gpus, sizeof(gpus), "%d", total);
				snprintf(gfree, sizeof(gfree), "%d", nfree);
			} else {
				snprintf(gpus, sizeof(gpus), "?");
				snprintf(why, sizeof(why), "no GPU reading: %s",
				    nodewhy);
			}
		} else {
			snprintf(cpu, sizeof(cpu), "-"), snprintf(mem,
			    sizeof(mem), "-"), snprintf(gpus, sizeof(gpus),
			    "-");
			snprintf(why, sizeof(why), "%s", m[i].message);
		}
		table_add(t, m[i].name, m[i].up ? "up" : "down",
		    *m[i].addr ? m[i].addr : "-", cpu, mem, gpus, gfree, count,
		    why);
	}
	free(v);
	free(m);
	ctx_table(c, "servers", t);
	table_free(t);
	return PROTO_OK;
}

const struct cmd_entry cmd_servers_entry = {
	.name = "servers",
	.args = "",
	.summary = "list the lab's servers and what each has free",
	.help = "One line for each server: up or down (and why), the address\n"
	    "its containers' ports are on, CPUs, free memory, GPUs and those\n"
	    "given to no container, and how many containers it runs (on a\n"
	    "cluster, GPUs as each server's labcd --node reads them). With\n"
	    "several servers (an LXD cluster), launch and create take\n"
	    "--server NAME; without it labcd chooses the one with the most\n"
	    "free memory among those up, or with --gpu any the one with the\n"
	    "most GPUs free.",
	.flags = CMD_READONLY | CMD_NOAUDIT | CMD_FORMAT,
	.exec = cmd_servers_exec,
};
