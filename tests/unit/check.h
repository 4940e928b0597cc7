/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - the checks every unit test uses: each CHECK counts, a failed one prints
 * file:line: function: the expression (and the values), and the test goes on, so one run
 * reports every broken assertion; check_summary() turns the counts into the exit status.
 * Module helpers (test engines, message writers...) live in each module's own header,
 * which includes this one. The functions are in check.c (link it: test_check_dep).
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int check_count;
extern int check_failures;

/** Print "NAME: N checks, M failed". @return the exit status: 0, or 1 after a failure */
int check_summary(const char *name);

/* The macros' workers: count the check; when it failed, count that too and print
 * "FILE:LINE: FUNC: " and the message. @return ok */
bool check_report_(bool ok, const char *file, int line, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
bool check_eq_(long long a, long long b, const char *as, const char *bs, const char *file,
	       int line, const char *func);
bool check_str_(const char *a, const char *b, const char *as, const char *file, int line,
		const char *func);
bool check_has_(const char *hay, const char *needle, const char *file, int line,
		const char *func);
/* printf into a static buffer (CHECK_MSG's explanation, formatted only on failure). */
const char *check_fmt_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define CHECK_AT_ __FILE__, __LINE__, __func__

#define CHECK(cond) ((void)check_report_(!!(cond), CHECK_AT_, "CHECK(%s) failed", #cond))

/** CHECK with a printf-style explanation of what was checked. */
#define CHECK_MSG(cond, ...) \
	do { \
		bool ok_ = (cond); \
		check_report_(ok_, CHECK_AT_, "CHECK(%s) failed: %s", #cond, \
			      ok_ ? "" : check_fmt_(__VA_ARGS__)); \
	} while (0)

/** Integers (anything that converts to long long) compare equal. */
#define CHECK_EQ(a, b) ((void)check_eq_((long long)(a), (long long)(b), #a, #b, CHECK_AT_))

/** Strings compare equal (NULL on either side fails). */
#define CHECK_STR(a, b) ((void)check_str_((a), (b), #a, CHECK_AT_))

/** @p hay contains @p needle. */
#define CHECK_HAS(hay, needle) ((void)check_has_((hay), (needle), CHECK_AT_))

/**
 * An invariant whose violation must stop the process at once (fuzz targets: the fuzzer
 * and the replay driver see the abort). Not counted.
 */
#define CHECK_OR_ABORT(cond) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "%s:%d: %s: invariant failed: %s\n", CHECK_AT_, #cond); \
			abort(); \
		} \
	} while (0)
