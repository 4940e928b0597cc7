/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - intrusive chained hash map used by the kubernetes plugin's
 * object store and indices (100k services / 1M endpoints: every lookup is O(1)).
 * The caller computes hashes and compares keys; the map only links nodes.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct k8s_hnode {
	struct k8s_hnode *next;
	uint64_t hash;
};

struct k8s_hmap {
	struct k8s_hnode **b;
	size_t mask;  /* buckets - 1 (0 with no buckets yet) */
	size_t n;
	uint64_t gen; /* bumped on every resize: iteration cursors restart */
};

/** @return 64-bit hash of @p len bytes (FNV-1a, then a final mix). */
uint64_t k8s_hash_bytes(const void *p, size_t len, uint64_t seed);
/** @return k8s_hash_bytes of a NUL-terminated string. */
uint64_t k8s_hash_str(const char *s);

void k8s_hmap_init(struct k8s_hmap *m);
/** Free the bucket array (not the nodes). */
void k8s_hmap_fini(struct k8s_hmap *m);
/** Link @p node (node->hash set by the caller). @return 0 or -ENOMEM */
int k8s_hmap_insert(struct k8s_hmap *m, struct k8s_hnode *node);
/** Unlink @p node (must be linked). */
void k8s_hmap_remove(struct k8s_hmap *m, struct k8s_hnode *node);
/** @return the first node of @p hash's chain (walk with k8s_hmap_next). */
struct k8s_hnode *k8s_hmap_first(const struct k8s_hmap *m, uint64_t hash);
/** @return the next node after @p node with the same hash, or NULL. */
struct k8s_hnode *k8s_hmap_next(const struct k8s_hnode *node);

/** Iteration cursor over all nodes; valid while the map is not resized. */
struct k8s_hiter {
	size_t bucket;
	struct k8s_hnode *cur;
};

/** @return the first node at or after bucket @p it->bucket, advancing @p it; NULL at the end. */
struct k8s_hnode *k8s_hmap_iter(const struct k8s_hmap *m, struct k8s_hiter *it);

/** Find with a key comparison callback. @return the node or NULL */
struct k8s_hnode *k8s_hmap_find(const struct k8s_hmap *m, uint64_t hash,
				bool (*eq)(const struct k8s_hnode *n, const void *key),
				const void *key);

#define k8s_container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))
