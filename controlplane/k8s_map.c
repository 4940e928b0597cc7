/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - intrusive chained hash map (see k8s_map.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "k8s_map.h"

uint64_t k8s_hash_bytes(const void *p, size_t len, uint64_t seed)
{
	const uint8_t *s = p;
	uint64_t h = 0xcbf29ce484222325ull ^ seed;

	for (size_t i = 0; i < len; i++) {
		h ^= s[i];
		h *= 0x100000001b3ull;
	}
	/* FNV's low bits are weak for short keys that differ in the last byte: mix. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

uint64_t k8s_hash_str(const char *s)
{
	return k8s_hash_bytes(s, strlen(s), 0);
}

void k8s_hmap_init(struct k8s_hmap *m)
{
	memset(m, 0, sizeof(*m));
}

void k8s_hmap_fini(struct k8s_hmap *m)
{
	free(m->b);
	memset(m, 0, sizeof(*m));
}

static int hmap_grow(struct k8s_hmap *m)
{
	size_t nb = m->b == NULL ? 64 : (m->mask + 1) * 2;
	struct k8s_hnode **b = calloc(nb, sizeof(*b));

	if (b == NULL)
		return -ENOMEM;
	if (m->b != NULL) {
		for (size_t i = 0; i <= m->mask; i++) {
			struct k8s_hnode *n = m->b[i], *next;

			for (; n != NULL; n = next) {
				next = n->next;
				n->next = b[n->hash & (nb - 1)];
				b[n->hash & (nb - 1)] = n;
			}
		}
		free(m->b);
	}
	m->b = b;
	m->mask = nb - 1;
	m->gen++;
	return 0;
}

int k8s_hmap_insert(struct k8s_hmap *m, struct k8s_hnode *node)
{
	/* Load factor <= 1: chains stay short without open addressing's tombstones. */
	if (m->b == NULL || m->n >= m->mask + 1) {
		int rc = hmap_grow(m);

		if (rc != 0 && m->b == NULL)
			return rc;
		/* A failed grow with buckets present only lengthens the chains. */
	}
	node->next = m->b[node->hash & m->mask];
	m->b[node->hash & m->mask] = node;
	m->n++;
	return 0;
}

void k8s_hmap_remove(struct k8s_hmap *m, struct k8s_hnode *node)
{
	struct k8s_hnode **pp = &m->b[node->hash & m->mask];

	for (; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == node) {
			*pp = node->next;
			node->next = NULL;
			m->n--;
			return;
		}
	}
}

struct k8s_hnode *k8s_hmap_first(const struct k8s_hmap *m, uint64_t hash)
{
	struct k8s_hnode *n;

	if (m->b == NULL)
		return NULL;
	for (n = m->b[hash & m->mask]; n != NULL; n = n->next) {
		if (n->hash == hash)
			return n;
	}
	return NULL;
}

struct k8s_hnode *k8s_hmap_next(const struct k8s_hnode *node)
{
	struct k8s_hnode *n;

	for (n = node->next; n != NULL; n = n->next) {
		if (n->hash == node->hash)
			return n;
	}
	return NULL;
}

struct k8s_hnode *k8s_hmap_find(const struct k8s_hmap *m, uint64_t hash,
				bool (*eq)(const struct k8s_hnode *n, const void *key),
				const void *key)
{
	struct k8s_hnode *n;

	for (n = k8s_hmap_first(m, hash); n != NULL; n = k8s_hmap_next(n)) {
		if (eq(n, key))
			return n;
	}
	return NULL;
}

struct k8s_hnode *k8s_hmap_iter(const struct k8s_hmap *m, struct k8s_hiter *it)
{
	if (m->b == NULL)
		return NULL;
	if (it->cur != NULL) {
		it->cur = it->cur->next;
		if (it->cur != NULL)
			return it->cur;
		it->bucket++;
	}
	for (; it->bucket <= m->mask; it->bucket++) {
		if (m->b[it->bucket] != NULL) {
			it->cur = m->b[it->bucket];
			return it->cur;
		}
	}
	return NULL;
}
