/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - byte-string key index (see bmap.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bmap.h"
#include "dns.h"

void cp_bmap_init(struct cp_bmap *m, cp_bmap_key_fn key, const void *ctx)
{
	memset(m, 0, sizeof(*m));
	m->key = key;
	m->ctx = ctx;
}

void cp_bmap_free(struct cp_bmap *m)
{
	free(m->slot);
	m->slot = NULL;
	m->mask = 0;
	m->n = 0;
}

static uint32_t key_hash(const uint8_t *key, size_t len)
{
	return (uint32_t)dns_name_hash(key, len);
}

int64_t cp_bmap_find(const struct cp_bmap *m, const uint8_t *key, size_t len)
{
	uint32_t h = key_hash(key, len), i;

	if (m->slot == NULL)
		return -1;
	for (i = h & m->mask;; i = (i + 1) & m->mask) {
		const struct cp_bmap_slot *s = &m->slot[i];
		const uint8_t *k;
		size_t klen;

		if (s->idx1 == 0)
			return -1;
		if (s->hash != h)
			continue;
		k = m->key(m->ctx, s->idx1 - 1, &klen);
		if (klen == len && memcmp(k, key, len) == 0)
			return (int64_t)s->idx1 - 1;
	}
}

static void place(struct cp_bmap_slot *slot, uint32_t mask, uint32_t idx1, uint32_t h)
{
	uint32_t i = h & mask;

	while (slot[i].idx1 != 0)
		i = (i + 1) & mask;
	slot[i].idx1 = idx1;
	slot[i].hash = h;
}

/* Keep the load under one half: probe sequences stay short. */
static int grow(struct cp_bmap *m)
{
	uint32_t cap = m->slot ? (m->mask + 1) * 2 : 64;
	struct cp_bmap_slot *s = calloc(cap, sizeof(*s));

	if (s == NULL)
		return -ENOMEM;
	if (m->slot != NULL) {
		for (uint32_t i = 0; i <= m->mask; i++) {
			if (m->slot[i].idx1 != 0)
				place(s, cap - 1, m->slot[i].idx1, m->slot[i].hash);
		}
	}
	free(m->slot);
	m->slot = s;
	m->mask = cap - 1;
	return 0;
}

int cp_bmap_add(struct cp_bmap *m, uint32_t idx)
{
	const uint8_t *k;
	size_t len;

	if ((m->slot == NULL || (m->n + 1) * 2 > m->mask + 1) && grow(m) < 0)
		return -ENOMEM;
	k = m->key(m->ctx, idx, &len);
	place(m->slot, m->mask, idx + 1, key_hash(k, len));
	m->n++;
	return 0;
}
