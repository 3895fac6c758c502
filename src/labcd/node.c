/*
 * node.c - labcd --node: what labcd needs to know of a cluster member's
 * GPUs that only that machine can see (NVML, and /proc to tell which
 * container a GPU process is in), served read-only to the labcd that runs
 * the lab, like an exporter beside Prometheus. Nothing else: no database,
 * no LXD write, no command.
 *
 * It speaks HTTPS on the member's cluster address (LXD's
 * cluster.https_address, port node_port) with the cluster's own
 * certificate (LXD_DIR/cluster.crt), which labcd pins, and answers only a
 * client whose certificate LXD trusts (its trust store, or the cluster
 * certificate itself): the same certificates that already decide who may
 * talk to LXD. The answers have LXD's envelope, so labcd reads them with
 * its LXD library:
 *
 *   GET /1.0        who it is ("server": "labcd-node")
 *   GET /1.0/gpus   node_reading()
 */
#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "gpu.h"
#include "log.h"
#include "lxd.h"
#include "node.h"
#include "nvml.h"
#include "op.h"
#include "version.h"
#include "xmalloc.h"

#define TRUST_FOR	30	/* s a copy of LXD's trust store is used */
#define TRUST_RETRY	5	/* s between asking LXD again */
#define SAY_EVERY	10	/* s between two logged refusals */
#define NODE_CONNS	32
#define NODE_PER_IP	8

json_t *
node_reading(const char *nvml_library)
{
	struct nvml_gpu *gpus = NULL;
	json_t *out = json_array();
	char err[512];
	size_t n = 0, i, k;

	if (nvml_query(nvml_library, &gpus, &n, err, sizeof(err)) != 0)
		return json_pack("{s:o, s:s}", "gpus", out, "error", err);
	for (i = 0; i < n; i++) {
		const struct nvml_gpu *g = &gpus[i];
		json_t *procs = json_array();

		for (k = 0; k < g->nprocs; k++) {
			char project[128], name[64];
			int w = gpu_pid_container(g->procs[k].pid, project, name);

			if (w < 0)
				continue;	/* ended since NVML said so */
			json_array_append_new(procs, json_pack("{s:i, s:I, "
			    "s:s?, s:s?}", "pid", (int)g->procs[k].pid,
			    "memory", (json_int_t)g->procs[k].mem, "project",
			    w == 1 ? project : NULL, "container", w == 1 ?
			    name : NULL));
		}
		json_array_append_new(out, json_pack("{s:i, s:s, s:s, s:s, "
		    "s:I, s:I, s:i, s:o}", "index", g->index, "name", g->name,
		    "pci", g->pci, "uuid", g->uuid, "memory_total",
		    (json_int_t)g->mem_total, "memory_used",
		    (json_int_t)g->mem_used, "utilization", g->util,
		    "processes", procs));
	}
	nvml_free(gpus, n);
	return json_pack("{s:o, s:n}", "gpus", out, "error");
}

/* --- the server ---------------------------------------------------------- */

static struct node {
	const struct config *cfg;
	struct lxd	*lxd;		/* the member's own, by its socket */
	char		 name[64];	/* its cluster name */
	char		 self_fp[72];	/* the cluster certificate's */
	pthread_mutex_t	 lock;		/* the trust store copy */
	json_t		*trusted;	/* fingerprints: true */
	time_t		 trusted_at;
	time_t		 tried_at;	/* last asked LXD */
	time_t		 refused_said;	/* last refusal logged */
} node = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* Is this fingerprint one LXD trusts now (a copy at most TRUST_FOR old)? */
static int
trusted(const char *fp)
{
	json_t *list = NULL, *c;
	size_t i;
	int ok;

	if (strcmp(fp, node.self_fp) == 0)
		return 1;
	pthread_mutex_lock(&node.lock);
	if ((node.trusted == NULL || time(NULL) - node.trusted_at >
	    TRUST_FOR) && time(NULL) - node.tried_at >= TRUST_RETRY) {
		node.tried_at = time(NULL);
		if (lxd_call(node.lxd, "GET", "/1.0/certificates?recursion=1",
		    NULL, &list) == 0) {
			json_decref(node.trusted);
			node.trusted = json_object();
			json_array_foreach(list, i, c) {
				const char *f = json_string_value(
				    json_object_get(c, "fingerprint"));
				const char *type = json_string_value(
				    json_object_get(c, "type"));

				/* A restricted certificate sees some
				   projects only: not every container. */
				if (f != NULL && type != NULL &&
				    strcmp(type, "client") == 0 &&
				    !json_is_true(json_object_get(c,
				    "restricted")))
					json_object_set_new(node.trusted, f,
					    json_true());
			}
			node.trusted_at = time(NULL);
		} else {
			log_warn("node: LXD did not list its trusted "
			    "certificates: %s", lxd_error(node.lxd));
			/* A copy too old to stand for LXD's word: nobody
			   but the cluster itself, until LXD answers. */
			if (time(NULL) - node.trusted_at > 2 * TRUST_FOR) {
				json_decref(node.trusted);
				node.trusted = NULL;
			}
		}
		json_decref(list);
	}
	ok = json_object_get(node.trusted, fp) != NULL;
	pthread_mutex_unlock(&node.lock);
	return ok;
}

/* The client's certificate's SHA-256 (hex), as LXD writes fingerprints. */
static int
peer_fp(struct MHD_Connection *conn, char out[72])
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn,
	    MHD_CONNECTION_INFO_GNUTLS_SESSION);
	const gnutls_datum_t *certs;
	unsigned int n = 0, i;
	unsigned char md[32];

	if (ci == NULL || ci->tls_session == NULL ||
	    (certs = gnutls_certificate_get_peers(ci->tls_session, &n)) ==
	    NULL || n == 0)
		return -1;
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, certs[0].data, certs[0].size,
	    md) != 0)
		return -1;
	for (i = 0; i < sizeof(md); i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

static enum MHD_Result
reply(struct MHD_Connection *conn, unsigned int code, json_t *body)
{
	char *s = json_dumps(body, JSON_COMPACT);
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(s), s,
	    MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	json_decref(body);
	MHD_add_response_header(r, "Content-Type", "application/json");
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
refuse(struct MHD_Connection *conn, unsigned int code, const char *why)
{
	return reply(conn, code, json_pack("{s:s, s:s, s:i}", "type", "error",
	    "error", why, "error_code", (int)code));
}

static enum MHD_Result
sync_reply(struct MHD_Connection *conn, json_t *metadata)
{
	return reply(conn, MHD_HTTP_OK, json_pack("{s:s, s:s, s:i, s:o}",
	    "type", "sync", "status", "Success", "status_code", 200,
	    "metadata", metadata));
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *data, size_t *size,
    void **state)
{
	char fp[72];

	(void)cls, (void)version, (void)data;
	if (*state == NULL) {		/* the headers: wait for the body */
		*state = conn;
		return MHD_YES;
	}
	if (*size != 0)
		return refuse(conn, MHD_HTTP_BAD_REQUEST, "no body is read");
	if (peer_fp(conn, fp) != 0)
		return refuse(conn, MHD_HTTP_FORBIDDEN, "a client certificate "
		    "that LXD trusts is needed");
	if (!trusted(fp)) {
		if (time(NULL) - node.refused_said >= SAY_EVERY) {
			node.refused_said = time(NULL);
			log_warn("node: refused a client whose certificate LXD "
			    "does not trust (%.16s...; said once every %d s)",
			    fp, SAY_EVERY);
		}
		return refuse(conn, MHD_HTTP_FORBIDDEN, "this certificate is "
		    "not trusted by LXD");
	}
	if (strcmp(method, "GET") != 0)
		return refuse(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "read-only: "
		    "GET only");
	if (strcmp(url, "/1.0") == 0)
		return sync_reply(conn, json_pack("{s:s, s:{s:s, s:s, s:s, "
		    "s:b}, s:[]}", "auth", "trusted", "environment", "server",
		    "labcd-node", "server_version", LABC_VERSION,
		    "server_name", node.name, "server_clustered", 0,
		    "api_extensions"));
	if (strcmp(url, "/1.0/gpus") == 0)
		return sync_reply(conn, node_reading(node.cfg->nvml_library));
	return refuse(conn, MHD_HTTP_NOT_FOUND, "not found: /1.0 and "
	    "/1.0/gpus only");
}

static void
mhd_log(void *arg, const char *fmt, va_list ap)
{
	char line[512];

	(void)arg;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_warn("node: %s", line);
}

static char *
slurp(const char *path, char *err, size_t errsz)
{
	FILE *f = fopen(path, "r");
	char *s = NULL;
	size_t cap = 0;
	ssize_t n;

	if (f == NULL) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return NULL;
	}
	n = getdelim(&s, &cap, '\0', f);
	fclose(f);
	if (n <= 0) {
		free(s);
		snprintf(err, errsz, "%s is empty", path);
		return NULL;
	}
	return s;
}

/* The member's cluster address as a socket address on node_port. */
static int
listen_addr(const char *https_address, int port, struct sockaddr_storage *ss,
    char *err, size_t errsz)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV }, *res = NULL;
	char host[128], serv[16];
	const char *h = https_address, *end;
	size_t n;

	if (*h == '[') {
		h++;
		end = strchr(h, ']');
	} else
		end = strrchr(h, ':');
	n = end != NULL ? (size_t)(end - h) : strlen(h);
	if (n == 0 || n >= sizeof(host)) {
		snprintf(err, errsz, "LXD's cluster.https_address '%s' names "
		    "no address", https_address);
		return -1;
	}
	memcpy(host, h, n);
	host[n] = '\0';
	snprintf(serv, sizeof(serv), "%d", port);
	if (getaddrinfo(host, serv, &hints, &res) != 0 || res == NULL) {
		snprintf(err, errsz, "LXD's cluster.https_address '%s' is not "
		    "an IP address", https_address);
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return 0;
}

int
node_main(const struct config *cfg)
{
	struct sockaddr_storage ss;
	struct MHD_Daemon *d;
	json_t *info = NULL, *env;
	char err[512], *crtpath = NULL, *keypath = NULL, *crt = NULL,
	    *key = NULL;
	const char *addr, *fp;
	sigset_t set;
	int sig, r = 1;

	node.cfg = cfg;
	node.lxd = lxd_of_config(cfg);
	if (lxd_is_remote(node.lxd)) {
		log_error("node: labcd --node runs on the member itself, beside "
		    "its LXD (lxd_socket), not over lxd_url");
		goto out;
	}
	if (lxd_call(node.lxd, "GET", "/1.0", NULL, &info) != 0) {
		log_error("node: LXD does not answer: %s", lxd_error(node.lxd));
		goto out;
	}
	env = json_object_get(info, "environment");
	addr = json_string_value(json_object_get(json_object_get(info,
	    "config"), "cluster.https_address"));
	fp = json_string_value(json_object_get(env, "certificate_fingerprint"));
	if (!json_is_true(json_object_get(env, "server_clustered")) ||
	    addr == NULL || *addr == '\0' || fp == NULL) {
		log_error("node: this LXD is not a member of a cluster: "
		    "labcd --node is for the members of one (one server needs "
		    "no node)");
		goto out;
	}
	snprintf(node.name, sizeof(node.name), "%s", json_string_value(
	    json_object_get(env, "server_name")) ?: "");
	snprintf(node.self_fp, sizeof(node.self_fp), "%s", fp);
	crtpath = lxd_dir_file(node.lxd, "cluster.crt");
	keypath = lxd_dir_file(node.lxd, "cluster.key");
	if (crtpath == NULL || keypath == NULL ||
	    (crt = slurp(crtpath, err, sizeof(err))) == NULL ||
	    (key = slurp(keypath, err, sizeof(err))) == NULL) {
		log_error("node: the cluster's certificate: %s", crtpath ==
		    NULL ? "LXD's directory is not known" : err);
		goto out;
	}
	if (listen_addr(addr, cfg->node_port, &ss, err, sizeof(err)) != 0) {
		log_error("node: %s", err);
		goto out;
	}
	/* Before MHD's thread starts: it inherits the mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	d = MHD_start_daemon(MHD_USE_TLS | MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_ERROR_LOG | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
	    0, NULL, NULL, handle, NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_HTTPS_MEM_KEY, key,
	    MHD_OPTION_HTTPS_MEM_CERT, crt,
	    /* Makes GnuTLS ask for the client's certificate; whether it is
	       trusted is decided above, by its fingerprint. */
	    MHD_OPTION_HTTPS_MEM_TRUST, crt,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)NODE_CONNS,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)NODE_PER_IP,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
	    MHD_OPTION_END);
	if (d == NULL) {
		log_error("node: cannot listen on %s port %d", addr,
		    cfg->node_port);
		goto out;
	}
	log_info("node: %s serves its GPUs on port %d of %s (labcd %s)",
	    node.name, cfg->node_port, addr, LABC_VERSION);
	sigwait(&set, &sig);
	log_info("node: stopping (signal %d)", sig);
	MHD_stop_daemon(d);
	r = 0;
out:
	json_decref(info);
	json_decref(node.trusted);
	free(crt);
	free(key);
	free(crtpath);
	free(keypath);
	lxd_free(node.lxd);
	return r;
}
