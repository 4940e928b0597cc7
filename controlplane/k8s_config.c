/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - kubernetes plugin options (CoreDNS's names, meaning, defaults).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k8s_config.h"
#include "k8s_obj.h"

void k8s_config_init(struct k8s_config *c)
{
	memset(c, 0, sizeof(*c));
	c->primary = -1;
	c->ttl = K8S_TTL_DEFAULT;
	c->startup_timeout_ms = 5000;
	c->pods = K8S_PODS_DISABLED;
}

void k8s_conn_fini(struct k8s_conn *conn)
{
	free(conn->server);
	free(conn->ca_file);
	free(conn->ca_data);
	free(conn->cert_file);
	free(conn->key_file);
	free(conn->cert_data);
	free(conn->key_data);
	free(conn->token);
	free(conn->token_file);
	memset(conn, 0, sizeof(*conn));
}

void k8s_config_fini(struct k8s_config *c)
{
	free(c->endpoint);
	free(c->tls_cert);
	free(c->tls_key);
	free(c->tls_ca);
	free(c->kubeconfig);
	free(c->kube_context);
	for (unsigned i = 0; i < c->n_namespaces; i++)
		free(c->namespaces[i]);
	free(c->namespaces);
	k8s_selector_free(c->labels);
	k8s_selector_free(c->ns_labels);
	k8s_conn_fini(&c->conn);
	memset(c, 0, sizeof(*c));
}

/* ------------------------------------------------------------------------- */
/* Names and zones                                                             */

bool k8s_name_under(const uint8_t *name, size_t len, const uint8_t *zone, size_t zlen)
{
	size_t off = 0;

	if (zlen > len)
		return false;
	/* Walk label starts: the zone must begin on a label boundary of the name. */
	while (off < len) {
		if (len - off == zlen)
			return memcmp(name + off, zone, zlen) == 0;
		if (name[off] == 0 || len - off < zlen)
			return false;
		off += (size_t)name[off] + 1;
	}
	return false;
}

static int zone_fill(struct k8s_zone *z, const char *text)
{
	int n = dns_name_from_str(z->wire, sizeof(z->wire), text);
	size_t off = 0;

	if (n < 0)
		return n;
	z->wire_len = (uint16_t)n;
	z->n_labels = 0;
	while (z->wire[off] != 0) {
		z->n_labels++;
		off += (size_t)z->wire[off] + 1;
	}
	if (dns_name_to_str(z->wire, z->wire_len, 0, z->name, sizeof(z->name)) < 0)
		return -EINVAL;
	z->reverse = 0;
	if (k8s_name_under(z->wire, z->wire_len, (const uint8_t *)"\7in-addr\4arpa", 14))
		z->reverse = 4;
	else if (k8s_name_under(z->wire, z->wire_len, (const uint8_t *)"\3ip6\4arpa", 10))
		z->reverse = 6;
	return 0;
}

static int zone_push(struct k8s_zone *zones, unsigned *n, const char *text, char *err,
		     size_t errlen)
{
	struct k8s_zone z;

	if (zone_fill(&z, text) != 0) {
		snprintf(err, errlen, "invalid zone \"%s\"", text);
		return -EINVAL;
	}
	for (unsigned i = 0; i < *n; i++) {
		if (zones[i].wire_len == z.wire_len && memcmp(zones[i].wire, z.wire, z.wire_len) == 0)
			return 0;
	}
	if (*n >= K8S_MAX_ZONES) {
		snprintf(err, errlen, "too many zones (max %d)", K8S_MAX_ZONES);
		return -ENOSPC;
	}
	zones[(*n)++] = z;
	return 0;
}

/*
 * "10.0.0.0/22" -> 0.0.10.in-addr.arpa. ... 3.0.10.in-addr.arpa. (classful split, as
 * CoreDNS does); IPv6 prefixes split on nibbles.
 */
static int cidr_zones(struct k8s_zone *zones, unsigned *n, const char *text, char *err,
		      size_t errlen)
{
	char addr[64], name[128];
	const char *slash = strchr(text, '/');
	struct k8s_ip ip;
	char *end;
	long bits = strtol(slash + 1, &end, 10);
	int unit, full, extra, total, rc;

	if ((size_t)(slash - text) >= sizeof(addr))
		goto bad;
	memcpy(addr, text, (size_t)(slash - text));
	addr[slash - text] = '\0';
	if (*end != '\0' || k8s_ip_parse(&ip, addr) != 0 || bits < 0 ||
	    bits > (ip.fam == 4 ? 32 : 128))
		goto bad;
	unit = ip.fam == 4 ? 8 : 4;
	full = (int)bits / unit;
	extra = ((int)bits % unit) != 0 ? unit - (int)bits % unit : 0;
	total = 1 << extra;
	for (int k = 0; k < total; k++) {
		size_t o = 0;
		int parts = full + (extra != 0);

		for (int i = parts - 1; i >= 0; i--) {
			unsigned v = ip.fam == 4 ? ip.a[i] : (unsigned)((ip.a[i / 2] >> (i % 2 ? 0 : 4)) & 0xf);

			if (i == full)
				v = (v & ~((1u << extra) - 1)) | (unsigned)k;
			o += (size_t)snprintf(name + o, sizeof(name) - o, ip.fam == 4 ? "%u." : "%x.", v);
		}
		snprintf(name + o, sizeof(name) - o, "%s", ip.fam == 4 ? "in-addr.arpa." : "ip6.arpa.");
		rc = zone_push(zones, n, name, err, errlen);
		if (rc != 0)
			return rc;
	}
	return 0;
bad:
	snprintf(err, errlen, "invalid zone \"%s\"", text);
	return -EINVAL;
}

static int zone_add(struct k8s_zone *zones, unsigned *n, const char *text, char *err,
		    size_t errlen)
{
	const char *p = text;

	if (strncmp(p, "dns://", 6) == 0)
		p += 6;
	if (strchr(p, '/') != NULL)
		return cidr_zones(zones, n, p, err, errlen);
	return zone_push(zones, n, p, err, errlen);
}

int k8s_config_add_zone(struct k8s_config *c, const char *zone, char *err, size_t errlen)
{
	int rc = zone_add(c->zones, &c->n_zones, zone, err, errlen);

	if (rc == 0 && c->primary < 0) {
		for (unsigned i = 0; i < c->n_zones; i++) {
			if (c->zones[i].reverse == 0) {
				c->primary = (int)i;
				break;
			}
		}
	}
	return rc;
}

int k8s_config_zone_of(const struct k8s_config *c, const uint8_t *name, size_t len)
{
	int best = -1;

	for (unsigned i = 0; i < c->n_zones; i++) {
		const struct k8s_zone *z = &c->zones[i];

		if ((best < 0 || z->wire_len > c->zones[best].wire_len) &&
		    k8s_name_under(name, len, z->wire, z->wire_len))
			best = (int)i;
	}
	return best;
}

bool k8s_config_falls(const struct k8s_config *c, const uint8_t *name, size_t len)
{
	if (!c->fall)
		return false;
	if (c->n_fall == 0)
		return true;
	for (unsigned i = 0; i < c->n_fall; i++) {
		if (k8s_name_under(name, len, c->fall_zones[i].wire, c->fall_zones[i].wire_len))
			return true;
	}
	return false;
}

bool k8s_config_ns_listed(const struct k8s_config *c, const char *ns)
{
	if (c->n_namespaces == 0)
		return true;
	for (unsigned i = 0; i < c->n_namespaces; i++) {
		if (strcmp(c->namespaces[i], ns) == 0)
			return true;
	}
	return false;
}

/* ------------------------------------------------------------------------- */
/* Values                                                                      */

int k8s_parse_duration_ms(const char *s, uint64_t *ms)
{
	static const struct { const char *u; double ms; } units[] = {
		{ "ns", 1e-6 }, { "us", 1e-3 }, { "\xc2\xb5s", 1e-3 }, { "ms", 1 },
		{ "s", 1e3 }, { "m", 60e3 }, { "h", 3600e3 },
	};
	double total = 0;

	if (s == NULL || *s == '\0')
		return -EINVAL;
	if (strcmp(s, "0") == 0) {
		*ms = 0;
		return 0;
	}
	while (*s != '\0') {
		char *end;
		double v = strtod(s, &end);
		size_t best = 0, bl = 0;

		if (end == s || v < 0 || !isdigit((unsigned char)*s))
			return -EINVAL;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t l = strlen(units[i].u);

			if (strncmp(end, units[i].u, l) == 0 && l > bl) {
				best = i;
				bl = l;
			}
		}
		if (bl == 0)
			return -EINVAL;
		total += v * units[best].ms;
		s = end + bl;
	}
	if (total > 1e12)
		return -EINVAL;
	*ms = (uint64_t)(total + 0.5);
	return 0;
}

static char *dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static int want_args(const char *name, unsigned n, unsigned lo, unsigned hi, char *err,
		     size_t errlen)
{
	if (n >= lo && n <= hi)
		return 0;
	if (lo == hi && lo == 0)
		snprintf(err, errlen, "%s takes no arguments", name);
	else
		snprintf(err, errlen, "wrong argument count for %s", name);
	return -EINVAL;
}

/* Space-joined arguments (a selector may be written with spaces: "a in (x, y)"). */
static char *join_args(const char *const *args, unsigned n)
{
	size_t len = 1;
	char *s;

	for (unsigned i = 0; i < n; i++)
		len += strlen(args[i]) + 1;
	s = malloc(len);
	if (s == NULL)
		return NULL;
	s[0] = '\0';
	for (unsigned i = 0; i < n; i++) {
		if (i > 0)
			strcat(s, " ");
		strcat(s, args[i]);
	}
	return s;
}

/* ------------------------------------------------------------------------- */
/* Options                                                                     */

static int opt_selector(struct k8s_selector **dst, const char *name, const char *const *args,
			unsigned n, char *err, size_t errlen)
{
	char *text;

	if (want_args(name, n, 1, 64, err, errlen) != 0)
		return -EINVAL;
	text = join_args(args, n);
	if (text == NULL)
		return -ENOMEM;
	k8s_selector_free(*dst);
	*dst = k8s_selector_parse(text, err, errlen);
	free(text);
	return *dst != NULL ? 0 : -EINVAL;
}

static int opt_pods(struct k8s_config *c, const char *const *args, unsigned n, char *err,
		    size_t errlen)
{
	if (want_args("pods", n, 1, 1, err, errlen) != 0)
		return -EINVAL;
	if (strcmp(args[0], "disabled") == 0)
		c->pods = K8S_PODS_DISABLED;
	else if (strcmp(args[0], "insecure") == 0)
		c->pods = K8S_PODS_INSECURE;
	else if (strcmp(args[0], "verified") == 0)
		c->pods = K8S_PODS_VERIFIED;
	else {
		snprintf(err, errlen, "invalid value for pods: %s, must be one of: disabled, "
			 "verified, insecure", args[0]);
		return -EINVAL;
	}
	return 0;
}

static int opt_ttl(struct k8s_config *c, const char *const *args, unsigned n, char *err,
		   size_t errlen)
{
	char *end;
	long v;

	if (want_args("ttl", n, 1, 1, err, errlen) != 0)
		return -EINVAL;
	v = strtol(args[0], &end, 10);
	if (*end != '\0' || end == args[0]) {
		snprintf(err, errlen, "ttl: invalid number \"%s\"", args[0]);
		return -EINVAL;
	}
	if (v < 0 || v > K8S_TTL_MAX) {
		snprintf(err, errlen, "ttl must be in range [0, %d]: %ld", K8S_TTL_MAX, v);
		return -EINVAL;
	}
	c->ttl = (uint32_t)v;
	return 0;
}

static int opt_fallthrough(struct k8s_config *c, const char *const *args, unsigned n,
			   char *err, size_t errlen)
{
	c->fall = true;
	for (unsigned i = 0; i < n; i++) {
		int rc = zone_add(c->fall_zones, &c->n_fall, args[i], err, errlen);

		if (rc != 0)
			return rc;
	}
	return 0;
}

static int opt_namespaces(struct k8s_config *c, const char *const *args, unsigned n,
			  char *err, size_t errlen)
{
	char **ns;

	if (want_args("namespaces", n, 1, 4096, err, errlen) != 0)
		return -EINVAL;
	ns = realloc(c->namespaces, (c->n_namespaces + n) * sizeof(*ns));
	if (ns == NULL)
		return -ENOMEM;
	c->namespaces = ns;
	for (unsigned i = 0; i < n; i++) {
		ns[c->n_namespaces] = strdup(args[i]);
		if (ns[c->n_namespaces] == NULL)
			return -ENOMEM;
		c->n_namespaces++;
	}
	return 0;
}

static int opt_flag(bool *flag, const char *name, unsigned n, char *err, size_t errlen)
{
	if (want_args(name, n, 0, 0, err, errlen) != 0)
		return -EINVAL;
	*flag = true;
	return 0;
}

static int opt_connection(struct k8s_config *c, const char *name, const char *const *args,
			  unsigned n, char *err, size_t errlen)
{
	if (strcmp(name, "endpoint") == 0) {
		/* CoreDNS accepts a list but only uses the first URL. */
		if (want_args(name, n, 1, 16, err, errlen) != 0)
			return -EINVAL;
		if (strncmp(args[0], "http://", 7) != 0 && strncmp(args[0], "https://", 8) != 0) {
			snprintf(err, errlen, "endpoint must be an http:// or https:// URL: %s", args[0]);
			return -EINVAL;
		}
		free(c->endpoint);
		c->endpoint = strdup(args[0]);
		return c->endpoint != NULL ? 0 : -ENOMEM;
	}
	if (strcmp(name, "tls") == 0) {
		if (want_args(name, n, 3, 3, err, errlen) != 0)
			return -EINVAL;
		free(c->tls_cert);
		free(c->tls_key);
		free(c->tls_ca);
		c->tls_cert = strdup(args[0]);
		c->tls_key = strdup(args[1]);
		c->tls_ca = strdup(args[2]);
		return c->tls_cert && c->tls_key && c->tls_ca ? 0 : -ENOMEM;
	}
	/* kubeconfig FILE [CONTEXT] */
	if (want_args(name, n, 1, 2, err, errlen) != 0)
		return -EINVAL;
	free(c->kubeconfig);
	free(c->kube_context);
	c->kubeconfig = strdup(args[0]);
	c->kube_context = n > 1 ? strdup(args[1]) : NULL;
	return c->kubeconfig != NULL ? 0 : -ENOMEM;
}

int k8s_config_option(struct k8s_config *c, const char *name, const char *const *args,
		      unsigned n, char *err, size_t errlen)
{
	uint64_t ms;

	if (strcmp(name, "endpoint") == 0 || strcmp(name, "tls") == 0 ||
	    strcmp(name, "kubeconfig") == 0)
		return opt_connection(c, name, args, n, err, errlen);
	if (strcmp(name, "namespaces") == 0)
		return opt_namespaces(c, args, n, err, errlen);
	if (strcmp(name, "labels") == 0)
		return opt_selector(&c->labels, name, args, n, err, errlen);
	if (strcmp(name, "namespace_labels") == 0)
		return opt_selector(&c->ns_labels, name, args, n, err, errlen);
	if (strcmp(name, "pods") == 0)
		return opt_pods(c, args, n, err, errlen);
	if (strcmp(name, "endpoint_pod_names") == 0)
		return opt_flag(&c->endpoint_pod_names, name, n, err, errlen);
	if (strcmp(name, "noendpoints") == 0)
		return opt_flag(&c->noendpoints, name, n, err, errlen);
	if (strcmp(name, "ttl") == 0)
		return opt_ttl(c, args, n, err, errlen);
	if (strcmp(name, "fallthrough") == 0)
		return opt_fallthrough(c, args, n, err, errlen);
	if (strcmp(name, "ignore") == 0) {
		if (want_args(name, n, 1, 1, err, errlen) != 0)
			return -EINVAL;
		if (strcmp(args[0], "empty_service") != 0) {
			snprintf(err, errlen, "unable to parse ignore value: '%s'", args[0]);
			return -EINVAL;
		}
		c->ignore_empty_service = true;
		return 0;
	}
	if (strcmp(name, "startup_timeout") == 0) {
		if (want_args(name, n, 1, 1, err, errlen) != 0)
			return -EINVAL;
		if (k8s_parse_duration_ms(args[0], &ms) != 0) {
			snprintf(err, errlen, "invalid startup_timeout \"%s\"", args[0]);
			return -EINVAL;
		}
		c->startup_timeout_ms = (uint32_t)(ms > UINT32_MAX ? UINT32_MAX : ms);
		return 0;
	}
	snprintf(err, errlen, "unknown property '%s'", name);
	return -EINVAL;
}

/* ------------------------------------------------------------------------- */
/* Connection                                                                  */

static int conn_in_cluster(struct k8s_conn *conn, char *err, size_t errlen)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	char url[300];

	if (host == NULL || port == NULL || *host == '\0' || *port == '\0') {
		snprintf(err, errlen, "no endpoint or kubeconfig given and not running in a "
			 "cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined");
		return -EINVAL;
	}
	/* An IPv6 host needs brackets in the URL. */
	snprintf(url, sizeof(url), strchr(host, ':') != NULL ? "https://[%s]:%s" : "https://%s:%s",
		 host, port);
	conn->server = strdup(url);
	conn->token_file = strdup(K8S_SA_DIR "/token");
	conn->ca_file = strdup(K8S_SA_DIR "/ca.crt");
	if (conn->server == NULL || conn->token_file == NULL || conn->ca_file == NULL)
		return -ENOMEM;
	return 0;
}

int k8s_config_finish(struct k8s_config *c, char *err, size_t errlen)
{
	size_t l;

	k8s_conn_fini(&c->conn);
	if (c->kubeconfig != NULL && c->endpoint != NULL) {
		snprintf(err, errlen, "endpoint and kubeconfig are mutually exclusive");
		return -EINVAL;
	}
	if (c->kubeconfig != NULL)
		return k8s_kubeconfig_load(c->kubeconfig, c->kube_context, &c->conn, err, errlen);
	if (c->endpoint == NULL) {
		if (c->tls_cert != NULL) {
			snprintf(err, errlen, "tls needs an endpoint");
			return -EINVAL;
		}
		return conn_in_cluster(&c->conn, err, errlen);
	}
	c->conn.server = strdup(c->endpoint);
	c->conn.cert_file = dup_or_null(c->tls_cert);
	c->conn.key_file = dup_or_null(c->tls_key);
	c->conn.ca_file = dup_or_null(c->tls_ca);
	if (c->conn.server == NULL)
		return -ENOMEM;
	l = strlen(c->conn.server);
	while (l > 0 && c->conn.server[l - 1] == '/')
		c->conn.server[--l] = '\0';
	return 0;
}
