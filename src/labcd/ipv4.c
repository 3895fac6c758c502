/* ipv4.c - IPv4 addresses as LXD writes them (ipv4.h). */
#include <stdio.h>

#include "ipv4.h"

void
ipv4_text(unsigned ip, char out[16])
{
	snprintf(out, 16, "%u.%u.%u.%u", ip >> 24, ip >> 16 & 255,
	    ip >> 8 & 255, ip & 255);
}

int
ipv4_addr(const char *s, unsigned *ip)
{
	unsigned a, b, c, d;
	char rest;

	if (s == NULL || (sscanf(s, "%3u.%3u.%3u.%3u%c", &a, &b, &c, &d,
	    &rest) < 4) || a > 255 || b > 255 || c > 255 || d > 255)
		return -1;
	*ip = a << 24 | b << 16 | c << 8 | d;
	return 0;
}

int
ipv4_cidr(const char *s, unsigned *net, unsigned *mask)
{
	unsigned a, b, c, d;
	int n;

	if (s == NULL || sscanf(s, "%u.%u.%u.%u/%d", &a, &b, &c, &d, &n) != 5 ||
	    n < 0 || n > 32 || a > 255 || b > 255 || c > 255 || d > 255)
		return -1;
	*mask = n == 0 ? 0 : ~0u << (32 - n);
	*net = (a << 24 | b << 16 | c << 8 | d) & *mask;
	return 0;
}
