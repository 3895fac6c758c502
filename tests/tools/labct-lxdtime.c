/*
 * labct-lxdtime.c - times create+start+delete of one container through
 * the lxd_* library, for comparing with 'lxc launch' + 'lxc delete -f':
 *   labct-lxdtime PROJECT IMAGE PROFILE NAME
 * prints "create MS start MS delete MS total MS".
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "lxd.h"

static double
ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int
main(int argc, char **argv)
{
	const char *profiles[2] = { NULL, NULL };
	struct lxd_create c = { 0 };
	struct lxd *l;
	double t0, t1, t2, t3;

	if (argc != 5) {
		fprintf(stderr, "usage: labct-lxdtime PROJECT IMAGE PROFILE "
		    "NAME\n");
		return 2;
	}
	profiles[0] = argv[3];
	c.name = argv[4];
	c.image_alias = argv[2];
	c.profiles = profiles;
	l = lxd_new(getenv("LXD_SOCKET"));
	t0 = ms();
	if (lxd_instance_create(l, argv[1], &c) != 0)
		goto fail;
	t1 = ms();
	if (lxd_instance_set_state(l, argv[1], argv[4], "start", -1, 0) != 0)
		goto fail;
	t2 = ms();
	if (lxd_instance_set_state(l, argv[1], argv[4], "stop", -1, 1) != 0 ||
	    lxd_instance_delete(l, argv[1], argv[4]) != 0)
		goto fail;
	t3 = ms();
	printf("create %.0f start %.0f delete %.0f total %.0f\n", t1 - t0,
	    t2 - t1, t3 - t2, t3 - t0);
	lxd_free(l);
	return 0;
fail:
	fprintf(stderr, "labct-lxdtime: %s\n", lxd_error(l));
	lxd_free(l);
	return 1;
}
