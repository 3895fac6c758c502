/* lxd-cert.h - labcd's client certificate for an LXD over HTTPS. */
#ifndef LABC_LXD_CERT_H
#define LABC_LXD_CERT_H

#include <stddef.h>

/*
 * A new EC key (mode 0600) and a self-signed client certificate for
 * it, CN cn, ten years. 0 when made, 1 when both files were there
 * already (kept, nothing written), -1 with err set.
 */
int	lxd_cert_make(const char *cert, const char *key, const char *cn,
	    char *err, size_t errsz);
/* The SHA-256 fingerprint of a PEM certificate, as LXD shows it (hex):
   0, or a negative errno. */
int	lxd_cert_fingerprint(const char *path, char *out, size_t outsz);

#endif
