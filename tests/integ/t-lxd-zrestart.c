/*
 * t-lxd-zrestart.c - the LXD client when LXD stops and comes back: one
 * clear error, no hang, and the same handle works again afterwards. The
 * LXD it stops is a private one of its own (scripts/testbed.sh private, a
 * bare daemon in its own mount namespace), never the machine's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lxd.h"
#include "test.h"
#include "xmalloc.h"

static struct lxd *l;
static const char *testbed;
static char dir[] = "/tmp/labct-zrestart.XXXXXX";

/* testbed.sh WHAT on the private LXD in dir. */
static int
testbed_do(const char *what)
{
	char *cmd = xasprintf("bash '%s' %s '%s' >/dev/null 2>&1", testbed, what,
	    dir);
	int r = system(cmd);

	free(cmd);
	return r;
}

static void
stopped(void)
{
	struct timespec t0, t1;
	json_t *out = NULL;
	int r;

	REQUIREF(lxd_connect(l) == 0, "%s", lxd_error(l));
	REQUIRE(testbed_do("private-stop") == 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = lxd_instance_list(l, NULL, 0, &out);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECKF(r == -ECONNREFUSED, "got %d: %s", r, lxd_error(l));
	CHECKF(strncmp(lxd_error(l), "LXD is not running: ", 20) == 0,
	    "got: %s", lxd_error(l));
	CHECK(out == NULL);
	CHECK(t1.tv_sec - t0.tv_sec < 5);
	/* Asking again gives the same, also through another entry point. */
	CHECK(lxd_project_list(l, &out) == -ECONNREFUSED);
}

static void
back(void)
{
	json_t *out = NULL;

	REQUIRE(testbed_do("private-start") == 0);
	REQUIREF(lxd_instance_list(l, NULL, 0, &out) == 0, "%s", lxd_error(l));
	CHECK(json_is_array(out));
	json_decref(out);
	CHECK(strcmp(lxd_server_version(l), "unknown") != 0);
}

int
main(void)
{
	char *sock, *rm;

	testbed = t_env("LABCT_TESTBED");
	if (mkdtemp(dir) == NULL) {
		perror(dir);
		return 1;
	}
	if (testbed_do("private") != 0) {
		fprintf(stderr, "testbed.sh private %s failed\n", dir);
		return 1;
	}
	sock = xasprintf("%s/lxd/unix.socket", dir);
	l = lxd_new(sock);
	RUN(stopped);
	RUN(back);
	lxd_free(l);
	free(sock);
	(void)testbed_do("private-down");
	rm = xasprintf("rm -rf '%s'", dir);
	(void)system(rm);
	free(rm);
	return t_done();
}
