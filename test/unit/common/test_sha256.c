/*
 * test_sha256.c - unit tests for common/sha256.c against published
 * vectors (FIPS 180-2 examples, RFC 4231), plus hex validation, the
 * constant-time secret comparison and the random source.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sha256.h"

static void test_sha256_vectors(void **state)
{
	static const struct {
		const char *in;  /* message */
		const char *hex; /* expected digest */
	} cases[] = {
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char hex[SHA256_HEX_LEN + 1];

		memset(hex, '#', sizeof hex);
		sha256_hex(cases[i].in, strlen(cases[i].in), hex);
		assert_string_equal(hex, cases[i].hex);
	}
}

static void test_sha256_streaming(void **state)
{
	char chunk[1000], hex[SHA256_HEX_LEN + 1];
	struct sha256_ctx *c = sha256_new();

	(void)state;
	/* One million 'a' in 1000 updates (FIPS 180-2 long message). */
	memset(chunk, 'a', sizeof chunk);
	for (int i = 0; i < 1000; i++)
		sha256_update(c, chunk, sizeof chunk);
	sha256_final_hex(&c, hex);
	assert_null(c); /* final frees and clears the caller's pointer */
	assert_string_equal(
		hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_hmac_vectors(void **state)
{
	unsigned char key1[20], key6[131];
	static const char data6[] =
		"Test Using Larger Than Block-Size Key - Hash Key First";
	struct {
		const void *key;  /* HMAC key */
		size_t keylen;    /* its length */
		const char *data; /* message */
		const char *hex;  /* expected MAC */
	} cases[] = {
		/* RFC 4231 test case 1 */
		{key1, sizeof key1, "Hi There",
		 "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
		/* RFC 4231 test case 2 */
		{"Jefe", 4, "what do ya want for nothing?",
		 "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
		/* RFC 4231 test case 6: a key longer than the block */
		{key6, sizeof key6, data6,
		 "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
	};

	(void)state;
	memset(key1, 0x0b, sizeof key1);
	memset(key6, 0xaa, sizeof key6);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char hex[SHA256_HEX_LEN + 1];

		hmac_sha256_hex(cases[i].key, cases[i].keylen, cases[i].data,
				strlen(cases[i].data), hex);
		assert_string_equal(hex, cases[i].hex);
	}
}

static void test_hex_encode(void **state)
{
	static const unsigned char in[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
	char out[2 * sizeof in + 1];

	(void)state;
	hex_encode(in, sizeof in, out);
	assert_string_equal(out, "00017f80abff");
	hex_encode(in, 0, out);
	assert_string_equal(out, "");
}

static void test_hex_valid(void **state)
{
	static const struct {
		const char *s; /* candidate */
		int valid;     /* expected sha256_hex_valid */
	} cases[] = {
		{"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 1},
		{"0000000000000000000000000000000000000000000000000000000000000000", 1},
		/* upper case is not the canonical form */
		{"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", 0},
		/* 63 and 65 characters */
		{"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85", 0},
		{"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8550", 0},
		/* a non-hex letter */
		{"g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 0},
		/* path tricks must never pass as a digest */
		{"../../../../../../../../../../../../../../../../../../../etc/pwd", 0},
		{"", 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (sha256_hex_valid(cases[i].s) != cases[i].valid)
			fail_msg("sha256_hex_valid(\"%s\") != %d", cases[i].s,
				 cases[i].valid);
}

static void test_secret_wipe(void **state)
{
	char key[65];

	(void)state;
	memset(key, 'k', sizeof key);
	secret_wipe(key + 1, 63);
	assert_int_equal(key[0], 'k');
	for (size_t i = 1; i < 64; i++)
		assert_int_equal(key[i], 0);
	assert_int_equal(key[64], 'k');
}

static void test_secret_equal(void **state)
{
	static const struct {
		const char *a, *b; /* secrets */
		int equal;         /* expected secret_equal */
	} cases[] = {
		{"s3cret", "s3cret", 1},
		{"", "", 1},
		{"s3cret", "s3creT", 0},
		{"s3cret", "s3cre", 0},  /* a prefix is not equal */
		{"s3cre", "s3cret", 0},
		{"", "x", 0},
		{"abc", "xbc", 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (secret_equal(cases[i].a, cases[i].b) != cases[i].equal)
			fail_msg("secret_equal(\"%s\", \"%s\") != %d", cases[i].a,
				 cases[i].b, cases[i].equal);
}

static void test_random_bytes(void **state)
{
	unsigned char a[32], b[32], zero[32] = {0};

	(void)state;
	memset(a, 0, sizeof a);
	memset(b, 0, sizeof b);
	assert_int_equal(random_bytes(a, sizeof a), 0);
	assert_int_equal(random_bytes(b, sizeof b), 0);
	/* 2^-256 chances of a false failure. */
	assert_memory_not_equal(a, b, sizeof a);
	assert_memory_not_equal(a, zero, sizeof a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_vectors),
		cmocka_unit_test(test_sha256_streaming),
		cmocka_unit_test(test_hmac_vectors),
		cmocka_unit_test(test_hex_encode),
		cmocka_unit_test(test_hex_valid),
		cmocka_unit_test(test_secret_equal),
		cmocka_unit_test(test_secret_wipe),
		cmocka_unit_test(test_random_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
