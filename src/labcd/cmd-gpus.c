/*
 * cmd-gpus.c - gpus: who uses which GPU. Every member sees every GPU's
 * use, each process with its container and lab user (never a command
 * line), as gpu_report (gpu-report.c) reads it: the table is drawn from
 * the JSON that --format json prints.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "gpu.h"
#include "proto.h"
#include "xmalloc.h"

static void
gib(json_t *o, const char *key, char *out, size_t outsz)
{
	snprintf(out, outsz, "%.1f GiB", (double)json_integer_value(
	    json_object_get(o, key)) / (1024.0 * 1024 * 1024));
}

static long long
num(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static const char *
str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

/* " (until 15:04, in 7h59; idle 2h05, back at 17:00)", or "". */
static void
hold_when(json_t *h, char *out, size_t outsz)
{
	char until[64] = "", idle[32] = "", back[64] = "";
	long long end = num(h, "lease_end"), idle_since = num(h, "idle_since"),
	    r = num(h, "reclaim_at");

	if (end > 0)
		gpu_until("until", end, until, sizeof(until));
	if (idle_since > 0)
		config_duration_str(time(NULL) - idle_since, idle,
		    sizeof(idle));
	if (r > 0 && (end == 0 || r < end))
		gpu_until("back at", r, back, sizeof(back));
	snprintf(out, outsz, "%s%s%s%s%s%s%s%s", *until || *idle ? " (" : "",
	    until, *until && *idle ? "; " : "", *idle ? "idle " : "", idle,
	    *back ? ", " : "", back, *until || *idle ? ")" : "");
}

static void
table_of(struct ctx *c, json_t *gpus, json_t *unread)
{
	json_t *g, *h, *p;
	size_t i, k;

	json_array_foreach(gpus, i, g) {
		struct buf users = BUF_INIT(0), held_by = BUF_INIT(0);
		char used[32], total[32];
		json_t *procs = json_object_get(g, "processes");

		json_array_foreach(json_object_get(g, "holders"), k, h) {
			char when[256];

			hold_when(h, when, sizeof(when));
			buf_printf(&users, "%s%s/%s%s", users.len ? ", " : "",
			    str(h, "user"), str(h, "container"), when);
			if (json_is_true(json_object_get(h, "exclusive")))
				buf_printf(&held_by, "%s/%s%s", str(h, "user"),
				    str(h, "container"), when);
		}
		gib(g, "memory_used", used, sizeof(used));
		gib(g, "memory_total", total, sizeof(total));
		if (json_is_string(json_object_get(g, "server")))
			ctx_printf(c, "%sGPU %s:%lld  %s  %s  %s / %s", i ? "\n" :
			    "", str(g, "server"), num(g, "index"), str(g,
			    "name"), str(g, "pci"), used, total);
		else
			ctx_printf(c, "%sGPU %lld  %s  %s  %s / %s", i ? "\n" :
			    "", num(g, "index"), str(g, "name"), str(g, "pci"),
			    used, total);
		if (num(g, "utilization") >= 0)
			ctx_printf(c, "  %lld%%", num(g, "utilization"));
		if (held_by.len > 0)
			ctx_printf(c, "  held by %s", buf_str(&held_by));
		else if (users.len > 0)
			ctx_printf(c, "  given to %s", buf_str(&users));
		if (json_is_false(json_object_get(g, "lxd_sees")))
			ctx_printf(c, "  (LXD does not see it)");
		ctx_printf(c, "\n");
		buf_free(&users);
		buf_free(&held_by);
		if (json_array_size(procs) > 0)
			ctx_printf(c, "  %-8s %-10s %-20s %s\n", "PID",
			    "MEMORY", "CONTAINER", "USER");
		json_array_foreach(procs, k, p) {
			char mem[32];

			gib(p, "memory", mem, sizeof(mem));
			ctx_printf(c, "  %-8lld %-10s %-20s %s\n", num(p, "pid"),
			    mem, json_is_string(json_object_get(p, "container")) ?
			    str(p, "container") : "-", str(p, "user"));
		}
	}
	json_array_foreach(unread, i, g)
		ctx_printf(c, "%sServer %s: no GPU reading: %s\n", i == 0 &&
		    json_array_size(gpus) > 0 ? "\n" : "", str(g, "server"),
		    str(g, "why"));
	if (json_array_size(gpus) == 0 && json_array_size(unread) == 0)
		ctx_printf(c, "NVML reports no GPUs on this host.\n");
}

static int
cmd_gpus_exec(struct ctx *c)
{
	json_t *gpus, *unread;

	if (c->format == FMT_CSV)
		return ctx_usage(c, "gpus has no CSV form: use --format json");
	if (gpu_report_all(ctx_op(c), &gpus, &unread) != 0)
		return ctx_fail(c, ctx_op(c));
	c->data = json_array_size(unread) > 0 ? json_pack("{s:o, s:o}",
	    "gpus", gpus, "unread", unread) : json_pack("{s:o}", "gpus", gpus);
	if (json_array_size(unread) == 0)
		json_decref(unread);
	if (c->format == FMT_JSON) {
		char *s = json_dumps(c->data, JSON_INDENT(2));

		ctx_printf(c, "%s\n", s);
		free(s);
	} else
		table_of(c, gpus, json_object_get(c->data, "unread"));
	return PROTO_OK;
}

const struct cmd_entry cmd_gpus_entry = {
	.name = "gpus",
	.args = "",
	.summary = "show every GPU: memory, use, and whose processes run on it",
	.flags = CMD_READONLY | CMD_NOAUDIT | CMD_FORMAT | CMD_NOCSV,
	.exec = cmd_gpus_exec,
};
