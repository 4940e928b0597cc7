/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns fast path - Internet checksum (RFC 1071) for ports without checksum offload.
 *
 * DPDK 22.11's rte_raw_cksum() adds one 16-bit word per iteration and the compiler does
 * not vectorise it; with AF_XDP/AF_PACKET every query is verified and every reply summed
 * in software, so this sums 8 bytes per step with an end-around carry (RFC 1071 4.1:
 * any word size works, the result is folded at the end). Results are in the same
 * (native-load) byte order as rte_raw_cksum(), and the unit tests check every reply
 * against DPDK's own functions.
 */
#pragma once

#include <stdint.h>
#include <string.h>

#include <rte_ip.h>

/* Add one word with an end-around carry (compiles to add + adc). */
static inline uint64_t fp_csum_word(uint64_t acc, uint64_t v)
{
	acc += v;
	return acc + (acc < v);
}

/** Add @p len bytes at @p buf (an even offset of the checksummed region) to @p acc;
 * chain calls through @p acc (it carries). */
static inline uint64_t fp_csum_add(const void *buf, size_t len, uint64_t acc)
{
	const uint8_t *p = buf;
	uint64_t v;
	uint32_t v32;
	uint16_t v16;

	for (; len >= 8; len -= 8, p += 8) {
		memcpy(&v, p, 8);
		acc += v;
		acc += acc < v; /* end-around carry */
	}
	/* Tail: each piece starts at an even offset, so native loads keep word positions;
	 * an odd last byte is the first byte of a zero-padded word (RFC 1071). */
	v = 0;
	if (len & 4) {
		memcpy(&v32, p, 4);
		v += v32;
		p += 4;
	}
	if (len & 2) {
		memcpy(&v16, p, 2);
		v += v16;
		p += 2;
	}
	if (len & 1) {
		v16 = 0;
		memcpy(&v16, p, 1);
		v += v16;
	}
	acc += v;
	acc += acc < v;
	return acc;
}

/** @return the 16-bit ones' complement sum (not complemented) of @p acc. */
static inline uint16_t fp_csum_fold(uint64_t acc)
{
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffu) + (acc >> 16);
	acc = (acc & 0xffffu) + (acc >> 16);
	return (uint16_t)acc;
}

/** Pseudo header of an IPv4 packet whose L4 part is @p l4_len bytes. */
static inline uint64_t fp_csum_phdr4(const struct rte_ipv4_hdr *ip, uint16_t l4_len)
{
	uint8_t tail[4] = { 0, ip->next_proto_id, (uint8_t)(l4_len >> 8), (uint8_t)l4_len };

	return fp_csum_add(tail, 4, fp_csum_add(&ip->src_addr, 8, 0));
}

/** Pseudo header of an IPv6 packet (no extension headers) with @p l4_len L4 bytes. */
static inline uint64_t fp_csum_phdr6(const struct rte_ipv6_hdr *ip6, uint16_t l4_len)
{
	uint8_t tail[8] = { 0, 0, (uint8_t)(l4_len >> 8), (uint8_t)l4_len, 0, 0, 0, ip6->proto };

	return fp_csum_add(ip6->src_addr, 32, fp_csum_add(tail, 8, 0));
}
