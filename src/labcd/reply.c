/*
 * reply.c - what a command sends back: text for stdout and stderr,
 * progress lines, prompts, and tables rendered as an aligned table, JSON or
 * CSV (the same rows also go into the result's structured data).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "inert.h"
#include "labcd.h"
#include "proto.h"
#include "xmalloc.h"

#define PROMPT_TIMEOUT	300	/* seconds a person has to answer */
#define PROMPT_ANON	30	/* the same, for callers without identity */

void
ctx_printf(struct ctx *c, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	(void)buf_adds(&c->out, s);
	free(s);
}

static void
verr(struct ctx *c, const char *fmt, va_list ap)
{
	char *s = xvasprintf(fmt, ap);

	if (c->err.len > 0 && c->err.data[c->err.len - 1] != '\n')
		(void)buf_adds(&c->err, "\n");
	(void)buf_adds(&c->err, s);
	free(s);
}

int
ctx_error(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(c, fmt, ap);
	va_end(ap);
	return PROTO_FAILED;
}

int
ctx_usage(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(c, fmt, ap);
	va_end(ap);
	(void)buf_adds(&c->err, "\n");
	cmd_usage(c->cmd, &c->err);
	return PROTO_USAGE;
}

/* The target often names what the request asked for: stored inert. */
void
ctx_target(struct ctx *c, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	inert_copy(c->target, sizeof(c->target), s);
	free(s);
}

void
ctx_progress(struct ctx *c, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (c->dead)
		return;
	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	if (proto_progress_send(c->fd, s) != 0)
		c->dead = 1;
	free(s);
}

int
ctx_prompt(struct ctx *c, const char *text, int echo, char **answer)
{
	char err[256];
	json_t *in = NULL;
	/* An anonymous caller holding a slot for minutes is an attack. */
	int wait = c->id.user[0] == '\0' && !c->id.admin ? PROMPT_ANON :
	    PROMPT_TIMEOUT, r;

	*answer = NULL;
	if (c->dead)
		return -1;
	if (proto_prompt_send(c->fd, text, echo) != 0) {
		c->dead = 1;
		return -1;
	}
	r = proto_recv_timed(c->fd, &in, wait * 1000,
	    c->srv->cfg.frame_timeout * 1000, err, sizeof(err));
	if (r != 0) {
		c->dead = 1;
		return -1;
	}
	/* Not an input, eof, or not an answer: no answer. */
	r = proto_input_decode(in, answer);
	json_decref(in);
	return r == 0 ? 0 : -1;
}

int
ctx_stream(struct ctx *c)
{
	int r;

	if (c->dead)
		return -1;
	r = proto_stream_send(c->fd);
	c->dead = 1;		/* the stream is the answer: no result */
	return r == 0 ? c->fd : -1;
}

int
ctx_stream_data(struct ctx *c, int dir)
{
	struct timeval stall = { c->srv->cfg.transfer_stall, 0 };
	int sv[2];

	if (c->dead || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv) != 0)
		return -1;
	if (proto_stream_data_send(c->fd, dir) != 0 ||
	    proto_fd_send(c->fd, sv[1]) != 0) {
		close(sv[0]);
		close(sv[1]);
		c->dead = 1;
		return -1;
	}
	close(sv[1]);
	/* labcd's end: only its own direction. */
	(void)shutdown(sv[0], dir == 'o' ? SHUT_RD : SHUT_WR);
	/* A peer that stalls (reads or sends nothing) is cut off: EAGAIN. */
	(void)setsockopt(sv[0], SOL_SOCKET, dir == 'o' ? SO_SNDTIMEO :
	    SO_RCVTIMEO, &stall, sizeof(stall));
	return sv[0];
}

void
ctx_result(struct ctx *c, int status)
{
	struct proto_result res = {
		.status = status,
		.text = buf_str(&c->out),
		.error = buf_str(&c->err),
		.data = c->data,
		.session = c->new_session,
		/* A session sent that is no longer good, and no new one. */
		.logout = c->logout || (c->stale_session &&
		    c->new_session == NULL),
	};

	if (c->dead)
		return;
	if (proto_result_send(c->fd, &res) != 0)
		c->dead = 1;
}

struct table {
	size_t	  ncols, nrows, cap;
	char	**cols;
	int	 *num;		/* per column: a number in JSON */
	char	**cells;	/* nrows * ncols */
};

struct table *
table_new(const char *const *cols)
{
	struct table *t = xcalloc(1, sizeof(*t));
	size_t i, n;

	while (cols[t->ncols] != NULL)
		t->ncols++;
	t->cols = xcalloc(t->ncols, sizeof(char *));
	t->num = xcalloc(t->ncols, sizeof(*t->num));
	for (i = 0; i < t->ncols; i++) {
		t->cols[i] = xstrdup(cols[i]);
		n = strlen(t->cols[i]);
		if (n > 1 && t->cols[i][n - 1] == TABLE_NUM) {
			t->cols[i][n - 1] = '\0';
			t->num[i] = 1;
		}
	}
	return t;
}

void
table_add(struct table *t, ...)
{
	va_list ap;
	size_t i;

	if (t->nrows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->cells = xrealloc(t->cells, t->cap * t->ncols *
		    sizeof(char *));
	}
	va_start(ap, t);
	for (i = 0; i < t->ncols; i++) {
		const char *s = va_arg(ap, const char *);

		t->cells[t->nrows * t->ncols + i] = xstrdup(s ? s : "");
	}
	va_end(ap);
	t->nrows++;
}

void
table_free(struct table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->ncols; i++)
		free(t->cols[i]);
	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cols);
	free(t->num);
	free(t->cells);
	free(t);
}

/* Display width of UTF-8 text: code points, good enough for tables. */
static size_t
width(const char *s)
{
	size_t w = 0;

	for (; *s != '\0'; s++) {
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	}
	return w;
}

/*
 * A CSV cell: inert like a table's, and never the start of a formula in a
 * spreadsheet (OWASP, CSV injection): '=', '+', '-', '@', tab or CR first
 * get a "'" before them.
 */
static void
csv_cell(struct buf *b, const char *cell)
{
	char *s = inert_str(cell), *p;
	const char *quote = inert_csv_formula(cell) ? "'" : "";

	if (strpbrk(s, ",\"") == NULL) {
		buf_printf(b, "%s%s", quote, s);
		free(s);
		return;
	}
	buf_printf(b, "\"%s", quote);
	for (p = s; *p != '\0'; p++) {
		if (*p == '"')
			(void)buf_adds(b, "\"");
		(void)buf_add(b, p, 1);
	}
	(void)buf_adds(b, "\"");
	free(s);
}

/* A cell in JSON: a number column's integers as numbers, else text. */
static json_t *
json_cell(const char *cell, int num)
{
	long long v;
	char *end;

	if (num && *cell != '\0' && *cell != ' ') {
		errno = 0;
		v = strtoll(cell, &end, 10);
		if (errno == 0 && *end == '\0')
			return json_integer(v);
	}
	return json_string(cell);
}

#define TABLE_GAP	2	/* spaces between columns */
#define TABLE_MIN	6	/* a column narrowed keeps this much */

/*
 * Narrow the widths w of n columns so a line fits cols (0: no limit):
 * the columns narrower than a fair share keep their width, the wider ones
 * share what is left equally. Nothing changes if the table fits.
 */
static void
table_fit(size_t *w, size_t n, int cols)
{
	size_t total = TABLE_GAP * (n - 1), left, share, nwide, i;
	int *fixed, changed;

	for (i = 0; i < n; i++)
		total += w[i];
	if (cols <= 0 || total <= (size_t)cols)
		return;
	fixed = xcalloc(n, sizeof(*fixed));
	left = (size_t)cols > TABLE_GAP * (n - 1) ? (size_t)cols -
	    TABLE_GAP * (n - 1) : 0;
	nwide = n;
	do {
		changed = 0;
		share = left / nwide;
		for (i = 0; i < n; i++) {
			if (!fixed[i] && w[i] <= share) {
				fixed[i] = 1;
				left -= w[i];
				nwide--;
				changed = 1;
			}
		}
	} while (changed && nwide > 0);
	for (i = 0; i < n && nwide > 0; i++) {
		if (fixed[i])
			continue;
		share = left / nwide--;
		w[i] = share < TABLE_MIN ? TABLE_MIN : share;
		left -= share;
	}
	free(fixed);
}

/* One code point of UTF-8 on from s. */
static const char *
next_cp(const char *s)
{
	for (s++; ((unsigned char)*s & 0xc0) == 0x80; s++)
		;
	return s;
}

/*
 * The next line of a cell wrapped at width w: its length in bytes, and in
 * *rest what follows. It breaks at the last space that fits, else (one
 * long word) after w code points.
 */
static size_t
wrap_line(const char *s, size_t w, const char **rest)
{
	const char *p = s, *brk = NULL;
	size_t n = 0, len;

	for (; *p != '\0' && n < w; p = next_cp(p), n++) {
		if (*p == ' ' && p > s)
			brk = p;
	}
	if (*p == '\0') {
		*rest = p;
		return (size_t)(p - s);
	}
	if (*p == ' ')
		brk = p;
	if (brk != NULL)
		p = brk;
	len = (size_t)(p - s);
	while (*p == ' ')
		p++;
	*rest = p;
	return len;
}

/* Display width of the first n bytes of s. */
static size_t
widthn(const char *s, size_t n)
{
	size_t w = 0, i;

	for (i = 0; i < n; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			w++;
	}
	return w;
}

/* Row r (0: the header) in widths w: more lines if a cell wraps. */
static void
table_row(struct ctx *c, const struct table *t, size_t r, const size_t *w)
{
	const char **at = xcalloc(t->ncols, sizeof(*at)), *from;
	size_t i, len, last, line;
	int more = 1;

	for (i = 0; i < t->ncols; i++)
		at[i] = r == 0 ? t->cols[i] : t->cells[(r - 1) * t->ncols + i];
	for (line = 0; more; line++) {
		/* A line after the first ends with its last cell. */
		last = t->ncols - 1;
		while (line > 0 && last > 0 && *at[last] == '\0')
			last--;
		if (r == 0 && c->color)
			(void)buf_adds(&c->out, "\033[1m");
		more = 0;
		for (i = 0; i <= last; i++) {
			from = at[i];
			len = wrap_line(from, w[i] > 0 ? w[i] : 1, &at[i]);
			(void)buf_add(&c->out, from, len);
			if (i < last)
				ctx_printf(c, "%*s", (int)(w[i] - widthn(from,
				    len) + TABLE_GAP), "");
			more |= *at[i] != '\0';
		}
		if (r == 0 && c->color)
			(void)buf_adds(&c->out, "\033[0m");
		(void)buf_adds(&c->out, "\n");
	}
	free(at);
}

/* A table for a terminal: aligned, fitted to c->cols when it is known. */
static void
table_render(struct ctx *c, struct table *t)
{
	size_t r, i, *w;
	char *s;

	/* What a terminal shows: every cell inert (the JSON stays exact). */
	for (i = 0; i < t->nrows * t->ncols; i++) {
		s = inert_str(t->cells[i]);
		free(t->cells[i]);
		t->cells[i] = s;
	}
	w = xcalloc(t->ncols, sizeof(*w));
	for (i = 0; i < t->ncols; i++) {
		w[i] = width(t->cols[i]);
		for (r = 0; r < t->nrows; r++) {
			size_t cw = width(t->cells[r * t->ncols + i]);

			if (cw > w[i])
				w[i] = cw;
		}
	}
	table_fit(w, t->ncols, c->cols);
	for (r = 0; r <= t->nrows; r++)
		table_row(c, t, r, w);
	free(w);
}

json_t *
table_rows(const struct table *t)
{
	json_t *rows = json_array();
	size_t r, i;

	for (r = 0; r < t->nrows; r++) {
		json_t *o = json_object();

		for (i = 0; i < t->ncols; i++)
			json_object_set_new(o, t->cols[i], json_cell(
			    t->cells[r * t->ncols + i], t->num[i]));
		json_array_append_new(rows, o);
	}
	return rows;
}

void
ctx_table(struct ctx *c, const char *key, struct table *t)
{
	size_t r, i;
	char *s;

	if (c->data == NULL)
		c->data = json_object();
	json_object_set_new(c->data, key, table_rows(t));

	switch (c->format) {
	case FMT_JSON:
		s = json_dumps(c->data, JSON_INDENT(2) | JSON_SORT_KEYS);
		ctx_printf(c, "%s\n", s);
		free(s);
		return;
	case FMT_CSV:
		for (r = 0; r <= t->nrows; r++) {
			for (i = 0; i < t->ncols; i++) {
				if (i > 0)
					(void)buf_adds(&c->out, ",");
				csv_cell(&c->out, r == 0 ? t->cols[i] :
				    t->cells[(r - 1) * t->ncols + i]);
			}
			(void)buf_adds(&c->out, "\n");
		}
		return;
	case FMT_TABLE:
		break;
	}
	table_render(c, t);
}
