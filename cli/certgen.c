/*
 * certgen.c - `rfarm certgen`: a self-signed certificate and key for a
 * first deployment, so TLS is on from day one.
 *
 * The certificate is its own CA (basicConstraints CA:TRUE), so a buildlet
 * or client can trust exactly it with --ca NAME.crt. For an IP address
 * host it carries the address both as an IP and as a DNS name: libcurl
 * matches the former, OpenSSL's host check in libwebsockets the latter.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cli.h"
#include "sha256.h"
#include "xalloc.h"

#define CERT_DAYS 825

static int add_ext(X509 *cert, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return 0;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

static int is_ip(const char *host)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

/* A new self-signed certificate for host with a fresh P-256 key. */
static X509 *make_cert(const char *host, EVP_PKEY **key, struct errbuf *eb)
{
	X509 *cert = X509_new();
	unsigned char serial[16];
	char san[600];
	X509_NAME *name;
	BIGNUM *bn;

	*key = EVP_EC_gen("P-256");
	if (!cert || !*key) {
		errbuf_set(eb, "cannot make a key");
		goto fail;
	}
	random_bytes(serial, sizeof serial);
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof serial, NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));
	BN_free(bn);
	X509_set_version(cert, 2);
	X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(cert), (long)CERT_DAYS * 86400);
	X509_set_pubkey(cert, *key);
	name = X509_get_subject_name(cert);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   (const unsigned char *)host, -1, -1, 0);
	X509_set_issuer_name(cert, name);
	if (is_ip(host))
		snprintf(san, sizeof san, "IP:%s,DNS:%s", host, host);
	else
		snprintf(san, sizeof san, "DNS:%s", host);
	if (!add_ext(cert, NID_subject_alt_name, san) ||
	    !add_ext(cert, NID_basic_constraints, "critical,CA:TRUE") ||
	    !add_ext(cert, NID_key_usage,
		     "critical,digitalSignature,keyCertSign") ||
	    !add_ext(cert, NID_ext_key_usage, "serverAuth") ||
	    !X509_sign(cert, *key, EVP_sha256())) {
		errbuf_set(eb, "cannot sign the certificate for %s", host);
		goto fail;
	}
	return cert;
fail:
	X509_free(cert);
	EVP_PKEY_free(*key);
	*key = NULL;
	return NULL;
}

static int write_pem(const char *path, mode_t mode, X509 *cert, EVP_PKEY *key,
		     struct errbuf *eb)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	int ok;

	if (!f) {
		errbuf_set(eb, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	ok = cert ? PEM_write_X509(f, cert)
		  : PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	if (fclose(f) != 0 || !ok) {
		errbuf_set(eb, "cannot write %s", path);
		return -1;
	}
	return 0;
}

int cli_certgen(const char *host, const char *dir, char *fingerprint,
		size_t n, struct errbuf *eb)
{
	EVP_PKEY *key = NULL;
	X509 *cert = make_cert(host, &key, eb);
	char *crt = xasprintf("%s/%s.crt", dir, host);
	char *keyf = xasprintf("%s/%s.key", dir, host);
	unsigned char der_hash[32];
	unsigned int len = 0;
	char hex[SHA256_HEX_LEN + 1];
	int r = -1;

	if (cert && !write_pem(keyf, 0600, NULL, key, eb) &&
	    !write_pem(crt, 0644, cert, NULL, eb) &&
	    X509_digest(cert, EVP_sha256(), der_hash, &len)) {
		hex_encode(der_hash, len, hex);
		snprintf(fingerprint, n, "sha256:%s", hex);
		r = 0;
	}
	X509_free(cert);
	EVP_PKEY_free(key);
	free(crt);
	free(keyf);
	return r;
}
