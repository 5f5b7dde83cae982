/* netaddr.c - loopback checks for URLs and host names. */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "netaddr.h"

/* A literal, not a name that merely starts like one ("127.0.0.1.evil"). */
int net_host_is_loopback(const char *h)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (!strcasecmp(h, "localhost") || !strcmp(h, "[::1]"))
		return 1;
	if (inet_pton(AF_INET, h, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, h, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

int net_url_host(const char *url, char *out, size_t n)
{
	const char *p = strstr(url, "://"), *end, *at;
	size_t len;

	p = p ? p + 3 : url;
	end = p + strcspn(p, "/?#");
	at = memchr(p, '@', (size_t)(end - p));
	if (at)
		p = at + 1;
	if (*p == '[') {
		const char *close = memchr(p, ']', (size_t)(end - p));

		if (!close)
			return -1;
		p++;
		len = (size_t)(close - p);
	} else {
		const char *colon = memchr(p, ':', (size_t)(end - p));

		len = (size_t)((colon ? colon : end) - p);
	}
	if (!len || len >= n)
		return -1;
	memcpy(out, p, len);
	out[len] = '\0';
	return 0;
}

int net_url_may_use(const char *url, int insecure)
{
	char host[256];

	if (!strncasecmp(url, "https://", 8) || !strncasecmp(url, "wss://", 6))
		return 1;
	if (net_url_host(url, host, sizeof host))
		return 0;
	return insecure || net_host_is_loopback(host);
}
