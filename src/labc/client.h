/*
 * client.h - labc's side of the protocol (PROTOCOL.md): the connection to
 * labcd, one exchange (request, then progress and prompts, then a result),
 * the session token, and the signals that interrupt a wait.
 */
#ifndef LABC_CLIENT_H
#define LABC_CLIENT_H

#include <stddef.h>
#include <jansson.h>

#define CLIENT_SOCKET	"/run/labcontainers/labcd.sock"

struct client {
	char	*path;		/* labcd's socket */
	char	*as;		/* --as USER, or NULL */
	char	*key;		/* gateway: "TYPE BASE64" sshd accepted */
	char	*session;	/* the token from login, or NULL */
	char	*session_file;	/* its file; NULL: in memory only */
	int	 fd;		/* -1 while not connected */
	int	 shell;		/* the shell: text ends a line */
	int	 out_fd;	/* where an export's bytes go (stdout) */
};

struct client_result {
	int	 status;	/* PROTO_OK, PROTO_FAILED, PROTO_USAGE */
	json_t	*data;		/* the result's data, or NULL */
	int	 identity;	/* it carried a session or a logout */
	char	*text;		/* with CLIENT_CAPTURE: the result's text */
	char	*error;		/* and its error, or NULL */
};

/* Flags of client_exchange. */
#define CLIENT_QUIET	0x1	/* show nothing; prompts get eof */
#define CLIENT_STREAM	0x2	/* "stream": splice stdin/stdout */
#define CLIENT_CAPTURE	0x5	/* quiet, and keep text and error in res */

/*
 * Set up c for socket path (NULL: $LABC_SOCKET, else CLIENT_SOCKET). With
 * persist, the session token is read from and saved to a per-user file
 * (one per socket); otherwise it lives in memory only.
 */
void	client_init(struct client *c, const char *path, const char *as,
	    int persist);
void	client_free(struct client *c);
/*
 * Connect if not connected. 0, or -errno with a message for the person in
 * err ("labcd is not running (no socket at ...)").
 */
int	client_connect(struct client *c, char *err, size_t errsz);
void	client_close(struct client *c);
/*
 * Run one command: send argv, show progress on stderr, answer prompts,
 * show the result's text and error, keep or drop the session. 0 and *res
 * (free with client_result_free), or with a message in err: -EINVAL (argv
 * cannot be sent), -EINTR (a signal came, see client_signal; the
 * connection is closed), another -errno (no connection, labcd closed it,
 * a protocol error). A connection found closed or reset when sending is
 * made again once, transparently.
 */
int	client_exchange(struct client *c, char **argv, int argc, int flags,
	    struct client_result *res, char *err, size_t errsz);
void	client_result_free(struct client_result *res);
/*
 * One command with its output passed on (streams too): its status, or
 * the client's own 1 or 2. A signal that ended the wait ends labc the
 * way the signal would, once the terminal is restored.
 */
int	client_run(struct client *c, char **argv, int argc);

/*
 * Catch SIGINT, SIGTERM and SIGHUP (no SA_RESTART) so that waits end with
 * -EINTR; the interactive shell does this for its whole life. Without it
 * they are caught only while reading the answer to a prompt, to restore
 * the terminal.
 */
void	client_catch_signals(void);
/* The signal caught and not yet taken (0: none); take clears it. */
int	client_signal(void);
int	client_signal_take(void);

/* Columns of the terminal on stdout (80 if it is not one). */
int	client_columns(void);

#endif
