/*
 * test_tlspin.c - pin syntax, and matching against a certificate made
 * here with OpenSSL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "sha256.h"
#include "tlspin.h"

static void test_valid(void **state)
{
	static const struct {
		const char *pin; /* candidate */
		int ok;          /* tls_pin_valid */
	} cases[] = {
		{"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 1},
		{"sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", 1},
		{"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde", 0},
		{"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0", 0},
		{"sha256:g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 0},
		{"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 0},
		{"sha1:0123456789abcdef0123456789abcdef01234567", 0},
		{"sha256:", 0},
		{"", 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_int_equal(tls_pin_valid(cases[i].pin), cases[i].ok);
	assert_int_equal(tls_pin_valid(NULL), 0);
}

static void test_matches(void **state)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *cert = X509_new();
	unsigned char md[32];
	unsigned int n = 0;
	char pin[80] = "sha256:", wrong[80];

	(void)state;
	X509_set_version(cert, 2);
	X509_gmtime_adj(X509_getm_notBefore(cert), 0);
	X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
	X509_set_pubkey(cert, key);
	assert_true(X509_sign(cert, key, EVP_sha256()) > 0);
	assert_true(X509_digest(cert, EVP_sha256(), md, &n));
	hex_encode(md, n, pin + 7);
	assert_true(tls_pin_matches(cert, pin));
	memcpy(wrong, pin, sizeof wrong);
	wrong[7] = wrong[7] == '0' ? '1' : '0';
	assert_false(tls_pin_matches(cert, wrong));
	assert_false(tls_pin_matches(cert, "sha256:short"));
	assert_false(tls_pin_matches(NULL, pin));
	X509_free(cert);
	EVP_PKEY_free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_matches),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
