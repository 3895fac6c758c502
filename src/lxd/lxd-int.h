/* lxd-int.h - what the lxd_* files share and nobody else sees. */
#ifndef LABC_LXD_INT_H
#define LABC_LXD_INT_H

#include <curl/curl.h>
#include <stdio.h>

#include "buf.h"
#include "lxd.h"

/* Seconds a change waits for an instance another operation holds. */
#define LXD_BUSY_WAIT		35
#define LXD_RESPONSE_LIMIT	(64u * 1024 * 1024)

struct lxd {
	char		*configured;	/* socket path given by the caller */
	char		*socket;	/* socket in use (NULL over HTTPS) */
	char		*url;		/* "https://HOST:PORT", or NULL */
	char		*cert;		/* over HTTPS: labcd's certificate, */
	char		*key;		/* its key, */
	char		*server_cert;	/* and the server's, pinned */
	CURL		*curl;
	int		 connected;	/* GET /1.0 succeeded */
	int		 clustered;	/* it said it is a cluster member */
	enum lxd_server	 kind;
	char		*version;
	json_t		*extensions;
	long		 timeout;	/* plain requests, seconds */
	long		 op_timeout;	/* operations, seconds */
	lxd_progress_fn	 progress;
	void		*progress_arg;
	char		 err[1024];
};

struct lxd_req {
	const char	*method;
	const char	*path;
	const void	*body;		/* raw body, or NULL */
	size_t		 body_len;
	const char	*content_type;	/* default application/json */
	FILE		*upload;	/* stream the body from here instead */
	long long	 upload_size;
	struct curl_slist *headers;	/* extra headers, borrowed */
	int		 sink;		/* a 2xx body goes to sink_fd, as it
					   comes, not into memory */
	int		 sink_fd;
	int		 source;	/* the body is read from source_fd until
					   its end (chunked), at most
					   source_max bytes */
	int		 source_fd;
	long long	 source_max;
	/*
	 * Each chunk read from source_fd, before it is sent: not 0 stops
	 * the transfer, and lxd_http returns that (a negative errno).
	 */
	int		(*source_check)(void *arg, const void *p, size_t n);
	void		*source_arg;
	long		 timeout;	/* seconds; 0: l->timeout */
	size_t		 limit;		/* response size cap; 0: default */
};

struct lxd_resp {
	long		 http;
	struct buf	 body;
	char		 etag[160];
	char		 ftype[16];	/* X-LXD-type of a files API answer */
	long long	 moved;		/* bytes to sink_fd / from source_fd */
	int		 io_errno;	/* why the sink or source stopped */
	int		 too_big;	/* the source passed source_max */
	int		 checked;	/* source_check stopped it: its code */
};

int	lxd_seterr(struct lxd *l, int r, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/*
 * Point c at path on l's LXD: the URL, and the socket or the TLS settings
 * (client certificate, the pinned server certificate as the only trust
 * anchor). The URL string is returned for the caller to free after the
 * transfer. errbuf (CURL_ERROR_SIZE) gets curl's words of a failure.
 */
char	*lxd_transport(struct lxd *l, CURL *c, const char *path,
	    char *errbuf);
/* Over HTTPS: both certificates within their dates, else -EKEYREJECTED
   (err set) and nothing may be sent. 0 over the socket. */
int	lxd_check_certs(struct lxd *l);
/* A curl failure that is TLS's: -EKEYREJECTED with err set; else 0. */
int	lxd_tls_failure(struct lxd *l, CURLcode cc, const char *errbuf);
/* One HTTP exchange, no envelope handling. */
int	lxd_http(struct lxd *l, const struct lxd_req *rq, struct lxd_resp *rs);
void	lxd_resp_free(struct lxd_resp *rs);
/* One exchange whose answer is an envelope; async ones are waited for. */
int	lxd_request(struct lxd *l, const struct lxd_req *rq, json_t **out,
	    char *etag, size_t etagsz);
/* The same, with the bytes a sink or source moved (also on failure). */
int	lxd_request_moved(struct lxd *l, const struct lxd_req *rq,
	    json_t **out, char *etag, size_t etagsz, long long *moved);
/*
 * Read-modify-write of an object: GET (with its ETag), edit makes the PUT
 * body from it (0, or an error that stops), PUT with If-Match; done again
 * when someone else changed the object in between.
 */
typedef int (*lxd_edit_fn)(struct lxd *l, json_t *obj, json_t **put,
	    void *arg);
int	lxd_update(struct lxd *l, const char *path, lxd_edit_fn edit,
	    void *arg);
/* "/1.0/instances/NAME" + "?project=P" built safely; caller frees. */
char	*lxd_path(const char *project, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* A header line "X-LXD-name: value" with the server's prefix. */
struct curl_slist *lxd_header(struct lxd *l, struct curl_slist *list,
	    const char *name, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));

#endif
