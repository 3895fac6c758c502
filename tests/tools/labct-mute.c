/*
 * labct-mute.c - an LXD that never answers, so a test can show that
 * labcd's background work waiting on it keeps no client waiting:
 *   labct-mute SECONDS SOCKET
 * listens at SOCKET, takes every connection, reads what comes and
 * answers nothing, for SECONDS; one line "accepted N" per connection.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAXFD	64

int
main(int argc, char **argv)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct pollfd pfd[MAXFD];
	time_t end;
	int n = 1, i, accepted = 0;
	char buf[4096];

	if (argc != 3 || strlen(argv[2]) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "usage: labct-mute SECONDS SOCKET\n");
		return 2;
	}
	end = time(NULL) + atoi(argv[1]);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", argv[2]);
	unlink(argv[2]);
	pfd[0].fd = socket(AF_UNIX, SOCK_STREAM, 0);
	pfd[0].events = POLLIN;
	if (pfd[0].fd < 0 || bind(pfd[0].fd, (struct sockaddr *)&sun,
	    sizeof(sun)) != 0 || listen(pfd[0].fd, 16) != 0) {
		perror("labct-mute");
		return 1;
	}
	while (time(NULL) < end) {
		if (poll(pfd, (nfds_t)n, 200) <= 0)
			continue;
		if ((pfd[0].revents & POLLIN) && n < MAXFD) {
			pfd[n].fd = accept(pfd[0].fd, NULL, NULL);
			pfd[n].events = POLLIN;
			if (pfd[n].fd >= 0) {
				n++;
				printf("accepted %d\n", ++accepted);
				fflush(stdout);
			}
		}
		for (i = 1; i < n; i++) {
			/* Read and drop; a closed one is left (never answered). */
			if ((pfd[i].revents & POLLIN) &&
			    read(pfd[i].fd, buf, sizeof(buf)) <= 0)
				pfd[i].events = 0;
		}
	}
	unlink(argv[2]);
	return 0;
}
