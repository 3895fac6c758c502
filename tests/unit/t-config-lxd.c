/*
 * t-config-lxd.c - where labcd.conf says LXD is (lxd_url) and what follows
 * from it: the URL's host, and the address labcd reaches containers' ports
 * at (ssh_listen when it names one, else LXD's host). The keys go through
 * config_load, as labcd reads them; a bad lxd_url is refused there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "test.h"

static char path[] = "/tmp/t-config-lxd.XXXXXX";

/* A config with these lines: 0, or -1 with err. */
static int
load(struct config *c, const char *lines, char *err, size_t errsz)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		snprintf(err, errsz, "cannot write %s", path);
		return -1;
	}
	fputs(lines, f);
	fclose(f);
	config_defaults(c);
	return config_load(c, path, 1, err, errsz);
}

static void
host_and_ports(void)
{
	static const struct {
		const char *conf, *host, *ports;
		int local;
	} t[] = {
		{ "", "", "127.0.0.1", 1 },
		{ "ssh_listen = 10.1.2.3\n", "", "10.1.2.3", 1 },
		{ "lxd_url = https://127.0.0.2:8443\n", "127.0.0.2",
		    "127.0.0.2", 0 },
		{ "lxd_url = https://127.0.0.2:8443\nssh_listen = ::\n",
		    "127.0.0.2", "127.0.0.2", 0 },
		{ "lxd_url = https://localhost:8443/\n", "localhost",
		    "127.0.0.1", 0 },
		{ "lxd_url = https://127.0.0.2:8443\nssh_listen = 10.9.9.9\n",
		    "127.0.0.2", "10.9.9.9", 0 },
		{ "lxd_url = https://[::1]:8443\n", "::1", "127.0.0.1", 0 },
		{ "lxd_url = https://gpu1\n", "gpu1", NULL, 0 },
	};
	struct config c;
	char err[256], out[256];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		REQUIREF(load(&c, t[i].conf, err, sizeof(err)) == 0, "%s: %s",
		    t[i].conf, err);
		CHECKF(config_lxd_local(&c) == t[i].local, "%s", t[i].conf);
		config_lxd_host(&c, out, sizeof(out));
		CHECKF(strcmp(out, t[i].host) == 0, "%s: host '%s'", t[i].conf,
		    out);
		config_ports_addr(&c, out, sizeof(out));
		CHECKF(t[i].ports == NULL || strcmp(out, t[i].ports) == 0,
		    "%s: ports at '%s'", t[i].conf, out);
		config_free(&c);
	}
}

static void
bad_urls_refused(void)
{
	static const char *const bad[] = {
		"http://127.0.0.1:8443", "https://", "https://a b",
		"https://h/1.0", "https://user@h:8443", "unix:///x",
		"https://h:8443?x=1", "HTTPS://h",
	};
	struct config c;
	char err[256], line[300];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "lxd_url = %s\n", bad[i]);
		CHECKF(load(&c, line, err, sizeof(err)) != 0, "%s taken",
		    bad[i]);
		CHECKF(strstr(err, "lxd_url must be https://HOST:PORT") !=
		    NULL, "%s: %s", bad[i], err);
		config_free(&c);
	}
}

/* Numbers are digits: strtol's "+4" (found by fuzz-config) and the like
 * were taken, and "+4" would have reached LXD as limits.cpu. */
static void
signed_numbers_refused(void)
{
	static const char *const bad[] = {
		"default_cpu = +4\n", "quota_cpu = -1\n", "max_clients = +8\n",
		"ssh_ports = +2000-2100\n", "ssh_ports = 2000-+2100\n",
		"login_lockout = 0x10\n",
	};
	struct config c;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECKF(load(&c, bad[i], err, sizeof(err)) != 0, "%s taken",
		    bad[i]);
		CHECKF(strstr(err, "must be") != NULL, "%s: %s", bad[i], err);
		config_free(&c);
	}
	REQUIREF(load(&c, "default_cpu = 4\nssh_ports = 2000-2100\n", err,
	    sizeof(err)) == 0, "%s", err);
	CHECK(strcmp(c.default_cpu, "4") == 0 && c.ssh_port_min == 2000);
	config_free(&c);
}

int
main(void)
{
	int fd = mkstemp(path);

	if (fd < 0) {
		perror(path);
		return 1;
	}
	close(fd);
	RUN(host_and_ports);
	RUN(bad_urls_refused);
	RUN(signed_numbers_refused);
	unlink(path);
	return t_done();
}
