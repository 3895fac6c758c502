/*
 * lxd.c - transport for the LXD client: finding the socket, one HTTP
 * HTTP/1.1 exchange, response envelopes, and waiting on operations.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lxd-int.h"
#include "xmalloc.h"

#define DEFAULT_SOCKET	"/var/lib/lxd/unix.socket"

struct lxd *
lxd_new(const char *socket)
{
	struct lxd *l;

	l = xcalloc(1, sizeof(*l));
	if (socket != NULL && *socket != '\0')
		l->configured = xstrdup(socket);
	l->timeout = 30;
	l->op_timeout = 600;
	return l;
}

void
lxd_free(struct lxd *l)
{
	if (l == NULL)
		return;
	json_decref(l->extensions);
	free(l->configured);
	free(l->socket);
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
	if (l->socket != NULL)
		return l->socket;
	return l->configured != NULL ? l->configured : DEFAULT_SOCKET;
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

struct lxd_hdr *
lxd_header(struct lxd *l, struct lxd_hdr *list, const char *name,
    const char *fmt, ...)
{
	va_list ap;
	char *v, *h;

	va_start(ap, fmt);
	v = xvasprintf(fmt, ap);
	va_end(ap);
	h = xasprintf("%s%s: %s", lxd_header_prefix(l), name, v);
	list = lxd_hdr_add(list, h);
	free(v);
	free(h);
	return list;
}

struct lxd_hdr *
lxd_hdr_add(struct lxd_hdr *list, const char *line)
{
	size_t n = strlen(line);
	struct lxd_hdr *h = xmalloc(sizeof(*h) + n + 1), **p = &list;

	h->next = NULL;
	memcpy(h->line, line, n + 1);
	while (*p != NULL)
		p = &(*p)->next;
	*p = h;
	return list;
}

void
lxd_hdr_free(struct lxd_hdr *list)
{
	while (list != NULL) {
		struct lxd_hdr *next = list->next;

		free(list);
		list = next;
	}
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
	if (!is_socket(l->socket))
		return lxd_seterr(l, -ECONNREFUSED, "LXD is not running: no "
		    "socket at %s (start it with 'systemctl start lxd', or "
		    "'lxd --group root &' where systemd does not run)",
		    l->socket);
	return lxd_seterr(l, -ECONNREFUSED, "LXD is not running: nothing "
	    "answers at %s (start it with 'systemctl start lxd', or 'lxd "
	    "--group root &' where systemd does not run)", l->socket);
}

/*
 * The HTTP/1.1 of one exchange over the unix socket, written here rather
 * than with libcurl: libcurl and the thirty libraries it loads (TLS,
 * Kerberos, LDAP, ...) made 7 MiB of labcd's 9.5 MiB resident memory,
 * for a local socket that needs none of them. One connection per request
 * ("Connection: close"): connecting to a unix socket costs microseconds,
 * and the end of the answer is then simply the end of the stream.
 */

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for fd until the deadline: 1 ready, 0 timed out, -1 error. */
static int
wait_fd(int fd, short events, long long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	long long left;
	int r;

	for (;;) {
		if ((left = deadline - now_ms()) <= 0)
			return 0;
		r = poll(&pfd, 1, left > 1000000 ? 1000000 : (int)left);
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

/* Write all of p: 0, -ETIMEDOUT or -EIO. */
static int
send_all(int fd, const char *p, size_t n, long long deadline)
{
	ssize_t w;
	int r;

	while (n > 0) {
		if ((r = wait_fd(fd, POLLOUT, deadline)) <= 0)
			return r == 0 ? -ETIMEDOUT : -EIO;
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w <= 0)
			return -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Decode a chunked body from raw into out; 0, -E2BIG or -EPROTO. */
static int
dechunk(const char *raw, size_t n, struct buf *out)
{
	size_t i = 0, size;
	char *end;

	for (;;) {
		if (i >= n)
			return -EPROTO;
		size = strtoul(raw + i, &end, 16);
		if (end == raw + i)
			return -EPROTO;
		while ((size_t)(end - raw) < n && *end != '\n')
			end++;		/* chunk extensions */
		i = (size_t)(end - raw) + 1;
		if (size == 0)
			return 0;	/* trailers do not matter */
		if (size > n || i + size > n)
			return -EPROTO;
		if (buf_add(out, raw + i, size) != 0)
			return -E2BIG;
		i += size;
		if (i < n && raw[i] == '\r')
			i++;
		if (i < n && raw[i] == '\n')
			i++;
	}
}

/* Find a header's value in the head (case-insensitive); NULL if none. */
static const char *
head_value(const char *head, const char *name, size_t *len)
{
	size_t nl = strlen(name);
	const char *p = head, *v, *e;

	while ((p = strstr(p, "\r\n")) != NULL) {
		p += 2;
		if (strncasecmp(p, name, nl) != 0 || p[nl] != ':')
			continue;
		for (v = p + nl + 1; *v == ' ' || *v == '\t'; v++)
			;
		for (e = v; *e != '\0' && *e != '\r' && *e != '\n'; e++)
			;
		while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		*len = (size_t)(e - v);
		return v;
	}
	return NULL;
}

int
lxd_http(struct lxd *l, const struct lxd_req *rq, struct lxd_resp *rs)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	long timeout = rq->timeout > 0 ? rq->timeout : l->timeout;
	long long deadline = now_ms() + timeout * 1000;
	size_t limit = rq->limit ? rq->limit : LXD_RESPONSE_LIMIT, hlen = 0;
	long long clen = -1;
	struct buf req = BUF_INIT(0), raw;
	const struct lxd_hdr *h;
	const char *v, *body;
	char chunk[65536], *hend;
	size_t vlen, blen;
	ssize_t n;
	int fd = -1, r, chunked;

	memset(rs, 0, sizeof(*rs));
	buf_init(&rs->body, limit);
	/* The raw answer: the body, its head and chunk framing. */
	buf_init(&raw, limit + limit / 8 + 65536);
	if (l->socket == NULL)
		find_socket(l);
	if (strlen(l->socket) >= sizeof(sun.sun_path))
		return lxd_seterr(l, -EINVAL, "socket path %s is too long",
		    l->socket);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", l->socket);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return lxd_seterr(l, -EIO, "cannot make a socket: %s",
		    strerror(errno));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		r = errno;
		close(fd);
		buf_free(&raw);
		if (r == ENOENT || r == ECONNREFUSED || r == ENOTSOCK)
			return not_running(l);
		return lxd_seterr(l, -EIO, "talking to LXD at %s failed: %s",
		    l->socket, strerror(r));
	}
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);

	buf_printf(&req, "%s %s HTTP/1.1\r\nHost: lxd\r\n"
	    "User-Agent: labcontainers\r\nConnection: close\r\n",
	    rq->method, rq->path);
	if (rq->body != NULL || rq->upload != NULL)
		buf_printf(&req, "Content-Type: %s\r\nContent-Length: %lld\r\n",
		    rq->content_type ? rq->content_type : "application/json",
		    rq->upload != NULL ? rq->upload_size :
		    (long long)rq->body_len);
	else if (strcmp(rq->method, "GET") != 0)
		buf_adds(&req, "Content-Length: 0\r\n");
	for (h = rq->headers; h != NULL; h = h->next)
		buf_printf(&req, "%s\r\n", h->line);
	buf_adds(&req, "\r\n");
	r = send_all(fd, req.data, req.len, deadline);
	buf_free(&req);
	if (r == 0 && rq->body != NULL)
		r = send_all(fd, rq->body, rq->body_len, deadline);
	while (r == 0 && rq->upload != NULL &&
	    (blen = fread(chunk, 1, sizeof(chunk), rq->upload)) > 0)
		r = send_all(fd, chunk, blen, deadline);

	/* The whole answer, until LXD closes (we asked it to). */
	while (r == 0) {
		if ((r = wait_fd(fd, POLLIN, deadline)) <= 0) {
			r = r == 0 ? -ETIMEDOUT : -EIO;
			break;
		}
		r = 0;
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			r = -EIO;
			break;
		}
		if (n == 0)
			break;
		if (buf_add(&raw, chunk, (size_t)n) != 0) {
			r = -E2BIG;
			break;
		}
		if (hlen == 0 && (hend = strstr(buf_str(&raw), "\r\n\r\n")) !=
		    NULL) {
			hlen = (size_t)(hend - raw.data) + 4;
			*hend = '\0';
			if ((v = head_value(raw.data, "Content-Length",
			    &vlen)) != NULL)
				clen = strtoll(v, NULL, 10);
			*hend = '\r';
		}
		/* A Content-Length answer may end before the close. */
		if (hlen > 0 && clen >= 0 && (long long)(raw.len - hlen) >= clen)
			break;
	}
	close(fd);
	if (r == -ETIMEDOUT) {
		buf_free(&raw);
		return lxd_seterr(l, -ETIMEDOUT, "LXD did not answer %s %s "
		    "within %ld s", rq->method, rq->path, timeout);
	}
	if (r == -E2BIG) {
		buf_free(&raw);
		rs->body.toobig = 1;
		return lxd_seterr(l, -E2BIG, "LXD's answer to %s %s is larger "
		    "than %zu bytes", rq->method, rq->path, rs->body.limit);
	}
	if (r != 0 || hlen == 0) {
		/* LXD went away mid-request: what it did is unknown. */
		l->connected = 0;
		buf_free(&raw);
		return lxd_seterr(l, -ECONNRESET, "LXD went away while "
		    "answering %s %s (%s)", rq->method, rq->path, r != 0 ?
		    "the connection broke" : raw.len == 0 ? "no answer" :
		    "the answer ended in its head");
	}
	if (sscanf(raw.data, "HTTP/1.%*d %ld", &rs->http) != 1) {
		l->connected = 0;
		buf_free(&raw);
		return lxd_seterr(l, -EIO, "talking to LXD at %s failed: not "
		    "an HTTP answer", l->socket);
	}
	raw.data[hlen - 2] = '\0';	/* the head alone, for head_value */
	if ((v = head_value(raw.data, "ETag", &vlen)) != NULL &&
	    vlen < sizeof(rs->etag)) {
		memcpy(rs->etag, v, vlen);
		rs->etag[vlen] = '\0';
	}
	chunked = (v = head_value(raw.data, "Transfer-Encoding", &vlen)) !=
	    NULL && vlen >= 7 && strncasecmp(v, "chunked", 7) == 0;
	blen = raw.len - hlen;
	if (!chunked && (v = head_value(raw.data, "Content-Length", &vlen)) !=
	    NULL && strtoul(v, NULL, 10) < blen)
		blen = strtoul(v, NULL, 10);
	body = raw.data + hlen;
	r = chunked ? dechunk(body, blen, &rs->body) :
	    buf_add(&rs->body, body, blen) != 0 ? -E2BIG : 0;
	buf_free(&raw);
	if (r == -E2BIG)
		return lxd_seterr(l, -E2BIG, "LXD's answer to %s %s is larger "
		    "than %zu bytes", rq->method, rq->path, rs->body.limit);
	if (r != 0) {
		l->connected = 0;
		return lxd_seterr(l, -EIO, "talking to LXD at %s failed: a "
		    "broken chunked answer", l->socket);
	}
	return 0;
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
		return lxd_errno_from_http(env->code);
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
	struct lxd_envelope env;
	struct lxd_resp rs;
	int r;

	if (out != NULL)
		*out = NULL;
	if ((r = lxd_connect(l)) != 0)
		return r;
	if ((r = lxd_http(l, rq, &rs)) != 0)
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
	char *s = NULL;
	int r;

	if (body != NULL) {
		s = json_dumps(body, JSON_COMPACT);
		rq.body = s;
		rq.body_len = strlen(s);
	}
	r = lxd_request(l, &rq, out, NULL, 0);
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
	const char *server;
	json_t *envir;
	int r;

	if (l->connected)
		return 0;
	find_socket(l);
	if (!is_socket(l->socket))
		return not_running(l);
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
		    "without server information", l->socket);
		goto out;
	}
	envir = json_object_get(env.metadata, "environment");
	server = json_string_value(json_object_get(envir, "server"));
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
	long quiet = 1;		/* seconds of the next wait, with progress */
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

		/*
		 * Short waits while someone watches progress, as long as
		 * the operation has progress to show; else (start, stop,
		 * delete, exec) ever longer ones: each wait is a request.
		 */
		chunk = l->progress != NULL ? quiet : (left > 30 ? 30 :
		    (long)left);
		if (chunk > left)
			chunk = (long)left;
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
			json_decref(opobj);
			return r;
		}
		report_progress(l, json_object_get(opobj, "metadata"), last,
		    sizeof(last));
		quiet = json_object_size(json_object_get(opobj, "metadata")) >
		    0 ? 1 : quiet < 8 ? quiet * 2 : 8;
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
		struct lxd_hdr *hdrs = NULL;
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
		hdrs = lxd_hdr_add(hdrs, ifmatch);
		put.body = body;
		put.body_len = strlen(body);
		put.headers = hdrs;
		r = lxd_request(l, &put, NULL, NULL, 0);
		lxd_hdr_free(hdrs);
		free(ifmatch);
		free(body);
		if (r != -EAGAIN)	/* changed meanwhile: read again */
			break;
	}
	return r;
}
