/* cmd-snapshots.c - snapshots: the snapshots of one of your containers. */
#define _XOPEN_SOURCE 700	/* strptime */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "proto.h"
#include "snap.h"
#include "users.h"

/* LXD's RFC 3339 time as users_time writes it; "-" for Go's zero. */
static void
when(const char *rfc, char out[32])
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (rfc == NULL || strncmp(rfc, "0001-01-01", 10) == 0 ||
	    strptime(rfc, "%Y-%m-%dT%H:%M:%S", &tm) == NULL) {
		snprintf(out, 32, "-");
		return;
	}
	users_time((long long)timegm(&tm), out);
}

static int
by_taken(const void *a, const void *b)
{
	const char *x = json_string_value(json_object_get(*(json_t *const *)a,
	    "created_at"));
	const char *y = json_string_value(json_object_get(*(json_t *const *)b,
	    "created_at"));

	return strcmp(x != NULL ? x : "", y != NULL ? y : "");
}

static int
cmd_snapshots_exec(struct ctx *c)
{
	static const char *const cols[] = { "name", "taken", "expires", "size",
	    NULL };
	const char *name = c->args.argv[0];
	struct table *t;
	json_t *snaps, **v;
	char *schedule, taken[32], expires[32], size[32];
	long long quota;
	size_t i, n;
	struct ct ct;
	int r, count;

	ctx_target(c, "%.64s", name);
	if ((r = ct_find_ready(c, name, &ct)) != 0)
		return r;
	if ((r = snap_list(ctx_op(c), &ct, &snaps, &schedule)) != 0 ||
	    (r = snap_usage(ctx_op(c), ct.user_id, &count, &quota)) != 0) {
		json_decref(snaps);
		free(schedule);
		return ctx_cause(c, r);
	}
	n = json_array_size(snaps);
	v = calloc(n + 1, sizeof(*v));
	for (i = 0; v != NULL && i < n; i++)
		v[i] = json_array_get(snaps, i);
	if (v != NULL)
		qsort(v, n, sizeof(*v), by_taken);
	t = table_new(cols);
	for (i = 0; v != NULL && i < n; i++) {
		const char *nm = snap_name_of(v[i]);
		json_int_t sz = json_integer_value(json_object_get(v[i],
		    "size"));

		when(json_string_value(json_object_get(v[i], "created_at")),
		    taken);
		when(json_string_value(json_object_get(v[i], "expires_at")),
		    expires);
		if (json_is_integer(json_object_get(v[i], "size")) && sz >= 0)
			config_size_str(sz, size, sizeof(size));
		else
			snprintf(size, sizeof(size), "-");
		table_add(t, nm, taken, expires, size);
	}
	/* JSON has these beside the rows: */
	c->data = json_pack("{s:s, s:i, s:I}", "schedule", schedule, "count",
	    count, "quota", (json_int_t)quota);
	ctx_table(c, "snapshots", t);
	table_free(t);
	if (c->format == FMT_TABLE) {
		if (*schedule != '\0')
			ctx_printf(c, "Scheduled: %s.\n", schedule);
		if (quota >= 0)
			ctx_printf(c, "You keep %d of your %lld snapshots, over "
			    "all your containers.\n", count, quota);
	}
	free(v);
	free(schedule);
	json_decref(snaps);
	return PROTO_OK;
}

const struct cmd_entry cmd_snapshots_entry = {
	.name = "snapshots",
	.args = "NAME",
	.summary = "list the snapshots of a container",
	.help = "size: what the snapshot holds apart from the container, where\n"
	    "the storage pool can say (btrfs with quotas, zfs; '-' on dir).\n"
	    "expires: when LXD deletes it ('-': never).",
	.flags = CMD_USER | CMD_READONLY | CMD_NOAUDIT | CMD_FORMAT,
	.min_args = 1, .max_args = 1,
	.target = CMD_TARGET_CT,
	.exec = cmd_snapshots_exec,
};
