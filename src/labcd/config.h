/*
 * config.h - labcd's configuration: one table of keys with types, defaults
 * and documentation (config.c); `key = value` lines, `#` comments.
 */
#ifndef LABCD_CONFIG_H
#define LABCD_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#define CONFIG_DEFAULT_PATH	"/etc/labcontainers/labcd.conf"
#define CONFIG_AUTO		2	/* a yes/no/auto key said auto */

struct config {
	/* daemon */
	char	*socket;
	int	 socket_mode;
	char	*socket_group;
	char	*database;
	char	*log_level;
	int	 max_clients;
	int	 max_clients_per_uid;
	int	 max_clients_gateway;
	int	 frame_timeout;
	/* identity */
	char	*admin_group;
	int	 map_host_users;
	char	*gateway_user;
	char	*gateway_keys_user;
	char	*gateway_host;
	int	 gateway_port;
	int	 node_port;
	int	 login_max_failures;
	int	 login_lockout;
	int	 max_nc_per_user;
	int	 session_ttl;
	/* LXD and containers */
	char	*lxd_socket;
	char	*lxd_url;
	char	*lxd_cert;
	char	*lxd_key;
	char	*lxd_server_cert;
	char	*project_prefix;
	int	 reconcile_interval;
	int	 reconcile_on_change;
	int	 doctor_interval;
	int	 audit_retention_days;
	char	*default_image;
	char	*profiles;
	char	*storage_pool;
	int	 seed_containers;	/* copies of seeds (seed.c) */
	char	*container_user;
	char	*ssh_listen;
	int	 ssh_port_min;
	int	 ssh_port_max;
	int	 ssh_port_nat;		/* ssh_port_mode = nat */
	char	*default_cpu;
	char	*default_memory;
	char	*default_disk;
	char	*nvml_library;
	char	*gpu_default;
	int	 nvidia_runtime;	/* 0, 1; CONFIG_AUTO until labcd
					   decides at start (labcd.c) */
	int	 nvidia_runtime_auto;	/* it said auto (not a key) */
	char	*gpu_exclusive;
	int	 gpu_sample_interval;	/* seconds */
	int	 gpu_history_days;
	int	 gpu_lease_default;	/* seconds; 0: no end */
	int	 gpu_lease_max;		/* seconds; 0: any */
	char	*gpu_lease_unlimited;
	int	 gpu_lease_warn;	/* seconds */
	int	 gpu_idle_reclaim;	/* seconds; 0: never */
	int	 gpu_idle_util;		/* % */
	char	*quota_containers;
	char	*quota_cpu;
	char	*quota_memory;
	char	*quota_disk;
	char	*quota_gpus;
	char	*quota_snapshots;
	char	*import_max;
	int	 transfer_stall;	/* seconds */
	int	 isolate_members;
	/* labc-web */
	char	*web_user;
	char	*web_listen;
	int	 web_refresh;		/* seconds */
	int	 web_show_users;
	char	*member_subnets;
};

/* Fill in every default. */
void	config_defaults(struct config *c);
/*
 * Read a file over the defaults. A missing file is fine when must_exist is
 * 0. 0, or -1 with "FILE:LINE: what is wrong" in err.
 */
int	config_load(struct config *c, const char *path, int must_exist,
	    char *err, size_t errsz);
void	config_free(struct config *c);
/* A size such as 512MiB, 8GiB, 2GB or a byte count? 1 yes, 0 no. */
int	config_size_valid(const char *v);
/* Its bytes, or -1 if it is not one (or too large). */
long long config_size_bytes(const char *v);
/*
 * A duration: "90" or "90s", "10m" (or "10min"), "8h", "2d", "1w", or
 * several such as "1h30m"; seconds, or -1 if it is none.
 */
long long config_duration_secs(const char *v);
/* bytes as people read them: "512 MiB", "1.5 GiB", "3 GiB". */
void	config_size_str(long long bytes, char *out, size_t outsz);
/* secs as people read it: "45s", "55 min", "7h05", "2d3h". */
void	config_duration_str(long long secs, char *out, size_t outsz);
/* The name members reach this server by: gateway_host, else the host name. */
void	config_server_name(const struct config *c, char *out, size_t outsz);
/* 1 when LXD is on this host (its socket), 0 over HTTPS (lxd_url). */
int	config_lxd_local(const struct config *c);
/* lxd_url's host as written ("" on the socket). */
void	config_lxd_host(const struct config *c, char *out, size_t outsz);
/*
 * The IPv4 address labcd reaches the containers' ports at: ssh_listen
 * when it names one address; for every address, 127.0.0.1 where LXD is
 * on this host, else lxd_url's host (resolved): the ports are where LXD
 * runs.
 */
void	config_ports_addr(const struct config *c, char *out, size_t outsz);
/* 1 when ssh_listen is every address (empty, 0.0.0.0, ::). */
int	config_listen_wildcard(const struct config *c);
/*
 * SUFFIX of 'ssh box.SUFFIX': the first DNS label of the server name,
 * lowercase, or "lab" when that name is an address literal.
 */
void	config_server_suffix(const struct config *c, char *out, size_t outsz);
/*
 * Keys that must agree with each other (after config_load): 0, or -1
 * with what is wrong and what to set in err.
 */
int	config_check(const struct config *c, char *err, size_t errsz);
/* Print a commented configuration file with every key and its default. */
void	config_print_defaults(FILE *f);
/*
 * member_subnets: "A.B.C.D/N", N from 8 to 23, no host bits: the
 * network (host order) and N; 0, or -1 if v is not one.
 */
int	config_subnets_parse(const char *v, unsigned *net, int *bits);

#endif
