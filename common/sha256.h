/*
 * sha256.h - SHA-256, HMAC-SHA256 and hex, over OpenSSL's EVP interface.
 *
 * Digests are content addresses (blobs, cache keys) and buildlet keys, so
 * they are always shown as 64 lower-case hex characters.
 */
#ifndef RFARM_SHA256_H
#define RFARM_SHA256_H

#include <stddef.h>

#define SHA256_HEX_LEN 64

struct sha256_ctx;

struct sha256_ctx *sha256_new(void);
void sha256_update(struct sha256_ctx *c, const void *p, size_t n);
/* Finish into hex[SHA256_HEX_LEN + 1] and free the context. */
void sha256_final_hex(struct sha256_ctx **c, char *hex);

void sha256_hex(const void *p, size_t n, char *hex);
void hmac_sha256_hex(const void *key, size_t keylen, const void *p,
		     size_t n, char *hex);

void hex_encode(const unsigned char *p, size_t n, char *out);
/* 1 if s is exactly 64 lower-case hex characters. */
int sha256_hex_valid(const char *s);

/* Compare two equal-length secrets without leaking where they differ. */
int secret_equal(const char *a, const char *b);
/* Zero n bytes of a secret in a way the compiler may not drop (portable:
 * explicit_bzero is not on macOS). */
void secret_wipe(void *p, size_t n);

/* Fill p with n cryptographically random bytes; 0 on success. */
int random_bytes(void *p, size_t n);
/* n random bytes as 2n hex characters in out (2n + 1 bytes); 0 on success. */
int random_hex(char *out, size_t n);

#endif
