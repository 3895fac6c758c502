/*
 * config.c - the configuration table: every key labcd reads, its type,
 * default and meaning. An unknown key, a repeated key or a bad value stops
 * start-up with the file and line.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "xmalloc.h"

enum ctype {
	C_STR, C_NAME, C_PREFIX, C_LEVEL, C_WHO, C_SIZE, C_SUBNETS,
	C_COUNT, C_URL,						/* text */
	C_INT, C_BOOL, C_AUTO, C_MODE, C_PORTS, C_PORTMODE,	/* kept as int */
	C_DUR				/* seconds; "" is 0 where min is 0 */
};

struct ckey {
	const char	*name;
	enum ctype	 type;
	size_t		 off;		/* into struct config */
	const char	*def;
	long		 min, max;	/* C_INT */
	const char	*doc;
};

#define O(f) offsetof(struct config, f)
#define PREFIX_MAX	31	/* project_prefix: 31 + a user's 32 < 64 */

static const struct ckey keys[] = {
	{ "socket", C_STR, O(socket), "/run/labcontainers/labcd.sock", 0, 0,
	  "Unix socket labc connects to (labcd -S overrides it)." },
	{ "socket_mode", C_MODE, O(socket_mode), "0666", 0, 0,
	  "Mode of the socket. Anyone may connect; identity decides what\n"
	  "they may do. Use 0660 with socket_group to limit who can connect." },
	{ "socket_group", C_STR, O(socket_group), "", 0, 0,
	  "Group owning the socket (empty: root's group)." },
	{ "database", C_STR, O(database), "/var/lib/labcontainers/labc.db", 0, 0,
	  "SQLite database of users, keys, containers, ports and the audit\n"
	  "log (labcd -d overrides it)." },
	{ "log_level", C_LEVEL, O(log_level), "info", 0, 0,
	  "error, warning, info or debug." },
	{ "max_clients", C_INT, O(max_clients), "256", 1, 4096,
	  "Connections served at once; the last sixteenth of them (at most\n"
	  "16) only for root and the admin group. Beyond, labcd answers\n"
	  "'too many clients' and closes." },
	{ "max_clients_per_uid", C_INT, O(max_clients_per_uid), "16", 1, 4096,
	  "Connections one host account may hold at once (root: no limit).\n"
	  "Through the gateway, the same for each SSH key." },
	{ "max_clients_gateway", C_INT, O(max_clients_gateway), "128", 1, 4096,
	  "Connections the gateway account may hold at once: all its SSH\n"
	  "sessions together." },
	{ "frame_timeout", C_INT, O(frame_timeout), "60", 1, 3600,
	  "Seconds a client has to send a whole message once it started one,\n"
	  "and to send its next request; then labcd closes the connection." },
	{ "admin_group", C_STR, O(admin_group), "", 0, 0,
	  "Host group whose members act as admins (uid 0 always does)." },
	{ "map_host_users", C_BOOL, O(map_host_users), "no", 0, 0,
	  "yes: a host user with the same name as a lab user acts as that lab\n"
	  "user without logging in." },
	{ "gateway_user", C_NAME, O(gateway_user), "lab", 0, 0,
	  "Host account of the SSH gateway (password '*', public keys\n"
	  "only); its uid may assert a lab user (labc --as) from a child of\n"
	  "sshd, which lets in only that user's proven key." },
	{ "gateway_keys_user", C_NAME, O(gateway_keys_user), "labc-keys", 0, 0,
	  "System account, of its own, that sshd runs 'labc\n"
	  "--authorized-keys' as (made by 'admin gateway setup'; not nobody)." },
	{ "gateway_host", C_STR, O(gateway_host), "", 0, 0,
	  "Name or address members use to reach the gateway (empty: this\n"
	  "host's name); it goes into 'labc ssh-config'." },
	{ "gateway_port", C_INT, O(gateway_port), "22", 1, 65535,
	  "Port of the gateway's sshd, for 'labc ssh-config'." },
	{ "login_max_failures", C_INT, O(login_max_failures), "5", 1, 1000,
	  "Wrong passwords in a row, for one lab user from one place (a host\n"
	  "account, or an SSH key at the gateway), before that place must\n"
	  "wait login_lockout seconds. The account itself is never locked by\n"
	  "guessing; strangers together get this many tries per\n"
	  "login_lockout." },
	{ "login_lockout", C_INT, O(login_lockout), "300", 1, 86400 * 7,
	  "Seconds a place waits after too many wrong passwords." },
	{ "max_nc_per_user", C_INT, O(max_nc_per_user), "8", 1, 1024,
	  "'nc' streams (ssh ProxyCommand) one lab user may have open at once." },
	{ "session_ttl", C_INT, O(session_ttl), "43200", 60, 86400 * 30,
	  "Seconds a password login lasts." },
	{ "node_port", C_INT, O(node_port), "8444", 1, 65535,
	  "On an LXD cluster: the port of 'labcd --node' on each member (read-\n"
	  "only: NVML and which container each GPU process is in), listening\n"
	  "on the member's cluster address, over TLS with the cluster's\n"
	  "certificate; labcd reads it with a certificate LXD trusts." },
	{ "lxd_socket", C_STR, O(lxd_socket), "", 0, 0,
	  "LXD's unix socket (empty: find it: LXD deb, LXD snap, Incus)." },
	{ "lxd_url", C_URL, O(lxd_url), "", 0, 0,
	  "LXD over the network instead of its socket: https://HOST:PORT\n"
	  "(the server's core.https_address). labcd proves itself with\n"
	  "lxd_cert and lxd_key, which the server must trust ('lxc config\n"
	  "trust add'), and accepts only the server certificate in\n"
	  "lxd_server_cert. Empty: the unix socket." },
	{ "lxd_cert", C_STR, O(lxd_cert), "/etc/labcontainers/lxd-client.crt",
	  0, 0, "labcd's client certificate for lxd_url (PEM)." },
	{ "lxd_key", C_STR, O(lxd_key), "/etc/labcontainers/lxd-client.key",
	  0, 0, "Its private key (PEM, readable by root only)." },
	{ "lxd_server_cert", C_STR, O(lxd_server_cert),
	  "/etc/labcontainers/lxd-server.crt", 0, 0,
	  "The certificate of the LXD at lxd_url (its server.crt): the only\n"
	  "one accepted." },
	{ "project_prefix", C_PREFIX, O(project_prefix), "lab-", 0, 0,
	  "Each lab user's LXD project is this prefix + the user name.\n"
	  "labcontainers never touches a project without it. At most 31\n"
	  "lowercase letters, digits or '-'." },
	{ "reconcile_interval", C_INT, O(reconcile_interval), "300", 0, 86400,
	  "Seconds between comparisons of the database with LXD (0: only at\n"
	  "start-up, after LXD failed mid-way, and on 'admin reconcile')." },
	{ "reconcile_on_change", C_BOOL, O(reconcile_on_change), "yes", 0, 0,
	  "Compare at once when LXD's events show a lab user's container\n"
	  "changed behind labcd's back: deleted, made in their project, its\n"
	  "SSH port device moved or removed (no: only every\n"
	  "reconcile_interval)." },
	{ "doctor_interval", C_INT, O(doctor_interval), "3600", 0, 86400 * 7,
	  "Seconds between the checks of 'admin doctor' that labcd runs by\n"
	  "itself (0: never); the first a minute after start-up, or sooner\n"
	  "with a shorter interval. A new problem is logged and told to each\n"
	  "admin once, at their next labc command." },
	{ "audit_retention_days", C_INT, O(audit_retention_days), "365", 0,
	  36500,
	  "Days the audit log keeps a row (0: forever). Older rows are removed\n"
	  "once a day, the first time an hour after labcd announced it in the\n"
	  "log; each removal is itself audited." },
	{ "default_image", C_STR, O(default_image), "labc-base", 0, 0,
	  "Image alias or fingerprint used when launch has no --image." },
	{ "profiles", C_STR, O(profiles), "default", 0, 0,
	  "Comma-separated LXD profiles (of the default project) every\n"
	  "container gets." },
	{ "isolate_members", C_BOOL, O(isolate_members), "yes", 0, 0,
	  "yes: each lab user's containers get a bridge of their own, with\n"
	  "a /24 of member_subnets and an LXD network ACL that rejects\n"
	  "traffic to and from the other members' bridges: members' containers\n"
	  "do not reach each other, and still reach this host and beyond.\n"
	  "A member's running containers move at their next start after all\n"
	  "of them stopped, with a new subnet and address (an upgrade moves\n"
	  "every member so). no: all share the profiles' bridge." },
	{ "member_subnets", C_SUBNETS, O(member_subnets), "10.240.0.0/16", 0, 0,
	  "IPv4 range the members' bridges take their /24 from (isolate_members),\n"
	  "skipping subnets LXD or this host's routes already use (not a route\n"
	  "holding the whole range): A.B.C.D/N, N from 8 to 23." },
	{ "storage_pool", C_STR, O(storage_pool), "", 0, 0,
	  "Storage pool of the containers' root disks (empty: the profile's)." },
	{ "seed_containers", C_BOOL, O(seed_containers), "no", 0, 0,
	  "yes: a new container is a copy of a seed, a stopped container of\n"
	  "its image on its pool that LXD started once (nothing of the image\n"
	  "ran), kept in LXD project PREFIX0seeds and made in the background\n"
	  "after the first create of the image: no remapping of its files at\n"
	  "its first start, and on btrfs a snapshot for a copy; a launch\n"
	  "about 0.5 s faster there. Not on a cluster." },
	{ "container_user", C_NAME, O(container_user), "ubuntu", 0, 0,
	  "Login user inside containers: exists with sudo, and holds the lab\n"
	  "user's registered SSH keys." },
	{ "ssh_listen", C_STR, O(ssh_listen), "0.0.0.0", 0, 0,
	  "Host address the containers' SSH ports listen on (a loopback\n"
	  "address: reachable through the gateway only). Changed, every\n"
	  "container follows at the next reconciliation." },
	{ "ssh_ports", C_PORTS, O(ssh_port_min), "61000-61999", 0, 0,
	  "Range of host ports given to containers, one each, for good." },
	{ "ssh_port_mode", C_PORTMODE, O(ssh_port_nat), "proxy", 0, 0,
	  "How a container's port reaches its sshd. proxy: LXD's forkproxy\n"
	  "connects inside the container (any ssh_listen). nat: the kernel\n"
	  "forwards (nftables DNAT) to a fixed address labcd gives the\n"
	  "container on its bridge, guarded by LXD's IPv4 filtering on every\n"
	  "such NIC: a launch a second faster, and full speed through the\n"
	  "port; ssh_listen must then be one non-loopback IPv4 address of\n"
	  "this host, and isolate_members yes. Containers made before keep\n"
	  "forkproxy." },
	{ "default_cpu", C_COUNT, O(default_cpu), "", 0, 0,
	  "CPUs of a container without --cpu (empty: no limit)." },
	{ "default_memory", C_SIZE, O(default_memory), "", 0, 0,
	  "Memory of a container without --memory, e.g. 8GiB (empty: no\n"
	  "limit)." },
	{ "default_disk", C_SIZE, O(default_disk), "", 0, 0,
	  "Root disk size of a container without --disk, e.g. 50GiB (empty:\n"
	  "no limit). A pool that cannot enforce it (dir) refuses it." },
	{ "nvml_library", C_STR, O(nvml_library), "libnvidia-ml.so.1", 0, 0,
	  "NVIDIA's NVML library, loaded at run time (no build dependency);\n"
	  "without it GPU commands say 'no NVIDIA driver found'." },
	{ "gpu_default", C_STR, O(gpu_default), "none", 0, 0,
	  "GPUs of a container made without --gpu: none, all, or a list of\n"
	  "nvidia-smi indexes such as 0,1." },
	{ "nvidia_runtime", C_AUTO, O(nvidia_runtime), "auto", 0, 0,
	  "yes: containers given GPUs get nvidia.runtime=true, so the host's\n"
	  "driver libraries and nvidia-smi are mounted in at their start and\n"
	  "images need none of their own (needs nvidia-container-cli, from\n"
	  "NVIDIA's container toolkit). auto: yes when labcd finds\n"
	  "nvidia-container-cli in its PATH as it starts (it logs which)." },
	{ "gpu_exclusive", C_WHO, O(gpu_exclusive), "admins", 0, 0,
	  "Who may hold GPUs exclusively (--exclusive: nobody else may use\n"
	  "them): admins, everyone, or lab users separated by commas (and\n"
	  "admins). Members refused it may still share GPUs." },
	{ "gpu_sample_interval", C_DUR, O(gpu_sample_interval), "10s", 1,
	  3600,
	  "How often labcd reads each GPU's use through NVML (10s, 1m...):\n"
	  "utilisation, memory, and which container's processes are on it.\n"
	  "It feeds 'usage', the idle clocks and gpu_idle_reclaim." },
	{ "gpu_history_days", C_INT, O(gpu_history_days), "90", 1, 3650,
	  "Days 'usage' keeps its per-minute GPU rows (older go, once a day)." },
	{ "gpu_lease_default", C_DUR, O(gpu_lease_default), "", 0, 86400 * 366,
	  "How long GPUs given without --for are held (8h, 2d...; empty: no\n"
	  "end). At the end labcd takes them from the container, which keeps\n"
	  "running." },
	{ "gpu_lease_max", C_DUR, O(gpu_lease_max), "", 0, 86400 * 366,
	  "The longest --for a member may ask for, and renew to (empty: any).\n"
	  "Set, GPUs without an end are only for gpu_lease_unlimited: others'\n"
	  "get gpu_lease_max when gpu_lease_default is empty." },
	{ "gpu_lease_unlimited", C_WHO, O(gpu_lease_unlimited), "admins", 0, 0,
	  "Who may hold GPUs longer than gpu_lease_max, or without end:\n"
	  "admins, everyone, or lab users separated by commas (and admins)." },
	{ "gpu_lease_warn", C_DUR, O(gpu_lease_warn), "1h", 0, 86400 * 7,
	  "How long before a lease ends its owner is told: a line on the\n"
	  "container's terminals (wall) and at their next labc command." },
	{ "gpu_idle_reclaim", C_DUR, O(gpu_idle_reclaim), "", 0, 86400 * 366,
	  "Take back a GPU whose container had no process on it, or kept it\n"
	  "under gpu_idle_util %, this long (4h...; empty: never). The\n"
	  "container keeps running; 'admin gpu exempt' spares a user or a\n"
	  "container." },
	{ "gpu_idle_util", C_INT, O(gpu_idle_util), "5", 0, 100,
	  "Utilisation (%) under which a GPU with processes still counts as\n"
	  "idle, for gpu_idle_reclaim." },
	{ "quota_containers", C_COUNT, O(quota_containers), "5", 0, 0,
	  "Containers a new lab user may have (empty: no limit), so that one\n"
	  "member cannot take every SSH port. Quotas are LXD project limits;\n"
	  "'admin quota set' changes them per user." },
	{ "quota_gpus", C_COUNT, O(quota_gpus), "2", 0, 0,
	  "GPUs a new lab user may have at once, over all their containers\n"
	  "(empty: no limit); 'admin quota set USER gpus=N' changes it." },
	{ "quota_snapshots", C_COUNT, O(quota_snapshots), "10", 0, 0,
	  "Snapshots a new lab user may keep, over all their containers\n"
	  "(empty: no limit), scheduled ones included; 'admin quota set\n"
	  "USER snapshots=N' changes it." },
	{ "import_max", C_SIZE, O(import_max), "64GiB", 0, 0,
	  "The largest tarball 'import' reads (a member with a disk quota:\n"
	  "at most that quota); empty: no limit." },
	{ "transfer_stall", C_DUR, O(transfer_stall), "5m", 1, 86400,
	  "How long an export's reader may take nothing, or an import's\n"
	  "sender send nothing, before labcd gives the transfer up (and\n"
	  "deletes what it made for it)." },
	{ "quota_cpu", C_COUNT, O(quota_cpu), "", 0, 0,
	  "CPUs all of a new lab user's containers may use together." },
	{ "quota_memory", C_SIZE, O(quota_memory), "", 0, 0,
	  "Memory all of a new lab user's containers may use together." },
	{ "quota_disk", C_SIZE, O(quota_disk), "", 0, 0,
	  "Disk all of a new lab user's containers may use together." },
	{ "web_user", C_NAME, O(web_user), "labc-web", 0, 0,
	  "System account, of its own, that labc-web (the status page and\n"
	  "/metrics) runs as: it may ask labcd for the lab's status and\n"
	  "nothing else (not root, nobody or a gateway account)." },
	{ "web_listen", C_STR, O(web_listen), "127.0.0.1:8640", 0, 0,
	  "Address:port labc-web serves the status page on (empty: labc-web\n"
	  "is not run, and doctor does not look for it)." },
	{ "web_refresh", C_DUR, O(web_refresh), "5s", 1, 3600,
	  "How often the status page refreshes; labc-web asks labcd at most\n"
	  "once per interval, however many people look." },
	{ "web_show_users", C_BOOL, O(web_show_users), "yes", 0, 0,
	  "no: the status page and /metrics say 'member N' and 'ct N' instead\n"
	  "of lab users' and containers' names." },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static char **
str_at(struct config *c, const struct ckey *k)
{
	return (char **)((char *)c + k->off);
}

static int *
int_at(struct config *c, const struct ckey *k)
{
	return (int *)((char *)c + k->off);
}

int
config_size_valid(const char *v)
{
	static const char *const units[] = { "", "B", "kB", "MB", "GB", "TB",
	    "KiB", "MiB", "GiB", "TiB" };
	const char *p = v;
	size_t i;

	if (!isdigit((unsigned char)*p))
		return 0;
	while (isdigit((unsigned char)*p))
		p++;
	/* A petabyte in bytes has 16 digits: more is a typing slip. */
	if (p - v > 15)
		return 0;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(p, units[i]) == 0)
			return 1;
	}
	return 0;
}

long long
config_size_bytes(const char *v)
{
	static const struct { const char *u; long long m; } units[] = {
		{ "", 1 }, { "B", 1 }, { "kB", 1000LL }, { "MB", 1000000LL },
		{ "GB", 1000000000LL }, { "TB", 1000000000000LL },
		{ "KiB", 1LL << 10 }, { "MiB", 1LL << 20 }, { "GiB", 1LL << 30 },
		{ "TiB", 1LL << 40 },
	};
	char *end;
	long long n;
	size_t i;

	if (v == NULL || *v < '0' || *v > '9')
		return -1;
	n = strtoll(v, &end, 10);
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].u) == 0)
			return n > (1LL << 62) / units[i].m ? -1 : n * units[i].m;
	}
	return -1;
}

long long
config_duration_secs(const char *v)
{
	static const struct { char u; long long m; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
		{ 'w', 86400 * 7 },
	};
	const char *p = v;
	long long total = 0, n;
	size_t i;

	if (v == NULL || *v < '0' || *v > '9')
		return -1;
	/* One or more NUMBER UNIT, such as 90s, 8h or 1d12h; a bare
	   number is seconds. */
	while (*p != '\0') {
		const char *d = p;

		if (*p < '0' || *p > '9')
			return -1;
		for (n = 0; *p >= '0' && *p <= '9'; p++) {
			if (p - d >= 9)
				return -1;
			n = n * 10 + (*p - '0');
		}
		if (*p == '\0') {
			if (d != v)
				return -1;	/* "1h30": 30 what? */
			return n;
		}
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			if (*p == units[i].u)
				break;
		}
		if (i == sizeof(units) / sizeof(units[0]))
			return -1;
		/* "min" is minutes too, as people write it. */
		p += *p == 'm' && strncmp(p, "min", 3) == 0 ? 3 : 1;
		total += n * units[i].m;
		if (total > 86400LL * 1000000)
			return -1;
	}
	return total;
}

void
config_size_str(long long bytes, char *out, size_t outsz)
{
	static const char *const u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double d = (double)bytes;
	int i = 0;

	while (d >= 1024 && i < 4) {
		d /= 1024;
		i++;
	}
	snprintf(out, outsz, d == (long long)d ? "%.0f %s" : "%.1f %s", d, u[i]);
}

void
config_duration_str(long long secs, char *out, size_t outsz)
{
	if (secs < 0)
		secs = 0;
	if (secs < 120)
		snprintf(out, outsz, "%llds", secs);
	else if (secs < 7200)
		snprintf(out, outsz, "%lld min", (secs + 30) / 60);
	else if (secs < 86400 * 2)
		snprintf(out, outsz, "%lldh%02lld", secs / 3600,
		    (secs % 3600) / 60);
	else
		snprintf(out, outsz, "%lldd%lldh", secs / 86400,
		    (secs % 86400) / 3600);
}

static int
parse_long(const char *v, long min, long max, long *out)
{
	char *end;
	long n;

	/* Digits only: strtol also takes "+4" and " 4", which LXD and
	 * the other readers of these values do not. */
	if (!isdigit((unsigned char)*v))
		return -1;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

int
config_subnets_parse(const char *v, unsigned *net, int *bits)
{
	unsigned a, b, c, d;
	int n, len = 0;

	if (sscanf(v, "%3u.%3u.%3u.%3u/%2d%n", &a, &b, &c, &d, &n,
	    &len) != 5 || v[len] != '\0' || !isdigit((unsigned char)*v) ||
	    a > 255 || b > 255 || c > 255 || d > 255 || n < 8 || n > 23)
		return -1;
	*net = a << 24 | b << 16 | c << 8 | d;
	if ((*net & ((1u << (32 - n)) - 1)) != 0)
		return -1;
	*bits = n;
	return 0;
}

/* Set one key from text; 0 or -1 with the reason in err. */
/*
 * Why v is not a value of the string key k, as the end of "KEY must be
 * ..." (rule, rulesz); NULL if it is one.
 */
static const char *
string_invalid(const struct ckey *k, const char *v, char *rule, size_t rulesz)
{
	const char *p;
	unsigned net;
	int bits;
	long n;

	switch (k->type) {
	case C_NAME:
		for (p = v; *p != '\0'; p++) {
			if (!islower((unsigned char)*p) &&
			    !isdigit((unsigned char)*p) && *p != '-' && *p != '_')
				break;
		}
		if (*v == '\0' || *p != '\0' || strlen(v) > 32)
			return "must be 1 to 32 lowercase letters, digits, '-' "
			    "or '_'";
		return NULL;
	case C_PREFIX:
		/*
		 * With a user name (up to 32) it makes an LXD project name
		 * that must fit labcd's 64-byte buffers untruncated, or two
		 * users could share a project; LXD refuses '_' in one.
		 */
		if (*v == '\0' || strlen(v) > PREFIX_MAX ||
		    strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789-") !=
		    strlen(v)) {
			snprintf(rule, rulesz, "must be 1 to %d lowercase "
			    "letters, digits or '-'", PREFIX_MAX);
			return rule;
		}
		return NULL;
	case C_LEVEL:
		if (strcmp(v, "error") != 0 && strcmp(v, "warning") != 0 &&
		    strcmp(v, "info") != 0 && strcmp(v, "debug") != 0)
			return "must be error, warning, info or debug";
		return NULL;
	case C_WHO:
		/* admins, everyone, or names: a-z 0-9 - _, commas between. */
		if (strcmp(v, "admins") != 0 && strcmp(v, "everyone") != 0 &&
		    (*v == '\0' || *v == ',' || v[strlen(v) - 1] == ',' ||
		    strstr(v, ",,") != NULL || strspn(v, "abcdefghijklmnopqrs"
		    "tuvwxyz0123456789-_,") != strlen(v)))
			return "must be admins, everyone, or lab user names "
			    "separated by commas";
		return NULL;
	case C_SIZE:
		if (*v != '\0' && !config_size_valid(v))
			return "must be a size such as 512MiB or 8GiB, or empty";
		return NULL;
	case C_COUNT:
		if (*v != '\0' && parse_long(v, 1, 4096, &n) != 0)
			return "must be a number from 1 to 4096, or empty";
		return NULL;
	case C_URL:
		/* https://HOST[:PORT], no path, no user, nothing odd. */
		if (*v == '\0')
			return NULL;
		n = (long)strlen(v);
		if (n > 8 && v[n - 1] == '/')
			n--;			/* one trailing '/' */
		if (strncmp(v, "https://", 8) != 0 || n <= 8 || n > 200 ||
		    (long)strspn(v + 8, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") < n - 8)
			return "must be https://HOST:PORT (LXD's "
			    "core.https_address), or empty for the unix socket";
		return NULL;
	case C_SUBNETS:
		if (config_subnets_parse(v, &net, &bits) != 0)
			return "must be an IPv4 network A.B.C.D/N with N from 8 "
			    "to 23 and no host bits, such as 10.240.0.0/16";
		return NULL;
	default:
		return NULL;	/* C_STR: any text */
	}
}

/* Set a key whose value is a number, a yes/no, a mode or a port range. */
static int
set_number(struct config *c, const struct ckey *k, const char *v, char *err,
    size_t errsz)
{
	long n, lo, hi;
	char *end;

	switch (k->type) {
	case C_INT:
		if (parse_long(v, k->min, k->max, &n) != 0) {
			snprintf(err, errsz, "%s must be a number from %ld to "
			    "%ld", k->name, k->min, k->max);
			return -1;
		}
		*int_at(c, k) = (int)n;
		return 0;
	case C_BOOL:
	case C_AUTO:
		if (k->type == C_AUTO && strcmp(v, "auto") == 0)
			*int_at(c, k) = CONFIG_AUTO;
		else if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 ||
		    strcmp(v, "on") == 0 || strcmp(v, "1") == 0)
			*int_at(c, k) = 1;
		else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 ||
		    strcmp(v, "off") == 0 || strcmp(v, "0") == 0)
			*int_at(c, k) = 0;
		else {
			snprintf(err, errsz, "%s must be yes%s or no", k->name,
			    k->type == C_AUTO ? ", auto" : "");
			return -1;
		}
		return 0;
	case C_PORTMODE:
		if (strcmp(v, "proxy") != 0 && strcmp(v, "nat") != 0) {
			snprintf(err, errsz, "%s must be proxy or nat", k->name);
			return -1;
		}
		*int_at(c, k) = strcmp(v, "nat") == 0;
		return 0;
	case C_MODE:
		errno = 0;
		n = strtol(v, &end, 8);
		if (errno != 0 || end == v || *end != '\0' || n < 0 ||
		    n > 0777) {
			snprintf(err, errsz, "%s must be an octal mode such as "
			    "0660", k->name);
			return -1;
		}
		*int_at(c, k) = (int)n;
		return 0;
	case C_DUR:
		if (*v == '\0' && k->min == 0) {
			*int_at(c, k) = 0;
			return 0;
		}
		n = (long)config_duration_secs(v);
		if (n < k->min || n > k->max) {
			snprintf(err, errsz, "%s must be a duration such as "
			    "90s, 10m, 8h or 2d, from %lds to %lds%s", k->name,
			    k->min > 0 ? k->min : 1, k->max, k->min == 0 ?
			    ", or empty" : "");
			return -1;
		}
		*int_at(c, k) = (int)n;
		return 0;
	case C_PORTS:
		lo = strtol(v, &end, 10);
		if (!isdigit((unsigned char)*v) || *end != '-' ||
		    parse_long(end + 1, 1, 65535, &hi) != 0 || lo < 1024 ||
		    lo > hi) {
			snprintf(err, errsz, "%s must be a range LOW-HIGH of "
			    "ports from 1024 to 65535", k->name);
			return -1;
		}
		c->ssh_port_min = (int)lo;
		c->ssh_port_max = (int)hi;
		return 0;
	default:
		return -1;
	}
}

static int
set_value(struct config *c, const struct ckey *k, const char *v, char *err,
    size_t errsz)
{
	char rule[96];
	const char *why;

	switch (k->type) {
	case C_INT:
	case C_BOOL:
	case C_AUTO:
	case C_MODE:
	case C_PORTS:
	case C_PORTMODE:
	case C_DUR:
		return set_number(c, k, v, err, errsz);
	default:
		break;
	}
	if ((why = string_invalid(k, v, rule, sizeof(rule))) != NULL) {
		snprintf(err, errsz, "%s %s", k->name, why);
		return -1;
	}
	free(*str_at(c, k));
	*str_at(c, k) = xstrdup(v);
	return 0;
}

void
config_server_name(const struct config *c, char *out, size_t outsz)
{
	if (c->gateway_host != NULL && *c->gateway_host != '\0') {
		snprintf(out, outsz, "%s", c->gateway_host);
		return;
	}
	if (outsz < 2 || gethostname(out, outsz - 1) != 0 || *out == '\0')
		snprintf(out, outsz, "localhost");
	out[outsz - 1] = '\0';
}

int
config_lxd_local(const struct config *c)
{
	return c->lxd_url == NULL || *c->lxd_url == '\0';
}

void
config_lxd_host(const struct config *c, char *out, size_t outsz)
{
	const char *h, *e;

	*out = '\0';
	if (config_lxd_local(c))
		return;
	h = c->lxd_url + 8;		/* after "https://" */
	if (*h == '[') {
		h++;
		e = strchr(h, ']');
	} else
		e = h + strcspn(h, ":/");
	if (e == NULL)
		e = h + strlen(h);
	snprintf(out, outsz, "%.*s", (int)(e - h), h);
}

static int
wildcard(const char *a)
{
	return *a == '\0' || strcmp(a, "0.0.0.0") == 0 || strcmp(a, "::") == 0;
}

int
config_listen_wildcard(const struct config *c)
{
	return wildcard(c->ssh_listen);
}

void
config_ports_addr(const struct config *c, char *out, size_t outsz)
{
	struct addrinfo hints = { .ai_family = AF_INET,
	    .ai_socktype = SOCK_STREAM }, *res = NULL;
	char host[256];

	if (!wildcard(c->ssh_listen)) {
		snprintf(out, outsz, "%s", c->ssh_listen);
		return;
	}
	snprintf(out, outsz, "127.0.0.1");
	if (config_lxd_local(c))
		return;
	config_lxd_host(c, host, sizeof(host));
	if (getaddrinfo(host, NULL, &hints, &res) == 0 && res != NULL)
		inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->
		    sin_addr, out, (socklen_t)outsz);
	if (res != NULL)
		freeaddrinfo(res);
}

int
config_check(const struct config *c, char *err, size_t errsz)
{
	struct in_addr a;
	unsigned top;

	if (!c->ssh_port_nat)
		return 0;
	top = inet_pton(AF_INET, c->ssh_listen, &a) == 1 ?
	    ntohl(a.s_addr) >> 24 : 0;
	/* 0.x, the loopback, multicast and broadcast are no host's own. */
	if (top == 0 || top == 127 || top >= 224) {
		snprintf(err, errsz, "ssh_port_mode = nat needs ssh_listen to "
		    "be one IPv4 address of this host that members reach, not "
		    "'%.60s' (LXD's NAT cannot listen on every address, and "
		    "the kernel does not forward what arrives on the "
		    "loopback): set ssh_listen to the server's address, or "
		    "ssh_port_mode = proxy", c->ssh_listen);
		return -1;
	}
	/*
	 * On a bridge members share, a container whose NIC labcd did not
	 * filter (imported, adopted, made before) could answer for the
	 * address another member's port forwards to.
	 */
	if (!c->isolate_members) {
		snprintf(err, errsz, "ssh_port_mode = nat needs isolate_members "
		    "= yes: on a bridge members share, a container labcd did "
		    "not give a filtered NIC (imported, adopted, or made "
		    "before) could answer for another member's address; set "
		    "isolate_members = yes, or ssh_port_mode = proxy");
		return -1;
	}
	return 0;
}

void
config_server_suffix(const struct config *c, char *out, size_t outsz)
{
	char name[256], *p;
	unsigned char a[16];

	config_server_name(c, name, sizeof(name));
	/* An address literal has no name to take a label from. */
	if (inet_pton(AF_INET, name, a) == 1 ||
	    inet_pton(AF_INET6, name, a) == 1 ||
	    (name[0] == '[' && strchr(name, ']') != NULL)) {
		snprintf(out, outsz, "lab");
		return;
	}
	if ((p = strchr(name, '.')) != NULL)
		*p = '\0';
	for (p = name; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	snprintf(out, outsz, "%s", *name != '\0' ? name : "lab");
}

void
config_defaults(struct config *c)
{
	char err[256];
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < NKEYS; i++) {
		if (set_value(c, &keys[i], keys[i].def, err, sizeof(err)) != 0)
			abort();	/* a bad default is a bug */
	}
}

void
config_free(struct config *c)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		if (keys[i].type < C_INT) {
			free(*str_at(c, &keys[i]));
			*str_at(c, &keys[i]) = NULL;
		}
	}
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int
config_load(struct config *c, const char *path, int must_exist, char *err,
    size_t errsz)
{
	unsigned char seen[NKEYS] = { 0 };
	char *line = NULL, msg[512];
	size_t cap = 0, i;
	int lineno = 0, r = 0;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		if (errno == ENOENT && !must_exist)
			return 0;
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (getline(&line, &cap, f) != -1) {
		char *s, *eq, *key, *val;

		lineno++;
		s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		if ((eq = strchr(s, '=')) == NULL) {
			snprintf(err, errsz, "%s:%d: expected 'key = value', "
			    "found '%.60s'", path, lineno, s);
			r = -1;
			break;
		}
		*eq = '\0';
		key = trim(s);
		val = trim(eq + 1);
		for (i = 0; i < NKEYS; i++) {
			if (strcmp(keys[i].name, key) == 0)
				break;
		}
		if (i == NKEYS) {
			snprintf(err, errsz, "%s:%d: unknown key '%.60s' (see "
			    "labcd.conf(5) or 'labcd -C' for the keys)", path,
			    lineno, key);
			r = -1;
			break;
		}
		if (seen[i]) {
			snprintf(err, errsz, "%s:%d: '%s' is set twice", path,
			    lineno, key);
			r = -1;
			break;
		}
		seen[i] = 1;
		if (set_value(c, &keys[i], val, msg, sizeof(msg)) != 0) {
			snprintf(err, errsz, "%s:%d: %s", path, lineno, msg);
			r = -1;
			break;
		}
	}
	free(line);
	fclose(f);
	if (r == 0 && (r = config_check(c, msg, sizeof(msg))) != 0)
		snprintf(err, errsz, "%s: %s", path, msg);
	return r;
}

void
config_print_defaults(FILE *f)
{
	const char *p;
	size_t i;

	fprintf(f, "# labcd.conf - configuration of labcd, the labcontainers "
	    "daemon.\n# 'key = value' lines; '#' starts a comment line. "
	    "Every key is shown\n# with its default; an unknown key stops "
	    "labcd with the file and line.\n");
	for (i = 0; i < NKEYS; i++) {
		fprintf(f, "\n# ");
		for (p = keys[i].doc; *p != '\0'; p++) {
			fputc(*p, f);
			if (*p == '\n')
				fputs("# ", f);
		}
		fprintf(f, "\n#%s = %s\n", keys[i].name, keys[i].def);
	}
}
