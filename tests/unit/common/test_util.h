/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - DNS message helpers for the common/ unit tests (the checks: check.h).
 */
#pragma once

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dns.h"

/* Message writer used to craft queries (no lower-casing, no validation). */
struct msgw {
	uint8_t buf[8192];
	size_t len;
};

static inline void mw_u8(struct msgw *m, unsigned int v)
{
	m->buf[m->len++] = (uint8_t)v;
}

static inline void mw_u16(struct msgw *m, unsigned int v)
{
	mw_u8(m, v >> 8);
	mw_u8(m, v & 0xff);
}

static inline void mw_u32(struct msgw *m, uint32_t v)
{
	mw_u16(m, v >> 16);
	mw_u16(m, v & 0xffff);
}

static inline void mw_bytes(struct msgw *m, const void *p, size_t n)
{
	memcpy(m->buf + m->len, p, n);
	m->len += n;
}

/* Write "a.B.c" as wire labels, case kept; "" or "." is the root. */
static inline void mw_name(struct msgw *m, const char *s)
{
	while (*s != '\0' && strcmp(s, ".") != 0) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);

		mw_u8(m, (unsigned int)l);
		mw_bytes(m, s, l);
		s += l;
		if (*s == '.')
			s++;
	}
	mw_u8(m, 0);
}

static inline void mw_header(struct msgw *m, uint16_t id, uint16_t flags, uint16_t qd,
			     uint16_t an, uint16_t ns, uint16_t ar)
{
	m->len = 0;
	mw_u16(m, id);
	mw_u16(m, flags);
	mw_u16(m, qd);
	mw_u16(m, an);
	mw_u16(m, ns);
	mw_u16(m, ar);
}

static inline void mw_opt(struct msgw *m, uint16_t size, uint8_t version, int dobit)
{
	mw_u8(m, 0);
	mw_u16(m, DNS_T_OPT);
	mw_u16(m, size);
	mw_u32(m, ((uint32_t)version << 16) | (dobit ? 0x8000u : 0));
	mw_u16(m, 0);
}

/* Standard query: header (RD), one question, optional OPT. */
static inline void mw_query(struct msgw *m, uint16_t id, const char *name, uint16_t qtype,
			    int edns_size, uint8_t version, int dobit)
{
	mw_header(m, id, DNS_F_RD, 1, 0, 0, edns_size > 0);
	mw_name(m, name);
	mw_u16(m, qtype);
	mw_u16(m, DNS_C_IN);
	if (edns_size > 0)
		mw_opt(m, (uint16_t)edns_size, version, dobit);
}

/* Decoded response, read back with the codec's own cursor and dns_name_to_str(). */
struct rr_view {
	char owner[1024];
	uint16_t type, cls;
	uint32_t ttl;
	uint16_t rdlen;
	size_t rdata_off;
};

struct resp_view {
	uint16_t id, flags, qd, an, ns, ar;
	char qname[1024];
	uint16_t qtype, qclass;
	int nrr;
	struct rr_view rr[64];
};

int t_decode(const uint8_t *msg, size_t len, struct resp_view *v);
