/* rc.c - name tables for rc_t and the errbuf helpers. */
#include "rc.h"

#include <stdarg.h>
#include <stdio.h>

static const char *const rc_texts[] = {
#define RC_TEXT(name, text) text,
	RC_LIST(RC_TEXT)
#undef RC_TEXT
};

static const char *const rc_names[] = {
#define RC_NAME(name, text) #name,
	RC_LIST(RC_NAME)
#undef RC_NAME
};

const char *rc_str(rc_t rc)
{
	if ((unsigned)rc >= RC__COUNT)
		return "unknown result";
	return rc_texts[rc];
}

const char *rc_name(rc_t rc)
{
	if ((unsigned)rc >= RC__COUNT)
		return "RC_UNKNOWN";
	return rc_names[rc];
}

void errbuf_set(struct errbuf *eb, const char *fmt, ...)
{
	va_list ap;

	if (!eb || eb->msg[0])
		return;
	va_start(ap, fmt);
	vsnprintf(eb->msg, sizeof eb->msg, fmt, ap);
	va_end(ap);
}

void errbuf_clear(struct errbuf *eb)
{
	if (eb)
		eb->msg[0] = '\0';
}
