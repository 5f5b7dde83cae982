/* sha256.c - digests and secrets on OpenSSL 3 (see sha256.h). */
#include "sha256.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "xalloc.h"

struct sha256_ctx {
	EVP_MD_CTX *md; /* OpenSSL digest state */
};

struct sha256_ctx *sha256_new(void)
{
	struct sha256_ctx *c = xcalloc(1, sizeof *c);

	c->md = EVP_MD_CTX_new();
	if (!c->md || !EVP_DigestInit_ex(c->md, EVP_sha256(), NULL))
		abort();
	return c;
}

void sha256_update(struct sha256_ctx *c, const void *p, size_t n)
{
	EVP_DigestUpdate(c->md, p, n);
}

void sha256_final_hex(struct sha256_ctx **cp, char *hex)
{
	unsigned char d[32];
	unsigned int n = 0;

	EVP_DigestFinal_ex((*cp)->md, d, &n);
	hex_encode(d, 32, hex);
	EVP_MD_CTX_free((*cp)->md);
	free(*cp);
	*cp = NULL;
}

void sha256_hex(const void *p, size_t n, char *hex)
{
	struct sha256_ctx *c = sha256_new();

	sha256_update(c, p, n);
	sha256_final_hex(&c, hex);
}

void hmac_sha256_hex(const void *key, size_t keylen, const void *p, size_t n,
		     char *hex)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dn = 0;

	HMAC(EVP_sha256(), key, (int)keylen, p, n, d, &dn);
	hex_encode(d, dn, hex);
}

void hex_encode(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

int sha256_hex_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == SHA256_HEX_LEN;
}

int secret_equal(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);

	if (na != nb)
		return 0;
	return CRYPTO_memcmp(a, b, na) == 0;
}

void secret_wipe(void *p, size_t n)
{
	OPENSSL_cleanse(p, n);
}

int random_bytes(void *p, size_t n)
{
	return RAND_bytes(p, (int)n) == 1 ? 0 : -1;
}

int random_hex(char *out, size_t n)
{
	unsigned char raw[64];

	if (n > sizeof raw || random_bytes(raw, n))
		return -1;
	hex_encode(raw, n, out);
	return 0;
}
