/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - configuration of the kubernetes plugin: the Corefile options with
 * CoreDNS's meaning and defaults, and the API connection (endpoint + tls, kubeconfig, or
 * in-cluster service account).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns.h"

struct k8s_selector;

#define K8S_MAX_ZONES   16
#define K8S_TTL_DEFAULT 5
#define K8S_TTL_MAX     3600
#define K8S_SA_DIR      "/var/run/secrets/kubernetes.io/serviceaccount"

enum k8s_pods { K8S_PODS_DISABLED = 0, K8S_PODS_INSECURE, K8S_PODS_VERIFIED };

struct k8s_zone {
	char name[DNS_MAX_NAME * 4 + 2]; /**< presentation, lower case, with trailing dot */
	uint8_t wire[DNS_MAX_NAME];      /**< lower-cased wire form */
	uint16_t wire_len;
	uint8_t n_labels;
	uint8_t reverse;                 /**< 4: under in-addr.arpa, 6: under ip6.arpa, 0: forward */
};

/** How to reach the API server (resolved at load time). */
struct k8s_conn {
	char *server;        /**< base URL, no trailing slash */
	char *ca_file;       /**< PEM file, or NULL */
	char *ca_data;       /**< PEM bytes (kubeconfig *-data), or NULL */
	size_t ca_len;
	char *cert_file, *key_file;
	char *cert_data, *key_data;
	size_t cert_len, key_len;
	char *token;         /**< static bearer token, or NULL */
	char *token_file;    /**< re-read about once a minute (service account, tokenFile) */
	bool insecure;       /**< insecure-skip-tls-verify */
};

struct k8s_config {
	unsigned n_zones;
	struct k8s_zone zones[K8S_MAX_ZONES];
	int primary;                  /**< first forward zone (PTR targets), -1 when none */
	char *endpoint;               /**< endpoint URL, or NULL */
	char *tls_cert, *tls_key, *tls_ca;
	char *kubeconfig, *kube_context;
	char **namespaces;            /**< exposed namespaces (none = all) */
	unsigned n_namespaces;
	struct k8s_selector *labels;
	struct k8s_selector *ns_labels;
	enum k8s_pods pods;
	bool endpoint_pod_names;
	bool noendpoints;
	bool ignore_empty_service;
	uint32_t ttl;
	bool fall;                    /**< fallthrough present */
	unsigned n_fall;              /**< 0 with fall: every zone */
	struct k8s_zone fall_zones[K8S_MAX_ZONES];
	uint32_t startup_timeout_ms;
	struct k8s_conn conn;
};

/** Defaults: ttl 5, pods disabled, startup_timeout 5s. */
void k8s_config_init(struct k8s_config *c);
void k8s_config_fini(struct k8s_config *c);

/**
 * Normalise and add a zone ("cluster.local", "10.0.0.0/24", "in-addr.arpa.").
 * @return 0, or -EINVAL / -ENOSPC with a message in @p err.
 */
int k8s_config_add_zone(struct k8s_config *c, const char *zone, char *err, size_t errlen);

/**
 * Apply one option line of the kubernetes block. @p err gets a message without file:line
 * (the caller prefixes it). @return 0, or -EINVAL for an unknown option or bad arguments.
 */
int k8s_config_option(struct k8s_config *c, const char *name, const char *const *args,
		      unsigned n_args, char *err, size_t errlen);

/**
 * After the last option: resolve the connection (kubeconfig file, endpoint + tls, or the
 * in-cluster environment) and check combinations. @return 0 or -errno with @p err set.
 */
int k8s_config_finish(struct k8s_config *c, char *err, size_t errlen);

/** @return true when @p name (lower-case wire) is covered by fallthrough. */
bool k8s_config_falls(const struct k8s_config *c, const uint8_t *name, size_t len);

/** @return true when namespace @p ns passes the `namespaces` list. */
bool k8s_config_ns_listed(const struct k8s_config *c, const char *ns);

/** @return the zone index whose name is the longest suffix of @p name, or -1. */
int k8s_config_zone_of(const struct k8s_config *c, const uint8_t *name, size_t len);

/** @return true when wire name @p name equals or is below wire name @p zone. */
bool k8s_name_under(const uint8_t *name, size_t len, const uint8_t *zone, size_t zlen);

/** Parse a Go duration ("5s", "1m30s", "500ms"). @return 0 or -EINVAL */
int k8s_parse_duration_ms(const char *s, uint64_t *ms);

/** Read a kubeconfig (YAML subset or JSON) into @p conn. @return 0 or -errno with @p err */
int k8s_kubeconfig_load(const char *path, const char *context, struct k8s_conn *conn,
			char *err, size_t errlen);

void k8s_conn_fini(struct k8s_conn *conn);

typedef struct json_t json_t;
/** Parse kubeconfig text (YAML subset, or JSON); @p text is modified. For tests.
 *  @return the tree, or NULL with a message in @p err. */
json_t *k8s_kubeconfig_parse_text(char *text, char *err, size_t errlen);
