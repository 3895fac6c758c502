/*
 * auth.c - passwords (argon2id through libsodium, verified in constant
 * time), generated passwords, and session tokens (random, stored hashed).
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

#include "labcd.h"
#include "xmalloc.h"

/*
 * Each argon2id check takes 64 MiB: at most AUTH_PARALLEL run at once
 * (16 at once took labcd from 78 MB to 869 MB); the others queue, for at
 * most AUTH_WAIT seconds, then get -EBUSY. Anonymous gateway sessions
 * (SSH keys are free to make) hold at most AUTH_ANON of them, so members,
 * root and admins always find one.
 */
#define AUTH_PARALLEL	2
#define AUTH_WAIT	20
#define AUTH_ANON	1

static pthread_mutex_t auth_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t auth_free = PTHREAD_COND_INITIALIZER;
static int auth_running, auth_anon;

static int
auth_full(int anon)
{
	return auth_running >= AUTH_PARALLEL || (anon && auth_anon >= AUTH_ANON);
}

static int
auth_enter(int anon)
{
	struct timespec until;
	int r = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += AUTH_WAIT;
	pthread_mutex_lock(&auth_lock);
	while (auth_full(anon) && r == 0)
		if (pthread_cond_timedwait(&auth_free, &auth_lock, &until) ==
		    ETIMEDOUT && auth_full(anon))
			r = -EBUSY;
	if (r == 0) {
		auth_running++;
		auth_anon += anon != 0;
	}
	pthread_mutex_unlock(&auth_lock);
	return r;
}

static void
auth_leave(int anon)
{
	pthread_mutex_lock(&auth_lock);
	auth_running--;
	auth_anon -= anon != 0;
	/* All: the one woken may be anonymous and unable to go on. */
	pthread_cond_broadcast(&auth_free);
	pthread_mutex_unlock(&auth_lock);
}

static int
hash_now(const char *password, char out[128])
{
	return crypto_pwhash_str_alg(out, password, strlen(password),
	    crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE,
	    crypto_pwhash_ALG_ARGON2ID13) == 0 ? 0 : -1;
}

int
auth_hash(const char *password, char out[128])
{
	int r;

	if ((r = auth_enter(0)) != 0)
		return r;
	r = hash_now(password, out);
	auth_leave(0);
	return r;
}

/* Checked against when there is no hash: the same work, never a match. */
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char dummy[128];

static void
make_dummy(void)
{
	(void)hash_now("labcontainers: no such user", dummy);
}

int
auth_verify(const char *hash, const char *password, int anon)
{
	int none = hash == NULL || *hash == '\0', r;

	if ((r = auth_enter(anon)) != 0)
		return r;
	pthread_once(&dummy_once, make_dummy);
	r = crypto_pwhash_str_verify(none ? dummy : hash, password,
	    strlen(password)) == 0 && !none ? 0 : -1;
	auth_leave(anon);
	return r;
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
