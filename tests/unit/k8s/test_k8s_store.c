/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - kubernetes plugin: object conversion, store event application and indices,
 * relists, label selectors, options, zones and kubeconfig parsing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "k8s_test.h"

#define P_HTTP "{\"name\":\"http\",\"port\":80,\"protocol\":\"TCP\"}"
#define EP(ip) "{\"addresses\":[\"" ip "\"],\"conditions\":{\"ready\":true}}"
#define EP_NOTREADY(ip) "{\"addresses\":[\"" ip "\"],\"conditions\":{\"ready\":false}}"

static unsigned refs(struct kt *t, const char *ip, bool cluster_ip)
{
	struct k8s_ip a;
	const struct k8s_ipent *e;
	unsigned n = 0;

	k8s_ip_parse(&a, ip);
	e = k8s_store_ip(&t->store, &a);
	for (unsigned i = 0; e != NULL && i < e->n; i++)
		n += (e->refs[i].ep == NULL) == cluster_ip;
	return n;
}

static void test_groups(void)
{
	struct kt t;
	struct k8s_group *g;

	kt_init(&t, "cluster.local", NULL);
	/* A slice before its service: the group exists, without a Service. */
	kt_apply(&t, K8S_RES_SLICE, kt_slice("default", "web-1", "web", "IPv4",
					     EP("10.0.0.1") "," EP_NOTREADY("10.0.0.2"), "[" P_HTTP "]"));
	g = k8s_store_group(&t.store, "default", "web");
	CHECK(g != NULL && g->svc == NULL && g->n_slices == 1);
	/* MODIFIED while the group has no Service: the group stays. */
	kt_apply(&t, K8S_RES_SLICE, kt_slice("default", "web-1", "web", "IPv4",
					     EP("10.0.0.1") "," EP_NOTREADY("10.0.0.2"), "[" P_HTTP "]"));
	g = k8s_store_group(&t.store, "default", "web");
	CHECK(g != NULL && g->svc == NULL && g->n_slices == 1);
	CHECK_EQ(refs(&t, "10.0.0.1", false), 1);
	CHECK_EQ(refs(&t, "10.0.0.2", false), 0); /* not ready: not indexed */
	kt_apply(&t, K8S_RES_SVC, kt_svc("default", "web", "\"10.96.0.1\"", P_HTTP));
	CHECK(g == k8s_store_group(&t.store, "default", "web") && g->svc != NULL);
	CHECK_EQ(refs(&t, "10.96.0.1", true), 1);
	/* MODIFIED: new ClusterIP replaces the old one in the index. */
	kt_apply(&t, K8S_RES_SVC, kt_svc("default", "web", "\"10.96.0.2\"", P_HTTP));
	CHECK_EQ(refs(&t, "10.96.0.1", true), 0);
	CHECK_EQ(refs(&t, "10.96.0.2", true), 1);
	/* The slice's label moves it to another service. */
	kt_apply(&t, K8S_RES_SLICE, kt_slice("default", "web-1", "api", "IPv4", EP("10.0.0.1"),
					     "[" P_HTTP "]"));
	CHECK_EQ(g->n_slices, 0);
	CHECK(k8s_store_group(&t.store, "default", "api") != NULL);
	CHECK_EQ(refs(&t, "10.0.0.1", false), 1);
	/* Deleting the service frees a group without slices. */
	kt_delete(&t, K8S_RES_SVC, "default", "web");
	CHECK(k8s_store_group(&t.store, "default", "web") == NULL);
	CHECK_EQ(refs(&t, "10.96.0.2", true), 0);
	kt_delete(&t, K8S_RES_SLICE, "default", "web-1");
	CHECK(k8s_store_group(&t.store, "default", "api") == NULL);
	CHECK(k8s_store_ip(&t.store, &(struct k8s_ip){ 0 }) == NULL);
	CHECK_EQ(t.store.ips.n, 0);
	CHECK_EQ(t.store.groups.n, 0);
	CHECK_EQ(t.store.ns.n, 0);
	/* Deleting what is not there is harmless. */
	kt_delete(&t, K8S_RES_SVC, "default", "ghost");
	kt_fini(&t);
}

static void test_relist(void)
{
	struct kt t;
	struct k8s_obj **stale;
	size_t n = 0;

	kt_init(&t, "cluster.local", NULL);
	kt_apply(&t, K8S_RES_SVC, kt_svc("a", "one", "\"10.96.0.1\"", P_HTTP));
	kt_apply(&t, K8S_RES_SVC, kt_svc("a", "two", "\"10.96.0.2\"", P_HTTP));
	kt_apply(&t, K8S_RES_SVC, kt_svc("b", "three", "\"10.96.0.3\"", P_HTTP));
	k8s_store_list_begin(&t.store, K8S_RES_SVC);
	kt_apply(&t, K8S_RES_SVC, kt_svc("a", "one", "\"10.96.0.1\"", P_HTTP));
	k8s_store_touch(&t.store, k8s_store_obj(&t.store, K8S_RES_SVC, "b/three"));
	stale = k8s_store_stale(&t.store, K8S_RES_SVC, &n);
	CHECK_EQ(n, 1);
	CHECK_STR(n == 1 ? stale[0]->key : NULL, "a/two");
	CHECK(n == 1 && stale[0]->tombstone);
	for (size_t i = 0; i < n; i++)
		k8s_obj_free(stale[i]);
	free(stale);
	kt_fini(&t);
}

static void test_pods_and_deps(void)
{
	struct kt t;
	struct k8s_ip ip;
	const struct k8s_dep *d;

	kt_init(&t, "cluster.local", NULL);
	k8s_ip_parse(&ip, "10.244.0.9");
	kt_apply(&t, K8S_RES_POD, kt_pod("default", "p1", "10.244.0.9"));
	kt_apply(&t, K8S_RES_POD, kt_pod("default", "p2", "10.244.0.9")); /* host network */
	CHECK_EQ(k8s_store_pod_ip(&t.store, "default", &ip), 2);
	CHECK_EQ(k8s_store_pod_ip(&t.store, "other", &ip), 0);
	kt_delete(&t, K8S_RES_POD, "default", "p1");
	CHECK_EQ(k8s_store_pod_ip(&t.store, "default", &ip), 1);
	/* A terminating pod is a deletion. */
	kt_apply(&t, K8S_RES_POD, "{\"metadata\":{\"name\":\"p2\",\"namespace\":\"default\","
		 "\"deletionTimestamp\":\"2024-01-01T00:00:00Z\"},\"status\":{\"podIP\":\"10.244.0.9\"}}");
	CHECK_EQ(k8s_store_pod_ip(&t.store, "default", &ip), 0);
	/* ExternalName targets in the zone are indexed by the service they name. */
	kt_apply(&t, K8S_RES_SVC, kt_extname("default", "alias", "Web.Prod.svc.cluster.local."));
	d = k8s_store_dep(&t.store, "prod/web");
	CHECK(d != NULL && d->dependents != NULL && strcmp(d->dependents->name, "alias") == 0);
	kt_apply(&t, K8S_RES_SVC, kt_extname("default", "alias", "example.com"));
	CHECK(k8s_store_dep(&t.store, "prod/web") == NULL);
	kt_fini(&t);
}

static void test_conversion(void)
{
	static const char *const conv[] = { "labels app=web,tier in (front, back)",
					    "namespace_labels team!=ops", NULL };
	struct kt t;
	struct k8s_obj *o;

	kt_init(&t, "cluster.local", conv);
	/* Services without the labels are filtered out (a tombstone). */
	kt_apply(&t, K8S_RES_SVC, "{\"metadata\":{\"name\":\"a\",\"namespace\":\"x\",\"labels\":"
		 "{\"app\":\"web\",\"tier\":\"front\"}},\"spec\":{\"clusterIP\":\"10.96.0.1\"}}");
	kt_apply(&t, K8S_RES_SVC, "{\"metadata\":{\"name\":\"b\",\"namespace\":\"x\",\"labels\":"
		 "{\"app\":\"web\",\"tier\":\"db\"}},\"spec\":{\"clusterIP\":\"10.96.0.2\"}}");
	CHECK(k8s_store_obj(&t.store, K8S_RES_SVC, "x/a") != NULL);
	CHECK(k8s_store_obj(&t.store, K8S_RES_SVC, "x/b") == NULL);
	kt_apply(&t, K8S_RES_NS, "{\"metadata\":{\"name\":\"x\",\"labels\":{\"team\":\"dev\"}}}");
	kt_apply(&t, K8S_RES_NS, "{\"metadata\":{\"name\":\"y\",\"labels\":{\"team\":\"ops\"}}}");
	CHECK(k8s_store_ns(&t.store, "x")->obj != NULL);
	CHECK(k8s_store_ns(&t.store, "y") == NULL);
	/* Fields: clusterIP only (older objects), ports, protocol case, ExternalName dot. */
	kt_apply(&t, K8S_RES_SVC, "{\"metadata\":{\"name\":\"c\",\"namespace\":\"x\",\"labels\":"
		 "{\"app\":\"web\",\"tier\":\"back\"}},\"spec\":{\"clusterIP\":\"fd00::5\",\"ports\":"
		 "[{\"name\":\"dns\",\"port\":53,\"protocol\":\"UDP\"},{\"port\":99,\"protocol\":\"SCTP\"}]}}");
	o = k8s_store_obj(&t.store, K8S_RES_SVC, "x/c");
	CHECK(o != NULL && o->u.svc.n_ips == 1 && o->u.svc.ips[0].fam == 6);
	CHECK(o != NULL && o->u.svc.n_ports == 2 && strcmp(o->u.svc.ports[0].proto, "udp") == 0 &&
	      strcmp(o->u.svc.ports[1].proto, "sctp") == 0 && o->u.svc.ports[1].name[0] == '\0');
	kt_fini(&t);
}

static void test_selectors(void)
{
	static const struct { const char *sel, *labels; bool match; } cases[] = {
		{ "app=web", "{\"app\":\"web\"}", true },
		{ "app==web", "{\"app\":\"db\"}", false },
		{ "app!=web", "{}", true },
		{ "app", "{\"app\":\"\"}", true },
		{ "!app", "{\"app\":\"x\"}", false },
		{ "env in (a,b), app notin (x)", "{\"env\":\"b\"}", true },
		{ "env in (a,b)", "{\"env\":\"c\"}", false },
		{ "k8s.io/name=x-y_z.1", "{\"k8s.io/name\":\"x-y_z.1\"}", true },
	};
	static const char *const bad[] = { "", "a=b=c", "in (a)", "a in (b", "a ~ b", "a=b,", NULL };
	char err[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct k8s_selector *s = k8s_selector_parse(cases[i].sel, err, sizeof(err));
		json_t *l = json_loads(cases[i].labels, 0, NULL);

		CHECK(s != NULL);
		CHECK_MSG(s == NULL || k8s_selector_match(s, l) == cases[i].match,
			  "selector \"%s\" on %s", cases[i].sel, cases[i].labels);
		json_decref(l);
		k8s_selector_free(s);
	}
	for (size_t i = 0; bad[i] != NULL; i++) {
		struct k8s_selector *s = k8s_selector_parse(bad[i], err, sizeof(err));

		CHECK_MSG(s == NULL, "selector \"%s\" accepted", bad[i]);
		k8s_selector_free(s);
	}
}

static void test_zones_and_options(void)
{
	struct k8s_config c;
	char err[256];
	uint64_t ms = 0;
	const char *one[] = { "10" };

	k8s_config_init(&c);
	CHECK_EQ(c.ttl, 5);
	CHECK_EQ(c.startup_timeout_ms, 5000);
	CHECK_EQ(k8s_config_add_zone(&c, "Cluster.Local.", err, sizeof(err)), 0);
	CHECK_EQ(k8s_config_add_zone(&c, "10.0.0.0/8", err, sizeof(err)), 0);
	CHECK_EQ(k8s_config_add_zone(&c, "192.0.2.0/23", err, sizeof(err)), 0);
	CHECK_EQ(k8s_config_add_zone(&c, "fd00::/15", err, sizeof(err)), 0);
	CHECK_EQ(c.n_zones, 1 + 1 + 2 + 2);
	CHECK_STR(c.zones[0].name, "cluster.local.");
	CHECK_STR(c.zones[1].name, "10.in-addr.arpa.");
	CHECK_STR(c.zones[2].name, "2.0.192.in-addr.arpa.");
	CHECK_STR(c.zones[3].name, "3.0.192.in-addr.arpa.");
	CHECK_STR(c.zones[4].name, "0.0.d.f.ip6.arpa.");
	CHECK_STR(c.zones[5].name, "1.0.d.f.ip6.arpa.");
	CHECK_EQ(c.zones[1].reverse, 4);
	CHECK_EQ(c.zones[4].reverse, 6);
	CHECK_EQ(c.primary, 0);
	CHECK_EQ(k8s_config_option(&c, "ttl", one, 1, err, sizeof(err)), 0);
	CHECK_EQ(c.ttl, 10);
	CHECK_EQ(k8s_config_option(&c, "noendpoints", one, 1, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "noendpoints takes no arguments");
	CHECK_EQ(k8s_config_option(&c, "multicluster", one, 1, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "unknown property 'multicluster'");
	CHECK_EQ(k8s_config_option(&c, "endpoint", (const char *[]){ "ftp://x" }, 1, err, sizeof(err)),
		 -EINVAL);
	CHECK_EQ(k8s_config_option(&c, "tls", one, 1, err, sizeof(err)), -EINVAL);
	k8s_config_fini(&c);
	CHECK_EQ(k8s_parse_duration_ms("1m30s", &ms), 0);
	CHECK_EQ(ms, 90000);
	CHECK_EQ(k8s_parse_duration_ms("250ms", &ms), 0);
	CHECK_EQ(ms, 250);
	CHECK_EQ(k8s_parse_duration_ms("1.5h", &ms), 0);
	CHECK_EQ(ms, 5400000);
	CHECK_EQ(k8s_parse_duration_ms("5", &ms), -EINVAL);
	CHECK_EQ(k8s_parse_duration_ms("s", &ms), -EINVAL);
	/* In-cluster configuration from the environment. */
	k8s_config_init(&c);
	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	CHECK_EQ(k8s_config_finish(&c, err, sizeof(err)), 0);
	CHECK_STR(c.conn.server, "https://[fd00::1]:443");
	CHECK_STR(c.conn.token_file, "/var/run/secrets/kubernetes.io/serviceaccount/token");
	CHECK_STR(c.conn.ca_file, "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt");
	unsetenv("KUBERNETES_SERVICE_HOST");
	CHECK_EQ(k8s_config_finish(&c, err, sizeof(err)), -EINVAL);
	k8s_config_fini(&c);
}

static const char kc_yaml[] =
	"# kubectl style: sequences at the key's column\n"
	"apiVersion: v1\n"
	"clusters:\n"
	"- cluster:\n"
	"    certificate-authority-data: aGVsbG8=\n"
	"    server: https://127.0.0.1:6443/\n"
	"  name: kind-kind\n"
	"- name: other\n"
	"  cluster:\n"
	"    server: 'https://other:443'\n"
	"    insecure-skip-tls-verify: true\n"
	"contexts:\n"
	"  - context:\n"
	"      cluster: other\n"
	"      user: \"o\"\n"
	"    name: other\n"
	"  - name: kind-kind\n"
	"    context: %s\n"
	"current-context: other\n"
	"kind: Config\n"
	"preferences: {}\n"
	"users:\n"
	"- name: o\n"
	"  user:\n"
	"    client-certificate: certs/o.crt   # relative to the file\n"
	"    client-key-data: a2V5\n"
	"    tokenFile: /run/tok\n";

static void test_kubeconfig(void)
{
	char path[64] = "/tmp/h7-kc-XXXXXX", err[256];
	struct k8s_conn conn;
	int fd = mkstemp(path);
	char text[2048];
	json_t *j;

	/* Flow mappings other than {} are not in the subset: a clear error. */
	snprintf(text, sizeof(text), kc_yaml, "{cluster: x}");
	j = k8s_kubeconfig_parse_text(text, err, sizeof(err));
	CHECK(j == NULL);
	CHECK(strstr(err, "line 18") != NULL);
	json_decref(j);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	snprintf(text, sizeof(text), kc_yaml, "{}");
	CHECK_EQ(write(fd, text, strlen(text)), (long long)strlen(text));
	close(fd);
	memset(&conn, 0, sizeof(conn));
	CHECK_EQ(k8s_kubeconfig_load(path, NULL, &conn, err, sizeof(err)), 0);
	CHECK_STR(conn.server, "https://other:443");
	CHECK(conn.insecure);
	CHECK(conn.cert_file != NULL && strncmp(conn.cert_file, "/tmp/certs/o.crt", 16) == 0);
	CHECK(conn.key_data != NULL && conn.key_len == 3 && memcmp(conn.key_data, "key", 3) == 0);
	CHECK_STR(conn.token_file, "/run/tok");
	k8s_conn_fini(&conn);
	/* Another context; its cluster's CA data. */
	CHECK_EQ(k8s_kubeconfig_load(path, "kind-kind", &conn, err, sizeof(err)), -ENOENT);
	CHECK(strstr(err, "cluster \"\" of context \"kind-kind\" not found") != NULL);
	CHECK_EQ(k8s_kubeconfig_load(path, "nope", &conn, err, sizeof(err)), -ENOENT);
	CHECK(strstr(err, "context \"nope\" not found") != NULL);
	unlink(path);
	/* The JSON form. */
	fd = mkstemp(strcpy(path, "/tmp/h7-kc-XXXXXX"));
	{
		static const char js[] = "{\"clusters\":[{\"name\":\"c\",\"cluster\":{\"server\":"
			"\"http://127.0.0.1:1\",\"certificate-authority-data\":\"aGVsbG8=\"}}],"
			"\"contexts\":[{\"name\":\"x\",\"context\":{\"cluster\":\"c\",\"user\":\"u\"}}],"
			"\"users\":[{\"name\":\"u\",\"user\":{\"token\":\"abc\"}}],\"current-context\":\"x\"}";

		CHECK_EQ(write(fd, js, sizeof(js) - 1), (long long)sizeof(js) - 1);
		close(fd);
	}
	CHECK_EQ(k8s_kubeconfig_load(path, NULL, &conn, err, sizeof(err)), 0);
	CHECK_STR(conn.server, "http://127.0.0.1:1");
	CHECK_STR(conn.token, "abc");
	CHECK(conn.ca_len == 5 && memcmp(conn.ca_data, "hello", 5) == 0);
	k8s_conn_fini(&conn);
	unlink(path);
}

/* RFC 3339 as the API writes times (the slice's last-change-trigger-time annotation). */
static void test_times(void)
{
	int64_t ns = -1;

	CHECK_EQ(k8s_parse_time("1970-01-01T00:00:00Z", &ns), 0);
	CHECK_EQ(ns, 0);
	CHECK_EQ(k8s_parse_time("2024-02-29T12:34:56Z", &ns), 0);
	CHECK_EQ(ns, 1709210096LL * 1000000000);
	CHECK_EQ(k8s_parse_time("2024-02-29T12:34:56.123456789Z", &ns), 0);
	CHECK_EQ(ns, 1709210096LL * 1000000000 + 123456789);
	CHECK_EQ(k8s_parse_time("2024-02-29T12:34:56.5Z", &ns), 0);
	CHECK_EQ(ns, 1709210096LL * 1000000000 + 500000000);
	CHECK_EQ(k8s_parse_time("2024-02-29T14:34:56+02:00", &ns), 0);
	CHECK_EQ(ns, 1709210096LL * 1000000000);
	CHECK_EQ(k8s_parse_time("2024-02-29T07:04:56-05:30", &ns), 0);
	CHECK_EQ(ns, 1709210096LL * 1000000000);
	CHECK_EQ(k8s_parse_time("2024-02-29 12:34:56Z", &ns), -EINVAL);
	CHECK_EQ(k8s_parse_time("2024-02-29T12:34:56", &ns), -EINVAL);
	CHECK_EQ(k8s_parse_time("2024-13-01T00:00:00Z", &ns), -EINVAL);
	CHECK_EQ(k8s_parse_time("2024-02-29T12:34Z", &ns), -EINVAL);
	CHECK_EQ(k8s_parse_time("2024-02-29T12:34:56+0200", &ns), -EINVAL);
	CHECK_EQ(k8s_parse_time("", &ns), -EINVAL);
	CHECK_EQ(k8s_parse_time(NULL, &ns), -EINVAL);
	/* Past int64 nanoseconds (2262): refused, not wrapped. */
	CHECK_EQ(k8s_parse_time("9999-12-31T23:59:59Z", &ns), -EINVAL);
	CHECK_EQ(k8s_parse_time("2262-01-01T00:00:00Z", &ns), 0);
	CHECK(ns > 0);
}

int main(void)
{
	test_times();
	test_groups();
	test_relist();
	test_pods_and_deps();
	test_conversion();
	test_selectors();
	test_zones_and_options();
	test_kubeconfig();
	return check_summary("test_k8s_store");
}
