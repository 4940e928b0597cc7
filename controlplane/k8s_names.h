/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - the names the kubernetes plugin holds data for, as lower-case
 * wire names: what it offers to the table (full sync) and what an event touches
 * (incremental updates). Every name that answers other than NXDOMAIN outside pod.<zone>
 * must come out of here, or the fast path's zone answer would say NXDOMAIN for it.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "k8s_obj.h"

struct k8s_synth;
struct k8s_vcache;
struct k8s_group;
struct k8s_nsent;

/** Receives one name. @return 0 to go on, or a negative errno to stop. */
typedef int (*k8s_name_fn)(void *ctx, const uint8_t *wire, size_t len);

/** The apex, svc.<zone>, pod.<zone>, dns-version.<zone>, ns.dns.<zone> of every zone. */
int k8s_names_static(const struct k8s_synth *s, k8s_name_fn fn, void *ctx);

/** <ns>.svc.<zone> and <ns>.pod.<zone> of namespace @p ns (when it exists and is exposed). */
int k8s_names_ns(const struct k8s_synth *s, const char *ns, k8s_name_fn fn, void *ctx);

/** What a group's event touches. */
enum k8s_gnames {
	K8S_GN_ALL = 0,   /**< service, port and every endpoint name */
	K8S_GN_SLICE,     /**< service and port names, endpoint names of one slice only */
};

/**
 * Names of group @p g under every forward zone: the service, its SRV port names, its
 * endpoint names. @p slice (K8S_GN_SLICE) limits the endpoint names to that slice.
 */
int k8s_names_group(const struct k8s_synth *s, struct k8s_vcache *vc,
		    const struct k8s_group *g, enum k8s_gnames what, const struct k8s_obj *slice,
		    k8s_name_fn fn, void *ctx);

/** The reverse name of @p ip when one of the plugin's zones holds it. */
int k8s_names_ptr(const struct k8s_synth *s, const struct k8s_ip *ip, k8s_name_fn fn, void *ctx);

/** Everything: static names, namespaces, groups, reverse names (a full sync). */
int k8s_names_all(const struct k8s_synth *s, struct k8s_vcache *vc, k8s_name_fn fn, void *ctx);
