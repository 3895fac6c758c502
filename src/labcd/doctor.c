/*
 * doctor.c - the checks of what labcd depends on, each explained, one row
 * per finding (check, status, detail, fix). A "problem" comes with the
 * command that fixes it; a "warn" is worth a look; "ok" says what was
 * seen. They change nothing. 'admin doctor' (cmd-admin-doctor.c) shows
 * them; labcd runs them in the background every doctor_interval
 * (health.c).
 */
#include <errno.h>
#include <pwd.h>
#include <shadow.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ct.h"
#include "pool.h"
#include "db-gpus.h"
#include "doctor.h"
#include "inert.h"
#include "isolate.h"
#include "log.h"
#include "lxd.h"
#include "nvml.h"
#include "ports.h"
#include "project.h"
#include "proto.h"
#include "reconcile.h"
#include "run.h"
#include "sizes.h"
#include "xmalloc.h"

#define POOL_WARN_PERCENT	10	/* free space below this: warn */
#define PORTS_SHOWN		8	/* taken ports named in the detail */
#define QUOTAS_SHOWN		8	/* disk quotas named in the detail */

struct doctor {
	struct op	*op;
	struct table	*t;
	struct lxd	*l;		/* NULL when LXD is not reachable */
	const char	*dir, *conf;	/* --dir, --sshd-config, or NULL */
	int		 problems, warnings;
	char		 driver[80];	/* host NVIDIA driver, "" if none */
};

/* One finding; fix may be NULL. */
static void
row(struct doctor *d, const char *check, const char *status, const char *fix,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
row(struct doctor *d, const char *check, const char *status, const char *fix,
    const char *fmt, ...)
{
	va_list ap;
	char *detail;

	va_start(ap, fmt);
	detail = xvasprintf(fmt, ap);
	va_end(ap);
	if (strcmp(status, "problem") == 0)
		d->problems++;
	else if (strcmp(status, "warn") == 0)
		d->warnings++;
	table_add(d->t, check, status, detail, fix);
	free(detail);
}

static void
check_lxd(struct doctor *d)
{
	const struct config *cfg = &d->op->srv->cfg;
	struct lxd *l = op_lxd(d->op);

	if (lxd_connect(l) != 0) {
		row(d, "lxd", "problem", "start LXD: systemctl start lxd "
		    "(no systemd: lxd --group lxd &), or set lxd_socket in "
		    "labcd.conf", "LXD is not reachable at %s: %s",
		    *cfg->lxd_socket ? cfg->lxd_socket : lxd_socket_path(l),
		    lxd_error(l));
		return;
	}
	d->l = l;
	row(d, "lxd", "ok", NULL, "%s %s at %s",
	    lxd_server_kind(l) == LXD_SERVER_INCUS ? "Incus" : "LXD",
	    lxd_server_version(l), lxd_socket_path(l));
}

/* The profiles of labcd.conf, each once; caller frees the array. */
static char **
profile_names(struct doctor *d, size_t *n)
{
	char *plist = xstrdup(d->op->srv->cfg.profiles), *save = NULL, *p;
	char **v = xcalloc(strlen(plist) / 2 + 2, sizeof(*v));

	*n = 0;
	for (p = strtok_r(plist, ", ", &save); p != NULL;
	    p = strtok_r(NULL, ", ", &save))
		v[(*n)++] = xstrdup(p);
	free(plist);
	return v;
}

static void
add_name(json_t *set, const char *name)
{
	if (name != NULL && *name != '\0')
		json_object_set_new(set, name, json_true());
}

/* "1.5 GiB", or "12.0 MiB" for small pools. */
static void
size_text(double bytes, char out[32])
{
	if (bytes >= 1073741824.0)
		snprintf(out, 32, "%.1f GiB", bytes / 1073741824.0);
	else
		snprintf(out, 32, "%.1f MiB", bytes / 1048576.0);
}

static void
check_pool(struct doctor *d, const char *pool)
{
	char *e = lxd_escape(pool), *path = xasprintf("/1.0/storage-pools/%s/"
	    "resources", e), *fix;
	json_t *res = NULL, *space;
	double used, total, freep;
	char fs[32], ts[32];

	if (lxd_call(d->l, "GET", path, NULL, &res) != 0) {
		row(d, "storage pool", "problem", "lxc storage list (then set "
		    "storage_pool in labcd.conf, or the profile's root disk)",
		    "pool %s: %s", pool, lxd_error(d->l));
		goto out;
	}
	space = json_object_get(res, "space");
	used = json_number_value(json_object_get(space, "used"));
	total = json_number_value(json_object_get(space, "total"));
	if (total <= 0) {
		row(d, "storage pool", "warn", NULL, "pool %s: LXD gives no "
		    "size", pool);
		goto out;
	}
	freep = 100.0 * (total - used) / total;
	size_text(total - used, fs);
	size_text(total, ts);
	if (freep < POOL_WARN_PERCENT) {
		fix = xasprintf("free space in %s (lxc list --all-projects; "
		    "lxc image list) or grow it (lxc storage set %s size=...)",
		    pool, pool);
		row(d, "storage pool", "warn", fix, "pool %s: %.1f%% free "
		    "(%s of %s), under %d%%", pool, freep, fs, ts,
		    POOL_WARN_PERCENT);
		free(fix);
	} else
		row(d, "storage pool", "ok", NULL, "pool %s: %.0f%% free "
		    "(%s of %s)", pool, freep, fs, ts);
out:
	json_decref(res);
	free(path);
	free(e);
}

static void
check_bridge(struct doctor *d, const char *net)
{
	char *e = lxd_escape(net), *path = xasprintf("/1.0/networks/%s", e);
	char *fix = NULL;
	json_t *n = NULL, *conf;
	const char *addr, *dhcp, *dns;

	if (lxd_call(d->l, "GET", path, NULL, &n) != 0) {
		fix = xasprintf("lxc network create %s ipv4.address=10.X.Y.1/24 "
		    "ipv4.nat=true ipv6.address=none dns.mode=none (a free "
		    "subnet), or fix the profiles' nic device", net);
		row(d, "bridge", "problem", fix, "network %s: %s", net,
		    lxd_error(d->l));
		goto out;
	}
	if (!json_is_true(json_object_get(n, "managed"))) {
		row(d, "bridge", "warn", NULL, "%s is not managed by LXD: "
		    "DHCP for the containers is up to the host", net);
		goto out;
	}
	conf = json_object_get(n, "config");
	addr = json_string_value(json_object_get(conf, "ipv4.address"));
	dhcp = json_string_value(json_object_get(conf, "ipv4.dhcp"));
	dns = json_string_value(json_object_get(conf, "dns.mode"));
	if (addr == NULL || *addr == '\0' || strcmp(addr, "none") == 0) {
		fix = xasprintf("lxc network set %s ipv4.address=10.X.Y.1/24 "
		    "(a free subnet)", net);
		row(d, "bridge", "problem", fix, "%s has no IPv4 address, so "
		    "no DHCP: containers get no address", net);
	} else if (dhcp != NULL && strcmp(dhcp, "false") == 0) {
		fix = xasprintf("lxc network set %s ipv4.dhcp=true", net);
		row(d, "bridge", "problem", fix, "%s has DHCP off "
		    "(ipv4.dhcp=false): containers get no address", net);
	} else if (dns == NULL || strcmp(dns, "none") != 0) {
		fix = xasprintf("lxc network set %s dns.mode=none", net);
		row(d, "bridge", "warn", fix, "%s (%s, DHCP on) puts container "
		    "names in DNS (dns.mode=%s): two users' containers of the "
		    "same name cannot run at once", net, addr,
		    dns != NULL ? dns : "managed");
	} else
		row(d, "bridge", "ok", NULL, "%s: %s, DHCP on, dns.mode=none",
		    net, addr);
out:
	free(fix);
	json_decref(n);
	free(path);
	free(e);
}

/* Profiles exist; their root pools and bridges, and storage_pool. */
static void
check_profiles(struct doctor *d)
{
	const struct config *cfg = &d->op->srv->cfg;
	json_t *pools = json_object(), *nets = json_object(), *v;
	const char *k;
	size_t n, i;
	char **names = profile_names(d, &n);

	add_name(pools, cfg->storage_pool);
	for (i = 0; i < n; i++) {
		json_t *prof = NULL, *dev;
		const char *dk;

		if (lxd_profile_get(d->l, names[i], &prof) != 0) {
			char *fix = xasprintf("lxc profile create %s, or fix "
			    "'profiles' in labcd.conf", names[i]);

			row(d, "profile", "problem", fix, "profile %s: %s",
			    names[i], lxd_error(d->l));
			free(fix);
			continue;
		}
		json_object_foreach(json_object_get(prof, "devices"), dk, dev) {
			const char *type = json_string_value(json_object_get(
			    dev, "type"));

			if (type != NULL && strcmp(type, "disk") == 0 &&
			    json_string_value(json_object_get(dev, "path")) &&
			    strcmp(json_string_value(json_object_get(dev,
			    "path")), "/") == 0 && *cfg->storage_pool == '\0')
				add_name(pools, json_string_value(
				    json_object_get(dev, "pool")));
			if (type != NULL && strcmp(type, "nic") == 0) {
				add_name(nets, json_string_value(
				    json_object_get(dev, "network")));
				add_name(nets, json_string_value(
				    json_object_get(dev, "parent")));
			}
		}
		json_decref(prof);
	}
	if (json_object_size(pools) == 0)
		row(d, "storage pool", "problem", "lxc profile device add "
		    "default root disk path=/ pool=POOL, or set storage_pool "
		    "in labcd.conf", "no root disk pool in the profiles (%s) "
		    "and no storage_pool", cfg->profiles);
	json_object_foreach(pools, k, v)
		check_pool(d, k);
	if (json_object_size(nets) == 0)
		row(d, "bridge", "warn", NULL, "no nic device in the profiles "
		    "(%s): containers have no network", cfg->profiles);
	json_object_foreach(nets, k, v)
		check_bridge(d, k);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	json_decref(pools);
	json_decref(nets);
}

static void
check_image(struct doctor *d)
{
	const char *img = d->op->srv->cfg.default_image;
	char *fp = NULL, *fix;

	if (lxd_image_resolve(d->l, "default", img, &fp) != 0) {
		fix = xasprintf("lxc image alias create %s FINGERPRINT (an "
		    "image of 'lxc image list'), or set default_image in "
		    "labcd.conf", img);
		row(d, "default image", "problem", fix, "default_image %s: %s",
		    img, lxd_error(d->l));
		free(fix);
		return;
	}
	row(d, "default image", "ok", NULL, "%s is %.12s", img, fp);
	free(fp);
}

/*
 * Ports of the range that something holds: labcd's own containers' proxy
 * devices hold theirs (the ports in the database) and are left out.
 */
static void
check_ports(struct doctor *d)
{
	const struct config *cfg = &d->op->srv->cfg;
	int lo = cfg->ssh_port_min, hi = cfg->ssh_port_max, p, taken = 0;
	unsigned char *ours = xcalloc((size_t)(hi - lo + 1), 1);
	struct buf list = BUF_INIT(0);
	char *fix;

	ctdb_ports_used(d->op->db, lo, hi, ours);
	for (p = lo; p <= hi; p++) {
		if (ours[p - lo] || port_free(cfg->ssh_listen, p))
			continue;
		if (taken++ < PORTS_SHOWN) {
			char who[160];

			/* Any local user names their process: inert. */
			port_holder(p, who, sizeof(who));
			inert_copy(who, sizeof(who), who);
			buf_printf(&list, "%s%d%s%s%s", taken > 1 ? ", " : "", p,
			    who[0] ? " (" : "", who, who[0] ? ")" : "");
		}
	}
	free(ours);
	if (taken > 0) {
		fix = xasprintf("see what holds them (ss -ltnp 'sport >= :%d "
		    "and sport <= :%d') and stop it, or move ssh_ports in "
		    "labcd.conf", lo, hi);
		row(d, "ssh ports", "problem", fix, "%d port%s of %d-%d on %s "
		    "held by something that is not a labcd container: %s%s",
		    taken, taken == 1 ? "" : "s", lo, hi, cfg->ssh_listen,
		    buf_str(&list), taken > PORTS_SHOWN ? ", ..." : "");
		free(fix);
	} else
		row(d, "ssh ports", "ok", NULL, "%d-%d on %s: free but for "
		    "labcd's containers", lo, hi, cfg->ssh_listen);
	buf_free(&list);
}

/*
 * The gateway uid is trusted to assert lab users: only sshd's key login
 * may reach it. Its password is locked ('*' or '!...', not empty: an
 * empty one lets every local user su to it), its home is root's, and sshd
 * runs the key lookup as an account of its own.
 */
static void
check_gateway_account(struct doctor *d, const struct passwd *pw,
    const char *fix)
{
	const struct config *cfg = &d->op->srv->cfg;
	struct spwd *sp = getspnam(pw->pw_name);
	struct passwd kpw, *kp = NULL;
	char kbuf[4096];
	struct stat st;

	if (sp == NULL || sp->sp_pwdp == NULL || (strcmp(sp->sp_pwdp, "*") != 0
	    && sp->sp_pwdp[0] != '!'))
		row(d, "gateway password", "problem", fix, "%s's password is "
		    "%s: any local user could su to it and speak for lab users",
		    pw->pw_name, sp == NULL ? "not in /etc/shadow" :
		    sp->sp_pwdp == NULL || sp->sp_pwdp[0] == '\0' ? "empty" :
		    "usable");
	else if (stat(pw->pw_dir, &st) != 0 || st.st_uid != 0 ||
	    (st.st_mode & 022))
		row(d, "gateway password", "problem", fix, "%s's password is "
		    "locked, but its home %s is not root's alone", pw->pw_name,
		    pw->pw_dir);
	else
		row(d, "gateway password", "ok", NULL, "%s's password is "
		    "locked (SSH keys only); its home %s is root's", pw->pw_name,
		    pw->pw_dir);
	/* Not getpwnam: pw is its static entry. */
	if (getpwnam_r(cfg->gateway_keys_user, &kpw, kbuf, sizeof(kbuf), &kp)
	    != 0)
		kp = NULL;
	if (kp == NULL || kp->pw_uid == 0 || kp->pw_uid == pw->pw_uid ||
	    strcmp(kp->pw_name, "nobody") == 0)
		row(d, "gateway key lookup", "problem", kp == NULL ? fix :
		    "set gateway_keys_user to an account of its own (default "
		    "labc-keys), then labc admin gateway setup", "%s "
		    "(gateway_keys_user) %s", cfg->gateway_keys_user,
		    kp == NULL ? "does not exist" : "is not an account of its "
		    "own: labcd answers it about every key");
	else
		row(d, "gateway key lookup", "ok", NULL, "sshd asks as %s (uid "
		    "%u)", kp->pw_name, (unsigned)kp->pw_uid);
}

/* sshd -T's value for key (a line "key value"), or NULL; caller frees. */
static char *
sshd_value(const char *conf, const char *key)
{
	size_t klen = strlen(key);
	const char *p;

	for (p = conf; p != NULL && *p != '\0'; p = strchr(p, '\n'),
	    p = p != NULL ? p + 1 : NULL) {
		if (strncmp(p, key, klen) == 0 && p[klen] == ' ')
			return xstrndup(p + klen + 1, strcspn(p + klen + 1,
			    "\n"));
	}
	return NULL;
}

/*
 * What sshd applies to the gateway account (sshd -T -C user=...): public
 * keys only, every key forced to labc (no authorized_keys file, no
 * ForceCommand that would replace labc), no forwarding of any kind, no
 * user rc. With every key forced, a Subsystem sftp request runs labc,
 * which refuses it: that is how sftp is unreachable for the account.
 */
static void
check_gateway_sshd(struct doctor *d, const char *eff, const char *fix)
{
	static const char *const want[][2] = {
		{ "authenticationmethods", "publickey" },
		{ "authorizedkeysfile", "none" },
		{ "forcecommand", "none" },
		{ "disableforwarding", "yes" },
		{ "allowtcpforwarding", "no" },
		{ "allowstreamlocalforwarding", "no" },
		{ "x11forwarding", "no" },
		{ "permittunnel", "no" },
		{ "permituserrc", "no" },
		{ "exposeauthinfo", "yes" },
	};
	struct buf bad = BUF_INIT(4096);
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char *v = sshd_value(eff, want[i][0]);

		/* sshd -T leaves out a ForceCommand that is not set. */
		if (v == NULL && strcmp(want[i][0], "forcecommand") == 0)
			continue;
		if (v == NULL || strcmp(v, want[i][1]) != 0)
			buf_printf(&bad, "%s%s %s (want %s)", bad.len ? ", " :
			    "", want[i][0], v ? v : "unset", want[i][1]);
		free(v);
	}
	if (bad.len > 0)
		row(d, "gateway sshd", "problem", fix, "sshd -T for %s: %s",
		    d->op->srv->cfg.gateway_user, buf_str(&bad));
	else
		row(d, "gateway sshd", "ok", NULL, "%s: public keys only, each "
		    "forced to labc (so no shell and no sftp), no forwarding, no "
		    "user rc", d->op->srv->cfg.gateway_user);
	buf_free(&bad);
}

static void
check_gateway(struct doctor *d)
{
	const struct config *cfg = &d->op->srv->cfg;
	const char *dir = d->dir ?: "/etc/ssh/sshd_config.d";
	const char *conf = d->conf ?: "/etc/ssh/sshd_config";
	char *path = xasprintf("%s/50-labcontainers.conf", dir), *out = NULL;
	char *who = xasprintf("user=%s,host=doctor,addr=127.0.0.1",
	    cfg->gateway_user), *fix;
	const char *test[] = { "/usr/sbin/sshd", "-t", "-f", conf, NULL };
	const char *eff[] = { "/usr/sbin/sshd", "-T", "-f", conf, "-C", who,
	    NULL };
	struct passwd *pw = getpwnam(cfg->gateway_user);
	struct stat sb;
	int r;

	fix = xasprintf("labc admin gateway setup%s%s%s%s", d->dir ?
	    " --dir " : "", d->dir ?: "", d->conf ? " --sshd-config " : "",
	    d->conf ?: "");
	if (pw == NULL)
		row(d, "gateway account", "problem", fix, "no host account %s "
		    "(gateway_user)", cfg->gateway_user);
	else if (strstr(pw->pw_shell, "labc") == NULL)
		row(d, "gateway account", "problem", fix, "%s has the login "
		    "shell %s, not labc", cfg->gateway_user, pw->pw_shell);
	else
		row(d, "gateway account", "ok", NULL, "%s (uid %u, shell %s)",
		    cfg->gateway_user, (unsigned)pw->pw_uid, pw->pw_shell);
	if (pw != NULL)
		check_gateway_account(d, pw, fix);

	if (access(test[0], X_OK) != 0) {
		row(d, "sshd drop-in", "problem", "apt-get install "
		    "openssh-server", "%s: %s: no sshd for the gateway", test[0],
		    strerror(errno));
		goto out;
	}
	if (stat(path, &sb) != 0) {
		row(d, "sshd drop-in", "problem", fix, "%s: %s", path,
		    strerror(errno));
		goto out;
	}
	if ((r = run_cmd(test, &out)) != 0) {
		char *f2 = xasprintf("correct %s (or remove it and run: %s), "
		    "then sshd -t -f %s", path, fix, conf);

		out[strcspn(out, "\n")] = '\0';
		/*
		 * sshd ran as root and quotes the files it reads: its words
		 * go to root only (an admin is not root); the log keeps them.
		 */
		if (r > 0) {
			char *shown = inert_str(out);

			log_warn("admin doctor: sshd -t -f %s: %s", conf, shown);
			free(shown);
		}
		row(d, "sshd drop-in", "problem", f2, "sshd -t -f %s refuses "
		    "the configuration: %s", conf, r < 0 ? "sshd did not run" :
		    d->op->actor->root ? out : "its message is in labcd's log "
		    "(or run 'sudo labc admin doctor' to see it)");
		free(f2);
		goto out;
	}
	free(out);
	out = NULL;
	/* In force for the gateway account: the Include reaches it. */
	if (run_cmd(eff, &out) != 0 || strstr(out, "\nauthorizedkeyscommand ")
	    == NULL || strstr(out, "--authorized-keys") == NULL) {
		char *f2 = xasprintf("add 'Include %s/*.conf' at the top of %s",
		    dir, conf);

		row(d, "sshd drop-in", "problem", f2, "%s is valid, but sshd "
		    "does not apply it to %s (sshd -T -C %s)", path,
		    cfg->gateway_user, who);
		free(f2);
		goto out;
	}
	row(d, "sshd drop-in", "ok", NULL, "%s: sshd -t accepts it, and it "
	    "applies to %s", path, cfg->gateway_user);
	check_gateway_sshd(d, out, fix);
out:
	free(fix);
	free(out);
	free(who);
	free(path);
}

/* Are GPUs expected on this host? */
static int
gpus_expected(struct doctor *d)
{
	int n = gpudb_count_all(d->op->db);

	/* nvidia_runtime = auto asks for nothing: it follows the host. */
	return n > 0 || strcmp(d->op->srv->cfg.gpu_default, "none") != 0 ||
	    (d->op->srv->cfg.nvidia_runtime &&
	    !d->op->srv->cfg.nvidia_runtime_auto);
}

/*
 * The mechanism that delivers the host's driver: nvidia_runtime (yes, or
 * auto and nvidia-container-cli found at labcd's start) and the program
 * LXD then runs at every start of a container given GPUs.
 */
static void
check_runtime(struct doctor *d)
{
	const struct config *cfg = &d->op->srv->cfg;
	const char *how = cfg->nvidia_runtime_auto ? "auto" : "yes";
	char path[4096];
	int found = run_find("nvidia-container-cli", path, sizeof(path));

	if (cfg->nvidia_runtime && !found)
		row(d, "nvidia runtime", "problem", "install NVIDIA's container "
		    "toolkit (nvidia-container-cli, see docs/admin.md), or set "
		    "nvidia_runtime = no", "nvidia_runtime is on, but "
		    "nvidia-container-cli is not in PATH: containers with GPUs "
		    "will not start (nvidia_runtime = %s)", how);
	else if (cfg->nvidia_runtime)
		row(d, "nvidia runtime", "ok", NULL, "on (nvidia_runtime = %s, "
		    "%s): containers given GPUs get the host's driver at their "
		    "start", how, path);
	else if (cfg->nvidia_runtime_auto && found)
		row(d, "nvidia runtime", "warn", "restart labcd (systemctl "
		    "restart labcd, or sudo ./setup.sh): nvidia_runtime = auto "
		    "then turns it on", "%s is there, but was not when labcd "
		    "started: containers given GPUs get no driver", path);
}

static void
check_nvidia(struct doctor *d)
{
	const struct config *cfg = &d->op->srv->cfg;
	struct nvml_gpu *g = NULL;
	size_t n = 0;
	char err[512];

	if (nvml_query(cfg->nvml_library, &g, &n, err, sizeof(err)) != 0) {
		int nodriver = strncmp(err, "no NVIDIA driver", 16) == 0;

		if (nodriver && !gpus_expected(d))
			row(d, "nvidia", "ok", NULL, "no NVIDIA GPU (%s); none "
			    "expected (gpu_default none, no GPU given out)",
			    err);
		else
			row(d, "nvidia", "problem", "install or load the NVIDIA "
			    "driver (nvidia-smi must work), or set "
			    "nvml_library in labcd.conf", "NVML: %s", err);
		return;
	}
	if (nvml_driver_version(cfg->nvml_library, d->driver,
	    sizeof(d->driver), err, sizeof(err)) != 0)
		d->driver[0] = '\0';
	row(d, "nvidia", "ok", NULL, "%zu GPU%s, driver %s (NVML from %s)", n,
	    n == 1 ? "" : "s", d->driver[0] ? d->driver : "unknown",
	    cfg->nvml_library);
	nvml_free(g, n);
	if (n > 0) {
		if (access("/dev/nvidia-uvm", F_OK) != 0)
			row(d, "nvidia-uvm", "problem", "nvidia-modprobe -u -c=0 "
			    "(or modprobe nvidia-uvm and make the node)",
			    "/dev/nvidia-uvm is missing: CUDA in the containers "
			    "cannot start");
		else
			row(d, "nvidia-uvm", "ok", NULL, "/dev/nvidia-uvm "
			    "present");
	}
	check_runtime(d);
}

/* "libnvidia-ml.so.550.54.15" in a directory listing: its version. */
static const char *
nvml_lib_version(json_t *names)
{
	static const char pre[] = "libnvidia-ml.so.";
	json_t *v;
	size_t i;

	json_array_foreach(names, i, v) {
		const char *s = json_string_value(v);

		if (s != NULL && strncmp(s, pre, sizeof(pre) - 1) == 0 &&
		    strchr(s + sizeof(pre) - 1, '.') != NULL)
			return s + sizeof(pre) - 1;
	}
	return NULL;
}

/*
 * Running containers of lab users that carry NVIDIA driver libraries
 * (their own, or the host's put in by nvidia.runtime at start) of another
 * version than the host's driver: after a driver upgrade, NVML in them
 * says "Driver/library version mismatch" until they restart.
 */
static void
check_driver_libs(struct doctor *d)
{
	const char *prefix = d->op->srv->cfg.project_prefix;
	json_t *list = NULL, *inst;
	size_t i;
	int seen = 0, bad = 0;

	if (d->driver[0] == '\0')
		return;
	if (lxd_instance_list(d->l, NULL, 1, &list) != 0) {
		row(d, "driver libraries", "warn", NULL, "cannot list "
		    "instances: %s", lxd_error(d->l));
		return;
	}
	json_array_foreach(list, i, inst) {
		const char *proj = json_string_value(json_object_get(inst,
		    "project")), *name = json_string_value(json_object_get(
		    inst, "name")), *status = json_string_value(json_object_get(
		    inst, "status")), *ver;
		char *data = NULL, *fix, vbuf[64];
		json_t *env;

		if (proj == NULL || name == NULL || status == NULL ||
		    strncmp(proj, prefix, strlen(prefix)) != 0 ||
		    strcmp(status, "Running") != 0)
			continue;
		if (lxd_file_get(d->l, proj, name, "/usr/lib/x86_64-linux-gnu",
		    1 << 20, &data, NULL) != 0) {
			free(data);
			continue;
		}
		env = json_loads(data, 0, NULL);
		free(data);
		/* A file name in a member's container: shown inert. */
		ver = nvml_lib_version(json_object_get(env, "metadata"));
		if (ver != NULL) {
			inert_copy(vbuf, sizeof(vbuf), ver);
			ver = vbuf;
			seen++;
			if (strcmp(ver, d->driver) != 0) {
				bad++;
				fix = xasprintf("labc --as %s restart %s (the "
				    "host's libraries come in at start with "
				    "nvidia_runtime), or install the %s driver "
				    "libraries inside it", proj + strlen(prefix),
				    name, d->driver);
				row(d, "driver libraries", "problem", fix,
				    "%s/%s has libnvidia-ml.so.%s, the host's "
				    "driver is %s", proj + strlen(prefix), name,
				    ver, d->driver);
				free(fix);
			}
		}
		json_decref(env);
	}
	json_decref(list);
	if (bad == 0)
		row(d, "driver libraries", "ok", NULL, "%d running container%s "
		    "with NVIDIA libraries, all %s", seen, seen == 1 ? "" : "s",
		    d->driver);
}

#define GPU_CTS_SHOWN	8	/* containers named in the detail */

/*
 * Lab users' containers given GPUs (gpu devices, in LXD's expanded view:
 * the profiles count) without nvidia.runtime: they have the devices but
 * not the host's driver, so nvidia-smi and CUDA work in them only with a
 * driver of their own image, of the host's version.
 */
static void
check_gpu_driver(struct doctor *d)
{
	const struct config *cfg = &d->op->srv->cfg;
	const char *prefix = cfg->project_prefix;
	struct buf names = BUF_INIT(0);
	json_t *list = NULL, *inst, *dev;
	size_t i;
	int given = 0, bare = 0;
	char *fix;

	if (lxd_instance_list(d->l, NULL, 0, &list) != 0) {
		row(d, "gpu driver", "warn", NULL, "cannot list instances: %s",
		    lxd_error(d->l));
		return;
	}
	json_array_foreach(list, i, inst) {
		const char *proj = json_string_value(json_object_get(inst,
		    "project")), *name = json_string_value(json_object_get(
		    inst, "name")), *k, *v;
		int gpu = 0;

		if (proj == NULL || name == NULL ||
		    strncmp(proj, prefix, strlen(prefix)) != 0)
			continue;
		json_object_foreach(json_object_get(inst, "expanded_devices"),
		    k, dev) {
			v = json_string_value(json_object_get(dev, "type"));
			gpu |= v != NULL && strcmp(v, "gpu") == 0;
		}
		if (!gpu)
			continue;
		given++;
		v = json_string_value(json_object_get(json_object_get(inst,
		    "expanded_config"), "nvidia.runtime"));
		if (v != NULL && strcmp(v, "true") == 0)
			continue;
		if (bare++ < GPU_CTS_SHOWN) {
			char shown[160];

			/* Names LXD holds: shown inert all the same. */
			snprintf(shown, sizeof(shown), "%s/%s",
			    proj + strlen(prefix), name);
			inert_copy(shown, sizeof(shown), shown);
			buf_printf(&names, "%s%s", names.len ? ", " : "", shown);
		}
	}
	json_decref(list);
	if (bare == 0) {
		if (given > 0)
			row(d, "gpu driver", "ok", NULL, "%d container%s with "
			    "GPUs, all given the host's driver (nvidia.runtime)",
			    given, given == 1 ? "" : "s");
		goto out;
	}
	if (cfg->nvidia_runtime)
		fix = xstrdup("restart them (labc --as USER restart NAME): "
		    "labcd gives a container with GPUs the host's driver at its "
		    "start");
	else if (cfg->nvidia_runtime_auto)
		fix = xstrdup("install NVIDIA's container toolkit "
		    "(nvidia-container-cli, see docs/admin.md), restart labcd "
		    "(nvidia_runtime = auto then turns on), then restart these "
		    "containers");
	else
		fix = xstrdup("set nvidia_runtime = auto in labcd.conf, install "
		    "NVIDIA's container toolkit (nvidia-container-cli, see "
		    "docs/admin.md), restart labcd, then restart these "
		    "containers");
	row(d, "gpu driver", "warn", fix, "%d container%s given GPUs (of %d) "
	    "get%s no driver from the host (%s): nvidia-smi and CUDA work in "
	    "them only with a driver of their image, of the host's version: "
	    "%s%s", bare, bare == 1 ? "" : "s", given, bare == 1 ? "s" : "",
	    cfg->nvidia_runtime ? "given GPUs before nvidia_runtime was on" :
	    cfg->nvidia_runtime_auto ? "nvidia_runtime = auto found no "
	    "nvidia-container-cli when labcd started, and no profile sets "
	    "nvidia.runtime" : "nvidia_runtime = no, and no profile sets "
	    "nvidia.runtime", buf_str(&names), bare > GPU_CTS_SHOWN ? ", ..." :
	    "");
	free(fix);
out:
	buf_free(&names);
}

static void
check_database(struct doctor *d)
{
	const char *db = d->op->srv->db_path;
	char *fix = xasprintf("stop labcd, keep a copy of %s, then: sqlite3 %s "
	    "'.recover' | sqlite3 %s.new && mv %s.new %s", db, db, db, db, db);
	char *integrity, *fk;
	int n;

	if (db_check(d->op->db, &integrity, &fk, &n) != 0) {
		row(d, "database", "problem", fix, "%s: %s", db, integrity);
		goto out;
	}
	if (integrity != NULL)
		row(d, "database", "problem", fix, "%s: integrity_check: %s",
		    db, integrity);
	if (fk == NULL)
		goto out;
	if (n > 0) {
		char *f2 = xasprintf("stop labcd, keep a copy of %s, and "
		    "delete the rows that point nowhere (sqlite3 %s 'PRAGMA "
		    "foreign_key_check')", db, db);

		row(d, "database", "problem", f2, "%d row%s whose owner is "
		    "gone: %s%s", n, n == 1 ? "" : "s", fk,
		    n > 3 ? "; ..." : "");
		free(f2);
	} else if (integrity == NULL)
		row(d, "database", "ok", NULL, "%s: integrity_check ok, no "
		    "broken references (schema %d)", db,
		    db_schema_version(d->op->db));
out:
	free(integrity);
	free(fk);
	free(fix);
}

/* What reconcile_run (only looking) finds, as rows: LXD is the truth. */
static void
check_drift(struct doctor *d)
{
	struct findings found = { 0 };
	size_t i;

	if (reconcile_run(d->op, 0, &found) != 0) {
		row(d, "drift", "warn", NULL, "could not compare the database "
		    "with LXD: %s", d->op->cause);
		findings_free(&found);
		return;
	}
	for (i = 0; i < found.n; i++) {
		const struct finding *f = &found.v[i];
		char *fix = f->kind == FIND_WOULD ?
		    xasprintf("labc admin reconcile (it will %s)", f->what) :
		    xstrdup(f->action);

		row(d, "drift", "problem", fix, "%s/%s: %s", f->user,
		    f->container, f->problem);
		free(fix);
	}
	if (found.n == 0)
		row(d, "drift", "ok", NULL, "the database and LXD agree");
	findings_free(&found);
}

/* isolate_members: what LXD needs for it; each member's state is drift. */
static void
check_isolation(struct doctor *d)
{
	json_t *info = NULL;
	const char *fw;
	char why[300];

	if (!d->op->srv->cfg.isolate_members) {
		row(d, "isolation", "ok", NULL, "off (isolate_members = no): "
		    "members' containers share the profiles' bridge and reach "
		    "each other");
		return;
	}
	(void)lxd_call(d->l, "GET", "/1.0", NULL, &info);
	fw = json_string_value(json_object_get(json_object_get(info,
	    "environment"), "firewall"));
	if (!lxd_has_extension(d->l, "network_acl") ||
	    !lxd_has_extension(d->l, "network_bridge_acl"))
		row(d, "isolation", "problem", "upgrade LXD (5.0 has them), or "
		    "set isolate_members = no", "LXD lacks network ACLs on "
		    "bridges (network_acl, network_bridge_acl): members' "
		    "containers cannot be kept apart");
	else if (isolate_profiles_movable(d->op, why, sizeof(why)) != 0)
		row(d, "isolation", "problem", "give the profile a bridged nic "
		    "('lxc profile device set ... network lxdbr0'), or set "
		    "isolate_members = no", "%s: no member's container starts "
		    "(it would not be kept apart)", why);
	else if (fw == NULL || *fw == '\0')
		row(d, "isolation", "warn", "apt-get install nftables, then "
		    "restart LXD", "LXD names no firewall driver, which its "
		    "network ACLs need");
	else
		row(d, "isolation", "ok", NULL, "on: each member's containers "
		    "on a bridge of their own with a network ACL (LXD's "
		    "firewall: %s); a member not yet so is listed under drift; "
		    "containers made before it get a new address at their next "
		    "start", fw);
	json_decref(info);
}

/*
 * Disk limits on a pool that does not enforce them (dir): default_disk,
 * quota_disk and the disk quotas of lab users' projects promise a size
 * that a container can write past.
 */
static void
check_disk_limits(struct doctor *d)
{
	const struct config *cfg = &d->op->srv->cfg;
	const char *prefix = cfg->project_prefix, *v;
	char *pool = pool_root(d->op), driver[32];
	struct buf what = BUF_INIT(0);
	json_t *projects = NULL, *p;
	size_t i, n = 0;

	if (pool == NULL || pool_enforces(d->l, pool, driver,
	    sizeof(driver)) != 0)
		goto out;	/* none: check_profiles says so; else fine */
	if (*cfg->default_disk != '\0')
		buf_printf(&what, "; default_disk = %s", cfg->default_disk);
	if (*cfg->quota_disk != '\0')
		buf_printf(&what, "; quota_disk = %s", cfg->quota_disk);
	if (lxd_project_list(d->l, &projects) == 0) {
		json_array_foreach(projects, i, p) {
			json_t *conf = json_object_get(p, "config");
			const char *name = json_string_value(json_object_get(p,
			    "name"));

			v = json_string_value(json_object_get(conf,
			    "limits.disk"));
			if (name == NULL || strncmp(name, prefix,
			    strlen(prefix)) != 0 || json_object_get(conf,
			    PROJECT_OWNER_KEY) == NULL || v == NULL || *v == '\0')
				continue;
			if (n++ < QUOTAS_SHOWN)
				buf_printf(&what, "; %s's disk quota %s",
				    json_string_value(
				    json_object_get(conf, PROJECT_OWNER_KEY)), v);
		}
		if (n > QUOTAS_SHOWN)
			buf_printf(&what, " and %zu more", n - QUOTAS_SHOWN);
	}
	if (what.len > 0)
		row(d, "disk limits", "warn", SIZES_POOL_FIX, "containers are "
		    "made on pool %s (%s), which does not enforce disk sizes, "
		    "yet disk limits are configured: %s", pool, driver,
		    buf_str(&what) + 2);
	else
		row(d, "disk limits", "ok", NULL, "pool %s (%s) does not "
		    "enforce disk sizes, and none is configured (--disk and "
		    "disk= quotas are refused there)", pool, driver);
out:
	json_decref(projects);
	buf_free(&what);
	free(pool);
}

/* btrfs enforces no size while its quota accounting is inconsistent. */
static void
check_btrfs_quota(struct doctor *d)
{
	struct buf warn = BUF_INIT(0), fix = BUF_INIT(0);

	sizes_btrfs_check(d->l, &warn, &fix);
	if (warn.len > 0)
		row(d, "disk limits", "warn", buf_str(&fix), "%s",
		    buf_str(&warn));
	buf_free(&warn);
	buf_free(&fix);
}

const char *const doctor_columns[] = { "check", "status", "detail", "fix",
	NULL };

int
doctor_checks(struct op *op, const char *dir, const char *sshd_config,
    struct table *t, int *warnings)
{
	struct doctor d = { .op = op, .t = t, .dir = dir, .conf = sshd_config };

	check_lxd(&d);
	if (d.l != NULL) {
		check_profiles(&d);
		check_disk_limits(&d);
		check_btrfs_quota(&d);
		check_image(&d);
		check_isolation(&d);
	}
	check_ports(&d);
	check_gateway(&d);
	check_nvidia(&d);
	if (d.l != NULL) {
		check_gpu_driver(&d);
		check_driver_libs(&d);
	}
	check_database(&d);
	if (d.l != NULL)
		check_drift(&d);
	*warnings = d.warnings;
	return d.problems;
}
