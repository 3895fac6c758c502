/*
 * proto.h - the wire format between labc and labcd, the one header that
 * defines it (written down in PROTOCOL.md beside the sources).
 *
 * A frame is a 4-byte big-endian length N (1 <= N <= PROTO_MAX_FRAME)
 * followed by N bytes of one JSON object. Every object carries "v"
 * (PROTO_VERSION) and "t" (its type, below).
 */
#ifndef LABC_PROTO_H
#define LABC_PROTO_H

#include <stddef.h>
#include <jansson.h>

#define PROTO_VERSION		1
#define PROTO_MAX_FRAME		(1024 * 1024)	/* checked before allocation */
#define PROTO_MAX_ARGS		256		/* argv entries in a request */
#define PROTO_MAX_ARG		4096		/* bytes in one argv entry */

/* Client -> daemon */
#define PROTO_REQUEST	"request"	/* argv, [session], [as], [tty], [cols],
					   [quiet] */
#define PROTO_INPUT	"input"		/* data: the answer to a prompt */
/* Daemon -> client */
#define PROTO_PROGRESS	"progress"	/* text: one line of progress */
#define PROTO_PROMPT	"prompt"	/* text, echo: ask the person */
#define PROTO_RESULT	"result"	/* status, [text], [error], [data],
					   [session], [logout] */
#define PROTO_STREAM	"stream"	/* result-like: raw bytes follow */

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
/*
 * Check a request's "argv": an array of at most PROTO_MAX_ARGS strings of
 * at most PROTO_MAX_ARG bytes, none with a NUL. NULL if fine, else what is
 * wrong.
 */
const char *proto_argv_invalid(json_t *argv);
/* Type of a received message ("" if none). */
const char *proto_type(json_t *msg);
/* Build a message of type t (caller decrefs). */
json_t	*proto_msg(const char *t);

#endif
