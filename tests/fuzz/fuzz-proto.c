/*
 * fuzz-proto.c - the wire format as labcd reads it from any local user: a
 * byte stream of frames read with proto_recv through a socketpair, and the
 * input as one frame body (proto_decode). Checked beyond "no crash":
 * - a message accepted is an object with "v" PROTO_VERSION and a type, and
 *   holds no string with a NUL;
 * - sent again with proto_send it is read back equal;
 * - a stream is read frame by frame until its end, each error one of the
 *   documented ones;
 * - a request's argv is accepted by proto_request_decode exactly when it
 *   is an array of at most 256 strings of at most 4096 bytes (labcd then
 *   passes the strings as a C argv), and decoded as they are.
 */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "atomicio.h"
#include "fuzz.h"
#include "proto.h"

/* Inputs larger than this would fill the socket buffer and block. */
#define STREAM_MAX	(16 * 1024)

static void
check_strings(json_t *j)
{
	const char *key;
	json_t *v;
	size_t i;

	if (json_is_string(j))
		FUZZ_CHECK(strlen(json_string_value(j)) ==
		    json_string_length(j));
	else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			check_strings(v);
	} else if (json_is_object(j)) {
		json_object_foreach(j, key, v)
			check_strings(v);
	}
}

/*
 * A request as labcd decodes it: its argv is refused (-EPROTO) exactly
 * when it is not an array of at most PROTO_MAX_ARGS strings of at most
 * PROTO_MAX_ARG bytes without NUL; accepted, the words are argv's.
 */
static void
check_request(json_t *m)
{
	struct proto_request req;
	json_t *argv = json_object_get(m, "argv"), *v;
	char why[256];
	int ok = json_is_array(argv) && json_array_size(argv) <= PROTO_MAX_ARGS;
	int r;
	size_t i;

	if (ok) {
		json_array_foreach(argv, i, v) {
			if (!json_is_string(v) ||
			    json_string_length(v) > PROTO_MAX_ARG ||
			    strlen(json_string_value(v)) !=
			    json_string_length(v))
				ok = 0;
		}
	}
	why[0] = '\0';
	r = proto_request_decode(m, &req, why, sizeof(why));
	FUZZ_CHECK(r == 0 || r == -EPROTO || r == -EINVAL);
	FUZZ_CHECK((r != -EPROTO) == ok);
	FUZZ_CHECK(r == 0 || fuzz_printable(why));
	if (r == 0) {
		FUZZ_CHECK(req.argc == (int)json_array_size(argv));
		FUZZ_CHECK(req.argv[req.argc] == NULL);
		for (i = 0; i < (size_t)req.argc; i++)
			FUZZ_CHECK(strcmp(req.argv[i], json_string_value(
			    json_array_get(argv, i))) == 0);
		FUZZ_CHECK(req.cols == 0 || (req.cols >= PROTO_MIN_COLS &&
		    req.cols <= PROTO_MAX_COLS));
	}
	proto_request_free(&req);
}

/* Send m through a socketpair and read it back: the same message. */
static void
check_roundtrip(json_t *m)
{
	json_t *back;
	char err[256];
	int sv[2];

	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	FUZZ_CHECK(proto_send(sv[0], m) == 0);
	FUZZ_CHECK(proto_recv(sv[1], &back, err, sizeof(err)) == 0);
	FUZZ_CHECK(json_equal(m, back));
	json_decref(back);
	close(sv[0]);
	close(sv[1]);
}

static void
check_msg(json_t *m)
{
	json_t *v = json_object_get(m, "v");

	FUZZ_CHECK(json_is_object(m));
	FUZZ_CHECK(json_is_integer(v) && json_integer_value(v) ==
	    PROTO_VERSION);
	FUZZ_CHECK(*proto_type(m) != '\0');
	check_strings(m);
	if (strcmp(proto_type(m), PROTO_REQUEST) == 0)
		check_request(m);
	check_roundtrip(m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *m;
	char err[256];
	int sv[2], r, n;

	/* The input as one frame's body. */
	err[0] = '\0';
	if ((r = proto_decode(data, size, &m, err, sizeof(err))) == 0) {
		check_msg(m);
		json_decref(m);
	} else
		FUZZ_CHECK(r == -EPROTO && m == NULL && err[0] != '\0');

	/* The input as a stream of frames from a client. */
	if (size > STREAM_MAX)
		return 0;
	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	FUZZ_CHECK(write_all(sv[0], data, size) == 0);
	shutdown(sv[0], SHUT_WR);
	for (n = 0;; n++) {
		/* Each frame takes at least 5 bytes. */
		FUZZ_CHECK((size_t)n <= size / 5);
		err[0] = '\0';
		r = proto_recv(sv[1], &m, err, sizeof(err));
		if (r != 0) {
			FUZZ_CHECK(m == NULL && err[0] != '\0');
			FUZZ_CHECK(r == -EPIPE || r == -EIO || r == -EMSGSIZE ||
			    r == -EPROTO);
			/* labcd closes the connection after any error. */
			break;
		}
		check_msg(m);
		json_decref(m);
	}
	close(sv[0]);
	close(sv[1]);
	return 0;
}
