/*
 * fuzz-cmd.c - a request's argv as labcd takes it apart: cmd_find picks the
 * command of the one table, cmd_parse its options and arguments, exactly as
 * server.c does (the input is argv words separated by NUL bytes, at most
 * PROTO_MAX_ARGS of at most PROTO_MAX_ARG bytes, as proto_request_decode
 * lets through). Nothing is executed. Checked beyond "no crash":
 * - the command found spells the first words of argv and no other command
 *   spells more of them; when none is found, no command's name matches;
 * - a parse that succeeds has positional arguments within the command's
 *   bounds (unless --help or -h was given), taken in order from argv, and
 *   option values that are "" for a flag or point into argv (--format
 *   only for a CMD_FORMAT command); a failure says why and gives the
 *   usage;
 * - the values create and launch check (ct_opts_from_args) are within
 *   their rules when accepted, and a GPU list (--gpu, gpu attach) read
 *   by gpu_request against four GPUs of the stand-in NVML
 *   (build/tests/nvml-stub, built by plain make) names exactly the GPUs
 *   the list does, ascending, each once ("any:N": N of them). "any" asks the database who
 *   holds which GPU: a real one, empty, in a directory of its own under
 *   TMPDIR that is removed at exit.
 */
#include <limits.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "ct.h"
#include "db.h"
#include "fuzz.h"
#include "gpu.h"
#include "log.h"
#include "labcd.h"
#include "proto.h"
#include "xmalloc.h"

#define NGPUS	4

static struct server srv;
static struct db *fdb;		/* empty: nobody holds a GPU */
static char fdir[PATH_MAX];

static void
drop_db(void)
{
	char *p;

	db_close(fdb);
	fdb = NULL;
	if (fdir[0] == '\0')
		return;
	p = xasprintf("%s/labcd.db", fdir);
	unlink(p);
	free(p);
	p = xasprintf("%s/labcd.db-wal", fdir);
	unlink(p);
	free(p);
	p = xasprintf("%s/labcd.db-shm", fdir);
	unlink(p);
	free(p);
	rmdir(fdir);
}

/* A real database, as labcd makes it; abort if there can be none. */
static void
open_db(void)
{
	const char *tmp = getenv("TMPDIR");
	char err[512], *path;

	snprintf(fdir, sizeof(fdir), "%s/fuzz-cmd.XXXXXX",
	    tmp != NULL && *tmp == '/' ? tmp : "/tmp");
	if (mkdtemp(fdir) == NULL) {
		perror("fuzz-cmd: mkdtemp");
		abort();
	}
	atexit(drop_db);
	path = xasprintf("%s/labcd.db", fdir);
	if (db_prepare_file(path, err, sizeof(err)) != 0 ||
	    (fdb = db_open(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz-cmd: %s\n", err);
		abort();
	}
	free(path);
}

/* The stand-in NVML next to this program, with NGPUS GPUs. */
static void
setup(void)
{
	static const char gpus[] =
	    "gpu A100 00000000:3B:00.0 GPU-0 40960 0 0\n"
	    "gpu A100 00000000:5E:00.0 GPU-1 40960 0 0\n"
	    "gpu A100 00000000:86:00.0 GPU-2 40960 0 0\n"
	    "gpu A100 00000000:AF:00.0 GPU-3 40960 0 0\n";
	char exe[PATH_MAX], *slash, path[64];
	ssize_t n;
	int fd;

	log_setup("fuzz-cmd", LOG_LVL_ERROR, 0);
	config_defaults(&srv.cfg);
	open_db();
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 64)) <= 0)
		return;
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) == NULL)
		return;
	strcpy(slash, "/../tests/nvml-stub/libnvidia-ml.so.1");
	if (access(exe, R_OK) != 0) {
		fprintf(stderr, "fuzz-cmd: no %s (run make): GPU lists are "
		    "not checked\n", exe);
		return;
	}
	if ((fd = memfd_create("nvml-stub", 0)) < 0 ||
	    write(fd, gpus, sizeof(gpus) - 1) != (ssize_t)sizeof(gpus) - 1)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	setenv("NVML_STUB_FILE", path, 1);
	free(srv.cfg.nvml_library);
	srv.cfg.nvml_library = xstrdup(exe);
}

/* The GPU numbers of a list, as the user meant them; -1 if not a list. */
static int
list_of(const char *spec, int want[NGPUS])
{
	const char *p = spec;
	int n = 0, v, i;

	for (;;) {
		if (*p < '0' || *p > '9')
			return -1;
		for (v = 0; *p >= '0' && *p <= '9'; p++) {
			if (v > 1000)
				return -1;
			v = v * 10 + (*p - '0');
		}
		if (v >= NGPUS)
			return -1;
		for (i = 0; i < n; i++) {
			if (want[i] == v)
				return -1;
		}
		want[n++] = v;
		if (*p == '\0')
			return n;
		if (*p++ != ',')
			return -1;
	}
}

/*
 * How many GPUs "any" or "any:N" asks for; -1 if not that or not within
 * the NGPUS free ones (the database is empty: all are free).
 */
static int
any_of(const char *spec)
{
	const char *p = spec + 4;
	long v = 0;

	if (strcmp(spec, "any") == 0)
		return 1;
	if (strncmp(spec, "any:", 4) != 0 || *p == '\0')
		return -1;
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		if ((v = v * 10 + (*p - '0')) > NGPUS)
			return -1;
	}
	return v >= 1 ? (int)v : -1;
}

static void
check_gpu(struct ctx *c, const char *spec, int exclusive)
{
	struct gpu_req req;
	struct op *op = ctx_op(c);
	int want[NGPUS], n, r, i, j, any = strncmp(spec, "any", 3) == 0;

	op->cause[0] = '\0';
	r = gpu_request(op, "", spec, exclusive, &req);
	if (r == PROTO_FAILED) {
		/* Only without NVML. */
		FUZZ_CHECK(strstr(op->cause, "NVIDIA") != NULL);
		return;
	}
	n = strcmp(spec, "all") == 0 ? NGPUS : any ? any_of(spec) :
	    list_of(spec, want);
	if (strcmp(spec, "none") == 0)
		n = exclusive ? -1 : 0;
	if (r != 0) {
		FUZZ_CHECK(r == PROTO_USAGE && op->cause[0] != '\0');
		FUZZ_CHECK(req.idx == NULL && req.n == 0 && req.inv == NULL);
		FUZZ_CHECK(n < 0);
		return;
	}
	FUZZ_CHECK(n >= 0 && req.n == (size_t)n);
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(req.idx[i] >= 0 && req.idx[i] < NGPUS);
		FUZZ_CHECK(i == 0 || req.idx[i - 1] < req.idx[i]);
		if (strcmp(spec, "all") != 0 && !any) {
			for (j = 0; j < n && want[j] != req.idx[i]; j++)
				;
			FUZZ_CHECK(j < n);
		}
	}
	gpu_request_free(&req);
}

static int
has_opt(const struct cmd_entry *e, const char *name)
{
	int i;

	for (i = 0; i < CMD_MAXOPTS && e->opts[i].name != NULL; i++) {
		if (strcmp(e->opts[i].name, name) == 0)
			return 1;
	}
	return 0;
}

static int
size_ok(const char *v)
{
	return v == NULL || (config_size_valid(v) && *v != '0');
}

/* What a command checks of its values before it acts. */
static void
check_values(const struct cmd_entry *e, const struct args *a)
{
	struct ctx c;
	struct ct_opts o;
	char *end;
	int r;

	memset(&c, 0, sizeof(c));
	c.srv = &srv;
	c.db = fdb;
	c.cmd = e;
	c.args = *a;
	buf_init(&c.out, PROTO_MAX_FRAME / 2);
	buf_init(&c.err, 64 * 1024);
	if (has_opt(e, "image")) {
		r = ct_opts_from_args(&c, &o);
		if (r == 0) {
			FUZZ_CHECK(o.image == NULL || (*o.image != '\0' &&
			    strlen(o.image) <= 128));
			FUZZ_CHECK(o.cpu == NULL || (strtol(o.cpu, &end, 10) >=
			    1 && strtol(o.cpu, NULL, 10) <= 1024 &&
			    *end == '\0'));
			FUZZ_CHECK(size_ok(o.memory) && size_ok(o.disk));
			FUZZ_CHECK(!o.exclusive || o.gpu != NULL);
			if (o.gpu != NULL)
				check_gpu(&c, o.gpu, o.exclusive);
		} else if (r == PROTO_FAILED)	/* a member's --exclusive */
			FUZZ_CHECK(has_opt(e, "exclusive") &&
			    cmd_opt(&c, "exclusive") != NULL &&
			    strstr(buf_str(&c.err), "--exclusive is not "
			    "yours") != NULL);
		else
			FUZZ_CHECK(r == PROTO_USAGE && strstr(buf_str(&c.err),
			    "usage: ") != NULL);
	}
	if (strcmp(e->name, "gpu attach") == 0)
		check_gpu(&c, a->argv[1], cmd_opt(&c, "exclusive") != NULL);
	buf_free(&c.out);
	buf_free(&c.err);
}

/* How many words name has (words are separated by one space). */
static int
nwords(const char *name)
{
	int n = 1;

	for (; *name != '\0'; name++)
		n += *name == ' ';
	return n;
}

/* Whether argv begins with the words of name. */
static int
spells(const char *name, int argc, char **argv)
{
	char *joined;
	size_t len = 0;
	int i, n = nwords(name), r;

	if (n > argc)
		return 0;
	for (i = 0; i < n; i++)
		len += strlen(argv[i]) + 1;
	joined = malloc(len + 1);
	FUZZ_CHECK(joined != NULL);
	joined[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0)
			strcat(joined, " ");
		strcat(joined, argv[i]);
	}
	r = strcmp(joined, name) == 0;
	free(joined);
	return r;
}

/* Whether p points at the start of an argv word, or just after its '='. */
static int
in_argv(const char *p, int argc, char **argv)
{
	int i;

	for (i = 0; i < argc; i++) {
		if (p == argv[i])
			return 1;
		if (p > argv[i] && p <= argv[i] + strlen(argv[i]) && p[-1] == '=')
			return 1;
	}
	return 0;
}

static void
check_parse(const struct cmd_entry *e, int argc, char **argv)
{
	struct args a;
	struct buf err = BUF_INIT(64 * 1024);
	int nopts = 0, i, j, r;

	while (nopts < CMD_MAXOPTS && e->opts[nopts].name != NULL)
		nopts++;
	r = cmd_parse(e, argc, argv, &a, &err);
	if (r == 0) {
		FUZZ_CHECK(err.len == 0);
		FUZZ_CHECK(a.argc <= argc);
		/* With --help the arguments are not counted: help is shown. */
		FUZZ_CHECK(a.help || a.argc >= e->min_args);
		FUZZ_CHECK(a.help || e->max_args < 0 || a.argc <= e->max_args);
		FUZZ_CHECK(a.format == NULL || ((e->flags & CMD_FORMAT) &&
		    in_argv(a.format, argc, argv)));
		FUZZ_CHECK(a.argv[a.argc] == NULL);
		/* Positional arguments are argv's words, in order. */
		for (i = 0, j = 0; i < a.argc; i++, j++) {
			while (j < argc && a.argv[i] != argv[j])
				j++;
			FUZZ_CHECK(j < argc);
		}
		for (i = 0; i < CMD_MAXOPTS; i++) {
			if (a.val[i] == NULL)
				continue;
			FUZZ_CHECK(i < nopts);
			if (e->opts[i].flags & OPT_ARG)
				FUZZ_CHECK(in_argv(a.val[i], argc, argv));
			else
				FUZZ_CHECK(*a.val[i] == '\0');
		}
		if (!a.help)	/* else labcd shows help and runs nothing */
			check_values(e, &a);
	} else {
		FUZZ_CHECK(r == -1);
		FUZZ_CHECK(strstr(buf_str(&err), "usage: ") != NULL);
		FUZZ_CHECK(strncmp(buf_str(&err), e->name, strlen(e->name)) ==
		    0);
	}
	free((void *)(uintptr_t)a.argv);
	buf_free(&err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct cmd_entry *e;
	char *words = fuzz_string(data, size), *argv[PROTO_MAX_ARGS + 1], *p;
	int argc = 0, used, i;

	if (srv.cfg.socket == NULL)
		setup();

	/* Words separated by NUL; a last one without. */
	for (p = words; p < words + size && argc < PROTO_MAX_ARGS; argc++) {
		argv[argc] = p;
		p += strlen(p) + 1;
		if (strlen(argv[argc]) > PROTO_MAX_ARG)
			goto out;	/* refused before it gets here */
	}
	argv[argc] = NULL;
	if (argc == 0)
		goto out;

	e = cmd_find(argc, argv, &used);
	if (e == NULL) {
		for (i = 0; cmd_table[i] != NULL; i++)
			FUZZ_CHECK(!spells(cmd_table[i]->name, argc, argv));
		goto out;
	}
	FUZZ_CHECK(used == nwords(e->name) && used <= argc);
	FUZZ_CHECK(spells(e->name, argc, argv));
	for (i = 0; cmd_table[i] != NULL; i++) {
		if (spells(cmd_table[i]->name, argc, argv))
			FUZZ_CHECK(nwords(cmd_table[i]->name) <= used);
	}
	check_parse(e, argc - used, argv + used);
out:
	free(words);
	return 0;
}
