/*
 * snap.c - labc-web's shared copy of the lab's status. One thread asks
 * labcd; requests only read the last answer. The thread asks when a
 * viewer wanted the status and the copy is older than the interval, so an
 * idle labc-web costs labcd nothing and a busy one one request per
 * interval. Each answer is turned once into what is served (the JSON,
 * the metrics, the ETag), then shared by reference.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "proto.h"
#include "snap.h"
#include "xmalloc.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;	/* to the thread */
static pthread_cond_t came = PTHREAD_COND_INITIALIZER;	/* to viewers */
static pthread_t thread;
static int running, stopping, wanted;
static char sock_path[108];
static int refresh = 5;
static struct snap *cur;
static unsigned long asked, answers;	/* requests made, attempts done */
static char failing[512];
static int fd = -1;

void
snap_put(struct snap *s)
{
	int last;

	if (s == NULL)
		return;
	pthread_mutex_lock(&lock);
	last = --s->refs == 0;
	pthread_mutex_unlock(&lock);
	if (!last)
		return;
	json_decref(s->data);
	free(s->json);
	free(s->metrics);
	free(s);
}

/* 64-bit FNV-1a, for the ETag. */
static unsigned long long
fnv(const char *p, size_t n)
{
	unsigned long long h = 1469598103934665603ULL;

	while (n-- > 0) {
		h ^= (unsigned char)*p++;
		h *= 1099511628211ULL;
	}
	return h;
}

static struct snap *
snap_make(json_t *data)
{
	struct snap *s = xcalloc(1, sizeof(*s));
	json_t *untimed;
	char *body;
	time_t t;
	struct tm tm;

	s->refs = 1;
	s->data = json_incref(data);
	s->json = json_dumps(data, JSON_COMPACT);
	s->json_len = strlen(s->json);
	s->metrics = metrics_render(data, 1, &s->metrics_len);
	s->metrics_tag = fnv(s->metrics, s->metrics_len);
	s->time = json_integer_value(json_object_get(data, "time"));
	s->fetched = mono_ms() / 1000;
	/* The same lab gets the same tag, whenever it was asked. */
	untimed = json_copy(data);
	json_object_del(untimed, "time");
	body = json_dumps(untimed, JSON_COMPACT);
	snprintf(s->etag, sizeof(s->etag), "\"%016llx\"", fnv(body,
	    strlen(body)));
	free(body);
	json_decref(untimed);
	t = (time_t)s->time;
	gmtime_r(&t, &tm);
	strftime(s->last_modified, sizeof(s->last_modified),
	    "%a, %d %b %Y %H:%M:%S GMT", &tm);
	return s;
}

static int
labcd_connect(char *err, size_t errsz)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 30 };
	int s;

	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(err, errsz, "socket: %s", strerror(errno));
		return -1;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		snprintf(err, errsz, "cannot reach labcd at %s: %s (is it "
		    "running?)", sock_path, strerror(errno));
		close(s);
		return -1;
	}
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return s;
}

/* One 'status' exchange: 0 and *data, or -1 with err. */
static int
ask(json_t **data, char *err, size_t errsz)
{
	char *argv[] = { "status", NULL };
	struct proto_request req = { .argv = argv, .argc = 1, .quiet = 1 };
	json_t *msg = NULL;
	int tries, r;

	*data = NULL;
	for (tries = 0; tries < 2; tries++) {
		if (fd < 0 && (fd = labcd_connect(err, errsz)) < 0)
			return -1;
		if (proto_request_encode(&req, &msg, err, errsz) != 0)
			return -1;
		r = proto_send(fd, msg);
		json_decref(msg);
		msg = NULL;
		while (r == 0 && (r = proto_recv(fd, &msg, err, errsz)) == 0) {
			struct proto_reply rep;

			proto_reply_decode(msg, &rep);
			if (rep.kind == PROTO_K_RESULT) {
				if (rep.result.status != PROTO_OK) {
					snprintf(err, errsz, "labcd refused the "
					    "status: %s", rep.result.error ?
					    rep.result.error : "no reason");
					json_decref(msg);
					return -1;
				}
				if (!json_is_object(rep.result.data)) {
					snprintf(err, errsz, "labcd's status "
					    "has no data");
					json_decref(msg);
					return -1;
				}
				*data = json_incref(rep.result.data);
				json_decref(msg);
				return 0;
			}
			/* Progress (a notice): not for the page. */
			json_decref(msg);
			msg = NULL;
		}
		/* The connection broke (labcd restarted): once more, anew. */
		if (r == -EPIPE || r == -ECONNRESET || r == -EIO)
			snprintf(err, errsz, "labcd closed the connection");
		else if (r != 0 && *err == '\0')
			snprintf(err, errsz, "talking to labcd: %s",
			    strerror(-r));
		close(fd);
		fd = -1;
	}
	return -1;
}

static void *
run(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	while (!stopping) {
		json_t *data;
		char err[512] = "";
		int r;

		while (!stopping && !(wanted && (cur == NULL ||
		    mono_ms() / 1000 - cur->fetched >= refresh || *failing)))
			pthread_cond_wait(&wake, &lock);
		if (stopping)
			break;
		wanted = 0;
		asked++;
		pthread_mutex_unlock(&lock);
		r = ask(&data, err, sizeof(err));
		pthread_mutex_lock(&lock);
		answers++;
		if (r == 0) {
			struct snap *s = snap_make(data);
			int rf = (int)json_integer_value(json_object_get(data,
			    "refresh"));

			json_decref(data);
			if (*failing)
				log_info("labcd answers again");
			failing[0] = '\0';
			if (rf >= 1 && rf <= 3600)
				refresh = rf;
			struct snap *old = cur;

			cur = s;
			pthread_mutex_unlock(&lock);
			snap_put(old);
			pthread_mutex_lock(&lock);
		} else {
			if (strcmp(failing, err) != 0)
				log_warn("%s", err);
			snprintf(failing, sizeof(failing), "%s", err);
		}
		pthread_cond_broadcast(&came);
		/* After a failure, wait a second before the next try. */
		if (r != 0) {
			struct timespec ts;

			clock_deadline(&ts, 1000);
			pthread_cond_timedwait(&wake, &lock, &ts);
		}
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

int
snap_start(const char *socket_path, int refresh_secs, char *err, size_t errsz)
{
	if (strlen(socket_path) >= sizeof(sock_path)) {
		snprintf(err, errsz, "socket path too long: %s", socket_path);
		return -1;
	}
	snprintf(sock_path, sizeof(sock_path), "%s", socket_path);
	refresh = refresh_secs;
	if (pthread_create(&thread, NULL, run, NULL) != 0) {
		snprintf(err, errsz, "cannot start a thread");
		return -1;
	}
	running = 1;
	return 0;
}

void
snap_stop(void)
{
	if (!running)
		return;
	pthread_mutex_lock(&lock);
	stopping = 1;
	pthread_cond_broadcast(&wake);
	pthread_mutex_unlock(&lock);
	pthread_join(thread, NULL);
	running = 0;
	snap_put(cur);
	cur = NULL;
	if (fd >= 0)
		close(fd);
	fd = -1;
}

struct snap *
snap_get(int first_ms, int fresh_ms, char *why, size_t whysz)
{
	struct snap *s;
	struct timespec until;
	unsigned long seen;
	int wait_ms;

	pthread_mutex_lock(&lock);
	wait_ms = cur == NULL ? first_ms : fresh_ms;
	pthread_mutex_unlock(&lock);
	clock_deadline(&until, wait_ms);
	pthread_mutex_lock(&lock);
	/*
	 * Older than the interval: ask labcd, and wait for its answer (every
	 * viewer who comes meanwhile waits for that same one), at most
	 * fresh_ms (first_ms for the first); then, or while labcd does not
	 * answer, the last one is served.
	 */
	if (cur == NULL || mono_ms() / 1000 - cur->fetched >= refresh) {
		wanted = 1;
		pthread_cond_signal(&wake);
		seen = answers;
		while ((cur == NULL || *failing == '\0') && answers == seen &&
		    !stopping && pthread_cond_timedwait(&came, &lock,
		    &until) == 0)
			;
	}
	if ((s = cur) != NULL)
		s->refs++;
	else
		snprintf(why, whysz, "%s", *failing ? failing :
		    "labcd has not answered yet");
	pthread_mutex_unlock(&lock);
	return s;
}

int
snap_failing(char *why, size_t whysz)
{
	int f;

	pthread_mutex_lock(&lock);
	f = *failing != '\0';
	if (f)
		snprintf(why, whysz, "%s", failing);
	pthread_mutex_unlock(&lock);
	return f;
}

unsigned long
snap_requests(void)
{
	unsigned long n;

	pthread_mutex_lock(&lock);
	n = asked;
	pthread_mutex_unlock(&lock);
	return n;
}

int
snap_refresh(void)
{
	int r;

	pthread_mutex_lock(&lock);
	r = refresh;
	pthread_mutex_unlock(&lock);
	return r;
}
