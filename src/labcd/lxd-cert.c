/*
 * lxd-cert.c - labcd's own client certificate for an LXD over HTTPS
 * (lxd_url): 'labcd --lxd-cert' makes the key and a self-signed
 * certificate where lxd_key and lxd_cert say, as lxc makes its own (EC
 * P-384, ten years), and prints what the admin does on the server. An
 * existing pair is never overwritten: it is shown again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lxd-cert.h"

/* fopen for writing a new file with this mode: never an existing one,
   never through a link. */
static FILE *
create_new(const char *path, mode_t mode, char *err, size_t errsz)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, mode);
	FILE *f;

	if (fd < 0) {
		snprintf(err, errsz, "cannot create %s: %s", path,
		    strerror(errno));
		return NULL;
	}
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		unlink(path);
		snprintf(err, errsz, "cannot write %s: out of memory", path);
	}
	return f;
}

static int
add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if ((e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return -1;
	ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok ? 0 : -1;
}

static X509 *
make_cert(EVP_PKEY *pk, const char *cn)
{
	unsigned char serial[16];
	X509_NAME *name;
	ASN1_INTEGER *sn = NULL;
	BIGNUM *bn = NULL;
	X509 *x = X509_new();

	if (x == NULL || RAND_bytes(serial, sizeof(serial)) != 1)
		goto fail;
	serial[0] &= 0x7f;
	if ((bn = BN_bin2bn(serial, sizeof(serial), NULL)) == NULL ||
	    (sn = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    !X509_set_serialNumber(x, sn))
		goto fail;
	if (!X509_set_version(x, 2) ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -60) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x),
	    (long)3650 * 86400) == NULL || !X509_set_pubkey(x, pk))
		goto fail;
	name = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
	    (const unsigned char *)"labcontainers", -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_issuer_name(x, name))
		goto fail;
	if (add_ext(x, NID_basic_constraints, "critical,CA:FALSE") != 0 ||
	    add_ext(x, NID_key_usage, "critical,digitalSignature") != 0 ||
	    add_ext(x, NID_ext_key_usage, "clientAuth") != 0)
		goto fail;
	if (X509_sign(x, pk, EVP_sha384()) == 0)
		goto fail;
	ASN1_INTEGER_free(sn);
	BN_free(bn);
	return x;
fail:
	ASN1_INTEGER_free(sn);
	BN_free(bn);
	X509_free(x);
	return NULL;
}

int
lxd_cert_fingerprint(const char *path, char *out, size_t outsz)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n, i;
	FILE *f = fopen(path, "re");
	X509 *x;

	if (f == NULL)
		return -errno;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (x == NULL)
		return -EINVAL;
	if (X509_digest(x, EVP_sha256(), md, &n) != 1 || outsz < 2 * n + 1) {
		X509_free(x);
		return -EINVAL;
	}
	X509_free(x);
	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

int
lxd_cert_make(const char *cert, const char *key, const char *cn, char *err,
    size_t errsz)
{
	EVP_PKEY *pk = NULL;
	X509 *x = NULL;
	FILE *kf = NULL, *cf = NULL;
	int r = -1;

	if (access(cert, F_OK) == 0 || access(key, F_OK) == 0) {
		if (access(cert, F_OK) == 0 && access(key, F_OK) == 0)
			return 1;	/* there already: kept */
		snprintf(err, errsz, "only one of %s and %s exists: move it "
		    "away first, or set both lxd_cert and lxd_key to the pair "
		    "that belongs together", cert, key);
		return -1;
	}
	if ((pk = EVP_EC_gen("secp384r1")) == NULL ||
	    (x = make_cert(pk, cn)) == NULL) {
		snprintf(err, errsz, "OpenSSL could not make the key or the "
		    "certificate");
		goto out;
	}
	if ((kf = create_new(key, 0600, err, errsz)) == NULL)
		goto out;
	if (!PEM_write_PrivateKey(kf, pk, NULL, NULL, 0, NULL, NULL) ||
	    fclose(kf) != 0) {
		kf = NULL;
		unlink(key);
		snprintf(err, errsz, "cannot write %s", key);
		goto out;
	}
	kf = NULL;
	if ((cf = create_new(cert, 0644, err, errsz)) == NULL) {
		unlink(key);
		goto out;
	}
	if (!PEM_write_X509(cf, x) || fclose(cf) != 0) {
		cf = NULL;
		unlink(cert);
		unlink(key);
		snprintf(err, errsz, "cannot write %s", cert);
		goto out;
	}
	cf = NULL;
	r = 0;
out:
	if (kf != NULL)
		fclose(kf);
	if (cf != NULL)
		fclose(cf);
	X509_free(x);
	EVP_PKEY_free(pk);
	return r;
}
