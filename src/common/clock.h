/* clock.h - the monotonic clock in milliseconds (clock.c), for deadlines. */
#ifndef LABC_CLOCK_H
#define LABC_CLOCK_H

/* Milliseconds of CLOCK_MONOTONIC: only differences mean anything. */
long long	mono_ms(void);

#endif
