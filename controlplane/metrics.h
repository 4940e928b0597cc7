/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - Prometheus text exposition of the fast path's counters, what the
 * control plane answered itself, and the engine's plugin metrics.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct cp_rt;
struct dp_counters;

/** @return the /metrics body (text format 0.0.4), malloc'ed, length in @p len; NULL on ENOMEM. */
char *cp_metrics_render(struct cp_rt *rt, size_t *len);

/** @return the name of a drop reason (enum dp_drop), e.g. "ip_checksum". */
const char *cp_drop_name(unsigned reason);

/** @return the text of an rcode as CoreDNS labels it ("NOERROR", "RCODE12"). @p buf for unknown */
const char *cp_rcode_name(unsigned rcode, char *buf, size_t cap);

/** Fast-path counters exposed by name (metrics and the control socket's stats). */
unsigned cp_fp_field_count(void);
/** @return the name of field @p i ("rx_packets", "hits", ...). */
const char *cp_fp_field_name(unsigned i);
/** @return the value of field @p i of @p c. */
uint64_t cp_fp_field_value(const struct dp_counters *c, unsigned i);

/** Copy worker @p w's counters from shared memory (relaxed atomic loads of each field). */
void cp_counters_read(const struct cp_rt *rt, unsigned w, struct dp_counters *out);
