/*
 * log.c - one place that writes log lines. Lines go to stderr whole (one
 * write per line) so concurrent threads never interleave within a line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *log_prog = "labc";
static enum log_level log_level = LOG_LVL_INFO;
static int log_ts;

static const char *const level_names[] = { "error", "warning", "info", "debug" };

void
log_setup(const char *progname, enum log_level level, int timestamps)
{
	log_prog = progname;
	log_level = level;
	log_ts = timestamps;
}

static void
log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char line[2048];
	size_t n = 0;

	if (log_ts) {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n += strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
		n += snprintf(line + n, sizeof(line) - n, ".%03ldZ ",
		    ts.tv_nsec / 1000000);
	}
	n += snprintf(line + n, sizeof(line) - n, "%s: %s: ", log_prog,
	    level_names[level]);
	if (n < sizeof(line))
		n += vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, n);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LVL_ERROR, fmt, ap);
	va_end(ap);
	exit(1);
}
