/*
 * inert.c - text from others made safe to show on a terminal. A container
 * name, an audit row's target or a file name in a member's container may
 * carry escape sequences (retitle the window, clear the screen, fake a
 * prompt); they are shown as \x1b or \u009b, never sent raw. labcd applies
 * it where text is stored and rendered, labc again before a terminal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inert.h"
#include "xmalloc.h"

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if none. */
static size_t
utf8_len(const unsigned char *s, size_t n, unsigned *cp)
{
	size_t len, i;
	unsigned lo = 0x80, hi = 0xbf;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		*cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		*cp = s[0] & 0x0f;
		if (s[0] == 0xe0)
			lo = 0xa0;		/* overlong */
		else if (s[0] == 0xed)
			hi = 0x9f;		/* surrogates */
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		*cp = s[0] & 0x07;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if (s[i] < (i == 1 ? lo : 0x80) || s[i] > (i == 1 ? hi : 0xbf))
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	return len;
}

/* A code point that moves or hides text: C1, line separators, bidi. */
static int
hostile(unsigned cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* Length of a colour sequence ESC [ digits/; m at s, 0 if none. */
static size_t
sgr_len(const char *s, size_t n)
{
	size_t i;

	if (n < 3 || s[0] != '\033' || s[1] != '[')
		return 0;
	for (i = 2; i < n && i < 32; i++) {
		if (s[i] == 'm')
			return i + 1;
		if ((s[i] < '0' || s[i] > '9') && s[i] != ';')
			return 0;
	}
	return 0;
}

void
inert_add(struct buf *b, const char *s, size_t n, int flags)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, start = 0, len;
	unsigned cp;
	char esc[16];

	while (i < n) {
		len = 0;
		if (u[i] >= 0x20 && u[i] < 0x7f) {
			i++;
			continue;
		}
		if ((flags & INERT_LINES) && (u[i] == '\n' || u[i] == '\t')) {
			i++;
			continue;
		}
		if ((flags & INERT_SGR) && (len = sgr_len(s + i, n - i)) > 0) {
			i += len;
			continue;
		}
		if (u[i] >= 0x80 && (len = utf8_len(u + i, n - i, &cp)) > 0 &&
		    !hostile(cp)) {
			i += len;
			continue;
		}
		(void)buf_add(b, s + start, i - start);
		if (u[i] >= 0x80 && len > 0) {
			snprintf(esc, sizeof(esc), "\\u%04x", cp);
			i += len;
		} else
			snprintf(esc, sizeof(esc), "\\x%02x", u[i++]);
		(void)buf_adds(b, esc);
		start = i;
	}
	(void)buf_add(b, s + start, i - start);
}

char *
inert_str(const char *s)
{
	struct buf b = BUF_INIT(0);

	inert_add(&b, s, strlen(s), 0);
	return buf_steal(&b);
}

void
inert_copy(char *out, size_t outsz, const char *s)
{
	char *t = inert_str(s);
	size_t n = strlen(t), p, el;

	if (n >= outsz) {
		n = outsz - 1;
		/* Not in the middle of a UTF-8 character... */
		while (n > 0 && ((unsigned char)t[n] & 0xc0) == 0x80)
			n--;
		/* ...nor of an escape: \xNN or \uNNNN. */
		for (p = n >= 5 ? n - 5 : 0; p < n; p++) {
			if (t[p] != '\\')
				continue;
			el = p + 1 >= n ? 2 : t[p + 1] == 'x' ? 4 :
			    t[p + 1] == 'u' ? 6 : 0;
			if (p + el > n) {
				n = p;
				break;
			}
		}
	}
	memcpy(out, t, n);
	out[n] = '\0';
	free(t);
}

int
inert_csv_formula(const char *s)
{
	/* A lone "-" (a table's "nothing") is no formula. */
	return s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL &&
	    strcmp(s, "-") != 0;
}
