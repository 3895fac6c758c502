/*
 * fuzz-sshkey.c - the public key line a lab user pastes (sshkey_parse).
 * Checked beyond "no crash":
 * - a refusal leaves the key zeroed and says why in printable text;
 * - an accepted key is one of the accepted types with a sane size, its
 *   comment is printable UTF-8 without spaces at the ends, its
 *   fingerprint is the SHA-256 of its base64 decoded here again, and
 *   sshkey_format of it parses back to the same key;
 * - a key made with the input as comment parses back with that comment,
 *   and a comment key generation refuses is refused or changed by
 *   sshkey_parse too.
 */
#include <errno.h>

#include <sodium.h>

#include "fuzz.h"
#include "sshkey.h"

/* ssh-keygen -t ed25519, without its comment */
#define ED25519 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJBOen0GnBqGbAVGC2D73HIMWUYRTXdgKPXazWMKA8Di"

static const char *const types[] = {
	"ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
	"ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com",
	"sk-ecdsa-sha2-nistp256@openssh.com",
};

static int
zeroed(const struct sshkey *k)
{
	static const struct sshkey zero;

	return memcmp(k, &zero, sizeof(zero)) == 0;
}

static void
check_fingerprint(const struct sshkey *k)
{
	size_t n = strlen(k->base64), binlen;
	unsigned char *bin = malloc(n + 1), hash[crypto_hash_sha256_BYTES];
	char fp[sizeof(k->fingerprint)];

	FUZZ_CHECK(bin != NULL);
	FUZZ_CHECK(sodium_base642bin(bin, n + 1, k->base64, n, NULL, &binlen,
	    NULL, sodium_base64_VARIANT_ORIGINAL) == 0);
	crypto_hash_sha256(hash, bin, binlen);
	memcpy(fp, "SHA256:", 7);
	sodium_bin2base64(fp + 7, sizeof(fp) - 7, hash, sizeof(hash),
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	FUZZ_CHECK(strcmp(fp, k->fingerprint) == 0);
	FUZZ_CHECK(strlen(k->fingerprint) == 7 + 43);
	free(bin);
}

static void
check_key(const struct sshkey *k)
{
	struct sshkey again;
	size_t i, n;
	char *line, err[512];
	int known = 0;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		known |= strcmp(k->type, types[i]) == 0;
	FUZZ_CHECK(known);
	if (strstr(k->type, "ed25519") != NULL)
		FUZZ_CHECK(k->bits == 256);
	else if (strcmp(k->type, "ssh-rsa") == 0)
		FUZZ_CHECK(k->bits >= 2048 && k->bits <= 16384);
	else
		FUZZ_CHECK(k->bits == 256 || k->bits == 384 || k->bits == 521);
	FUZZ_CHECK(k->base64[0] != '\0' && strpbrk(k->base64, " \t") == NULL);
	n = strlen(k->comment);
	FUZZ_CHECK(n <= SSHKEY_COMMENT_MAX);
	for (i = 0; i < n; i++)
		FUZZ_CHECK((unsigned char)k->comment[i] >= 0x20 &&
		    k->comment[i] != 0x7f);
	FUZZ_CHECK(n == 0 || (k->comment[0] != ' ' && k->comment[0] != '\t' &&
	    k->comment[n - 1] != ' ' && k->comment[n - 1] != '\t'));
	check_fingerprint(k);

	line = sshkey_format(k);
	FUZZ_CHECK(sshkey_parse(line, &again, err, sizeof(err)) == 0);
	FUZZ_CHECK(strcmp(again.type, k->type) == 0);
	FUZZ_CHECK(strcmp(again.base64, k->base64) == 0);
	FUZZ_CHECK(strcmp(again.comment, k->comment) == 0);
	FUZZ_CHECK(strcmp(again.fingerprint, k->fingerprint) == 0);
	FUZZ_CHECK(again.bits == k->bits);
	sshkey_free(&again);
	free(line);
}

/* A new key with this comment: refused, or parsed back unchanged. */
static void
check_generate(const char *comment)
{
	struct sshkey k;
	char *pub, *priv, err[512];
	int r;

	r = sshkey_generate_ed25519(comment, &pub, &priv);
	if (r != 0) {
		FUZZ_CHECK(r == -EINVAL && pub == NULL && priv == NULL);
		/* Then a pasted key with it is refused, or its comment
		   comes back changed. */
		if (asprintf(&pub, "%s %s", ED25519, comment) < 0)
			abort();
		if (sshkey_parse(pub, &k, err, sizeof(err)) == 0) {
			FUZZ_CHECK(strcmp(k.comment, comment) != 0);
			sshkey_free(&k);
		}
		free(pub);
		return;
	}
	FUZZ_CHECK(sshkey_parse(pub, &k, err, sizeof(err)) == 0);
	FUZZ_CHECK(strcmp(k.type, "ssh-ed25519") == 0);
	FUZZ_CHECK(strcmp(k.comment, comment) == 0);
	FUZZ_CHECK(strncmp(priv, "-----BEGIN OPENSSH PRIVATE KEY-----\n",
	    36) == 0);
	sshkey_free(&k);
	free(pub);
	sodium_memzero(priv, strlen(priv));
	free(priv);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = fuzz_string(data, size), err[512];
	struct sshkey k;
	int r;

	err[0] = '\0';
	r = sshkey_parse(line, &k, err, sizeof(err));
	if (r == 0) {
		check_key(&k);
		sshkey_free(&k);
	} else {
		FUZZ_CHECK(r == -EINVAL);
		FUZZ_CHECK(zeroed(&k));
		FUZZ_CHECK(err[0] != '\0' && fuzz_printable(err));
	}
	/* Key generation is slow: only short inputs, as a comment. */
	if (size <= 64)
		check_generate(line);
	free(line);
	return 0;
}
