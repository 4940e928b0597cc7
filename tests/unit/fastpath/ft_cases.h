/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns fast path unit test - case groups. The table they expect is built by
 * test_fastpath.c: www.example.com A 192.0.2.1 + exists marker, big.example.com TXT
 * (1.1 KB), old.example.com (expired cache entry), cache.example.com (cache, age 10 s),
 * zones fwd.cluster.local (no policy), cluster.local (NXDOMAIN), example.com (no policy).
 */
#pragma once

struct ft_env;

/** DNS behaviour: hits, NODATA, zone answers, misses, rcodes, truncation, replies. */
void ft_cases_dns(struct ft_env *e);
/** Ethernet/ARP/IP/ICMP/NDP/UDP: replies built in place, drops and punts by reason. */
void ft_cases_l2l3(struct ft_env *e);
