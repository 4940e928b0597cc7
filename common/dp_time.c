/* SPDX-License-Identifier: BSD-3-Clause */
#include <time.h>

#include "dp_shm.h"

uint32_t dp_monotonic_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)ts.tv_sec;
}
