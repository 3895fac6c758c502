/*
 * backup.c - 'labc admin backup --all DIR': every member's containers
 * exported into DIR by labc itself, as the admin who runs it, for the
 * lab's nightly backup. labcd decides who may (list --all and export
 * --as are an admin's); the files are written with the admin's own
 * rights, never labcd's. One tarball each, DIR/USER/NAME.tar.gz, made as
 * NAME.tar.gz.part and renamed when whole, and DIR/MANIFEST: one line a
 * finished tarball (user, container, file, bytes, sha256, when). Run
 * again on the same DIR, it skips what MANIFEST lists and is still there
 * at its size: an interrupted backup resumes where it stopped.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backup.h"
#include "proto.h"
#include "xmalloc.h"

#define MANIFEST	"MANIFEST"

static void
usage(void)
{
	fprintf(stderr, "usage: labc admin backup --all DIR [--snapshots] "
	    "[--optimized]\n");
}

/* A user or container name labcd gave, as a path component. */
static int
name_ok(const char *s)
{
	return s != NULL && *s != '\0' && *s != '.' && strchr(s, '/') ==
	    NULL && strlen(s) < 128;
}

/* Is USER/NAME in the manifest text, with its file there at its size? */
static int
done_before(int dir, const char *manifest, const char *user,
    const char *name)
{
	char *want = xasprintf("%s\t%s\t", user, name), *file;
	const char *p = manifest;
	long long bytes;
	struct stat st;
	int r = 0;

	while (p != NULL && *p != '\0' && !r) {
		if (strncmp(p, want, strlen(want)) == 0) {
			file = xasprintf("%s/%s.tar.gz", user, name);
			bytes = strtoll(p + strlen(want), NULL, 10);
			r = fstatat(dir, file, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISREG(st.st_mode) && st.st_size == bytes;
			free(file);
		}
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	free(want);
	return r;
}

/* The manifest so far ("" if none); NULL if it cannot be read. */
static char *
manifest_read(int dir)
{
	char *text = xstrdup(""), buf[8192];
	size_t len = 0;
	ssize_t n;
	int fd = openat(dir, MANIFEST, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? text : (free(text), NULL);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		text = xrealloc(text, len + (size_t)n + 1);
		memcpy(text + len, buf, (size_t)n);
		len += (size_t)n;
		text[len] = '\0';
	}
	close(fd);
	return n < 0 ? (free(text), NULL) : text;
}

/* sha256 of a file, in hex; -1 if it cannot be read. */
static int
file_sha256(int fd, char hex[2 * crypto_hash_sha256_BYTES + 1])
{
	crypto_hash_sha256_state st;
	unsigned char h[crypto_hash_sha256_BYTES], *buf = xmalloc(1 << 20);
	ssize_t n;

	crypto_hash_sha256_init(&st);
	if (lseek(fd, 0, SEEK_SET) != 0) {
		free(buf);
		return -1;
	}
	while ((n = read(fd, buf, 1 << 20)) > 0)
		crypto_hash_sha256_update(&st, buf, (unsigned long long)n);
	free(buf);
	if (n < 0)
		return -1;
	crypto_hash_sha256_final(&st, h);
	sodium_bin2hex(hex, 2 * crypto_hash_sha256_BYTES + 1, h, sizeof(h));
	return 0;
}

/*
 * One container into DIR/USER/NAME.tar.gz: 0 (and a manifest line), or
 * -1 with what went wrong told on stderr (nothing of it left in DIR).
 */
static int
one(struct client *c, int dir, int mfd, const char *user, const char *name,
    int snapshots, int optimized, long long *bytes)
{
	char *part = xasprintf("%s.tar.gz.part", name);
	char *base = xasprintf("%s.tar.gz", name);
	char *file = xasprintf("%s/%s.tar.gz", user, name);
	char *argv[4] = { "export", (char *)(uintptr_t)name, NULL, NULL };
	char err[512], hex[2 * crypto_hash_sha256_BYTES + 1], when[32], *line;
	struct client_result res;
	char *as = c->as;
	int argc = 2, fd, r = -1, out = c->out_fd, udir = -1;
	struct stat st;
	time_t now;

	if (snapshots)
		argv[argc++] = "--snapshots";
	if (optimized)
		argv[argc++] = "--optimized";
	if (mkdirat(dir, user, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "labc: %s: cannot make the directory %s: %s\n",
		    name, user, strerror(errno));
		goto out;
	}
	/* Its own directory, not a link someone put there. */
	if ((udir = openat(dir, user, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0) {
		fprintf(stderr, "labc: %s: %s is not a directory of its own "
		    "(%s): move it away\n", name, user, strerror(errno));
		goto out;
	}
	fd = openat(udir, part, O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "labc: cannot write %s/%s: %s\n", user, part,
		    strerror(errno));
		goto out;
	}
	fprintf(stderr, "%s/%s:\n", user, name);
	c->as = (char *)(uintptr_t)user;
	c->out_fd = fd;
	r = client_exchange(c, argv, argc, CLIENT_STREAM, &res, err,
	    sizeof(err));
	c->as = as;
	c->out_fd = out;
	if (r != 0)
		fprintf(stderr, "labc: %s\n", err);
	else
		r = res.status;	/* not 0: labcd said why, on stderr */
	client_result_free(&res);
	if (r == 0 && (fsync(fd) != 0 || fstat(fd, &st) != 0 ||
	    file_sha256(fd, hex) != 0 || renameat(udir, part, udir, base) !=
	    0)) {
		fprintf(stderr, "labc: %s: %s\n", file, strerror(errno));
		r = -1;
	}
	close(fd);
	if (r != 0) {
		(void)unlinkat(udir, part, 0);
		r = -1;
		goto out;
	}
	*bytes = (long long)st.st_size;
	now = time(NULL);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	line = xasprintf("%s\t%s\t%lld\t%s\t%s\t%s\n", user, name, *bytes, hex,
	    file, when);
	if (write(mfd, line, strlen(line)) != (ssize_t)strlen(line) ||
	    fsync(mfd) != 0) {
		fprintf(stderr, "labc: cannot write %s: %s\n", MANIFEST,
		    strerror(errno));
		r = -1;
	}
	free(line);
out:
	if (udir >= 0)
		close(udir);
	free(part);
	free(base);
	free(file);
	return r;
}

/* Every container, as labcd lists them to an admin: 0 and *list. */
static int
containers(struct client *c, json_t **list)
{
	char *argv[] = { "list", "--all", "--format", "json", NULL };
	struct client_result res;
	char err[512];
	json_t *top = NULL, *arr;
	int r;

	/* Quiet: the text is the JSON; an error is shown below. */
	r = client_exchange(c, argv, 4, CLIENT_CAPTURE, &res, err,
	    sizeof(err));
	if (r != 0) {
		fprintf(stderr, "labc: %s\n", err);
		return -1;
	}
	if (res.status != 0) {
		if (res.error != NULL)
			fprintf(stderr, "%s\n", res.error);
		client_result_free(&res);
		return -1;
	}
	if (res.text != NULL)
		top = json_loads(res.text, 0, NULL);
	client_result_free(&res);
	arr = json_is_array(top) ? top : json_object_get(top, "containers");
	if (!json_is_array(arr)) {
		fprintf(stderr, "labc: labcd listed the containers in a form "
		    "labc cannot read: use labc and labcd of the same "
		    "release\n");
		json_decref(top);
		return -1;
	}
	*list = json_incref(arr);
	json_decref(top);
	return 0;
}

int
backup_run(struct client *c, int argc, char **argv)
{
	const char *dirname = NULL, *user, *name;
	int i, all = 0, snapshots = 0, optimized = 0, dir, mfd;
	int nok = 0, nskip = 0, nfail = 0;
	long long total = 0, bytes;
	char *manifest;
	json_t *list, *ct;
	struct stat st;
	size_t k;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--all") == 0)
			all = 1;
		else if (strcmp(argv[i], "--snapshots") == 0)
			snapshots = 1;
		else if (strcmp(argv[i], "--optimized") == 0)
			optimized = 1;
		else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			printf("usage: labc admin backup --all DIR "
			    "[--snapshots] [--optimized]\n\n"
			    "Every container of every member, exported into "
			    "DIR/USER/NAME.tar.gz\nby labc as you (an admin), "
			    "with DIR/MANIFEST: user, container, bytes,\n"
			    "sha256, file and time of each. Run again on the "
			    "same DIR, it skips\nwhat is done: an interrupted "
			    "backup resumes. Use a new DIR for a new\nbackup "
			    "(such as /srv/backup/$(date +%%F)).\n");
			return 0;
		} else if (argv[i][0] == '-' || dirname != NULL) {
			fprintf(stderr, "labc: admin backup: '%s' is not an "
			    "option of it\n", argv[i]);
			usage();
			return PROTO_USAGE;
		} else
			dirname = argv[i];
	}
	if (!all || dirname == NULL) {
		fprintf(stderr, "labc: admin backup needs --all and a "
		    "directory\n");
		usage();
		return PROTO_USAGE;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "labc: libsodium cannot start\n");
		return PROTO_FAILED;
	}
	/* labcd first: who may, and what there is; then the files. */
	if (containers(c, &list) != 0)
		return PROTO_FAILED;
	if (mkdir(dirname, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "labc: cannot make %s: %s\n", dirname,
		    strerror(errno));
		json_decref(list);
		return PROTO_FAILED;
	}
	if ((dir = open(dirname, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "labc: cannot open the directory %s: %s\n",
		    dirname, strerror(errno));
		json_decref(list);
		return PROTO_FAILED;
	}
	/* Nobody else may plant links where the tarballs go. */
	if (fstat(dir, &st) != 0 || st.st_uid != geteuid() ||
	    (st.st_mode & 022) != 0) {
		fprintf(stderr, "labc: %s is not yours alone (owner uid %u, "
		    "mode %04o): use a directory only you can write\n",
		    dirname, (unsigned)st.st_uid, (unsigned)(st.st_mode &
		    07777));
		close(dir);
		json_decref(list);
		return PROTO_FAILED;
	}
	if ((manifest = manifest_read(dir)) == NULL ||
	    (mfd = openat(dir, MANIFEST, O_WRONLY | O_CREAT | O_APPEND |
	    O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
		fprintf(stderr, "labc: cannot use %s/%s: %s\n", dirname,
		    MANIFEST, strerror(errno));
		free(manifest);
		close(dir);
		json_decref(list);
		return PROTO_FAILED;
	}
	json_array_foreach(list, k, ct) {
		user = json_string_value(json_object_get(ct, "owner"));
		name = json_string_value(json_object_get(ct, "name"));
		if (!name_ok(user) || !name_ok(name)) {
			fprintf(stderr, "labc: skipped a container with a name "
			    "labc will not make a file of (%.64s/%.64s)\n",
			    user ?: "?", name ?: "?");
			nfail++;
			continue;
		}
		if (done_before(dir, manifest, user, name)) {
			nskip++;
			continue;
		}
		if (one(c, dir, mfd, user, name, snapshots, optimized,
		    &bytes) == 0) {
			nok++;
			total += bytes;
		} else
			nfail++;
	}
	json_decref(list);
	free(manifest);
	close(mfd);
	close(dir);
	printf("Backed up %d container%s (%.1f MiB) into %s", nok,
	    nok == 1 ? "" : "s", (double)total / 1048576.0, dirname);
	if (nskip > 0)
		printf("; %d done before, kept", nskip);
	if (nfail > 0)
		printf("; %d failed (above): run it again to retry them",
		    nfail);
	printf(".\n");
	return nfail > 0 ? PROTO_FAILED : PROTO_OK;
}
