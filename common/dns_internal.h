/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - helpers shared by the codec's source files. Not part of the ABI: nothing
 * outside common/ includes this.
 */
#pragma once

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "dns.h"

static inline uint16_t dns_get16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t dns_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void dns_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void dns_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/*
 * ASCII lower-case of 8 bytes at once. The high bit of each byte is masked off before
 * the additions so no byte carries into its neighbour; bytes >= 0x80 are excluded by the
 * final ~v. Label length bytes are <= 63, below 'A', so whole wire names are safe.
 */
static inline uint64_t dns_lower64(uint64_t v)
{
	const uint64_t ones = 0x0101010101010101ull;
	uint64_t low7 = v & (0x7f * ones);
	uint64_t ge_a = low7 + (0x80 - 'A') * ones; /* high bit set where byte >= 'A' */
	uint64_t gt_z = low7 + (0x80 - 'Z' - 1) * ones; /* high bit set where byte > 'Z' */
	uint64_t upper = ge_a & ~gt_z & ~v & (0x80 * ones);

	return v | (upper >> 2);
}

static inline uint64_t dns_rotl64(uint64_t v, unsigned int r)
{
	return (v << r) | (v >> (64 - r));
}

/* Name hash: one multiply/rotate round per 8-byte word, length in the seed. */
static inline uint64_t dns_hash_seed(size_t len)
{
	return 0x243f6a8885a308d3ull ^ ((uint64_t)len * 0x9e3779b97f4a7c15ull);
}

static inline uint64_t dns_hash_step(uint64_t h, uint64_t v)
{
	v *= 0x87c37b91114253d5ull;
	v = dns_rotl64(v, 31);
	v *= 0x4cf5ad432745937full;
	h ^= v;
	return dns_rotl64(h, 27) * 5 + 0x52dce729ull;
}

static inline uint64_t dns_hash_final(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

/*
 * Inline cursor reads for the parser's hot loop (the public dns_wire_read_* wrap these).
 * Same contract: sticky error, 0 returned after an error, cursor never passes the end.
 */
static inline int dns_wire_need(struct dns_wire *w, size_t n)
{
	if (w->err != 0)
		return -1;
	if ((size_t)(w->end - w->pos) < n) {
		w->err = -EBADMSG;
		return -1;
	}
	return 0;
}

static inline uint8_t dns_wire_get8(struct dns_wire *w)
{
	if (dns_wire_need(w, 1) != 0)
		return 0;
	return *w->pos++;
}

static inline uint16_t dns_wire_get16(struct dns_wire *w)
{
	uint16_t v;

	if (dns_wire_need(w, 2) != 0)
		return 0;
	v = dns_get16(w->pos);
	w->pos += 2;
	return v;
}

static inline uint32_t dns_wire_get32(struct dns_wire *w)
{
	uint32_t v;

	if (dns_wire_need(w, 4) != 0)
		return 0;
	v = dns_get32(w->pos);
	w->pos += 4;
	return v;
}

static inline void dns_wire_advance(struct dns_wire *w, size_t n)
{
	if (dns_wire_need(w, n) == 0)
		w->pos += n;
}
