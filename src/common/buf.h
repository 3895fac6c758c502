/*
 * buf.h - one growable byte buffer with a size limit, for everything that
 * comes from outside (LXD responses, client frames). Always NUL-terminated.
 */
#ifndef LABC_BUF_H
#define LABC_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;		/* NUL-terminated; NULL until first growth */
	size_t	 len;
	size_t	 cap;
	size_t	 limit;		/* 0: no limit */
	int	 toobig;	/* set once an append would pass the limit */
};

#define BUF_INIT(lim) { NULL, 0, 0, (lim), 0 }

void	 buf_init(struct buf *b, size_t limit);
void	 buf_free(struct buf *b);
void	 buf_reset(struct buf *b);
/* 0, or -E2BIG if the limit would be passed (the buffer is unchanged). */
int	 buf_add(struct buf *b, const void *p, size_t n);
int	 buf_adds(struct buf *b, const char *s);
int	 buf_printf(struct buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
const char *buf_str(const struct buf *b);	/* "" when empty */
char	*buf_steal(struct buf *b);		/* caller frees; buffer reset */

#endif
