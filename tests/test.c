/* test.c - the C test harness (see test.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

static int passed, failed, skipped;
static int cur_failed, cur_skipped;
static char skip_why[256];

void
t_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stdout, "#   %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	cur_failed = 1;
}

void
t_skip(const char *why)
{
	snprintf(skip_why, sizeof(skip_why), "%s", why);
	cur_skipped = 1;
}

void
t_run(const char *name, void (*fn)(void))
{
	cur_failed = cur_skipped = 0;
	fn();
	if (cur_failed) {
		printf("not ok - %s\n", name);
		failed++;
	} else if (cur_skipped) {
		printf("skip - %s (%s)\n", name, skip_why);
		skipped++;
	} else {
		printf("ok - %s\n", name);
		passed++;
	}
	fflush(stdout);
}

int
t_done(void)
{
	printf("# %d passed, %d failed, %d skipped\n", passed, failed,
	    skipped);
	return failed ? 1 : 0;
}

const char *
t_env(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || *v == '\0') {
		printf("skip - all (%s is not set: run through tests/run)\n",
		    name);
		exit(0);
	}
	return v;
}
