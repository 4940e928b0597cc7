/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - the kubernetes plugin (CoreDNS's kubernetes: cluster DNS from the
 * Kubernetes API) as an engine plugin.
 */
#pragma once

#include <stdint.h>

struct cp_plugin_ops;

/** @return the plugin's operations (registry entry "kubernetes"). */
const struct cp_plugin_ops *cp_kubernetes_plugin(void);
