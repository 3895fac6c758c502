/* ports.h - the host's TCP ports (ports.c). */
#ifndef LABCD_PORTS_H
#define LABCD_PORTS_H

#include <stddef.h>

/*
 * Could a listener bind PORT on listen_addr (an IPv4 address, else any)?
 * With SO_REUSEADDR, as LXD's proxy binds: TIME_WAIT holds nothing.
 */
int	port_free(const char *listen_addr, int port);
/*
 * Who listens on PORT: "sshd, pid 812" (LXD's proxy says so); "" if no
 * listener or no process is found.
 */
void	port_holder(int port, char *out, size_t outsz);

struct db;
/*
 * The one port picker: the first port of lo..hi that no container row
 * has and nothing on the host holds (port_free); 0 if none is left.
 * listen_addr NULL: LXD is on another host (lxd_url), whose listeners
 * are not seen from here: rows only. skip (NULL, or hi - lo + 1 flags):
 * ports to pass over while another is free (admin import: other
 * containers' old ports).
 */
int	port_pick(struct db *db, int lo, int hi, const char *listen_addr,
	    const unsigned char *skip);

struct checkup;
/* doctor's check of ssh_ports: those something else holds, and who. */
void	ports_doctor(struct checkup *d);
#endif
