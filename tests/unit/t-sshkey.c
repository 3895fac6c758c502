/*
 * t-sshkey.c - the public key line parser: real keys made by ssh-keygen
 * (OpenSSH 9.2) with the fingerprints ssh-keygen -lf printed for them,
 * every refusal with its message, and a mutation loop meant for the ASan
 * build (make SAN=1). Then key generation: the layout of the private key
 * read back by hand, and ssh-keygen (when installed) reading, re-writing
 * and signing with it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "buf.h"
#include "sshkey.h"
#include "test.h"
#include "xmalloc.h"

/* ssh-keygen -t ed25519 -C alice@lab */
#define ED25519 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJBOen0GnBqGbAVGC2D73HIMWUYRTXdgKPXazWMKA8Di alice@lab"
#define ED25519_FP "SHA256:GGo8qbuiyBlp0cTgLLid9SuYCUvmCxnKw0Y5Knq4BPw"
/* ssh-keygen -t ed25519 -C '' (it writes a trailing space) */
#define ED25519_NC "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOvSAEBQn85N1jj1inUN+Dh2422JS0Ze6fIIYGmurIbh "
#define ED25519_NC_FP "SHA256:QYstXx3uD64+xEwigq84fyHlRJEwO8Y0kpzWWQLqT9c"
/* ssh-keygen -t rsa -b 1024 (it still makes them; we refuse them) */
#define RSA1024 "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQCpzuX7NNX92Cjac4pta7z6+B+MXdIiopQpEDGyK/JUlNAquAnmeyJWVzeWWte6NBXFE4TP8ks3rG/sMs6vNIohuNqSXK83BSiCC5N0wJwKNuww/6tqDjjuM4KAaA5gJ49Y/YFjolIxshxd9QvF/fn0BljpQQ070VEc+SHBBV/2IQ== old@lab"
#define RSA2048 "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDNDyXNKH1S5ydLgf/IQh3gs0NmwwB24KJ7CYL96rZR8HfkkXHE3+PRh73slJwuM9D/mZrvTvNDno2PsjoJsCeeOtCq4JwI0aQrRydNvCVKIKC46k1kuB4YxSgpf1mj8nawXcQNQ0XR818H2N6zR+qvXWVkw520kG5rXqVqsP8N2r49wXOnPp36sWq9Ul+6UShTTpnEKHUDJyU5pHHGaMqtsVgYwvd1DTOxww8UV0xQ6pNPeDonJDlIxyaQaC+xdtQWQCzh83xy0aR3fzaaKLDwatxWnKbZu0P3lcRpsbafY939zzKK4Pjajjvef+L3e8aHapkdOE8A8ympdgqIncKN bob@lab"
#define RSA2048_FP "SHA256:1ulgcocGY5/ZvuOQ2VlJvJUFAwcHURA6lSdglCoIKYY"
#define RSA3072 "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQDdFfypFwBsdSWJc8vh+J4X5N9Kdd+nNkablKKkB08UKt4ov0nQIHRKQKvS8ICXygq7bUUmnsRQl5nULYtmkurDIa7g5u7khpvpNRSLO12IJg4E5Kp/QlENgIsHiKgye9vg5BqaMfY5yQwN9P8RhSCdYaFILR/PbiDkpBijvoIt/aTsmx+WmD8JljXQbl4jOmzbb8jTmHGhwh8Ij6ZOUr0+wEeqZBmzrTF013jD8hPtR5/4TbKQAsDaP31ika8ElLJDCkJCU+9VgMUM/W0EuBGj9gTwtN/Or4IWa89rfuDgo1PahFNz1MS7r13mDYkBeNmsEE7dOX17SX3xEONiYIuZYkUbbOIoOv1dvg2nPw3VXO0nMl49HUnanqFpG33rqQ08hJOUcdMNXqXU+ynuZ3HZlUmEbSGn7434Tfb9eVOs0SNPVFFwy202/UJBtvwFH3Fzj0E+HP5ZIcpYTutLFxPfJLQ783ovP8RCwbEPBIjLQ5dp0RalvDbwg7+l/OOiaYc= carol smith laptop"
#define RSA3072_FP "SHA256:04lmISDTTZWYKdJj1IJPntAWm8p1Bv2DA2a97yipBdY"
#define EC256 "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBOTPnP6MzDa4mhsb4bAGJNEv++i8REv3D5MksWZ9JqjFiyN+iSqgJjfEMUlb1MUN/xxey0bR4g8NNvfYTJ6lU50= e256@lab"
#define EC256_FP "SHA256:ZbmsrYXQkmk13R0bXubOAOdDPqygTbA8CUTFjUW2I+g"
#define EC384 "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBBN0ijWcNf++W4tc6afnbYcmrLWRi3KGIF5LFCshGR8nrfuGHKxcysvFaNn+9g9FleHpCrNCrISB7oHbZ0pJEu8lkCwbsr7HRTxQ6pgUU+y4r8494/KxeQPifdmGU2GMMA== e384@lab"
#define EC384_FP "SHA256:JFsv4WZ6HQwOJs0NUNNW06ME//phnb5iwa20beyM23g"
#define EC521 "ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBAGZpyW7deoPJ5pF/pnTiwFG1CHoy8PkahZyntbFngiHlrGYXyrEWoSmEOKQ1PaWk6JuHuTapcnNPHNkD1YTgEHocAB2shUpmDjggg/AN/Ubk33uGGyxn/cIzfu1SxMY80FxR+M5TyFi7wasKAHGnrQ1LqmTLUUcWzgW+plIMS+o6+rNcA== e521@lab"
#define EC521_FP "SHA256:uQtkf5YjKrnCRLpbfdrFZ0CcS+KyQZ9r3D+UuA5jL5c"
/*
 * FIDO keys need a token to make, so these were built by hand from the
 * ed25519 and nistp256 keys above with application "ssh:"; ssh-keygen -lf
 * reads them and printed these fingerprints.
 */
#define SKED "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIJBOen0GnBqGbAVGC2D73HIMWUYRTXdgKPXazWMKA8DiAAAABHNzaDo= yubi@lab"
#define SKED_FP "SHA256:bubQI+1bfA0nK/HusQXNKsvyLVxtFzjYfa1MyG9lObI"
#define SKEC "sk-ecdsa-sha2-nistp256@openssh.com AAAAInNrLWVjZHNhLXNoYTItbmlzdHAyNTZAb3BlbnNzaC5jb20AAAAIbmlzdHAyNTYAAABBBOTPnP6MzDa4mhsb4bAGJNEv++i8REv3D5MksWZ9JqjFiyN+iSqgJjfEMUlb1MUN/xxey0bR4g8NNvfYTJ6lU50AAAAEc3NoOg== yubi2@lab"
#define SKEC_FP "SHA256:krPZd8SUdjlEeLJjltJFyuN5J49FK1MFwWjX3iIUZ1c"
/* ssh-keygen -t dsa: OpenSSH 9.2 still makes them. */
#define DSA "ssh-dss AAAAB3NzaC1kc3MAAACBAJo2T2V8pW65V26n5oVHIKJFRu7kCIXBGPwRtRZlFib2dH89M7XSmxZ5QH4TRaCoFad0FgvQ1SFEOyqiZDc6FfQLvVvp3dXXf5/5Hem7PjKX/jCwXf1PHAzwdQymn9v8CbZfFphVgGZyIl0Nzf1xdTtbjDSe2PHgqBMNf00JKxuLAAAAFQCEyrg2EGGbi7L+5HcHDxVsOYxTVwAAAIBUIADGLyJiM01LiaO7idAbIit6GuQCPzowxCGjgFSVsootLfxc2A45UIQWt4mTghVv03KeuDoloLwoaQEJU7wChFSKmSJaGBZ2dBWyCCCEBLk4WsGrOjNajcw2moGk6V/jVsibYVXksF6BVYQCoLEj2DjsfalhA8mhlXwu8HajHgAAAIEAkBs8+oroawaXyuSCBOySTeXfKUlKg+ApKjF7CXjkbyA21286TCzvVyQFNLusYY9NzRIE5LTW/LzmJXXOOWME1/Q3S7y/EQXckJUWGlFvLlEYtD49Nkb/8flGZpVgOWSqrUJBjnDA9xZAtVeHBvLOy1xv1x9LvUvP6PRvn/hrMNY= dsa@lab"
/* Hand-made damaged blobs; ssh-keygen -lf says "is not a public key file". */
#define MISMATCH "ssh-ed25519 AAAAB3NzaC1yc2EAAAAgkE56fQacGoZsBUYLYPvccgxZRhFNd2Ao9drNYwoDwOI= x"
#define TRAILING "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJBOen0GnBqGbAVGC2D73HIMWUYRTXdgKPXazWMKA8DiAA== x"
#define ED_SHORT "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAH5BOen0GnBqGbAVGC2D73HIMWUYRTXdgKPXazWMKA8A= x"
#define EC_CURVE "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAzODQAAABBBOTPnP6MzDa4mhsb4bAGJNEv++i8REv3D5MksWZ9JqjFiyN+iSqgJjfEMUlb1MUN/xxey0bR4g8NNvfYTJ6lU50= x"
#define EC_COMP "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAAAhAuTPnP6MzDa4mhsb4bAGJNEv++i8REv3D5MksWZ9JqjF x"

static const struct good {
	const char	*line;
	const char	*type;
	int		 bits;
	const char	*comment;
	const char	*fp;
} goods[] = {
	{ ED25519, "ssh-ed25519", 256, "alice@lab", ED25519_FP },
	{ ED25519_NC, "ssh-ed25519", 256, "", ED25519_NC_FP },
	{ RSA2048, "ssh-rsa", 2048, "bob@lab", RSA2048_FP },
	{ RSA3072, "ssh-rsa", 3072, "carol smith laptop", RSA3072_FP },
	{ EC256, "ecdsa-sha2-nistp256", 256, "e256@lab", EC256_FP },
	{ EC384, "ecdsa-sha2-nistp384", 384, "e384@lab", EC384_FP },
	{ EC521, "ecdsa-sha2-nistp521", 521, "e521@lab", EC521_FP },
	{ SKED, "sk-ssh-ed25519@openssh.com", 256, "yubi@lab", SKED_FP },
	{ SKEC, "sk-ecdsa-sha2-nistp256@openssh.com", 256, "yubi2@lab",
	    SKEC_FP },
};
#define NGOODS (sizeof(goods) / sizeof(goods[0]))

/* Parse a line that must be refused, with word in the message. */
static void
refused(int line, const char *what, const char *word)
{
	struct sshkey k;
	char err[512];
	int r;

	memset(err, 'x', sizeof(err));
	r = sshkey_parse(what, &k, err, sizeof(err));
	CHECKF(r == -EINVAL, "line %d: got %d", line, r);
	CHECKF(err[0] != '\0' && strstr(err, word) != NULL,
	    "line %d: no '%s' in: %s", line, word, r == 0 ? "(ok)" : err);
	CHECKF(k.type == NULL && k.base64 == NULL && k.comment == NULL,
	    "line %d: fields set on error", line);
	if (r == 0)
		sshkey_free(&k);
}
#define REFUSED(what, word) refused(__LINE__, what, word)

/* A key line from a hand-built blob, to reach corners ssh-keygen won't. */
struct blob {
	unsigned char	d[8192];
	size_t		len;
};

static void
put_raw(struct blob *b, const void *p, size_t n)
{
	memcpy(b->d + b->len, p, n);
	b->len += n;
}

static void
put_string(struct blob *b, const void *p, size_t n)
{
	unsigned char l[4] = { n >> 24, n >> 16, n >> 8, n };

	put_raw(b, l, 4);
	put_raw(b, p, n);
}

static char *
blob_line(const char *type, const struct blob *b)
{
	char *b64, *line;
	size_t n = sodium_base64_ENCODED_LEN(b->len,
	    sodium_base64_VARIANT_ORIGINAL);

	b64 = xmalloc(n);
	sodium_bin2base64(b64, n, b->d, b->len, sodium_base64_VARIANT_ORIGINAL);
	line = xasprintf("%s %s test", type, b64);
	free(b64);
	return line;
}

/* An RSA blob with exponent 65537 and modulus bytes n[0..len). */
static char *
rsa_line(const unsigned char *n, size_t len)
{
	struct blob b = { .len = 0 };
	static const unsigned char e[] = { 0x01, 0x00, 0x01 };

	put_string(&b, "ssh-rsa", 7);
	put_string(&b, e, sizeof(e));
	put_string(&b, n, len);
	return blob_line("ssh-rsa", &b);
}

static void
real_keys(void)
{
	struct sshkey k;
	char err[512];
	size_t i;
	int r;

	for (i = 0; i < NGOODS; i++) {
		r = sshkey_parse(goods[i].line, &k, err, sizeof(err));
		CHECKF(r == 0, "%s: %d %s", goods[i].fp, r, err);
		if (r != 0)
			continue;
		CHECKF(strcmp(k.type, goods[i].type) == 0, "%s", k.type);
		CHECKF(k.bits == goods[i].bits, "%s: %d bits", k.type, k.bits);
		CHECKF(strcmp(k.comment, goods[i].comment) == 0, "'%s'",
		    k.comment);
		CHECKF(strcmp(k.fingerprint, goods[i].fp) == 0, "%s != %s",
		    k.fingerprint, goods[i].fp);
		CHECK(strstr(goods[i].line, k.base64) != NULL);
		sshkey_free(&k);
		CHECK(k.type == NULL);
	}
}

static void
format(void)
{
	struct sshkey k;
	char *s;
	size_t i;

	/* A zeroed struct may be freed, twice too. */
	memset(&k, 0, sizeof(k));
	sshkey_free(&k);
	sshkey_free(&k);

	for (i = 0; i < NGOODS; i++) {
		REQUIRE(sshkey_parse(goods[i].line, &k, NULL, 0) == 0);
		s = sshkey_format(&k);
		if (goods[i].comment[0] == '\0') {
			/* ssh-keygen's trailing space is not kept. */
			CHECK(strncmp(s, goods[i].line, strlen(s)) == 0);
			CHECK(strcmp(goods[i].line + strlen(s), " ") == 0);
		} else
			CHECKF(strcmp(s, goods[i].line) == 0, "%s", s);
		free(s);
		sshkey_free(&k);
	}
}

static void
whitespace(void)
{
	struct sshkey k;
	char err[512];

	REQUIRE(sshkey_parse(" \t ssh-ed25519 \t AAAAC3NzaC1lZDI1NTE5AAAAIJBOe"
	    "n0GnBqGbAVGC2D73HIMWUYRTXdgKPXazWMKA8Di\t  alice  at  lab \t\r\n",
	    &k, err, sizeof(err)) == 0);
	CHECK(strcmp(k.comment, "alice  at  lab") == 0);
	CHECK(strcmp(k.fingerprint, ED25519_FP) == 0);
	sshkey_free(&k);
	REQUIRE(sshkey_parse(ED25519 "\n", &k, err, sizeof(err)) == 0);
	CHECK(strcmp(k.comment, "alice@lab") == 0);
	sshkey_free(&k);
	/* No comment at all, and UTF-8 in one. */
	REQUIRE(sshkey_parse("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJBOen0GnBqG"
	    "bAVGC2D73HIMWUYRTXdgKPXazWMKA8Di", &k, err, sizeof(err)) == 0);
	CHECK(strcmp(k.comment, "") == 0);
	sshkey_free(&k);
	REQUIRE(sshkey_parse(RSA2048 " Zo\xc3\xab \xe2\x9c\x93", &k, err,
	    sizeof(err)) == 0);
	CHECK(strcmp(k.comment, "bob@lab Zo\xc3\xab \xe2\x9c\x93") == 0);
	sshkey_free(&k);
}

static void
refusals(void)
{
	struct sshkey k;
	char line[1024], *big;
	size_t n;

	REFUSED(RSA1024, "RSA key of 1024 bits is too weak");
	REFUSED(RSA1024, "ssh-keygen -t ed25519");
	REFUSED(DSA, "obsolete");
	REFUSED("ssh-foo AAAAC3NzaC1lZDI1NTE5 x", "unknown key type 'ssh-foo'");
	REFUSED("ssh-foo AAAAC3NzaC1lZDI1NTE5 x", "sk-ssh-ed25519@openssh.com");
	REFUSED("ssh-ed25519 !!not*base64!! x", "not valid base64");
	/* Cut in the middle: a bad length for base64, or a short blob. */
	REFUSED("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJBOen0Gn x",
	    "not valid base64");
	REFUSED("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJBOen0GnBqG x",
	    "truncated");
	REFUSED(MISMATCH, "of type ssh-rsa but the line says ssh-ed25519");
	/* A good blob under another type name. */
	REFUSED("ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIJBOen0GnBqGbAVGC2D73HIMWUYRT"
	    "XdgKPXazWMKA8Di x", "line says ssh-rsa");
	REFUSED(TRAILING, "1 unexpected byte at the end");
	REFUSED(ED_SHORT, "31 bytes instead of 32");
	REFUSED(EC_CURVE, "another curve");
	REFUSED(EC_COMP, "uncompressed");
	REFUSED("command=\"echo hi\" " ED25519, "options are not accepted");
	REFUSED("restrict,pty " ED25519, "options are not accepted");
	REFUSED("no-pty " ED25519, "options are not accepted");
	REFUSED("from=\"10.0.0.1\" " DSA, "options are not accepted");
	REFUSED(ED25519 "\n" RSA2048, "more than one line");
	REFUSED(ED25519 "\r" "x", "more than one line");
	REFUSED("", "empty");
	REFUSED(" \t\r\n ", "empty");
	REFUSED(ED25519 "\x01", "control character");
	REFUSED(ED25519 " \x1b[31mred", "control character");
	REFUSED(ED25519 " a\tb", "control character");
	REFUSED(ED25519 " \xc2\x9b" "1m", "control character");	/* C1 CSI */
	REFUSED(ED25519 " \xff", "UTF-8");
	REFUSED(ED25519 " caf\xe9", "UTF-8");
	REFUSED("ssh-ed25519", "missing");
	REFUSED("AAAAC3NzaC1lZDI1NTE5AAAAIJBOen0GnBqGbAVGC2D73HIMWUYRTXdgKPXazW"
	    "MKA8Di alice@lab", "type is missing");
	REFUSED("-----BEGIN OPENSSH PRIVATE KEY-----", "private key");
	REFUSED("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk=\n"
	    "-----END OPENSSH PRIVATE KEY-----\n", "private key");

	/* Comment: 256 bytes are fine, 257 are not. */
	n = snprintf(line, sizeof(line), "%s ", ED25519);
	memset(line + n, 'c', 256 - strlen("alice@lab "));
	line[n + 256 - strlen("alice@lab ")] = '\0';
	REQUIRE(sshkey_parse(line, &k, NULL, 0) == 0);
	CHECK(strlen(k.comment) == 256);
	sshkey_free(&k);
	strcat(line, "c");
	REFUSED(line, "comment is 257 bytes");

	/* A line of 16 KiB and one byte; then 16 KiB: zeros, no type. */
	big = xmalloc(SSHKEY_LINE_MAX + 2);
	memset(big, 'A', SSHKEY_LINE_MAX + 1);
	memcpy(big, "ssh-rsa ", 8);
	big[SSHKEY_LINE_MAX + 1] = '\0';
	REFUSED(big, "longer than 16 KiB");
	big[SSHKEY_LINE_MAX] = '\0';
	REFUSED(big, "not of type ssh-rsa");
	free(big);
}

/* RSA sizes from the modulus: leading zeros, top bits, limits. */
static void
rsa_bits(void)
{
	static unsigned char n[2100];
	struct sshkey k;
	char err[512], *line;

	/* 256 bytes with the top bit set need a zero byte in front. */
	memset(n, 0xab, sizeof(n));
	n[0] = 0;
	line = rsa_line(n, 257);
	CHECK(sshkey_parse(line, &k, err, sizeof(err)) == 0 && k.bits == 2048);
	sshkey_free(&k);
	free(line);
	/* Extra leading zeros are skipped, as OpenSSH does. */
	n[0] = n[1] = n[2] = 0;
	n[3] = 0x01;
	line = rsa_line(n, 3 + 257);
	CHECKF(sshkey_parse(line, &k, err, sizeof(err)) == 0 && k.bits == 2049,
	    "%d %s", k.bits, err);
	sshkey_free(&k);
	free(line);
	/* One bit short. */
	n[0] = 0x7f;
	line = rsa_line(n, 256);
	REFUSED(line, "RSA key of 2047 bits is too weak");
	free(line);
	/* Negative, zero, too large. */
	n[0] = 0x80;
	line = rsa_line(n, 256);
	REFUSED(line, "negative");
	free(line);
	memset(n, 0, 300);
	line = rsa_line(n, 300);
	REFUSED(line, "zero");
	free(line);
	memset(n, 0x7f, sizeof(n));
	line = rsa_line(n, 2049);
	REFUSED(line, "larger than the 16384 bits");
	free(line);
}

/*
 * A mutant of a good key is refused with a message, or is another good key
 * that survives a round trip through sshkey_format.
 */
static void
check_mutant(const char *line, const char *orig_fp, int *nok)
{
	struct sshkey k, k2;
	char err[512], *s;
	int r;

	err[0] = 'x';
	r = sshkey_parse(line, &k, err, sizeof(err));
	if (r != 0) {
		CHECKF(r == -EINVAL && err[0] != '\0' && err[0] != 'x',
		    "%d '%s' for %s", r, err, line);
		return;
	}
	(*nok)++;
	/* Base64 is canonical, so a change is always another key. */
	CHECKF(strcmp(k.fingerprint, orig_fp) != 0, "%s", line);
	s = sshkey_format(&k);
	CHECKF(sshkey_parse(s, &k2, err, sizeof(err)) == 0, "%s: %s", s, err);
	CHECK(strcmp(k.fingerprint, k2.fingerprint) == 0);
	CHECK(strcmp(k.base64, k2.base64) == 0 && k.bits == k2.bits);
	free(s);
	sshkey_free(&k2);
	sshkey_free(&k);
}

static void
mutations(void)
{
	static const char subst[] = "A/+=0 !\x7f";
	const char *b64;
	char *line, *m;
	size_t i, j, off, b64len, binlen;
	unsigned char *bin;
	struct blob b;
	int nok = 0, bit;

	for (i = 0; i < NGOODS; i++) {
		line = xstrdup(goods[i].line);
		b64 = strchr(line, ' ') + 1;
		off = b64 - line;
		b64len = strcspn(b64, " ");

		/* Each base64 character changed, and the line cut there. */
		for (j = off; j < off + b64len; j++) {
			char c = line[j];
			size_t s;

			for (s = 0; s < sizeof(subst) - 1; s++) {
				line[j] = subst[s] == c ? c ^ 1 : subst[s];
				check_mutant(line, goods[i].fp, &nok);
			}
			line[j] = c ^ 0x20;
			check_mutant(line, goods[i].fp, &nok);
			line[j] = c;
			m = xstrndup(line, j);
			check_mutant(m, goods[i].fp, &nok);
			free(m);
		}
		CHECK(strcmp(line, goods[i].line) == 0);

		/* Each bit of the blob flipped, and every shorter blob. */
		bin = xmalloc(b64len);
		REQUIRE(sodium_base642bin(bin, b64len, b64, b64len, NULL,
		    &binlen, NULL, sodium_base64_VARIANT_ORIGINAL) == 0);
		for (j = 0; j < binlen * 8; j++) {
			b.len = 0;
			put_raw(&b, bin, binlen);
			bit = 1 << (j % 8);
			b.d[j / 8] ^= bit;
			m = blob_line(goods[i].type, &b);
			check_mutant(m, goods[i].fp, &nok);
			free(m);
		}
		for (j = 0; j < binlen; j++) {
			b.len = 0;
			put_raw(&b, bin, j);
			m = blob_line(goods[i].type, &b);
			REFUSED(m, "truncated");
			free(m);
		}
		free(bin);
		free(line);
	}
	/* Flipping bits inside the key material gives other good keys. */
	CHECKF(nok > 100, "only %d mutants parsed", nok);
}

/*
 * Key generation.
 */
#define PRIV_BEGIN	"-----BEGIN OPENSSH PRIVATE KEY-----\n"
#define PRIV_END	"-----END OPENSSH PRIVATE KEY-----\n"
#define CHECKINT_OFF	98	/* where the checkints are in the v1 blob */

static void
free_priv(char *priv)
{
	if (priv != NULL) {
		sodium_memzero(priv, strlen(priv));
		free(priv);
	}
}

/* A cursor to read a v1 blob back. */
struct rd {
	const unsigned char	*p;
	size_t			 left;
};

static int
get_u32(struct rd *r, uint32_t *v)
{
	if (r->left < 4)
		return -1;
	*v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 |
	    (uint32_t)r->p[2] << 8 | r->p[3];
	r->p += 4;
	r->left -= 4;
	return 0;
}

static int
get_string(struct rd *r, const unsigned char **s, size_t *n)
{
	uint32_t len;

	if (get_u32(r, &len) != 0 || r->left < len)
		return -1;
	*s = r->p;
	*n = len;
	r->p += len;
	r->left -= len;
	return 0;
}

static int
same(const unsigned char *s, size_t n, const void *want, size_t wantlen)
{
	return n == wantlen && memcmp(s, want, n) == 0;
}
#define SAME_STR(s, n, str) same(s, n, str, strlen(str))

/*
 * The armoured text's blob, after checking the text: the markers, and
 * base64 in lines of 70 but the last. NULL on failure; caller wipes.
 */
static unsigned char *
priv_blob(const char *priv, size_t *len)
{
	const char *p, *nl, *end;
	char *b64;
	size_t n = 0, binmax;
	unsigned char *bin;

	if (strncmp(priv, PRIV_BEGIN, strlen(PRIV_BEGIN)) != 0 ||
	    strlen(priv) < strlen(PRIV_BEGIN) + strlen(PRIV_END) ||
	    strcmp(priv + strlen(priv) - strlen(PRIV_END), PRIV_END) != 0) {
		t_fail(__FILE__, __LINE__, "markers: %s", priv);
		return NULL;
	}
	end = priv + strlen(priv) - strlen(PRIV_END);
	b64 = xmalloc(end - priv);
	for (p = priv + strlen(PRIV_BEGIN); p < end; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl - p > 70 || nl == p || (nl - p < 70 && nl + 1 != end)) {
			t_fail(__FILE__, __LINE__, "a line of %d: %s",
			    (int)(nl - p), priv);
			free(b64);
			return NULL;
		}
		memcpy(b64 + n, p, nl - p);
		n += nl - p;
	}
	binmax = n / 4 * 3;
	bin = xmalloc(binmax);
	if (sodium_base642bin(bin, binmax, b64, n, NULL, len, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0) {
		t_fail(__FILE__, __LINE__, "bad base64: %s", priv);
		sodium_memzero(bin, binmax);
		free(bin);
		bin = NULL;
	}
	sodium_memzero(b64, n);
	free(b64);
	return bin;
}

/* Read the private key back field by field and check it against pub. */
static void
check_priv(const char *pub, const char *priv, const char *comment)
{
	struct sshkey k;
	struct rd r;
	const unsigned char *s, *pk, *sk, *sec;
	unsigned char *pubblob, *bin, sig[crypto_sign_ed25519_BYTES];
	unsigned char pk2[crypto_sign_ed25519_PUBLICKEYBYTES];
	size_t n, publen, binlen, seclen, i;
	uint32_t v, check1 = 0, check2 = 1;

	REQUIRE(sshkey_parse(pub, &k, NULL, 0) == 0);
	pubblob = xmalloc(strlen(k.base64));
	REQUIRE(sodium_base642bin(pubblob, strlen(k.base64), k.base64,
	    strlen(k.base64), NULL, &publen, NULL,
	    sodium_base64_VARIANT_ORIGINAL) == 0);
	sshkey_free(&k);
	if ((bin = priv_blob(priv, &binlen)) == NULL) {
		free(pubblob);
		return;
	}

	r.p = bin;
	r.left = binlen;
	CHECK(r.left > 15 && memcmp(r.p, "openssh-key-v1", 15) == 0);
	r.p += 15, r.left -= 15;
	CHECK(get_string(&r, &s, &n) == 0 && SAME_STR(s, n, "none"));
	CHECK(get_string(&r, &s, &n) == 0 && SAME_STR(s, n, "none"));
	CHECK(get_string(&r, &s, &n) == 0 && n == 0);
	CHECK(get_u32(&r, &v) == 0 && v == 1);
	CHECK(get_string(&r, &s, &n) == 0 && same(s, n, pubblob, publen));
	CHECK(r.p - bin == CHECKINT_OFF - 4);
	CHECK(get_string(&r, &sec, &seclen) == 0 && r.left == 0);
	CHECKF(seclen % 8 == 0, "private section of %zu bytes", seclen);

	r.p = sec;
	r.left = seclen;
	CHECK(get_u32(&r, &check1) == 0 && get_u32(&r, &check2) == 0);
	CHECK(check1 == check2);
	CHECK(get_string(&r, &s, &n) == 0 && SAME_STR(s, n, "ssh-ed25519"));
	CHECK(get_string(&r, &pk, &n) == 0 && n == sizeof(pk2));
	CHECK(publen == 51 && memcmp(pk, pubblob + 19, sizeof(pk2)) == 0);
	CHECK(get_string(&r, &sk, &n) == 0 &&
	    n == crypto_sign_ed25519_SECRETKEYBYTES);
	CHECK(get_string(&r, &s, &n) == 0 && SAME_STR(s, n, comment));
	CHECKF(r.left < 8, "%zu bytes of padding", r.left);
	for (i = 0; i < r.left; i++)
		CHECKF(r.p[i] == i + 1, "padding byte %zu is %u", i, r.p[i]);

	/* seed || pk, and it signs what pk verifies. */
	CHECK(memcmp(sk + 32, pk, sizeof(pk2)) == 0);
	crypto_sign_ed25519_sk_to_pk(pk2, sk);
	CHECK(memcmp(pk2, pk, sizeof(pk2)) == 0);
	crypto_sign_ed25519_detached(sig, NULL, (const unsigned char *)"hi",
	    2, sk);
	CHECK(crypto_sign_ed25519_verify_detached(sig,
	    (const unsigned char *)"hi", 2, pk) == 0);

	sodium_memzero(bin, binlen);
	free(bin);
	free(pubblob);
}

static void
generate(void)
{
	static const char *const comments[] = {
		"alice@lab", "", "carol smith laptop", "Zo\xc3\xab \xe2\x9c\x93",
	};
	struct sshkey k;
	char err[512], *pub, *priv, *s;
	size_t i;

	for (i = 0; i < sizeof(comments) / sizeof(comments[0]); i++) {
		REQUIRE(sshkey_generate_ed25519(comments[i], &pub, &priv) == 0);
		REQUIREF(sshkey_parse(pub, &k, err, sizeof(err)) == 0, "%s: %s",
		    pub, err);
		CHECK(strcmp(k.type, "ssh-ed25519") == 0);
		CHECK(k.bits == 256);
		CHECKF(strcmp(k.comment, comments[i]) == 0, "'%s'", k.comment);
		/* Already in the form sshkey_format gives: no trailing space. */
		s = sshkey_format(&k);
		CHECKF(strcmp(s, pub) == 0, "%s", pub);
		free(s);
		sshkey_free(&k);
		check_priv(pub, priv, comments[i]);
		free(pub);
		free_priv(priv);
	}

	/* NULL is the empty comment. */
	REQUIRE(sshkey_generate_ed25519(NULL, &pub, &priv) == 0);
	CHECK(strchr(pub, ' ') == strrchr(pub, ' '));
	check_priv(pub, priv, "");
	free(pub);
	free_priv(priv);
}

static void
generate_differs(void)
{
	char *pub1, *priv1, *pub2, *priv2;

	REQUIRE(sshkey_generate_ed25519("x", &pub1, &priv1) == 0);
	REQUIRE(sshkey_generate_ed25519("x", &pub2, &priv2) == 0);
	CHECK(strcmp(pub1, pub2) != 0);
	CHECK(strcmp(priv1, priv2) != 0);
	/* Same comment, so the same length. */
	CHECK(strlen(priv1) == strlen(priv2));
	free(pub1);
	free(pub2);
	free_priv(priv1);
	free_priv(priv2);
}

static void
generate_refusals(void)
{
	static const char *const bad[] = {
		"a\nb", "a\rb", "a\tb", "\x01", "x\x7f", "\x1b[31mred",
		"\xc2\x9b" "1m", "caf\xe9", "\xff", " lead", "trail ", " ",
		/* sshkey_parse would take the line for a private key
		   (found by tests/fuzz/fuzz-sshkey) */
		"jPRIVATE KEY-----A",
	};
	static char unchanged[] = "unchanged";
	char *pub, *priv, comment[SSHKEY_COMMENT_MAX + 2];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pub = priv = unchanged;
		CHECKF(sshkey_generate_ed25519(bad[i], &pub, &priv) == -EINVAL,
		    "comment %zu", i);
		CHECK(pub == NULL && priv == NULL);
	}
	/* 256 bytes are fine, 257 are not. */
	memset(comment, 'c', SSHKEY_COMMENT_MAX);
	comment[SSHKEY_COMMENT_MAX] = '\0';
	REQUIRE(sshkey_generate_ed25519(comment, &pub, &priv) == 0);
	check_priv(pub, priv, comment);
	free(pub);
	free_priv(priv);
	strcat(comment, "c");
	CHECK(sshkey_generate_ed25519(comment, &pub, &priv) == -EINVAL);
	CHECK(pub == NULL && priv == NULL);
}

/* Run a shell command; its exit status, and its output in *out. */
static int
run(char **out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int
run(char **out, const char *fmt, ...)
{
	struct buf b = BUF_INIT(1 << 20);
	char chunk[4096], *cmd;
	va_list ap;
	size_t n;
	FILE *f;
	int st;

	va_start(ap, fmt);
	cmd = xvasprintf(fmt, ap);
	va_end(ap);
	if ((f = popen(cmd, "r")) == NULL) {
		free(cmd);
		*out = xstrdup("popen failed");
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		(void)buf_add(&b, chunk, n);
	st = pclose(f);
	free(cmd);
	*out = buf_steal(&b);
	if (*out == NULL)
		*out = xstrdup("");
	return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int
write_file(const char *path, const char *data, mode_t mode)
{
	size_t len = strlen(data);
	int fd, ok;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode)) < 0)
		return -1;
	ok = write(fd, data, len) == (ssize_t)len;
	return close(fd) == 0 && ok ? 0 : -1;
}

static char *
read_file(const char *path)
{
	struct buf b = BUF_INIT(1 << 20);
	char chunk[4096];
	size_t n;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		(void)buf_add(&b, chunk, n);
	fclose(f);
	return b.data == NULL ? xstrdup("") : buf_steal(&b);
}

/*
 * ssh-keygen rewrites our key file with -p: apart from the random checkint
 * the result must be the same bytes, so we write what it writes.
 */
static void
keygen_rewrite(const char *dir, const char *priv)
{
	char *path, *out, *again = NULL;
	unsigned char *b1 = NULL, *b2 = NULL;
	size_t l1 = 0, l2 = 0, i;
	int r;

	path = xasprintf("%s/rewrite", dir);
	REQUIRE(write_file(path, priv, 0600) == 0);
	r = run(&out, "ssh-keygen -p -P '' -N '' -f '%s' 2>&1", path);
	CHECKF(r == 0, "ssh-keygen -p: %d %s", r, out);
	free(out);
	if (r == 0 && (again = read_file(path)) != NULL) {
		CHECKF(strlen(again) == strlen(priv), "%s\n%s", priv, again);
		b1 = priv_blob(priv, &l1);
		b2 = priv_blob(again, &l2);
	}
	if (b1 != NULL && b2 != NULL && l1 == l2 && l1 > CHECKINT_OFF + 8) {
		CHECK(memcmp(b1, b2, CHECKINT_OFF) == 0);
		CHECK(memcmp(b2 + CHECKINT_OFF, b2 + CHECKINT_OFF + 4, 4) == 0);
		for (i = CHECKINT_OFF + 8; i < l1 && b1[i] == b2[i]; i++)
			/* nothing */;
		CHECKF(i == l1, "byte %zu of %zu differs", i, l1);
	} else
		CHECKF(0, "could not compare: %zu %zu", l1, l2);
	if (b1 != NULL)
		sodium_memzero(b1, l1);
	if (b2 != NULL)
		sodium_memzero(b2, l2);
	free(b1);
	free(b2);
	free_priv(again);
	unlink(path);
	free(path);
}

/* What ssh-keygen says of one generated pair. */
static void
keygen_pair(const char *dir, const char *comment)
{
	struct sshkey k;
	char *pub = NULL, *priv = NULL, *key, *msg, *sig, *signers, *out;
	char *expect, *fp;
	size_t typeb64;
	int r;

	key = xasprintf("%s/id_ed25519", dir);
	msg = xasprintf("%s/msg", dir);
	sig = xasprintf("%s/msg.sig", dir);
	signers = xasprintf("%s/allowed_signers", dir);
	if (sshkey_generate_ed25519(comment, &pub, &priv) != 0 ||
	    sshkey_parse(pub, &k, NULL, 0) != 0) {
		CHECKF(0, "generate or parse failed for '%s'", comment);
		goto out;
	}
	typeb64 = strlen(k.type) + 1 + strlen(k.base64);
	CHECK(write_file(key, priv, 0600) == 0);

	/* -y: "type base64", and 9.2 adds " comment" if there is one. */
	r = run(&out, "ssh-keygen -y -f '%s' 2>&1", key);
	CHECKF(r == 0 && strncmp(out, pub, typeb64) == 0 &&
	    (strcmp(out + typeb64, "\n") == 0 ||
	    (strncmp(out, pub, strlen(pub)) == 0 &&
	    strcmp(out + strlen(pub), "\n") == 0)),
	    "-y: %d '%s' for '%s'", r, out, pub);
	free(out);

	/* -l: "256 SHA256:... comment (ED25519)". */
	r = run(&out, "ssh-keygen -l -f '%s' 2>&1", key);
	expect = xasprintf("256 %s ", k.fingerprint);
	CHECKF(r == 0 && strncmp(out, expect, strlen(expect)) == 0 &&
	    strstr(out, "(ED25519)\n") != NULL, "-l: %d '%s', not %s", r, out,
	    k.fingerprint);
	free(expect);
	free(out);

	/* Sign, and check the signature against our public key. */
	CHECK(write_file(msg, "a small file to sign\n", 0600) == 0);
	r = run(&out, "ssh-keygen -Y sign -f '%s' -n test '%s' 2>&1", key, msg);
	CHECKF(r == 0, "sign: %d %s", r, out);
	free(out);
	fp = xasprintf("ED25519 key %s\n", k.fingerprint);
	r = run(&out, "ssh-keygen -Y check-novalidate -n test -s '%s' < '%s' "
	    "2>&1", sig, msg);
	CHECKF(r == 0 && strstr(out, fp) != NULL, "check-novalidate: %d %s",
	    r, out);
	free(out);
	expect = xasprintf("lab@test %.*s\n", (int)typeb64, pub);
	CHECK(write_file(signers, expect, 0644) == 0);
	free(expect);
	r = run(&out, "ssh-keygen -Y verify -f '%s' -I lab@test -n test "
	    "-s '%s' < '%s' 2>&1", signers, sig, msg);
	CHECKF(r == 0 && strstr(out, fp) != NULL, "verify: %d %s", r, out);
	free(out);
	/* And a changed message does not verify. */
	unlink(msg);
	CHECK(write_file(msg, "a small file to sigN\n", 0600) == 0);
	r = run(&out, "ssh-keygen -Y verify -f '%s' -I lab@test -n test "
	    "-s '%s' < '%s' 2>&1", signers, sig, msg);
	CHECKF(r != 0, "verify of a changed message: %d %s", r, out);
	free(out);
	free(fp);

	keygen_rewrite(dir, priv);
	sshkey_free(&k);
out:
	unlink(key);
	unlink(msg);
	unlink(sig);
	unlink(signers);
	free(key);
	free(msg);
	free(sig);
	free(signers);
	free(pub);
	free_priv(priv);
}

static void
generate_keygen(void)
{
	char dir[] = "/tmp/labct-sshkey-XXXXXX", *out;
	int r;

	r = run(&out, "command -v ssh-keygen 2>&1");
	free(out);
	if (r != 0) {
		t_skip("ssh-keygen is not installed");
		return;
	}
	REQUIRE(mkdtemp(dir) != NULL);
	keygen_pair(dir, "alice@lab");
	keygen_pair(dir, "");
	keygen_pair(dir, "Zo\xc3\xab \xe2\x9c\x93");
	CHECKF(rmdir(dir) == 0, "%s not empty", dir);
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	RUN(real_keys);
	RUN(format);
	RUN(whitespace);
	RUN(refusals);
	RUN(rsa_bits);
	RUN(mutations);
	RUN(generate);
	RUN(generate_differs);
	RUN(generate_refusals);
	RUN(generate_keygen);
	return t_done();
}
