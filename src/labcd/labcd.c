/*
 * labcd.c - the labcontainers daemon: reads its configuration, prepares
 * the database, listens on its socket and serves labc until SIGTERM.
 *
 *   labcd [-f CONFIG] [-S SOCKET] [-d DATABASE] [-D] [-C] [--version]
 */
#include <getopt.h>
#include <grp.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>

#include "gpu-watch.h"
#include "health.h"
#include "labcd.h"
#include "log.h"
#include "lxd-cert.h"
#include "node.h"
#include "reconcile.h"
#include "view.h"
#include "run.h"
#include "seed.h"
#include "server.h"
#include "sizes.h"
#include "version.h"

static void
usage(void)
{
	fprintf(stderr, "usage: labcd [-f CONFIG] [-S SOCKET] [-d DATABASE] "
	    "[-D] [-C] [--lxd-cert] [--node] [--version]\n"
	    "  -f CONFIG    configuration file (default %s)\n"
	    "  -S SOCKET    socket to listen on (overrides 'socket')\n"
	    "  -d DATABASE  database file (overrides 'database')\n"
	    "  -D           stay in the foreground, log to stderr\n"
	    "  -C           print the default configuration and exit\n"
	    "  --lxd-cert   make labcd's client certificate for lxd_url (if\n"
	    "               there is none), say how the server trusts it, exit\n"
	    "  --node       on a member of an LXD cluster: serve its GPUs\n"
	    "               (read-only) to the labcd that runs the lab\n",
	    CONFIG_DEFAULT_PATH);
	exit(2);
}

static enum log_level
level_of(const char *s)
{
	if (strcmp(s, "error") == 0)
		return LOG_LVL_ERROR;
	if (strcmp(s, "warning") == 0)
		return LOG_LVL_WARN;
	if (strcmp(s, "debug") == 0)
		return LOG_LVL_DEBUG;
	return LOG_LVL_INFO;
}

/*
 * nvidia_runtime = auto: on when nvidia-container-cli, which LXD's
 * nvidia.runtime runs at a container's start, is in PATH now. Decided once:
 * a toolkit installed later counts from labcd's next start (doctor says so).
 */
static void
nvidia_runtime_decide(struct config *cfg)
{
	char path[4096];

	if (cfg->nvidia_runtime != CONFIG_AUTO)
		return;
	cfg->nvidia_runtime_auto = 1;
	cfg->nvidia_runtime = run_find("nvidia-container-cli", path,
	    sizeof(path));
	if (cfg->nvidia_runtime)
		log_info("nvidia_runtime = auto: on, %s found: containers "
		    "given GPUs get the host's driver (nvidia.runtime)", path);
	else
		log_info("nvidia_runtime = auto: off, no nvidia-container-cli "
		    "in PATH: containers given GPUs get the devices, not the "
		    "host's driver");
}

/* Pools that stopped enforcing sizes while labcd was away (sizes.h). */
static void
btrfs_mend(struct server *s)
{
	struct lxd *l = lxd_of_config(&s->cfg);
	json_t *info = NULL;

	if (lxd_call(l, "GET", "/1.0", NULL, &info) == 0)
		sizes_btrfs_mend(l);
	json_decref(info);
	lxd_free(l);
}

/* What the view sees change: drift to mend, GPUs taken out with lxc. */
static void
on_view_change(struct server *srv, const struct view_ct *before,
    const struct view_ct *after)
{
	reconcile_on_change(srv, before, after);
	gpu_watch_on_change(srv, before, after);
}

/* labcd --lxd-cert: the pair lxd_cert/lxd_key, made if need be. */
static int
lxd_cert_main(const struct config *cfg)
{
	char err[512], fp[80], host[256] = "labcd", cn[300];
	int r;

	if (gethostname(host, sizeof(host) - 1) != 0)
		snprintf(host, sizeof(host), "labcd");
	snprintf(cn, sizeof(cn), "labcd@%s", host);
	if ((r = lxd_cert_make(cfg->lxd_cert, cfg->lxd_key, cn, err,
	    sizeof(err))) < 0) {
		fprintf(stderr, "labcd: %s\n", err);
		return 1;
	}
	if (lxd_cert_fingerprint(cfg->lxd_cert, fp, sizeof(fp)) != 0) {
		fprintf(stderr, "labcd: %s is not a PEM certificate: move it "
		    "away and run 'labcd --lxd-cert' again\n", cfg->lxd_cert);
		return 1;
	}
	printf("%s %s (key %s)\nfingerprint %s\n", r == 1 ?
	    "labcd's LXD client certificate is there already:" :
	    "made labcd's LXD client certificate", cfg->lxd_cert, cfg->lxd_key,
	    fp);
	printf("On the LXD server, with a copy of %s:\n"
	    "  lxc config trust add %s\n"
	    "Then copy the server's certificate (server.crt in LXD's "
	    "directory, e.g.\n/var/lib/lxd/server.crt) here as %s and set "
	    "lxd_url in labcd.conf.\n", cfg->lxd_cert, cfg->lxd_cert,
	    cfg->lxd_server_cert);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *conf = NULL, *sock = NULL, *dbpath = NULL;
	struct server s;
	struct db *keeper;
	struct group *gr;
	char err[512];
	int ch, foreground = 0, make_cert = 0, node_mode = 0, r;
	static const struct option longopts[] = {
		{ "lxd-cert", no_argument, NULL, 'K' },
		{ "node", no_argument, NULL, 'N' },
		{ NULL, 0, NULL, 0 },
	};

	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("labcd %s\n", LABC_VERSION);
		return 0;
	}
	while ((ch = getopt_long(argc, argv, "f:S:d:DC", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'K':
			make_cert = 1;
			break;
		case 'N':
			node_mode = 1;
			break;
		case 'f':
			conf = optarg;
			break;
		case 'S':
			sock = optarg;
			break;
		case 'd':
			dbpath = optarg;
			break;
		case 'D':
			foreground = 1;
			break;
		case 'C':
			config_print_defaults(stdout);
			return 0;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	/*
	 * One thread per client: without a cap glibc gives threads arenas
	 * of their own, and memory that is never given back.
	 */
	mallopt(M_ARENA_MAX, 2);
	log_setup("labcd", LOG_LVL_INFO, 0);
	memset(&s, 0, sizeof(s));
	config_defaults(&s.cfg);
	if (config_load(&s.cfg, conf != NULL ? conf : CONFIG_DEFAULT_PATH,
	    conf != NULL, err, sizeof(err)) != 0)
		fatalx("%s", err);
	if (make_cert) {
		r = lxd_cert_main(&s.cfg);
		config_free(&s.cfg);
		return r;
	}
	if (node_mode) {
		log_setup("labcd-node", level_of(s.cfg.log_level), 0);
		r = node_main(&s.cfg);
		config_free(&s.cfg);
		return r;
	}
	log_setup("labcd", level_of(s.cfg.log_level), 0);
	nvidia_runtime_decide(&s.cfg);
	if (sodium_init() < 0)
		fatalx("libsodium cannot start");
	s.socket_path = sock != NULL ? sock : s.cfg.socket;
	s.db_path = dbpath != NULL ? dbpath : s.cfg.database;
	s.admin_gid = (gid_t)-1;
	if (*s.cfg.admin_group != '\0') {
		if ((gr = getgrnam(s.cfg.admin_group)) == NULL)
			log_warn("admin_group %s does not exist: only root is "
			    "an admin", s.cfg.admin_group);
		else
			s.admin_gid = gr->gr_gid;
	}
	pthread_mutex_init(&s.lock, NULL);
	pthread_cond_init(&s.idle, NULL);

	if (db_prepare_file(s.db_path, err, sizeof(err)) != 0)
		fatalx("%s", err);
	/*
	 * One connection open for labcd's life keeps the WAL index (-shm)
	 * in place: the last connection to close would remove it, and the
	 * next one could not make it again on a full disk.
	 */
	if ((keeper = db_open(s.db_path, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	if (server_listen(&s, err, sizeof(err)) != 0)
		fatalx("%s", err);
	if (!foreground && daemon(0, 1) != 0)
		fatalx("cannot become a daemon");
	btrfs_mend(&s);
	view_start(&s, on_view_change);
	reconcile_start(&s);
	health_start(&s);
	gpu_watch_start(&s);
	r = server_run(&s);
	/* First: it ends a comparison that doctor may be waiting for. */
	reconcile_stop();
	gpu_watch_stop();
	seed_stop();
	health_stop();
	view_stop();
	reconcile_watch_close();
	db_close(keeper);
	log_info("labcd stopped");
	config_free(&s.cfg);
	return r;
}
