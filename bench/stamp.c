/*
 * stamp.c - print the wall clock as the process starts.
 *
 * The job of bench/dispatch.sh: "SECONDS.MICROSECONDS" (CLOCK_REALTIME)
 * read first thing in main, so the time is that of the exec plus the
 * dynamic loader, not of a shell's start-up (bash's $EPOCHREALTIME comes
 * about 0.4 ms later here). No rfarm library: nothing to load.
 */
#include <stdio.h>
#include <time.h>

int main(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	printf("%lld.%06ld\n", (long long)t.tv_sec, t.tv_nsec / 1000);
	return 0;
}
