/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - names the kubernetes plugin holds data for (see k8s_names.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "k8s_config.h"
#include "k8s_names.h"
#include "k8s_store.h"
#include "k8s_synth.h"

/* "<labels>.<zone>" -> wire -> fn. Names that do not encode are skipped (never ours). */
static int emit(const struct k8s_zone *z, const char *labels, k8s_name_fn fn, void *ctx)
{
	char text[2048];
	uint8_t wire[DNS_MAX_NAME];
	int n;

	if (labels[0] == '\0')
		snprintf(text, sizeof(text), "%s", z->name);
	else
		snprintf(text, sizeof(text), "%s.%s", labels, strcmp(z->name, ".") == 0 ? "" : z->name);
	n = dns_name_from_str(wire, sizeof(wire), text);
	if (n < 0)
		return 0;
	return fn(ctx, wire, (size_t)n);
}

int k8s_names_static(const struct k8s_synth *s, k8s_name_fn fn, void *ctx)
{
	static const char *const names[] = { "", "svc", "pod", "dns-version", "ns.dns" };
	int rc = 0;

	for (unsigned z = 0; z < s->cfg->n_zones && rc == 0; z++) {
		for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]) && rc == 0; i++)
			rc = emit(&s->cfg->zones[z], names[i], fn, ctx);
	}
	return rc;
}

int k8s_names_ns(const struct k8s_synth *s, const char *ns, k8s_name_fn fn, void *ctx)
{
	char lb[128];
	int rc = 0;

	for (unsigned z = 0; z < s->cfg->n_zones && rc == 0; z++) {
		if (s->cfg->zones[z].reverse)
			continue;
		snprintf(lb, sizeof(lb), "%s.svc", ns);
		rc = emit(&s->cfg->zones[z], lb, fn, ctx);
		if (rc == 0 && s->cfg->pods != K8S_PODS_DISABLED) {
			snprintf(lb, sizeof(lb), "%s.pod", ns);
			rc = emit(&s->cfg->zones[z], lb, fn, ctx);
		}
	}
	return rc;
}

static int port_names(const struct k8s_zone *z, const char *base, const struct k8s_port *p,
		      unsigned n, k8s_name_fn fn, void *ctx)
{
	char lb[512];
	int rc = 0;

	for (unsigned i = 0; i < n && rc == 0; i++) {
		if (p[i].name[0] == '\0' || p[i].proto[0] == '\0')
			continue;
		snprintf(lb, sizeof(lb), "_%s._%s.%s", p[i].name, p[i].proto, base);
		rc = emit(z, lb, fn, ctx);
	}
	return rc;
}

static int slice_hosts(const struct k8s_synth *s, const struct k8s_zone *z, const char *base,
		       const struct k8s_obj *sl, k8s_name_fn fn, void *ctx)
{
	char lb[512], host[64];
	int rc = 0;

	for (unsigned i = 0; i < sl->u.slice.n_eps && rc == 0; i++) {
		if (!sl->u.slice.eps[i].ready)
			continue;
		k8s_endpoint_hostname(&sl->u.slice.eps[i], s->cfg->endpoint_pod_names, host,
				      sizeof(host));
		snprintf(lb, sizeof(lb), "%s.%s", host, base);
		rc = emit(z, lb, fn, ctx);
	}
	return rc;
}

static int group_zone(const struct k8s_synth *s, struct k8s_vcache *vc, const struct k8s_zone *z,
		      const struct k8s_group *g, enum k8s_gnames what, const struct k8s_obj *slice,
		      k8s_name_fn fn, void *ctx)
{
	const struct k8s_obj *svc = g->svc;
	char base[256], lb[512];
	struct k8s_view *v;
	int rc;

	snprintf(base, sizeof(base), "%s.%s.svc", g->name, g->ns);
	rc = emit(z, base, fn, ctx);
	if (rc != 0 || svc->u.svc.type == K8S_SVC_EXTERNAL)
		return rc;
	if (svc->u.svc.type == K8S_SVC_CLUSTERIP)
		rc = port_names(z, base, svc->u.svc.ports, svc->u.svc.n_ports, fn, ctx);
	for (const struct k8s_obj *sl = g->slices; sl != NULL && rc == 0; sl = sl->gnext) {
		if (svc->u.svc.type == K8S_SVC_HEADLESS && (what == K8S_GN_ALL || sl == slice))
			rc = port_names(z, base, sl->u.slice.ports, sl->u.slice.n_ports, fn, ctx);
	}
	if (rc != 0)
		return rc;
	if (what == K8S_GN_SLICE)
		return slice != NULL ? slice_hosts(s, z, base, slice, fn, ctx) : 0;
	v = k8s_view_get(s, vc, g);
	if (v == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < k8s_view_count(v) && rc == 0; i++) {
		if (!k8s_view_host_first(v, i))
			continue;
		snprintf(lb, sizeof(lb), "%s.%s", k8s_view_host(v, i), base);
		rc = emit(z, lb, fn, ctx);
	}
	return rc;
}

int k8s_names_group(const struct k8s_synth *s, struct k8s_vcache *vc,
		    const struct k8s_group *g, enum k8s_gnames what, const struct k8s_obj *slice,
		    k8s_name_fn fn, void *ctx)
{
	int rc = 0;

	/* Slices without their Service answer nothing (their PTRs are separate). */
	if (g->svc == NULL || !k8s_synth_ns_exposed(s, g->ns))
		return 0;
	for (unsigned z = 0; z < s->cfg->n_zones && rc == 0; z++) {
		if (!s->cfg->zones[z].reverse)
			rc = group_zone(s, vc, &s->cfg->zones[z], g, what, slice, fn, ctx);
	}
	return rc;
}

int k8s_names_ptr(const struct k8s_synth *s, const struct k8s_ip *ip, k8s_name_fn fn, void *ctx)
{
	char text[128];
	uint8_t wire[DNS_MAX_NAME];
	int n;

	k8s_reverse_name(ip, text, sizeof(text));
	n = dns_name_from_str(wire, sizeof(wire), text);
	if (n < 0 || k8s_config_zone_of(s->cfg, wire, (size_t)n) < 0)
		return 0;
	return fn(ctx, wire, (size_t)n);
}

int k8s_names_all(const struct k8s_synth *s, struct k8s_vcache *vc, k8s_name_fn fn, void *ctx)
{
	const struct k8s_store *st = s->store;
	struct k8s_hiter it = { 0, NULL };
	struct k8s_hnode *n;
	int rc = k8s_names_static(s, fn, ctx);

	while (rc == 0 && (n = k8s_hmap_iter(&st->ns, &it)) != NULL) {
		const struct k8s_nsent *e = k8s_container_of(n, struct k8s_nsent, node);

		if (e->obj != NULL)
			rc = k8s_names_ns(s, e->name, fn, ctx);
	}
	memset(&it, 0, sizeof(it));
	while (rc == 0 && (n = k8s_hmap_iter(&st->groups, &it)) != NULL)
		rc = k8s_names_group(s, vc, k8s_container_of(n, struct k8s_group, node), K8S_GN_ALL,
				     NULL, fn, ctx);
	memset(&it, 0, sizeof(it));
	while (rc == 0 && (n = k8s_hmap_iter(&st->ips, &it)) != NULL)
		rc = k8s_names_ptr(s, &k8s_container_of(n, struct k8s_ipent, node)->ip, fn, ctx);
	return rc;
}
