/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - the counters and reports of the unit tests' checks (see check.h).
 */
#include <stdarg.h>

#include "check.h"

int check_count;
int check_failures;

int check_summary(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, check_count, check_failures);
	return check_failures == 0 ? 0 : 1;
}

bool check_report_(bool ok, const char *file, int line, const char *func, const char *fmt, ...)
{
	va_list ap;

	check_count++;
	if (ok)
		return true;
	check_failures++;
	fprintf(stderr, "%s:%d: %s: ", file, line, func);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return false;
}

bool check_eq_(long long a, long long b, const char *as, const char *bs, const char *file,
	       int line, const char *func)
{
	return check_report_(a == b, file, line, func, "%s == %lld, expected %s == %lld", as, a,
			     bs, b);
}

static const char *or_null(const char *s)
{
	return s != NULL ? s : "(null)";
}

bool check_str_(const char *a, const char *b, const char *as, const char *file, int line,
		const char *func)
{
	return check_report_(a != NULL && b != NULL && strcmp(a, b) == 0, file, line, func,
			     "%s == \"%s\", expected \"%s\"", as, or_null(a), or_null(b));
}

bool check_has_(const char *hay, const char *needle, const char *file, int line,
		const char *func)
{
	return check_report_(hay != NULL && strstr(hay, needle) != NULL, file, line, func,
			     "\"%s\" does not contain \"%s\"", or_null(hay), needle);
}

const char *check_fmt_(const char *fmt, ...)
{
	static char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return buf;
}
