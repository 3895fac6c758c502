/*
 * lxdconf.h - what labcd.conf asks LXD to have (lxdconf.c), as doctor
 * checks it.
 */
#ifndef LABCD_LXDCONF_H
#define LABCD_LXDCONF_H

struct checkup;

/* doctor's checks of the profiles, their root pools and their bridges.
   Needs LXD. */
void	lxdconf_doctor(struct checkup *d);
/* doctor's check of default_image. Needs LXD. */
void	lxdconf_image_doctor(struct checkup *d);

#endif
