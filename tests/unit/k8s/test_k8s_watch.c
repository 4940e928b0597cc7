/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - kubernetes watch client: stream splitting at every byte boundary, and the
 * LIST+WATCH client against the project's fake API server on 127.0.0.1 (initial lists,
 * live events, bookmarks, 410 Gone as HTTP status and as ERROR event, dropped watches,
 * a rejected token). Skips (77) when the fake server or python3 is missing.
 *
 * Usage: test_k8s_watch SOURCE_ROOT
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "k8s_test.h"
#include "k8s_watch.h"

#define TOKEN "h7-watch-token"


/* ------------------------------------------------------------------------- */
/* Stream splitting                                                            */

struct lines {
	char got[8][64];
	unsigned n;
};

static int on_line(void *ctx, char *line, size_t len)
{
	struct lines *l = ctx;

	if (l->n < 8 && len < 64)
		memcpy(l->got[l->n], line, len + 1);
	l->n++;
	return 0;
}

static void test_stream_splits(void)
{
	static const char text[] = "{\"a\":1}\n\n{\"b\":22}\r\n  \n{\"c\":333}\n{\"partial\":";
	size_t len = sizeof(text) - 1;

	/* Every way of cutting the text into three chunks gives the same lines. */
	for (size_t i = 0; i <= len; i++) {
		for (size_t j = i; j <= len; j++) {
			struct k8s_stream s;
			struct lines l = { .n = 0 };

			k8s_stream_init(&s);
			CHECK_EQ(k8s_stream_feed(&s, text, i, on_line, &l), 0);
			CHECK_EQ(k8s_stream_feed(&s, text + i, j - i, on_line, &l), 0);
			CHECK_EQ(k8s_stream_feed(&s, text + j, len - j, on_line, &l), 0);
			CHECK_EQ(l.n, 3);
			CHECK_STR(l.got[0], "{\"a\":1}");
			CHECK_STR(l.got[1], "{\"b\":22}");
			CHECK_STR(l.got[2], "{\"c\":333}");
			CHECK_EQ(s.len, strlen("{\"partial\":"));
			k8s_stream_fini(&s);
		}
	}
}

static int stop_at_second(void *ctx, char *line, size_t len)
{
	(void)line;
	(void)len;
	return ++*(int *)ctx == 2 ? 7 : 0;
}

static void test_stream_stop(void)
{
	struct k8s_stream s;
	int calls = 0;

	k8s_stream_init(&s);
	CHECK_EQ(k8s_stream_feed(&s, "a\nb\nc\n", 6, stop_at_second, &calls), 7);
	CHECK_EQ(calls, 2);
	k8s_stream_fini(&s);
}

/* What the test saw from the watch so far. */
struct seen {
	unsigned begins[K8S_RES_N], ends[K8S_RES_N], upserts[K8S_RES_N], deletes[K8S_RES_N];
	char last_name[K8S_RES_N][128];
	char upserted[K8S_RES_N][4096]; /* ",name,name,...," (cut when full) */
};

/* Was @p name upserted at some point (by an event or a (re)list)? */
static bool saw(const struct seen *s, enum k8s_res res, const char *name)
{
	char pat[160];

	snprintf(pat, sizeof(pat), ",%s,", name);
	return strstr(s->upserted[res], pat) != NULL;
}

static void drain(struct k8s_watch *w, struct seen *s)
{
	struct k8s_event *ev = k8s_watch_take(w), *next;

	for (; ev != NULL; ev = next) {
		next = ev->next;
		switch (ev->type) {
		case K8S_EV_LIST_BEGIN:
			s->begins[ev->res]++;
			break;
		case K8S_EV_LIST_END:
			s->ends[ev->res]++;
			break;
		case K8S_EV_UPSERT:
			s->upserts[ev->res]++;
			snprintf(s->last_name[ev->res], 128, "%s", ev->obj->name);
			if (s->upserted[ev->res][0] == '\0')
				strcpy(s->upserted[ev->res], ",");
			if (strlen(s->upserted[ev->res]) + strlen(ev->obj->name) + 2 < 4096) {
				strcat(s->upserted[ev->res], ev->obj->name);
				strcat(s->upserted[ev->res], ",");
			}
			break;
		default:
			s->deletes[ev->res]++;
			snprintf(s->last_name[ev->res], 128, "%s", ev->obj->name);
			break;
		}
		k8s_event_free(ev);
	}
}

/* Wait up to @p ms for @p cond over the drained events. */
#define WAIT_FOR(w, s, ms, cond) \
	do { \
		uint64_t until_ = kt_ms() + (ms); \
		while (!(cond) && kt_ms() < until_) { \
			usleep(10000); \
			drain((w), (s)); \
		} \
	} while (0)

/* The first list of every resource of basic.json: one BEGIN/END each, all objects. */
static void initial_lists(struct k8s_watch *w, struct seen *s)
{
	WAIT_FOR(w, s, 10000, s->ends[0] && s->ends[1] && s->ends[2] && s->ends[3]);
	for (int i = 0; i < K8S_RES_N; i++) {
		CHECK_EQ(s->begins[i], 1);
		CHECK_EQ(s->ends[i], 1);
	}
	CHECK_EQ(s->upserts[K8S_RES_NS], 4);
	CHECK_EQ(s->upserts[K8S_RES_SVC], 6);
	CHECK_EQ(s->upserts[K8S_RES_SLICE], 2);
}

static struct k8s_watch *watch_on(const struct kt_fake *f, struct k8s_conn *conn,
				  bool watch_list)
{
	struct k8s_watch_cfg cfg;
	char err[256];
	struct k8s_watch *w;

	memset(conn, 0, sizeof(*conn));
	conn->server = strdup(f->base);
	conn->token = strdup(TOKEN);
	memset(&cfg, 0, sizeof(cfg));
	cfg.conn = conn;
	for (int i = 0; i < K8S_RES_N; i++)
		cfg.watch[i] = true;
	cfg.backoff_min_ms = 100;
	cfg.backoff_max_ms = 400;
	cfg.watch_list = watch_list;
	w = k8s_watch_start(&cfg, err, sizeof(err));
	if (w == NULL)
		fprintf(stderr, "watch: %s\n", err);
	return w;
}

#define SVC_JSON "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"%s\"," \
	"\"namespace\":\"default\"},\"spec\":{\"ports\":[{\"name\":\"http\",\"port\":80}]}}"

static void create_svc(const struct kt_fake *f, const char *name)
{
	char body[512];

	snprintf(body, sizeof(body), SVC_JSON, name);
	CHECK_EQ(kt_http(f, "POST", "/api/v1/namespaces/default/services", body), 201);
}

static void test_watch(const char *root, const char *gone_mode, int *skip)
{
	struct kt_fake f = { 0 };
	struct k8s_conn conn;
	struct k8s_watch *w;
	struct k8s_watch_stats st;
	struct seen s;
	int rc = kt_fake_start(&f, root, "basic.json", TOKEN, gone_mode);

	if (rc != 0) {
		if (rc == 77)
			*skip = 1;
		else
			CHECK(!"fake API server did not start");
		kt_fake_stop(&f);
		return;
	}
	memset(&s, 0, sizeof(s));
	w = watch_on(&f, &conn, false);
	CHECK(w != NULL);
	if (w == NULL)
		goto out;
	/* Initial LIST of each resource, then watches. */
	initial_lists(w, &s);
	/* A live event. */
	create_svc(&f, "live-one");
	WAIT_FOR(w, &s, 5000, s.upserts[K8S_RES_SVC] == 7);
	CHECK_EQ(s.upserts[K8S_RES_SVC], 7);
	CHECK_STR(s.last_name[K8S_RES_SVC], "live-one");
	/* Bookmarks keep coming (every 0.2 s). */
	usleep(600000);
	k8s_watch_get_stats(w, &st);
	CHECK(st.bookmarks >= 2);
	/* 410 Gone on the next watch: the client lists again (BEGIN/END once more). */
	CHECK_EQ(kt_http(&f, "POST", "/fake/fault", "{\"action\":\"gone\",\"count\":4}"), 200);
	CHECK_EQ(kt_http(&f, "POST", "/fake/fault", "{\"action\":\"drop-watches\"}"), 200);
	WAIT_FOR(w, &s, 10000, s.ends[K8S_RES_SVC] >= 2 && s.ends[K8S_RES_NS] >= 2);
	CHECK(s.ends[K8S_RES_SVC] >= 2);
	k8s_watch_get_stats(w, &st);
	CHECK(st.relists >= 1);
	/* The 410s are counted for the whole server: one resource may take several (and
	 * relist again later). None left from here on. */
	CHECK_EQ(kt_http(&f, "POST", "/fake/fault", "{\"action\":\"clear\"}"), 200);
	/* Still watching after the relist. */
	create_svc(&f, "live-two");
	WAIT_FOR(w, &s, 5000, saw(&s, K8S_RES_SVC, "live-two"));
	CHECK(saw(&s, K8S_RES_SVC, "live-two"));
	/* A dropped watch resumes from the last resourceVersion: no relist. */
	{
		unsigned ends = s.ends[K8S_RES_SVC];

		CHECK_EQ(kt_http(&f, "POST", "/fake/fault", "{\"action\":\"drop-watches\"}"), 200);
		usleep(300000);
		create_svc(&f, "live-three");
		WAIT_FOR(w, &s, 5000, saw(&s, K8S_RES_SVC, "live-three"));
		CHECK(saw(&s, K8S_RES_SVC, "live-three"));
		CHECK_EQ(s.ends[K8S_RES_SVC], ends);
	}
	/* A rejected token: errors, then recovery once it is accepted again. */
	CHECK_EQ(kt_http(&f, "POST", "/fake/fault", "{\"action\":\"set-token\",\"token\":\"other\"}"), 200);
	CHECK_EQ(kt_http(&f, "POST", "/fake/fault", "{\"action\":\"drop-watches\"}"), 200);
	{
		uint64_t until = kt_ms() + 5000;

		do {
			usleep(50000);
			k8s_watch_get_stats(w, &st);
		} while (st.last_status != 401 && kt_ms() < until);
		CHECK_EQ(st.last_status, 401);
	}
	CHECK_EQ(kt_http(&f, "POST", "/fake/fault", "{\"action\":\"set-token\",\"token\":\"" TOKEN "\"}"), 200);
	create_svc(&f, "live-four");
	WAIT_FOR(w, &s, 8000, saw(&s, K8S_RES_SVC, "live-four"));
	CHECK(saw(&s, K8S_RES_SVC, "live-four"));
	k8s_watch_stop(w);
out:
	k8s_conn_fini(&conn);
	kt_fake_stop(&f);
}

/* A token file (in-cluster, kubeconfig tokenFile): after a 401 the file is read again. */
static void test_token_file(const char *root, int *skip)
{
	struct kt_fake f = { 0 };
	struct k8s_conn conn;
	struct k8s_watch_cfg cfg;
	struct k8s_watch *w;
	struct seen s;
	char path[128], err[256];
	FILE *tf;
	int rc = kt_fake_start(&f, root, "basic.json", TOKEN, "http");

	if (rc != 0) {
		*skip |= rc == 77;
		kt_fake_stop(&f);
		return;
	}
	snprintf(path, sizeof(path), "%s/token", f.dir);
	tf = fopen(path, "w");
	fprintf(tf, "%s\n", TOKEN);
	fclose(tf);
	memset(&conn, 0, sizeof(conn));
	memset(&cfg, 0, sizeof(cfg));
	memset(&s, 0, sizeof(s));
	conn.server = strdup(f.base);
	conn.token_file = strdup(path);
	cfg.conn = &conn;
	cfg.watch[K8S_RES_SVC] = true;
	cfg.backoff_min_ms = 100;
	cfg.backoff_max_ms = 400;
	w = k8s_watch_start(&cfg, err, sizeof(err));
	CHECK(w != NULL);
	if (w == NULL)
		goto out;
	WAIT_FOR(w, &s, 10000, s.ends[K8S_RES_SVC] == 1);
	CHECK_EQ(s.ends[K8S_RES_SVC], 1);
	/* The token rotates: the server and the file change, the watch reconnects. */
	CHECK_EQ(kt_http(&f, "POST", "/fake/fault", "{\"action\":\"set-token\",\"token\":\"rotated\"}"), 200);
	tf = fopen(path, "w");
	fprintf(tf, "rotated\n");
	fclose(tf);
	CHECK_EQ(kt_http(&f, "POST", "/fake/fault", "{\"action\":\"drop-watches\"}"), 200);
	snprintf(f.token, sizeof(f.token), "rotated");
	usleep(500000);
	create_svc(&f, "after-rotation");
	WAIT_FOR(w, &s, 8000, strcmp(s.last_name[K8S_RES_SVC], "after-rotation") == 0);
	CHECK_STR(s.last_name[K8S_RES_SVC], "after-rotation");
	k8s_watch_stop(w);
out:
	unlink(path);
	k8s_conn_fini(&conn);
	kt_fake_stop(&f);
}

/* Requests of the fake server's log whose path has @p needle. */
static unsigned requests_with(const struct kt_fake *f, const char *needle)
{
	static char log[262144];
	unsigned n = 0;

	CHECK_EQ(kt_http_body(f, "GET", "/fake/requests", NULL, log, sizeof(log)), 200);
	for (const char *p = strstr(log, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

/*
 * WatchList (KUBE_FEATURE_WatchListClient): each list is a watch streaming the current
 * state, ended by the initial-events-end bookmark; no LIST request. A server that
 * rejects the parameters (422 here) gets LIST pages instead.
 */
static void test_watch_list(const char *root, int *skip)
{
	struct kt_fake f = { 0 };
	struct k8s_conn conn;
	struct k8s_watch *w;
	struct seen s;
	int rc = kt_fake_start(&f, root, "basic.json", TOKEN, "http");

	memset(&conn, 0, sizeof(conn));
	if (rc != 0) {
		*skip |= rc == 77;
		CHECK(rc == 77);
		kt_fake_stop(&f);
		return;
	}
	memset(&s, 0, sizeof(s));
	w = watch_on(&f, &conn, true);
	CHECK(w != NULL);
	if (w == NULL)
		goto out;
	initial_lists(w, &s);
	/* Live events on the same stream after the bookmark. */
	create_svc(&f, "live-wl");
	WAIT_FOR(w, &s, 5000, strcmp(s.last_name[K8S_RES_SVC], "live-wl") == 0);
	CHECK_STR(s.last_name[K8S_RES_SVC], "live-wl");
	CHECK_EQ(s.ends[K8S_RES_SVC], 1);
	/* The history compacted (410 for every resourceVersion held): the relist is
	 * streamed again. */
	CHECK_EQ(kt_http(&f, "POST", "/fake/fault", "{\"action\":\"gone\",\"count\":0}"), 200);
	CHECK_EQ(kt_http(&f, "POST", "/fake/fault", "{\"action\":\"drop-watches\"}"), 200);
	WAIT_FOR(w, &s, 10000, s.ends[K8S_RES_SVC] >= 2);
	CHECK(s.ends[K8S_RES_SVC] >= 2);
	k8s_watch_stop(w);
	k8s_conn_fini(&conn);
	/* The server logs a watch once it notices the client went away (its next write). */
	{
		uint64_t until = kt_ms() + 10000;
		unsigned n;

		while ((n = requests_with(&f, "sendInitialEvents=true&resourceVersionMatch="
					  "NotOlderThan")) < 5 && kt_ms() < until)
			usleep(100000);
		CHECK(n >= 5);
	}
	CHECK_EQ(requests_with(&f, "limit="), 0);

	/* A server without WatchList: 422 for the streaming requests, then LIST pages. */
	CHECK_EQ(kt_http(&f, "DELETE", "/fake/requests", NULL), 200);
	CHECK_EQ(kt_http(&f, "POST", "/fake/fault",
			 "{\"action\":\"error\",\"code\":422,\"count\":4}"), 200);
	memset(&s, 0, sizeof(s));
	w = watch_on(&f, &conn, true);
	CHECK(w != NULL);
	if (w == NULL)
		goto out;
	WAIT_FOR(w, &s, 10000, s.ends[0] && s.ends[1] && s.ends[2] && s.ends[3]);
	for (int i = 0; i < K8S_RES_N; i++)
		CHECK_EQ(s.ends[i], 1);
	CHECK_EQ(s.upserts[K8S_RES_SVC], 7);
	CHECK(requests_with(&f, "limit=") >= 4);
	CHECK(requests_with(&f, "\"code\":422") >= 4);
	k8s_watch_stop(w);
out:
	k8s_conn_fini(&conn);
	kt_fake_stop(&f);
}

int main(int argc, char **argv)
{
	int skip = 0;

	signal(SIGPIPE, SIG_IGN);
	test_stream_splits();
	test_stream_stop();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (argc > 1) {
		test_watch(argv[1], "http", &skip);
		if (!skip)
			test_watch(argv[1], "event", &skip);
		if (!skip)
			test_token_file(argv[1], &skip);
		if (!skip)
			test_watch_list(argv[1], &skip);
	} else {
		skip = 1;
	}
	curl_global_cleanup();
	if (check_failures == 0 && skip) {
		printf("test_k8s_watch: %d checks passed; fake API server tests skipped\n", check_count);
		return 77;
	}
	return check_summary("test_k8s_watch");
}
