/*
 * t-nvml.c - NVML through dlopen: bus ids, a missing or wrong library, and
 * the stand-in library (tests/nvml-stub) as a new and as an old driver.
 * NVML is loaded once per process, so the order of the tests matters:
 * those without a library first, the old driver in a child process, then
 * the stub for the rest.
 */
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nvml.h"
#include "test.h"

#define MIB	(1024ULL * 1024)

static char stub[PATH_MAX], stub_old[PATH_MAX];
static char file[] = "/tmp/t-nvml-XXXXXX";

/* Writes TEXT as the stub's file. */
static void
stub_file(const char *text)
{
	FILE *f = fopen(file, "w");

	if (f == NULL) {
		perror(file);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
}

static const char three[] =
    "# three GPUs\n"
    "gpu NVIDIA_A100-SXM4-80GB 00000000:3B:00.0 "
    "GPU-aaaaaaaa-1111-2222-3333-444444444444 81920 10240 37\n"
    "\n"
    "gpu NVIDIA_A100-SXM4-80GB 00000000:5E:00.0 "
    "GPU-bbbbbbbb-1111-2222-3333-444444444444 81920 0 0\n"
    "gpu Tesla_T4 00000001:AF:1F.0 GPU-cccccccc 15360 2048 -\n"
    "proc 0 4242 4096\n"
    "proc 1 4242 1024\n"		/* one PID on two GPUs */
    "proc 0 100 2048\n"
    "gproc 0 100 999\n"			/* and in both lists: compute's */
    "gproc 0 7 512\n"			/* graphics only */
    "gproc 2 9000 300\n"
    "proc 2 55 -\n"			/* compute's unknown: graphics' */
    "gproc 2 55 64\n"
    "proc 1 56 -\n";			/* unknown: 0 */

static int
has_proc(const struct nvml_gpu *g, unsigned int pid, unsigned long long mib)
{
	size_t i;

	for (i = 0; i < g->nprocs; i++)
		if (g->procs[i].pid == pid)
			return g->procs[i].mem == mib * MIB;
	return 0;
}

static void
pci_normalize(void)
{
	static const char *const cases[][2] = {
		{ "00000000:3B:00.0", "0000:3b:00.0" },
		{ "0000:3B:00.0", "0000:3b:00.0" },
		{ "00000000:af:1f.7", "0000:af:1f.7" },
		{ "3B:00.0", "0000:3b:00.0" },
		{ "00000001:01:02.3", "0001:01:02.3" },
		{ "00010000:E1:00.0", "10000:e1:00.0" },	/* VMD domain */
		{ "000000000:3B:00.0", "000000000:3b:00.0" },	/* 9 digits */
		{ "0000:3B:00", "0000:3b:00" },
		{ "0000:3B:00.0 ", "0000:3b:00.0 " },
		{ "GPU-ABC", "gpu-abc" },
		{ "", "" },
	};
	char out[32];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(out, 'z', sizeof(out));
		nvml_pci_normalize(cases[i][0], out);
		CHECKF(strcmp(out, cases[i][1]) == 0, "\"%s\" -> \"%s\"",
		    cases[i][0], out);
	}
	/* Longer than anything NVML gives: cut to 31 characters. */
	nvml_pci_normalize("0123456789ABCDEF0123456789ABCDEF0123", out);
	CHECK(strcmp(out, "0123456789abcdef0123456789abcde") == 0);
}

static void
missing_library(void)
{
	struct nvml_gpu *g = (void *)1;
	size_t n = 5;
	char err[512];

	REQUIRE(nvml_query("/nonexistent/libnvidia-ml.so.1", &g, &n, err,
	    sizeof(err)) == -1);
	CHECK(g == NULL && n == 0);
	CHECKF(strcmp(err, "no NVIDIA driver found (/nonexistent/"
	    "libnvidia-ml.so.1: cannot open shared object file: No such "
	    "file or directory)") == 0, "%s", err);
	/* The default name, found nowhere here. */
	REQUIRE(nvml_query(NULL, &g, &n, err, sizeof(err)) == -1);
	CHECKF(strncmp(err, "no NVIDIA driver found (libnvidia-ml.so.1: ",
	    43) == 0, "%s", err);
	REQUIRE(nvml_query("", &g, &n, err, sizeof(err)) == -1);
	CHECKF(strncmp(err, "no NVIDIA driver found (libnvidia-ml.so.1: ",
	    43) == 0, "%s", err);
	/* A library that is not NVML is let go again. */
	REQUIRE(nvml_query("libm.so.6", &g, &n, err, sizeof(err)) == -1);
	CHECKF(strstr(err, "libm.so.6 is not NVML") != NULL, "%s", err);
	REQUIRE(nvml_query("/nonexistent/x.so", &g, &n, err,
	    sizeof(err)) == -1);
	CHECKF(strstr(err, "no NVIDIA driver found") != NULL, "%s", err);
}

static int child_bad;
#define CCHECK(c) do { if (!(c)) { t_fail(__FILE__, __LINE__, "%s", #c); \
	child_bad++; } } while (0)

static void
old_driver_child(void)
{
	struct nvml_gpu *g;
	size_t n;
	char err[512];

	stub_file(three);
	if (nvml_query(stub_old, &g, &n, err, sizeof(err)) != 0) {
		t_fail(__FILE__, __LINE__, "%s", err);
		child_bad++;
		return;
	}
	CCHECK(n == 3);
	if (n == 3) {
		CCHECK(strcmp(g[0].pci, "0000:3b:00.0") == 0);
		CCHECK(strcmp(g[2].pci, "0001:af:1f.0") == 0);
		CCHECK(strcmp(g[2].name, "Tesla_T4") == 0);
		CCHECK(g[0].mem_used == 10240 * MIB);
		CCHECK(g[0].nprocs == 3 && has_proc(&g[0], 7, 512) &&
		    has_proc(&g[0], 100, 2048) && has_proc(&g[0], 4242, 4096));
		CCHECK(g[1].nprocs == 2 && has_proc(&g[1], 4242, 1024) &&
		    has_proc(&g[1], 56, 0));
		CCHECK(g[2].nprocs == 2 && has_proc(&g[2], 55, 64));
	}
	nvml_free(g, n);
}

/* _v2-less symbols and the v1 structs, in a child: NVML loads once. */
static void
old_driver(void)
{
	pid_t pid;
	int st;

	fflush(stdout);
	REQUIRE((pid = fork()) >= 0);
	if (pid == 0) {
		old_driver_child();
		fflush(stdout);
		exit(child_bad ? 1 : 0);
	}
	REQUIRE(waitpid(pid, &st, 0) == pid);
	CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %#x", st);
}

/* The first load of the stub; nvmlInit fails until the line goes. */
static void
init_fails(void)
{
	struct nvml_gpu *g;
	size_t n;
	char err[512];

	stub_file("fail init\n");
	REQUIRE(nvml_query(stub, &g, &n, err, sizeof(err)) == -1);
	CHECKF(strcmp(err, "NVML could not start: Driver Not Loaded") == 0,
	    "%s", err);
	stub_file("");
	REQUIRE(nvml_query(stub, &g, &n, err, sizeof(err)) == 0);
	CHECK(n == 0 && g == NULL);
	nvml_free(g, n);
}

static void
three_gpus(void)
{
	struct nvml_gpu *g;
	size_t n, i;
	char err[512];

	stub_file(three);
	REQUIRE(nvml_query(stub, &g, &n, err, sizeof(err)) == 0);
	REQUIRE(n == 3);
	for (i = 0; i < n; i++)
		CHECK(g[i].index == (int)i);
	CHECK(strcmp(g[0].name, "NVIDIA_A100-SXM4-80GB") == 0);
	CHECK(strcmp(g[0].uuid, "GPU-aaaaaaaa-1111-2222-3333-444444444444") ==
	    0);
	CHECK(strcmp(g[0].pci, "0000:3b:00.0") == 0);
	CHECK(g[0].mem_total == 81920 * MIB);
	CHECK(g[0].mem_used == 10240 * MIB);
	CHECK(g[0].util == 37);
	/* By PID; PID 100 once, with its compute memory. */
	REQUIRE(g[0].nprocs == 3);
	CHECK(g[0].procs[0].pid == 7 && g[0].procs[0].mem == 512 * MIB);
	CHECK(g[0].procs[1].pid == 100 && g[0].procs[1].mem == 2048 * MIB);
	CHECK(g[0].procs[2].pid == 4242 && g[0].procs[2].mem == 4096 * MIB);

	CHECK(strcmp(g[1].uuid, "GPU-bbbbbbbb-1111-2222-3333-444444444444") ==
	    0);
	CHECK(strcmp(g[1].pci, "0000:5e:00.0") == 0);
	CHECK(g[1].mem_used == 0 && g[1].util == 0);
	REQUIRE(g[1].nprocs == 2);
	CHECK(g[1].procs[0].pid == 56 && g[1].procs[0].mem == 0);
	CHECK(g[1].procs[1].pid == 4242 && g[1].procs[1].mem == 1024 * MIB);

	CHECK(strcmp(g[2].name, "Tesla_T4") == 0);
	CHECK(strcmp(g[2].uuid, "GPU-cccccccc") == 0);
	CHECK(strcmp(g[2].pci, "0001:af:1f.0") == 0);
	CHECK(g[2].mem_total == 15360 * MIB && g[2].mem_used == 2048 * MIB);
	CHECK(g[2].util == -1);			/* NOT_SUPPORTED */
	REQUIRE(g[2].nprocs == 2);
	CHECK(g[2].procs[0].pid == 55 && g[2].procs[0].mem == 64 * MIB);
	CHECK(g[2].procs[1].pid == 9000 && g[2].procs[1].mem == 300 * MIB);
	nvml_free(g, n);
}

/* The file is read again on each query, as by a running labcd. */
static void
file_changes(void)
{
	struct nvml_gpu *g;
	size_t n;
	char err[512], *text;

	text = malloc(sizeof(three) + 64);
	REQUIRE(text != NULL);
	snprintf(text, sizeof(three) + 64, "%sproc 1 31337 8192\n", three);
	stub_file(text);
	free(text);
	REQUIRE(nvml_query(stub, &g, &n, err, sizeof(err)) == 0);
	CHECK(n == 3);
	if (n == 3) {
		CHECK(g[1].nprocs == 3);
		CHECK(has_proc(&g[1], 31337, 8192));
	}
	nvml_free(g, n);

	/* The first GPU goes: the others move up, as in nvidia-smi. */
	stub_file("gpu Tesla_T4 00000000:AF:00.0 GPU-cccccccc 15360 0 5\n"
	    "proc 0 12 1\n");
	REQUIRE(nvml_query(stub, &g, &n, err, sizeof(err)) == 0);
	CHECK(n == 1);
	if (n == 1) {
		CHECK(g[0].index == 0 && strcmp(g[0].uuid, "GPU-cccccccc") == 0);
		CHECK(g[0].util == 5);
		CHECK(g[0].nprocs == 1 && has_proc(&g[0], 12, 1));
	}
	nvml_free(g, n);
}

/* A missing file, or none named: no GPUs, not an error. */
static void
no_file(void)
{
	struct nvml_gpu *g;
	size_t n;
	char err[512];

	unsetenv("NVML_STUB_FILE");
	REQUIRE(nvml_query(stub, &g, &n, err, sizeof(err)) == 0);
	CHECK(n == 0 && g == NULL);
	setenv("NVML_STUB_FILE", "/nonexistent/gpus", 1);
	REQUIRE(nvml_query(stub, &g, &n, err, sizeof(err)) == 0);
	CHECK(n == 0 && g == NULL);
	setenv("NVML_STUB_FILE", file, 1);
}

/*
 * Process lists NVML will not give leave the GPU without processes; the
 * rest of it is still there (mem_used shows the GPU is in use).
 */
static void
fail_procs(void)
{
	struct nvml_gpu *g;
	size_t n, i;
	char err[512], *text;

	text = malloc(sizeof(three) + 64);
	REQUIRE(text != NULL);
	snprintf(text, sizeof(three) + 64, "fail procs\n%s", three);
	stub_file(text);
	free(text);
	REQUIRE(nvml_query(stub, &g, &n, err, sizeof(err)) == 0);
	CHECK(n == 3);
	for (i = 0; i < n; i++)
		CHECK(g[i].nprocs == 0 && g[i].procs == NULL);
	if (n == 3) {
		CHECK(strcmp(g[0].pci, "0000:3b:00.0") == 0);
		CHECK(g[0].mem_used == 10240 * MIB && g[0].util == 37);
	}
	nvml_free(g, n);
}

/* NVML is loaded once: another library after it is an error. */
static void
other_library(void)
{
	struct nvml_gpu *g;
	size_t n;
	char err[512];

	REQUIRE(nvml_query(stub_old, &g, &n, err, sizeof(err)) == -1);
	CHECKF(strstr(err, "NVML is loaded from ") != NULL &&
	    strstr(err, "restart labcd") != NULL, "%s", err);
	REQUIRE(nvml_query(NULL, &g, &n, err, sizeof(err)) == -1);
	stub_file(three);
	REQUIRE(nvml_query(stub, &g, &n, err, sizeof(err)) == 0);
	CHECK(n == 3);
	nvml_free(g, n);
}

static void
many(void)
{
	struct nvml_gpu *g;
	size_t n, i, k;
	char err[512], line[128], *text;
	size_t len = 0, cap = 16384;
	int ok;

	text = calloc(1, cap);
	REQUIRE(text != NULL);
	for (i = 0; i < 8; i++) {
		len += (size_t)snprintf(text + len, cap - len, "gpu H100 "
		    "00000000:%02zX:00.0 GPU-%zu 81559 %zu %zu\n", 0x10 + i, i,
		    i * 100, i * 10);
		for (k = 0; k < 20; k++) {
			snprintf(line, sizeof(line), "%s %zu %zu %zu\n",
			    k % 3 == 0 ? "gproc" : "proc", i, 100000 - k * 7 -
			    i, k + 1);
			len += (size_t)snprintf(text + len, cap - len, "%s",
			    line);
		}
	}
	REQUIRE(len < cap);
	stub_file(text);
	free(text);
	REQUIRE(nvml_query(stub, &g, &n, err, sizeof(err)) == 0);
	REQUIRE(n == 8);
	for (i = 0; i < n; i++) {
		snprintf(line, sizeof(line), "0000:%02zx:00.0", 0x10 + i);
		CHECK(strcmp(g[i].pci, line) == 0);
		CHECK(g[i].util == (int)(i * 10));
		CHECKF(g[i].nprocs == 20, "GPU %zu: %zu", i, g[i].nprocs);
		ok = 1;
		for (k = 0; k < g[i].nprocs; k++) {
			if (k > 0 && g[i].procs[k - 1].pid >= g[i].procs[k].pid)
				ok = 0;
			if (g[i].procs[k].mem == 0)
				ok = 0;
		}
		CHECK(ok);
		CHECK(has_proc(&g[i], (unsigned int)(100000 - 19 * 7 - i), 20));
	}
	nvml_free(g, n);
}

static void *
querier(void *arg)
{
	struct nvml_gpu *g;
	size_t n;
	char err[512];
	int i, *bad = arg;

	for (i = 0; i < 50; i++) {
		if (nvml_query(stub, &g, &n, err, sizeof(err)) != 0 ||
		    n != 3 || g[0].nprocs != 3)
			(*bad)++;
		else
			nvml_free(g, n);
	}
	return NULL;
}

/* The driver's version: the stub's default, then the one its file says. */
static void
driver_version(void)
{
	char v[80], err[256];

	stub_file(three);
	REQUIREF(nvml_driver_version(stub, v, sizeof(v), err, sizeof(err)) == 0,
	    "%s", err);
	CHECKF(strcmp(v, "550.54.15") == 0, "%s", v);
	stub_file("driver 535.104.05\n");
	REQUIRE(nvml_driver_version(stub, v, sizeof(v), err, sizeof(err)) == 0);
	/* nvmlInit ran once; a count reads the file again, as labcd's query. */
	{
		struct nvml_gpu *g;
		size_t n;

		REQUIRE(nvml_query(stub, &g, &n, err, sizeof(err)) == 0);
		nvml_free(g, n);
	}
	REQUIRE(nvml_driver_version(stub, v, sizeof(v), err, sizeof(err)) == 0);
	CHECKF(strcmp(v, "535.104.05") == 0, "%s", v);
	CHECK(nvml_driver_version("/nonexistent/libnvidia-ml.so.1", v,
	    sizeof(v), err, sizeof(err)) == -1);
}

static void
threads(void)
{
	pthread_t t[4];
	int bad[4] = { 0 }, i;

	stub_file(three);
	for (i = 0; i < 4; i++)
		REQUIRE(pthread_create(&t[i], NULL, querier, &bad[i]) == 0);
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		CHECK(bad[i] == 0);
	}
}

int
main(void)
{
	char self[PATH_MAX], *dir;
	ssize_t len;
	int fd;

	if ((len = readlink("/proc/self/exe", self, sizeof(self) - 1)) < 0) {
		perror("/proc/self/exe");
		return 1;
	}
	self[len] = '\0';
	dir = dirname(self);
	snprintf(stub, sizeof(stub), "%s/../nvml-stub/libnvidia-ml.so.1", dir);
	snprintf(stub_old, sizeof(stub_old),
	    "%s/../nvml-stub/old/libnvidia-ml.so.1", dir);
	if (access(stub, R_OK) != 0 || access(stub_old, R_OK) != 0) {
		printf("skip - all (no %s: make builds it)\n", stub);
		return 0;
	}
	if ((fd = mkstemp(file)) < 0) {
		perror(file);
		return 1;
	}
	close(fd);
	setenv("NVML_STUB_FILE", file, 1);

	RUN(pci_normalize);
	RUN(missing_library);
	RUN(old_driver);
	RUN(init_fails);
	RUN(three_gpus);
	RUN(file_changes);
	RUN(no_file);
	RUN(fail_procs);
	RUN(other_library);
	RUN(many);
	RUN(driver_version);
	RUN(threads);
	unlink(file);
	return t_done();
}
