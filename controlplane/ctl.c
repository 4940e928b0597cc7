/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - the control socket.
 *
 * Requests and responses are single-line JSON objects: {"cmd":"status"} ->
 * {"ok":true,...} or {"ok":false,"error":"..."}. A connection handles one request at a
 * time in order; a lookup the engine answers later (forwarding) holds the following lines
 * until it completes. Only root may connect (SO_PEERCRED): the socket changes the
 * server's configuration.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <jansson.h>

#include "ctl.h"
#include "dns.h"
#include "dnssrv.h"
#include "lookup.h"
#include "metrics.h"
#include "runtime.h"
#include "table.h"

#define CTL_MAX_CONNS 32
#define CTL_LINE_MAX  65536
#define CTL_IDLE_MS   60000
#define CTL_CACHE_MAX 10000 /* cache show: entries listed at most */

struct ctl_conn;

struct ctl_wait {
	struct ctl_conn *c;            /* NULL once the connection closed */
};

struct ctl_conn {
	struct cp_ctl *ctl;
	int fd;
	char *rbuf;
	size_t rlen, rcap;
	char *wbuf;
	size_t woff, wlen, wcap;
	struct ctl_wait *wait;         /* deferred lookup in progress */
	bool eof;
	uint64_t last_ms;
};

struct cp_ctl {
	struct cp_rt *rt;
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct ctl_conn *c[CTL_MAX_CONNS];
	unsigned n;
};

static json_t *err_json(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static json_t *err_json(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

/* ------------------------------------------------------------------------- */
/* status                                                                      */

static json_t *addrs_json(const struct dp_state *st)
{
	json_t *a = json_array();
	char txt[INET6_ADDRSTRLEN];
	unsigned i;

	for (i = 0; i < st->n_addr4 && i < DP_MAX_ADDRS; i++)
		if (inet_ntop(AF_INET, st->addr4[i], txt, sizeof(txt)))
			json_array_append_new(a, json_string(txt));
	for (i = 0; i < st->n_addr6 && i < DP_MAX_ADDRS; i++)
		if (inet_ntop(AF_INET6, st->addr6[i], txt, sizeof(txt)))
			json_array_append_new(a, json_string(txt));
	return a;
}

static json_t *zones_json(const struct dp_state *st)
{
	const struct dp_zoneset *zs = __atomic_load_n(&st->zones, __ATOMIC_ACQUIRE);
	json_t *a = json_array();
	char name[1100];
	unsigned i;

	for (i = 0; zs != NULL && i < zs->n_zones; i++) {
		const struct dp_zone *z = &zs->zones[i];

		if (dns_name_to_str(z->name, z->name_len, 0, name, sizeof(name)) < 0)
			continue;
		json_array_append_new(a, json_pack("{s:s, s:b}", "name", name, "miss_answer",
						   (z->flags & DP_ZONE_ANSWER_MISS) != 0));
	}
	return a;
}

static json_t *fastpath_json(const struct cp_rt *rt)
{
	const struct dp_state *st = rt->state;
	json_t *lc = json_array(), *o;
	char mac[18];
	unsigned i;

	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", st->mac[0], st->mac[1],
		 st->mac[2], st->mac[3], st->mac[4], st->mac[5]);
	for (i = 0; i < rt->n_workers; i++)
		json_array_append_new(lc, json_integer(st->worker_lcore[i]));
	o = json_pack("{s:i, s:b, s:I, s:s, s:i, s:s, s:o, s:i, s:o, s:{s:I, s:I}, s:I}",
		      "pid", st->fp_pid, "alive", st->fp_pid > 0 && kill(st->fp_pid, 0) == 0,
		      "uptime", (json_int_t)(time(NULL) - (time_t)st->fp_start_unix),
		      "port", st->port_name, "port_id", st->port_id, "mac", mac,
		      "addresses", addrs_json(st), "workers", rt->n_workers, "lcores", lc,
		      "table", "size", (json_int_t)st->table_size,
		      "entries", (json_int_t)cp_table_entries(rt->table),
		      "mbufs", (json_int_t)st->mbufs);
	if (o != NULL && st->exc_port_id != UINT16_MAX)
		json_object_set_new(o, "exception", json_string(st->exc_name));
	return o;
}

static json_t *cmd_status(struct cp_rt *rt)
{
	const struct cp_settings *set = cp_rt_settings(rt);
	json_t *ports = json_array(), *cp;
	char nr[512];
	bool ready = cp_rt_ready(rt, nr, sizeof(nr));
	unsigned i;

	for (i = 0; i < 8 && set->dns_ports[i] != 0; i++)
		json_array_append_new(ports, json_integer(set->dns_ports[i]));
	cp = json_pack("{s:i, s:I, s:s, s:s, s:I, s:b, s:I, s:I, s:o, s:o, s:i, s:i, s:s}",
		       "pid", (int)getpid(),
		       "uptime", (json_int_t)(time(NULL) - (time_t)rt->start_unix),
		       "corefile", rt->corefile, "ctl_socket", rt->ctl_path,
		       "config_gen", (json_int_t)rt->config_gen, "ready", ready,
		       "reloads", (json_int_t)rt->reloads,
		       "reload_failed", (json_int_t)rt->reload_failed,
		       "dns_ports", ports, "zones", zones_json(rt->state),
		       "listeners", cp_dnssrv_listeners(rt->dns),
		       "tcp_connections", cp_dnssrv_conns(rt->dns), "version", DPDNS_VERSION);
	if (cp != NULL && !ready)
		json_object_set_new(cp, "not_ready", json_string(nr));
	return json_pack("{s:b, s:o, s:o}", "ok", 1, "fastpath", fastpath_json(rt),
			 "controlplane", cp);
}

/* ------------------------------------------------------------------------- */
/* stats                                                                       */

static json_t *counters_json(const struct dp_counters *c)
{
	json_t *o = json_object(), *d = json_object(), *r = json_object();
	char nb[16];
	unsigned i;

	for (i = 0; i < cp_fp_field_count(); i++)
		json_object_set_new(o, cp_fp_field_name(i),
				    json_integer((json_int_t)cp_fp_field_value(c, i)));
	for (i = 0; i < DP_DROP_MAX; i++)
		json_object_set_new(d, cp_drop_name(i), json_integer((json_int_t)c->drop[i]));
	for (i = 0; i < CP_RCODE_N; i++)
		if (c->rcode[i] != 0)
			json_object_set_new(r, cp_rcode_name(i, nb, sizeof(nb)),
					    json_integer((json_int_t)c->rcode[i]));
	json_object_set_new(o, "drops", d);
	json_object_set_new(o, "rcode", r);
	return o;
}

static json_t *cp_stats_json(const struct cp_rt *rt)
{
	const struct cp_stats *s = &rt->stats;
	const struct cp_table_stats *ts = cp_table_stats(rt->table);

	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			 "miss_dequeued", (json_int_t)s->miss_dequeued,
			 "miss_replied", (json_int_t)s->miss_replied,
			 "miss_no_answer", (json_int_t)s->miss_no_answer,
			 "miss_reply_full", (json_int_t)s->miss_reply_full,
			 "miss_bad", (json_int_t)s->miss_bad,
			 "tcp_accepted", (json_int_t)s->tcp_accepted,
			 "tcp_refused", (json_int_t)s->tcp_refused,
			 "syncs", (json_int_t)s->syncs,
			 "table_puts", (json_int_t)ts->puts,
			 "table_unchanged", (json_int_t)ts->unchanged,
			 "table_deletes", (json_int_t)ts->dels,
			 "deferred_frees", (json_int_t)ts->pending,
			 "table_entries", (json_int_t)cp_table_entries(rt->table));
}

static json_t *cmd_stats(struct cp_rt *rt)
{
	struct dp_counters c, total;
	json_t *w = json_array();
	uint64_t *t = (uint64_t *)(void *)&total;
	const uint64_t *src = (const uint64_t *)(const void *)&c;
	unsigned i, f;

	memset(&total, 0, sizeof(total));
	for (i = 0; i < rt->n_workers; i++) {
		json_t *o;

		cp_counters_read(rt, i, &c);
		for (f = 0; f < sizeof(c) / sizeof(uint64_t); f++)
			t[f] += src[f];
		o = counters_json(&c);
		json_object_set_new(o, "worker", json_integer(i));
		json_object_set_new(o, "lcore", json_integer(rt->state->worker_lcore[i]));
		json_array_append_new(w, o);
	}
	return json_pack("{s:b, s:I, s:o, s:o, s:o}", "ok", 1, "time_ms",
			 (json_int_t)cp_mono_ms(), "workers", w, "total", counters_json(&total),
			 "controlplane", cp_stats_json(rt));
}

/* ------------------------------------------------------------------------- */
/* hosts, reload                                                               */

static json_t *cmd_hosts(struct cp_rt *rt, json_t *req, int add)
{
	const char *name = json_string_value(json_object_get(req, "name"));
	const char *addr = json_string_value(json_object_get(req, "addr"));
	char err[512] = "";
	int ret;

	if (name == NULL || (add && addr == NULL))
		return err_json(add ? "hosts_add needs \"name\" and \"addr\""
				    : "hosts_del needs \"name\"");
	ret = cp_engine_hosts_edit(rt->engine, add, name, addr, err, sizeof(err));
	if (ret < 0)
		return err_json("%s", err[0] ? err : strerror(-ret));
	/* Visible in the fast path now, not at the next hosts reload check. */
	ret = cp_rt_sync(rt);
	if (ret < 0)
		return err_json("hosts file updated, but the table sync failed: %s", strerror(-ret));
	return json_pack("{s:b, s:I}", "ok", 1, "table_entries",
			 (json_int_t)cp_table_entries(rt->table));
}

/* ------------------------------------------------------------------------- */
/* cache show|flush [NAME]: the cache plugins' entries (engine hooks in cache.c)  */

struct cache_list {
	json_t *arr;
	long n;
};

static int cache_entry_json(void *ctx, const struct cp_cache_entry *e)
{
	struct cache_list *l = ctx;
	const char *type = dns_type_str(e->qtype);
	char tb[16];

	if (type == NULL) {
		snprintf(tb, sizeof(tb), "TYPE%u", e->qtype);
		type = tb;
	}
	json_array_append_new(l->arr, json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:i, s:i, s:i, "
						"s:b, s:i}", "name", e->name, "type", type,
						"rcode", dns_rcode_str(e->rcode), "kind", e->kind,
						"ttl", (json_int_t)e->ttl,
						"ttl_left", (json_int_t)e->ttl_left,
						"answer", e->ancount, "authority", e->nscount,
						"additional", e->arcount, "published", e->published,
						"block", (int)e->block));
	return ++l->n >= CTL_CACHE_MAX;
}

static json_t *cmd_cache(struct cp_rt *rt, json_t *req, int flush)
{
	const char *name = json_string_value(json_object_get(req, "name"));
	struct cache_list l = { NULL, 0 };
	long n;

	if (flush) {
		n = cp_engine_cache_flush(rt->engine, cp_table_sink(rt->table), name);
		if (n < 0)
			return err_json("invalid name \"%s\"", name ? name : "");
		return json_pack("{s:b, s:I}", "ok", 1, "flushed", (json_int_t)n);
	}
	l.arr = json_array();
	n = cp_engine_cache_show(rt->engine, name, cache_entry_json, &l);
	if (n < 0) {
		json_decref(l.arr);
		return err_json("invalid name \"%s\"", name ? name : "");
	}
	return json_pack("{s:b, s:o, s:I, s:b}", "ok", 1, "entries", l.arr, "count",
			 (json_int_t)n, "truncated", n >= CTL_CACHE_MAX);
}

static json_t *cmd_reload(struct cp_rt *rt)
{
	char err[1024] = "";

	if (cp_rt_reload(rt, err, sizeof(err)) < 0)
		return err_json("%s", err);
	return json_pack("{s:b, s:I}", "ok", 1, "config_gen", (json_int_t)rt->config_gen);
}

/* ------------------------------------------------------------------------- */
/* Connections                                                                 */

static void conn_send(struct ctl_conn *c, json_t *obj)
{
	char *s = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	size_t len;

	json_decref(obj);
	if (s == NULL)
		s = strdup("{\"ok\":false,\"error\":\"out of memory\"}");
	if (s == NULL)
		return;
	len = strlen(s);
	if (c->wlen + len + 1 > c->wcap) {
		size_t cap = c->wlen + len + 1 + 4096;
		char *n = realloc(c->wbuf, cap);

		if (n == NULL) {
			free(s);
			return;
		}
		c->wbuf = n;
		c->wcap = cap;
	}
	memcpy(c->wbuf + c->wlen, s, len);
	c->wbuf[c->wlen + len] = '\n';
	c->wlen += len + 1;
	free(s);
}

static void lookup_cb(void *ctx, json_t *result)
{
	struct ctl_wait *w = ctx;

	if (w->c != NULL) {
		w->c->wait = NULL;
		conn_send(w->c, result);
	} else {
		json_decref(result);
	}
	free(w);
}

static json_t *cmd_lookup(struct ctl_conn *c, json_t *req)
{
	const char *name = json_string_value(json_object_get(req, "name"));
	const char *type = json_string_value(json_object_get(req, "type"));
	struct ctl_wait *w;
	json_t *res;

	if (name == NULL)
		return err_json("lookup needs \"name\"");
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return err_json("out of memory");
	w->c = c;
	res = cp_lookup(c->ctl->rt, name, type, lookup_cb, w);
	if (res == NULL) {
		c->wait = w; /* answered through lookup_cb */
		return NULL;
	}
	free(w);
	return res;
}

static json_t *dispatch(struct ctl_conn *c, const char *line)
{
	struct cp_rt *rt = c->ctl->rt;
	json_error_t jerr;
	json_t *req = json_loads(line, 0, &jerr), *res;
	const char *cmd;

	if (req == NULL || !json_is_object(req)) {
		json_decref(req);
		return err_json("request is not a JSON object");
	}
	cmd = json_string_value(json_object_get(req, "cmd"));
	rt->stats.ctl_requests++;
	if (cmd == NULL)
		res = err_json("missing \"cmd\"");
	else if (strcmp(cmd, "status") == 0)
		res = cmd_status(rt);
	else if (strcmp(cmd, "stats") == 0)
		res = cmd_stats(rt);
	else if (strcmp(cmd, "lookup") == 0)
		res = cmd_lookup(c, req);
	else if (strcmp(cmd, "hosts_add") == 0)
		res = cmd_hosts(rt, req, 1);
	else if (strcmp(cmd, "hosts_del") == 0)
		res = cmd_hosts(rt, req, 0);
	else if (strcmp(cmd, "reload") == 0)
		res = cmd_reload(rt);
	else if (strcmp(cmd, "cache_show") == 0)
		res = cmd_cache(rt, req, 0);
	else if (strcmp(cmd, "cache_flush") == 0)
		res = cmd_cache(rt, req, 1);
	else
		res = err_json("unknown command \"%s\"", cmd);
	json_decref(req);
	return res;
}

static void conn_close(struct ctl_conn *c)
{
	struct cp_ctl *ctl = c->ctl;
	unsigned i;

	if (c->wait != NULL)
		c->wait->c = NULL;
	close(c->fd);
	for (i = 0; i < ctl->n; i++) {
		if (ctl->c[i] == c) {
			ctl->c[i] = ctl->c[--ctl->n];
			break;
		}
	}
	free(c->rbuf);
	free(c->wbuf);
	free(c);
}

/* Handle complete lines while no lookup is pending. @return -1 on an oversized line. */
static int conn_lines(struct ctl_conn *c)
{
	size_t off = 0;
	char *nl;

	while (c->wait == NULL && (nl = memchr(c->rbuf + off, '\n', c->rlen - off)) != NULL) {
		json_t *res;

		*nl = '\0';
		if (nl > c->rbuf + off) {
			res = dispatch(c, c->rbuf + off);
			if (res != NULL)
				conn_send(c, res);
		}
		off = (size_t)(nl - c->rbuf) + 1;
	}
	memmove(c->rbuf, c->rbuf + off, c->rlen - off);
	c->rlen -= off;
	return c->rlen >= CTL_LINE_MAX ? -1 : 0;
}

static int conn_read(struct ctl_conn *c)
{
	ssize_t n;

	if (c->rcap - c->rlen < 4096) {
		size_t cap = c->rcap ? c->rcap * 2 : 8192;
		char *b = realloc(c->rbuf, cap);

		if (b == NULL)
			return -1;
		c->rbuf = b;
		c->rcap = cap;
	}
	n = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, MSG_DONTWAIT);
	if (n == 0)
		c->eof = true;
	else if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	else
		c->rlen += (size_t)n;
	return 0;
}

static void conn_event(void *obj, int fd, short revents)
{
	struct ctl_conn *c = obj;
	ssize_t n;

	if (revents & (POLLERR | POLLNVAL)) {
		conn_close(c);
		return;
	}
	c->last_ms = c->ctl->rt->now_ms;
	if ((revents & (POLLIN | POLLHUP)) && !c->eof && conn_read(c) < 0) {
		conn_close(c);
		return;
	}
	if (conn_lines(c) < 0) {
		conn_send(c, err_json("request line longer than %d bytes", CTL_LINE_MAX));
		c->rlen = 0;
		c->eof = true;
	}
	if (c->wlen > c->woff) {
		n = send(fd, c->wbuf + c->woff, c->wlen - c->woff, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			conn_close(c);
			return;
		}
		if (n > 0)
			c->woff += (size_t)n;
		if (c->woff == c->wlen)
			c->woff = c->wlen = 0;
	}
	if (c->eof && c->wait == NULL && c->wlen == 0)
		conn_close(c);
}

static void accept_event(void *obj, int fd, short revents)
{
	struct cp_ctl *ctl = obj;
	struct ctl_conn *c;
	struct ucred cr;
	socklen_t crlen = sizeof(cr);
	static const char denied[] =
		"{\"ok\":false,\"error\":\"permission denied: the control socket is for root\"}\n";
	int cfd;

	(void)revents;
	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) < 0 || cr.uid != 0) {
		(void)!send(cfd, denied, sizeof(denied) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
		close(cfd);
		return;
	}
	if (ctl->n >= CTL_MAX_CONNS || (c = calloc(1, sizeof(*c))) == NULL) {
		close(cfd);
		return;
	}
	c->ctl = ctl;
	c->fd = cfd;
	c->last_ms = ctl->rt->now_ms;
	ctl->c[ctl->n++] = c;
}

/* ------------------------------------------------------------------------- */

/* Create the socket's directory (0700) and missing parents (0755). */
static int make_dir(const char *path)
{
	char dir[PATH_MAX];
	char *slash;
	size_t i;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	for (i = 1; dir[i] != '\0'; i++) {
		if (dir[i] != '/')
			continue;
		dir[i] = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -errno;
		dir[i] = '/';
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

struct cp_ctl *cp_ctl_open(struct cp_rt *rt, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct cp_ctl *ctl;
	int ret;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "control socket path too long: %s", path);
		return NULL;
	}
	ctl = calloc(1, sizeof(*ctl));
	if (ctl == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ctl->rt = rt;
	snprintf(ctl->path, sizeof(ctl->path), "%s", path);
	memcpy(sun.sun_path, path, strlen(path));
	ret = make_dir(path);
	if (ret < 0)
		goto fail_err;
	ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl->fd < 0)
		goto fail_errno;
	/* Only one control plane runs per fast path (checked through cp_pid before): a
	 * socket file left here is a previous run's. */
	unlink(path);
	if (bind(ctl->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || chmod(path, 0600) < 0 ||
	    listen(ctl->fd, 16) < 0)
		goto fail_close;
	return ctl;

fail_close:
	ret = -errno;
	close(ctl->fd);
	goto fail_err;
fail_errno:
	ret = -errno;
fail_err:
	snprintf(err, errlen, "control socket %s: %s", path, strerror(-ret));
	free(ctl);
	return NULL;
}

void cp_ctl_fill(struct cp_ctl *ctl, struct cp_poll *p)
{
	unsigned i;

	cp_poll_add(p, ctl->fd, POLLIN, accept_event, ctl);
	for (i = 0; i < ctl->n; i++) {
		struct ctl_conn *c = ctl->c[i];
		short ev = (c->eof ? 0 : POLLIN) | (c->wlen > c->woff ? POLLOUT : 0);

		cp_poll_add(p, c->fd, ev, conn_event, c);
	}
}

void cp_ctl_timer(struct cp_ctl *ctl, uint64_t now_ms)
{
	unsigned i = 0;

	while (i < ctl->n) {
		if (ctl->c[i]->wait == NULL && now_ms - ctl->c[i]->last_ms >= CTL_IDLE_MS) {
			conn_close(ctl->c[i]);
			continue;
		}
		i++;
	}
}

void cp_ctl_free(struct cp_ctl *ctl)
{
	if (ctl == NULL)
		return;
	while (ctl->n > 0)
		conn_close(ctl->c[0]);
	close(ctl->fd);
	unlink(ctl->path);
	free(ctl);
}
