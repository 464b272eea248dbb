/*
 * settle_fixture.h - wait_settled(): for the tests of configuration reuse
 * (test_config.c, test_gate.c).  A config file changed less than
 * IG_CONFIG_SETTLE_SECONDS before it is loaded is never vouched for as
 * unchanged; these tests wait until it has settled.  Include after cmocka.h.
 */
#ifndef IAMGATE_TEST_SETTLE_FIXTURE_H
#define IAMGATE_TEST_SETTLE_FIXTURE_H

#include <sys/stat.h>
#include <time.h>

#include "iamgate/config.h"

/* Wait (bounded) until path last changed more than IG_CONFIG_SETTLE_SECONDS
 * ago, so a load of it records its identity and may be reused. */
static void wait_settled(const char *path)
{
	const struct timespec tick = {0, 50 * 1000 * 1000};
	struct timespec t, due;
	struct stat sb;

	assert_int_equal(stat(path, &sb), 0);
	due = sb.st_ctim;
	due.tv_sec += IG_CONFIG_SETTLE_SECONDS;
	for (int i = 0; i < 200; i++) {
		assert_int_equal(clock_gettime(CLOCK_REALTIME, &t), 0);
		if (t.tv_sec > due.tv_sec || (t.tv_sec == due.tv_sec && t.tv_nsec > due.tv_nsec))
			return;
		(void)nanosleep(&tick, NULL);
	}
	fail_msg("the clock did not pass the file's ctime + settle time");
}

#endif
