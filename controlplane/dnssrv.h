/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - DNS over the kernel's sockets: UDP and TCP listeners on the server
 * block ports. The fast path punts what it does not answer itself in hardware-bypass
 * (TCP, IPv4 fragments, IPv6 extension headers) through its exception port to the kernel,
 * and these sockets answer it with the same engine.
 */
#pragma once

#include <stdint.h>

struct cp_rt;
struct cp_poll;
struct cp_settings;
struct cp_dnssrv;

/** @return a server with no listeners, or NULL. */
struct cp_dnssrv *cp_dnssrv_create(struct cp_rt *rt);

/**
 * Make the listeners match @p set: ports of the server blocks, on the `bind` addresses,
 * else on the fast path's addresses (IP_FREEBIND). Listeners that stay the same are kept
 * open. @return 0, or the negative errno of the first socket that failed (others open).
 */
int cp_dnssrv_listen(struct cp_dnssrv *s, const struct cp_settings *set);

/** Register the sockets for this loop iteration. */
void cp_dnssrv_fill(struct cp_dnssrv *s, struct cp_poll *p);

/** Close idle TCP connections (10 s) and release closed listeners. */
void cp_dnssrv_timer(struct cp_dnssrv *s, uint64_t now_ms);

/** @return open TCP connections. */
unsigned cp_dnssrv_conns(const struct cp_dnssrv *s);

/** @return open listening sockets (UDP + TCP). */
unsigned cp_dnssrv_listeners(const struct cp_dnssrv *s);

/** Close everything. Deferred answers must have completed (engine freed) before. */
void cp_dnssrv_free(struct cp_dnssrv *s);
