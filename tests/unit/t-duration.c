/*
 * t-duration.c - durations as labcd.conf and --for/--since take them
 * (config_duration_secs) and as messages say them (config_duration_str):
 * every unit, sums, and what is refused (signs, spaces, a trailing bare
 * number, units unknown, absurd sizes).
 */
#include <string.h>

#include "config.h"
#include "test.h"

static void
parses_units_and_sums(void)
{
	static const struct { const char *in; long long want; } ok[] = {
		{ "0", 0 }, { "90", 90 }, { "90s", 90 }, { "10m", 600 },
		{ "10min", 600 }, { "8h", 28800 }, { "2d", 172800 },
		{ "1w", 604800 }, { "1h30m", 5400 }, { "1d12h", 129600 },
		{ "5s", 5 }, { "365d", 365LL * 86400 },
	};
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		long long got = config_duration_secs(ok[i].in);

		CHECKF(got == ok[i].want, "'%s': %lld, want %lld", ok[i].in,
		    got, ok[i].want);
	}
}

static void
refuses_what_is_not_one(void)
{
	static const char *const bad[] = { "", "s", "h8", "-5s", "+5s", " 5s",
	    "5 s", "5s ", "5x", "1h30", "5.5h", "9999999999s", "99999999d",
	    "1e3", "0x10", "5ss", NULL };
	size_t i;

	for (i = 0; bad[i] != NULL; i++)
		CHECKF(config_duration_secs(bad[i]) == -1, "'%s' was taken: "
		    "%lld", bad[i], config_duration_secs(bad[i]));
	CHECK(config_duration_secs(NULL) == -1);
}

static void
says_them_as_people_read_them(void)
{
	static const struct { long long in; const char *want; } ok[] = {
		{ 0, "0s" }, { 45, "45s" }, { 119, "119s" }, { 120, "2 min" },
		{ 3300, "55 min" }, { 7200, "2h00" }, { 25500, "7h05" },
		{ 2 * 86400 + 3 * 3600, "2d3h" }, { -5, "0s" },
	};
	char out[32];
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		config_duration_str(ok[i].in, out, sizeof(out));
		CHECKF(strcmp(out, ok[i].want) == 0, "%lld: '%s', want '%s'",
		    ok[i].in, out, ok[i].want);
	}
}

int
main(void)
{
	RUN(parses_units_and_sums);
	RUN(refuses_what_is_not_one);
	RUN(says_them_as_people_read_them);
	return t_done();
}
