/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - kubernetes plugin unit test helpers (see k8s_test.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <ldns/ldns.h>

#include "k8s_test.h"

static int dep_key(void *ctx, const char *target, char *key, size_t cap)
{
	return k8s_synth_dep_key(ctx, target, key, cap);
}

void kt_init(struct kt *t, const char *zones, const char *const *options)
{
	char err[512], buf[1024];
	char *save = NULL;

	memset(t, 0, sizeof(*t));
	k8s_config_init(&t->cfg);
	snprintf(buf, sizeof(buf), "%s", zones);
	for (char *z = strtok_r(buf, " ", &save); z != NULL; z = strtok_r(NULL, " ", &save)) {
		CHECK_MSG(k8s_config_add_zone(&t->cfg, z, err, sizeof(err)) == 0, "zone %s: %s", z,
			  err);
	}
	for (unsigned i = 0; options != NULL && options[i] != NULL; i++) {
		char line[512], *args[16], *sp = NULL;
		unsigned n = 0;

		snprintf(line, sizeof(line), "%s", options[i]);
		for (char *w = strtok_r(line, " ", &sp); w != NULL && n < 16; w = strtok_r(NULL, " ", &sp))
			args[n++] = w;
		CHECK_MSG(k8s_config_option(&t->cfg, args[0], (const char *const *)args + 1, n - 1,
					    err, sizeof(err)) == 0, "option %s: %s", options[i], err);
	}
	k8s_store_init(&t->store, dep_key, &t->cfg);
	t->syn.cfg = &t->cfg;
	t->syn.store = &t->store;
	t->syn.serial = 1700000000;
	t->syn.synced = true;
	t->conv.labels = t->cfg.labels;
	t->conv.ns_labels = t->cfg.ns_labels;
	t->conv.endpoint_pod_names = t->cfg.endpoint_pod_names;
}

void kt_fini(struct kt *t)
{
	k8s_store_fini(&t->store);
	k8s_config_fini(&t->cfg);
}

void kt_apply(struct kt *t, enum k8s_res res, const char *json)
{
	json_error_t jerr;
	json_t *j = json_loads(json, 0, &jerr);
	struct k8s_obj *o;

	CHECK_MSG(j != NULL, "bad test JSON (%s): %s", jerr.text, json);
	if (j == NULL)
		return;
	o = k8s_obj_from_json(res, j, &t->conv);
	json_decref(j);
	CHECK(o != NULL);
	if (o != NULL)
		CHECK_EQ(k8s_store_apply(&t->store, o), 0);
}

void kt_delete(struct kt *t, enum k8s_res res, const char *ns, const char *name)
{
	struct k8s_obj *o = k8s_obj_tombstone(res, ns, name);

	CHECK(o != NULL);
	if (o != NULL)
		CHECK_EQ(k8s_store_apply(&t->store, o), 0);
}

/* Append the RRs of @p l as presentation lines (tabs folded to spaces). */
static void rrs_text(const ldns_rr_list *l, char *out, size_t cap)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; l != NULL && i < ldns_rr_list_rr_count(l); i++) {
		char *s = ldns_rr2str(ldns_rr_list_rr(l, i));

		for (char *p = s; p != NULL && *p != '\0'; p++) {
			if (*p == '\t')
				*p = ' ';
		}
		if (o < cap)
			o += (size_t)snprintf(out + o, cap - o, "%s", s ? s : "?\n");
		free(s);
	}
}

static size_t make_query(uint8_t *msg, const char *qname, uint16_t qtype)
{
	size_t o = DNS_HDR_LEN;
	const char *p = qname;

	memset(msg, 0, DNS_HDR_LEN);
	msg[0] = 0x12;
	msg[1] = 0x34;
	msg[5] = 1; /* QDCOUNT */
	/* Labels as written, case kept (dns_name_from_str would lower-case). */
	while (*p != '\0') {
		const char *dot = strchr(p, '.');
		size_t l = dot != NULL ? (size_t)(dot - p) : strlen(p);

		msg[o++] = (uint8_t)l;
		memcpy(msg + o, p, l);
		o += l;
		p += l + (dot != NULL);
	}
	msg[o++] = 0;
	msg[o++] = (uint8_t)(qtype >> 8);
	msg[o++] = (uint8_t)qtype;
	msg[o++] = 0;
	msg[o++] = 1;
	return o;
}

/*
 * The engine's path (k8s_build into a dns_builder) must give the same bytes as the
 * renderer for every answer a builder can hold.
 */
/* The answer's value as the engine builds it (whole, up to a TCP message). @return size */
static int build_value(struct kt *t, const struct k8s_answer *a, const struct dns_key *key,
		       uint8_t **val)
{
	struct dns_builder *b = malloc(sizeof(*b));
	uint8_t *spill = malloc(DNS_BUILD_SPILL_MAX);
	int n = -ENOMEM;

	*val = NULL;
	if (b == NULL || spill == NULL)
		goto out;
	dns_builder_init(b, key, 0);
	dns_builder_set_spill(b, spill, DNS_BUILD_SPILL_MAX);
	n = k8s_build(&t->syn, a, b, true);
	if (n == 0 && (*val = malloc(dns_builder_size(b))) == NULL)
		n = -ENOMEM;
	if (n == 0)
		n = dns_builder_finish(b, (struct dns_answer *)(void *)*val, dns_builder_size(b));
out:
	free(spill);
	free(b);
	return n;
}

void kt_query(struct kt *t, const char *qname, uint16_t qtype, struct kt_resp *r)
{
	uint8_t msg[65536], *val = NULL;
	size_t len = make_query(msg, qname, qtype);
	struct k8s_answer a;
	struct dns_query q;
	ldns_pkt *pkt = NULL;
	int n;

	memset(r, 0, sizeof(*r));
	r->rcode = -1;
	k8s_answer_init(&a);
	CHECK_EQ(dns_parse_query(msg, len, &q), DNS_RCODE_NOERROR);
	q.edns_size = 65535; /* as over TCP: the whole answer */
	q.has_edns = false;
	CHECK_EQ(k8s_synth_answer(&t->syn, q.key.name, q.key.name_len, qtype, NULL, &a), 0);
	r->kind = (int)a.rc;
	r->upstream = a.upstream;
	n = build_value(t, &a, &q.key, &val);
	if (n > 0) {
		/* dns_write_answer's UDP limit is 512 without EDNS: pretend EDNS 65535. */
		q.has_edns = true;
		n = dns_write_answer(msg, sizeof(msg), &q, (const struct dns_answer *)(void *)val, 0);
	}
	if (n > 0 && ldns_wire2pkt(&pkt, msg, (size_t)n) == LDNS_STATUS_OK) {
		r->rcode = ldns_pkt_get_rcode(pkt);
		r->aa = ldns_pkt_aa(pkt);
		r->tc = ldns_pkt_tc(pkt);
		r->an = ldns_pkt_ancount(pkt);
		r->ns = ldns_pkt_nscount(pkt);
		r->ar = ldns_pkt_arcount(pkt);
		rrs_text(ldns_pkt_answer(pkt), r->answer, sizeof(r->answer));
		rrs_text(ldns_pkt_authority(pkt), r->authority, sizeof(r->authority));
		rrs_text(ldns_pkt_additional(pkt), r->additional, sizeof(r->additional));
		ldns_pkt_free(pkt);
	}
	free(val);
	k8s_answer_fini(&a);
}

/* ------------------------------------------------------------------------- */

static char ring[16][4096];
static unsigned ring_i;

static char *rbuf(void)
{
	return ring[ring_i++ % 16];
}

const char *kt_ns(const char *name)
{
	char *b = rbuf();

	snprintf(b, 4096, "{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"%s\",\"resourceVersion\":\"1\","
		 "\"labels\":{\"kubernetes.io/metadata.name\":\"%s\"}}}", name, name);
	return b;
}

const char *kt_svc(const char *ns, const char *name, const char *cips, const char *ports)
{
	char *b = rbuf();

	snprintf(b, 4096, "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\",\"resourceVersion\":\"1\"},"
		 "\"spec\":{\"type\":\"ClusterIP\",\"clusterIPs\":[%s],\"ports\":[%s]}}", name, ns,
		 cips, ports);
	return b;
}

const char *kt_headless(const char *ns, const char *name, const char *ports)
{
	char *b = rbuf();

	snprintf(b, 4096, "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\"},"
		 "\"spec\":{\"clusterIP\":\"None\",\"clusterIPs\":[\"None\"],\"ports\":[%s]}}", name,
		 ns, ports);
	return b;
}

const char *kt_extname(const char *ns, const char *name, const char *target)
{
	char *b = rbuf();

	snprintf(b, 4096, "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\"},"
		 "\"spec\":{\"type\":\"ExternalName\",\"externalName\":\"%s\"}}", name, ns, target);
	return b;
}

const char *kt_slice(const char *ns, const char *name, const char *svc, const char *atype,
		     const char *eps, const char *ports)
{
	char *b = rbuf();

	snprintf(b, 4096, "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\",\"labels\":"
		 "{\"kubernetes.io/service-name\":\"%s\"}},\"addressType\":\"%s\","
		 "\"endpoints\":[%s],\"ports\":%s}", name, ns, svc, atype, eps, ports);
	return b;
}

const char *kt_pod(const char *ns, const char *name, const char *ip)
{
	char *b = rbuf();

	snprintf(b, 4096, "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\"},"
		 "\"status\":{\"phase\":\"Running\",\"podIP\":\"%s\"}}", name, ns, ip);
	return b;
}

/* ------------------------------------------------------------------------- */
/* Fake API server                                                             */

uint64_t kt_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int kt_fake_start(struct kt_fake *f, const char *root, const char *objects, const char *token,
		  const char *gone_mode)
{
	return kt_fake_start_args(f, root, objects, token, gone_mode, NULL, false);
}

int kt_fake_start_args(struct kt_fake *f, const char *root, const char *objects,
		       const char *token, const char *gone_mode, const char *const *extra,
		       bool https)
{
	char server[1024], objpath[1024], ready[128];
	const char *argv[32];
	uint64_t until;
	int n = 0;

	memset(f, 0, sizeof(*f));
	snprintf(server, sizeof(server), "%s/tests/k8s/fake-apiserver", root);
	if (objects[0] == '/')
		snprintf(objpath, sizeof(objpath), "%s", objects);
	else
		snprintf(objpath, sizeof(objpath), "%s/tests/k8s/objects/%s", root, objects);
	if (access(server, R_OK) != 0 || access(objpath, R_OK) != 0)
		return 77;
	snprintf(f->dir, sizeof(f->dir), "/tmp/h7-k8s-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(ready, sizeof(ready), "%s/port", f->dir);
	snprintf(f->token, sizeof(f->token), "%s", token != NULL ? token : "");
	argv[n++] = "python3";
	argv[n++] = server;
	argv[n++] = "--listen";
	argv[n++] = "127.0.0.1:0";
	argv[n++] = "--ready-file";
	argv[n++] = ready;
	argv[n++] = "--objects";
	argv[n++] = objpath;
	argv[n++] = "--bookmark-interval";
	argv[n++] = "0.2";
	argv[n++] = "--gone-mode";
	argv[n++] = gone_mode;
	argv[n++] = "--quiet";
	if (token != NULL) {
		argv[n++] = "--token";
		argv[n++] = token;
	}
	for (unsigned i = 0; extra != NULL && extra[i] != NULL && n < 31; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	f->pid = fork();
	if (f->pid == 0) {
		execvp("python3", (char *const *)argv);
		_exit(127);
	}
	until = kt_ms() + 10000;
	while (kt_ms() < until) {
		FILE *p = fopen(ready, "r");

		if (p != NULL) {
			int ok = fscanf(p, "%d", &f->port) == 1;

			fclose(p);
			if (ok) {
				snprintf(f->base, sizeof(f->base), "%s://127.0.0.1:%d",
					 https ? "https" : "http", f->port);
				return 0;
			}
		}
		if (waitpid(f->pid, NULL, WNOHANG) == f->pid) {
			f->pid = 0;
			return 77; /* python3 or the server cannot run here */
		}
		usleep(20000);
	}
	return -1;
}

void kt_fake_stop(struct kt_fake *f)
{
	char path[128];

	if (f->pid > 0) {
		kill(f->pid, SIGTERM);
		waitpid(f->pid, NULL, 0);
		f->pid = 0;
	}
	if (f->dir[0] != '\0') {
		snprintf(path, sizeof(path), "%s/port", f->dir);
		unlink(path);
		rmdir(f->dir);
		f->dir[0] = '\0';
	}
}

/* The response body into a struct text (cut at its capacity), or dropped. */
struct text {
	char *p;
	size_t len, cap;
};

static size_t keep(char *p, size_t sz, size_t n, void *ctx)
{
	struct text *t = ctx;
	size_t len = sz * n;

	if (t != NULL && t->cap > 0) {
		size_t room = t->cap - 1 - t->len;
		size_t k = len < room ? len : room;

		memcpy(t->p + t->len, p, k);
		t->len += k;
		t->p[t->len] = '\0';
	}
	return len;
}

long kt_http_body(const struct kt_fake *f, const char *method, const char *path,
		  const char *body, char *out, size_t cap)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	struct text t = { out, 0, cap };
	char url[512], auth[128];
	long code = 0;

	if (c == NULL)
		return 0;
	if (cap > 0)
		out[0] = '\0';
	snprintf(url, sizeof(url), "%s%s", f->base, path);
	h = curl_slist_append(h, "Content-Type: application/json");
	if (f->token[0] != '\0') {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", f->token);
		h = curl_slist_append(h, auth);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (body != NULL)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return code;
}

long kt_http(const struct kt_fake *f, const char *method, const char *path, const char *body)
{
	return kt_http_body(f, method, path, body, NULL, 0);
}
