/*
 * proto.h - the wire format between labc and labcd, the one header that
 * defines it (written down in PROTOCOL.md beside the sources).
 *
 * A frame is a 4-byte big-endian length N (1 <= N <= PROTO_MAX_FRAME)
 * followed by N bytes of one JSON object. Every object carries "v"
 * (PROTO_VERSION) and "t" (its type, below). A change to what a
 * message carries on the wire bumps PROTO_VERSION (tmux-protocol.h's rule).
 */
#ifndef LABC_PROTO_H
#define LABC_PROTO_H

#include <stddef.h>
#include <jansson.h>

#define PROTO_VERSION		1
#define PROTO_MAX_FRAME		(1024 * 1024)	/* checked before allocation */
#define PROTO_MAX_ARGS		256		/* argv entries in a request */
#define PROTO_MAX_ARG		4096		/* bytes in one argv entry */

/*
 * Message types. The fields of each are the structs below; only proto.c
 * spells their names on the wire.
 */
/* Client -> daemon */
#define PROTO_REQUEST	"request"	/* struct proto_request */
#define PROTO_INPUT	"input"		/* data or eof: the answer to a prompt */
/* Daemon -> client */
#define PROTO_PROGRESS	"progress"	/* text: one line of progress */
#define PROTO_PROMPT	"prompt"	/* text, echo: ask the person */
#define PROTO_RESULT	"result"	/* struct proto_result */
#define PROTO_STREAM	"stream"	/* status 0: raw bytes follow */

#define PROTO_MAX_OPT		255	/* bytes in as, session */
#define PROTO_MAX_ANSWER	4096	/* bytes in an input labcd takes */
#define PROTO_MIN_COLS		20	/* cols outside these are taken */
#define PROTO_MAX_COLS		1000	/*   as PROTO_COLS */
#define PROTO_COLS		80

/* Exit status in a result: what labc exits with. */
#define PROTO_OK	0
#define PROTO_FAILED	1
#define PROTO_USAGE	2

/*
 * Send one message (adds "v"). 0 or -errno. The object is not consumed.
 */
int	proto_send(int fd, json_t *msg);
/*
 * Read one message. 0 and *msg, -EPIPE on a clean end of stream, or
 * another -errno with a reason in err: -EMSGSIZE (frame too large or
 * empty), -EPROTO (not JSON, not an object, no type, wrong version),
 * -EIO (truncated frame or read error), -ETIMEDOUT (SO_RCVTIMEO).
 */
int	proto_recv(int fd, json_t **msg, char *err, size_t errsz);
/*
 * proto_recv with deadlines (ms; -1: none): wait_ms for the first byte
 * (-ETIMEDOUT if none came), then frame_ms for the whole frame from that
 * byte on, however the bytes trickle in (-ETIME if it is not complete).
 */
int	proto_recv_timed(int fd, json_t **msg, int wait_ms, int frame_ms,
	    char *err, size_t errsz);
/*
 * Decode the body of one frame (n bytes, not NUL-terminated): what
 * proto_recv does once it has read a frame. 0 and *msg, or -EPROTO with
 * a reason in err.
 */
int	proto_decode(const void *body, size_t n, json_t **msg, char *err,
	    size_t errsz);
/* Type of a received message ("" if none). */
const char *proto_type(json_t *msg);
/* Build a message of type t (caller decrefs): raw, for test clients. */
json_t	*proto_msg(const char *t);

/*
 * A request: "argv", "tty", "color", ["otty"], ["cols"], ["quiet"], ["as"],
 * ["key"], ["session"], in that order.
 */
struct proto_request {
	char	**argv;		/* argc words, then NULL */
	int	  argc;
	char	 *as;		/* a lab user (uid 0, the gateway), or NULL */
	char	 *key;		/* the gateway's SSH key line, or NULL */
	char	 *session;	/* a token from login, or NULL */
	int	  tty;		/* stdin is a terminal */
	int	  color;	/* stdout is a colour terminal */
	int	  otty;		/* stdout is a terminal (sent only if so) */
	int	  cols;		/* its width; 0: not a terminal, not sent */
	int	  quiet;	/* the client shows nothing of the answer */
};
/*
 * Encode: *msg (caller decrefs), or -EILSEQ with a reason in err (a word
 * that is not UTF-8).
 */
int	proto_request_encode(const struct proto_request *req, json_t **msg,
	    char *err, size_t errsz);
/*
 * Decode and check a received message into req (proto_request_free it,
 * whatever the return). 0; -EBADMSG: not a request; -EPROTO: argv is not
 * an array of at most PROTO_MAX_ARGS strings of at most PROTO_MAX_ARG
 * bytes without NUL; -EINVAL: "as" is there but not a name. key is
 * decoded in every case but the first. A session or as that is not a
 * string of 1 to PROTO_MAX_OPT bytes is taken as none (as: -EINVAL); cols
 * outside PROTO_MIN_COLS..PROTO_MAX_COLS as PROTO_COLS.
 */
int	proto_request_decode(json_t *msg, struct proto_request *req,
	    char *err, size_t errsz);
void	proto_request_free(struct proto_request *req);

/* The answer to a prompt: data (n bytes), or NULL for the end of input. */
int	proto_input_send(int fd, const char *data, size_t n);
/*
 * 0 and *data (caller frees; jansson's copy is wiped: it may be a
 * password); -ENODATA for eof or an answer longer than PROTO_MAX_ANSWER;
 * -EBADMSG if msg is not an input.
 */
int	proto_input_decode(json_t *msg, char **data);

/*
 * A result: "status", ["text"], ["error"], ["data"], ["session"],
 * ["logout"], in that order. A stream is "status" alone (and, from
 * another labcd, maybe "error").
 */
struct proto_result {
	int		 status;	/* PROTO_OK, _FAILED, _USAGE */
	const char	*text;		/* for stdout; NULL or "": none */
	const char	*error;		/* for stderr; NULL or "": none */
	json_t		*data;		/* structured; NULL: none */
	const char	*session;	/* a new token (login); NULL: none */
	int		 logout;	/* the token is no longer good */
};
int	proto_result_send(int fd, const struct proto_result *res);
int	proto_stream_send(int fd);
/*
 * A data stream with a result after it (export, import): "status" 0 and
 * "dir", "out" (labcd sends, the client writes it to stdout) or "in" (the
 * client sends its stdin). A socket follows as for a stream
 * (proto_fd_send), carrying the bytes one way; once it is done, the
 * result comes on the connection as for any request. dir: 'o' or 'i'.
 */
int	proto_stream_data_send(int fd, int dir);
/*
 * What follows a stream: one byte ('F') that carries the connection itself
 * (SCM_RIGHTS), which the client then relays; the unix connection stays
 * open, silent, until the client closes it. 0 or -errno.
 */
int	proto_fd_send(int sock, int fd);
/* 0 and *fd (close-on-exec), or -errno: -EPROTO if no descriptor came. */
int	proto_fd_recv(int sock, int *fd);
int	proto_progress_send(int fd, const char *text);
int	proto_prompt_send(int fd, const char *text, int echo);

/* What labc reads from labcd, decoded. */
enum proto_kind {
	PROTO_K_UNKNOWN,	/* type names it */
	PROTO_K_PROGRESS,	/* text */
	PROTO_K_PROMPT,		/* text, echo */
	PROTO_K_RESULT,		/* result */
	PROTO_K_STREAM		/* result: status, error */
};
struct proto_reply {
	enum proto_kind		 kind;
	const char		*type;
	const char		*text;	/* NULL if none */
	int			 echo;
	int			 dir;	/* a data stream: 'o', 'i'; 0 */
	struct proto_result	 result;
};
/*
 * Decode a message from labcd. Its strings and data are msg's: valid
 * while msg is. A status that is not one of PROTO_OK, _FAILED, _USAGE is
 * PROTO_FAILED.
 */
void	proto_reply_decode(json_t *msg, struct proto_reply *rep);

#endif
