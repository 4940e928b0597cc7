/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - mnemonics for rcodes and types.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "dns.h"

static const char *const rcode_names[] = {
	[0] = "NOERROR", [1] = "FORMERR", [2] = "SERVFAIL", [3] = "NXDOMAIN",
	[4] = "NOTIMP", [5] = "REFUSED", [6] = "YXDOMAIN", [7] = "YXRRSET",
	[8] = "NXRRSET", [9] = "NOTAUTH", [10] = "NOTZONE", [16] = "BADVERS",
	[17] = "BADKEY", [18] = "BADTIME", [19] = "BADMODE", [20] = "BADNAME",
	[21] = "BADALG", [22] = "BADTRUNC", [23] = "BADCOOKIE",
};

/**
 * @return the mnemonic, or "RCODE<n>" for unassigned values; that string lives in a
 * per-thread buffer, valid until the thread's next call.
 */
const char *dns_rcode_str(int rcode)
{
	static _Thread_local char buf[24];

	if (rcode >= 0 && (size_t)rcode < sizeof(rcode_names) / sizeof(rcode_names[0]) &&
	    rcode_names[rcode] != NULL)
		return rcode_names[rcode];
	snprintf(buf, sizeof(buf), "RCODE%d", rcode);
	return buf;
}

struct type_name {
	uint16_t type;
	const char *name;
};

static const struct type_name type_names[] = {
	{ DNS_T_A, "A" }, { DNS_T_NS, "NS" }, { DNS_T_CNAME, "CNAME" }, { DNS_T_SOA, "SOA" },
	{ DNS_T_PTR, "PTR" }, { DNS_T_HINFO, "HINFO" }, { DNS_T_MX, "MX" }, { DNS_T_TXT, "TXT" },
	{ 17, "RP" }, { 18, "AFSDB" }, { 24, "SIG" }, { 25, "KEY" }, { DNS_T_AAAA, "AAAA" },
	{ 29, "LOC" }, { DNS_T_SRV, "SRV" }, { 35, "NAPTR" }, { 36, "KX" }, { 37, "CERT" },
	{ 39, "DNAME" }, { DNS_T_OPT, "OPT" }, { 42, "APL" }, { 43, "DS" }, { 44, "SSHFP" },
	{ 45, "IPSECKEY" }, { 46, "RRSIG" }, { 47, "NSEC" }, { 48, "DNSKEY" }, { 49, "DHCID" },
	{ 50, "NSEC3" }, { 51, "NSEC3PARAM" }, { 52, "TLSA" }, { 53, "SMIMEA" }, { 55, "HIP" },
	{ 59, "CDS" }, { 60, "CDNSKEY" }, { 61, "OPENPGPKEY" }, { 62, "CSYNC" },
	{ 63, "ZONEMD" }, { 64, "SVCB" }, { 65, "HTTPS" }, { 99, "SPF" }, { 108, "EUI48" },
	{ 109, "EUI64" }, { 249, "TKEY" }, { 250, "TSIG" }, { DNS_T_IXFR, "IXFR" },
	{ DNS_T_AXFR, "AXFR" }, { DNS_T_ANY, "ANY" }, { 256, "URI" }, { 257, "CAA" },
};

#define N_TYPES (sizeof(type_names) / sizeof(type_names[0]))

const char *dns_type_str(uint16_t type)
{
	for (size_t i = 0; i < N_TYPES; i++) {
		if (type_names[i].type == type)
			return type_names[i].name;
	}
	return NULL;
}

/** Accepts known mnemonics (any case) and RFC 3597 "TYPE<decimal 0..65535>". */
int dns_type_from_str(const char *s)
{
	if (s == NULL || *s == '\0')
		return -EINVAL;
	for (size_t i = 0; i < N_TYPES; i++) {
		if (strcasecmp(type_names[i].name, s) == 0)
			return type_names[i].type;
	}
	if (strncasecmp(s, "TYPE", 4) == 0 && s[4] >= '0' && s[4] <= '9') {
		char *end;
		unsigned long v = strtoul(s + 4, &end, 10);

		if (*end == '\0' && v <= UINT16_MAX && end - (s + 4) <= 5)
			return (int)v;
	}
	return -EINVAL;
}
