/*
 * t-lxd-pure.c - the LXD client's pure parts: envelopes, error mapping,
 * escaping, progress, state helpers; and a dead or silent socket.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "lxd.h"
#include "lxd-int.h"
#include "test.h"

static int
parse(const char *body, long http, struct lxd_envelope *env, char *msg)
{
	return lxd_envelope_parse(body, strlen(body), http, env, msg, 256);
}

static void
envelope_sync(void)
{
	struct lxd_envelope env;
	char msg[256];

	REQUIRE(parse("{\"type\":\"sync\",\"status\":\"Success\","
	    "\"status_code\":200,\"metadata\":{\"a\":1}}", 200, &env, msg) == 0);
	CHECK(env.kind == 's');
	CHECK(env.code == 200);
	CHECK(json_integer_value(json_object_get(env.metadata, "a")) == 1);
	lxd_envelope_clear(&env);
}

static void
envelope_async(void)
{
	struct lxd_envelope env;
	char msg[256];

	REQUIRE(parse("{\"type\":\"async\",\"status_code\":100,\"operation\":"
	    "\"/1.0/operations/abc\",\"metadata\":{\"id\":\"abc\"}}", 202,
	    &env, msg) == 0);
	CHECK(env.kind == 'a');
	CHECK(strcmp(env.operation, "/1.0/operations/abc") == 0);
	lxd_envelope_clear(&env);
	/* An async answer without an operation is not LXD's API. */
	CHECK(parse("{\"type\":\"async\",\"status_code\":100}", 202, &env,
	    msg) == -EPROTO);
	CHECK(strstr(msg, "no operation") != NULL);
}

static void
envelope_errors(void)
{
	struct lxd_envelope env;
	char msg[256];

	CHECK(parse("{\"type\":\"error\",\"error_code\":404,\"error\":"
	    "\"Instance not found\"}", 404, &env, msg) == -ENOENT);
	CHECK(strcmp(msg, "Instance not found") == 0);
	lxd_envelope_clear(&env);
	CHECK(parse("{\"type\":\"error\",\"error_code\":409,\"error\":"
	    "\"exists\"}", 409, &env, msg) == -EEXIST);
	lxd_envelope_clear(&env);
	/* No error_code: the HTTP status decides; no text: a generic one. */
	CHECK(parse("{\"type\":\"error\"}", 403, &env, msg) == -EACCES);
	CHECK(strcmp(msg, "LXD reported an error") == 0);
	lxd_envelope_clear(&env);
	CHECK(parse("{\"type\":\"error\",\"error_code\":500,\"error\":\"x\"}",
	    500, &env, msg) == -EIO);
	lxd_envelope_clear(&env);
}

static void
envelope_malformed(void)
{
	struct lxd_envelope env;
	char msg[256];

	CHECK(parse("", 200, &env, msg) == -EPROTO);
	CHECK(parse("<html>", 502, &env, msg) == -EPROTO);
	CHECK(strstr(msg, "HTTP 502") != NULL);
	CHECK(parse("[1,2]", 200, &env, msg) == -EPROTO);
	CHECK(parse("{\"type\":\"weird\"}", 200, &env, msg) == -EPROTO);
	CHECK(strstr(msg, "weird") != NULL);
	CHECK(parse("{\"type\":\"sync\",\"type\":\"error\"}", 200, &env,
	    msg) == -EPROTO);
	CHECK(parse("{\"type\":\"sync\"", 200, &env, msg) == -EPROTO);
}

static void
errno_mapping(void)
{
	CHECK(lxd_errno_from_http(404) == -ENOENT);
	CHECK(lxd_errno_from_http(409) == -EEXIST);
	CHECK(lxd_errno_from_http(403) == -EACCES);
	CHECK(lxd_errno_from_http(412) == -EAGAIN);
	CHECK(lxd_errno_from_http(400) == -EIO);
	CHECK(lxd_errno_from_http(500) == -EIO);
}

/* LXD's words for the refusals callers act on: read in lxd.c alone. */
static void
errno_from_text(void)
{
	struct lxd_envelope env;
	char msg[256];

	CHECK(lxd_errno_from_text(-EIO, "The instance is already running") ==
	    -EALREADY);
	CHECK(lxd_errno_from_text(-EIO, "The instance is already stopped") ==
	    -EALREADY);
	CHECK(lxd_errno_from_text(-EIO, "Instance is not running") == -ESRCH);
	CHECK(lxd_errno_from_text(-EIO, "Failed to create instance update "
	    "operation: Instance is busy running a start operation") ==
	    -EBUSY);
	CHECK(lxd_errno_from_text(-EIO, "Failed to create instance start "
	    "operation: Instance is busy running a \"update\" operation") ==
	    -EBUSY);
	CHECK(lxd_errno_from_text(-EIO, "Failed to create instance update "
	    "operation: A matching non-reusable operation has now succeeded")
	    == -EBUSY);
	CHECK(lxd_errno_from_text(-EIO, "Reached maximum aggregate value "
	    "\"2\" for \"limits.cpu\" in project \"labc-a\"") == -EDQUOT);
	CHECK(lxd_errno_from_text(-EIO, "Reached maximum number of instances "
	    "(1) in project \"labc-a\"") == -EDQUOT);
	CHECK(lxd_errno_from_text(-EIO, "Error inserting \"labct\" into "
	    "database: The profile already exists") == -EEXIST);
	CHECK(lxd_errno_from_text(-EIO, "x") == -EIO);
	/* Only what LXD said otherwise: its 404 stays a 404. */
	CHECK(lxd_errno_from_text(-ENOENT, "not running") == -ENOENT);
	CHECK(parse("{\"type\":\"error\",\"error_code\":400,\"error\":"
	    "\"The instance is already running\"}", 400, &env, msg) ==
	    -EALREADY);
	CHECK(strcmp(msg, "The instance is already running") == 0);
	lxd_envelope_clear(&env);
}

static void
escaping(void)
{
	char *s;

	s = lxd_escape("abc-DEF_0.9~");
	CHECK(strcmp(s, "abc-DEF_0.9~") == 0);
	free(s);
	s = lxd_escape("a b/../c?d&e=f%");
	CHECK(strcmp(s, "a%20b%2F..%2Fc%3Fd%26e%3Df%25") == 0);
	free(s);
	s = lxd_escape("\xc3\xa9");
	CHECK(strcmp(s, "%C3%A9") == 0);
	free(s);
	s = lxd_path("lab-alice", "/1.0/instances/%s/files?path=%s", "box",
	    "/home/ubuntu/.ssh");
	CHECK(strcmp(s, "/1.0/instances/box/files?path=%2Fhome%2Fubuntu%2F"
	    ".ssh&project=lab-alice") == 0);
	free(s);
	s = lxd_path("p q", "/1.0/instances/%s", "../x");
	CHECK(strcmp(s, "/1.0/instances/..%2Fx?project=p%20q") == 0);
	free(s);
	s = lxd_path(NULL, "/1.0/projects/%s", "a");
	CHECK(strcmp(s, "/1.0/projects/a") == 0);
	free(s);
}

static void
progress_percent(void)
{
	CHECK(lxd_progress_percent("Unpack: 45%") == 45);
	CHECK(lxd_progress_percent("rootfs: 100% (12MB/s)") == 100);
	CHECK(lxd_progress_percent("no number") == -1);
	CHECK(lxd_progress_percent("%") == -1);
	CHECK(lxd_progress_percent("x: 250%") == -1);
	CHECK(lxd_progress_percent(NULL) == -1);
}

static void
state_helpers(void)
{
	json_t *st = json_loads("{\"status\":\"Running\",\"pid\":42,"
	    "\"network\":{\"lo\":{\"addresses\":[{\"family\":\"inet\","
	    "\"address\":\"127.0.0.1\",\"scope\":\"local\"}]},"
	    "\"eth0\":{\"addresses\":[{\"family\":\"inet6\",\"address\":"
	    "\"fe80::1\",\"scope\":\"link\"},{\"family\":\"inet\",\"address\":"
	    "\"10.214.0.5\",\"scope\":\"global\"}]}}}", 0, NULL);

	REQUIRE(st != NULL);
	CHECK(strcmp(lxd_state_status(st), "Running") == 0);
	CHECK(strcmp(lxd_state_ipv4(st, NULL), "10.214.0.5") == 0);
	CHECK(strcmp(lxd_state_ipv4(st, "eth0"), "10.214.0.5") == 0);
	CHECK(lxd_state_ipv4(st, "eth1") == NULL);
	json_decref(st);
	/* A stopped instance has no network at all. */
	st = json_loads("{\"status\":\"Stopped\",\"network\":null}", 0, NULL);
	CHECK(lxd_state_ipv4(st, NULL) == NULL);
	json_decref(st);
}

static void
buffer_limit(void)
{
	struct buf b = BUF_INIT(8);

	CHECK(buf_adds(&b, "12345") == 0);
	CHECK(buf_adds(&b, "6789") == -E2BIG);
	CHECK(b.toobig && b.len == 5 && strcmp(buf_str(&b), "12345") == 0);
	CHECK(buf_adds(&b, "678") == 0);
	CHECK(strcmp(buf_str(&b), "12345678") == 0);
	buf_free(&b);
	CHECK(strcmp(buf_str(&b), "") == 0);
}

/* What a refusal is, in LXD's words, for the message labcd gives. */
static void
refusals(void)
{
	struct lxd *l = lxd_new("/nonexistent/lxd/unix.socket");

	REQUIRE(l != NULL);
	lxd_seterr(l, -EIO, "Failed clearing ownership: chown /var/lib/lxd/"
	    "containers/p_small: disk quota exceeded");
	CHECK(lxd_refusal(l) == LXD_REFUSED_DISK_FULL);
	lxd_seterr(l, -EIO, "write /x: no space left on device");
	CHECK(lxd_refusal(l) == LXD_REFUSED_DISK_FULL);
	lxd_seterr(l, -EIO, "Reached maximum aggregate value \"2\" for "
	    "\"limits.cpu\" in project \"labc-a\"");
	CHECK(lxd_refusal(l) == LXD_REFUSED_LIMITS);
	lxd_seterr(l, -EIO, "Reached maximum number of instances (1) in "
	    "project \"labc-a\"");
	CHECK(lxd_refusal(l) == LXD_REFUSED_INSTANCES);
	lxd_seterr(l, -EIO, "Instance not found");
	CHECK(lxd_refusal(l) == LXD_REFUSED_OTHER);
	lxd_free(l);
}

static void
no_socket(void)
{
	struct lxd *l = lxd_new("/nonexistent/lxd/unix.socket");
	json_t *out = NULL;

	REQUIRE(l != NULL);
	CHECK(lxd_instance_list(l, "default", 0, &out) == -ECONNREFUSED);
	CHECK(out == NULL);
	CHECKF(strstr(lxd_error(l), "LXD is not running: no socket at "
	    "/nonexistent/lxd/unix.socket") != NULL, "got: %s", lxd_error(l));
	lxd_free(l);
}

static int
bind_socket(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0)
		return -1;
	return fd;
}

static void
dead_socket(void)
{
	char path[] = "/tmp/labct-dead-XXXXXX";
	char sock[64];
	struct lxd *l;
	int fd;

	REQUIRE(mkdtemp(path) != NULL);
	snprintf(sock, sizeof(sock), "%s/unix.socket", path);
	/* A socket file left behind by a daemon that is gone. */
	fd = bind_socket(sock);
	REQUIRE(fd >= 0);
	close(fd);
	l = lxd_new(sock);
	CHECK(lxd_connect(l) == -ECONNREFUSED);
	CHECKF(strstr(lxd_error(l), "LXD is not running: nothing answers at")
	    != NULL, "got: %s", lxd_error(l));
	lxd_free(l);
	unlink(sock);
	rmdir(path);
}

static void
silent_socket(void)
{
	char path[] = "/tmp/labct-silent-XXXXXX";
	char sock[64];
	struct timespec t0, t1;
	struct lxd *l;
	int fd, r;

	REQUIRE(mkdtemp(path) != NULL);
	snprintf(sock, sizeof(sock), "%s/unix.socket", path);
	/* Accepts (the backlog does) but never answers: must time out. */
	fd = bind_socket(sock);
	REQUIRE(fd >= 0);
	REQUIRE(listen(fd, 4) == 0);
	l = lxd_new(sock);
	lxd_set_timeout(l, 2);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = lxd_connect(l);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECKF(r == -ETIMEDOUT, "got %d: %s", r, lxd_error(l));
	CHECK(t1.tv_sec - t0.tv_sec <= 5);
	CHECKF(strstr(lxd_error(l), "did not answer") != NULL, "got: %s",
	    lxd_error(l));
	lxd_free(l);
	close(fd);
	unlink(sock);
	rmdir(path);
}

/* The pools directory is the socket's directory's, and takes no '/'. */
static void
pools_dir(void)
{
	struct lxd *l = lxd_new("/var/snap/lxd/common/lxd/unix.socket");
	char *d;

	d = lxd_pools_dir(l, NULL);
	CHECK(d != NULL && strcmp(d, "/var/snap/lxd/common/lxd/"
	    "storage-pools") == 0);
	free(d);
	d = lxd_pools_dir(l, "labct-bt");
	CHECK(d != NULL && strcmp(d, "/var/snap/lxd/common/lxd/"
	    "storage-pools/labct-bt") == 0);
	free(d);
	CHECK(lxd_pools_dir(l, "../x") == NULL);
	lxd_free(l);
	l = lxd_new("unix.socket");
	CHECK(lxd_pools_dir(l, NULL) == NULL);
	lxd_free(l);
}

int
main(void)
{
	RUN(envelope_sync);
	RUN(envelope_async);
	RUN(envelope_errors);
	RUN(envelope_malformed);
	RUN(errno_mapping);
	RUN(errno_from_text);
	RUN(escaping);
	RUN(progress_percent);
	RUN(state_helpers);
	RUN(pools_dir);
	RUN(buffer_limit);
	RUN(refusals);
	RUN(no_socket);
	RUN(dead_socket);
	RUN(silent_socket);
	return t_done();
}
