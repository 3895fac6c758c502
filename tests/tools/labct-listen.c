/*
 * labct-listen.c - another program holding a TCP port on 127.0.0.1, so a
 * test can check that labcd skips ports in use: labct-listen PORT SECONDS
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
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: labct-listen PORT SECONDS\n");
		return 2;
	}
	sin.sin_port = htons((unsigned short)atoi(argv[1]));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(fd, 1) != 0) {
		perror("labct-listen");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	sleep((unsigned)atoi(argv[2]));
	return 0;
}
