/*
 * ipv4.h - IPv4 addresses as LXD writes them ("A.B.C.D/N" on a network),
 * in host order: the members' subnets (isolate.c) and the containers'
 * fixed addresses (ct-addr.c) read them the same way.
 */
#ifndef LABCD_IPV4_H
#define LABCD_IPV4_H

/* "A.B.C.D/N" as its network and mask (host order): 0, or -1. */
int	ipv4_cidr(const char *s, unsigned *net, unsigned *mask);
/* The address part of "A.B.C.D/N" or "A.B.C.D" (host order): 0, or -1. */
int	ipv4_addr(const char *s, unsigned *ip);
/* ip as "A.B.C.D". */
void	ipv4_text(unsigned ip, char out[16]);

#endif
