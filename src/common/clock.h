/* clock.h - the monotonic clock in milliseconds (clock.c), for deadlines. */
#ifndef LABC_CLOCK_H
#define LABC_CLOCK_H

/* Milliseconds of CLOCK_MONOTONIC: only differences mean anything. */
long long	mono_ms(void);
/*
 * The CLOCK_REALTIME time ms milliseconds from now, in *ts: a deadline
 * for pthread_cond_timedwait.
 */
struct timespec;
void		clock_deadline(struct timespec *ts, long long ms);

#endif
