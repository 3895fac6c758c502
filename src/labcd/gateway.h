/*
 * gateway.h - what the gateway needs on the host (gateway.c), as doctor
 * checks it.
 */
#ifndef LABCD_GATEWAY_H
#define LABCD_GATEWAY_H

struct checkup;

/*
 * doctor's checks of the gateway: its account and password, the key
 * lookup's account, the sshd drop-in (in checkup_dir, of
 * checkup_sshd_config) and what sshd applies to the account.
 */
void	gateway_doctor(struct checkup *d);

#endif
