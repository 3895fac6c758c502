/*
 * auth.c - passwords (argon2id through libsodium, verified in constant
 * time), generated passwords, and session tokens (random, stored hashed).
 */
#include <string.h>
#include <sodium.h>

#include "labcd.h"
#include "xmalloc.h"

int
auth_hash(const char *password, char out[128])
{
	return crypto_pwhash_str_alg(out, password, strlen(password),
	    crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE,
	    crypto_pwhash_ALG_ARGON2ID13) == 0 ? 0 : -1;
}

int
auth_verify(const char *hash, const char *password)
{
	if (hash == NULL || *hash == '\0')
		return -1;
	return crypto_pwhash_str_verify(hash, password, strlen(password));
}

char *
auth_generate(void)
{
	/* No 0/O, 1/l/I: read aloud or copied from paper without doubt. */
	static const char alphabet[] =
	    "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	char *p = xmalloc(17);
	int i;

	for (i = 0; i < 16; i++)
		p[i] = alphabet[randombytes_uniform(sizeof(alphabet) - 1)];
	p[16] = '\0';
	return p;
}

void
auth_token_hash(const char *token, char hash[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
	sodium_bin2hex(hash, 65, h, sizeof(h));
}

char *
auth_new_token(char hash[65])
{
	unsigned char raw[32];
	char *tok = xmalloc(sodium_base64_ENCODED_LEN(sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING));

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(tok, sodium_base64_ENCODED_LEN(sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING), raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
	auth_token_hash(tok, hash);
	return tok;
}

const char *
auth_weak(const char *password, const char *user)
{
	size_t n = strlen(password);

	if (n < 8)
		return "a password needs at least 8 characters";
	if (n > 1024)
		return "a password may have at most 1024 characters";
	if (user != NULL && strcmp(password, user) == 0)
		return "a password may not be the user name";
	return NULL;
}
