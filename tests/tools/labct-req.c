/*
 * labct-req.c - one well-formed request to labcd, with the fields a client
 * of its own choosing would send: for the tests that speak the protocol
 * directly (a hostile uid asserting a user with some key, logins without
 * labc, the hidden command listing). Each prompt is answered with the next
 * line of stdin (eof at its end); the result message is printed as one
 * line of JSON, and the exit status is the result's status (3: no result).
 *
 *   labct-req SOCKET [-a USER] [-k "TYPE BASE64"] [-s SESSION] -- ARG...
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "proto.h"

int
main(int argc, char **argv)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *as = NULL, *key = NULL, *session = NULL;
	char err[256], *line = NULL;
	size_t cap = 0;
	json_t *req, *a, *m = NULL;
	int fd, i, ch, status = 3;

	signal(SIGPIPE, SIG_IGN);	/* a refused connection is read below */
	while ((ch = getopt(argc, argv, "a:k:s:")) != -1) {
		switch (ch) {
		case 'a':
			as = optarg;
			break;
		case 'k':
			key = optarg;
			break;
		case 's':
			session = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (optind + 1 >= argc)
		goto usage;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", argv[optind++]);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		perror("labct-req: connect");
		return 3;
	}
	a = json_array();
	for (i = optind; i < argc; i++)
		json_array_append_new(a, json_string(argv[i]));
	req = proto_msg(PROTO_REQUEST);
	json_object_set_new(req, "argv", a);
	if (as != NULL)
		json_object_set_new(req, "as", json_string(as));
	if (key != NULL)
		json_object_set_new(req, "key", json_string(key));
	if (session != NULL)
		json_object_set_new(req, "session", json_string(session));
	/*
	 * labcd may refuse a connection (too many) before reading the
	 * request: the send then fails, but its refusal is still there to
	 * read, as labc reads it.
	 */
	if (proto_send(fd, req) != 0)
		fprintf(stderr, "labct-req: cannot send\n");
	json_decref(req);
	while (proto_recv(fd, &m, err, sizeof(err)) == 0) {
		const char *t = proto_type(m);

		if (strcmp(t, PROTO_PROMPT) == 0) {
			json_t *in = proto_msg(PROTO_INPUT);
			ssize_t n = getline(&line, &cap, stdin);

			if (n > 0 && line[n - 1] == '\n')
				line[--n] = '\0';
			if (n < 0)
				json_object_set_new(in, "eof", json_true());
			else
				json_object_set_new(in, "data",
				    json_string(line));
			(void)proto_send(fd, in);
			json_decref(in);
		} else if (strcmp(t, PROTO_RESULT) == 0 ||
		    strcmp(t, PROTO_STREAM) == 0) {
			char *s = json_dumps(m, JSON_COMPACT);

			printf("%s\n", s);
			free(s);
			status = (int)json_integer_value(json_object_get(m,
			    "status"));
			json_decref(m);
			break;
		}
		json_decref(m);
		m = NULL;
	}
	free(line);
	close(fd);
	return status;
usage:
	fprintf(stderr, "usage: labct-req SOCKET [-a USER] [-k KEY] "
	    "[-s SESSION] -- ARG...\n");
	return 2;
}
