/* sshwait.h - waiting for an sshd to answer on an address (sshwait.c). */
#ifndef LABC_SSHWAIT_H
#define LABC_SSHWAIT_H

struct sockaddr_in;

/*
 * Does an sshd answer ("SSH-" first) at sin within wait_ms? 1 or 0.
 * Connects are tried side by side, so a SYN lost on the way (an address
 * not up yet) costs a try, not TCP's one-second retransmission.
 */
int	sshwait(const struct sockaddr_in *sin, long long wait_ms);

#endif
