/*
 * shell.c - labc's interactive shell: one connection to labcd for the
 * whole session, a libedit line editor with history and completion of the
 * command names labcd knows, a prompt that says who you are. Without a
 * terminal it reads one command per line from stdin instead (shell.h).
 *
 * Ctrl-C: libedit's own signal handling is off (EL_SIGNAL 0). SIGINT is
 * caught without SA_RESTART (client_catch_signals); the read function
 * given to libedit (shell_getc) turns it into the key ^C, which is bound
 * to shell_cancel: the line is dropped and a fresh prompt shown. During a
 * command the same signal ends the wait for labcd (client_exchange).
 */
#include <errno.h>
#include <fcntl.h>
#include <histedit.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

#include "argv.h"
#include "client.h"
#include "proto.h"
#include "shell.h"
#include "xmalloc.h"

#define SHELL_QUIT	(-1)	/* shell_line: exit or quit */
#define SHELL_NOTHING	(-2)	/* shell_line: an empty line */
#define SHELL_HISTORY	1000	/* lines of history kept */

struct shell_name {
	char	**words;	/* "admin", "user", "add" */
	int	  n;
};

static struct shell_name *shell_names;
static size_t		 shell_nnames;
static char		*shell_prompt_text;
static FILE		*shell_out;	/* the editor's: stdout, or stderr */
static int		 shell_cancelled;
static int		 shell_editing;	/* interactive: there is a prompt */
static volatile sig_atomic_t shell_winch, shell_tstp;

static void
shell_onsignal(int sig)
{
	if (sig == SIGWINCH)
		shell_winch = 1;
	else if (sig == SIGTSTP)
		shell_tstp = 1;
}

static void
shell_catch(int sig)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = shell_onsignal;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/*
 * Ctrl-Z while editing: the terminal back to normal, stop, and on the
 * way back raw again and the line redrawn (libedit's signal handling,
 * which would do this, is off).
 */
static void
shell_stop(EditLine *el)
{
	sigset_t tstp;

	el_set(el, EL_PREP_TERM, 0);
	signal(SIGTSTP, SIG_DFL);
	sigemptyset(&tstp);
	sigaddset(&tstp, SIGTSTP);
	raise(SIGTSTP);
	sigprocmask(SIG_UNBLOCK, &tstp, NULL);	/* stops here */
	sigprocmask(SIG_BLOCK, &tstp, NULL);
	shell_catch(SIGTSTP);
	el_set(el, EL_PREP_TERM, 1);
	el_set(el, EL_REFRESH);
}

static void
shell_name_add(const char *name)
{
	char **words, err[128];
	int n;

	if (argv_split(name, &words, &n, err, sizeof(err)) != 0)
		return;
	if (n == 0) {
		argv_free(words);
		return;
	}
	shell_names = xrealloc(shell_names, (shell_nnames + 1) *
	    sizeof(*shell_names));
	shell_names[shell_nnames].words = words;
	shell_names[shell_nnames].n = n;
	shell_nnames++;
}

static void
shell_names_free(void)
{
	size_t i;

	for (i = 0; i < shell_nnames; i++)
		argv_free(shell_names[i].words);
	free(shell_names);
	shell_names = NULL;
	shell_nnames = 0;
}

/* The command names for completion: "help --names", once. */
static void
shell_names_fetch(struct client *c)
{
	char *argv[] = { "help", "--names", NULL }, err[512];
	struct client_result res;
	json_t *v;
	size_t i;

	if (client_exchange(c, argv, 2, CLIENT_QUIET, &res, err,
	    sizeof(err)) == 0) {
		if (res.status == PROTO_OK) {
			json_array_foreach(json_object_get(res.data,
			    "commands"), i, v) {
				if (json_is_string(v))
					shell_name_add(json_string_value(v));
			}
		}
		client_result_free(&res);
	}
	shell_name_add("exit");
	shell_name_add("quit");
}

/* What labcd kept for the user (GPU leases), before the first prompt. */
static void
shell_notices(struct client *c)
{
	char *argv[] = { "notices", NULL }, err[512];
	struct client_result res;

	if (client_exchange(c, argv, 1, 0, &res, err, sizeof(err)) == 0)
		client_result_free(&res);
}

/* "USER@HOST> ", USER from whoami. */
static void
shell_whoami(struct client *c)
{
	char *argv[] = { "whoami", NULL }, err[512], host[256], *p;
	const char *user = NULL;
	struct client_result res;
	char *name;
	int r;

	r = client_exchange(c, argv, 1, CLIENT_QUIET, &res, err, sizeof(err));
	if (r != 0 && shell_prompt_text != NULL)
		return;		/* no answer: keep what the prompt says */
	if (r == 0 && res.status == PROTO_OK) {
		user = json_string_value(json_object_get(res.data, "user"));
		if (user == NULL && json_is_true(json_object_get(res.data,
		    "admin")))
			user = json_string_value(json_object_get(res.data,
			    "host_user"));
	}
	if (user == NULL || *user == '\0')
		user = "anonymous";
	name = xstrdup(user);
	for (p = name; *p != '\0'; p++) {
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			*p = '?';
	}
	if (r == 0)
		client_result_free(&res);
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	host[strcspn(host, ".")] = '\0';
	free(shell_prompt_text);
	shell_prompt_text = xasprintf("%s@%s> ", name, host);
	free(name);
}

static char *
shell_prompt(EditLine *el)
{
	(void)el;
	return shell_prompt_text;
}

/*
 * Run one line. Its status, SHELL_QUIT for exit or quit, SHELL_NOTHING
 * for a blank line.
 */
static int
shell_line(struct client *c, const char *line)
{
	struct client_result res;
	char **argv, err[512];
	int argc, r, status;

	if (argv_split(line, &argv, &argc, err, sizeof(err)) != 0) {
		fprintf(stderr, "labc: %s\n", err);
		return PROTO_USAGE;
	}
	if (argc == 0) {
		argv_free(argv);
		return SHELL_NOTHING;
	}
	if (strcmp(argv[0], "exit") == 0 || strcmp(argv[0], "quit") == 0) {
		if (argc == 1) {
			argv_free(argv);
			return SHELL_QUIT;
		}
		fprintf(stderr, "labc: %s takes no arguments\n", argv[0]);
		argv_free(argv);
		return PROTO_USAGE;
	}
	r = client_exchange(c, argv, argc, 0, &res, err, sizeof(err));
	argv_free(argv);
	if (r == -EINTR) {
		if (client_signal() == SIGINT) {
			client_signal_take();
			fprintf(stderr, "\nlabc: interrupted: the "
			    "connection to labcd was closed (the command may "
			    "still finish there)\n");
		}
		return PROTO_FAILED;
	}
	if (r != 0) {
		fprintf(stderr, "labc: %s\n", err);
		return r == -EINVAL ? PROTO_USAGE : PROTO_FAILED;
	}
	status = res.status;
	if (res.identity && shell_editing)
		shell_whoami(c);
	client_result_free(&res);
	return status;
}

/* Commands from a stdin that is not a terminal: no prompt, no editing. */
static int
shell_lines(struct client *c)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int r, status = 0;

	while ((n = getline(&line, &cap, stdin)) != -1) {
		if (n > 0 && line[n - 1] == '\n')
			line[n - 1] = '\0';
		r = shell_line(c, line);
		if (r == SHELL_QUIT) {
			status = 0;
			break;
		}
		if (r != SHELL_NOTHING)
			status = r;
	}
	free(line);
	return status;
}

/*
 * libedit's read function: one character from the terminal, the signals
 * let in only while waiting, so none is missed. SIGINT becomes ^C.
 */
static int
shell_getc(EditLine *el, wchar_t *wc)
{
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGWINCH,
	    SIGTSTP };
	sigset_t block, old;
	mbstate_t mbs;
	size_t i, m;
	ssize_t n;
	char ch;
	int r;

	sigemptyset(&block);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&block, sigs[i]);
	sigprocmask(SIG_BLOCK, &block, &old);
	memset(&mbs, 0, sizeof(mbs));
	for (;;) {
		if (shell_winch) {
			shell_winch = 0;
			el_resize(el);
			el_set(el, EL_REFRESH);
		}
		if (shell_tstp) {
			shell_tstp = 0;
			shell_stop(el);
		}
		if (client_signal() == SIGINT) {
			client_signal_take();
			*wc = L'\003';
			r = 1;
			break;
		}
		if (client_signal() != 0) {
			errno = EINTR;
			r = -1;
			break;
		}
		if (ppoll(&pfd, 1, NULL, &old) < 0) {
			if (errno == EINTR)
				continue;
			r = -1;
			break;
		}
		if ((n = read(STDIN_FILENO, &ch, 1)) < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n == 0 ? 0 : -1;
			break;
		}
		m = mbrtowc(wc, &ch, 1, &mbs);
		if (m == (size_t)-2)
			continue;	/* more bytes of one character */
		if (m == (size_t)-1) {
			/* Not a character here: drop the byte. */
			memset(&mbs, 0, sizeof(mbs));
			continue;
		}
		r = 1;
		break;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}

/* ^C: drop the line, show a fresh prompt. */
static unsigned char
shell_cancel(EditLine *el, int ch)
{
	const LineInfo *li = el_line(el);

	(void)ch;
	shell_cancelled = 1;
	if (li->cursor == li->lastchar)
		el_insertstr(el, "^C");
	el_push(el, "\n");	/* ends the line the normal way */
	return CC_REFRESH;
}

static void
shell_list(const char **cand, size_t n)
{
	size_t i, w, width = 0, cols, col = 0;

	for (i = 0; i < n; i++) {
		if ((w = strlen(cand[i])) > width)
			width = w;
	}
	width += 2;
	cols = (size_t)client_columns() / width;
	if (cols == 0)
		cols = 1;
	fputc('\n', shell_out);
	for (i = 0; i < n; i++) {
		if (++col == cols || i == n - 1) {
			fprintf(shell_out, "%s\n", cand[i]);
			col = 0;
		} else
			fprintf(shell_out, "%-*s", (int)width, cand[i]);
	}
	fflush(shell_out);
}

/*
 * Tab: complete the word under the cursor among the command names whose
 * first words are the words before it ("admin u" -> "admin user ").
 * After "help" the words name a command again.
 */
static unsigned char
shell_complete(EditLine *el, int ch)
{
	const LineInfo *li = el_line(el);
	const char **cand = NULL, *prefix;
	char *text, *words[ARGV_MAX_WORDS + 1], *p, *ins = NULL;
	size_t i, j, k, len, ncand = 0, plen, lcp;
	int nw = 0, skip = 0, ok;
	unsigned char r = CC_ERROR;

	(void)ch;
	text = xstrndup(li->buffer, (size_t)(li->cursor - li->buffer));
	for (p = text; *p != '\0' && nw <= ARGV_MAX_WORDS;) {
		p += strspn(p, " \t");
		if (*p == '\0')
			break;
		words[nw++] = p;
		p += strcspn(p, " \t");
		if (*p != '\0')
			*p++ = '\0';
	}
	if (nw > ARGV_MAX_WORDS)
		goto out;
	/* The word under the cursor, or a new one after a blank. */
	len = (size_t)(li->cursor - li->buffer);
	if (nw > 0 && len > 0 && li->buffer[len - 1] != ' ' &&
	    li->buffer[len - 1] != '\t')
		prefix = words[--nw];
	else
		prefix = "";
	while (skip < nw && strcmp(words[skip], "help") == 0)
		skip++;
	plen = strlen(prefix);

	cand = xcalloc(shell_nnames + 1, sizeof(*cand));
	for (i = 0; i < shell_nnames; i++) {
		if (shell_names[i].n <= nw - skip)
			continue;
		ok = 1;
		for (k = 0; ok && k < (size_t)(nw - skip); k++)
			ok = strcmp(shell_names[i].words[k], words[skip + k]) ==
			    0;
		p = shell_names[i].words[nw - skip];
		if (!ok || strncmp(p, prefix, plen) != 0)
			continue;
		for (j = 0; j < ncand && strcmp(cand[j], p) != 0; j++)
			;
		if (j == ncand)
			cand[ncand++] = p;
	}
	if (ncand == 0)
		goto out;
	if (ncand == 1) {
		ins = xasprintf("%s ", cand[0] + plen);
	} else {
		lcp = strlen(cand[0]);
		for (j = 1; j < ncand; j++) {
			for (k = 0; k < lcp && cand[j][k] == cand[0][k]; k++)
				;
			lcp = k;
		}
		if (lcp > plen)
			ins = xstrndup(cand[0] + plen, lcp - plen);
	}
	if (ins != NULL) {
		r = el_insertstr(el, ins) == 0 ? CC_REFRESH : CC_ERROR;
		goto out;
	}
	shell_list(cand, ncand);
	r = CC_REDISPLAY;
out:
	free(ins);
	free(cand);
	free(text);
	return r;
}

static char *
shell_history_path(int persist)
{
	const char *home = getenv("HOME");

	if (!persist || home == NULL || *home != '/')
		return NULL;
	return xasprintf("%s/.labc_history", home);
}

static void
shell_history_save(History *hist, const char *path)
{
	HistEvent ev;
	FILE *f;
	int fd;

	if (path == NULL)
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1)
		return;		/* a home not writable: no history */
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		return;
	}
	history(hist, &ev, H_SAVE_FP, f);
	fclose(f);
}

/* The interactive shell, on a terminal. */
static int
shell_edit(struct client *c, int persist)
{
	struct sigaction sa;
	EditLine *el;
	History *hist;
	HistEvent ev;
	const char *line;
	char *copy, *histfile;
	size_t len;
	int n, r, stoppable;

	shell_editing = 1;
	shell_catch(SIGWINCH);
	/* Started with Ctrl-Z ignored (no job control): leave it so. */
	sigaction(SIGTSTP, NULL, &sa);
	stoppable = sa.sa_handler != SIG_IGN;

	shell_names_fetch(c);
	shell_whoami(c);
	shell_notices(c);

	hist = history_init();
	history(hist, &ev, H_SETSIZE, SHELL_HISTORY);
	history(hist, &ev, H_SETUNIQUE, 1);
	histfile = shell_history_path(persist);
	if (histfile != NULL)
		history(hist, &ev, H_LOAD, histfile);

	/* Prompt and echo on the terminal even when stdout is not one. */
	shell_out = isatty(STDOUT_FILENO) ? stdout : stderr;
	el = el_init("labc", stdin, shell_out, stderr);
	el_set(el, EL_EDITOR, "emacs");
	el_set(el, EL_SIGNAL, 0);
	el_set(el, EL_HIST, history, hist);
	el_set(el, EL_PROMPT, shell_prompt);
	el_set(el, EL_GETCFN, shell_getc);
	el_source(el, NULL);
	/*
	 * After ~/.editrc, which may choose vi: bound in both maps. Wide
	 * names, as el_set(EL_ADDFN) leaks the copies it makes.
	 */
	el_wset(el, EL_ADDFN, L"labc-complete", L"Complete a labc command",
	    shell_complete);
	el_wset(el, EL_ADDFN, L"labc-cancel", L"Drop the line", shell_cancel);
	el_set(el, EL_BIND, "^I", "labc-complete", NULL);
	el_set(el, EL_BIND, "^C", "labc-cancel", NULL);
	el_set(el, EL_BIND, "-a", "^C", "labc-cancel", NULL);

	for (;;) {
		shell_cancelled = 0;
		/* Ctrl-Z is caught only while editing: see shell_stop. */
		shell_tstp = 0;
		if (stoppable)
			shell_catch(SIGTSTP);
		line = el_gets(el, &n);
		if (stoppable)
			signal(SIGTSTP, SIG_DFL);
		if (line == NULL) {
			if (n == 0)
				fputc('\n', shell_out);	/* Ctrl-D */
			break;
		}
		if (shell_cancelled)
			continue;
		len = strlen(line);
		copy = xstrndup(line, len > 0 && line[len - 1] == '\n' ?
		    len - 1 : len);
		if (copy[strspn(copy, " \t")] != '\0')
			history(hist, &ev, H_ENTER, copy);
		r = shell_line(c, copy);
		free(copy);
		/* A SIGINT left over is taken by shell_getc: a ^C. */
		if (r == SHELL_QUIT || (client_signal() != 0 &&
		    client_signal() != SIGINT))
			break;
	}
	fflush(stdout);
	el_end(el);
	shell_history_save(hist, histfile);
	history_end(hist);
	free(histfile);
	return 0;
}

int
shell_run(struct client *c, int interactive, int persist)
{
	char err[512];
	int status, sig;

	c->shell = 1;
	if (interactive)
		client_catch_signals();
	if (client_connect(c, err, sizeof(err)) != 0) {
		fprintf(stderr, "labc: %s\n", err);
		return PROTO_FAILED;
	}
	status = interactive ? shell_edit(c, persist) : shell_lines(c);
	shell_names_free();
	free(shell_prompt_text);
	shell_prompt_text = NULL;
	/* SIGTERM or SIGHUP ended the shell: end the way they would. */
	if ((sig = client_signal_take()) != 0 && sig != SIGINT) {
		client_close(c);
		signal(sig, SIG_DFL);
		raise(sig);
	}
	return status;
}
