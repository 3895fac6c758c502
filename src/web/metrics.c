/*
 * metrics.c - the status snapshot in Prometheus' text format (0.0.4),
 * with its conventions: base units (_bytes, _seconds, ratios 0-1),
 * counters ending in _total, a # HELP and # TYPE for each family, label
 * values escaped (\\, \", \n). docs/status-api.md lists the families.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "snap.h"

/* A label value, escaped as the format asks. */
static void
esc(struct buf *b, const char *s)
{
	for (; s != NULL && *s; s++) {
		if (*s == '\\')
			buf_add(b, "\\\\", 2);
		else if (*s == '"')
			buf_add(b, "\\\"", 2);
		else if (*s == '\n')
			buf_add(b, "\\n", 2);
		else
			buf_add(b, s, 1);
	}
}

static void
family(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/*
 * One sample: name{k="v",...} value. labels: "k", value, ..., NULL (a
 * NULL value is ""). The value is printed as %.17g but integers plainly.
 */
static void
sample(struct buf *b, const char *name, double v, ...)
{
	va_list ap;
	const char *k;
	int n = 0;

	buf_printf(b, "%s", name);
	va_start(ap, v);
	while ((k = va_arg(ap, const char *)) != NULL) {
		const char *val = va_arg(ap, const char *);

		buf_printf(b, "%s%s=\"", n++ ? "," : "{", k);
		esc(b, val);
		buf_add(b, "\"", 1);
	}
	va_end(ap);
	if (n > 0)
		buf_add(b, "}", 1);
	if (v == (double)(long long)v && v < 9e15 && v > -9e15)
		buf_printf(b, " %lld\n", (long long)v);
	else
		buf_printf(b, " %.17g\n", v);
}

static const char *
str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

static double
num(json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

/* o[a][b] += v, making what is missing: grouping without joined keys. */
static void
add2(json_t *o, const char *a, const char *b, double v)
{
	json_t *in = json_object_get(o, a);

	if (in == NULL) {
		in = json_object();
		json_object_set_new(o, a, in);
	}
	json_object_set_new(in, b, json_real(json_number_value(
	    json_object_get(in, b)) + v));
}

/* The holders of a GPU: the exclusive one, else all joined with ",". */
static void
holders_of(json_t *g, struct buf *user, struct buf *ct)
{
	json_t *h, *hs = json_object_get(g, "holders");
	size_t i;

	json_array_foreach(hs, i, h) {
		if (json_is_true(json_object_get(h, "exclusive"))) {
			buf_reset(user);
			buf_reset(ct);
			buf_printf(user, "%s", str(h, "user"));
			buf_printf(ct, "%s", str(h, "container"));
			return;
		}
		buf_printf(user, "%s%s", user->len ? "," : "", str(h, "user"));
		buf_printf(ct, "%s%s", ct->len ? "," : "", str(h, "container"));
	}
}

static void
gpu_metrics(struct buf *b, json_t *gpus, long long now)
{
	json_t *g, *h, *p;
	size_t i, k;
	char idx[96];
	static const struct {
		const char *name, *type, *help;
	} fam[] = {
		{ "labc_gpu_info", "gauge", "A GPU NVML sees (always 1)." },
		{ "labc_gpu_utilization_ratio", "gauge", "The GPU's utilisation "
		  "(0-1) as NVML last read it, with who holds it." },
		{ "labc_gpu_memory_used_bytes", "gauge", "GPU memory in use." },
		{ "labc_gpu_memory_total_bytes", "gauge", "GPU memory in all." },
		{ "labc_gpu_holder", "gauge", "A container given the GPU "
		  "(always 1), exclusively or shared." },
		{ "labc_gpu_process_memory_bytes", "gauge", "GPU memory of a "
		  "container's processes on the GPU." },
		{ "labc_gpu_lease_end_timestamp_seconds", "gauge", "When a "
		  "hold's lease ends (unix time)." },
		{ "labc_gpu_idle_seconds", "gauge", "How long a hold has been "
		  "idle (no process of its own, or under gpu_idle_util)." },
	};
	size_t f;

	for (f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
		family(b, fam[f].name, fam[f].type, fam[f].help);
		json_array_foreach(gpus, i, g) {
			struct buf user = BUF_INIT(0), ct = BUF_INIT(0);
			const char *uuid = str(g, "uuid");
			json_t *procs = json_object_get(g, "processes");

			/* On several servers as 'gpus' names it: m2:0. */
			if (json_is_string(json_object_get(g, "server")))
				snprintf(idx, sizeof(idx), "%s:%lld", str(g,
				    "server"), (long long)num(g, "index"));
			else
				snprintf(idx, sizeof(idx), "%lld",
				    (long long)num(g, "index"));
			holders_of(g, &user, &ct);
			switch (f) {
			case 0:
				sample(b, fam[f].name, 1, "gpu", idx, "uuid",
				    uuid, "name", str(g, "name"), "pci",
				    str(g, "pci"), NULL);
				break;
			case 1:
				if (num(g, "utilization") >= 0)
					sample(b, fam[f].name, num(g,
					    "utilization") / 100, "gpu", idx,
					    "uuid", uuid, "user", buf_str(&user),
					    "container", buf_str(&ct), NULL);
				break;
			case 2:
			case 3:
				sample(b, fam[f].name, num(g, f == 2 ?
				    "memory_used" : "memory_total"), "gpu", idx,
				    "uuid", uuid, "user", buf_str(&user),
				    "container", buf_str(&ct), NULL);
				break;
			case 4:
			case 6:
			case 7:
				json_array_foreach(json_object_get(g,
				    "holders"), k, h) {
					double end = num(h, "lease_end"),
					    idle = num(h, "idle_since");

					if (f == 4)
						sample(b, fam[f].name, 1, "gpu",
						    idx, "uuid", uuid, "user",
						    str(h, "user"), "container",
						    str(h, "container"), "mode",
						    json_is_true(json_object_get(
						    h, "exclusive")) ?
						    "exclusive" : "shared", NULL);
					else if (f == 6 && end > 0)
						sample(b, fam[f].name, end,
						    "gpu", idx, "uuid", uuid,
						    "user", str(h, "user"),
						    "container", str(h,
						    "container"), NULL);
					else if (f == 7 && idle > 0)
						sample(b, fam[f].name, now >
						    idle ? now - idle : 0,
						    "gpu", idx, "uuid", uuid,
						    "user", str(h, "user"),
						    "container", str(h,
						    "container"), NULL);
				}
				break;
			case 5: {
				/* Summed per user, then container. */
				json_t *sum = json_object(), *byc, *v;
				const char *u, *ctn;

				json_array_foreach(procs, k, p) {
					add2(sum, str(p, "user"), str(p,
					    "container"), num(p, "memory"));
				}
				json_object_foreach(sum, u, byc) {
					json_object_foreach(byc, ctn, v)
						sample(b, fam[f].name,
						    json_number_value(v), "gpu",
						    idx, "uuid", uuid, "user", u,
						    "container", ctn, NULL);
				}
				json_decref(sum);
				break;
			}
			}
			buf_free(&user);
			buf_free(&ct);
		}
	}
}

static void
user_metrics(struct buf *b, json_t *users, json_t *cts)
{
	static const char *const res[] = { "containers", "cpu", "memory",
	    "disk", "gpus" };
	static const char *const res_label[] = { "containers", "cpu",
	    "memory_bytes", "disk_bytes", "gpus" };
	json_t *u, *c, *states = json_object(), *v;
	const char *key;
	size_t i, r;
	int f;

	for (f = 0; f < 2; f++) {
		family(b, f ? "labc_user_gpu_used_seconds_total" :
		    "labc_user_gpu_held_seconds_total", "counter", f ?
		    "Seconds a user's containers had processes on GPUs they "
		    "held." : "Seconds a user's containers held GPUs.");
		json_array_foreach(users, i, u)
			sample(b, f ? "labc_user_gpu_used_seconds_total" :
			    "labc_user_gpu_held_seconds_total", num(u, f ?
			    "gpu_used_seconds" : "gpu_held_seconds"), "user",
			    str(u, "name"), NULL);
	}
	family(b, "labc_containers", "gauge", "Containers by user and state.");
	json_array_foreach(cts, i, c)
		add2(states, str(c, "user"), str(c, "state"), 1);
	json_object_foreach(states, key, v) {
		json_t *bys = v, *w;
		const char *state;

		json_object_foreach(bys, state, w)
			sample(b, "labc_containers", json_number_value(w),
			    "user", key, "state", state, NULL);
	}
	json_decref(states);
	family(b, "labc_container_cpu_seconds_total", "counter", "CPU time a "
	    "running container used since it started.");
	json_array_foreach(cts, i, c) {
		if (json_is_number(json_object_get(c, "cpu_seconds")))
			sample(b, "labc_container_cpu_seconds_total", num(c,
			    "cpu_seconds"), "user", str(c, "user"),
			    "container", str(c, "name"), NULL);
	}
	family(b, "labc_container_memory_bytes", "gauge", "Memory a running "
	    "container uses now.");
	json_array_foreach(cts, i, c) {
		if (json_is_number(json_object_get(c, "memory")))
			sample(b, "labc_container_memory_bytes", num(c,
			    "memory"), "user", str(c, "user"), "container",
			    str(c, "name"), NULL);
	}
	for (f = 0; f < 2; f++) {
		const char *name = f ? "labc_quota_limit" : "labc_quota_used";

		family(b, name, "gauge", f ? "A user's quota (-1: no limit)." :
		    "What a user uses of a quota.");
		json_array_foreach(users, i, u) {
			json_t *q = json_object_get(u, "quota");

			for (r = 0; r < sizeof(res) / sizeof(res[0]); r++) {
				json_t *e = json_object_get(q, res[r]);

				if (e != NULL)
					sample(b, name, num(e, f ? "limit" :
					    "used"), "user", str(u, "name"),
					    "resource", res_label[r], NULL);
			}
		}
	}
}

char *
metrics_render(json_t *d, int up, size_t *len)
{
	struct buf b = BUF_INIT(0);
	json_t *q, *health;
	long long now = json_integer_value(json_object_get(d, "time"));
	size_t i;

	family(&b, "labc_up", "gauge", "1 if labcd answered the last request "
	    "for the status.");
	sample(&b, "labc_up", up, NULL);
	if (d != NULL) {
		family(&b, "labc_snapshot_timestamp_seconds", "gauge", "When "
		    "labcd made the status these numbers come from.");
		sample(&b, "labc_snapshot_timestamp_seconds", (double)now, NULL);
		gpu_metrics(&b, json_object_get(d, "gpus"), now);
		family(&b, "labc_gpu_queue_length", "gauge", "Requests waiting "
		    "in the GPU queue.");
		sample(&b, "labc_gpu_queue_length", (double)json_array_size(
		    json_object_get(d, "queue")), NULL);
		family(&b, "labc_gpu_queue_wait_seconds", "gauge", "How long a "
		    "request in the GPU queue has waited.");
		json_array_foreach(json_object_get(d, "queue"), i, q) {
			char pos[24];

			snprintf(pos, sizeof(pos), "%lld", (long long)num(q,
			    "position"));
			sample(&b, "labc_gpu_queue_wait_seconds", now > num(q,
			    "since") ? now - num(q, "since") : 0, "user",
			    str(q, "user"), "container", str(q, "container"),
			    "position", pos, NULL);
		}
		user_metrics(&b, json_object_get(d, "users"),
		    json_object_get(d, "containers"));
		health = json_object_get(d, "health");
		if (json_is_object(health)) {
			family(&b, "labc_health_problems", "gauge", "Problems "
			    "labcd's last background doctor run found.");
			sample(&b, "labc_health_problems", num(health,
			    "problems"), NULL);
			family(&b, "labc_health_warnings", "gauge", "Warnings "
			    "of that run.");
			sample(&b, "labc_health_warnings", num(health,
			    "warnings"), NULL);
		}
	}
	*len = b.len;
	return buf_steal(&b);
}
