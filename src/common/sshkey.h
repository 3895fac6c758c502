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
/* "type base64 comment" (no comment part if empty); caller frees. */
char	*sshkey_format(const struct sshkey *k);

#endif
