/*
 * snap.h - labc-web's one copy of the lab's status (snap.c): asked of
 * labcd (its 'status' command, over its unix socket) at most once per
 * refresh interval, and only while someone looks, then shared by every
 * viewer: a hundred open tabs cost labcd one request per interval.
 */
#ifndef WEB_SNAP_H
#define WEB_SNAP_H

#include <stddef.h>
#include <jansson.h>

/* One snapshot, as served; counted references, never changed once made. */
struct snap {
	int		 refs;
	json_t		*data;		/* labcd's snapshot */
	char		*json;		/* /api/status's body */
	size_t		 json_len;
	char		*metrics;	/* /metrics' body */
	size_t		 metrics_len;
	char		 etag[48];	/* "\"...\"": of the JSON but its
					   time, which changes at each ask */
	unsigned long long metrics_tag;	/* of /metrics' body */
	char		 last_modified[40];	/* RFC 7231 date */
	long long	 time;		/* the snapshot's */
	long long	 fetched;	/* monotonic seconds it came */
};

/* labcd's socket, and how often to ask (seconds; the snapshot's own
   "refresh" replaces it once one has come). Starts the asking thread. */
int	snap_start(const char *socket, int refresh, char *err, size_t errsz);
void	snap_stop(void);
/*
 * The snapshot to serve now (snap_put it): the last one, or, if it is
 * older than the interval, labcd's next answer, waited for at most
 * first_ms when there is none yet, fresh_ms else (not at all while labcd
 * is not answering). NULL if labcd never answered; then *why says why.
 */
struct snap *snap_get(int first_ms, int fresh_ms, char *why, size_t whysz);
void	snap_put(struct snap *s);
/* Did the last request to labcd fail? 1 and why, or 0. */
int	snap_failing(char *why, size_t whysz);
/* Requests made to labcd so far (for the tests and the note). */
unsigned long snap_requests(void);
/* The interval now, in seconds. */
int	snap_refresh(void);

/* /metrics' text of a snapshot (metrics.c); caller frees. up: labc_up. */
char	*metrics_render(json_t *data, int up, size_t *len);

#endif
