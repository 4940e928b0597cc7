/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - the kubernetes plugin's object store: namespaces, services and
 * EndpointSlices joined by the kubernetes.io/service-name label into groups, pods, and
 * the reverse indices DNS needs (ClusterIP/endpoint IP -> groups, pod IP per namespace,
 * ExternalName target -> dependent services). Engine thread only; no locking.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "k8s_map.h"
#include "k8s_obj.h"

struct k8s_group;

struct k8s_nsent {
	struct k8s_hnode node;
	struct k8s_obj *obj;        /**< the Namespace, NULL when not seen (or filtered out) */
	struct k8s_group *groups;   /**< groups of this namespace (g->ns_next list) */
	unsigned n_groups;
	unsigned n_pods;
	char name[];
};

/** A service name in a namespace: the Service (if any) and the slices labelled with it. */
struct k8s_group {
	struct k8s_hnode node;
	struct k8s_nsent *nsent;
	struct k8s_group *ns_next, *ns_prev;
	struct k8s_obj *svc;        /**< NULL when only slices exist */
	struct k8s_obj *slices;     /**< obj->gnext list, in arrival order */
	unsigned n_slices;
	struct k8s_dep *dep;        /**< the target this ExternalName service depends on */
	struct k8s_group *dep_next, *dep_prev;
	const char *ns, *name;      /**< point into key[] storage */
	char key[];                 /**< "ns/name", then "ns" and "name" NUL-terminated */
};

/** Services whose in-zone ExternalName points below the group named key. */
struct k8s_dep {
	struct k8s_hnode node;
	struct k8s_group *dependents;
	char key[];
};

/** One group referencing an address: as a ClusterIP (ep NULL) or a ready endpoint. */
struct k8s_ipref {
	struct k8s_group *g;
	const struct k8s_ep *ep;
};

struct k8s_ipent {
	struct k8s_hnode node;
	struct k8s_ip ip;
	unsigned n, cap;
	struct k8s_ipref *refs;     /**< == &one while cap is 1 */
	struct k8s_ipref one;
};

struct k8s_podip {
	struct k8s_hnode node;
	struct k8s_ip ip;
	unsigned count;
	char ns[];
};

/** Maps an ExternalName target to the "ns/name" group key it lives under; 0 = in zone. */
typedef int (*k8s_dep_key_fn)(void *ctx, const char *target, char *key, size_t cap);

struct k8s_store {
	struct k8s_hmap ns;      /**< name -> k8s_nsent */
	struct k8s_hmap groups;  /**< "ns/name" -> k8s_group */
	struct k8s_hmap objs[K8S_RES_N]; /**< key -> k8s_obj (namespaces are in ns) */
	struct k8s_hmap ips;     /**< k8s_ip -> k8s_ipent */
	struct k8s_hmap podips;  /**< (ns, ip) -> k8s_podip */
	struct k8s_hmap deps;    /**< "ns/name" -> k8s_dep */
	uint64_t gen[K8S_RES_N]; /**< relist generation per resource */
	size_t n_eps;            /**< endpoint addresses held */
	k8s_dep_key_fn dep_key;
	void *dep_ctx;
};

int k8s_store_init(struct k8s_store *s, k8s_dep_key_fn dep_key, void *dep_ctx);
void k8s_store_fini(struct k8s_store *s);

/** @return the stored object of @p res with key @p key ("ns/name", or the namespace name). */
struct k8s_obj *k8s_store_obj(const struct k8s_store *s, enum k8s_res res, const char *key);

/**
 * Apply an object (ADDED/MODIFIED) or a tombstone (DELETED). Takes ownership of @p o; the
 * replaced object is freed. The object is stamped with the resource's relist generation.
 * @return 0, or -ENOMEM (the store is unchanged and @p o freed).
 */
int k8s_store_apply(struct k8s_store *s, struct k8s_obj *o);

/** Mark @p o as seen by the current relist of its resource (unchanged object). */
void k8s_store_touch(struct k8s_store *s, struct k8s_obj *o);

/** A relist of @p res starts: objects not applied or touched before it ends are stale. */
void k8s_store_list_begin(struct k8s_store *s, enum k8s_res res);

/**
 * Tombstones for the stale objects of @p res (seen by no relist since
 * k8s_store_list_begin): applying them ends the relist. A new array of @p *n objects;
 * the caller applies (or frees) each and frees the array. @return it, or NULL (none /
 * ENOMEM: then the stale objects stay until the next relist)
 */
struct k8s_obj **k8s_store_stale(const struct k8s_store *s, enum k8s_res res, size_t *n);

struct k8s_group *k8s_store_group(const struct k8s_store *s, const char *ns, const char *name);
struct k8s_group *k8s_store_group_key(const struct k8s_store *s, const char *key);
struct k8s_nsent *k8s_store_ns(const struct k8s_store *s, const char *name);
const struct k8s_ipent *k8s_store_ip(const struct k8s_store *s, const struct k8s_ip *ip);
/** @return pods of namespace @p ns with status.podIP @p ip. */
unsigned k8s_store_pod_ip(const struct k8s_store *s, const char *ns, const struct k8s_ip *ip);
const struct k8s_dep *k8s_store_dep(const struct k8s_store *s, const char *key);

