/*
 * cmd-admin-import.c - admin import: brings a lab over from the original
 * tool (a shared SSH account whose login shell was a Python script, over
 * LXD and one SQLite file). What is read, and nothing else:
 *
 *   lab_users(username, password, salt, ...)
 *	one lab user per row. The user column may also be called user_name,
 *	name, user or login. password is hex SHA-256 of password + salt:
 *	it is not kept (labcd stores argon2id), so every user comes over
 *	with no usable password until the admin gives one or a key.
 *   lab_containers(container_name, belongs_to_username, ...)
 *	one container per row (also name/container; owner also username,
 *	owner, user, belongs_to). An optional port, ssh_port or host_port
 *	column gives its old SSH port; without one the port is worked out
 *	as the original tool did from the container's IPv4 address:
 *	port_start + (address - ip_start), by default OLD_PORT_START and
 *	OLD_IP_START (--port-start, --ip-start).
 *
 * The containers were LXD instances in the default project (--from
 * another); a stopped one is moved into its owner's project (LXD moves
 * only stopped containers between projects), gets its SSH port device
 * and is recorded. A running one is left alone and listed with the exact
 * commands, unless --stop says to stop, move and start it again. Names
 * that break labcd's rules are reported and skipped, never changed.
 * Running it again changes nothing that was imported.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "ct.h"
#include "db-legacy.h"
#include "log.h"
#include "lxd.h"
#include "ports.h"
#include "project.h"
#include "proto.h"
#include "users.h"
#include "xmalloc.h"

/* The original tool's defaults: ports from here, for addresses from there. */
#define OLD_PORT_START	61000
#define OLD_IP_START	"10.18.242.2/24"
#define STR(x)		STR2(x)
#define STR2(x)		#x

struct import {
	struct ctx	*c;
	struct legacydb	*old;
	const char	*file;		/* as the admin gave it */
	const char	*from;		/* LXD project of the old containers */
	const char	*ucol;		/* lab_users' user name column */
	int		 dry, stop;
	long		 port_start;
	uint32_t	 ip_start, ip_mask;
	char		 why[200];	/* why the old port is not kept */
	unsigned char	*claimed;	/* ssh_ports: an old port of the import */
	int		 users_new, users_same, users_bad;
	int		 cts_new, cts_same, cts_listed, cts_bad;
};

/* Hostile text made printable for a message: at most 64 characters. */
static void
shown(const unsigned char *s, char out[80])
{
	size_t i, o = 0;

	if (s == NULL) {
		snprintf(out, 80, "(none)");
		return;
	}
	for (i = 0; s[i] != '\0' && o < 64; i++)
		out[o++] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
	if (s[i] != '\0')
		o += (size_t)snprintf(out + o, 80 - o, "...");
	out[o] = '\0';
}

/* A usable port: the old one if it is, else a new one; 0 if none. */
static int
choose_port(struct import *im, int old, const char **why)
{
	const struct config *cfg = &im->c->srv->cfg;

	*why = NULL;
	if (old > 0) {
		if (old < cfg->ssh_port_min || old > cfg->ssh_port_max)
			*why = "outside ssh_ports";
		else if (ctdb_port_taken(im->c->db, old))
			*why = "given to another labcd container";
		else if (config_lxd_local(cfg) &&
		    !port_free(cfg->ssh_listen, old)) {
			char who[160];

			port_holder(old, who, sizeof(who));
			snprintf(im->why, sizeof(im->why), "held by another "
			    "program%s%s%s", who[0] ? " (" : "", who,
			    who[0] ? ")" : "");
			*why = im->why;
		}
		else
			return old;
	}
	/* Not another container's old port, while one is free. */
	return port_pick(im->c->db, cfg->ssh_port_min, cfg->ssh_port_max,
	    config_lxd_local(cfg) ? cfg->ssh_listen : NULL, im->claimed);
}

/* The original tool's port for an IPv4 address, or 0. */
static int
old_port_of_ip(struct import *im, const char *ip)
{
	struct in_addr a;
	uint32_t v;
	long p;

	if (ip == NULL || inet_pton(AF_INET, ip, &a) != 1)
		return 0;
	v = ntohl(a.s_addr);
	if ((v & im->ip_mask) != (im->ip_start & im->ip_mask))
		return 0;
	p = im->port_start + (long)v - (long)im->ip_start;
	return p > 1024 && p <= 65535 ? (int)p : 0;
}

/* Its IPv4 address: live, or a static one on its eth0 device. */
static const char *
instance_ip(json_t *inst, json_t *state)
{
	const char *ip = lxd_state_ipv4(state, "eth0");

	if (ip == NULL)
		ip = json_string_value(json_object_get(json_object_get(
		    json_object_get(inst, "expanded_devices"), "eth0"),
		    "ipv4.address"));
	return ip;
}

static void
import_user(struct import *im, const unsigned char *raw)
{
	struct ctx *c = im->c;
	const char *name = (const char *)raw, *why;
	struct user_row u;
	char show[80];

	shown(raw, show);
	if (raw == NULL || (why = user_name_invalid(name)) != NULL) {
		ctx_printf(c, "user %s: skipped: %s (add them by hand under a "
		    "valid name: labc admin user add NAME)\n", show,
		    raw == NULL ? "no name" : why);
		im->users_bad++;
		return;
	}
	if (userdb_get(c->db, name, &u) == 0) {
		ctx_printf(c, "user %s: in labcd already, unchanged\n", name);
		im->users_same++;
		return;
	}
	if (!im->dry) {
		if (userdb_add(c->db, name, 0, c->srv->cfg.quota_gpus,
		    c->srv->cfg.quota_snapshots, NULL) != 0) {
			ctx_printf(c, "user %s: not imported: %s\n", name,
			    c->db->err);
			im->users_bad++;
			return;
		}
	}
	ctx_printf(c, "user %s: %s with no usable password (the old salted "
	    "SHA-256 hash is not kept): give one with 'labc admin passwd %s', "
	    "or register their key: labc --as %s key add 'ssh-ed25519 ...'\n",
	    name, im->dry ? "would be imported" : "imported", name, name);
	im->users_new++;
}

/* Record an adopted container; 0, or -1 with the reason said. */
static int
record(struct import *im, long long uid, const char *name, int port,
    const char *image)
{
	struct ct row = { .user_id = uid, .port = port,
	    .created = (long long)time(NULL) };

	snprintf(row.name, sizeof(row.name), "%s", name);
	snprintf(row.image, sizeof(row.image), "%s", image);
	snprintf(row.state, sizeof(row.state), "ready");
	return ctdb_insert(im->c->db, &row);
}

/* The port device and owner mark labcd gives every container. */
static int
mark(struct import *im, const char *project, const char *name,
    const char *owner, int port)
{
	json_t *patch, *ssh = ct_ssh_patch(&im->c->srv->cfg, port,
	    NULL, NULL);
	int r;

	patch = json_pack("{s:{s:s}}", "config", PROJECT_OWNER_KEY, owner);
	json_object_update(patch, ssh);
	json_decref(ssh);
	r = lxd_instance_patch(ctx_lxd(im->c), project, name, patch);
	json_decref(patch);
	return r;
}

static int
move(struct import *im, const char *name, const char *to)
{
	struct lxd *l = ctx_lxd(im->c);
	char *e = lxd_escape(name), *f = lxd_escape(im->from);
	char *path = xasprintf("/1.0/instances/%s?project=%s", e, f);
	json_t *body = json_pack("{s:s, s:b, s:s}", "name", name, "migration",
	    1, "project", to);
	int r = lxd_call(l, "POST", path, body, NULL);

	json_decref(body);
	free(path);
	free(f);
	free(e);
	return r;
}

/* A container of the original tool's, on its way in. */
struct cand {
	const char	*name;
	struct user_row	 u;
	char		 project[64];
	json_t		*inst, *state;
	int		 here, running, port;
	char		 portnote[300];
};

/* Its name and owner are right, and labcd has it not: 0; else said, -1. */
static int
import_whose(struct import *im, const unsigned char *rawname,
    const unsigned char *rawowner, struct cand *k)
{
	struct ctx *c = im->c;
	const char *name = (const char *)rawname, *owner = (const char *)rawowner;
	const char *why;
	char show[80], showo[80], *project = k->project;
	struct user_row u;

	shown(rawname, show);
	shown(rawowner, showo);
	if (rawname == NULL || (why = ct_name_invalid(name)) != NULL) {
		ctx_printf(c, "container %s/%s: skipped: %s\n", showo, show,
		    rawname == NULL ? "no name" : why);
		im->cts_bad++;
		return -1;
	}
	if (rawowner == NULL || user_name_invalid(owner) != NULL ||
	    userdb_get(c->db, owner, &u) != 0) {
		if (!(im->dry && rawowner != NULL &&
		    user_name_invalid(owner) == NULL &&
		    legacydb_has_user(im->old, im->ucol, owner))) {
			ctx_printf(c, "container %s/%s: skipped: its owner %s "
			    "is not a lab user\n", showo, name, showo);
			im->cts_bad++;
			return -1;
		}
		u.id = 0;	/* a dry run did not make the owner */
		snprintf(u.name, sizeof(u.name), "%s", owner);
	}
	if (u.id != 0) {
		if (ctdb_exists(c->db, u.id, name)) {
			ctx_printf(c, "container %s/%s: in labcd already, "
			    "unchanged\n", u.name, name);
			im->cts_same++;
			return -1;
		}
		project_of(ctx_op(c), u.id, u.name, project);
	} else
		project_name(c->srv->cfg.project_prefix, NULL, u.name,
		    project);
	k->u = u;
	return 0;
}

/* Where it is, whether it runs, its port: 0; else said, -1. */
static int
import_find(struct import *im, struct cand *k, int colport)
{
	struct ctx *c = im->c;
	struct lxd *l = ctx_lxd(c);
	const char *name = k->name, *project = k->project, *status, *portwhy;
	const struct user_row u = k->u;
	int r, here = 0, running, old, port;

	/* Where is it: the old project, or moved by hand already? */
	if ((r = lxd_instance_get(l, im->from, name, &k->inst)) == -ENOENT &&
	    strcmp(im->from, project) != 0 &&
	    (r = lxd_instance_get(l, project, name, &k->inst)) == 0)
		here = 1;
	if (r != 0) {
		ctx_printf(c, "container %s/%s: skipped: %s\n", u.name, name,
		    r == -ENOENT ? "LXD has no such instance (in the project "
		    "it came from, or its owner's)" : lxd_error(l));
		im->cts_bad++;
		return -1;
	}
	(void)lxd_instance_state(l, here ? project : im->from, name,
	    &k->state);
	status = json_string_value(json_object_get(k->inst, "status"));
	running = status == NULL || strcmp(status, "Stopped") != 0;

	old = colport > 0 ? colport : old_port_of_ip(im, instance_ip(k->inst,
	    k->state));
	if ((port = choose_port(im, old, &portwhy)) == 0) {
		ctx_printf(c, "container %s/%s: skipped: no free port left in "
		    "ssh_ports %d-%d\n", u.name, name,
		    c->srv->cfg.ssh_port_min, c->srv->cfg.ssh_port_max);
		im->cts_bad++;
		return -1;
	}
	if (old > 0 && port == old)
		snprintf(k->portnote, sizeof(k->portnote), "port %d, its old "
		    "port", port);
	else if (old > 0)
		snprintf(k->portnote, sizeof(k->portnote), "new port %d: its "
		    "old port %d is %s", port, old, portwhy);
	else
		snprintf(k->portnote, sizeof(k->portnote), "new port %d (its "
		    "old port is not known)", port);
	k->here = here;
	k->running = running;
	k->port = port;
	return 0;
}

/* Stop, move, mark and record it, or say what would be done. */
static void
import_adopt(struct import *im, const struct cand *k)
{
	struct ctx *c = im->c;
	struct lxd *l = ctx_lxd(c);
	const char *name = k->name, *project = k->project, *image;
	const char *portnote = k->portnote;
	const struct user_row u = k->u;
	json_t *inst = k->inst;
	int r, here = k->here, running = k->running, port = k->port, busy = 0;

	if (!here && running && !im->stop) {
		ctx_printf(c, "container %s/%s: not moved: it is running, and "
		    "LXD moves only stopped containers. Either import again "
		    "with --stop, or do it yourself and import again:\n"
		    "  lxc stop %s --project %s\n"
		    "  lxc move %s %s --project %s --target-project %s\n"
		    "  labc admin import %s\n", u.name, name, name, im->from,
		    name, name, im->from, project, im->file);
		im->cts_listed++;
		goto out;
	}
	if (im->dry) {
		ctx_printf(c, "container %s/%s: would be %s %s%s, %s\n",
		    u.name, name, here ? "adopted in" : "moved from", here ?
		    project : im->from, here ? "" : running ?
		    " (stopped, moved, started again)" : "", portnote);
		im->cts_new++;
		goto out;
	}
	if ((r = project_ensure(ctx_op(c), u.id, u.name, NULL)) != 0) {
		ctx_printf(c, "container %s/%s: not moved: %s\n", u.name, name,
		    ctx_op(c)->cause);
		im->cts_bad++;
		goto out;
	}
	/* Reconciliation leaves it alone until it is recorded. */
	if (ct_claim(u.id, name) != 0) {
		ctx_printf(c, "container %s/%s: not moved: it is being changed "
		    "right now; import again in a moment\n", u.name, name);
		im->cts_bad++;
		goto out;
	}
	busy = 1;
	if (!here && running && (r = lxd_instance_shutdown(l, im->from, name,
	    60)) != 0 && r != -EALREADY) {
		ctx_printf(c, "container %s/%s: not moved: stopping it failed: "
		    "%s\n", u.name, name, lxd_error(l));
		im->cts_bad++;
		goto out;
	}
	if (!here && move(im, name, project) != 0) {
		ctx_printf(c, "container %s/%s: not moved: LXD said: %s\n",
		    u.name, name, lxd_error(l));
		im->cts_bad++;
		if (running)
			(void)lxd_instance_set_state(l, im->from, name,
			    "start", -1, 0);
		goto out;
	}
	if (mark(im, project, name, u.name, port) != 0) {
		char words[160];

		ct_ssh_device_words(&c->srv->cfg, port, words, sizeof(words));
		ctx_printf(c, "container %s/%s: moved into %s, but its SSH "
		    "port device was refused: %s; add it: lxc config device "
		    "add %s ssh proxy %s --project %s, then import again\n",
		    u.name, name, project, lxd_error(l), name, words, project);
		im->cts_bad++;
		goto out;
	}
	image = json_string_value(json_object_get(json_object_get(inst,
	    "config"), "volatile.base_image"));
	if (record(im, u.id, name, port, image ? image : "imported") != 0) {
		ctx_printf(c, "container %s/%s: moved into %s, but not "
		    "recorded: %s\n", u.name, name, project, c->db->err);
		im->cts_bad++;
		goto out;
	}
	if (!here && running && lxd_instance_set_state(l, project, name,
	    "start", -1, 0) != 0)
		ctx_printf(c, "container %s/%s: starting it again failed: %s\n",
		    u.name, name, lxd_error(l));
	if (here)
		ctx_printf(c, "container %s/%s: adopted where it is, in %s, ",
		    u.name, name, project);
	else
		ctx_printf(c, "container %s/%s: moved from %s into %s, ",
		    u.name, name, im->from, project);
	ctx_printf(c, "%s; 'labc --as %s start %s' makes the user %s in it "
	    "and puts the keys\n", portnote, u.name, name,
	    c->srv->cfg.container_user);
	im->cts_new++;
out:
	if (busy)
		ct_release(u.id, name);
}

static void
import_container(struct import *im, const unsigned char *rawname,
    const unsigned char *rawowner, int colport)
{
	struct cand k;

	memset(&k, 0, sizeof(k));
	k.name = (const char *)rawname;
	if (import_whose(im, rawname, rawowner, &k) == 0 &&
	    import_find(im, &k, colport) == 0)
		import_adopt(im, &k);
	json_decref(k.inst);
	json_decref(k.state);
}

static void
each_user(void *arg, const unsigned char *name)
{
	import_user(arg, name);
}

/*
 * The first pass: the old port of each container (the port column, else
 * from its address), so that a new port given to one is never the old
 * port another container of the import comes with.
 */
static int
each_claim(void *arg, const unsigned char *name, const unsigned char *owner,
    int port)
{
	struct import *im = arg;
	const struct config *cfg = &im->c->srv->cfg;
	json_t *inst = NULL, *state = NULL;

	(void)owner;
	if (im->c->dead)
		return 1;
	if (port <= 0 && name != NULL &&
	    ct_name_invalid((const char *)name) == NULL &&
	    lxd_instance_get(ctx_lxd(im->c), im->from, (const char *)name,
	    &inst) == 0) {
		(void)lxd_instance_state(ctx_lxd(im->c), im->from,
		    (const char *)name, &state);
		port = old_port_of_ip(im, instance_ip(inst, state));
	}
	if (port >= cfg->ssh_port_min && port <= cfg->ssh_port_max)
		im->claimed[port - cfg->ssh_port_min] = 1;
	json_decref(inst);
	json_decref(state);
	return 0;
}

/* Until the client has gone. */
static int
each_container(void *arg, const unsigned char *name,
    const unsigned char *owner, int port)
{
	struct import *im = arg;

	if (im->c->dead)
		return 1;
	import_container(im, name, owner, port);
	return 0;
}

static int
parse_options(struct import *im)
{
	struct ctx *c = im->c;
	const char *v;
	char *end, net[64], *slash;
	struct in_addr a;
	long bits;

	im->from = cmd_opt(c, "from") ?: "default";
	im->dry = cmd_opt(c, "dry-run") != NULL;
	im->stop = cmd_opt(c, "stop") != NULL;
	im->port_start = OLD_PORT_START;
	if ((v = cmd_opt(c, "port-start")) != NULL) {
		im->port_start = strtol(v, &end, 10);
		if (*v == '\0' || *end != '\0' || im->port_start < 1025 ||
		    im->port_start > 65535)
			return ctx_usage(c, "--port-start needs a port from 1025 "
			    "to 65535");
	}
	v = cmd_opt(c, "ip-start") ?: OLD_IP_START;
	snprintf(net, sizeof(net), "%s", v);
	if ((slash = strchr(net, '/')) == NULL)
		return ctx_usage(c, "--ip-start needs ADDRESS/BITS, such as "
		    OLD_IP_START);
	*slash = '\0';
	bits = strtol(slash + 1, &end, 10);
	if (inet_pton(AF_INET, net, &a) != 1 || *end != '\0' || bits < 1 ||
	    bits > 32)
		return ctx_usage(c, "--ip-start needs ADDRESS/BITS, such as "
		    OLD_IP_START);
	im->ip_start = ntohl(a.s_addr);
	im->ip_mask = bits == 32 ? 0xffffffffU : ~(0xffffffffU >> bits);
	return PROTO_OK;
}

static int
cmd_admin_import_exec(struct ctx *c)
{
	static const char *const ucols[] = { "username", "user_name", "name",
	    "user", "login", NULL };
	static const char *const cnames[] = { "container_name", "name",
	    "container", NULL };
	static const char *const cowners[] = { "belongs_to_username",
	    "username", "owner", "user", "belongs_to", "owner_name", NULL };
	static const char *const cports[] = { "port", "ssh_port", "host_port",
	    NULL };
	struct import im = { .c = c, .file = c->args.argv[0] };
	char *path, *ucol = NULL, *ncol = NULL, *ocol = NULL, *pcol = NULL;
	char err[512];
	int r;

	ctx_target(c, "%.100s", im.file);
	if ((r = parse_options(&im)) != 0)
		return r;
	/* A relative name is the caller's: from its working directory. */
	path = im.file[0] == '/' ? xstrdup(im.file) :
	    xasprintf("/proc/%d/cwd/%s", (int)c->id.pid, im.file);
	/* Read-only, running nothing of the file's (db-legacy.c). */
	if ((im.old = legacydb_open(path, err, sizeof(err))) == NULL) {
		r = ctx_error(c, "cannot read %s as an SQLite database: %s",
		    im.file, err);
		goto out;
	}
	if ((ucol = legacydb_column(im.old, "lab_users", ucols)) == NULL) {
		r = ctx_error(c, "%s has no table lab_users with a username "
		    "column: it is not the original tool's database", im.file);
		goto out;
	}
	im.ucol = ucol;
	ncol = legacydb_column(im.old, "lab_containers", cnames);
	ocol = legacydb_column(im.old, "lab_containers", cowners);
	pcol = legacydb_column(im.old, "lab_containers", cports);
	if (im.dry)
		ctx_printf(c, "Dry run: nothing is changed.\n");
	im.claimed = xcalloc((size_t)(c->srv->cfg.ssh_port_max -
	    c->srv->cfg.ssh_port_min + 1), 1);

	if (legacydb_users(im.old, ucol, each_user, &im, err,
	    sizeof(err)) != 0) {
		r = ctx_error(c, "%s: %s", im.file, err);
		goto out;
	}

	if (ncol == NULL || ocol == NULL)
		ctx_printf(c, "No containers: %s has no table lab_containers "
		    "with container_name and belongs_to_username.\n", im.file);
	else if (legacydb_containers(im.old, ncol, ocol, pcol, each_claim,
	    &im, err, sizeof(err)) != 0 || legacydb_containers(im.old, ncol,
	    ocol, pcol, each_container, &im, err, sizeof(err)) != 0) {
		r = ctx_error(c, "%s: %s", im.file, err);
		goto out;
	}
	ctx_printf(c, "Users: %d %s, %d unchanged, %d skipped. Containers: %d "
	    "%s, %d unchanged, %d left for you, %d skipped.\n", im.users_new,
	    im.dry ? "to import" : "imported", im.users_same, im.users_bad,
	    im.cts_new, im.dry ? "to adopt" : "adopted", im.cts_same,
	    im.cts_listed, im.cts_bad);
	if (!im.dry && im.cts_new > 0)
		ctx_printf(c, "Remove the original tool's iptables port rules: "
		    "labcd's proxy devices serve those ports now.\n");
	ctx_target(c, "%.60s: %d+%d users, %d+%d containers", im.file,
	    im.users_new, im.users_same, im.cts_new, im.cts_same);
	r = PROTO_OK;
out:
	legacydb_close(im.old);
	free(im.claimed);
	free(path);
	free(ucol);
	free(ncol);
	free(ocol);
	free(pcol);
	return r;
}

const struct cmd_entry cmd_admin_import_entry = {
	.name = "admin import",
	.args = "FILE [--dry-run] [--stop] [--from PROJECT] [--port-start N]\n"
	    "    [--ip-start ADDRESS/BITS]",
	.summary = "bring users and containers over from the original tool",
	.help = "FILE is the original tool's SQLite database: its lab_users\n"
	    "become lab users with no usable password (their salted SHA-256\n"
	    "hashes are not kept: give each one with 'admin passwd', or\n"
	    "register their key), and the LXD instances of lab_containers\n"
	    "(in the default project, or --from PROJECT) move into their\n"
	    "owner's project with an SSH port: the old one where it is free\n"
	    "in ssh_ports (from a port column, else from the container's\n"
	    "address as the original tool did: --port-start, default "
	    STR(OLD_PORT_START) ",\n"
	    "plus its offset from --ip-start, default " OLD_IP_START "), else\n"
	    "a new one. LXD moves only stopped containers: running ones are\n"
	    "listed with the commands to move them, or stopped, moved and\n"
	    "started again with --stop. Invalid names are reported and\n"
	    "skipped. --dry-run says what it would do. Importing again\n"
	    "changes nothing that is imported already.",
	.flags = CMD_ADMIN | CMD_ROOT,	/* it reads a file of the host */
	.min_args = 1, .max_args = 1,
	.opts = {
		{ "dry-run", 0, 0, NULL }, { "stop", 0, 0, NULL },
		{ "from", 0, 1, "PROJECT" }, { "port-start", 0, 1, "N" },
		{ "ip-start", 0, 1, "ADDRESS/BITS" },
	},
	.exec = cmd_admin_import_exec,
};
