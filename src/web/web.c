/*
 * web.c - labc-web: the lab's status page, /api/status and Prometheus
 * /metrics, served with libmicrohttpd by an unprivileged account of its
 * own (web_user). It holds no LXD socket and no database: it asks labcd
 * for a read-only snapshot (snap.c), the one thing web_user may ask.
 *
 *   labc-web [-S SOCKET] [-l ADDRESS:PORT] [--max-connections N] [-v]
 *
 * Bounded like the rest: connections (--max-connections), each one's
 * memory (headers beyond it get 431), idle and slow clients (10 s), GET
 * and HEAD only. docs/status-api.md says what is served.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "clock.h"
#include "log.h"
#include "snap.h"
#include "version.h"

#define DEFAULT_SOCKET	"/run/labcontainers/labcd.sock"
#define DEFAULT_LISTEN	"127.0.0.1:8640"
#define CONN_MEMORY	(16 * 1024)	/* a request's headers fit in it */
#define CONN_TIMEOUT	10		/* seconds of silence */
#define FIRST_WAIT_MS	5000		/* a viewer waits for labcd's first */
#define FRESH_WAIT_MS	1000		/* and for a newer one, at most */
#define HEAD_DEADLINE_MS 10000		/* a request's headers, however slow */

extern const char web_page[];		/* src/web/page.html */

static char page_lm[40];		/* the page's Last-Modified: start */
static char page_etag[48];

static void
usage(FILE *f)
{
	fprintf(f, "usage: labc-web [-S socket] [-l address:port] "
	    "[--max-connections N] [-v]\n"
	    "  -S, --socket PATH        labcd's socket (default %s)\n"
	    "  -l, --listen ADDR:PORT   where to serve (default: labcd's "
	    "web_listen,\n"
	    "                           else %s); [v6]:port for IPv6\n"
	    "      --max-connections N  open connections at once (default "
	    "512)\n"
	    "      --max-per-address N  of them from one address (default 0: "
	    "no limit;\n"
	    "                           behind a proxy all come from one)\n"
	    "  -v, --verbose            log each request to labcd\n"
	    "Serves / (the status page), /api/status, /metrics and /healthz.\n"
	    "Runs as web_user (labcd.conf), never as root.\n", DEFAULT_SOCKET,
	    DEFAULT_LISTEN);
}

/* Split "host:port" or "[v6]:port" into an address to bind. */
static int
parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len,
    char *err, size_t errsz)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype =
	    SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV |
	    AI_PASSIVE }, *res;
	char host[128];
	const char *port, *colon = strrchr(s, ':');
	int r;

	if (colon == NULL || colon == s || colon[1] == '\0') {
		snprintf(err, errsz, "listen address %s: give ADDRESS:PORT, "
		    "e.g. 127.0.0.1:8640 or [::1]:8640", s);
		return -1;
	}
	port = colon + 1;
	if (*s == '[' && colon[-1] == ']')
		snprintf(host, sizeof(host), "%.*s", (int)(colon - s - 2),
		    s + 1);
	else
		snprintf(host, sizeof(host), "%.*s", (int)(colon - s), s);
	if (strspn(port, "0123456789") != strlen(port) || atoi(port) < 1 ||
	    atoi(port) > 65535) {
		snprintf(err, errsz, "listen address %s: the port must be a "
		    "number from 1 to 65535", s);
		return -1;
	}
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errsz, "listen address %s: %s (an IP address is "
		    "needed, not a name)", s, gai_strerror(r));
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/*
 * Slow clients: libmicrohttpd closes a connection silent for 10 s, but
 * one byte a second keeps it open for ever. Each connection's request
 * must be whole within HEAD_DEADLINE_MS of its start (or of the end of the
 * last answer on it); a thread shuts down those that are not, so a
 * trickle cannot hold the connections. libmicrohttpd then sees the end
 * of the stream and closes it itself.
 */
struct wconn {
	struct wconn	*next, **prev;
	int		 fd;
	long long	 since;		/* the request began, ms; 0: whole */
};
static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;
static struct wconn *conns;
static unsigned long deadline_closed;

static void
conn_note(void *cls, struct MHD_Connection *c, void **sctx,
    enum MHD_ConnectionNotificationCode what)
{
	struct wconn *w = *sctx;
	const union MHD_ConnectionInfo *ci;

	(void)cls;
	if (what == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (ci == NULL || (w = calloc(1, sizeof(*w))) == NULL)
			return;
		w->fd = ci->connect_fd;
		w->since = mono_ms();
		pthread_mutex_lock(&conns_lock);
		if ((w->next = conns) != NULL)
			conns->prev = &w->next;
		w->prev = &conns;
		conns = w;
		pthread_mutex_unlock(&conns_lock);
		*sctx = w;
	} else if (what == MHD_CONNECTION_NOTIFY_CLOSED && w != NULL) {
		pthread_mutex_lock(&conns_lock);
		if ((*w->prev = w->next) != NULL)
			w->next->prev = w->prev;
		pthread_mutex_unlock(&conns_lock);
		free(w);
		*sctx = NULL;
	}
}

/* The request's headers are whole (0), or the next one may begin (now). */
static void
conn_mark(struct MHD_Connection *c, long long since)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c,
	    MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct wconn *w = ci != NULL ? ci->socket_context : NULL;

	if (w == NULL)
		return;
	pthread_mutex_lock(&conns_lock);
	w->since = since;
	pthread_mutex_unlock(&conns_lock);
}

static void
req_done(void *cls, struct MHD_Connection *c, void **req,
    enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)req;
	(void)toe;
	conn_mark(c, mono_ms());
}

static volatile int sweeping = 1;

static void *
sweep(void *arg)
{
	(void)arg;
	while (sweeping) {
		long long now = mono_ms();
		struct wconn *w;

		pthread_mutex_lock(&conns_lock);
		for (w = conns; w != NULL; w = w->next) {
			if (w->since > 0 && now - w->since > HEAD_DEADLINE_MS) {
				shutdown(w->fd, SHUT_RDWR);
				w->since = 0;
				deadline_closed++;
			}
		}
		pthread_mutex_unlock(&conns_lock);
		usleep(250 * 1000);
	}
	return NULL;
}

static void
snap_release(void *cls)
{
	snap_put(cls);
}

static void
common_headers(struct MHD_Response *r, const char *type)
{
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
}

static enum MHD_Result
plain(struct MHD_Connection *c, unsigned int code, const char *text,
    const char *allow)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text),
	    (void *)(uintptr_t)text, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	common_headers(r, "text/plain; charset=utf-8");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (allow != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

/* Does the request already have this version (If-None-Match, else
   If-Modified-Since)? */
static int
not_modified(struct MHD_Connection *c, const char *etag, const char *lm)
{
	const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_IF_NONE_MATCH);
	const char *ims = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_IF_MODIFIED_SINCE);

	if (inm != NULL)
		return strcmp(inm, "*") == 0 || strstr(inm, etag) != NULL;
	return ims != NULL && strcmp(ims, lm) == 0;
}

/* Answer with body (len bytes), kept alive by snap s (NULL: static). */
static enum MHD_Result
body(struct MHD_Connection *c, const char *type, const char *data, size_t len,
    struct snap *s, const char *etag, const char *lm, const char *cache)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	unsigned int code = MHD_HTTP_OK;

	if (not_modified(c, etag, lm)) {
		r = MHD_create_response_from_buffer(0, NULL,
		    MHD_RESPMEM_PERSISTENT);
		code = MHD_HTTP_NOT_MODIFIED;
		snap_put(s);
	} else if (s != NULL)
		r = MHD_create_response_from_buffer_with_free_callback_cls(len,
		    (void *)(uintptr_t)data, snap_release, s);
	else
		r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)data,
		    MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	if (code == MHD_HTTP_OK)
		common_headers(r, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag);
	MHD_add_response_header(r, MHD_HTTP_HEADER_LAST_MODIFIED, lm);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, cache);
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

/* /metrics while labcd does not answer: labc_up 0 alone. */
static enum MHD_Result
serve_down(struct MHD_Connection *c)
{
	size_t len;
	char *m = metrics_render(NULL, 0, &len);
	struct MHD_Response *r = MHD_create_response_from_buffer(len, m,
	    MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	common_headers(r, "text/plain; version=0.0.4; charset=utf-8");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
serve_snap(struct MHD_Connection *c, int metrics)
{
	char why[600], etag[56];
	struct snap *s = snap_get(FIRST_WAIT_MS, FRESH_WAIT_MS, why,
	    sizeof(why));

	if (s == NULL) {
		char msg[700];

		if (metrics)
			return serve_down(c);
		snprintf(msg, sizeof(msg), "{\"error\":\"labcd did not give "
		    "the status\"}");
		log_debug("no snapshot: %s", why);
		return plain(c, MHD_HTTP_SERVICE_UNAVAILABLE, msg, NULL);
	}
	if (metrics && snap_failing(why, sizeof(why))) {
		/* labcd does not answer: up 0, and no numbers of the past. */
		snap_put(s);
		return serve_down(c);
	}
	if (metrics) {
		snprintf(etag, sizeof(etag), "\"m%016llx\"", s->metrics_tag);
		return body(c, "text/plain; version=0.0.4; charset=utf-8",
		    s->metrics, s->metrics_len, s, etag, s->last_modified,
		    "no-cache");
	}
	snprintf(etag, sizeof(etag), "%s", s->etag);
	return body(c, "application/json", s->json, s->json_len, s, etag,
	    s->last_modified, "no-cache");
}

static enum MHD_Result
serve_health(struct MHD_Connection *c)
{
	char why[600], text[800];
	struct snap *s = snap_get(FIRST_WAIT_MS, FRESH_WAIT_MS, why,
	    sizeof(why));
	unsigned long n;

	snap_put(s);
	if (s == NULL || snap_failing(why, sizeof(why))) {
		/* Why is in the log: paths are not for anonymous clients. */
		return plain(c, MHD_HTTP_SERVICE_UNAVAILABLE, "labcd does not "
		    "answer (labc-web's log says why)\n", NULL);
	}
	pthread_mutex_lock(&conns_lock);
	n = deadline_closed;
	pthread_mutex_unlock(&conns_lock);
	snprintf(text, sizeof(text), "ok\nlabcd_requests %lu\nrefresh %d\n"
	    "slow_requests_closed %lu\n", snap_requests(), snap_refresh(), n);
	return plain(c, MHD_HTTP_OK, text, NULL);
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **req)
{
	static int first;

	(void)cls;
	(void)version;
	(void)upload;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return plain(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD "
		    "are served here\n", "GET, HEAD");
	/*
	 * Nothing here takes a body: a request announcing one is answered
	 * 413 at once (and the connection closed), not read a byte at a
	 * time. The deadline runs until the answer is sent (req_done).
	 */
	if (*req == NULL) {
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_LENGTH);

		*req = &first;
		if (MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL ||
		    (cl != NULL && strspn(cl, "0") != strlen(cl)))
			return plain(c, MHD_HTTP_CONTENT_TOO_LARGE, "requests "
			    "here have no body\n", NULL);
		return MHD_YES;
	}
	if (*upload_size != 0) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (strcmp(url, "/") == 0 || strcmp(url, "/index.html") == 0)
		return body(c, "text/html; charset=utf-8", web_page,
		    strlen(web_page), NULL, page_etag, page_lm, "no-cache");
	if (strcmp(url, "/api/status") == 0)
		return serve_snap(c, 0);
	if (strcmp(url, "/metrics") == 0)
		return serve_snap(c, 1);
	if (strcmp(url, "/healthz") == 0)
		return serve_health(c);
	return plain(c, MHD_HTTP_NOT_FOUND, "not found: this server has /, "
	    "/api/status, /metrics and /healthz\n", NULL);
}

/* Paths are taken as sent: none of ours needs a %-escape, and "/%00"
   must not become "/" (a NUL would cut it short). */
static size_t
unescape_none(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_debug("http: %s", line);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 'S' },
		{ "listen", required_argument, NULL, 'l' },
		{ "max-connections", required_argument, NULL, 'm' },
		{ "max-per-address", required_argument, NULL, 'a' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *sock = DEFAULT_SOCKET, *listen_at = NULL;
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct MHD_Daemon *d;
	char err[600], why[600];
	unsigned int maxconn = 512, peraddr = 0;
	int ch, verbose = 0, sig;
	sigset_t set;
	pthread_t sweeper;
	time_t start = time(NULL);
	struct tm tm;

	while ((ch = getopt_long(argc, argv, "S:l:vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'S':
			sock = optarg;
			break;
		case 'l':
			listen_at = optarg;
			break;
		case 'm':
			maxconn = (unsigned int)strtoul(optarg, NULL, 10);
			if (maxconn < 1 || maxconn > 65536) {
				fprintf(stderr, "labc-web: --max-connections "
				    "takes 1 to 65536\n");
				return 2;
			}
			break;
		case 'a':
			peraddr = (unsigned int)strtoul(optarg, NULL, 10);
			if (peraddr > 65536) {
				fprintf(stderr, "labc-web: --max-per-address "
				    "takes 0 (no limit) to 65536\n");
				return 2;
			}
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("labc-web %s\n", LABC_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	log_setup("labc-web", verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO,
	    !isatty(STDERR_FILENO) ? 0 : 0);
	if (geteuid() == 0 || getuid() == 0) {
		fprintf(stderr, "labc-web: it does not run as root: run it as "
		    "web_user (labc-web by default; setup.sh makes it), e.g. "
		    "runuser -u labc-web -- labc-web\n");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	/* Every thread made from here on leaves these to sigwait. */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (snap_start(sock, 5, err, sizeof(err)) != 0)
		fatalx("%s", err);
	if (listen_at == NULL) {
		/* labcd's web_listen: wait for labcd to say it. */
		struct snap *s;
		static char from_labcd[128];
		int told = 0;

		while ((s = snap_get(FIRST_WAIT_MS, FRESH_WAIT_MS, why,
		    sizeof(why))) == NULL) {
			if (!told++)
				log_warn("%s; waiting for labcd to learn where "
				    "to listen (or give -l)", why);
			sleep(2);
		}
		snprintf(from_labcd, sizeof(from_labcd), "%s",
		    json_string_value(json_object_get(s->data, "listen")) ?
		    json_string_value(json_object_get(s->data, "listen")) :
		    DEFAULT_LISTEN);
		snap_put(s);
		listen_at = from_labcd;
	}
	if (parse_listen(listen_at, &ss, &sslen, err, sizeof(err)) != 0)
		fatalx("%s", err);
	(void)sslen;
	gmtime_r(&start, &tm);
	strftime(page_lm, sizeof(page_lm), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	snprintf(page_etag, sizeof(page_etag), "\"p%llx-%zx\"",
	    (unsigned long long)start, strlen(web_page));
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
	    MHD_USE_ERROR_LOG | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
	    0, NULL, NULL, handle, NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)4,
	    MHD_OPTION_CONNECTION_LIMIT, maxconn,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, peraddr,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CONN_TIMEOUT,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
	    MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)256,
	    MHD_OPTION_NOTIFY_CONNECTION, conn_note, NULL,
	    MHD_OPTION_NOTIFY_COMPLETED, req_done, NULL,
	    MHD_OPTION_UNESCAPE_CALLBACK, unescape_none, NULL,
	    MHD_OPTION_END);
	if (d == NULL)
		fatalx("cannot serve on %s: %s (is another program on that "
		    "port?)", listen_at, strerror(errno));
	if (pthread_create(&sweeper, NULL, sweep, NULL) != 0)
		fatalx("cannot start a thread");
	log_info("serving http://%s/ for labcd at %s", listen_at, sock);
	while (sigwait(&set, &sig) == 0 && sig == SIGHUP)
		;
	log_info("stopping (signal %d)", sig);
	sweeping = 0;
	pthread_join(sweeper, NULL);
	MHD_stop_daemon(d);
	snap_stop();
	return 0;
}
