/*
 * netaddr.h - telling loopback from the network, for the rule that plain
 * http/ws leaves this machine only when the user says --insecure.
 */
#ifndef RFARM_NETADDR_H
#define RFARM_NETADDR_H

#include <stddef.h>

/* "localhost", 127.0.0.0/8 or ::1 (bracketed or not). */
int net_host_is_loopback(const char *host);

/*
 * The host of "scheme://[user@]host[:port][/path]" into out (brackets of
 * an IPv6 literal removed). Returns 0, or -1 if there is no host or it
 * does not fit.
 */
int net_url_host(const char *url, char *out, size_t n);

/*
 * Whether url may be used in the clear: 1 for https/wss, for plain
 * http/ws to a loopback host, or when insecure is set; 0 otherwise
 * (including a URL with no host).
 */
int net_url_may_use(const char *url, int insecure);

#endif
