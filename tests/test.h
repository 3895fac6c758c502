/*
 * test.h - the C test harness. Each test prints one line that tests/run
 * counts: "ok - NAME", "not ok - NAME", or "skip - NAME (why)".
 */
#ifndef LABC_TEST_H
#define LABC_TEST_H

#include <stdio.h>

void	t_fail(const char *file, int line, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	t_skip(const char *why);
void	t_run(const char *name, void (*fn)(void));
int	t_done(void);
/* An environment variable, or exit with a skip line for the whole file. */
const char *t_env(const char *name);

/* Record a failure and go on. */
#define CHECK(c) do { if (!(c)) t_fail(__FILE__, __LINE__, "%s", #c); } while (0)
#define CHECKF(c, ...) do { if (!(c)) t_fail(__FILE__, __LINE__, __VA_ARGS__); } while (0)
/* Record a failure and leave the test. */
#define REQUIRE(c) do { if (!(c)) { t_fail(__FILE__, __LINE__, "%s", #c); return; } } while (0)
#define REQUIREF(c, ...) do { if (!(c)) { t_fail(__FILE__, __LINE__, __VA_ARGS__); return; } } while (0)
#define RUN(fn) t_run(#fn, fn)

#endif
