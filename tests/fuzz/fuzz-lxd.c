/*
 * fuzz-lxd.c - what LXD answers, turned into status, metadata and operation
 * (lxd_envelope_parse), the progress texts of operations
 * (lxd_progress_percent) and the escaping of names into request paths
 * (lxd_escape, lxd_path). LXD is trusted more than a client, but a broken
 * or different server (Incus, a proxy) must not crash labcd. The first two
 * bytes of the input pick the HTTP status; the rest is the body.
 * Checked beyond "no crash":
 * - 0 means a sync or async envelope whose metadata is the root's, and an
 *   async one names its operation;
 * - an error envelope gives the errno its code maps to and a message;
 * - anything else is -EPROTO with the envelope cleared;
 * - a percentage is -1 or 0..100;
 * - an escaped name has only unreserved characters and %XX, and unescapes
 *   to the name; a path with a project carries it escaped, once.
 */
#include <errno.h>

#include "fuzz.h"
#include "lxd-int.h"	/* lxd_path */

static const long codes[] = { 200, 201, 202, 400, 403, 404, 409, 412, 500,
    503, 0, -1 };

static int
hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ?
	    c - 'A' + 10 : -1;
}

static void
check_escape(const char *s)
{
	char *e = lxd_escape(s), *path, *want;
	size_t n = strlen(s), i = 0;
	const char *p;

	for (p = e; *p != '\0'; p++) {
		if (*p == '%') {
			FUZZ_CHECK(hexval(p[1]) >= 0 && hexval(p[2]) >= 0);
			FUZZ_CHECK(i < n && (unsigned char)s[i] ==
			    hexval(p[1]) * 16 + hexval(p[2]));
			p += 2;
		} else {
			FUZZ_CHECK(strchr("abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~", *p) !=
			    NULL);
			FUZZ_CHECK(i < n && s[i] == *p);
		}
		i++;
	}
	FUZZ_CHECK(i == n);

	path = lxd_path(s, "/1.0/instances/%s/state", s);
	if (asprintf(&want, "/1.0/instances/%s/state?project=%s", e, e) < 0)
		abort();
	FUZZ_CHECK(strcmp(path, want) == 0);
	free(want);
	free(path);
	free(e);
}

/* Every string in j, as the progress texts of an operation. */
static void
check_progress(json_t *j, int depth)
{
	const char *key;
	json_t *v;
	size_t i;
	int pct;

	if (depth > 64)
		return;
	if (json_is_string(j)) {
		pct = lxd_progress_percent(json_string_value(j));
		FUZZ_CHECK(pct == -1 || (pct >= 0 && pct <= 100));
		FUZZ_CHECK(pct == -1 || strchr(json_string_value(j), '%'));
		check_escape(json_string_value(j));
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			check_progress(v, depth + 1);
	} else if (json_is_object(j)) {
		json_object_foreach(j, key, v)
			check_progress(v, depth + 1);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct lxd_envelope zero;
	struct lxd_envelope env;
	const char *type;
	char msg[1024];
	long http;
	int r, want;

	if (size < 2)
		return 0;
	http = codes[(data[0] ^ data[1]) % (sizeof(codes) / sizeof(codes[0]))];
	data += 2;
	size -= 2;

	msg[0] = '\0';
	r = lxd_envelope_parse((const char *)data, size, http, &env, msg,
	    sizeof(msg));
	if (r == 0) {
		FUZZ_CHECK(env.kind == 's' || env.kind == 'a');
		FUZZ_CHECK(json_is_object(env.root));
		FUZZ_CHECK(env.metadata == json_object_get(env.root,
		    "metadata"));
		type = json_string_value(json_object_get(env.root, "type"));
		FUZZ_CHECK(type != NULL && strcmp(type, env.kind == 's' ?
		    "sync" : "async") == 0);
		if (env.kind == 'a')
			FUZZ_CHECK(env.operation != NULL &&
			    *env.operation != '\0');
		check_progress(env.metadata, 0);
	} else if (env.kind == 'e') {
		want = lxd_errno_from_text(lxd_errno_from_http(env.code), msg);
		FUZZ_CHECK(r == want);
		FUZZ_CHECK(r == -EACCES || r == -ENOENT || r == -EEXIST ||
		    r == -EAGAIN || r == -EIO || r == -EALREADY ||
		    r == -ESRCH || r == -EBUSY || r == -EDQUOT);
		FUZZ_CHECK(json_is_object(env.root) && msg[0] != '\0');
	} else {
		FUZZ_CHECK(r == -EPROTO);
		FUZZ_CHECK(memcmp(&env, &zero, sizeof(zero)) == 0);
		FUZZ_CHECK(msg[0] != '\0');
	}
	lxd_envelope_clear(&env);
	return 0;
}
