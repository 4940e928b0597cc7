/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - the counters of the unit tests' checks (see check.h).
 */
#include "check.h"

int check_count;
int check_failures;

int check_summary(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, check_count, check_failures);
	return check_failures == 0 ? 0 : 1;
}
