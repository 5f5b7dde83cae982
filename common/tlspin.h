/*
 * tlspin.h - trusting one certificate by its SHA-256 fingerprint.
 *
 * A pin ("sha256:<64 hex>", what `rfarm certgen` prints) replaces CA and
 * host-name checks: the connection is accepted when, and only when, the
 * server's own certificate hashes to it. OpenSSL types are passed as
 * void * so that users need not include OpenSSL headers.
 */
#ifndef RFARM_TLSPIN_H
#define RFARM_TLSPIN_H

/* 1 if pin has the form "sha256:" + 64 hex digits (either case). */
int tls_pin_valid(const char *pin);

/* 1 if the X509 certificate cert hashes to pin. */
int tls_pin_matches(const void *cert, const char *pin);

/*
 * Make an SSL_CTX verify servers by pin (the pin string must outlive the
 * context's connections). Returns 0, or -1 on failure.
 */
int tls_pin_install(void *ssl_ctx, const char *pin);

#endif
