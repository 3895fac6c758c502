/*
 * lxd.c - transport for the LXD client: finding the socket, one HTTP
 * exchange with libcurl, response envelopes, and waiting on operations.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "lxd-int.h"
#include "xmalloc.h"

static double now_s(void);
static void find_socket(struct lxd *l);

#define DEFAULT_SOCKET	"/var/lib/lxd/unix.socket"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void
curl_init_once(void)
{
	/* TLS is set up whatever the flags (libcurl >= 7.57). */
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static char *
dup_set(const char *s)
{
	return s != NULL && *s != '\0' ? xstrdup(s) : NULL;
}

struct lxd *
lxd_open(const struct lxd_target *t)
{
	struct lxd *l;
	size_t n;

	pthread_once(&curl_once, curl_init_once);
	l = xcalloc(1, sizeof(*l));
	l->configured = dup_set(t->socket);
	if ((l->url = dup_set(t->url)) != NULL) {
		n = strlen(l->url);
		while (n > 0 && l->url[n - 1] == '/')
			l->url[--n] = '\0';
		l->cert = dup_set(t->cert);
		l->key = dup_set(t->key);
		l->server_cert = dup_set(t->server_cert);
	}
	l->curl = curl_easy_init();
	if (l->curl == NULL) {
		lxd_free(l);
		return NULL;
	}
	l->timeout = 30;
	l->op_timeout = 600;
	return l;
}

struct lxd *
lxd_new(const char *socket)
{
	struct lxd_target t = { .socket = socket };

	return lxd_open(&t);
}

void
lxd_free(struct lxd *l)
{
	if (l == NULL)
		return;
	if (l->curl != NULL)
		curl_easy_cleanup(l->curl);
	json_decref(l->extensions);
	free(l->configured);
	free(l->socket);
	free(l->url);
	free(l->cert);
	free(l->key);
	free(l->server_cert);
	free(l->version);
	free(l);
}

const char *
lxd_error(const struct lxd *l)
{
	return l->err;
}

const char *
lxd_socket_path(const struct lxd *l)
{
	if (l->url != NULL)
		return NULL;
	if (l->socket != NULL)
		return l->socket;
	return l->configured != NULL ? l->configured : DEFAULT_SOCKET;
}

const char *
lxd_where(const struct lxd *l)
{
	return l->url != NULL ? l->url : lxd_socket_path(l);
}

int
lxd_is_remote(const struct lxd *l)
{
	return l->url != NULL;
}

static long long
asn1_epoch(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (long long)timegm(&tm);
}

int
lxd_cert_info(const char *path, char *subject, size_t subjsz,
    long long *not_before, long long *not_after, char *err, size_t errsz)
{
	FILE *f;
	X509 *x;
	int e;

	if (path == NULL || *path == '\0') {
		snprintf(err, errsz, "no certificate file is set");
		return -ENOENT;
	}
	if ((f = fopen(path, "re")) == NULL) {
		e = errno;
		snprintf(err, errsz, "cannot read the certificate %s: %s",
		    path, strerror(e));
		return e == ENOENT ? -ENOENT : -EACCES;
	}
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (x == NULL) {
		snprintf(err, errsz, "%s is not a PEM certificate", path);
		return -EINVAL;
	}
	if (subject != NULL && subjsz > 0 &&
	    X509_NAME_oneline(X509_get_subject_name(x), subject,
	    (int)subjsz) == NULL)
		*subject = '\0';
	*not_before = asn1_epoch(X509_get0_notBefore(x));
	*not_after = asn1_epoch(X509_get0_notAfter(x));
	X509_free(x);
	return 0;
}

/* One certificate of the pair: readable, a certificate, within its dates. */
static int
check_cert(struct lxd *l, const char *what, const char *path,
    const char *fix)
{
	char err[512], when[32];
	long long nb, na, now = (long long)time(NULL);
	struct tm tm;
	int r;

	if ((r = lxd_cert_info(path, NULL, 0, &nb, &na, err,
	    sizeof(err))) != 0)
		return lxd_seterr(l, -EKEYREJECTED, "%s: %s (%s)", what, err,
		    fix);
	if (now < nb || now > na) {
		time_t t = (time_t)(now < nb ? nb : na);

		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);
		return lxd_seterr(l, -EKEYREJECTED, "%s %s %s %s: nothing "
		    "was sent to %s (%s)", what, path, now < nb ?
		    "is not valid before" : "expired on", when, l->url, fix);
	}
	return 0;
}

int
lxd_check_certs(struct lxd *l)
{
	int r;

	if (l->url == NULL)
		return 0;
	if (l->cert == NULL || l->key == NULL || l->server_cert == NULL)
		return lxd_seterr(l, -EKEYREJECTED, "LXD at %s needs "
		    "lxd_cert, lxd_key and lxd_server_cert in labcd.conf",
		    l->url);
	if ((r = check_cert(l, "labcd's LXD client certificate", l->cert,
	    "make a new one with 'labcd --lxd-cert' and add it on the "
	    "server with 'lxc config trust add'")) != 0)
		return r;
	return check_cert(l, "the pinned certificate of LXD", l->server_cert,
	    "copy the server's current certificate, server.crt in LXD's "
	    "directory, to lxd_server_cert");
}

int
lxd_tls_failure(struct lxd *l, CURLcode cc, const char *errbuf)
{
	switch (cc) {
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CRL_BADFILE:
		break;
	default:
		return 0;
	}
	l->connected = 0;
	return lxd_seterr(l, -EKEYREJECTED, "no TLS connection to LXD at %s "
	    "(nothing was sent): %s. The server's certificate must be the "
	    "one in %s, and labcd's own (%s) one it trusts", l->url,
	    errbuf != NULL && *errbuf != '\0' ? errbuf :
	    curl_easy_strerror(cc), l->server_cert, l->cert);
}

char *
lxd_transport(struct lxd *l, CURL *c, const char *path, char *errbuf)
{
	char *url;

	if (errbuf != NULL) {
		*errbuf = '\0';
		curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	}
	if (l->url == NULL) {
		if (l->socket == NULL)
			find_socket(l);
		url = xasprintf("http://lxd%s", path);
		curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, l->socket);
		curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
	} else {
		url = xasprintf("%s%s", l->url, path);
		curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
		curl_easy_setopt(c, CURLOPT_SSLVERSION,
		    (long)CURL_SSLVERSION_TLSv1_2);
		curl_easy_setopt(c, CURLOPT_SSLCERT, l->cert);
		curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(c, CURLOPT_SSLKEY, l->key);
		curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
		/* The pinned certificate is the only trust anchor: no
		   system CA, and the name in it is not what proves it. */
		curl_easy_setopt(c, CURLOPT_CAINFO, l->server_cert);
		curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
		curl_easy_setopt(c, CURLOPT_PROXY, "");
		/* HTTP/1.1, not h2 by ALPN: the event stream's upgrade is
		   HTTP/1.1's, and its connection carries raw bytes. */
		curl_easy_setopt(c, CURLOPT_HTTP_VERSION,
		    (long)CURL_HTTP_VERSION_1_1);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	return url;
}

char *
lxd_pools_dir(const struct lxd *l, const char *pool)
{
	const char *sock = lxd_socket_path(l), *slash;

	/* Over HTTPS the pools are on another machine. */
	if (sock == NULL || (slash = strrchr(sock, '/')) == NULL ||
	    (pool != NULL && strchr(pool, '/') != NULL))
		return NULL;
	return xasprintf("%.*s/storage-pools%s%s", (int)(slash - sock), sock,
	    pool != NULL ? "/" : "", pool != NULL ? pool : "");
}

char *
lxd_dir_file(const struct lxd *l, const char *file)
{
	const char *sock = lxd_socket_path(l), *slash;

	if (sock == NULL || (slash = strrchr(sock, '/')) == NULL ||
	    strchr(file, '/') != NULL)
		return NULL;
	return xasprintf("%.*s/%s", (int)(slash - sock), sock, file);
}

void
lxd_set_timeout(struct lxd *l, long seconds)
{
	l->timeout = seconds > 0 ? seconds : 30;
}

void
lxd_set_op_timeout(struct lxd *l, long seconds)
{
	l->op_timeout = seconds > 0 ? seconds : 600;
}

void
lxd_set_progress(struct lxd *l, lxd_progress_fn fn, void *arg)
{
	l->progress = fn;
	l->progress_arg = arg;
}

int
lxd_seterr(struct lxd *l, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->err, sizeof(l->err), fmt, ap);
	va_end(ap);
	return r;
}

static int
is_socket(const char *path)
{
	struct stat st;

	return path != NULL && *path != '\0' && stat(path, &st) == 0 &&
	    S_ISSOCK(st.st_mode);
}

/* The socket to use: the configured one, else the first that exists. */
static void
find_socket(struct lxd *l)
{
	const char *env_dirs[] = { "LXD_DIR", "INCUS_DIR" };
	const char *env_socks[] = { "LXD_SOCKET", "INCUS_SOCKET" };
	const char *fixed[] = {
		DEFAULT_SOCKET,
		"/var/snap/lxd/common/lxd/unix.socket",
		"/run/incus/unix.socket",
		"/var/lib/incus/unix.socket",
	};
	char *cand;
	size_t i;

	free(l->socket);
	l->socket = NULL;
	if (l->configured != NULL) {
		l->socket = xstrdup(l->configured);
		return;
	}
	for (i = 0; i < 2; i++) {
		const char *s = getenv(env_socks[i]), *d = getenv(env_dirs[i]);

		if (is_socket(s)) {
			l->socket = xstrdup(s);
			return;
		}
		if (d != NULL && *d != '\0') {
			cand = xasprintf("%s/unix.socket", d);
			if (is_socket(cand)) {
				l->socket = cand;
				return;
			}
			free(cand);
		}
		if (i == 0) {
			size_t k;

			for (k = 0; k < 2; k++) {
				if (is_socket(fixed[k])) {
					l->socket = xstrdup(fixed[k]);
					return;
				}
			}
		}
	}
	for (i = 2; i < 4; i++) {
		if (is_socket(fixed[i])) {
			l->socket = xstrdup(fixed[i]);
			return;
		}
	}
	l->socket = xstrdup(DEFAULT_SOCKET);
}

char *
lxd_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s), i;
	char *out = xmalloc(3 * n + 1), *p = out;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '~') {
			*p++ = (char)c;
		} else {
			*p++ = '%';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		}
	}
	*p = '\0';
	return out;
}

char *
lxd_path(const char *project, const char *fmt, ...)
{
	struct buf b = BUF_INIT(0);
	const char *p;
	va_list ap;

	va_start(ap, fmt);
	for (p = fmt; *p != '\0'; p++) {
		if (p[0] == '%' && p[1] == 's') {
			char *e = lxd_escape(va_arg(ap, const char *));
			buf_adds(&b, e);
			free(e);
			p++;
		} else
			buf_add(&b, p, 1);
	}
	va_end(ap);
	if (project != NULL) {
		char *e = lxd_escape(project);
		buf_printf(&b, "%cproject=%s",
		    strchr(buf_str(&b), '?') ? '&' : '?', e);
		free(e);
	}
	return buf_steal(&b);
}

struct curl_slist *
lxd_header(struct lxd *l, struct curl_slist *list, const char *name,
    const char *fmt, ...)
{
	struct curl_slist *n;
	va_list ap;
	char *v, *h;

	va_start(ap, fmt);
	v = xvasprintf(fmt, ap);
	va_end(ap);
	h = xasprintf("%s%s: %s", lxd_header_prefix(l), name, v);
	n = curl_slist_append(list, h);
	free(v);
	free(h);
	if (n == NULL) {
		fprintf(stderr, "fatal: out of memory (curl header)\n");
		abort();
	}
	return n;
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	if (buf_add(b, p, size * n) != 0)
		return 0;		/* curl stops: CURLE_WRITE_ERROR */
	return size * n;
}

/* A streamed body: where it goes, and what happened. */
struct stream {
	CURL		*curl;
	const struct lxd_req *rq;
	struct lxd_resp	*rs;
};

/* A 2xx body to the sink, as it comes; an error's body to memory. */
static size_t
on_sink(char *p, size_t size, size_t n, void *arg)
{
	struct stream *st = arg;
	size_t len = size * n, off = 0;
	long http = 0;
	ssize_t w;

	curl_easy_getinfo(st->curl, CURLINFO_RESPONSE_CODE, &http);
	if (http < 200 || http > 299)
		return on_body(p, size, n, &st->rs->body);
	while (off < len) {
		w = write(st->rq->sink_fd, p + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			st->rs->io_errno = w < 0 ? errno : EPIPE;
			return 0;	/* curl stops: CURLE_WRITE_ERROR */
		}
		off += (size_t)w;
	}
	st->rs->moved += (long long)len;
	return len;
}

/* The body from the source, to its end or source_max. */
static size_t
on_source(char *p, size_t size, size_t n, void *arg)
{
	struct stream *st = arg;
	ssize_t r;

	do
		r = read(st->rq->source_fd, p, size * n);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		st->rs->io_errno = errno;
		return CURL_READFUNC_ABORT;
	}
	st->rs->moved += r;
	if (st->rq->source_max > 0 && st->rs->moved > st->rq->source_max) {
		st->rs->too_big = 1;
		return CURL_READFUNC_ABORT;
	}
	if (st->rq->source_check != NULL && (st->rs->checked =
	    st->rq->source_check(st->rq->source_arg, p, (size_t)r)) != 0)
		return CURL_READFUNC_ABORT;
	return (size_t)r;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct lxd_resp *rs = arg;
	size_t len = size * n, v;

	/* The files API says what a path is: file, directory, symlink. */
	if ((len > 11 && strncasecmp(p, "X-LXD-type:", 11) == 0) ||
	    (len > 13 && strncasecmp(p, "X-Incus-type:", 13) == 0)) {
		for (v = (size_t)((const char *)memchr(p, ':', len) - p) + 1;
		    v < len && (p[v] == ' ' || p[v] == '\t'); v++)
			;
		while (len > v && (p[len - 1] == '\r' || p[len - 1] == '\n'))
			len--;
		if (len - v < sizeof(rs->ftype)) {
			memcpy(rs->ftype, p + v, len - v);
			rs->ftype[len - v] = '\0';
		}
		return size * n;
	}
	if (len > 5 && strncasecmp(p, "ETag:", 5) == 0) {
		for (v = 5; v < len && (p[v] == ' ' || p[v] == '\t'); v++)
			;
		while (len > v && (p[len - 1] == '\r' || p[len - 1] == '\n'))
			len--;
		if (len - v < sizeof(rs->etag)) {
			memcpy(rs->etag, p + v, len - v);
			rs->etag[len - v] = '\0';
		}
	}
	return size * n;
}

void
lxd_resp_free(struct lxd_resp *rs)
{
	buf_free(&rs->body);
}

static int
not_running(struct lxd *l)
{
	l->connected = 0;
	if (l->url != NULL)
		return lxd_seterr(l, -ECONNREFUSED, "LXD does not answer at "
		    "%s: is it running there, with core.https_address set to "
		    "that address ('lxc config set core.https_address "
		    "ADDRESS:8443' on the server), and is the port open from "
		    "here?", l->url);
	if (!is_socket(l->socket))
		return lxd_seterr(l, -ECONNREFUSED, "LXD is not running: no "
		    "socket at %s (start it with 'systemctl start lxd', or "
		    "'lxd --group root &' where systemd does not run)",
		    l->socket);
	return lxd_seterr(l, -ECONNREFUSED, "LXD is not running: nothing "
	    "answers at %s (start it with 'systemctl start lxd', or 'lxd "
	    "--group root &' where systemd does not run)", l->socket);
}

int
lxd_http(struct lxd *l, const struct lxd_req *rq, struct lxd_resp *rs)
{
	struct curl_slist *hdrs = NULL, *h;
	char *url, *ctype, errbuf[CURL_ERROR_SIZE];
	long timeout = rq->timeout > 0 ? rq->timeout : l->timeout;
	CURLcode cc;
	CURL *c = l->curl;
	struct stream st = { .curl = c, .rq = rq, .rs = rs };
	int r;

	memset(rs, 0, sizeof(*rs));
	buf_init(&rs->body, rq->limit ? rq->limit : LXD_RESPONSE_LIMIT);
	if (l->url == NULL && l->socket == NULL)
		find_socket(l);
	if (!l->connected && (r = lxd_check_certs(l)) != 0)
		return r;

	curl_easy_reset(c);
	url = lxd_transport(l, c, rq->path, errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout);
	if (rq->sink) {
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_sink);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &st);
	} else {
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &rs->body);
	}
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, rs);

	ctype = xasprintf("Content-Type: %s", rq->content_type ?
	    rq->content_type : "application/json");
	if (rq->body != NULL || rq->upload != NULL || rq->source)
		hdrs = curl_slist_append(hdrs, ctype);
	hdrs = curl_slist_append(hdrs, "Expect:");
	for (h = rq->headers; h != NULL; h = h->next)
		hdrs = curl_slist_append(hdrs, h->data);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);

	if (rq->source) {
		/* Chunked: the size is not known until the end. */
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_source);
		curl_easy_setopt(c, CURLOPT_READDATA, &st);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)-1);
	} else if (rq->upload != NULL) {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READDATA, rq->upload);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
		    (curl_off_t)rq->upload_size);
	} else if (rq->body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)rq->body_len);
	}
	if (strcmp(rq->method, "GET") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);

	cc = curl_easy_perform(c);
	curl_slist_free_all(hdrs);
	free(ctype);
	free(url);

	if ((r = lxd_tls_failure(l, cc, errbuf)) != 0)
		return r;
	switch (cc) {
	case CURLE_OK:
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &rs->http);
		return 0;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
		return not_running(l);
	case CURLE_OPERATION_TIMEDOUT:
		return lxd_seterr(l, -ETIMEDOUT, "LXD did not answer %s %s "
		    "within %ld s", rq->method, rq->path, timeout);
	case CURLE_ABORTED_BY_CALLBACK:
	case CURLE_READ_ERROR:
		if (rs->too_big)
			return lxd_seterr(l, -EFBIG, "%s %s: more than %lld "
			    "bytes came", rq->method, rq->path, rq->source_max);
		if (rs->checked != 0)
			return lxd_seterr(l, rs->checked, "%s %s: what came "
			    "was refused", rq->method, rq->path);
		if (rs->io_errno != 0)
			return lxd_seterr(l, -rs->io_errno, "%s %s: reading "
			    "what to send failed: %s", rq->method, rq->path,
			    strerror(rs->io_errno));
		return lxd_seterr(l, -EIO, "%s %s: the transfer stopped: %s",
		    rq->method, rq->path, curl_easy_strerror(cc));
	case CURLE_WRITE_ERROR:
		if (rq->sink && rs->io_errno != 0)
			return lxd_seterr(l, -rs->io_errno, "%s %s: passing "
			    "the answer on failed after %lld bytes: %s",
			    rq->method, rq->path, rs->moved,
			    strerror(rs->io_errno));
		if (rs->body.toobig)
			return lxd_seterr(l, -E2BIG, "LXD's answer to %s %s is "
			    "larger than %zu bytes", rq->method, rq->path,
			    rs->body.limit);
		/* FALLTHROUGH */
	default:
		if (cc == CURLE_GOT_NOTHING || cc == CURLE_RECV_ERROR ||
		    cc == CURLE_SEND_ERROR) {
			/* LXD went away mid-request: what it did is unknown. */
			l->connected = 0;
			return lxd_seterr(l, -ECONNRESET, "LXD went away while "
			    "answering %s %s (%s)", rq->method, rq->path,
			    curl_easy_strerror(cc));
		}
		return lxd_seterr(l, -EIO, "talking to LXD at %s failed: %s",
		    lxd_where(l), *errbuf != '\0' ? errbuf :
		    curl_easy_strerror(cc));
	}
}

int
lxd_errno_from_http(long code)
{
	switch (code) {
	case 403:
		return -EACCES;
	case 404:
		return -ENOENT;
	case 409:
		return -EEXIST;
	case 412:
		return -EAGAIN;
	default:
		return -EIO;
	}
}

int
lxd_errno_from_text(int r, const char *msg)
{
	if (r != -EIO)
		return r;
	if (strstr(msg, "already running") != NULL ||
	    strstr(msg, "already stopped") != NULL)
		return -EALREADY;
	if (strstr(msg, "not running") != NULL)
		return -ESRCH;
	/*
	 * LXD's per-instance operation lock (lxd/instance/operationlock):
	 * another start, stop or update holds the instance ("Instance is
	 * busy running a \"start\" operation"), or an update that waited
	 * for another one to end is not applied ("A matching non-reusable
	 * operation has now succeeded"). Either way nothing was done.
	 */
	if (strstr(msg, "update operation") != NULL ||
	    strstr(msg, "is busy running") != NULL ||
	    strstr(msg, "non-reusable operation") != NULL)
		return -EBUSY;
	if (strstr(msg, "Reached maximum") != NULL)
		return -EDQUOT;
	/* LXD 5.0 says a name is taken with a 500 ("Error inserting ...
	   into database: The profile already exists"). */
	if (strstr(msg, "already exists") != NULL)
		return -EEXIST;
	return r;
}

enum lxd_refusal
lxd_refusal(const struct lxd *l)
{
	if (strstr(l->err, "DNS name") != NULL)
		return LXD_REFUSED_DNS_NAME;
	if (strstr(l->err, "Reached maximum number of instances") != NULL)
		return LXD_REFUSED_INSTANCES;
	/* Before the limits: "disk quota exceeded" says "exceed" too. */
	if (strcasestr(l->err, "disk quota exceeded") != NULL ||
	    strcasestr(l->err, "no space left on device") != NULL)
		return LXD_REFUSED_DISK_FULL;
	if (strstr(l->err, "limits.") != NULL || strstr(l->err, "exceed") !=
	    NULL)
		return LXD_REFUSED_LIMITS;
	return LXD_REFUSED_OTHER;
}

int
lxd_refused_aggregate(const struct lxd *l, const char *key)
{
	char q[64];

	snprintf(q, sizeof(q), "\"%s\"", key);
	return strstr(l->err, "Reached maximum aggregate value") != NULL &&
	    strstr(l->err, q) != NULL;
}

int
lxd_refused_unset_limit(const struct lxd *l)
{
	return strstr(l->err, "either directly or via a profile") != NULL;
}

void
lxd_envelope_clear(struct lxd_envelope *env)
{
	json_decref(env->root);
	memset(env, 0, sizeof(*env));
}

int
lxd_envelope_parse(const char *body, size_t len, long http,
    struct lxd_envelope *env, char *msg, size_t msgsz)
{
	json_error_t jerr;
	json_t *root, *v;
	const char *type;

	memset(env, 0, sizeof(*env));
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL || !json_is_object(root)) {
		json_decref(root);
		snprintf(msg, msgsz, "LXD answered HTTP %ld with something "
		    "that is not its API (%s)", http, root == NULL ?
		    jerr.text : "not a JSON object");
		return -EPROTO;
	}
	env->root = root;
	type = json_string_value(json_object_get(root, "type"));
	env->metadata = json_object_get(root, "metadata");
	if (type != NULL && strcmp(type, "sync") == 0) {
		env->kind = 's';
		env->code = json_integer_value(json_object_get(root,
		    "status_code"));
		return 0;
	}
	if (type != NULL && strcmp(type, "async") == 0) {
		env->kind = 'a';
		env->code = json_integer_value(json_object_get(root,
		    "status_code"));
		v = json_object_get(root, "operation");
		if (!json_is_string(v) || json_string_length(v) == 0) {
			snprintf(msg, msgsz, "LXD's async answer names no "
			    "operation");
			lxd_envelope_clear(env);
			return -EPROTO;
		}
		env->operation = json_string_value(v);
		return 0;
	}
	if (type != NULL && strcmp(type, "error") == 0) {
		env->kind = 'e';
		env->code = json_integer_value(json_object_get(root,
		    "error_code"));
		if (env->code == 0)
			env->code = http;
		env->error = json_string_value(json_object_get(root,
		    "error"));
		snprintf(msg, msgsz, "%s", env->error != NULL &&
		    *env->error != '\0' ? env->error : "LXD reported an error");
		return lxd_errno_from_text(lxd_errno_from_http(env->code), msg);
	}
	snprintf(msg, msgsz, "LXD answered HTTP %ld with an envelope of "
	    "unknown type '%s'", http, type != NULL ? type : "(none)");
	lxd_envelope_clear(env);
	return -EPROTO;
}

int
lxd_request(struct lxd *l, const struct lxd_req *rq, json_t **out,
    char *etag, size_t etagsz)
{
	return lxd_request_moved(l, rq, out, etag, etagsz, NULL);
}

int
lxd_request_moved(struct lxd *l, const struct lxd_req *rq, json_t **out,
    char *etag, size_t etagsz, long long *moved)
{
	struct lxd_envelope env;
	struct lxd_resp rs;
	int r;

	if (out != NULL)
		*out = NULL;
	if ((r = lxd_connect(l)) != 0)
		return r;
	r = lxd_http(l, rq, &rs);
	if (moved != NULL)
		*moved = rs.moved;
	if (r != 0)
		goto out;
	r = lxd_envelope_parse(buf_str(&rs.body), rs.body.len, rs.http, &env,
	    l->err, sizeof(l->err));
	if (r != 0) {
		lxd_envelope_clear(&env);
		goto out;
	}
	if (etag != NULL)
		snprintf(etag, etagsz, "%s", rs.etag);
	if (env.kind == 'a')
		r = lxd_wait(l, env.operation, l->op_timeout, out);
	else if (out != NULL)
		*out = json_incref(env.metadata);
	lxd_envelope_clear(&env);
out:
	lxd_resp_free(&rs);
	return r;
}

int
lxd_call(struct lxd *l, const char *method, const char *path, json_t *body,
    json_t **out)
{
	struct lxd_req rq = { .method = method, .path = path };
	double deadline = now_s() + LXD_BUSY_WAIT;
	struct timespec pause = { 0, 200 * 1000 * 1000 };
	char *s = NULL;
	int r;

	if (body != NULL) {
		s = json_dumps(body, JSON_COMPACT);
		rq.body = s;
		rq.body_len = strlen(s);
	}
	/*
	 * A change refused because another operation holds the instance
	 * did nothing: it is made again once that one ends. Two clients of
	 * one container (a start and reconciliation, a start left by a
	 * labcd that died) meet here; LXD gives up such a lock itself
	 * after 30 s at most.
	 */
	while ((r = lxd_request(l, &rq, out, NULL, 0)) == -EBUSY &&
	    strcmp(method, "GET") != 0 && now_s() < deadline) {
		nanosleep(&pause, NULL);
		if (pause.tv_nsec < 800 * 1000 * 1000)
			pause.tv_nsec *= 2;
	}
	free(s);
	return r;
}

int
lxd_connect(struct lxd *l)
{
	struct lxd_req rq = { .method = "GET", .path = "/1.0",
	    .timeout = l->timeout < 10 ? l->timeout : 10 };
	struct lxd_envelope env;
	struct lxd_resp rs;
	const char *server, *auth;
	json_t *envir;
	int r;

	if (l->connected)
		return 0;
	if (l->url == NULL) {
		find_socket(l);
		if (!is_socket(l->socket))
			return not_running(l);
	}
	if ((r = lxd_http(l, &rq, &rs)) != 0)
		goto out;
	if ((r = lxd_envelope_parse(buf_str(&rs.body), rs.body.len, rs.http,
	    &env, l->err, sizeof(l->err))) != 0) {
		lxd_envelope_clear(&env);
		goto out;
	}
	if (env.kind != 's' || !json_is_object(env.metadata)) {
		lxd_envelope_clear(&env);
		r = lxd_seterr(l, -EPROTO, "LXD at %s answered GET /1.0 "
		    "without server information", lxd_where(l));
		goto out;
	}
	auth = json_string_value(json_object_get(env.metadata, "auth"));
	if (l->url != NULL && (auth == NULL || strcmp(auth, "trusted") != 0)) {
		lxd_envelope_clear(&env);
		r = lxd_seterr(l, -EKEYREJECTED, "LXD at %s does not trust "
		    "labcd's certificate %s: on the server, 'lxc config trust "
		    "add %s' (a copy of that file)", l->url, l->cert, l->cert);
		goto out;
	}
	envir = json_object_get(env.metadata, "environment");
	server = json_string_value(json_object_get(envir, "server"));
	l->clustered = json_is_true(json_object_get(envir,
	    "server_clustered"));
	l->kind = server != NULL && strcmp(server, "incus") == 0 ?
	    LXD_SERVER_INCUS : LXD_SERVER_LXD;
	free(l->version);
	l->version = xstrdup(json_string_value(json_object_get(envir,
	    "server_version")) ?: "unknown");
	json_decref(l->extensions);
	l->extensions = json_incref(json_object_get(env.metadata,
	    "api_extensions"));
	lxd_envelope_clear(&env);
	l->connected = 1;
out:
	lxd_resp_free(&rs);
	return r;
}

enum lxd_server
lxd_server_kind(const struct lxd *l)
{
	return l->kind;
}

const char *
lxd_server_version(const struct lxd *l)
{
	return l->version != NULL ? l->version : "unknown";
}

const char *
lxd_header_prefix(const struct lxd *l)
{
	return l->kind == LXD_SERVER_INCUS ? "X-Incus-" : "X-LXD-";
}

int
lxd_has_extension(const struct lxd *l, const char *ext)
{
	size_t i;
	json_t *v;

	json_array_foreach(l->extensions, i, v) {
		if (json_is_string(v) && strcmp(json_string_value(v), ext) == 0)
			return 1;
	}
	return 0;
}

int
lxd_progress_percent(const char *text)
{
	const char *pct = text != NULL ? strchr(text, '%') : NULL;
	const char *p;
	long v;

	if (pct == NULL || pct == text)
		return -1;
	for (p = pct; p > text && p[-1] >= '0' && p[-1] <= '9'; p--)
		;
	if (p == pct)
		return -1;
	v = strtol(p, NULL, 10);
	return v >= 0 && v <= 100 ? (int)v : -1;
}

/* Report the "*_progress" keys of a running operation's metadata. */
static void
report_progress(struct lxd *l, json_t *opmeta, char *last, size_t lastsz)
{
	const char *key;
	json_t *v;

	if (l->progress == NULL || !json_is_object(opmeta))
		return;
	json_object_foreach(opmeta, key, v) {
		size_t kl = strlen(key);
		const char *text = json_string_value(v);

		if (text == NULL || kl < 9 || strcmp(key + kl - 9,
		    "_progress") != 0)
			continue;
		if (strncmp(last, text, lastsz) == 0)
			continue;
		snprintf(last, lastsz, "%s", text);
		l->progress(l->progress_arg, key, text,
		    lxd_progress_percent(text));
	}
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* GET the operation itself (no waiting); 0, -ESTALE or another error. */
static int
get_operation(struct lxd *l, const char *op, json_t **opobj)
{
	struct lxd_req rq = { .method = "GET", .path = op };
	struct lxd_envelope env;
	struct lxd_resp rs;
	int r;

	*opobj = NULL;
	if ((r = lxd_http(l, &rq, &rs)) != 0)
		goto out;
	r = lxd_envelope_parse(buf_str(&rs.body), rs.body.len, rs.http, &env,
	    l->err, sizeof(l->err));
	if (r == -ENOENT)
		r = lxd_seterr(l, -ESTALE, "LXD operation %s ended before its "
		    "result was read; check the object it acted on", op);
	if (r == 0)
		*opobj = json_incref(env.metadata);
	lxd_envelope_clear(&env);
out:
	lxd_resp_free(&rs);
	return r;
}

int
lxd_wait(struct lxd *l, const char *op, long timeout, json_t **out)
{
	double deadline = now_s() + (timeout > 0 ? timeout : l->op_timeout);
	char last[256] = "";
	int r;

	if (out != NULL)
		*out = NULL;
	for (;;) {
		struct lxd_req rq = { .method = "GET" };
		struct lxd_envelope env;
		struct lxd_resp rs;
		json_t *opobj = NULL;
		long chunk, code;
		double left = deadline - now_s();
		char *path;

		/* Short waits while someone watches progress. */
		chunk = l->progress != NULL ? 1 : (left > 30 ? 30 : (long)left);
		if (chunk < 1)
			chunk = 1;
		path = xasprintf("%s/wait?timeout=%ld", op, chunk);
		rq.path = path;
		rq.timeout = chunk + 10;
		r = lxd_http(l, &rq, &rs);
		free(path);
		if (r != 0) {
			lxd_resp_free(&rs);
			return r;
		}
		r = lxd_envelope_parse(buf_str(&rs.body), rs.body.len, rs.http,
		    &env, l->err, sizeof(l->err));
		lxd_resp_free(&rs);
		if (r == -ENOENT) {
			lxd_envelope_clear(&env);
			return lxd_seterr(l, -ESTALE, "LXD operation %s ended "
			    "before its result was read; check the object it "
			    "acted on", op);
		}
		if (env.kind == 'e') {
			/* Incus: a failure or a timeout; ask the op itself. */
			lxd_envelope_clear(&env);
			if ((r = get_operation(l, op, &opobj)) != 0)
				return r;
		} else if (r != 0) {
			return r;
		} else {
			opobj = json_incref(env.metadata);
			lxd_envelope_clear(&env);
		}
		if (!json_is_object(opobj)) {
			json_decref(opobj);
			return lxd_seterr(l, -EPROTO, "LXD answered the wait "
			    "for %s without an operation", op);
		}
		code = json_integer_value(json_object_get(opobj,
		    "status_code"));
		if (code == 200) {
			if (out != NULL)
				*out = json_incref(json_object_get(opobj,
				    "metadata"));
			json_decref(opobj);
			return 0;
		}
		if (code == 400 || code == 401) {
			const char *e = json_string_value(json_object_get(opobj,
			    "err"));

			r = lxd_seterr(l, code == 401 ? -ECANCELED : -EIO,
			    "%s", e != NULL && *e != '\0' ? e : code == 401 ?
			    "the LXD operation was cancelled" :
			    "the LXD operation failed");
			if (code == 400)
				r = lxd_errno_from_text(r, l->err);
			json_decref(opobj);
			return r;
		}
		report_progress(l, json_object_get(opobj, "metadata"), last,
		    sizeof(last));
		json_decref(opobj);
		if (now_s() >= deadline)
			return lxd_seterr(l, -ETIMEDOUT, "LXD operation %s "
			    "still running after %ld s", op, timeout > 0 ?
			    timeout : l->op_timeout);
	}
}

int
lxd_update(struct lxd *l, const char *path, lxd_edit_fn edit, void *arg)
{
	int r = 0, tries;

	for (tries = 0; tries < 5; tries++) {
		struct lxd_req get = { .method = "GET", .path = path };
		struct lxd_req put = { .method = "PUT", .path = path };
		struct curl_slist *hdrs = NULL;
		char etag[160], *body, *ifmatch;
		json_t *obj, *req;

		if ((r = lxd_request(l, &get, &obj, etag, sizeof(etag))) != 0)
			break;
		req = NULL;
		r = edit(l, obj, &req, arg);
		json_decref(obj);
		if (r != 0)
			break;
		body = json_dumps(req, JSON_COMPACT);
		json_decref(req);
		ifmatch = xasprintf("If-Match: %s", etag);
		hdrs = curl_slist_append(hdrs, ifmatch);
		put.body = body;
		put.body_len = strlen(body);
		put.headers = hdrs;
		r = lxd_request(l, &put, NULL, NULL, 0);
		curl_slist_free_all(hdrs);
		free(ifmatch);
		free(body);
		if (r != -EAGAIN)	/* changed meanwhile: read again */
			break;
	}
	return r;
}
