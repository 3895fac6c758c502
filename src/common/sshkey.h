/*
 * sshkey.h - parse and check one OpenSSH public key line, as found in
 * authorized_keys or ~/.ssh/id_*.pub, before a lab user registers it.
 */
#ifndef LABC_SSHKEY_H
#define LABC_SSHKEY_H

#include <stddef.h>

#define SSHKEY_LINE_MAX		16384	/* bytes in the whole line */
#define SSHKEY_COMMENT_MAX	256	/* bytes in the comment */

struct sshkey {
	char	*type;		/* "ssh-ed25519", "ssh-rsa", ... */
	char	*base64;	/* the key blob as given (it is canonical) */
	char	*comment;	/* may be "" */
	char	 fingerprint[64]; /* "SHA256:...", as ssh-keygen -lf */
	int	 bits;		/* ed25519 256, RSA modulus, ECDSA curve */
};

/*
 * Parse "TYPE BASE64 [COMMENT]" (surrounding whitespace is ignored) into k,
 * which is overwritten. 0, or -EINVAL with a message in err that says what
 * is wrong and what to do (-EIO only if libsodium cannot start); on error k
 * is left zeroed. err may be NULL.
 */
int	 sshkey_parse(const char *line, struct sshkey *k, char *err,
	    size_t errsz);
void	 sshkey_free(struct sshkey *k);	/* accepts a zeroed struct */
/*
 * "type base64 comment" (no comment part if empty); caller frees. The
 * canonical line: the tests check that sshkey_parse round-trips through it.
 */
char	*sshkey_format(const struct sshkey *k);

/*
 * Make a new ed25519 key pair (libsodium crypto_sign_keypair). *pub gets the
 * public key line "ssh-ed25519 BASE64 COMMENT" (no comment part if comment
 * is empty or NULL); *priv the private key in OpenSSH's own format
 * ("-----BEGIN OPENSSH PRIVATE KEY-----", unencrypted openssh-key-v1, base64
 * wrapped at 70 columns, "-----END OPENSSH PRIVATE KEY-----\n"), exactly as
 * ssh-keygen -t ed25519 -N '' writes it. Both are caller-freed; *priv holds
 * the secret key, so wipe it with sodium_memzero(*priv, strlen(*priv))
 * before free(). 0; -EINVAL if the comment is not one sshkey_parse would
 * give back unchanged (valid UTF-8, no control characters, at most
 * SSHKEY_COMMENT_MAX bytes, no space at either end, not containing
 * "PRIVATE KEY-----", which marks a pasted private key); -EIO if libsodium
 * cannot start. On error *pub and *priv are NULL.
 */
int	 sshkey_generate_ed25519(const char *comment, char **pub, char **priv);

#endif
