/*
 * labct-listen.c - another program holding a TCP port on 127.0.0.1, so a
 * test can check that labcd skips ports in use:
 *   labct-listen SECONDS PORT...
 * binds the first PORT it can, prints it, and holds it for SECONDS.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	int fd, i;

	if (argc < 3) {
		fprintf(stderr, "usage: labct-listen SECONDS PORT...\n");
		return 2;
	}
	for (i = 2; i < argc; i++) {
		struct sockaddr_in sin = { .sin_family = AF_INET };

		sin.sin_port = htons((unsigned short)atoi(argv[i]));
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd >= 0 && bind(fd, (struct sockaddr *)&sin,
		    sizeof(sin)) == 0 && listen(fd, 1) == 0) {
			printf("%s\n", argv[i]);
			fflush(stdout);
			sleep((unsigned)atoi(argv[1]));
			return 0;
		}
		if (fd >= 0)
			close(fd);
	}
	fprintf(stderr, "labct-listen: no port could be bound\n");
	return 1;
}
