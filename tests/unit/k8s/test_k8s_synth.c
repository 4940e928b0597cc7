/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - kubernetes record synthesis, rule by rule from shared/reference/kubernetes-dns.md
 * (spec schema 1.1.0 as CoreDNS v1.14 serves it). Each query goes through the synthesis,
 * the value renderer and the in-place responder; ldns decodes the response.
 */
#include <stdlib.h>
#include <string.h>

#include "k8s_test.h"

#define SOA_CL "cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1700000000 7200 1800 86400 5\n"
#define SOA_REV4 "in-addr.arpa. 5 IN SOA ns.dns.in-addr.arpa. hostmaster.in-addr.arpa. 1700000000 7200 1800 86400 5\n"

static const char *const default_opts[] = { "pods insecure", NULL };

#define P_HTTP "{\"name\":\"http\",\"port\":80,\"protocol\":\"TCP\"}"
#define P_DNS_UDP "{\"name\":\"dns\",\"port\":53,\"protocol\":\"UDP\"}"
#define P_DNS_TCP "{\"name\":\"dns-tcp\",\"port\":53,\"protocol\":\"TCP\"}"
#define P_UNNAMED "{\"port\":8080,\"protocol\":\"TCP\"}"
#define EP(ip) "{\"addresses\":[\"" ip "\"],\"conditions\":{\"ready\":true}}"
#define EP_NIL(ip) "{\"addresses\":[\"" ip "\"]}"
#define EP_NOTREADY(ip) "{\"addresses\":[\"" ip "\"],\"conditions\":{\"ready\":false}}"
#define EP_HOST(ip, h) "{\"addresses\":[\"" ip "\"],\"hostname\":\"" h "\",\"conditions\":{\"ready\":true}}"

/* A small cluster used by most tests. */
static void cluster(struct kt *t)
{
	kt_apply(t, K8S_RES_NS, kt_ns("default"));
	kt_apply(t, K8S_RES_NS, kt_ns("kube-system"));
	kt_apply(t, K8S_RES_NS, kt_ns("empty"));
	kt_apply(t, K8S_RES_SVC, kt_svc("default", "mysvc", "\"10.96.0.10\"", P_HTTP "," P_UNNAMED));
	kt_apply(t, K8S_RES_SLICE, kt_slice("default", "mysvc-abc", "mysvc", "IPv4",
					    EP("10.244.1.5") "," EP_NOTREADY("10.244.1.6"),
					    "[" P_HTTP "," P_UNNAMED "]"));
	kt_apply(t, K8S_RES_SVC, kt_svc("default", "dual", "\"10.96.0.11\",\"fd00::11\"", P_HTTP));
	kt_apply(t, K8S_RES_SVC, kt_headless("default", "hl", P_HTTP));
	kt_apply(t, K8S_RES_SLICE, kt_slice("default", "hl-1", "hl", "IPv4",
					    EP_HOST("10.244.2.1", "web-0") "," EP_NIL("10.244.2.2") ","
					    EP_NOTREADY("10.244.2.3"), "[" P_HTTP "]"));
	kt_apply(t, K8S_RES_SLICE, kt_slice("default", "hl-2", "hl", "IPv6",
					    EP("fd00::1:2") "," EP("5678:abcd::"), "[" P_HTTP "]"));
	kt_apply(t, K8S_RES_SVC, kt_svc("kube-system", "kube-dns", "\"10.96.0.53\"",
					 P_DNS_UDP "," P_DNS_TCP));
	kt_apply(t, K8S_RES_SVC, kt_extname("default", "ext", "api.example.com"));
	kt_apply(t, K8S_RES_SVC, kt_extname("default", "alias", "mysvc.default.svc.cluster.local"));
	kt_apply(t, K8S_RES_SVC, kt_extname("default", "dangling", "nope.default.svc.cluster.local"));
	kt_apply(t, K8S_RES_SVC, kt_extname("default", "ipext", "192.0.2.1"));
	kt_apply(t, K8S_RES_SVC, kt_headless("default", "nobody", P_HTTP));
}

static void test_dns_version(void)
{
	struct kt t;
	struct kt_resp r;

	kt_init(&t, "cluster.local in-addr.arpa ip6.arpa", default_opts);
	kt_query(&t, "dns-version.cluster.local", DNS_T_TXT, &r);
	CHECK_EQ(r.rcode, 0);
	CHECK(r.aa);
	CHECK_STR(r.answer, "dns-version.cluster.local. 28800 IN TXT \"1.1.0\"\n");
	CHECK_STR(r.authority, "");
	/* Only TXT exists there. */
	kt_query(&t, "dns-version.cluster.local", DNS_T_A, &r);
	CHECK_EQ(r.rcode, 3);
	CHECK(r.aa);
	CHECK_STR(r.authority, SOA_CL);
	kt_fini(&t);
}

static void test_clusterip(void)
{
	struct kt t;
	struct kt_resp r;

	kt_init(&t, "cluster.local in-addr.arpa ip6.arpa", default_opts);
	cluster(&t);
	kt_query(&t, "mysvc.default.svc.cluster.local", DNS_T_A, &r);
	CHECK_EQ(r.rcode, 0);
	CHECK(r.aa);
	CHECK_STR(r.answer, "mysvc.default.svc.cluster.local. 5 IN A 10.96.0.10\n");
	CHECK_STR(r.authority, "");
	CHECK_EQ(r.ar, 0);
	/* Owner echoes the query's case. */
	kt_query(&t, "MySvc.Default.SVC.Cluster.Local", DNS_T_A, &r);
	CHECK_STR(r.answer, "MySvc.Default.SVC.Cluster.Local. 5 IN A 10.96.0.10\n");
	/* Exists, no AAAA: NODATA with the SOA. */
	kt_query(&t, "mysvc.default.svc.cluster.local", DNS_T_AAAA, &r);
	CHECK_EQ(r.rcode, 0);
	CHECK(r.aa);
	CHECK_EQ(r.an, 0);
	CHECK_STR(r.authority, SOA_CL);
	/* Other types: NODATA too. */
	kt_query(&t, "mysvc.default.svc.cluster.local", DNS_T_TXT, &r);
	CHECK_EQ(r.rcode, 0);
	CHECK_STR(r.authority, SOA_CL);
	kt_query(&t, "mysvc.default.svc.cluster.local", DNS_T_MX, &r);
	CHECK_EQ(r.rcode, 0);
	CHECK_EQ(r.an, 0);
	/* Dual stack: spec.clusterIPs. */
	kt_query(&t, "dual.default.svc.cluster.local", DNS_T_A, &r);
	CHECK_STR(r.answer, "dual.default.svc.cluster.local. 5 IN A 10.96.0.11\n");
	kt_query(&t, "dual.default.svc.cluster.local", DNS_T_AAAA, &r);
	CHECK_STR(r.answer, "dual.default.svc.cluster.local. 5 IN AAAA fd00::11\n");
	/* Unknown service / namespace: NXDOMAIN. */
	kt_query(&t, "nope.default.svc.cluster.local", DNS_T_A, &r);
	CHECK_EQ(r.rcode, 3);
	CHECK(r.aa);
	CHECK_STR(r.authority, SOA_CL);
	kt_query(&t, "mysvc.nons.svc.cluster.local", DNS_T_A, &r);
	CHECK_EQ(r.rcode, 3);
	/* Endpoint name under a ClusterIP service (extension). */
	kt_query(&t, "10-244-1-5.mysvc.default.svc.cluster.local", DNS_T_A, &r);
	CHECK_STR(r.answer, "10-244-1-5.mysvc.default.svc.cluster.local. 5 IN A 10.244.1.5\n");
	kt_query(&t, "10-244-1-6.mysvc.default.svc.cluster.local", DNS_T_A, &r);
	CHECK_EQ(r.rcode, 3); /* not ready */
	kt_fini(&t);
}

static void test_empty_service(void)
{
	static const char *const opts[] = { "ignore empty_service", NULL };
	struct kt t;
	struct kt_resp r;

	kt_init(&t, "cluster.local", NULL);
	cluster(&t);
	/* A ClusterIP service with no endpoints still answers its IP. */
	kt_query(&t, "dual.default.svc.cluster.local", DNS_T_A, &r);
	CHECK_EQ(r.rcode, 0);
	CHECK_EQ(r.an, 1);
	kt_fini(&t);
	kt_init(&t, "cluster.local", opts);
	cluster(&t);
	kt_query(&t, "dual.default.svc.cluster.local", DNS_T_A, &r);
	CHECK_EQ(r.rcode, 3);
	kt_query(&t, "mysvc.default.svc.cluster.local", DNS_T_A, &r);
	CHECK_EQ(r.rcode, 0);
	/* ExternalName and headless are not affected. */
	kt_query(&t, "ext.default.svc.cluster.local", DNS_T_CNAME, &r);
	CHECK_EQ(r.rcode, 0);
	CHECK_EQ(r.an, 1);
	kt_fini(&t);
}

static void test_headless(void)
{
	struct kt t;
	struct kt_resp r;

	kt_init(&t, "cluster.local in-addr.arpa ip6.arpa", default_opts);
	cluster(&t);
	kt_query(&t, "hl.default.svc.cluster.local", DNS_T_A, &r);
	CHECK_EQ(r.rcode, 0);
	/* Ready and nil-ready endpoints; not the not-ready one. */
	CHECK_STR(r.answer, "hl.default.svc.cluster.local. 5 IN A 10.244.2.1\n"
			    "hl.default.svc.cluster.local. 5 IN A 10.244.2.2\n");
	kt_query(&t, "hl.default.svc.cluster.local", DNS_T_AAAA, &r);
	CHECK_STR(r.answer, "hl.default.svc.cluster.local. 5 IN AAAA fd00::1:2\n"
			    "hl.default.svc.cluster.local. 5 IN AAAA 5678:abcd::\n");
	/* Hostname field, else the dashed address. */
	kt_query(&t, "web-0.hl.default.svc.cluster.local", DNS_T_A, &r);
	CHECK_STR(r.answer, "web-0.hl.default.svc.cluster.local. 5 IN A 10.244.2.1\n");
	kt_query(&t, "10-244-2-2.hl.default.svc.cluster.local", DNS_T_A, &r);
	CHECK_STR(r.answer, "10-244-2-2.hl.default.svc.cluster.local. 5 IN A 10.244.2.2\n");
	kt_query(&t, "10-244-2-1.hl.default.svc.cluster.local", DNS_T_A, &r);
	CHECK_EQ(r.rcode, 3); /* it has a hostname */
	kt_query(&t, "fd00--1-2.hl.default.svc.cluster.local", DNS_T_AAAA, &r);
	CHECK_STR(r.answer, "fd00--1-2.hl.default.svc.cluster.local. 5 IN AAAA fd00::1:2\n");
	/* A trailing '-' gets a 0. */
	kt_query(&t, "5678-abcd--0.hl.default.svc.cluster.local", DNS_T_AAAA, &r);
	CHECK_STR(r.answer, "5678-abcd--0.hl.default.svc.cluster.local. 5 IN AAAA 5678:abcd::\n");
	/* Endpoint exists, other family: NODATA. */
	kt_query(&t, "web-0.hl.default.svc.cluster.local", DNS_T_AAAA, &r);
	CHECK_EQ(r.rcode, 0);
	CHECK_EQ(r.an, 0);
	CHECK_STR(r.authority, SOA_CL);
	/* No ready endpoints: NXDOMAIN. */
	kt_query(&t, "nobody.default.svc.cluster.local", DNS_T_A, &r);
	CHECK_EQ(r.rcode, 3);
	/* Too many labels. */
	kt_query(&t, "a.b.c.hl.default.svc.cluster.local", DNS_T_A, &r);
	CHECK_EQ(r.rcode, 3);
	kt_fini(&t);
}

static void test_srv(void)
{
	struct kt t;
	struct kt_resp r;

	kt_init(&t, "cluster.local", NULL);
	cluster(&t);
	kt_query(&t, "_http._tcp.mysvc.default.svc.cluster.local", DNS_T_SRV, &r);
	CHECK_EQ(r.rcode, 0);
	CHECK(r.aa);
	CHECK_STR(r.answer, "_http._tcp.mysvc.default.svc.cluster.local. 5 IN SRV 0 100 80 mysvc.default.svc.cluster.local.\n");
	CHECK_STR(r.additional, "mysvc.default.svc.cluster.local. 5 IN A 10.96.0.10\n");
	/* Owner case echoed, target from object names + zone in the query's case. */
	kt_query(&t, "_HTTP._TCP.MySvc.default.SVC.Cluster.LOCAL", DNS_T_SRV, &r);
	CHECK_STR(r.answer, "_HTTP._TCP.MySvc.default.SVC.Cluster.LOCAL. 5 IN SRV 0 100 80 mysvc.default.svc.Cluster.LOCAL.\n");
	CHECK_STR(r.additional, "mysvc.default.svc.Cluster.LOCAL. 5 IN A 10.96.0.10\n");
	/* Dual stack: N=2 before dedup -> weight 50, one SRV, A and AAAA in additional. */
	kt_query(&t, "_http._tcp.dual.default.svc.cluster.local", DNS_T_SRV, &r);
	CHECK_STR(r.answer, "_http._tcp.dual.default.svc.cluster.local. 5 IN SRV 0 50 80 dual.default.svc.cluster.local.\n");
	CHECK_STR(r.additional, "dual.default.svc.cluster.local. 5 IN A 10.96.0.11\n"
				"dual.default.svc.cluster.local. 5 IN AAAA fd00::11\n");
	/* Bare name: all ports, named or not. */
	kt_query(&t, "mysvc.default.svc.cluster.local", DNS_T_SRV, &r);
	CHECK_STR(r.answer, "mysvc.default.svc.cluster.local. 5 IN SRV 0 50 80 mysvc.default.svc.cluster.local.\n"
			    "mysvc.default.svc.cluster.local. 5 IN SRV 0 50 8080 mysvc.default.svc.cluster.local.\n");
	CHECK_STR(r.additional, "mysvc.default.svc.cluster.local. 5 IN A 10.96.0.10\n");
	/* Same port on UDP and TCP: dedup on (target, port), N counts both. */
	kt_query(&t, "kube-dns.kube-system.svc.cluster.local", DNS_T_SRV, &r);
	CHECK_STR(r.answer, "kube-dns.kube-system.svc.cluster.local. 5 IN SRV 0 50 53 kube-dns.kube-system.svc.cluster.local.\n");
	kt_query(&t, "_dns._udp.kube-dns.kube-system.svc.cluster.local", DNS_T_SRV, &r);
	CHECK_STR(r.answer, "_dns._udp.kube-dns.kube-system.svc.cluster.local. 5 IN SRV 0 100 53 kube-dns.kube-system.svc.cluster.local.\n");
	/* Wrong protocol, unknown port: NXDOMAIN. */
	kt_query(&t, "_dns._tcp.kube-dns.kube-system.svc.cluster.local", DNS_T_SRV, &r);
	CHECK_EQ(r.rcode, 3);
	kt_query(&t, "_nope._tcp.mysvc.default.svc.cluster.local", DNS_T_SRV, &r);
	CHECK_EQ(r.rcode, 3);
	/* The port name exists: A on it answers the service's address. */
	kt_query(&t, "_http._tcp.mysvc.default.svc.cluster.local", DNS_T_A, &r);
	CHECK_STR(r.answer, "_http._tcp.mysvc.default.svc.cluster.local. 5 IN A 10.96.0.10\n");
	/* Headless: one SRV per ready endpoint x port, hostname targets, N=4 -> 25. */
	kt_query(&t, "_http._tcp.hl.default.svc.cluster.local", DNS_T_SRV, &r);
	CHECK_STR(r.answer,
		  "_http._tcp.hl.default.svc.cluster.local. 5 IN SRV 0 25 80 web-0.hl.default.svc.cluster.local.\n"
		  "_http._tcp.hl.default.svc.cluster.local. 5 IN SRV 0 25 80 10-244-2-2.hl.default.svc.cluster.local.\n"
		  "_http._tcp.hl.default.svc.cluster.local. 5 IN SRV 0 25 80 fd00--1-2.hl.default.svc.cluster.local.\n"
		  "_http._tcp.hl.default.svc.cluster.local. 5 IN SRV 0 25 80 5678-abcd--0.hl.default.svc.cluster.local.\n");
	CHECK_STR(r.additional,
		  "web-0.hl.default.svc.cluster.local. 5 IN A 10.244.2.1\n"
		  "10-244-2-2.hl.default.svc.cluster.local. 5 IN A 10.244.2.2\n"
		  "fd00--1-2.hl.default.svc.cluster.local. 5 IN AAAA fd00::1:2\n"
		  "5678-abcd--0.hl.default.svc.cluster.local. 5 IN AAAA 5678:abcd::\n");
	/* SRV on an endpoint name: its ports, target itself. */
	kt_query(&t, "web-0.hl.default.svc.cluster.local", DNS_T_SRV, &r);
	CHECK_STR(r.answer, "web-0.hl.default.svc.cluster.local. 5 IN SRV 0 100 80 web-0.hl.default.svc.cluster.local.\n");
	/* ExternalName: no SRV (NODATA). */
	kt_query(&t, "ext.default.svc.cluster.local", DNS_T_SRV, &r);
	CHECK_EQ(r.rcode, 0);
	CHECK_EQ(r.an, 0);
	CHECK_STR(r.authority, SOA_CL);
	/* Port forms without the underscore are not names here. */
	kt_query(&t, "http.tcp.mysvc.default.svc.cluster.local", DNS_T_SRV, &r);
	CHECK_EQ(r.rcode, 3);
	kt_fini(&t);
}

static void test_srv_weights(void)
{
	struct kt t;
	struct kt_resp r;
	char eps[4096];
	size_t o = 0;

	kt_init(&t, "cluster.local", NULL);
	kt_apply(&t, K8S_RES_NS, kt_ns("default"));
	kt_apply(&t, K8S_RES_SVC, kt_headless("default", "three", P_HTTP));
	kt_apply(&t, K8S_RES_SLICE, kt_slice("default", "three-1", "three", "IPv4",
					     EP("10.0.0.1") "," EP("10.0.0.2") "," EP("10.0.0.3"),
					     "[" P_HTTP "]"));
	kt_query(&t, "_http._tcp.three.default.svc.cluster.local", DNS_T_SRV, &r);
	CHECK_EQ(r.an, 3);
	CHECK(strstr(r.answer, " SRV 0 33 80 ") != NULL);
	/* 150 endpoints: floor(100/150) = 0 is raised to 1. */
	for (int i = 0; i < 150; i++)
		o += (size_t)snprintf(eps + o, sizeof(eps) - o, "%s\"10.1.%d.%d\"", i ? "," : "",
				      i / 250, i % 250 + 1);
	{
		char *js = malloc(16384);

		snprintf(js, 16384, "{\"metadata\":{\"name\":\"many-1\",\"namespace\":\"default\","
			 "\"labels\":{\"kubernetes.io/service-name\":\"many\"}},\"addressType\":\"IPv4\","
			 "\"endpoints\":[{\"addresses\":[%s]}],\"ports\":[" P_HTTP "]}", eps);
		kt_apply(&t, K8S_RES_SVC, kt_headless("default", "many", P_HTTP));
		kt_apply(&t, K8S_RES_SLICE, js);
		free(js);
	}
	kt_query(&t, "_http._tcp.many.default.svc.cluster.local", DNS_T_SRV, &r);
	CHECK_EQ(r.an, 150);
	CHECK(strstr(r.answer, " SRV 0 1 80 ") != NULL);
	CHECK_EQ(r.ar, 150);
	kt_query(&t, "many.default.svc.cluster.local", DNS_T_A, &r);
	CHECK_EQ(r.an, 150);
	kt_fini(&t);
}

static void test_namespaces_and_apex(void)
{
	struct kt t;
	struct kt_resp r;

	kt_init(&t, "cluster.local in-addr.arpa ip6.arpa", default_opts);
	cluster(&t);
	/* Bare namespace that exists: NODATA; unknown: NXDOMAIN. */
	kt_query(&t, "default.svc.cluster.local", DNS_T_A, &r);
	CHECK_EQ(r.rcode, 0);
	CHECK(r.aa);
	CHECK_EQ(r.an, 0);
	CHECK_STR(r.authority, SOA_CL);
	kt_query(&t, "empty.svc.cluster.local", DNS_T_A, &r);
	CHECK_EQ(r.rcode, 0);
	kt_query(&t, "nons.svc.cluster.local", DNS_T_A, &r);
	CHECK_EQ(r.rcode, 3);
	/* svc, pod and the apex: NODATA. */
	kt_query(&t, "svc.cluster.local", DNS_T_A, &r);
	CHECK_EQ(r.rcode, 0);
	CHECK_STR(r.authority, SOA_CL);
	kt_query(&t, "pod.cluster.local", DNS_T_AAAA, &r);
	CHECK_EQ(r.rcode, 0);
	kt_query(&t, "cluster.local", DNS_T_A, &r);
	CHECK_EQ(r.rcode, 0);
	CHECK_EQ(r.an, 0);
	/* Last label not svc/pod: NXDOMAIN (search-path misses). */
	kt_query(&t, "api.github.com.default.svc.cluster.local", DNS_T_A, &r);
	CHECK_EQ(r.rcode, 3);
	CHECK_STR(r.authority, SOA_CL);
	kt_query(&t, "api.github.com.cluster.local", DNS_T_A, &r);
	CHECK_EQ(r.rcode, 3);
	kt_query(&t, "foo.cluster.local", DNS_T_AAAA, &r);
	CHECK_EQ(r.rcode, 3);
	/* Apex SOA and NS. */
	kt_query(&t, "cluster.local", DNS_T_SOA, &r);
	CHECK_EQ(r.rcode, 0);
	CHECK(r.aa);
	CHECK_STR(r.answer, SOA_CL);
	CHECK_STR(r.authority, "");
	kt_query(&t, "Cluster.Local", DNS_T_SOA, &r);
	CHECK_STR(r.answer, "Cluster.Local. 5 IN SOA ns.dns.Cluster.Local. hostmaster.Cluster.Local. 1700000000 7200 1800 86400 5\n");
	/* Negative answers keep the configured zone's case (one value for the whole zone). */
	kt_query(&t, "Nope.Default.SVC.Cluster.Local", DNS_T_A, &r);
	CHECK_EQ(r.rcode, 3);
	CHECK_STR(r.authority, SOA_CL);
	kt_query(&t, "cluster.local", DNS_T_NS, &r);
	CHECK_STR(r.answer, "cluster.local. 5 IN NS ns.dns.cluster.local.\n");
	/* TXT: NXDOMAIN where no record of any type exists, as CoreDNS. */
	kt_query(&t, "default.svc.cluster.local", DNS_T_TXT, &r);
	CHECK_EQ(r.rcode, 3);
	kt_query(&t, "cluster.local", DNS_T_TXT, &r);
	CHECK_EQ(r.rcode, 3);
	/* Zone transfers are refused. */
	kt_query(&t, "cluster.local", DNS_T_AXFR, &r);
	CHECK_EQ(r.rcode, 5);
	CHECK(!r.aa);
	kt_query(&t, "cluster.local", DNS_T_IXFR, &r);
	CHECK_EQ(r.rcode, 5);
	/* Names outside the zones are not ours. */
	kt_query(&t, "example.com", DNS_T_A, &r);
	CHECK_EQ(r.kind, K8S_RC_NOTOURS);
	kt_fini(&t);
}

static void test_ns_addrs(void)
{
	struct kt t;
	struct kt_resp r;

	kt_init(&t, "cluster.local", NULL);
	k8s_ip_parse(&t.syn.nsaddr[0], "198.18.0.53");
	k8s_ip_parse(&t.syn.nsaddr[1], "2001:db8::53");
	t.syn.n_nsaddr = 2;
	kt_query(&t, "cluster.local", DNS_T_NS, &r);
	CHECK_STR(r.answer, "cluster.local. 5 IN NS ns.dns.cluster.local.\n");
	CHECK_STR(r.additional, "ns.dns.cluster.local. 5 IN A 198.18.0.53\n"
				"ns.dns.cluster.local. 5 IN AAAA 2001:db8::53\n");
	kt_query(&t, "CLUSTER.local", DNS_T_NS, &r);
	CHECK_STR(r.answer, "CLUSTER.local. 5 IN NS ns.dns.CLUSTER.local.\n");
	CHECK_STR(r.additional, "ns.dns.CLUSTER.local. 5 IN A 198.18.0.53\n"
				"ns.dns.CLUSTER.local. 5 IN AAAA 2001:db8::53\n");
	kt_query(&t, "ns.dns.cluster.local", DNS_T_A, &r);
	CHECK_STR(r.answer, "ns.dns.cluster.local. 5 IN A 198.18.0.53\n");
	kt_query(&t, "ns.dns.cluster.local", DNS_T_AAAA, &r);
	CHECK_STR(r.answer, "ns.dns.cluster.local. 5 IN AAAA 2001:db8::53\n");
	kt_fini(&t);
}

static void test_ptr(void)
{
	static const char *const fall[] = { "fallthrough in-addr.arpa ip6.arpa", NULL };
	struct kt t;
	struct kt_resp r;

	kt_init(&t, "cluster.local in-addr.arpa ip6.arpa", default_opts);
	cluster(&t);
	kt_query(&t, "10.0.96.10.in-addr.arpa", DNS_T_PTR, &r);
	CHECK_EQ(r.rcode, 0);
	CHECK(r.aa);
	CHECK_STR(r.answer, "10.0.96.10.in-addr.arpa. 5 IN PTR mysvc.default.svc.cluster.local.\n");
	/* Endpoint addresses: hostname.service. */
	kt_query(&t, "1.2.244.10.in-addr.arpa", DNS_T_PTR, &r);
	CHECK_STR(r.answer, "1.2.244.10.in-addr.arpa. 5 IN PTR web-0.hl.default.svc.cluster.local.\n");
	kt_query(&t, "5.1.244.10.in-addr.arpa", DNS_T_PTR, &r);
	CHECK_STR(r.answer, "5.1.244.10.in-addr.arpa. 5 IN PTR 10-244-1-5.mysvc.default.svc.cluster.local.\n");
	/* IPv6 ClusterIP. */
	kt_query(&t, "1.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa",
		 DNS_T_PTR, &r);
	CHECK_STR(r.answer, "1.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa. 5 IN PTR dual.default.svc.cluster.local.\n");
	/* Not ready endpoint, unknown address: NXDOMAIN with the reverse zone's SOA. */
	kt_query(&t, "6.1.244.10.in-addr.arpa", DNS_T_PTR, &r);
	CHECK_EQ(r.rcode, 3);
	CHECK_STR(r.authority, SOA_REV4);
	kt_query(&t, "9.9.9.9.in-addr.arpa", DNS_T_PTR, &r);
	CHECK_EQ(r.rcode, 3);
	/* Other types on a reverse name: name error as CoreDNS. */
	kt_query(&t, "10.0.96.10.in-addr.arpa", DNS_T_A, &r);
	CHECK_EQ(r.rcode, 3);
	kt_fini(&t);
	kt_init(&t, "cluster.local in-addr.arpa ip6.arpa", fall);
	cluster(&t);
	kt_query(&t, "9.9.9.9.in-addr.arpa", DNS_T_PTR, &r);
	CHECK_EQ(r.kind, K8S_RC_FALLTHROUGH);
	kt_query(&t, "10.0.96.10.in-addr.arpa", DNS_T_PTR, &r);
	CHECK_EQ(r.kind, K8S_RC_ANSWER);
	/* fallthrough limited to the reverse zones: forward misses stay NXDOMAIN. */
	kt_query(&t, "nope.default.svc.cluster.local", DNS_T_A, &r);
	CHECK_EQ(r.kind, K8S_RC_NXDOMAIN);
	kt_fini(&t);
}

static void test_ptr_multi(void)
{
	struct kt t;
	struct kt_resp r;

	kt_init(&t, "cluster.local in-addr.arpa", NULL);
	kt_apply(&t, K8S_RES_NS, kt_ns("default"));
	kt_apply(&t, K8S_RES_SVC, kt_svc("default", "a", "\"10.96.1.1\"", P_HTTP));
	kt_apply(&t, K8S_RES_SVC, kt_svc("default", "b", "\"10.96.1.2\"", P_HTTP));
	/* The same pod selected by two services, and twice by one (two slices). */
	kt_apply(&t, K8S_RES_SLICE, kt_slice("default", "a-1", "a", "IPv4", EP("10.244.9.9"),
					     "[" P_HTTP "]"));
	kt_apply(&t, K8S_RES_SLICE, kt_slice("default", "a-2", "a", "IPv4", EP("10.244.9.9"),
					     "[" P_HTTP "]"));
	kt_apply(&t, K8S_RES_SLICE, kt_slice("default", "b-1", "b", "IPv4", EP("10.244.9.9"),
					     "[" P_HTTP "]"));
	kt_query(&t, "9.9.244.10.in-addr.arpa", DNS_T_PTR, &r);
	CHECK_STR(r.answer, "9.9.244.10.in-addr.arpa. 5 IN PTR 10-244-9-9.a.default.svc.cluster.local.\n"
			    "9.9.244.10.in-addr.arpa. 5 IN PTR 10-244-9-9.b.default.svc.cluster.local.\n");
	kt_fini(&t);
}

static void test_externalname(void)
{
	struct kt t;
	struct kt_resp r;

	kt_init(&t, "cluster.local", NULL);
	cluster(&t);
	kt_query(&t, "ext.default.svc.cluster.local", DNS_T_CNAME, &r);
	CHECK_EQ(r.rcode, 0);
	CHECK(r.aa);
	CHECK_STR(r.answer, "ext.default.svc.cluster.local. 5 IN CNAME api.example.com.\n");
	/* Out of zone: the CNAME, and the rest is for the chain (forward). */
	kt_query(&t, "ext.default.svc.cluster.local", DNS_T_A, &r);
	CHECK_STR(r.answer, "ext.default.svc.cluster.local. 5 IN CNAME api.example.com.\n");
	CHECK(r.upstream);
	/* In zone: CNAME then the target's records. */
	kt_query(&t, "alias.default.svc.cluster.local", DNS_T_A, &r);
	CHECK_STR(r.answer, "alias.default.svc.cluster.local. 5 IN CNAME mysvc.default.svc.cluster.local.\n"
			    "mysvc.default.svc.cluster.local. 5 IN A 10.96.0.10\n");
	CHECK(!r.upstream);
	/* Target without records: no CNAME either -> NODATA. */
	kt_query(&t, "alias.default.svc.cluster.local", DNS_T_AAAA, &r);
	CHECK_EQ(r.rcode, 0);
	CHECK_EQ(r.an, 0);
	kt_query(&t, "dangling.default.svc.cluster.local", DNS_T_A, &r);
	CHECK_EQ(r.rcode, 0);
	CHECK_EQ(r.an, 0);
	CHECK_STR(r.authority, SOA_CL);
	/* IP-valued ExternalName is ignored. */
	kt_query(&t, "ipext.default.svc.cluster.local", DNS_T_A, &r);
	CHECK_EQ(r.rcode, 3);
	/* No endpoints or ports below an ExternalName. */
	kt_query(&t, "_http._tcp.ext.default.svc.cluster.local", DNS_T_SRV, &r);
	CHECK_EQ(r.rcode, 3);
	/* Changing the target service changes the alias. */
	kt_apply(&t, K8S_RES_SVC, kt_svc("default", "mysvc", "\"10.96.0.99\"", P_HTTP));
	kt_query(&t, "alias.default.svc.cluster.local", DNS_T_A, &r);
	CHECK_STR(r.answer, "alias.default.svc.cluster.local. 5 IN CNAME mysvc.default.svc.cluster.local.\n"
			    "mysvc.default.svc.cluster.local. 5 IN A 10.96.0.99\n");
	/* A CNAME loop ends. */
	kt_apply(&t, K8S_RES_SVC, kt_extname("default", "l1", "l2.default.svc.cluster.local"));
	kt_apply(&t, K8S_RES_SVC, kt_extname("default", "l2", "l1.default.svc.cluster.local"));
	kt_query(&t, "l1.default.svc.cluster.local", DNS_T_A, &r);
	CHECK_EQ(r.rcode, 0);
	CHECK_EQ(r.an, 0);
	kt_fini(&t);
}

static void test_pods(void)
{
	static const char *const verified[] = { "pods verified", NULL };
	struct kt t;
	struct kt_resp r;

	kt_init(&t, "cluster.local", default_opts);
	cluster(&t);
	kt_query(&t, "10-244-1-5.default.pod.cluster.local", DNS_T_A, &r);
	CHECK_STR(r.answer, "10-244-1-5.default.pod.cluster.local. 5 IN A 10.244.1.5\n");
	kt_query(&t, "1-2-3-4.empty.pod.cluster.local", DNS_T_A, &r);
	CHECK_STR(r.answer, "1-2-3-4.empty.pod.cluster.local. 5 IN A 1.2.3.4\n");
	kt_query(&t, "fd00--5.default.pod.cluster.local", DNS_T_AAAA, &r);
	CHECK_STR(r.answer, "fd00--5.default.pod.cluster.local. 5 IN AAAA fd00::5\n");
	kt_query(&t, "fd00--5.default.pod.cluster.local", DNS_T_A, &r);
	CHECK_EQ(r.rcode, 0);
	CHECK_EQ(r.an, 0);
	kt_query(&t, "1-2-3.default.pod.cluster.local", DNS_T_A, &r);
	CHECK_EQ(r.rcode, 3);
	kt_query(&t, "1-2-3-4.nons.pod.cluster.local", DNS_T_A, &r);
	CHECK_EQ(r.rcode, 3);
	kt_query(&t, "default.pod.cluster.local", DNS_T_A, &r);
	CHECK_EQ(r.rcode, 0);
	CHECK_STR(r.authority, SOA_CL);
	kt_fini(&t);

	kt_init(&t, "cluster.local", NULL); /* pods disabled */
	cluster(&t);
	kt_query(&t, "1-2-3-4.default.pod.cluster.local", DNS_T_A, &r);
	CHECK_EQ(r.rcode, 3);
	kt_query(&t, "default.pod.cluster.local", DNS_T_A, &r);
	CHECK_EQ(r.rcode, 3);
	kt_query(&t, "pod.cluster.local", DNS_T_A, &r);
	CHECK_EQ(r.rcode, 0);
	kt_fini(&t);

	kt_init(&t, "cluster.local", verified);
	cluster(&t);
	kt_apply(&t, K8S_RES_POD, kt_pod("default", "web", "10.244.1.5"));
	kt_query(&t, "10-244-1-5.default.pod.cluster.local", DNS_T_A, &r);
	CHECK_STR(r.answer, "10-244-1-5.default.pod.cluster.local. 5 IN A 10.244.1.5\n");
	kt_query(&t, "10-244-1-5.kube-system.pod.cluster.local", DNS_T_A, &r);
	CHECK_EQ(r.rcode, 3);
	kt_query(&t, "10-244-1-7.default.pod.cluster.local", DNS_T_A, &r);
	CHECK_EQ(r.rcode, 3);
	kt_delete(&t, K8S_RES_POD, "default", "web");
	kt_query(&t, "10-244-1-5.default.pod.cluster.local", DNS_T_A, &r);
	CHECK_EQ(r.rcode, 3);
	kt_fini(&t);
}

static void test_options(void)
{
	static const char *const ttl30[] = { "ttl 30", NULL };
	static const char *const ttl600[] = { "ttl 600", NULL };
	static const char *const nsopt[] = { "namespaces kube-system", NULL };
	static const char *const podnames[] = { "endpoint_pod_names", NULL };
	static const char *const noeps[] = { "noendpoints", NULL };
	struct kt t;
	struct kt_resp r;

	kt_init(&t, "cluster.local", ttl30);
	cluster(&t);
	kt_query(&t, "mysvc.default.svc.cluster.local", DNS_T_A, &r);
	CHECK_STR(r.answer, "mysvc.default.svc.cluster.local. 30 IN A 10.96.0.10\n");
	kt_query(&t, "nope.default.svc.cluster.local", DNS_T_A, &r);
	CHECK_STR(r.authority, "cluster.local. 30 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1700000000 7200 1800 86400 30\n");
	kt_fini(&t);

	kt_init(&t, "cluster.local", ttl600);
	kt_query(&t, "nope.default.svc.cluster.local", DNS_T_A, &r);
	CHECK_STR(r.authority, "cluster.local. 300 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1700000000 7200 1800 86400 600\n");
	kt_fini(&t);

	kt_init(&t, "cluster.local", nsopt);
	cluster(&t);
	kt_query(&t, "mysvc.default.svc.cluster.local", DNS_T_A, &r);
	CHECK_EQ(r.rcode, 3);
	kt_query(&t, "default.svc.cluster.local", DNS_T_A, &r);
	CHECK_EQ(r.rcode, 3);
	kt_query(&t, "kube-dns.kube-system.svc.cluster.local", DNS_T_A, &r);
	CHECK_EQ(r.rcode, 0);
	CHECK_EQ(r.an, 1);
	kt_fini(&t);

	kt_init(&t, "cluster.local", podnames);
	kt_apply(&t, K8S_RES_NS, kt_ns("default"));
	kt_apply(&t, K8S_RES_SVC, kt_headless("default", "db", P_HTTP));
	kt_apply(&t, K8S_RES_SLICE, kt_slice("default", "db-1", "db", "IPv4",
		 "{\"addresses\":[\"10.9.9.9\"],\"targetRef\":{\"kind\":\"Pod\",\"name\":\"db-7f9c\"}}",
		 "[" P_HTTP "]"));
	kt_query(&t, "db-7f9c.db.default.svc.cluster.local", DNS_T_A, &r);
	CHECK_STR(r.answer, "db-7f9c.db.default.svc.cluster.local. 5 IN A 10.9.9.9\n");
	kt_fini(&t);

	kt_init(&t, "cluster.local", noeps);
	kt_apply(&t, K8S_RES_NS, kt_ns("default"));
	kt_apply(&t, K8S_RES_SVC, kt_headless("default", "db", P_HTTP));
	kt_query(&t, "db.default.svc.cluster.local", DNS_T_A, &r);
	CHECK_EQ(r.rcode, 3);
	kt_fini(&t);
}

static void test_not_synced(void)
{
	struct kt t;
	struct kt_resp r;

	kt_init(&t, "cluster.local", NULL);
	cluster(&t);
	t.syn.synced = false;
	/* Would-be NXDOMAIN answers SERVFAIL; what is known is answered. */
	kt_query(&t, "nope.default.svc.cluster.local", DNS_T_A, &r);
	CHECK_EQ(r.rcode, 2);
	CHECK_EQ(r.kind, K8S_RC_SERVFAIL);
	kt_query(&t, "mysvc.default.svc.cluster.local", DNS_T_A, &r);
	CHECK_EQ(r.rcode, 0);
	CHECK_EQ(r.an, 1);
	kt_fini(&t);
}

static void test_slice_without_ports(void)
{
	struct kt t;
	struct kt_resp r;

	kt_init(&t, "cluster.local", NULL);
	kt_apply(&t, K8S_RES_NS, kt_ns("default"));
	kt_apply(&t, K8S_RES_SVC, kt_headless("default", "np", ""));
	kt_apply(&t, K8S_RES_SLICE, kt_slice("default", "np-1", "np", "IPv4", EP("10.7.7.7"), "null"));
	/* No ports: A only. */
	kt_query(&t, "np.default.svc.cluster.local", DNS_T_A, &r);
	CHECK_STR(r.answer, "np.default.svc.cluster.local. 5 IN A 10.7.7.7\n");
	kt_query(&t, "np.default.svc.cluster.local", DNS_T_SRV, &r);
	CHECK_EQ(r.rcode, 0);
	CHECK_EQ(r.an, 0);
	/* FQDN slices are not endpoints. */
	kt_apply(&t, K8S_RES_SVC, kt_headless("default", "fq", P_HTTP));
	kt_apply(&t, K8S_RES_SLICE, kt_slice("default", "fq-1", "fq", "FQDN",
		 "{\"addresses\":[\"foo.example.com\"]}", "[" P_HTTP "]"));
	kt_query(&t, "fq.default.svc.cluster.local", DNS_T_A, &r);
	CHECK_EQ(r.rcode, 3);
	kt_fini(&t);
}

int main(void)
{
	test_dns_version();
	test_clusterip();
	test_empty_service();
	test_headless();
	test_srv();
	test_srv_weights();
	test_namespaces_and_apex();
	test_ns_addrs();
	test_ptr();
	test_ptr_multi();
	test_externalname();
	test_pods();
	test_options();
	test_not_synced();
	test_slice_without_ports();
	return check_summary("test_k8s_synth");
}
