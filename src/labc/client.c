/*
 * client.c - labc's side of the protocol: connect to labcd, run one
 * exchange (request -> progress and prompts -> result), keep the session
 * token, and let signals end a wait (client.h).
 */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "atomicio.h"
#include "client.h"
#include "inert.h"
#include "proto.h"
#include "relay.h"
#include "xmalloc.h"

#define CLIENT_ANSWER_MAX	(64 * 1024)	/* bytes in one answer */
#define CLIENT_TOKEN_MAX	1024		/* bytes in a token */

static volatile sig_atomic_t client_sig;
static int client_catching;
static const int client_signals[] = { SIGINT, SIGTERM, SIGHUP };
#define CLIENT_NSIGNALS	\
	(sizeof(client_signals) / sizeof(client_signals[0]))

static void
client_onsignal(int sig)
{
	/* A signal that ends labc wins over a SIGINT not yet taken. */
	if (sig != SIGINT || client_sig == 0)
		client_sig = sig;
}

static void
client_catch(struct sigaction *old)
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = client_onsignal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: a blocking read ends */
	for (i = 0; i < CLIENT_NSIGNALS; i++)
		sigaction(client_signals[i], &sa, old != NULL ? &old[i] : NULL);
}

void
client_catch_signals(void)
{
	client_catch(NULL);
	client_catching = 1;
}

int
client_signal(void)
{
	return client_sig;
}

int
client_signal_take(void)
{
	int sig = client_sig;

	client_sig = 0;
	return sig;
}

int
client_columns(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

/* Session tokens: opaque, printable ASCII without blanks. */
static int
client_token_ok(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++, n++) {
		if (*s <= ' ' || *s > '~' || n >= CLIENT_TOKEN_MAX)
			return 0;
	}
	return n > 0;
}

/* FNV-1a, 32 bits: tells one daemon's token file from another's. */
static uint32_t
client_fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

/*
 * $XDG_RUNTIME_DIR/labc/session-HASH, else ~/.cache/labc/session-HASH,
 * HASH of the socket's real path. NULL if there is no home.
 */
static char *
client_session_path(const char *socket)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR"), *home = getenv("HOME");
	struct passwd *pw;
	char real[PATH_MAX];
	uint32_t h;

	h = client_fnv1a(realpath(socket, real) != NULL ? real : socket);
	if (xdg != NULL && *xdg == '/')
		return xasprintf("%s/labc/session-%08x", xdg, h);
	if (home == NULL || *home != '/') {
		pw = getpwuid(getuid());
		home = pw != NULL ? pw->pw_dir : NULL;
	}
	if (home == NULL || *home != '/')
		return NULL;
	return xasprintf("%s/.cache/labc/session-%08x", home, h);
}

static void
client_session_load(struct client *c)
{
	char tok[CLIENT_TOKEN_MAX + 2];
	struct stat st;
	ssize_t n;
	int fd;

	if (c->session_file == NULL)
		return;
	fd = open(c->session_file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != getuid() || st.st_size > CLIENT_TOKEN_MAX + 1) {
		close(fd);
		return;
	}
	n = read(fd, tok, sizeof(tok) - 1);
	close(fd);
	if (n <= 0)
		return;
	tok[n] = '\0';
	tok[strcspn(tok, "\r\n")] = '\0';
	if (client_token_ok(tok))
		c->session = xstrdup(tok);
	explicit_bzero(tok, sizeof(tok));
}

/* Make the token's directory: ours, 0700, not a link. 0 or -errno. */
static int
client_session_dir(const char *file)
{
	char *dir, *slash;
	struct stat st;
	int r = 0;

	dir = xstrdup(file);
	*strrchr(dir, '/') = '\0';
	/* ~/.cache may be missing too. */
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		(void)mkdir(dir, 0700);
		*slash = '/';
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		r = -errno;
		goto out;
	}
	if (lstat(dir, &st) != 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != getuid()) {
		r = -EPERM;
		goto out;
	}
	if ((st.st_mode & 077) != 0 && chmod(dir, 0700) != 0)
		r = -errno;
out:
	free(dir);
	return r;
}

/* Write the token atomically (temporary file, then rename). */
static void
client_session_save(struct client *c)
{
	char *tmp = NULL, *line = NULL;
	int fd = -1, r;

	if (c->session_file == NULL)
		return;
	if ((r = client_session_dir(c->session_file)) != 0)
		goto out;
	tmp = xasprintf("%s.%ld.tmp", c->session_file, (long)getpid());
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1) {
		r = -errno;
		goto out;
	}
	line = xasprintf("%s\n", c->session);
	if ((r = write_all(fd, line, strlen(line))) != 0)
		goto out;
	if (close(fd) != 0) {
		fd = -1;
		r = -errno;
		goto out;
	}
	fd = -1;
	if (rename(tmp, c->session_file) != 0)
		r = -errno;
out:
	if (fd != -1)
		close(fd);
	if (r != 0) {
		if (tmp != NULL)
			(void)unlink(tmp);
		fprintf(stderr, "labc: could not save the session in %s (%s): "
		    "later commands will not be logged in\n", c->session_file,
		    strerror(-r));
	}
	if (line != NULL) {
		explicit_bzero(line, strlen(line));
		free(line);
	}
	free(tmp);
}

static void
client_session_set(struct client *c, const char *token)
{
	if (!client_token_ok(token)) {
		fprintf(stderr, "labc: labcd sent a session token that cannot "
		    "be used\n");
		return;
	}
	if (c->session != NULL) {
		explicit_bzero(c->session, strlen(c->session));
		free(c->session);
	}
	c->session = xstrdup(token);
	client_session_save(c);
}

static void
client_session_drop(struct client *c)
{
	if (c->session != NULL) {
		explicit_bzero(c->session, strlen(c->session));
		free(c->session);
		c->session = NULL;
	}
	if (c->session_file != NULL && unlink(c->session_file) != 0 &&
	    errno != ENOENT)
		fprintf(stderr, "labc: could not remove %s: %s\n",
		    c->session_file, strerror(errno));
}

void
client_init(struct client *c, const char *path, const char *as, int persist)
{
	memset(c, 0, sizeof(*c));
	if (path == NULL || *path == '\0')
		path = getenv("LABC_SOCKET");
	if (path == NULL || *path == '\0')
		path = CLIENT_SOCKET;
	c->path = xstrdup(path);
	c->as = as != NULL ? xstrdup(as) : NULL;
	c->fd = -1;
	c->out_fd = STDOUT_FILENO;
	if (persist) {
		c->session_file = client_session_path(c->path);
		client_session_load(c);
	}
}

void
client_free(struct client *c)
{
	client_close(c);
	if (c->session != NULL) {
		explicit_bzero(c->session, strlen(c->session));
		free(c->session);
	}
	free(c->session_file);
	free(c->as);
	free(c->key);
	free(c->path);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

void
client_close(struct client *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
}

int
client_connect(struct client *c, char *err, size_t errsz)
{
	struct sockaddr_un sun;
	int fd, r;

	if (c->fd != -1)
		return 0;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(c->path) >= sizeof(sun.sun_path)) {
		snprintf(err, errsz, "the socket path %s is too long (at most "
		    "%zu bytes)", c->path, sizeof(sun.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memcpy(sun.sun_path, c->path, strlen(c->path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		r = -errno;
		snprintf(err, errsz, "socket: %s", strerror(-r));
		return r;
	}
	while (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		if (errno == EINTR)
			continue;
		r = -errno;
		close(fd);
		switch (-r) {
		case ENOENT:
		case ENOTDIR:
			snprintf(err, errsz, "labcd is not running (no socket "
			    "at %s): start it with 'systemctl start labcd' (or "
			    "ask your admin)", c->path);
			break;
		case ECONNREFUSED:
			snprintf(err, errsz, "labcd is not running (%s refuses "
			    "connections): start it with 'systemctl start "
			    "labcd' (or ask your admin)", c->path);
			break;
		case EACCES:
		case EPERM:
			snprintf(err, errsz, "no permission to use labcd's "
			    "socket %s: ask your admin for access", c->path);
			break;
		default:
			snprintf(err, errsz, "cannot connect to labcd at "
			    "%s: %s", c->path, strerror(-r));
			break;
		}
		return r;
	}
	c->fd = fd;
	return 0;
}

/*
 * Between exchanges labcd sends nothing: a connection that is readable
 * then has been closed (idle timeout, restart) or is out of step.
 */
static int
client_stale(struct client *c)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };

	return poll(&pfd, 1, 0) != 0;
}

/* stdout's width if it is a terminal, else 0. */
static int
client_tty_columns(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 0;
}

static json_t *
client_request(struct client *c, char **argv, int argc, int flags,
    char *err, size_t errsz)
{
	const char *term = getenv("TERM");
	struct proto_request req = {
		.argv = argv, .argc = argc,
		.as = c->as, .key = c->key, .session = c->session,
		.tty = isatty(STDIN_FILENO),
		.otty = isatty(c->out_fd),
		/* Not a terminal (a pipe, a file): tables as they are. */
		.cols = client_tty_columns(),
		/* Nothing of it is shown: labcd keeps its notices for later. */
		.quiet = (flags & CLIENT_QUIET) != 0,
	};
	json_t *msg;

	req.color = isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL &&
	    term != NULL && *term != '\0' && strcmp(term, "dumb") != 0;
	if (proto_request_encode(&req, &msg, err, errsz) != 0)
		return NULL;
	return msg;
}

/*
 * A fresh connection that labcd refused at once (too many clients) was
 * closed before the request went out: its one result says why. 1 and the
 * reason in err, or 0.
 */
static int
client_refused(struct client *c, char *err, size_t errsz)
{
	struct proto_reply rep;
	json_t *m = NULL;
	char perr[64];
	int r = 0;

	if (proto_recv(c->fd, &m, perr, sizeof(perr)) != 0)
		return 0;
	proto_reply_decode(m, &rep);
	if (rep.kind == PROTO_K_RESULT && rep.result.error != NULL) {
		snprintf(err, errsz, "%s", rep.result.error);
		r = 1;
	}
	json_decref(m);
	return r;
}

/* Send a request; a connection found dead is made again, once. */
static int
client_send(struct client *c, json_t *req, char *err, size_t errsz)
{
	int fresh, r = 0, tries;

	for (tries = 0; tries < 2; tries++) {
		if (c->fd != -1 && client_stale(c))
			client_close(c);
		fresh = c->fd == -1;
		if ((r = client_connect(c, err, errsz)) != 0)
			return r;
		if ((r = proto_send(c->fd, req)) == 0)
			return 0;
		if (r == -EMSGSIZE) {
			snprintf(err, errsz, "the command is too long to send "
			    "(more than %d bytes)", PROTO_MAX_FRAME);
			return -EINVAL;
		}
		if (fresh && (r == -EPIPE || r == -ECONNRESET) &&
		    client_refused(c, err, errsz)) {
			client_close(c);
			return -ECONNREFUSED;
		}
		client_close(c);
		if (fresh || (r != -EPIPE && r != -ECONNRESET))
			break;
	}
	snprintf(err, errsz, "labcd closed the connection: %s", strerror(-r));
	return r;
}

/* Wait until labcd says something, or a caught signal comes. */
static int
client_wait(struct client *c, char *err, size_t errsz)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	sigset_t block, old;
	size_t i;
	int n, r = 0;

	sigemptyset(&block);
	for (i = 0; i < CLIENT_NSIGNALS; i++)
		sigaddset(&block, client_signals[i]);
	sigprocmask(SIG_BLOCK, &block, &old);
	for (;;) {
		if (client_sig != 0) {
			snprintf(err, errsz, "interrupted");
			client_close(c);
			r = -EINTR;
			break;
		}
		/* The signals are let in only while ppoll waits. */
		n = ppoll(&pfd, 1, NULL, &old);
		if (n > 0)
			break;
		if (n < 0 && errno != EINTR) {
			r = -errno;
			snprintf(err, errsz, "poll: %s", strerror(-r));
			client_close(c);
			break;
		}
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}

/*
 * Read one answer into buf (CLIENT_ANSWER_MAX + 1 bytes): 1 and *len, 0 at
 * the end of input, or -errno with err. From a terminal, with the echo off
 * when asked, and the terminal restored whatever happens.
 */
/*
 * Text from labcd to a terminal: a second wall behind labcd's own, so no
 * escape sequence in a name or a message reaches the terminal raw (only
 * labcd's colours and line breaks do). Pipes and files get it exact.
 */
static void
client_put(FILE *f, const char *s, size_t n)
{
	struct buf b = BUF_INIT(0);

	if (!isatty(fileno(f))) {
		fwrite(s, 1, n, f);
		return;
	}
	inert_add(&b, s, n, INERT_LINES | INERT_SGR);
	fwrite(buf_str(&b), 1, b.len, f);
	buf_free(&b);
}

static int
client_ask_tty(const char *text, int echo, char *buf, size_t *len, char *err,
    size_t errsz)
{
	struct sigaction old[CLIENT_NSIGNALS];
	struct termios saved, t;
	int caught = 0, restore = 0, toobig = 0, r = 1;
	size_t i, n = 0;
	ssize_t got;
	char ch;

	if (!client_catching) {
		client_catch(old);
		caught = 1;
	}
	client_put(stderr, text, strlen(text));
	fflush(stderr);
	if (!echo && tcgetattr(STDIN_FILENO, &saved) == 0) {
		t = saved;
		t.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK);
		t.c_lflag |= ECHONL;
		if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) == 0)
			restore = 1;
	}
	for (;;) {
		if (client_sig != 0) {
			snprintf(err, errsz, "interrupted");
			r = -EINTR;
			break;
		}
		got = read(STDIN_FILENO, &ch, 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = -errno;
			snprintf(err, errsz, "reading the answer: %s",
			    strerror(-r));
			break;
		}
		if (got == 0) {
			r = n > 0 ? 1 : 0;
			fputc('\n', stderr);
			break;
		}
		if (ch == '\n')
			break;
		if (n == CLIENT_ANSWER_MAX)
			toobig = 1;
		else
			buf[n++] = ch;
	}
	/* Interrupted: what was typed of a secret is dropped, not left over. */
	if (restore)
		tcsetattr(STDIN_FILENO, r == -EINTR ? TCSAFLUSH : TCSANOW,
		    &saved);
	if (r == -EINTR)
		fputc('\n', stderr);
	if (caught) {
		for (i = 0; i < CLIENT_NSIGNALS; i++)
			sigaction(client_signals[i], &old[i], NULL);
	}
	explicit_bzero(&ch, sizeof(ch));
	if (r == 1 && toobig) {
		snprintf(err, errsz, "the answer is too long (more than %d "
		    "bytes)", CLIENT_ANSWER_MAX);
		r = -E2BIG;
	}
	*len = n;
	return r;
}

/* The same from stdin that is not a terminal: one line, no prompt. */
static int
client_ask_stdin(char *buf, size_t *len, char *err, size_t errsz)
{
	size_t n = 0;
	int ch, toobig = 0;

	while ((ch = getc(stdin)) != EOF && ch != '\n') {
		if (n == CLIENT_ANSWER_MAX)
			toobig = 1;
		else
			buf[n++] = (char)ch;
	}
	*len = n;
	if (ch == EOF && ferror(stdin)) {
		snprintf(err, errsz, "reading the answer from stdin: %s",
		    strerror(errno));
		return -EIO;
	}
	if (toobig) {
		snprintf(err, errsz, "the answer is too long (more than %d "
		    "bytes)", CLIENT_ANSWER_MAX);
		return -E2BIG;
	}
	return ch == EOF && n == 0 ? 0 : 1;
}

/* Answer one prompt with one input. Never shows or keeps the answer. */
static int
client_prompt(struct client *c, const struct proto_reply *rep, int flags,
    char *err, size_t errsz)
{
	const char *text = rep->text;
	int echo = rep->echo;
	char *buf;
	size_t len = 0;
	int r = 0;

	buf = xmalloc(CLIENT_ANSWER_MAX + 1);
	if (flags & CLIENT_QUIET)
		r = 0;
	else if (isatty(STDIN_FILENO))
		r = client_ask_tty(text != NULL ? text : "", echo, buf, &len,
		    err, errsz);
	else
		r = client_ask_stdin(buf, &len, err, errsz);
	if (r >= 0) {
		r = proto_input_send(c->fd, r == 1 ? buf : NULL, len);
		if (r == -EINVAL)
			snprintf(err, errsz, "the answer contains a NUL byte");
		else if (r == -EILSEQ)
			snprintf(err, errsz, "the answer is not valid UTF-8");
		else if (r != 0)
			snprintf(err, errsz, "labcd closed the connection: %s",
			    strerror(-r));
	}
	explicit_bzero(buf, CLIENT_ANSWER_MAX + 1);
	free(buf);
	if (r < 0)
		client_close(c);
	return r < 0 ? r : 0;
}

static void
client_result(struct client *c, const struct proto_result *r, int flags,
    struct client_result *res)
{
	size_t n;

	res->status = r->status;
	if (!(flags & CLIENT_QUIET) && r->text != NULL && *r->text != '\0') {
		n = strlen(r->text);
		client_put(stdout, r->text, n);
		if (c->shell && r->text[n - 1] != '\n')
			fputc('\n', stdout);
	}
	fflush(stdout);
	if (!(flags & CLIENT_QUIET) && r->error != NULL && *r->error != '\0') {
		n = strlen(r->error);
		client_put(stderr, r->error, n);
		if (r->error[n - 1] != '\n')
			fputc('\n', stderr);
	}
	if (r->session != NULL) {
		client_session_set(c, r->session);
		res->identity = 1;
	}
	if (r->logout) {
		client_session_drop(c);
		res->identity = 1;
	}
	if ((res->data = r->data) != NULL)
		json_incref(res->data);
	if ((flags & CLIENT_CAPTURE) == CLIENT_CAPTURE) {
		res->text = r->text != NULL ? xstrdup(r->text) : NULL;
		res->error = r->error != NULL ? xstrdup(r->error) : NULL;
	}
}

/*
 * After a "stream": labcd hands over the connection (proto_fd_send);
 * relay stdin and stdout to it until it ends.
 */
static int
client_splice(int fd, char *err, size_t errsz)
{
	char why[256];
	int conn, r;

	if ((r = proto_fd_recv(fd, &conn)) != 0) {
		snprintf(err, errsz, "labcd answered with a stream but sent no "
		    "connection (%s): use labc and labcd of the same release",
		    r == -EPROTO ? "something else came" : strerror(-r));
		return r;
	}
	r = relay_run(STDIN_FILENO, STDOUT_FILENO, conn, why, sizeof(why));
	close(conn);
	if (r != 0)
		snprintf(err, errsz, "%s", why);
	return r;
}

/* Progress of a data stream, on a terminal's stderr only. */
struct meter {
	_Atomic long long	 seen;
	_Atomic int		 done;
	const char		*verb;
	pthread_t		 t;
};

static void *
meter_main(void *arg)
{
	struct meter *m = arg;
	struct timespec t0, now, tick = { 0, 250 * 1000 * 1000 };
	double mib, secs;
	int n = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!atomic_load(&m->done)) {
		nanosleep(&tick, NULL);
		if (++n % 4 != 0 && !atomic_load(&m->done))
			continue;
		clock_gettime(CLOCK_MONOTONIC, &now);
		secs = (double)(now.tv_sec - t0.tv_sec) +
		    (double)(now.tv_nsec - t0.tv_nsec) / 1e9;
		mib = (double)atomic_load(&m->seen) / 1048576.0;
		fprintf(stderr, "\r%s %.1f MiB, %.1f MiB/s   ", m->verb, mib,
		    secs > 0 ? mib / secs : 0.0);
		fflush(stderr);
	}
	fputc('\n', stderr);
	return NULL;
}

/*
 * A data stream (export, import): labcd hands over one end of a socket;
 * its bytes go to stdout ('o'), or stdin goes into it ('i'), to the end.
 * The result follows on the connection.
 */
static int
client_transfer(int fd, int out, int dir, char *err, size_t errsz)
{
	struct meter m = { .seen = 0, .done = 0 };
	long long n;
	int conn, r, metered;

	if ((r = proto_fd_recv(fd, &conn)) != 0) {
		snprintf(err, errsz, "labcd answered with a data stream but "
		    "sent no socket (%s): use labc and labcd of the same "
		    "release", r == -EPROTO ? "something else came" :
		    strerror(-r));
		return r;
	}
	m.verb = dir == 'o' ? "Received" : "Sent";
	metered = isatty(STDERR_FILENO) && pthread_create(&m.t, NULL,
	    meter_main, &m) == 0;
	if (dir == 'o') {
		n = relay_copy_seen(conn, out, &m.seen);
	} else {
		n = relay_copy_seen(STDIN_FILENO, conn, &m.seen);
		if (n >= 0)
			(void)shutdown(conn, SHUT_WR);
	}
	close(conn);
	if (metered) {
		atomic_store(&m.done, 1);
		pthread_join(m.t, NULL);
	}
	if (n < 0) {
		/* labcd says what it saw in the result; this is the client's. */
		snprintf(err, errsz, "%s: %s", dir == 'o' ? "writing what labcd "
		    "sent" : "sending standard input", strerror((int)-n));
		return (int)n;
	}
	return 0;
}

int
client_exchange(struct client *c, char **argv, int argc, int flags,
    struct client_result *res, char *err, size_t errsz)
{
	struct proto_reply rep;
	const char *error;
	char perr[256];
	json_t *req, *msg = NULL;
	int r;

	memset(res, 0, sizeof(*res));
	res->status = PROTO_FAILED;
	if ((req = client_request(c, argv, argc, flags, err, errsz)) == NULL)
		return -EINVAL;
	r = client_send(c, req, err, errsz);
	json_decref(req);
	if (r != 0)
		return r;
	for (;;) {
		if ((r = client_wait(c, err, errsz)) != 0)
			return r;
		if ((r = proto_recv(c->fd, &msg, perr, sizeof(perr))) != 0) {
			if (r == -EPROTO || r == -EMSGSIZE)
				snprintf(err, errsz, "labcd sent a message "
				    "labc cannot read: %s", perr);
			else if (r == -EPIPE)
				snprintf(err, errsz, "labcd closed the "
				    "connection: no result came (see labcd's "
				    "log)");
			else
				snprintf(err, errsz, "labcd closed the "
				    "connection: %s", perr);
			client_close(c);
			return r;
		}
		proto_reply_decode(msg, &rep);
		if (rep.kind == PROTO_K_PROGRESS) {
			if (!(flags & CLIENT_QUIET)) {
				fflush(stdout);
				if (rep.text != NULL)
					client_put(stderr, rep.text,
					    strlen(rep.text));
				fputc('\n', stderr);
			}
		} else if (rep.kind == PROTO_K_PROMPT) {
			if ((r = client_prompt(c, &rep, flags, err, errsz)) != 0)
				break;
		} else if (rep.kind == PROTO_K_RESULT) {
			client_result(c, &rep.result, flags, res);
			break;
		} else if (rep.kind == PROTO_K_STREAM && rep.dir != 0 &&
		    rep.result.status == PROTO_OK) {
			if (!(flags & CLIENT_STREAM) || rep.dir == '?') {
				snprintf(err, errsz, "labcd answered with a "
				    "data stream, which only 'labc CMD' run "
				    "from a shell can pass on");
				r = -EPROTO;
				client_close(c);
				break;
			}
			/* A broken transfer: labcd's result says why. */
			(void)client_transfer(c->fd, c->out_fd, rep.dir, perr,
			    sizeof(perr));
		} else if (rep.kind == PROTO_K_STREAM &&
		    rep.result.status != PROTO_OK) {
			client_result(c, &rep.result, flags, res);
			client_close(c);
			break;
		} else if (rep.kind == PROTO_K_STREAM) {
			res->status = PROTO_OK;
			error = rep.result.error;
			if (error != NULL && *error != '\0') {
				client_put(stderr, error, strlen(error));
				fputc('\n', stderr);
			}
			if (!(flags & CLIENT_STREAM)) {
				snprintf(err, errsz, "labcd answered with a "
				    "data stream, which only 'labc CMD' run "
				    "from a shell can pass on");
				r = -EPROTO;
			} else
				r = client_splice(c->fd, err, errsz);
			client_close(c);
			break;
		} else {
			snprintf(err, errsz, "labcd sent a message of unknown "
			    "type \"%s\"", rep.type);
			client_close(c);
			r = -EPROTO;
			break;
		}
		json_decref(msg);
		msg = NULL;
	}
	json_decref(msg);
	return r;
}

void
client_result_free(struct client_result *res)
{
	json_decref(res->data);
	res->data = NULL;
	free(res->text);
	free(res->error);
	res->text = res->error = NULL;
}

/* One command: its status, or the client's own 1 or 2. */
int
client_run(struct client *c, char **argv, int argc)
{
	struct client_result res;
	char err[512];
	int r, sig;

	r = client_exchange(c, argv, argc, CLIENT_STREAM, &res, err,
	    sizeof(err));
	if (r == -EINTR && (sig = client_signal_take()) != 0) {
		/* Terminal restored: now end the way the signal would. */
		client_close(c);
		signal(sig, SIG_DFL);
		raise(sig);
		return 128 + sig;
	}
	if (r != 0) {
		fprintf(stderr, "labc: %s\n", err);
		return r == -EINVAL ? PROTO_USAGE : PROTO_FAILED;
	}
	r = res.status;
	client_result_free(&res);
	return r;
}
