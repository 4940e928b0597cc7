/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - the checks every unit test uses: each CHECK counts, a failed one prints
 * file:line and the expression (and the values) and the test goes on, so one run reports
 * every broken assertion; check_summary() turns the counts into the exit status.
 * Module helpers (test engines, message writers...) live in each module's own header,
 * which includes this one. The counters are in check.c (link it: test_check_dep).
 */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int check_count;
extern int check_failures;

/** Print "NAME: N checks, M failed". @return the exit status: 0, or 1 after a failure */
int check_summary(const char *name);

/* Counts a failure and prints its place; the caller prints the rest of the line. */
#define CHECK_FAILED_AT_() \
	(check_failures++, fprintf(stderr, "%s:%d: %s: ", __FILE__, __LINE__, __func__))

#define CHECK(cond) \
	do { \
		check_count++; \
		if (!(cond)) { \
			CHECK_FAILED_AT_(); \
			fprintf(stderr, "CHECK(%s) failed\n", #cond); \
		} \
	} while (0)

/** CHECK with a printf-style explanation of what was checked. */
#define CHECK_MSG(cond, ...) \
	do { \
		check_count++; \
		if (!(cond)) { \
			CHECK_FAILED_AT_(); \
			fprintf(stderr, "CHECK(%s) failed: ", #cond); \
			fprintf(stderr, __VA_ARGS__); \
			fputc('\n', stderr); \
		} \
	} while (0)

/** Integers (anything that converts to long long) compare equal. */
#define CHECK_EQ(a, b) \
	do { \
		long long a_ = (long long)(a), b_ = (long long)(b); \
		check_count++; \
		if (a_ != b_) { \
			CHECK_FAILED_AT_(); \
			fprintf(stderr, "%s == %lld, expected %s == %lld\n", #a, a_, #b, b_); \
		} \
	} while (0)

/** Strings compare equal (NULL on either side fails). */
#define CHECK_STR(a, b) \
	do { \
		const char *a_ = (a), *b_ = (b); \
		check_count++; \
		if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) { \
			CHECK_FAILED_AT_(); \
			fprintf(stderr, "%s == \"%s\", expected \"%s\"\n", #a, \
				a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
		} \
	} while (0)

/** @p hay contains @p needle. */
#define CHECK_HAS(hay, needle) \
	do { \
		const char *h_ = (hay), *n_ = (needle); \
		check_count++; \
		if (h_ == NULL || strstr(h_, n_) == NULL) { \
			CHECK_FAILED_AT_(); \
			fprintf(stderr, "\"%s\" does not contain \"%s\"\n", h_ ? h_ : "(null)", n_); \
		} \
	} while (0)

/**
 * An invariant whose violation must stop the process at once (fuzz targets: the fuzzer
 * and the replay driver see the abort). Not counted.
 */
#define CHECK_OR_ABORT(cond) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "%s:%d: %s: invariant failed: %s\n", __FILE__, __LINE__, \
				__func__, #cond); \
			abort(); \
		} \
	} while (0)
