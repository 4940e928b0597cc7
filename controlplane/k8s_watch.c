/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - kubernetes LIST+WATCH client (see k8s_watch.h).
 *
 * One thread per plugin instance drives one libcurl multi handle with a transfer per
 * resource. Each resource cycles: LIST (paged, limit+continue) -> WATCH from the list's
 * resourceVersion with bookmarks -> on a clean end WATCH again from the last RV; on 410
 * Gone (HTTP status, or an ERROR event with code 410) LIST again; on any other failure
 * back off 0.8 s doubling to 30 s with jitter. Watch bodies are split into events as
 * they arrive (write callback), converted to k8s_obj here, and queued for the engine.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "k8s_watch.h"

/* ------------------------------------------------------------------------- */
/* Stream splitting                                                            */

void k8s_stream_init(struct k8s_stream *s)
{
	memset(s, 0, sizeof(*s));
}

void k8s_stream_fini(struct k8s_stream *s)
{
	free(s->buf);
	memset(s, 0, sizeof(*s));
}

void k8s_stream_reset(struct k8s_stream *s)
{
	s->len = 0;
	s->err = 0;
}

static int stream_line(char *line, size_t len, k8s_line_fn fn, void *ctx)
{
	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	line[len] = '\0';
	for (size_t i = 0; i < len; i++) {
		if (line[i] != ' ' && line[i] != '\t')
			return fn(ctx, line, len);
	}
	return 0;
}

int k8s_stream_feed(struct k8s_stream *s, const char *data, size_t len, k8s_line_fn fn,
		    void *ctx)
{
	while (len > 0 && s->err == 0) {
		const char *nl = memchr(data, '\n', len);
		size_t take = nl != NULL ? (size_t)(nl - data) : len;
		int rc;

		if (s->len + take + 1 > K8S_STREAM_MAX_LINE) {
			s->err = -E2BIG;
			break;
		}
		if (s->len + take + 1 > s->cap) {
			size_t ncap = s->cap == 0 ? 16384 : s->cap;
			char *p;

			while (ncap < s->len + take + 1)
				ncap *= 2;
			p = realloc(s->buf, ncap);
			if (p == NULL)
				return -ENOMEM;
			s->buf = p;
			s->cap = ncap;
		}
		memcpy(s->buf + s->len, data, take);
		s->len += take;
		data += take;
		len -= take;
		if (nl == NULL)
			break;
		data++; /* the newline */
		len--;
		rc = stream_line(s->buf, s->len, fn, ctx);
		s->len = 0;
		if (rc != 0)
			return rc;
	}
	return s->err;
}

/* ------------------------------------------------------------------------- */
/* State                                                                       */

enum wstate { WS_IDLE = 0, WS_LIST, WS_WATCH };

struct wres {
	struct k8s_watch *w;
	enum k8s_res res;
	bool on;
	enum wstate st;
	CURL *easy;
	struct curl_slist *hdrs;
	char rv[128];
	char *cont;         /* LIST continue token */
	bool need_list;     /* next request is a LIST (start, after 410) */
	bool in_list;       /* LIST_BEGIN queued, LIST_END not yet */
	bool streaming;     /* this watch streams the list (WatchList) until its bookmark */
	bool wl_off;        /* the server rejected WatchList: paged LISTs */
	bool gone;          /* ERROR event with code 410 */
	bool got_data;      /* the watch delivered something: the server is fine */
	char *body;
	size_t blen, bcap;
	struct k8s_stream stream;
	uint64_t due_ms;
	unsigned fails;
	char errbuf[CURL_ERROR_SIZE];
};

struct k8s_watch {
	struct k8s_watch_cfg cfg;
	struct k8s_conn conn;
	char *labels, *ns_labels;
	pthread_t thr;
	bool thr_ok;
	CURLM *multi;
	int quit;
	pthread_mutex_t mu;
	struct k8s_event *head, *tail;   /* queue to the engine (mu) */
	struct k8s_event *phead, *ptail; /* this round's events (thread only) */
	struct k8s_watch_stats st;       /* mu */
	struct wres r[K8S_RES_N];
	char *token;
	uint64_t token_ms;
	bool token_reload;
	unsigned seed;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void k8s_event_free(struct k8s_event *ev)
{
	if (ev == NULL)
		return;
	k8s_obj_free(ev->obj);
	free(ev);
}

static void stat_error(struct k8s_watch *w, long status, const char *fmt, const char *a,
		       const char *b)
{
	pthread_mutex_lock(&w->mu);
	w->st.errors++;
	w->st.last_status = status;
	snprintf(w->st.last_error, sizeof(w->st.last_error), fmt, a, b);
	pthread_mutex_unlock(&w->mu);
}

static void stat_add(struct k8s_watch *w, uint64_t *field)
{
	pthread_mutex_lock(&w->mu);
	(*field)++;
	pthread_mutex_unlock(&w->mu);
}

/* Queue an event for this round (flushed to the engine after curl_multi_perform). */
static void queue(struct k8s_watch *w, enum k8s_ev_type type, enum k8s_res res,
		  struct k8s_obj *obj)
{
	struct k8s_event *ev = calloc(1, sizeof(*ev));

	if (ev == NULL) {
		k8s_obj_free(obj);
		return;
	}
	ev->type = type;
	ev->res = res;
	ev->obj = obj;
	ev->recv_ns = mono_ns();
	if (w->ptail != NULL)
		w->ptail->next = ev;
	else
		w->phead = ev;
	w->ptail = ev;
}

static void flush(struct k8s_watch *w)
{
	if (w->phead == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	if (w->tail != NULL)
		w->tail->next = w->phead;
	else
		w->head = w->phead;
	w->tail = w->ptail;
	pthread_mutex_unlock(&w->mu);
	w->phead = w->ptail = NULL;
	if (w->cfg.wake != NULL)
		w->cfg.wake(w->cfg.wake_ctx);
}

struct k8s_event *k8s_watch_take(struct k8s_watch *w)
{
	struct k8s_event *h;

	pthread_mutex_lock(&w->mu);
	h = w->head;
	w->head = w->tail = NULL;
	pthread_mutex_unlock(&w->mu);
	return h;
}

void k8s_watch_get_stats(struct k8s_watch *w, struct k8s_watch_stats *st)
{
	pthread_mutex_lock(&w->mu);
	*st = w->st;
	pthread_mutex_unlock(&w->mu);
}

/* ------------------------------------------------------------------------- */
/* Requests                                                                    */

/* The bearer token: static, or a file re-read about once a minute (service account
 * tokens are rotated) and right after a 401. */
static const char *token(struct k8s_watch *w, uint64_t now)
{
	FILE *f;
	char buf[8192];
	size_t n;

	if (w->conn.token != NULL)
		return w->conn.token;
	if (w->conn.token_file == NULL)
		return NULL;
	if (w->token != NULL && !w->token_reload && now - w->token_ms < 60000)
		return w->token;
	w->token_ms = now;
	w->token_reload = false;
	f = fopen(w->conn.token_file, "r");
	if (f == NULL)
		return w->token; /* keep the last one */
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	free(w->token);
	w->token = strdup(buf);
	return w->token;
}

static const char *res_path(enum k8s_res res)
{
	switch (res) {
	case K8S_RES_NS:
		return "/api/v1/namespaces";
	case K8S_RES_SVC:
		return "/api/v1/services";
	case K8S_RES_SLICE:
		return "/apis/discovery.k8s.io/v1/endpointslices";
	default:
		return "/api/v1/pods";
	}
}

static size_t url_param(CURL *c, char *url, size_t o, size_t cap, const char *k, const char *v)
{
	char *esc = curl_easy_escape(c, v, 0);

	if (esc != NULL && o < cap)
		o += (size_t)snprintf(url + o, cap - o, "&%s=%s", k, esc);
	curl_free(esc);
	return o;
}

/* @return the request URL in @p url: a LIST page, a streaming list, or a watch. */
static void build_url(struct wres *r, char *url, size_t cap, bool list, unsigned timeout_s)
{
	struct k8s_watch *w = r->w;
	const char *sel = r->res == K8S_RES_NS ? w->ns_labels :
			  (r->res == K8S_RES_SVC || r->res == K8S_RES_SLICE) ? w->labels : NULL;
	size_t o = (size_t)snprintf(url, cap, "%s%s?", w->conn.server, res_path(r->res));

	if (list) {
		o += (size_t)snprintf(url + o, cap - o, "limit=%u",
				      w->cfg.list_limit ? w->cfg.list_limit : 500);
		if (r->cont != NULL)
			o = url_param(r->easy, url, o, cap, "continue", r->cont);
	} else if (r->streaming) {
		/* No resourceVersion: NotOlderThan "" is "the current state" (client-go's). */
		o += (size_t)snprintf(url + o, cap - o, "watch=1&allowWatchBookmarks=true"
				      "&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"
				      "&timeoutSeconds=%u", timeout_s);
	} else {
		o += (size_t)snprintf(url + o, cap - o, "watch=1&allowWatchBookmarks=true"
				      "&timeoutSeconds=%u", timeout_s);
		o = url_param(r->easy, url, o, cap, "resourceVersion", r->rv);
	}
	if (sel != NULL)
		o = url_param(r->easy, url, o, cap, "labelSelector", sel);
	if (r->res == K8S_RES_POD) /* as CoreDNS: finished pods have no record */
		url_param(r->easy, url, o, cap, "fieldSelector",
			  "status.phase!=Succeeded,status.phase!=Failed");
}

static size_t on_list_data(char *p, size_t sz, size_t n, void *ctx);
static size_t on_watch_data(char *p, size_t sz, size_t n, void *ctx);

static void setup_tls(struct k8s_watch *w, CURL *c)
{
	const struct k8s_conn *k = &w->conn;

	if (k->ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, k->ca_file);
	if (k->ca_data != NULL) {
		struct curl_blob b = { k->ca_data, k->ca_len, CURL_BLOB_COPY };

		curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &b);
	}
	if (k->cert_file != NULL)
		curl_easy_setopt(c, CURLOPT_SSLCERT, k->cert_file);
	if (k->key_file != NULL)
		curl_easy_setopt(c, CURLOPT_SSLKEY, k->key_file);
	if (k->cert_data != NULL) {
		struct curl_blob b = { k->cert_data, k->cert_len, CURL_BLOB_COPY };

		curl_easy_setopt(c, CURLOPT_SSLCERT_BLOB, &b);
	}
	if (k->key_data != NULL) {
		struct curl_blob b = { k->key_data, k->key_len, CURL_BLOB_COPY };

		curl_easy_setopt(c, CURLOPT_SSLKEY_BLOB, &b);
	}
	if (k->insecure) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
}

static int start_req(struct wres *r, uint64_t now)
{
	struct k8s_watch *w = r->w;
	bool list = r->need_list && (!w->cfg.watch_list || r->wl_off);
	unsigned lo = w->cfg.watch_min_s ? w->cfg.watch_min_s : 300;
	unsigned hi = w->cfg.watch_max_s ? w->cfg.watch_max_s : 600;
	unsigned tmo = lo + (hi > lo ? (unsigned)rand_r(&w->seed) % (hi - lo + 1) : 0);
	const char *tok = token(w, now);
	char url[8192], auth[8300];

	r->easy = curl_easy_init();
	if (r->easy == NULL)
		return -ENOMEM;
	r->streaming = r->need_list && !list;
	build_url(r, url, sizeof(url), list, tmo);
	r->hdrs = curl_slist_append(NULL, "Accept: application/json");
	if (tok != NULL && tok[0] != '\0') {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
		r->hdrs = curl_slist_append(r->hdrs, auth);
	}
	curl_easy_setopt(r->easy, CURLOPT_URL, url);
	curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->hdrs);
	curl_easy_setopt(r->easy, CURLOPT_USERAGENT, "dpdns/kubernetes");
	curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
	curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(w->cfg.connect_timeout_ms ? w->cfg.connect_timeout_ms : 5000));
	curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, list ? on_list_data : on_watch_data);
	if (list) {
		curl_easy_setopt(r->easy, CURLOPT_TIMEOUT, 60L);
	} else {
		/* The server ends the stream after timeoutSeconds; a silent connection is cut. */
		curl_easy_setopt(r->easy, CURLOPT_TIMEOUT, (long)tmo + 30);
		curl_easy_setopt(r->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(r->easy, CURLOPT_LOW_SPEED_TIME,
				 (long)(w->cfg.idle_timeout_s ? w->cfg.idle_timeout_s : 90));
	}
	setup_tls(w, r->easy);
	r->errbuf[0] = '\0';
	r->blen = 0;
	r->gone = false;
	r->got_data = false;
	k8s_stream_reset(&r->stream);
	r->st = list ? WS_LIST : WS_WATCH;
	stat_add(w, list || r->streaming ? &w->st.lists : &w->st.watches);
	if (r->streaming && !r->in_list) {
		queue(w, K8S_EV_LIST_BEGIN, r->res, NULL);
		r->in_list = true;
	}
	if (curl_multi_add_handle(w->multi, r->easy) != CURLM_OK) {
		curl_easy_cleanup(r->easy);
		r->easy = NULL;
		return -EIO;
	}
	return 0;
}

static void end_req(struct wres *r)
{
	curl_multi_remove_handle(r->w->multi, r->easy);
	curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->hdrs);
	r->easy = NULL;
	r->hdrs = NULL;
	r->st = WS_IDLE;
}

static long http_status(CURL *c)
{
	long code = 0;

	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	return code;
}

/* ------------------------------------------------------------------------- */
/* Bodies                                                                      */

static void set_rv(struct wres *r, const json_t *obj)
{
	const char *rv = json_string_value(json_object_get(json_object_get(obj, "metadata"),
							   "resourceVersion"));

	if (rv != NULL && rv[0] != '\0')
		snprintf(r->rv, sizeof(r->rv), "%s", rv);
}

/* One listed item or watched object -> an event. */
static void queue_obj(struct wres *r, enum k8s_ev_type type, const json_t *obj)
{
	struct k8s_obj *o = k8s_obj_from_json(r->res, obj, &r->w->cfg.conv);

	if (o == NULL)
		return; /* nameless: nothing to apply */
	if (type == K8S_EV_DELETE && !o->tombstone) {
		struct k8s_obj *t = k8s_obj_tombstone(r->res, o->ns, o->name);

		k8s_obj_free(o);
		if (t == NULL)
			return;
		o = t;
	}
	queue(r->w, type, r->res, o);
}

/* The bookmark that ends a streamed list (WatchList). */
static bool initial_events_end(const json_t *obj)
{
	const json_t *ann = json_object_get(json_object_get(obj, "metadata"), "annotations");
	const char *v = json_string_value(json_object_get(ann, "k8s.io/initial-events-end"));

	return v != NULL && strcmp(v, "true") == 0;
}

/* A watch event line. @return 0, or 1 to end the transfer (ERROR event). */
static int on_event(void *ctx, char *line, size_t len)
{
	struct wres *r = ctx;
	json_error_t jerr;
	json_t *ev = json_loadb(line, len, 0, &jerr);
	const char *type = json_string_value(json_object_get(ev, "type"));
	const json_t *obj = json_object_get(ev, "object");
	int rc = 0;

	if (ev == NULL || type == NULL || !json_is_object(obj)) {
		stat_error(r->w, 200, "%.20s: malformed watch event: %.100s", k8s_res_name(r->res),
			   ev == NULL ? jerr.text : "no type/object");
		json_decref(ev);
		return 1; /* resync from the last good resourceVersion */
	}
	r->got_data = true;
	if (strcmp(type, "BOOKMARK") == 0) {
		set_rv(r, obj);
		stat_add(r->w, &r->w->st.bookmarks);
		if (r->streaming && initial_events_end(obj)) {
			/* The streamed list is whole: what it did not bring is gone. */
			queue(r->w, K8S_EV_LIST_END, r->res, NULL);
			r->in_list = false;
			r->need_list = false;
			r->streaming = false;
		}
	} else if (strcmp(type, "ERROR") == 0) {
		json_int_t code = json_integer_value(json_object_get(obj, "code"));
		const char *msg = json_string_value(json_object_get(obj, "message"));

		if (code == 410)
			r->gone = true;
		else
			stat_error(r->w, (long)code, "watch error event: %.100s%.10s", msg ? msg : "?", "");
		rc = 1;
	} else {
		stat_add(r->w, &r->w->st.events);
		queue_obj(r, strcmp(type, "DELETED") == 0 ? K8S_EV_DELETE : K8S_EV_UPSERT, obj);
		set_rv(r, obj);
	}
	json_decref(ev);
	return rc;
}

static size_t on_watch_data(char *p, size_t sz, size_t n, void *ctx)
{
	struct wres *r = ctx;
	size_t len = sz * n;

	if (http_status(r->easy) != 200) {
		/* An error body (a Status): keep a little of it for the log. */
		if (r->blen + len < 2048 && (r->body != NULL || (r->body = malloc(2048)) != NULL)) {
			memcpy(r->body + r->blen, p, len);
			r->blen += len;
		}
		return len;
	}
	if (k8s_stream_feed(&r->stream, p, len, on_event, r) != 0)
		return 0; /* CURLE_WRITE_ERROR: the transfer ends, done() decides */
	return len;
}

static size_t on_list_data(char *p, size_t sz, size_t n, void *ctx)
{
	struct wres *r = ctx;
	size_t len = sz * n;

	if (r->blen + len + 1 > r->bcap) {
		size_t cap = r->bcap ? r->bcap * 2 : 65536;
		char *b;

		while (cap < r->blen + len + 1)
			cap *= 2;
		if (cap > (1u << 30) || (b = realloc(r->body, cap)) == NULL)
			return 0;
		r->body = b;
		r->bcap = cap;
	}
	memcpy(r->body + r->blen, p, len);
	r->blen += len;
	return len;
}

/* ------------------------------------------------------------------------- */
/* Completion                                                                  */

static void backoff(struct wres *r, uint64_t now)
{
	struct k8s_watch *w = r->w;
	uint64_t lo = w->cfg.backoff_min_ms ? w->cfg.backoff_min_ms : 800;
	uint64_t hi = w->cfg.backoff_max_ms ? w->cfg.backoff_max_ms : 30000;
	uint64_t d = lo;

	for (unsigned i = 1; i < r->fails && d < hi; i++)
		d *= 2;
	if (d > hi)
		d = hi;
	/* Jitter so that many clients (or resources) do not retry in step. */
	d += (uint64_t)rand_r(&w->seed) % (d / 2 + 1);
	r->due_ms = now + d;
}

/* A LIST page arrived. @return 0, or -EINVAL when it is not a list. */
static int list_page(struct wres *r)
{
	json_error_t jerr;
	json_t *doc = json_loadb(r->body, r->blen, 0, &jerr);
	const json_t *items = json_object_get(doc, "items");
	const char *cont = json_string_value(json_object_get(json_object_get(doc, "metadata"),
							     "continue"));
	size_t i;
	const json_t *it;

	if (!json_is_object(doc) || (items != NULL && !json_is_array(items) && !json_is_null(items))) {
		json_decref(doc);
		return -EINVAL;
	}
	if (!r->in_list) {
		queue(r->w, K8S_EV_LIST_BEGIN, r->res, NULL);
		r->in_list = true;
	}
	json_array_foreach(items, i, it)
		queue_obj(r, K8S_EV_UPSERT, it);
	set_rv(r, doc);
	free(r->cont);
	r->cont = cont != NULL && cont[0] != '\0' ? strdup(cont) : NULL;
	if (r->cont == NULL) {
		queue(r->w, K8S_EV_LIST_END, r->res, NULL);
		r->in_list = false;
		r->need_list = false;
	}
	json_decref(doc);
	return 0;
}

static void list_done(struct wres *r, CURLcode res, long status, uint64_t now)
{
	if (res == CURLE_OK && status == 200 && list_page(r) == 0) {
		r->fails = 0;
		r->due_ms = now; /* next page, or the watch */
		return;
	}
	if (status == 410 && r->cont != NULL) {
		/* The continue token expired: list again from the start (same relist). */
		free(r->cont);
		r->cont = NULL;
		r->due_ms = now;
		return;
	}
	if (status == 401)
		r->w->token_reload = true;
	free(r->cont);
	r->cont = NULL;
	r->fails++;
	backoff(r, now);
	stat_error(r->w, status, "list %.20s: %.120s", k8s_res_name(r->res),
		   res != CURLE_OK ? (r->errbuf[0] ? r->errbuf : curl_easy_strerror(res))
				   : status == 200 ? "not a list" : "HTTP error");
}

/* The Status body of a failed watch says ResourceVersionTooLarge. */
static bool too_large(const struct wres *r)
{
	static const char cause[] = "ResourceVersionTooLarge";

	return r->body != NULL && memmem(r->body, r->blen, cause, sizeof(cause) - 1) != NULL;
}

static void watch_done(struct wres *r, CURLcode res, long status, uint64_t now)
{
	/* A server without WatchList (before 1.27, or the feature off) rejects the
	 * parameters (400/422; 403/404/405 from proxies): page LISTs from now on. */
	if (r->streaming && status >= 400 && status < 500 && status != 401 && status != 410 &&
	    status != 429) {
		r->wl_off = true;
		r->due_ms = now;
		stat_error(r->w, status, "watch-list %.20s: %.120s", k8s_res_name(r->res),
			   "rejected by the server, listing instead");
		return;
	}
	/* The RV is too old, or newer than anything the server has (restored from older
	 * data: "Too large resource version"): the full state comes again from a LIST,
	 * as client-go's reflector does for both. */
	if (r->gone || status == 410 || (status == 504 && too_large(r))) {
		r->need_list = true;
		r->due_ms = now;
		stat_add(r->w, &r->w->st.relists);
		return;
	}
	if (res == CURLE_OK && status == 200) {
		r->fails = 0; /* timeoutSeconds ended it: watch on from the last RV */
		r->due_ms = now;
		return;
	}
	if (status == 401)
		r->w->token_reload = true;
	if (r->got_data)
		r->fails = 0; /* a dropped stream: retry soon */
	r->fails++;
	backoff(r, now);
	stat_error(r->w, status, "watch %.20s: %.120s", k8s_res_name(r->res),
		   res != CURLE_OK && res != CURLE_WRITE_ERROR ?
		   (r->errbuf[0] ? r->errbuf : curl_easy_strerror(res)) : "stream ended with an error");
}

static void done(struct k8s_watch *w, CURL *c, CURLcode res, uint64_t now)
{
	struct wres *r = NULL;
	long status = http_status(c);

	curl_easy_getinfo(c, CURLINFO_PRIVATE, (char **)&r);
	if (r == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->st.last_status = status;
	pthread_mutex_unlock(&w->mu);
	if (r->st == WS_LIST)
		list_done(r, res, status, now);
	else
		watch_done(r, res, status, now);
	end_req(r);
}

/* ------------------------------------------------------------------------- */
/* Thread                                                                      */

static int quitting(struct k8s_watch *w)
{
	return __atomic_load_n(&w->quit, __ATOMIC_ACQUIRE);
}

/* Start what is due; @return ms until the next due request (at most 1000). */
static int start_due(struct k8s_watch *w, uint64_t now)
{
	uint64_t next = now + 1000;

	for (int i = 0; i < K8S_RES_N; i++) {
		struct wres *r = &w->r[i];

		if (!r->on || r->easy != NULL)
			continue;
		if (r->due_ms <= now) {
			if (start_req(r, now) != 0) {
				r->fails++;
				backoff(r, now);
			}
		}
		if (r->easy == NULL && r->due_ms < next)
			next = r->due_ms;
	}
	return (int)(next > now ? next - now : 0);
}

static void *watch_main(void *arg)
{
	struct k8s_watch *w = arg;

	while (!quitting(w)) {
		uint64_t now = mono_ms();
		int timeout = start_due(w, now), running = 0;
		CURLMsg *msg;
		int left;

		curl_multi_perform(w->multi, &running);
		while ((msg = curl_multi_info_read(w->multi, &left)) != NULL) {
			if (msg->msg == CURLMSG_DONE)
				done(w, msg->easy_handle, msg->data.result, mono_ms());
		}
		flush(w);
		if (quitting(w))
			break;
		/* Something finished: start the follow-up request right away. */
		for (int i = 0; i < K8S_RES_N; i++) {
			if (w->r[i].on && w->r[i].easy == NULL && w->r[i].due_ms <= mono_ms())
				timeout = 0;
		}
		curl_multi_poll(w->multi, NULL, 0, timeout, NULL);
	}
	return NULL;
}

static int conn_copy(struct k8s_conn *d, const struct k8s_conn *s)
{
	memset(d, 0, sizeof(*d));
#define DUP(f) do { if (s->f != NULL && (d->f = strdup(s->f)) == NULL) return -ENOMEM; } while (0)
#define MEMDUP(f, l) do { \
		if (s->f != NULL) { \
			if ((d->f = malloc(s->l + 1)) == NULL) \
				return -ENOMEM; \
			memcpy(d->f, s->f, s->l + 1); \
			d->l = s->l; \
		} \
	} while (0)
	DUP(server);
	DUP(ca_file);
	DUP(cert_file);
	DUP(key_file);
	DUP(token);
	DUP(token_file);
	MEMDUP(ca_data, ca_len);
	MEMDUP(cert_data, cert_len);
	MEMDUP(key_data, key_len);
#undef DUP
#undef MEMDUP
	d->insecure = s->insecure;
	return 0;
}

static void watch_free(struct k8s_watch *w)
{
	struct k8s_event *ev, *next;

	for (int i = 0; i < K8S_RES_N; i++) {
		if (w->r[i].easy != NULL)
			end_req(&w->r[i]);
		free(w->r[i].cont);
		free(w->r[i].body);
		k8s_stream_fini(&w->r[i].stream);
	}
	if (w->multi != NULL)
		curl_multi_cleanup(w->multi);
	for (ev = w->head; ev != NULL; ev = next) {
		next = ev->next;
		k8s_event_free(ev);
	}
	for (ev = w->phead; ev != NULL; ev = next) {
		next = ev->next;
		k8s_event_free(ev);
	}
	k8s_conn_fini(&w->conn);
	free(w->labels);
	free(w->ns_labels);
	free(w->token);
	pthread_mutex_destroy(&w->mu);
	free(w);
	curl_global_cleanup();
}

struct k8s_watch *k8s_watch_start(const struct k8s_watch_cfg *cfg, char *err, size_t errlen)
{
	struct k8s_watch *w;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errlen, "libcurl initialisation failed");
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		curl_global_cleanup();
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&w->mu, NULL);
	w->cfg = *cfg;
	w->seed = (unsigned)mono_ns();
	if (conn_copy(&w->conn, cfg->conn) != 0 || w->conn.server == NULL ||
	    (cfg->labels != NULL && (w->labels = strdup(cfg->labels)) == NULL) ||
	    (cfg->ns_labels != NULL && (w->ns_labels = strdup(cfg->ns_labels)) == NULL) ||
	    (w->multi = curl_multi_init()) == NULL) {
		snprintf(err, errlen, "cannot set up the API client");
		goto fail;
	}
	w->cfg.conn = &w->conn;
	for (int i = 0; i < K8S_RES_N; i++) {
		w->r[i].w = w;
		w->r[i].res = (enum k8s_res)i;
		w->r[i].on = cfg->watch[i];
		w->r[i].need_list = true;
		k8s_stream_init(&w->r[i].stream);
	}
	if (pthread_create(&w->thr, NULL, watch_main, w) != 0) {
		snprintf(err, errlen, "cannot start the watch thread");
		goto fail;
	}
	w->thr_ok = true;
	return w;
fail:
	watch_free(w);
	return NULL;
}

void k8s_watch_stop(struct k8s_watch *w)
{
	if (w == NULL)
		return;
	__atomic_store_n(&w->quit, 1, __ATOMIC_RELEASE);
	if (w->thr_ok) {
		curl_multi_wakeup(w->multi);
		pthread_join(w->thr, NULL);
	}
	watch_free(w);
}
