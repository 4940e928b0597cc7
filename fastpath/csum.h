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
	uint64_t odd = 0, v, v2;
	uint32_t v32;
	uint16_t v16;

	/* Two independent sums: each add-with-carry only waits for its own previous one,
	 * which halves the dependency chain over the message (folded together below). */
	for (; len >= 16; len -= 16, p += 16) {
		memcpy(&v, p, 8);
		memcpy(&v2, p + 8, 8);
		acc = fp_csum_word(acc, v);
		odd = fp_csum_word(odd, v2);
	}
	if (len >= 8) {
		memcpy(&v, p, 8);
		odd = fp_csum_word(odd, v);
		p += 8;
		len -= 8;
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
	return fp_csum_word(fp_csum_word(acc, odd), v);
}

/** @return the 16-bit ones' complement sum (not complemented) of @p acc. */
static inline uint16_t fp_csum_fold(uint64_t acc)
{
	uint32_t s;

	/* Adding a word to itself rotated by half its width leaves, in the upper half, the
	 * sum of the two halves plus the carry out of the lower one: their end-around-carry
	 * sum, in two instructions per step (64 -> 32 -> 16 bits). */
	acc += (acc >> 32) | (acc << 32);
	s = (uint32_t)(acc >> 32);
	s += (s >> 16) | (s << 16);
	return (uint16_t)(s >> 16);
}

/* The pseudo headers are summed from fields: length and protocol as the 16-bit words
 * they form in network order (RFC 768), addresses as loaded. */

/** Pseudo header of an IPv4 packet whose L4 part is @p l4_len bytes. */
static inline uint64_t fp_csum_phdr4(const struct rte_ipv4_hdr *ip, uint16_t l4_len)
{
	return (uint64_t)ip->src_addr + ip->dst_addr + rte_cpu_to_be_16(ip->next_proto_id) +
	       rte_cpu_to_be_16(l4_len);
}

/** Pseudo header of an IPv6 packet (no extension headers) with @p l4_len L4 bytes. */
static inline uint64_t fp_csum_phdr6(const struct rte_ipv6_hdr *ip6, uint16_t l4_len)
{
	return fp_csum_add(ip6->src_addr, 32,
			   (uint64_t)rte_cpu_to_be_16(ip6->proto) + rte_cpu_to_be_16(l4_len));
}
