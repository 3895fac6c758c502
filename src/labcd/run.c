/* run.c - run a host program (useradd, sshd -t) and read what it says. */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "run.h"
#include "xmalloc.h"

int
run_cmd(const char *const *argv, char **out)
{
	struct buf b = BUF_INIT(64 * 1024);
	int pfd[2], status;
	char chunk[4096];
	ssize_t n;
	pid_t pid;

	if (out != NULL)
		*out = NULL;
	if (pipe2(pfd, O_CLOEXEC) != 0)
		return -1;
	if ((pid = fork()) < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		dup2(null, 0);
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		signal(SIGPIPE, SIG_DFL);
		execv(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	close(pfd[1]);
	while ((n = read(pfd[0], chunk, sizeof(chunk))) > 0)
		(void)buf_add(&b, chunk, (size_t)n);
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0)
		;
	if (out != NULL)
		*out = buf_steal(&b);
	else
		buf_free(&b);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int
run_find(const char *prog, char *out, size_t outsz)
{
	const char *path = getenv("PATH");
	char *copy = xstrdup(path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
	char *save = NULL, *dir;
	struct stat st;
	int found = 0;

	for (dir = strtok_r(copy, ":", &save); dir != NULL && !found;
	    dir = strtok_r(NULL, ":", &save)) {
		char *p = xasprintf("%s/%s", dir, prog);

		if ((found = stat(p, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(p, X_OK) == 0))
			snprintf(out, outsz, "%s", p);
		free(p);
	}
	free(copy);
	return found;
}
