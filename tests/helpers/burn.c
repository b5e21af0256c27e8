/*
 * burn: a job with a known amount of work. Spins until this process has
 * used MS milliseconds of CPU time (CLOCK_PROCESS_CPUTIME_ID), then exits 0.
 * Integration tests compare ebb's measured CPU time against MS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int
main(int argc, char *argv[])
{
	struct timespec ts;
	volatile unsigned long spin = 0;
	long ms;

	if (argc != 2 || (ms = atol(argv[1])) <= 0) {
		fprintf(stderr, "usage: burn MILLISECONDS\n");
		return 2;
	}
	do {
		for (int i = 0; i < 100000; i++)
			spin++;
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	} while (ts.tv_sec * 1000 + ts.tv_nsec / 1000000 < ms);
	return 0;
}
