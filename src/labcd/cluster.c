/*
 * cluster.c - the servers under labcd: the members of an LXD cluster, or
 * the one LXD. See cluster.h.
 *
 * Nothing here makes a cluster or decides for LXD what only LXD knows:
 * membership, status and each member's resources are LXD's answers;
 * labcd adds a connect to each member's address (it must reach the
 * members anyway: their containers' ports are there), so that a member
 * whose LXD died shows as down at once instead of after LXD's heartbeat
 * threshold.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "cluster.h"
#include "config.h"
#include "labcd.h"
#include "log.h"
#include "lxd.h"
#include "nvml.h"
#include "op.h"
#include "view.h"
#include "xmalloc.h"

#define PROBE_MS	700	/* a member's address answers within this */

static void
copy(char *dst, size_t dstsz, const char *src)
{
	snprintf(dst, dstsz, "%s", src != NULL ? src : "");
}

/* "https://HOST:PORT" (HOST maybe "[v6]"): host and port; 0, or -1. */
static int
url_split(const char *url, char *host, size_t hostsz, int *port)
{
	const char *h, *end, *colon;
	size_t n;

	if (url == NULL || strncmp(url, "https://", 8) != 0)
		return -1;
	h = url + 8;
	if (*h == '[') {
		if ((end = strchr(h, ']')) == NULL)
			return -1;
		h++;
		n = (size_t)(end - h);
		colon = end + 1;
	} else {
		colon = strrchr(h, ':');
		n = colon != NULL ? (size_t)(colon - h) : strcspn(h, "/");
	}
	if (n == 0 || n >= hostsz)
		return -1;
	memcpy(host, h, n);
	host[n] = '\0';
	*port = 8443;
	if (colon != NULL && *colon == ':')
		*port = atoi(colon + 1);
	return *port > 0 && *port < 65536 ? 0 : -1;
}

/*
 * Start a TCP connect to host:port: the socket, or -1 (*err: the errno of
 * a refusal at once, or 0 where the host is a name: LXD's word alone).
 */
static int
probe_start(const char *host, int port, int *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV }, *res = NULL;
	char serv[16];
	int fd;

	*err = 0;
	snprintf(serv, sizeof(serv), "%d", port);
	if (getaddrinfo(host, serv, &hints, &res) != 0 || res == NULL)
		return -1;
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0);
	if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) != 0 &&
	    errno != EINPROGRESS) {
		*err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

/*
 * The connects of fd[] (-1: none), all at once within PROBE_MS: err[i] 0
 * when it answered, its errno, or -1 for no answer. Closes them.
 */
static void
probe_wait(int *fd, int *err, size_t n)
{
	struct pollfd *p = xcalloc(n + 1, sizeof(*p));
	long long deadline = mono_ms() + PROBE_MS, wait;
	size_t i, left = 0;

	for (i = 0; i < n; i++) {
		p[i].fd = fd[i];	/* poll skips a negative one */
		p[i].events = POLLOUT;
		left += fd[i] >= 0;
	}
	while (left > 0 && (wait = deadline - mono_ms()) > 0) {
		int r = poll(p, n, (int)wait);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		for (i = 0; i < n; i++) {
			socklen_t len = sizeof(err[i]);

			if (p[i].fd < 0 || p[i].revents == 0)
				continue;
			if (getsockopt(fd[i], SOL_SOCKET, SO_ERROR, &err[i],
			    &len) != 0)
				err[i] = errno;
			close(fd[i]);
			fd[i] = p[i].fd = -1;
			left--;
		}
	}
	for (i = 0; i < n; i++) {
		if (fd[i] >= 0) {
			err[i] = -1;
			close(fd[i]);
			fd[i] = -1;
		}
	}
	free(p);
}

int
cluster_fetch(struct lxd *l, struct cluster_member **out, size_t *n)
{
	json_t *list = NULL, *m;
	struct cluster_member *v;
	size_t i;
	int r, *fd, *err;

	*out = NULL;
	*n = 0;
	if ((r = lxd_cluster_members(l, &list)) != 0)
		return r;
	v = xcalloc(json_array_size(list) + 1, sizeof(*v));
	fd = xcalloc(json_array_size(list) + 1, sizeof(*fd));
	err = xcalloc(json_array_size(list) + 1, sizeof(*err));
	json_array_foreach(list, i, m) {
		struct cluster_member *c = &v[*n];

		copy(c->name, sizeof(c->name), json_string_value(
		    json_object_get(m, "server_name")));
		copy(c->status, sizeof(c->status), json_string_value(
		    json_object_get(m, "status")));
		copy(c->message, sizeof(c->message), json_string_value(
		    json_object_get(m, "message")));
		if (*c->name == '\0')
			continue;
		if (url_split(json_string_value(json_object_get(m, "url")),
		    c->addr, sizeof(c->addr), &c->port) != 0)
			c->addr[0] = '\0';
		c->up = strcmp(c->status, "Online") == 0;
		fd[*n] = c->up && *c->addr != '\0' ? probe_start(c->addr,
		    c->port, &err[*n]) : -1;
		(*n)++;
	}
	json_decref(list);
	/* Every member's address at once: one dead member costs PROBE_MS,
	   not one each. */
	probe_wait(fd, err, *n);
	for (i = 0; i < *n; i++) {
		struct cluster_member *c = &v[i];

		if (!c->up || err[i] == 0)
			continue;
		c->up = 0;
		snprintf(c->message, sizeof(c->message), "its LXD at %s:%d "
		    "does not answer (%s)", c->addr, c->port, err[i] < 0 ?
		    "no answer" : strerror(err[i]));
	}
	free(fd);
	free(err);
	*out = v;
	return 0;
}

int
cluster_members(struct op *op, struct cluster_member **out, size_t *n)
{
	if (view_members(out, n) == 0)
		return 0;
	if (cluster_fetch(op_lxd(op), out, n) != 0)
		return op_error(op, "cannot ask LXD for its servers: %s",
		    op_lxd_error(op));
	return 0;
}

const struct cluster_member *
cluster_find(const struct cluster_member *m, size_t n, const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < n; i++)
		if (strcmp(m[i].name, name) == 0)
			return &m[i];
	return NULL;
}

int
cluster_server_opt(struct op *op, const char *v)
{
	const char *bad = cluster_name_invalid(v);

	if (bad != NULL)
		return op_usage(op, "--server takes the name of one of the "
		    "lab's servers ('servers' lists them): %s", bad);
	return PROTO_OK;
}

const char *
cluster_name_invalid(const char *name)
{
	const char *p;

	if (*name == '\0')
		return "it is empty";
	if (strlen(name) >= MEMBER_NAME_MAX)
		return "a server name has at most 63 characters";
	for (p = name; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		    *p == '_'))
			return "a server name has only letters, digits, '-', "
			    "'_' and '.'";
	return NULL;
}

/* Free memory of a member (LXD's resources), or -1 if it cannot say. */
static long long
free_memory(struct op *op, const char *member)
{
	json_t *res = NULL, *mem;
	long long total, used;

	if (lxd_resources_of(op_lxd(op), member, &res) != 0) {
		log_warn("placement: no resources from %s: %s", member,
		    op_lxd_error(op));
		return -1;
	}
	mem = json_object_get(res, "memory");
	total = json_integer_value(json_object_get(mem, "total"));
	used = json_integer_value(json_object_get(mem, "used"));
	json_decref(res);
	return total > used ? total - used : 0;
}

static void
names_up(const struct cluster_member *m, size_t n, char *out, size_t outsz)
{
	size_t i, at = 0;

	out[0] = '\0';
	for (i = 0; i < n && at < outsz; i++)
		if (m[i].up)
			at += (size_t)snprintf(out + at, outsz - at, "%s%s",
			    at ? ", " : "", m[i].name);
	if (out[0] == '\0')
		snprintf(out, outsz, "none");
}

int
cluster_place(struct op *op, const char *want, char member[MEMBER_NAME_MAX],
    char *why, size_t whysz)
{
	struct cluster_member *m;
	const struct cluster_member *c;
	char up[256], mib[32];
	long long best = -1, f;
	size_t n, i;

	member[0] = '\0';
	why[0] = '\0';
	if (want != NULL && cluster_server_opt(op, want) != 0)
		return PROTO_USAGE;
	if (cluster_members(op, &m, &n) != 0)
		return PROTO_FAILED;
	if (n == 0) {
		free(m);
		if (want != NULL)
			return op_error(op, "--server: this lab has one server, "
			    "not a cluster: leave --server out");
		return PROTO_OK;
	}
	names_up(m, n, up, sizeof(up));
	if (want != NULL) {
		if ((c = cluster_find(m, n, want)) == NULL) {
			op_error(op, "there is no server '%s': 'servers' lists "
			    "them (up now: %s)", want, up);
			free(m);
			return PROTO_FAILED;
		}
		if (!c->up) {
			op_error(op, "server %s is down (%s): choose another "
			    "with --server (up now: %s), or leave --server out",
			    want, c->message, up);
			free(m);
			return PROTO_FAILED;
		}
		copy(member, MEMBER_NAME_MAX, want);
		snprintf(why, whysz, "on %s, as asked", want);
		free(m);
		return PROTO_OK;
	}
	for (i = 0; i < n; i++) {
		if (!m[i].up || (f = free_memory(op, m[i].name)) < 0)
			continue;
		if (f > best) {
			best = f;
			copy(member, MEMBER_NAME_MAX, m[i].name);
		}
	}
	free(m);
	if (best < 0)
		return op_error(op, "none of the lab's servers can take a "
		    "container now (up: %s): see 'servers', and try again "
		    "later", up);
	config_size_str(best, mib, sizeof(mib));
	snprintf(why, whysz, "on %s: the most free memory (%s) of the "
	    "servers up (%s)", member, mib, up);
	return PROTO_OK;
}

int
cluster_ports_addr(struct op *op, const char *location, char *out,
    size_t outsz)
{
	const struct config *cfg = &op->srv->cfg;
	struct cluster_member *m;
	const struct cluster_member *c;
	size_t n;

	config_ports_addr(cfg, out, outsz);
	if (location == NULL || *location == '\0' ||
	    strcmp(location, "none") == 0 || !config_listen_wildcard(cfg))
		return 0;
	if (cluster_members(op, &m, &n) != 0)
		return -1;
	c = cluster_find(m, n, location);
	if (c != NULL && *c->addr != '\0')
		copy(out, outsz, c->addr);
	free(m);
	return c != NULL || n == 0 ? 0 : -1;
}

int
cluster_ct_addr(struct op *op, const char *project, const char *name,
    char *out, size_t outsz)
{
	struct cluster_member *m;
	struct view_ct *v;
	const struct view_ct *at;
	json_t *inst = NULL;
	char location[MEMBER_NAME_MAX] = "";
	size_t n, nv;
	int r;

	config_ports_addr(&op->srv->cfg, out, outsz);
	if (cluster_members(op, &m, &n) != 0)
		return -1;
	free(m);
	if (n == 0)
		return 0;
	if (view_list(project, &v, &nv) == 0) {
		if ((at = view_lookup(v, nv, project, name)) != NULL)
			copy(location, sizeof(location), at->location);
		free(v);
	}
	if (*location == '\0') {
		if (lxd_instance_get(op_lxd(op), project, name, &inst) != 0)
			return -1;
		copy(location, sizeof(location), json_string_value(
		    json_object_get(inst, "location")));
		json_decref(inst);
	}
	r = cluster_ports_addr(op, location, out, outsz);
	return r == 0 ? 1 : -1;
}

/*
 * The certificates labcd reads a member's node with: those it reaches LXD
 * with over HTTPS (LXD trusts lxd_cert; lxd_server_cert is the cluster's
 * certificate, which every member serves), or on a member's socket the
 * cluster's own certificate and key (LXD_DIR/cluster.crt, .key), which
 * the nodes take as a client too. Strings to free.
 */
static void
node_certs(struct op *op, char **cert, char **key, char **pin)
{
	const struct config *cfg = &op->srv->cfg;

	if (!config_lxd_local(cfg)) {
		*cert = xstrdup(cfg->lxd_cert);
		*key = xstrdup(cfg->lxd_key);
		*pin = xstrdup(cfg->lxd_server_cert);
		return;
	}
	(void)lxd_connect(op_lxd(op));
	*cert = lxd_dir_file(op_lxd(op), "cluster.crt");
	*key = lxd_dir_file(op_lxd(op), "cluster.key");
	*pin = lxd_dir_file(op_lxd(op), "cluster.crt");
}

/*
 * Readings kept READING_FOR ms: a member's 'servers', 'gpus' and GPU
 * requests at once read each node once, and nobody can make labcd knock
 * on a node faster than that. A copy each (jansson's counts are not for
 * threads). A read that failed after making labcd wait (SLOW_MS or more:
 * a node that takes connections and does not answer, a route that goes
 * nowhere) is kept too, NODE_BACKOFF ms: the GPU watch's tick, 'servers'
 * and 'gpus' would otherwise wait out its timeout at every look. A
 * refusal is quick and not kept, so a node started again reads at once.
 */
#define READING_FOR	2000
#define SLOW_MS		1000
#define NODE_BACKOFF	15000
#define READINGS	32
static pthread_mutex_t readings_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char		 name[MEMBER_NAME_MAX];
	json_t		*reading;	/* NULL: a slow failure, why */
	char		 why[640];
	long long	 at;
} readings[READINGS];

/* 1 and a copy of the reading (or NULL and why) when one is kept, else 0. */
static int
reading_kept(const char *name, json_t **out, char *why, size_t whysz)
{
	long long age;
	size_t i;
	int r = 0;

	*out = NULL;
	pthread_mutex_lock(&readings_lock);
	for (i = 0; i < READINGS && !r; i++) {
		if (readings[i].at == 0 || strcmp(readings[i].name, name) != 0)
			continue;
		age = mono_ms() - readings[i].at;
		if (readings[i].reading != NULL && age < READING_FOR) {
			*out = json_deep_copy(readings[i].reading);
			r = 1;
		} else if (readings[i].reading == NULL && age < NODE_BACKOFF) {
			snprintf(why, whysz, "%s (asked again within %lld s)",
			    readings[i].why, (NODE_BACKOFF - age + 999) / 1000);
			r = 1;
		}
	}
	pthread_mutex_unlock(&readings_lock);
	return r;
}

static void
reading_keep(const char *name, json_t *reading, const char *why)
{
	size_t i, slot = 0;

	pthread_mutex_lock(&readings_lock);
	for (i = 0; i < READINGS; i++) {
		if (strcmp(readings[i].name, name) == 0) {
			slot = i;
			break;
		}
		if (readings[i].at < readings[slot].at)
			slot = i;	/* the oldest, else */
	}
	json_decref(readings[slot].reading);
	copy(readings[slot].name, sizeof(readings[slot].name), name);
	readings[slot].reading = reading != NULL ? json_deep_copy(reading) :
	    NULL;
	copy(readings[slot].why, sizeof(readings[slot].why), why != NULL ?
	    why : "");
	readings[slot].at = mono_ms();
	pthread_mutex_unlock(&readings_lock);
}

/*
 * A node's reading as labcd takes it: each GPU an object with an index
 * from 0 to 63 (labcd's device names are gpu0..gpu63) and string name,
 * pci and uuid; anything else is left out (a member is another machine).
 */
static void
reading_check(json_t *reading)
{
	json_t *list = json_object_get(reading, "gpus"), *g;
	unsigned long long seen = 0;
	size_t i;

	json_array_foreach(list, i, g) {
		json_t *ix = json_object_get(g, "index");

		/* A GPU once: twice would be sampled twice. */
		if (!json_is_integer(ix) || json_integer_value(ix) < 0 ||
		    json_integer_value(ix) > 63 ||
		    (seen & (1ULL << json_integer_value(ix))) != 0 ||
		    !json_is_string(json_object_get(g, "name")) ||
		    !json_is_string(json_object_get(g, "pci")) ||
		    !json_is_string(json_object_get(g, "uuid")) ||
		    !json_is_integer(json_object_get(g, "memory_total")) ||
		    !json_is_integer(json_object_get(g, "memory_used")) ||
		    !json_is_integer(json_object_get(g, "utilization")) ||
		    !json_is_array(json_object_get(g, "processes"))) {
			json_array_remove(list, i);
			i--;
		} else
			seen |= 1ULL << json_integer_value(ix);
	}
}

/* One read of a member's node: what a thread is given, and gives back. */
struct node_read {
	char		 name[MEMBER_NAME_MAX];
	char		*url;
	const char	*cert, *key, *pin;
	json_t		*reading;	/* NULL: why */
	char		 why[640];
	pthread_t	 thread;
};

/* Its URL, from the member's address and node_port. */
static void
node_read_init(struct node_read *r, const struct config *cfg,
    const struct cluster_member *m, const char *cert, const char *key,
    const char *pin)
{
	memset(r, 0, sizeof(*r));
	copy(r->name, sizeof(r->name), m->name);
	r->url = strchr(m->addr, ':') != NULL ? xasprintf("https://[%s]:%d",
	    m->addr, cfg->node_port) : xasprintf("https://%s:%d", m->addr,
	    cfg->node_port);
	r->cert = cert;
	r->key = key;
	r->pin = pin;
}

/* GET /1.0/gpus of the node, checked, and kept (touches no op). */
static void
node_read(struct node_read *r)
{
	struct lxd_target t = { 0 };
	struct lxd *l;
	long long t0 = mono_ms();
	int rc;

	t.url = r->url;
	t.cert = r->cert;
	t.key = r->key;
	t.server_cert = r->pin;
	l = lxd_open(&t);
	lxd_set_timeout(l, 3);
	rc = lxd_call(l, "GET", "/1.0/gpus", NULL, &r->reading);
	if (rc == -ECONNREFUSED)
		snprintf(r->why, sizeof(r->why), "its labcd --node at %s does "
		    "not answer: run it there (systemctl start labcd-node)",
		    r->url);
	else if (rc == -ETIMEDOUT)
		snprintf(r->why, sizeof(r->why), "its labcd --node at %s took "
		    "the connection and did not answer within 3 s (stopped, "
		    "or its machine overloaded?)", r->url);
	else if (rc != 0)
		snprintf(r->why, sizeof(r->why), "its labcd --node at %s: %s",
		    r->url, lxd_error(l));
	else if (!json_is_array(json_object_get(r->reading, "gpus"))) {
		snprintf(r->why, sizeof(r->why), "its labcd --node at %s "
		    "answered without a list of GPUs", r->url);
		rc = -1;
	}
	lxd_free(l);
	if (rc != 0) {
		json_decref(r->reading);
		r->reading = NULL;
		if (mono_ms() - t0 >= SLOW_MS)
			reading_keep(r->name, NULL, r->why);
		return;
	}
	reading_check(r->reading);
	reading_keep(r->name, r->reading, NULL);
}

static void *
node_read_main(void *arg)
{
	node_read(arg);
	return NULL;
}

int
cluster_node_reading(struct op *op, const struct cluster_member *m,
    json_t **out, char *why, size_t whysz)
{
	struct node_read r;
	char *cert = NULL, *key = NULL, *pin = NULL;

	*out = NULL;
	if (!m->up) {
		snprintf(why, whysz, "the server is down: %s", m->message);
		return -1;
	}
	if (reading_kept(m->name, out, why, whysz))
		return *out != NULL ? 0 : -1;
	node_certs(op, &cert, &key, &pin);
	if (cert == NULL || key == NULL || pin == NULL) {
		snprintf(why, whysz, "labcd has no certificate to read the "
		    "nodes with (LXD's directory is not known)");
	} else {
		node_read_init(&r, &op->srv->cfg, m, cert, key, pin);
		node_read(&r);
		*out = r.reading;
		if (*out == NULL)
			snprintf(why, whysz, "%s", r.why);
		free(r.url);
	}
	free(cert);
	free(key);
	free(pin);
	return *out != NULL ? 0 : -1;
}

void
cluster_read_nodes(struct op *op, const struct cluster_member *m, size_t n)
{
	struct node_read *r;
	char *cert = NULL, *key = NULL, *pin = NULL, why[640];
	json_t *kept;
	size_t i;
	int *started;

	if (n < 2)
		return;		/* one read needs no thread */
	node_certs(op, &cert, &key, &pin);
	if (cert == NULL || key == NULL || pin == NULL)
		goto out;
	r = xcalloc(n, sizeof(*r));
	started = xcalloc(n, sizeof(*started));
	for (i = 0; i < n; i++) {
		if (!m[i].up)
			continue;
		if (reading_kept(m[i].name, &kept, why, sizeof(why))) {
			json_decref(kept);
			continue;
		}
		node_read_init(&r[i], &op->srv->cfg, &m[i], cert, key, pin);
		started[i] = pthread_create(&r[i].thread, NULL, node_read_main,
		    &r[i]) == 0;
		if (!started[i])
			node_read(&r[i]);	/* no thread: in turn */
	}
	for (i = 0; i < n; i++) {
		if (started[i])
			pthread_join(r[i].thread, NULL);
		json_decref(r[i].reading);
		free(r[i].url);
	}
	free(started);
	free(r);
out:
	free(cert);
	free(key);
	free(pin);
}

int
cluster_ct_down(const char *project, const char *name, char *why,
    size_t whysz)
{
	struct cluster_member *m;
	const struct cluster_member *at;
	struct view_ct *v;
	const struct view_ct *rec;
	size_t n, nv;
	int down = 0;

	if (view_members(&m, &n) != 0)
		return 0;
	if (n > 0 && view_list(project, &v, &nv) == 0) {
		if ((rec = view_lookup(v, nv, project, name)) != NULL &&
		    (at = cluster_find(m, n, rec->location)) != NULL &&
		    !at->up) {
			snprintf(why, whysz, "%s is on server %s, which is down "
			    "(%s): nothing can be done to it until it is back "
			    "('servers' says when)", name, at->name,
			    at->message);
			down = 1;
		}
		free(v);
	}
	free(m);
	return down;
}

int
gpu_reading_parse(json_t *reading, struct nvml_gpu **gpus, size_t *n,
    char *err, size_t errsz)
{
	json_t *list = json_object_get(reading, "gpus"), *g, *p;
	const char *nverr = json_string_value(json_object_get(reading,
	    "error"));
	size_t i, k;

	*gpus = NULL;
	*n = 0;
	if (nverr != NULL || !json_is_array(list)) {
		snprintf(err, errsz, "%s", nverr != NULL ? nverr : "the "
		    "reading has no list of GPUs");
		return -1;
	}
	*gpus = xcalloc(json_array_size(list) + 1, sizeof(**gpus));
	json_array_foreach(list, i, g) {
		struct nvml_gpu *v = &(*gpus)[(*n)++];
		json_t *procs = json_object_get(g, "processes");
		json_int_t total = json_integer_value(json_object_get(g,
		    "memory_total")), used = json_integer_value(
		    json_object_get(g, "memory_used"));

		v->index = (int)json_integer_value(json_object_get(g, "index"));
		copy(v->name, sizeof(v->name), json_string_value(
		    json_object_get(g, "name")));
		copy(v->uuid, sizeof(v->uuid), json_string_value(
		    json_object_get(g, "uuid")));
		copy(v->pci, sizeof(v->pci), json_string_value(
		    json_object_get(g, "pci")));
		v->mem_total = total > 0 ? (unsigned long long)total : 0;
		v->mem_used = used > 0 ? (unsigned long long)used : 0;
		v->util = (int)json_integer_value(json_object_get(g,
		    "utilization"));
		if (v->util > 100 || v->util < -1)
			v->util = -1;
		v->procs = xcalloc(json_array_size(procs) + 1,
		    sizeof(*v->procs));
		json_array_foreach(procs, k, p) {
			struct nvml_proc *q = &v->procs[v->nprocs++];
			json_int_t pid = json_integer_value(json_object_get(p,
			    "pid")), mem = json_integer_value(
			    json_object_get(p, "memory"));

			q->pid = pid > 0 && pid <= 0x7fffffff ?
			    (unsigned int)pid : 0;
			q->mem = mem > 0 ? (unsigned long long)mem : 0;
			copy(q->project, sizeof(q->project), json_string_value(
			    json_object_get(p, "project")));
			/* A container is named only with its project. */
			if (*q->project != '\0')
				copy(q->container, sizeof(q->container),
				    json_string_value(json_object_get(p,
				    "container")));
		}
	}
	return 0;
}

int
cluster_gpu_inventory(struct op *op, const char *server,
    struct nvml_gpu **gpus, size_t *n, char *err, size_t errsz)
{
	struct cluster_member *m;
	const struct cluster_member *at;
	json_t *reading = NULL;
	char why[640];
	size_t nm;
	int r;

	*gpus = NULL;
	*n = 0;
	if (cluster_members(op, &m, &nm) != 0) {
		snprintf(err, errsz, "%s", op->cause);
		return -1;
	}
	if ((at = cluster_find(m, nm, server)) == NULL) {
		snprintf(err, errsz, "there is no server '%s'", server);
		free(m);
		return -1;
	}
	r = cluster_node_reading(op, at, &reading, why, sizeof(why));
	free(m);
	if (r != 0) {
		snprintf(err, errsz, "the GPUs of server %s cannot be read: %s",
		    server, why);
		return -1;
	}
	r = gpu_reading_parse(reading, gpus, n, why, sizeof(why));
	json_decref(reading);
	if (r != 0)
		snprintf(err, errsz, "server %s: %s", server, why);
	return r;
}

int
cluster_ct_location(struct op *op, const char *project, const char *name,
    char out[MEMBER_NAME_MAX])
{
	struct view_ct *v;
	const struct view_ct *at;
	json_t *inst = NULL;
	size_t nv;

	int known = 0;

	out[0] = '\0';
	if (view_list(project, &v, &nv) == 0) {
		if ((at = view_lookup(v, nv, project, name)) != NULL) {
			copy(out, MEMBER_NAME_MAX, at->location);
			known = 1;
		}
		free(v);
		if (known)
			return 0;
	}
	if (lxd_instance_get(op_lxd(op), project, name, &inst) != 0)
		return -1;
	copy(out, MEMBER_NAME_MAX, json_string_value(json_object_get(inst,
	    "location")));
	if (strcmp(out, "none") == 0)
		out[0] = '\0';
	json_decref(inst);
	return 0;
}
