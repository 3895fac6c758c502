/*
 * fuzz-config.c - labcd.conf (config_load), read from a memfd through
 * /proc/self/fd/N as labcd reads its file. Checked beyond "no crash":
 * - a refusal names the file and line;
 * - an accepted file leaves every key within its documented type and
 *   range, so the daemon can rely on them without checking again;
 * - every LXD project labcd can make (project_prefix + a user name of up
 *   to 32 characters) fits the 64-byte project buffers, untruncated, and
 *   is a name LXD takes.
 */
#include <ctype.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"

#define USER_MAX	32	/* names.c */
#define PROJECT_BUF	64	/* char project[64] in ct.c and the commands */

static int
is_name(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 32 &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-_") == n;
}

static int
is_count(const char *s)
{
	char *end;
	long n;

	if (*s == '\0')
		return 1;
	n = strtol(s, &end, 10);
	return *end == '\0' && isdigit((unsigned char)*s) && n >= 1 &&
	    n <= 4096;
}

static int
no_space_at_ends(const char *s)
{
	size_t n = strlen(s);

	return n == 0 || (!isspace((unsigned char)s[0]) &&
	    !isspace((unsigned char)s[n - 1]));
}

static void
check_config(const struct config *c)
{
	const char *const strs[] = { c->socket, c->socket_group, c->database,
	    c->admin_group, c->gateway_host, c->lxd_socket, c->default_image,
	    c->profiles, c->storage_pool, c->ssh_listen, c->nvml_library,
	    c->gpu_default };
	size_t i;

	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		FUZZ_CHECK(strs[i] != NULL && no_space_at_ends(strs[i]) &&
		    strchr(strs[i], '\n') == NULL);
	FUZZ_CHECK(c->socket_mode >= 0 && c->socket_mode <= 0777);
	FUZZ_CHECK(c->max_clients >= 1 && c->max_clients <= 4096);
	FUZZ_CHECK(c->gateway_port >= 1 && c->gateway_port <= 65535);
	FUZZ_CHECK(c->login_max_failures >= 1 && c->login_max_failures <= 1000);
	FUZZ_CHECK(c->login_lockout >= 1 && c->login_lockout <= 86400 * 7);
	FUZZ_CHECK(c->session_ttl >= 60 && c->session_ttl <= 86400 * 30);
	FUZZ_CHECK(c->ssh_port_min >= 1024 && c->ssh_port_min <=
	    c->ssh_port_max && c->ssh_port_max <= 65535);
	FUZZ_CHECK(c->map_host_users == 0 || c->map_host_users == 1);
	FUZZ_CHECK(c->nvidia_runtime == 0 || c->nvidia_runtime == 1 ||
	    c->nvidia_runtime == CONFIG_AUTO);
	FUZZ_CHECK(strcmp(c->log_level, "error") == 0 ||
	    strcmp(c->log_level, "warning") == 0 ||
	    strcmp(c->log_level, "info") == 0 ||
	    strcmp(c->log_level, "debug") == 0);
	FUZZ_CHECK(is_name(c->gateway_user) && is_name(c->gateway_keys_user) &&
	    is_name(c->container_user) && is_name(c->project_prefix));
	FUZZ_CHECK(is_count(c->default_cpu) && is_count(c->quota_containers) &&
	    is_count(c->quota_cpu));
	FUZZ_CHECK((*c->default_memory == '\0' ||
	    config_size_valid(c->default_memory)) &&
	    (*c->default_disk == '\0' || config_size_valid(c->default_disk)) &&
	    (*c->quota_memory == '\0' || config_size_valid(c->quota_memory)) &&
	    (*c->quota_disk == '\0' || config_size_valid(c->quota_disk)));
	FUZZ_CHECK(strlen(c->project_prefix) + USER_MAX < PROJECT_BUF);
	/* LXD: "Project names may not contain underscores". */
	FUZZ_CHECK(strchr(c->project_prefix, '_') == NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	struct config c;
	char err[512];
	int r;

	if (fd < 0) {
		if ((fd = memfd_create("labcd.conf", MFD_CLOEXEC)) < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();

	config_defaults(&c);
	check_config(&c);
	err[0] = '\0';
	r = config_load(&c, path, 1, err, sizeof(err));
	if (r == 0)
		check_config(&c);
	else {
		FUZZ_CHECK(r == -1);
		FUZZ_CHECK(strncmp(err, path, strlen(path)) == 0 &&
		    err[strlen(path)] == ':' &&
		    isdigit((unsigned char)err[strlen(path) + 1]));
	}
	config_free(&c);
	return 0;
}
