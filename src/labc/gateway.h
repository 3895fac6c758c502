/* gateway.h - labc as the SSH gateway account's shell (gateway.c). */
#ifndef LABC_GATEWAY_H
#define LABC_GATEWAY_H

struct client;

/*
 * Is argv the forced command that 'labc --authorized-keys' gives each key,
 * "…/labc --as USER" or "…/labc --anon"? Then *user points into argv, or
 * is NULL for an anonymous session.
 */
int	gateway_forced(char **argv, int argc, const char **user);
/*
 * Run the forced command for user (NULL: anonymous): the public key sshd
 * accepted (from ExposeAuthInfo) goes with every request as the proof;
 * then the client's command (SSH_ORIGINAL_COMMAND) or a shell.
 */
int	gateway_run(struct client *c, const char *user);
/* sshd's AuthorizedKeysCommand: print the lines for account/key. */
int	gateway_authorized_keys(struct client *c, int argc, char **argv);

#endif
