/* tlspin.c - certificate pins (see tlspin.h). */
#include "tlspin.h"

#include <ctype.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "sha256.h"

static int pin_index = -1;
static pthread_once_t pin_once = PTHREAD_ONCE_INIT;

static void pin_index_init(void)
{
	pin_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

int tls_pin_valid(const char *pin)
{
	size_t i;

	if (!pin || strncmp(pin, "sha256:", 7))
		return 0;
	for (i = 7; pin[i]; i++)
		if (!isxdigit((unsigned char)pin[i]))
			return 0;
	return i == 7 + SHA256_HEX_LEN;
}

int tls_pin_matches(const void *cert, const char *pin)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	unsigned int n = 0;

	if (!cert || !tls_pin_valid(pin) ||
	    !X509_digest((const X509 *)cert, EVP_sha256(), md, &n))
		return 0;
	hex_encode(md, n, hex);
	return strcasecmp(hex, pin + 7) == 0;
}

/* Only the server's own certificate (depth 0) decides. */
static int verify_cb(int preverify_ok, X509_STORE_CTX *ctx)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(ctx, SSL_get_ex_data_X509_STORE_CTX_idx());
	const char *pin = ssl ? SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), pin_index)
			      : NULL;

	(void)preverify_ok;
	if (!pin)
		return 0;
	if (X509_STORE_CTX_get_error_depth(ctx) > 0)
		return 1;
	if (!tls_pin_matches(X509_STORE_CTX_get_current_cert(ctx), pin))
		return 0;
	X509_STORE_CTX_set_error(ctx, X509_V_OK);
	return 1;
}

int tls_pin_install(void *ssl_ctx, const char *pin)
{
	pthread_once(&pin_once, pin_index_init);
	if (pin_index < 0 || !SSL_CTX_set_ex_data(ssl_ctx, pin_index, (void *)pin))
		return -1;
	SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_PEER, verify_cb);
	return 0;
}
