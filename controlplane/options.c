/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - helpers plugins use to parse their options with CoreDNS's
 * syntax (Go durations, host:port addresses, zones) and to report errors with file
 * and line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corefile.h"
#include "plugin.h"

int cp_setup_err(struct cp_setup *s, const struct cf_token *t, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cf_errf(s->err, s->errlen, t, "%s: %s", s->name, msg);
}

void cp_plog(const char *level, const char *plugin, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "[%s] plugin/%s: %s\n", level, plugin, msg);
}

/* Nanoseconds per unit of a Go duration ("µs" in both of its Unicode spellings). */
static int64_t duration_unit(const char *u, size_t n)
{
	static const struct {
		const char *name;
		int64_t ns;
	} units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "\xc2\xb5s", 1000 }, { "\xce\xbcs", 1000 },
		{ "ms", 1000000 }, { "s", 1000000000 }, { "m", 60000000000 },
		{ "h", 3600000000000 },
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strlen(units[i].name) == n && memcmp(units[i].name, u, n) == 0)
			return units[i].ns;
	}
	return 0;
}

/* One "<number><unit>" element; adds to *total. @return chars consumed or -EINVAL */
static int duration_elem(const char *s, int64_t *total)
{
	const char *p = s, *u;
	uint64_t whole = 0, frac = 0, scale = 1;
	int digits = 0;
	int64_t unit;

	for (; *p >= '0' && *p <= '9'; p++, digits++) {
		if (whole > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		whole = whole * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, digits++) {
			if (scale < 1000000000000000000ull) { /* extra digits cannot matter */
				frac = frac * 10 + (uint64_t)(*p - '0');
				scale *= 10;
			}
		}
	}
	if (digits == 0)
		return -EINVAL;
	for (u = p; *p != '\0' && *p != '.' && (*p < '0' || *p > '9'); p++)
		;
	unit = duration_unit(u, (size_t)(p - u));
	if (unit == 0 || whole > (uint64_t)INT64_MAX / (uint64_t)unit)
		return -EINVAL;
	whole *= (uint64_t)unit;
	whole += (uint64_t)((long double)frac * (long double)unit / (long double)scale);
	if (whole > (uint64_t)INT64_MAX - (uint64_t)*total)
		return -EINVAL;
	*total += (int64_t)whole;
	return (int)(p - s);
}

int cp_parse_duration(const char *s, int64_t *ns)
{
	int64_t total = 0;
	int neg = 0;

	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (strcmp(s, "0") == 0) {
		*ns = 0;
		return 0;
	}
	if (*s == '\0')
		return -EINVAL;
	while (*s != '\0') {
		int n = duration_elem(s, &total);

		if (n < 0)
			return n;
		s += n;
	}
	*ns = neg ? -total : total;
	return 0;
}

int cp_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || errno != 0 || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Go net.SplitHostPort, plus a numeric port (the runtime has to listen on it). */
int cp_parse_hostport(const char *s)
{
	const char *port;
	unsigned long p;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':')
			return -EINVAL;
		port = close + 2;
	} else {
		const char *colon = strrchr(s, ':');

		if (colon == NULL || memchr(s, ':', (size_t)(colon - s)) != NULL)
			return -EINVAL;
		port = colon + 1;
	}
	return cp_parse_uint(port, 0, 65535, &p);
}

int cp_setup_zones(struct cp_setup *s, const struct cf_token *t, unsigned n,
		   struct cp_zone **out)
{
	struct cp_zone tmp[CP_ZONE_EXPAND_MAX], *z = NULL, *nz;
	unsigned total = 0;
	char why[256];

	for (unsigned i = 0; i < n; i++) {
		int k = cp_zone_parse(t[i].text, tmp, CP_ZONE_EXPAND_MAX, why, sizeof(why));

		if (k < 0) {
			free(z);
			return cp_setup_err(s, &t[i], "%s", why);
		}
		nz = realloc(z, (total + (unsigned)k) * sizeof(*z));
		if (nz == NULL) {
			free(z);
			return -ENOMEM;
		}
		z = nz;
		for (int j = 0; j < k; j++)
			tmp[j].port = 0;
		memcpy(z + total, tmp, (size_t)k * sizeof(*z));
		total += (unsigned)k;
	}
	*out = z;
	return (int)total;
}
