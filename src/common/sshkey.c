/*
 * sshkey.c - parse and check one OpenSSH public key line, "TYPE BASE64
 * [COMMENT]": decode the base64 with libsodium, walk the SSH wire format of
 * the key blob strictly (RFC 4253 6.6, RFC 5656 3.1, RFC 8709, OpenSSH
 * PROTOCOL.u2f), refuse weak, obsolete or damaged keys with a message a lab
 * user can act on, and compute the fingerprint as ssh-keygen -lf prints it.
 *
 * Only the structure is checked: an ECDSA point is not verified to be on
 * its curve (libsodium has no NIST curves); sshd does that when it is used.
 *
 * It also makes new ed25519 key pairs, the private key in the unencrypted
 * openssh-key-v1 format that ssh-keygen writes (OpenSSH PROTOCOL.key).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sshkey.h"
#include "xmalloc.h"

#define RSA_MIN_BITS	2048
#define RSA_MAX_BITS	16384	/* OpenSSH's SSH_RSA_MAXIMUM_MODULUS_SIZE */
#define TYPE_SHOWN	40	/* at most this much of a bad type is quoted */
#define PRIVATE_MARK	"PRIVATE KEY-----"	/* a line with it is refused */

enum sshkey_kind { K_ED25519, K_RSA, K_ECDSA };

/* The accepted key types and what their blobs hold after the type string. */
static const struct sshkey_type {
	const char		*name;
	enum sshkey_kind	 kind;
	const char		*curve;		/* ECDSA: the blob's curve */
	size_t			 pointlen;	/* ECDSA: 0x04 || X || Y */
	int			 bits;		/* 0: from the modulus (RSA) */
	int			 sk;		/* FIDO: + application */
} sshkey_types[] = {
	{ "ssh-ed25519", K_ED25519, NULL, 0, 256, 0 },
	{ "ssh-rsa", K_RSA, NULL, 0, 0, 0 },
	{ "ecdsa-sha2-nistp256", K_ECDSA, "nistp256", 65, 256, 0 },
	{ "ecdsa-sha2-nistp384", K_ECDSA, "nistp384", 97, 384, 0 },
	{ "ecdsa-sha2-nistp521", K_ECDSA, "nistp521", 133, 521, 0 },
	{ "sk-ssh-ed25519@openssh.com", K_ED25519, NULL, 0, 256, 1 },
	{ "sk-ecdsa-sha2-nistp256@openssh.com", K_ECDSA, "nistp256", 65, 256,
	    1 },
};
#define NTYPES (sizeof(sshkey_types) / sizeof(sshkey_types[0]))

_Static_assert(sizeof(((struct sshkey *)0)->fingerprint) >= 7 +
    sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES,
    sodium_base64_VARIANT_ORIGINAL_NO_PADDING), "fingerprint too small");

static const char sshkey_truncated[] =
    "the key data is truncated (was it cut off when pasting?)";

/* A cursor over the decoded key blob. */
struct sshkey_rd {
	const unsigned char	*p;
	size_t			 left;
};

static int	sshkey_fail(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* Put a message in err (if any); always -EINVAL, for "return fail(...)". */
static int
sshkey_fail(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errsz > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errsz, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Fields are separated by blanks; the line is trimmed of any space. */
static int
sshkey_isblank(int c)
{
	return c == ' ' || c == '\t';
}

static int
sshkey_isspace(int c)
{
	return c != '\0' && strchr(" \t\n\r\v\f", c) != NULL;
}

static int
sshkey_is(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && memcmp(s, word, n) == 0;
}

static const struct sshkey_type *
sshkey_lookup(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < NTYPES; i++) {
		if (sshkey_is(s, n, sshkey_types[i].name))
			return &sshkey_types[i];
	}
	return NULL;
}

/*
 * Whether s[0..n) is well-formed UTF-8 without control characters (C0, DEL,
 * C1): the comment is shown on terminals and goes into JSON.
 */
static int
sshkey_text_ok(const unsigned char *s, size_t n)
{
	size_t i = 0, need, j;
	uint32_t c, min;

	while (i < n) {
		c = s[i++];
		if (c < 0x20 || c == 0x7f)
			return 0;
		if (c < 0x80)
			continue;
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1, c &= 0x1f, min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2, c &= 0x0f, min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3, c &= 0x07, min = 0x10000;
		} else
			return 0;
		if (n - i < need)
			return 0;
		for (j = 0; j < need; j++) {
			if ((s[i] & 0xc0) != 0x80)
				return 0;
			c = c << 6 | (s[i++] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff) ||
		    c < 0xa0)
			return 0;
	}
	return 1;
}

/* One uint32-length-prefixed string; 0, or -1 if the blob ends first. */
static int
sshkey_get_string(struct sshkey_rd *r, const unsigned char **s, size_t *n)
{
	uint32_t len;

	if (r->left < 4)
		return -1;
	len = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 |
	    (uint32_t)r->p[2] << 8 | (uint32_t)r->p[3];
	if (r->left - 4 < len)
		return -1;
	*s = r->p + 4;
	*n = len;
	r->p += 4 + (size_t)len;
	r->left -= 4 + (size_t)len;
	return 0;
}

/*
 * Significant bits of an mpint (big-endian, two's complement), or -1 if it
 * is negative. n is bounded by the 16 KiB line, so the result fits an int.
 */
static int
sshkey_mpint_bits(const unsigned char *p, size_t n)
{
	unsigned int top;
	int bits;

	if (n > 0 && (p[0] & 0x80) != 0)
		return -1;
	while (n > 0 && *p == 0)
		p++, n--;
	if (n == 0)
		return 0;
	bits = (int)(n - 1) * 8;
	for (top = p[0]; top != 0; top >>= 1)
		bits++;
	return bits;
}

/* Whether s[0..n) is short printable ASCII, to quote it in a message. */
static int
sshkey_quotable(const unsigned char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > TYPE_SHOWN)
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] <= 0x20 || s[i] >= 0x7f)
			return 0;
	}
	return 1;
}

/*
 * Walk a decoded blob of type t: every field present, with exact lengths
 * and nothing after the last. Sets *bits.
 */
static int
sshkey_parse_blob(const struct sshkey_type *t, const unsigned char *blob,
    size_t len, int *bits, char *err, size_t errsz)
{
	struct sshkey_rd r = { blob, len };
	const unsigned char *s, *e, *n;
	size_t slen, elen, nlen;

	if (sshkey_get_string(&r, &s, &slen) != 0)
		return sshkey_fail(err, errsz, "%s", sshkey_truncated);
	if (!sshkey_is((const char *)s, slen, t->name)) {
		if (sshkey_quotable(s, slen))
			return sshkey_fail(err, errsz, "the key data is of "
			    "type %.*s but the line says %s: copy the line "
			    "unchanged from the .pub file", (int)slen,
			    (const char *)s, t->name);
		return sshkey_fail(err, errsz, "the key data is not of type %s "
		    "but the line says so: copy the line unchanged from the "
		    ".pub file", t->name);
	}

	*bits = t->bits;
	switch (t->kind) {
	case K_ED25519:
		if (sshkey_get_string(&r, &s, &slen) != 0)
			return sshkey_fail(err, errsz, "%s", sshkey_truncated);
		if (slen != crypto_sign_ed25519_PUBLICKEYBYTES)
			return sshkey_fail(err, errsz, "the ed25519 key is %zu "
			    "bytes instead of 32: the key data is damaged",
			    slen);
		break;
	case K_RSA:
		if (sshkey_get_string(&r, &e, &elen) != 0 ||
		    sshkey_get_string(&r, &n, &nlen) != 0)
			return sshkey_fail(err, errsz, "%s", sshkey_truncated);
		if (sshkey_mpint_bits(e, elen) <= 0 ||
		    (*bits = sshkey_mpint_bits(n, nlen)) <= 0)
			return sshkey_fail(err, errsz, "the RSA exponent or "
			    "modulus is zero or negative: the key data is "
			    "damaged");
		break;
	case K_ECDSA:
		if (sshkey_get_string(&r, &s, &slen) != 0)
			return sshkey_fail(err, errsz, "%s", sshkey_truncated);
		if (!sshkey_is((const char *)s, slen, t->curve))
			return sshkey_fail(err, errsz, "the key data is for "
			    "another curve than %s, which the line says: copy "
			    "the line unchanged from the .pub file", t->curve);
		if (sshkey_get_string(&r, &s, &slen) != 0)
			return sshkey_fail(err, errsz, "%s", sshkey_truncated);
		if (slen != t->pointlen || s[0] != 0x04)
			return sshkey_fail(err, errsz, "the ECDSA point is not "
			    "an uncompressed %s point of %zu bytes: the key "
			    "data is damaged", t->curve, t->pointlen);
		break;
	}
	if (t->sk && sshkey_get_string(&r, &s, &slen) != 0)
		return sshkey_fail(err, errsz, "%s", sshkey_truncated);
	if (r.left != 0)
		return sshkey_fail(err, errsz, "the key data has %zu "
		    "unexpected byte%s at the end: copy the line unchanged "
		    "from the .pub file", r.left, r.left == 1 ? "" : "s");

	/* Well-formed; now the policy. */
	if (t->kind == K_RSA && *bits > RSA_MAX_BITS)
		return sshkey_fail(err, errsz, "RSA key of %d bits is larger "
		    "than the %d bits OpenSSH accepts: use ssh-ed25519 "
		    "(ssh-keygen -t ed25519)", *bits, RSA_MAX_BITS);
	if (t->kind == K_RSA && *bits < RSA_MIN_BITS)
		return sshkey_fail(err, errsz, "RSA key of %d bits is too "
		    "weak: use at least %d bits, or better ssh-ed25519 "
		    "(ssh-keygen -t ed25519)", *bits, RSA_MIN_BITS);
	return 0;
}

/*
 * The first word is no key type we accept: say whether it is DSA, key
 * options (authorized_keys lets them come first), or just unknown.
 */
static int
sshkey_bad_type(const char *type, size_t typelen, const char *end,
    char *err, size_t errsz)
{
	const char *p = type + typelen, *w;
	char list[512];
	size_t i, off = 0;

	if (sshkey_is(type, typelen, "ssh-dss"))
		return sshkey_fail(err, errsz, "DSA keys (ssh-dss) are "
		    "obsolete and insecure and OpenSSH no longer accepts "
		    "them: make a new key with ssh-keygen -t ed25519");
	if (memchr(type, '=', typelen) != NULL ||
	    memchr(type, '"', typelen) != NULL ||
	    memchr(type, ',', typelen) != NULL)
		goto options;
	while (p < end) {
		while (p < end && sshkey_isblank(*p))
			p++;
		for (w = p; p < end && !sshkey_isblank(*p); p++)
			/* nothing */;
		if (sshkey_lookup(w, p - w) != NULL ||
		    sshkey_is(w, p - w, "ssh-dss"))
			goto options;
	}
	if (typelen >= 4 && memcmp(type, "AAAA", 4) == 0)
		return sshkey_fail(err, errsz, "the key type is missing: give "
		    "the whole line 'TYPE BASE64 [COMMENT]' from the .pub "
		    "file");

	for (i = 0; i < NTYPES; i++)
		off += snprintf(list + off, sizeof(list) - off, "%s%s",
		    i == 0 ? "" : ", ", sshkey_types[i].name);
	if (sshkey_quotable((const unsigned char *)type, typelen))
		return sshkey_fail(err, errsz, "unknown key type '%.*s': the "
		    "accepted types are %s", (int)typelen, type, list);
	return sshkey_fail(err, errsz, "unknown key type: the accepted types "
	    "are %s", list);

options:
	return sshkey_fail(err, errsz, "key options are not accepted; give "
	    "only 'TYPE BASE64 [COMMENT]'");
}

int
sshkey_parse(const char *line, struct sshkey *k, char *err, size_t errsz)
{
	const struct sshkey_type *t;
	const char *p, *end, *type, *b64, *comment;
	size_t len, typelen, b64len, commentlen, binmax, binlen;
	unsigned char *bin = NULL, hash[crypto_hash_sha256_BYTES];
	int bits = 0, r;

	memset(k, 0, sizeof(*k));
	if (err != NULL && errsz > 0)
		*err = '\0';
	if (sodium_init() < 0) {
		if (err != NULL && errsz > 0)
			snprintf(err, errsz, "libsodium could not start");
		return -EIO;
	}

	len = strnlen(line, SSHKEY_LINE_MAX + 1);
	if (len > SSHKEY_LINE_MAX)
		return sshkey_fail(err, errsz, "the key line is longer than "
		    "%d KiB: give only the one line of your .pub file",
		    SSHKEY_LINE_MAX / 1024);
	for (p = line, end = line + len; p < end && sshkey_isspace(*p); p++)
		/* nothing */;
	while (end > p && sshkey_isspace(end[-1]))
		end--;
	if (p == end)
		return sshkey_fail(err, errsz, "the key is empty: paste the "
		    "whole line of your public key file, e.g. "
		    "~/.ssh/id_ed25519.pub");
	if (memmem(p, end - p, PRIVATE_MARK, strlen(PRIVATE_MARK)) != NULL)
		return sshkey_fail(err, errsz, "this is a private key: never "
		    "give it away; give the public key (the .pub file) "
		    "instead");
	if (memchr(p, '\n', end - p) != NULL ||
	    memchr(p, '\r', end - p) != NULL)
		return sshkey_fail(err, errsz, "the key is more than one line: "
		    "give a single key, on one line (join it back if it was "
		    "wrapped)");

	/* TYPE, BASE64, and the rest is the comment. */
	for (type = p; p < end && !sshkey_isblank(*p); p++)
		/* nothing */;
	typelen = p - type;
	while (p < end && sshkey_isblank(*p))
		p++;
	for (b64 = p; p < end && !sshkey_isblank(*p); p++)
		/* nothing */;
	b64len = p - b64;
	while (p < end && sshkey_isblank(*p))
		p++;
	comment = p;
	commentlen = end - p;

	if ((t = sshkey_lookup(type, typelen)) == NULL)
		return sshkey_bad_type(type, typelen, end, err, errsz);
	if (b64len == 0)
		return sshkey_fail(err, errsz, "the key data is missing after "
		    "%s: give the whole line 'TYPE BASE64 [COMMENT]' from the "
		    ".pub file", t->name);
	if (commentlen > SSHKEY_COMMENT_MAX)
		return sshkey_fail(err, errsz, "the comment is %zu bytes long; "
		    "the limit is %d: shorten it", commentlen,
		    SSHKEY_COMMENT_MAX);
	if (!sshkey_text_ok((const unsigned char *)comment, commentlen))
		return sshkey_fail(err, errsz, "the comment has a control "
		    "character or is not UTF-8: use printable text only");

	/* Padding is required, so 4 characters give at most 3 bytes. */
	binmax = b64len / 4 * 3;
	bin = xmalloc(binmax);
	if (sodium_base642bin(bin, binmax, b64, b64len, NULL, &binlen, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0) {
		r = sshkey_fail(err, errsz, "the key data is not valid base64 "
		    "(was it cut off when pasting?)");
		goto out;
	}
	bin = xrealloc(bin, binlen);	/* exact, so ASan sees an overread */
	if ((r = sshkey_parse_blob(t, bin, binlen, &bits, err, errsz)) != 0)
		goto out;

	crypto_hash_sha256(hash, bin, binlen);
	memcpy(k->fingerprint, "SHA256:", 7);
	sodium_bin2base64(k->fingerprint + 7, sizeof(k->fingerprint) - 7, hash,
	    sizeof(hash), sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	k->type = xstrdup(t->name);
	k->base64 = xstrndup(b64, b64len);
	k->comment = xstrndup(comment, commentlen);
	k->bits = bits;
	r = 0;
out:
	free(bin);
	return r;
}

void
sshkey_free(struct sshkey *k)
{
	free(k->type);
	free(k->base64);
	free(k->comment);
	memset(k, 0, sizeof(*k));
}

char *
sshkey_format(const struct sshkey *k)
{
	return xasprintf("%s %s%s%s", k->type, k->base64,
	    *k->comment != '\0' ? " " : "", k->comment);
}

/*
 * Key generation. Everything is written into buffers of exactly the size
 * needed, never grown: a realloc would leave a copy of the secret key in
 * freed memory where no sodium_memzero can reach it.
 */
#define ED25519_NAME	"ssh-ed25519"
#define ED25519_NAMELEN	(sizeof(ED25519_NAME) - 1)
#define OPENSSH_MAGIC	"openssh-key-v1"	/* written with its NUL */
#define OPENSSH_BEGIN	"-----BEGIN OPENSSH PRIVATE KEY-----\n"
#define OPENSSH_END	"-----END OPENSSH PRIVATE KEY-----\n"
#define OPENSSH_WRAP	70	/* base64 columns, as ssh-keygen */
#define OPENSSH_BLOCK	8	/* the "none" cipher's block size */
#define SSH_STRLEN(n)	(4 + (n))	/* uint32 length + bytes */
#define ED25519_BLOBLEN	(SSH_STRLEN(ED25519_NAMELEN) + \
			    SSH_STRLEN(crypto_sign_ed25519_PUBLICKEYBYTES))

/* A cursor over a buffer sized in advance. */
struct sshkey_wr {
	unsigned char	*p;
	size_t		 len;
	size_t		 cap;
};

static void
sshkey_put(struct sshkey_wr *w, const void *p, size_t n)
{
	if (w->cap - w->len < n)
		abort();	/* a size computed wrongly is a bug */
	memcpy(w->p + w->len, p, n);
	w->len += n;
}

static void
sshkey_put_u32(struct sshkey_wr *w, uint32_t v)
{
	unsigned char b[4];

	b[0] = v >> 24;
	b[1] = v >> 16;
	b[2] = v >> 8;
	b[3] = v;
	sshkey_put(w, b, sizeof(b));
}

static void
sshkey_put_string(struct sshkey_wr *w, const void *p, size_t n)
{
	sshkey_put_u32(w, (uint32_t)n);
	sshkey_put(w, p, n);
}

/* Base64 of p[0..n), in a new string; caller wipes it if p is secret. */
static char *
sshkey_base64(const unsigned char *p, size_t n)
{
	size_t len = sodium_base64_ENCODED_LEN(n,
	    sodium_base64_VARIANT_ORIGINAL);
	char *s = xmalloc(len);

	sodium_bin2base64(s, len, p, n, sodium_base64_VARIANT_ORIGINAL);
	return s;
}

/* The openssh-key-v1 blob for (pk, sk); *len set, caller wipes and frees. */
static unsigned char *
sshkey_openssh_blob(const unsigned char *pk, const unsigned char *sk,
    const char *comment, size_t commentlen, size_t *len)
{
	struct sshkey_wr w;
	size_t seclen, padded, i;
	uint32_t check;
	unsigned char pad;

	seclen = 4 + 4 + SSH_STRLEN(ED25519_NAMELEN) +
	    SSH_STRLEN(crypto_sign_ed25519_PUBLICKEYBYTES) +
	    SSH_STRLEN(crypto_sign_ed25519_SECRETKEYBYTES) +
	    SSH_STRLEN(commentlen);
	padded = (seclen + OPENSSH_BLOCK - 1) / OPENSSH_BLOCK * OPENSSH_BLOCK;
	w.cap = sizeof(OPENSSH_MAGIC) + SSH_STRLEN(4) + SSH_STRLEN(4) +
	    SSH_STRLEN(0) + 4 + SSH_STRLEN(ED25519_BLOBLEN) +
	    SSH_STRLEN(padded);
	w.p = xmalloc(w.cap);
	w.len = 0;

	sshkey_put(&w, OPENSSH_MAGIC, sizeof(OPENSSH_MAGIC));
	sshkey_put_string(&w, "none", 4);	/* cipher */
	sshkey_put_string(&w, "none", 4);	/* kdf */
	sshkey_put_string(&w, "", 0);		/* kdf options */
	sshkey_put_u32(&w, 1);			/* number of keys */
	sshkey_put_u32(&w, ED25519_BLOBLEN);	/* the public key blob */
	sshkey_put_string(&w, ED25519_NAME, ED25519_NAMELEN);
	sshkey_put_string(&w, pk, crypto_sign_ed25519_PUBLICKEYBYTES);

	/* The private section, which a passphrase would encrypt. */
	sshkey_put_u32(&w, padded);
	check = randombytes_random();
	sshkey_put_u32(&w, check);
	sshkey_put_u32(&w, check);
	sshkey_put_string(&w, ED25519_NAME, ED25519_NAMELEN);
	sshkey_put_string(&w, pk, crypto_sign_ed25519_PUBLICKEYBYTES);
	sshkey_put_string(&w, sk, crypto_sign_ed25519_SECRETKEYBYTES);
	sshkey_put_string(&w, comment, commentlen);
	for (i = seclen; i < padded; i++) {
		pad = i - seclen + 1;
		sshkey_put(&w, &pad, 1);
	}
	if (w.len != w.cap)
		abort();
	sodium_memzero(&check, sizeof(check));
	*len = w.len;
	return w.p;
}

int
sshkey_generate_ed25519(const char *comment, char **pub, char **priv)
{
	unsigned char pk[crypto_sign_ed25519_PUBLICKEYBYTES];
	unsigned char sk[crypto_sign_ed25519_SECRETKEYBYTES];
	unsigned char pubblob[ED25519_BLOBLEN], *blob;
	struct sshkey_wr w = { pubblob, 0, sizeof(pubblob) };
	size_t commentlen, bloblen, b64len, size, n, i;
	char *b64, *out, *o;

	*pub = *priv = NULL;
	if (comment == NULL)
		comment = "";
	commentlen = strnlen(comment, SSHKEY_COMMENT_MAX + 1);
	/* What sshkey_parse would give back, so no space at either end. */
	if (commentlen > SSHKEY_COMMENT_MAX ||
	    !sshkey_text_ok((const unsigned char *)comment, commentlen) ||
	    (commentlen > 0 && (comment[0] == ' ' ||
	    comment[commentlen - 1] == ' ')) ||
	    memmem(comment, commentlen, PRIVATE_MARK,
	    strlen(PRIVATE_MARK)) != NULL)
		return -EINVAL;
	if (sodium_init() < 0)
		return -EIO;

	crypto_sign_ed25519_keypair(pk, sk);

	sshkey_put_string(&w, ED25519_NAME, ED25519_NAMELEN);
	sshkey_put_string(&w, pk, sizeof(pk));
	b64 = sshkey_base64(pubblob, sizeof(pubblob));
	*pub = xasprintf("%s %s%s%s", ED25519_NAME, b64,
	    commentlen > 0 ? " " : "", comment);
	free(b64);

	blob = sshkey_openssh_blob(pk, sk, comment, commentlen, &bloblen);
	sodium_memzero(sk, sizeof(sk));
	b64 = sshkey_base64(blob, bloblen);
	sodium_memzero(blob, bloblen);
	free(blob);

	/* Armour, and a newline after every OPENSSH_WRAP columns. */
	b64len = strlen(b64);
	size = strlen(OPENSSH_BEGIN) + b64len +
	    (b64len + OPENSSH_WRAP - 1) / OPENSSH_WRAP + sizeof(OPENSSH_END);
	o = out = xmalloc(size);
	memcpy(o, OPENSSH_BEGIN, strlen(OPENSSH_BEGIN));
	o += strlen(OPENSSH_BEGIN);
	for (i = 0; i < b64len; i += OPENSSH_WRAP) {
		n = b64len - i < OPENSSH_WRAP ? b64len - i : OPENSSH_WRAP;
		memcpy(o, b64 + i, n);
		o += n;
		*o++ = '\n';
	}
	memcpy(o, OPENSSH_END, sizeof(OPENSSH_END));
	sodium_memzero(b64, b64len);
	free(b64);
	*priv = out;
	return 0;
}
