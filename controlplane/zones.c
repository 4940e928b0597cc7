/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - zone names: server block keys and plugin ZONES arguments
 * (CoreDNS's plugin.Host normalisation, including CIDR keys), and wire-name matching.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plugin.h"

static int why_err(char *why, size_t whylen, const char *fmt, const char *arg)
{
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, fmt, arg);
	return -EINVAL;
}

bool cp_name_under(const uint8_t *name, size_t len, const uint8_t *zone, size_t zlen)
{
	size_t off = 0;

	if (zlen > len || zlen == 0)
		return false;
	while (off < len) {
		if (len - off == zlen)
			return memcmp(name + off, zone, zlen) == 0;
		if (name[off] == 0)
			break;
		off += (size_t)name[off] + 1;
	}
	return false;
}

int cp_zone_match(const struct cp_zone *z, unsigned n, const uint8_t *name, size_t len)
{
	int best = -1;

	for (unsigned i = 0; i < n; i++) {
		if ((best < 0 || z[i].len > z[best].len) &&
		    cp_name_under(name, len, z[i].wire, z[i].len))
			best = (int)i;
	}
	return best;
}

void cp_name_text(const uint8_t *wire, size_t len, char *out, size_t cap)
{
	if (dns_name_to_str(wire, len, 0, out, cap) < 0)
		snprintf(out, cap, "?");
}

/* Bit @p i (0 = most significant of byte 0) of @p a set to @p v. */
static void set_bit(uint8_t *a, unsigned i, unsigned v)
{
	uint8_t m = (uint8_t)(0x80u >> (i % 8));

	a[i / 8] = v ? (uint8_t)(a[i / 8] | m) : (uint8_t)(a[i / 8] & ~m);
}

/* Reverse zone text of the first @p digits octets (IPv4) or nibbles (IPv6) of @p a. */
static void reverse_text(const uint8_t *a, int v6, unsigned digits, char *out, size_t cap)
{
	size_t o = 0;

	out[0] = '\0';
	for (unsigned d = digits; d-- > 0;) {
		if (v6)
			o += (size_t)snprintf(out + o, cap - o, "%x.",
					      (a[d / 2] >> (d % 2 ? 0 : 4)) & 0xf);
		else
			o += (size_t)snprintf(out + o, cap - o, "%u.", a[d]);
	}
	snprintf(out + o, cap - o, "%s", v6 ? "ip6.arpa." : "in-addr.arpa.");
}

/*
 * A CIDR key: octet (IPv4) or nibble (IPv6) aligned prefixes are one reverse zone; any
 * other prefix is served as every zone at the next boundary it covers (10.0.0.0/23 ->
 * 0.0.10.in-addr.arpa. and 1.0.10.in-addr.arpa.).
 */
static int parse_cidr(const char *host, struct cp_zone *out, unsigned max, char *why,
		      size_t whylen)
{
	const char *slash = strchr(host, '/');
	char addr[64], text[128];
	uint8_t a[16] = { 0 };
	unsigned long prefix;
	unsigned bits, unit, q, count;
	int v6;
	char *end;

	if ((size_t)(slash - host) >= sizeof(addr))
		return why_err(why, whylen, "invalid CIDR '%s'", host);
	memcpy(addr, host, (size_t)(slash - host));
	addr[slash - host] = '\0';
	v6 = strchr(addr, ':') != NULL;
	bits = v6 ? 128 : 32;
	unit = v6 ? 4 : 8;
	errno = 0;
	prefix = strtoul(slash + 1, &end, 10);
	if (slash[1] < '0' || slash[1] > '9' || *end != '\0' || errno != 0 || prefix > bits ||
	    inet_pton(v6 ? AF_INET6 : AF_INET, addr, a) != 1)
		return why_err(why, whylen, "invalid CIDR '%s'", host);
	for (unsigned i = (unsigned)prefix; i < bits; i++)
		set_bit(a, i, 0);
	q = ((unsigned)prefix + unit - 1) / unit * unit;
	count = 1u << (q - (unsigned)prefix);
	if (count > max)
		return why_err(why, whylen, "CIDR '%s' expands to too many zones", host);
	for (unsigned k = 0; k < count; k++) {
		int n;

		for (unsigned j = 0; j < q - (unsigned)prefix; j++)
			set_bit(a, (unsigned)prefix + j, (k >> (q - (unsigned)prefix - 1 - j)) & 1);
		reverse_text(a, v6, q / unit, text, sizeof(text));
		n = dns_name_from_str(out[k].wire, sizeof(out[k].wire), text);
		if (n < 0)
			return why_err(why, whylen, "invalid CIDR '%s'", host);
		out[k].len = (uint16_t)n;
	}
	return (int)count;
}

/* Split off ":PORT" when what follows the last colon is a number (CoreDNS SplitHostPort). */
static int split_port(char *s, uint16_t *port, char *why, size_t whylen)
{
	char *colon = strrchr(s, ':');
	unsigned long p;
	char *end;

	*port = 0;
	if (colon == NULL)
		return 0;
	if (colon[1] == '\0')
		return why_err(why, whylen, "expecting data after last colon in '%s'", s);
	if (strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return 0;
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (errno != 0 || p < 1 || p > 65535)
		return why_err(why, whylen, "invalid port '%s'", colon + 1);
	*port = (uint16_t)p;
	*colon = '\0';
	return 0;
}

int cp_zone_parse(const char *text, struct cp_zone *out, unsigned max, char *why, size_t whylen)
{
	const char *sep = strstr(text, "://");
	char host[512];
	uint16_t port;
	int n;

	if (max == 0)
		return why_err(why, whylen, "no room for zone '%s'", text);
	if (sep != NULL) {
		if ((size_t)(sep - text) != 3 || strncasecmp(text, "dns", 3) != 0)
			return why_err(why, whylen,
				       "unsupported scheme in '%s' (dpdns serves plain DNS, dns://)",
				       text);
		text = sep + 3;
	}
	if (strlen(text) >= sizeof(host))
		return why_err(why, whylen, "zone too long: '%.64s'", text);
	strcpy(host, text);
	if (split_port(host, &port, why, whylen) < 0)
		return -EINVAL;
	if (host[0] == '\0')
		strcpy(host, ".");
	if (strchr(host, '/') != NULL) {
		n = parse_cidr(host, out, max, why, whylen);
	} else {
		n = dns_name_from_str(out[0].wire, sizeof(out[0].wire), host);
		if (n < 0)
			return why_err(why, whylen, "invalid zone name '%s'", host);
		out[0].len = (uint16_t)n;
		n = 1;
	}
	for (int i = 0; i < n; i++)
		out[i].port = port;
	return n;
}
