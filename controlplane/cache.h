/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - the `cache` plugin (CoreDNS v1.14 semantics and defaults).
 *
 * It caches what the forwarder brings back, in the control plane and in the fast path's
 * shared table: every entry is published as a struct dns_answer with stored/expire set,
 * so the fast path answers hits itself and lowers the TTLs by the entry's age. Whatever
 * the fast path cannot answer (expired, long names, TCP) reaches the engine, where this
 * plugin answers from its own copy, serves stale entries (serve_stale) and refreshes
 * popular ones (prefetch).
 *
 * DNSSEC: only replies to queries without DO and without CD are cached, and the values
 * carry no AD bit. The shared table is keyed by (name, type) only, so the fast path must
 * not answer DO/CD queries from entries with an expiry (dns_answer.expire != 0): such a
 * query must go to the control plane, which forwards it.
 */
#pragma once

struct cp_plugin_ops;

/** @return the plugin's operations (registry entry "cache"). */
const struct cp_plugin_ops *cp_cache_plugin(void);
