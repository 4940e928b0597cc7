/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - an index from byte-string keys to entry numbers (open
 * addressing). The entries live in the caller's arrays; the index keeps a 32-bit hash
 * per slot and asks the caller for a key only to confirm a hash match.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/** Caller's key of entry @p idx. */
typedef const uint8_t *(*cp_bmap_key_fn)(const void *ctx, uint32_t idx, size_t *len);

struct cp_bmap {
	struct cp_bmap_slot {
		uint32_t idx1;  /* entry + 1; 0 = empty */
		uint32_t hash;
	} *slot;
	uint32_t mask;
	uint32_t n;
	cp_bmap_key_fn key;
	const void *ctx;
};

/** Start an empty index over the caller's entries. */
void cp_bmap_init(struct cp_bmap *m, cp_bmap_key_fn key, const void *ctx);
/** Free the index (not the entries). */
void cp_bmap_free(struct cp_bmap *m);
/** @return the entry whose key is @p key, or -1. */
int64_t cp_bmap_find(const struct cp_bmap *m, const uint8_t *key, size_t len);
/** Add entry @p idx (its key must not be present yet). @return 0 or -ENOMEM */
int cp_bmap_add(struct cp_bmap *m, uint32_t idx);
