/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - query accounting and the Prometheus text exposition.
 *
 * Request and response totals carry CoreDNS's names and labels and add up both
 * processes without counting anything twice:
 *  - the fast path counts every UDP query it receives (dp_counters.dns_queries, including
 *    those it hands to the control plane over the miss ring) and every response it
 *    transmits by rcode (dp_counters.rcode[], including the replies the control plane
 *    wrote for it);
 *  - the control plane adds only what reached it through the kernel's sockets (TCP and
 *    what the fast path punts: fragments, IPv6 extension headers).
 * What the control plane answers from the miss ring is therefore not in the coredns_*
 * totals a second time; it is visible apart as dpdns_controlplane_miss_*.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>

#include "dns.h"
#include "dp_shm.h"
#include "metrics.h"
#include "runtime.h"
#include "table.h"

/* ------------------------------------------------------------------------- */
/* Accounting helpers                                                          */

/* Label values of the enum dp_qt buckets (dp_qt_index() in dp_shm.h sorts types). */
static const char *const qt_names[DP_QT_N] = {
	[DP_QT_A] = "A", [DP_QT_AAAA] = "AAAA", [DP_QT_CNAME] = "CNAME", [DP_QT_MX] = "MX",
	[DP_QT_NS] = "NS", [DP_QT_PTR] = "PTR", [DP_QT_SOA] = "SOA", [DP_QT_SRV] = "SRV",
	[DP_QT_TXT] = "TXT", [DP_QT_HTTPS] = "HTTPS", [DP_QT_DS] = "DS",
	[DP_QT_DNSKEY] = "DNSKEY", [DP_QT_ANY] = "ANY", [DP_QT_AXFR] = "AXFR",
	[DP_QT_IXFR] = "IXFR", [DP_QT_OTHER] = "other",
};

const char *cp_qt_name(enum dp_qt qt)
{
	return qt < DP_QT_N ? qt_names[qt] : "other";
}

/* CoreDNS: prometheus.ExponentialBuckets(0.00025, 2, 16). */
static double hist_bound(unsigned i)
{
	return 0.00025 * (double)(1u << i);
}

void cp_stats_duration(struct cp_stats *s, uint64_t ns)
{
	double sec = (double)ns / 1e9;
	unsigned i;

	for (i = 0; i < CP_HIST_N - 1; i++)
		if (sec <= hist_bound(i))
			break;
	s->hist[i]++;
	s->hist_sum += sec;
	s->hist_count++;
}

unsigned cp_port_slot(const struct cp_settings *set, uint16_t port)
{
	unsigned i;

	for (i = 0; set != NULL && i < 8 && set->dns_ports[i] != 0; i++)
		if (set->dns_ports[i] == port)
			return i;
	return 0;
}

int cp_msg_qtype(const uint8_t *msg, size_t len)
{
	size_t pos = DNS_HDR_LEN;

	if (len < DNS_HDR_LEN || (msg[4] == 0 && msg[5] == 0))
		return -1;
	while (pos < len) {
		uint8_t l = msg[pos];

		if (l == 0) {
			pos++;
			break;
		}
		if ((l & 0xc0) != 0) {
			pos += 2;
			break;
		}
		pos += 1u + l;
	}
	if (pos + 2 > len)
		return -1;
	return msg[pos] << 8 | msg[pos + 1];
}

unsigned cp_msg_rcode(const uint8_t *msg, size_t len)
{
	return len >= DNS_HDR_LEN ? (msg[3] & 0x0f) : 0;
}

static const char *const rcode_names[] = {
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN",
	"YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE", NULL, NULL, NULL, NULL, NULL,
	"BADVERS", "BADKEY", "BADTIME", "BADMODE", "BADNAME", "BADALG", "BADTRUNC", "BADCOOKIE",
};

const char *cp_rcode_name(unsigned rcode, char *buf, size_t cap)
{
	if (rcode < sizeof(rcode_names) / sizeof(rcode_names[0]) && rcode_names[rcode] != NULL)
		return rcode_names[rcode];
	snprintf(buf, cap, "RCODE%u", rcode);
	return buf;
}

static const char *const drop_names[DP_DROP_MAX] = {
	[DP_DROP_RUNT] = "runt",            [DP_DROP_L2] = "l2",
	[DP_DROP_IP_HDR] = "ip_header",     [DP_DROP_IP_LEN] = "ip_length",
	[DP_DROP_IP_CSUM] = "ip_checksum",  [DP_DROP_FRAG] = "fragment",
	[DP_DROP_UDP_LEN] = "udp_length",   [DP_DROP_UDP_CSUM] = "udp_checksum",
	[DP_DROP_DNS] = "dns",              [DP_DROP_MISS_FULL] = "miss_ring_full",
	[DP_DROP_TX_FULL] = "tx_full",      [DP_DROP_EXC_FULL] = "exception_full",
	[DP_DROP_NO_EXC] = "no_exception",  [DP_DROP_REPLY_BAD] = "reply_bad",
	[DP_DROP_CP_NOANSWER] = "cp_noanswer",
};

const char *cp_drop_name(unsigned reason)
{
	return reason < DP_DROP_MAX && drop_names[reason] ? drop_names[reason] : "other";
}

void cp_counters_read(const struct cp_rt *rt, unsigned w, struct dp_counters *out)
{
	const uint64_t *src = (const uint64_t *)(const void *)&rt->counters[w];
	uint64_t *dst = (uint64_t *)(void *)out;
	size_t i;

	/* Each field is written by one worker; aligned 64-bit loads are atomic. */
	for (i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------------- */
/* Text builder                                                                */

struct sb {
	char *p;
	size_t len, cap;
	int err;
};

static int sb_reserve(struct sb *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 16384;
	char *n;

	if (b->len + need + 1 <= b->cap)
		return 0;
	while (cap < b->len + need + 1)
		cap *= 2;
	n = realloc(b->p, cap);
	if (n == NULL) {
		b->err = 1;
		return -1;
	}
	b->p = n;
	b->cap = cap;
	return 0;
}

__attribute__((format(printf, 2, 3)))
static void sb_printf(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->err || sb_reserve(b, 256) < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= b->cap - b->len) {
		if (sb_reserve(b, (size_t)n) < 0)
			return;
		va_start(ap, fmt);
		vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

static void sb_head(struct sb *b, const char *name, const char *type, const char *help)
{
	sb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* ------------------------------------------------------------------------- */
/* Families                                                                    */

struct snap {
	struct dp_counters w[DP_MAX_WORKERS];
	struct dp_counters total;
	unsigned n;
};

static void snap_take(const struct cp_rt *rt, struct snap *s)
{
	unsigned i, f;

	memset(s, 0, sizeof(*s));
	s->n = rt->n_workers;
	for (i = 0; i < s->n; i++) {
		const uint64_t *src;
		uint64_t *dst = (uint64_t *)(void *)&s->total;

		cp_counters_read(rt, i, &s->w[i]);
		src = (const uint64_t *)(const void *)&s->w[i];
		for (f = 0; f < sizeof(s->total) / sizeof(uint64_t); f++)
			dst[f] += src[f];
	}
}

static void server_label(const struct cp_settings *set, unsigned slot, char *buf, size_t cap)
{
	snprintf(buf, cap, "dns://:%u", set->dns_ports[slot] ? set->dns_ports[slot] : 53);
}

/*
 * The fast path's UDP queries by family and type: the ones it parsed by type, the rest
 * (dropped or malformed before the type was known) as "other". Its counters are not
 * kept per port: they are reported under the first server port.
 */
static void fp_by_type(const struct snap *s, uint64_t fp[2][DP_QT_N])
{
	uint64_t all[2], sum;

	all[1] = s->total.dns_queries_v6;
	all[0] = s->total.dns_queries - (all[1] <= s->total.dns_queries ? all[1] : 0);
	for (unsigned f = 0; f < 2; f++) {
		sum = 0;
		for (unsigned t = 0; t < DP_QT_N; t++) {
			fp[f][t] = s->total.qtype[f][t];
			sum += fp[f][t];
		}
		fp[f][DP_QT_OTHER] += all[f] > sum ? all[f] - sum : 0;
	}
}

static void m_requests(struct sb *b, const struct cp_rt *rt, const struct snap *s)
{
	const struct cp_settings *set = cp_rt_settings(rt);
	uint64_t fp[2][DP_QT_N], v;
	char srv[32];
	unsigned p, pr, f, t;

	sb_head(b, "coredns_dns_requests_total", "counter",
		"Counter of DNS requests made per zone, protocol and family.");
	fp_by_type(s, fp);
	for (p = 0; p < 8 && (p == 0 || set->dns_ports[p] != 0); p++) {
		const struct cp_port_stats *ps = &rt->stats.port[p];

		server_label(set, p, srv, sizeof(srv));
		for (pr = 0; pr < CP_PROTO_N; pr++) {
			for (f = 0; f < 2; f++) {
				for (t = 0; t < DP_QT_N; t++) {
					bool fpline = p == 0 && pr == CP_PROTO_UDP;

					v = ps->req[pr][f][t] + (fpline ? fp[f][t] : 0);
					if (v == 0 && !(fpline && t == DP_QT_OTHER))
						continue;
					sb_printf(b, "coredns_dns_requests_total{server=\"%s\",zone=\".\","
						  "view=\"\",proto=\"%s\",family=\"%u\",type=\"%s\"} "
						  "%lu\n", srv, pr ? "tcp" : "udp", f + 1, cp_qt_name(t),
						  (unsigned long)v);
				}
			}
		}
	}
}

static void m_responses(struct sb *b, const struct cp_rt *rt, const struct snap *s)
{
	const struct cp_settings *set = cp_rt_settings(rt);
	uint64_t rc[DP_MAX_PORTS][CP_RCODE_N];
	char srv[32], nb[16];
	unsigned p, r;

	sb_head(b, "coredns_dns_responses_total", "counter",
		"Counter of response status codes. Includes the responses the fast path sent "
		"(also the control plane's answers to its misses) and those the control plane "
		"sent over TCP and kernel UDP.");
	memset(rc, 0, sizeof(rc));
	for (r = 0; r < CP_RCODE_N; r++)
		rc[0][r] = s->total.rcode[r];
	for (p = 0; p < 8 && set->dns_ports[p] != 0; p++)
		for (r = 0; r < CP_RCODE_N; r++)
			rc[p][r] += rt->stats.port[p].resp[CP_PROTO_UDP][r] +
				    rt->stats.port[p].resp[CP_PROTO_TCP][r];
	for (p = 0; p < 8 && (p == 0 || set->dns_ports[p] != 0); p++) {
		server_label(set, p, srv, sizeof(srv));
		for (r = 0; r < CP_RCODE_N; r++)
			if (rc[p][r] != 0 || (p == 0 && r == 0))
				sb_printf(b, "coredns_dns_responses_total{server=\"%s\",zone=\".\","
					  "view=\"\",rcode=\"%s\",plugin=\"\"} %lu\n", srv,
					  cp_rcode_name(r, nb, sizeof(nb)), (unsigned long)rc[p][r]);
	}
}

static void m_duration(struct sb *b, const struct cp_rt *rt)
{
	const struct cp_stats *st = &rt->stats;
	uint64_t cum = 0;
	char srv[32];
	unsigned i;

	sb_head(b, "coredns_dns_request_duration_seconds", "histogram",
		"Histogram of the time (in seconds) each request took. Only requests the "
		"control plane answered (miss ring, TCP, kernel UDP); the fast path's "
		"answers are not timed.");
	server_label(cp_rt_settings(rt), 0, srv, sizeof(srv));
	for (i = 0; i < CP_HIST_N - 1; i++) {
		cum += st->hist[i];
		sb_printf(b, "coredns_dns_request_duration_seconds_bucket{server=\"%s\",zone=\".\","
			  "view=\"\",le=\"%g\"} %lu\n", srv, hist_bound(i), (unsigned long)cum);
	}
	cum += st->hist[CP_HIST_N - 1];
	sb_printf(b, "coredns_dns_request_duration_seconds_bucket{server=\"%s\",zone=\".\","
		  "view=\"\",le=\"+Inf\"} %lu\n", srv, (unsigned long)cum);
	sb_printf(b, "coredns_dns_request_duration_seconds_sum{server=\"%s\",zone=\".\","
		  "view=\"\"} %.9f\n", srv, st->hist_sum);
	sb_printf(b, "coredns_dns_request_duration_seconds_count{server=\"%s\",zone=\".\","
		  "view=\"\"} %lu\n", srv, (unsigned long)st->hist_count);
}

static void m_process(struct sb *b, const struct cp_rt *rt)
{
	sb_head(b, "coredns_build_info", "gauge",
		"A metric with a constant '1' value labeled by version, revision, and goversion "
		"from which CoreDNS was built.");
	sb_printf(b, "coredns_build_info{version=\"%s\",revision=\"dpdns\",goversion=\"none\"} 1\n",
		  DPDNS_VERSION);
	sb_head(b, "coredns_reload_failed_total", "counter",
		"Counter of the number of failed reload attempts.");
	sb_printf(b, "coredns_reload_failed_total %lu\n", (unsigned long)rt->reload_failed);
	sb_head(b, "coredns_panics_total", "counter", "A metrics that counts the number of panics.");
	sb_printf(b, "coredns_panics_total 0\n");
	sb_head(b, "dpdns_config_generation", "gauge",
		"Configuration generation the control plane applied.");
	sb_printf(b, "dpdns_config_generation %lu\n", (unsigned long)rt->config_gen);
	sb_head(b, "dpdns_fastpath_up", "gauge", "1 when the fast path process is alive.");
	sb_printf(b, "dpdns_fastpath_up %d\n",
		  rt->state->fp_pid > 0 && kill(rt->state->fp_pid, 0) == 0);
}

static void m_table(struct sb *b, const struct cp_rt *rt)
{
	const struct cp_table_stats *ts = cp_table_stats(rt->table);
	const struct cp_stats *st = &rt->stats;

	sb_head(b, "dpdns_table_entries", "gauge", "Entries in the shared answer table.");
	sb_printf(b, "dpdns_table_entries %d\n", cp_table_entries(rt->table));
	sb_head(b, "dpdns_table_capacity", "gauge", "Capacity of the shared answer table.");
	sb_printf(b, "dpdns_table_capacity %u\n", rt->state->table_size);
	sb_head(b, "dpdns_table_updates_total", "counter",
		"Table writes by kind (put, unchanged, delete, swept, failed).");
	sb_printf(b, "dpdns_table_updates_total{kind=\"put\"} %lu\n"
		  "dpdns_table_updates_total{kind=\"unchanged\"} %lu\n"
		  "dpdns_table_updates_total{kind=\"delete\"} %lu\n"
		  "dpdns_table_updates_total{kind=\"swept\"} %lu\n"
		  "dpdns_table_updates_total{kind=\"failed\"} %lu\n",
		  (unsigned long)ts->puts, (unsigned long)ts->unchanged, (unsigned long)ts->dels,
		  (unsigned long)ts->swept, (unsigned long)ts->put_failed);
	sb_head(b, "dpdns_table_deferred_frees", "gauge",
		"Replaced values waiting for the fast path's grace period.");
	sb_printf(b, "dpdns_table_deferred_frees %lu\n", (unsigned long)ts->pending);
	sb_head(b, "dpdns_controlplane_syncs_total", "counter", "Full table synchronisations.");
	sb_printf(b, "dpdns_controlplane_syncs_total %lu\n", (unsigned long)st->syncs);
	sb_head(b, "dpdns_controlplane_miss_total", "counter",
		"Miss ring elements by outcome (replied, no_answer, reply_ring_full, bad).");
	sb_printf(b, "dpdns_controlplane_miss_total{outcome=\"replied\"} %lu\n"
		  "dpdns_controlplane_miss_total{outcome=\"no_answer\"} %lu\n"
		  "dpdns_controlplane_miss_total{outcome=\"reply_ring_full\"} %lu\n"
		  "dpdns_controlplane_miss_total{outcome=\"bad\"} %lu\n",
		  (unsigned long)st->miss_replied, (unsigned long)st->miss_no_answer,
		  (unsigned long)st->miss_reply_full, (unsigned long)st->miss_bad);
}

static void m_miss_detail(struct sb *b, const struct cp_rt *rt)
{
	const struct cp_settings *set = cp_rt_settings(rt);
	char srv[32], nb[16];
	unsigned p, f, t, r;

	sb_head(b, "dpdns_controlplane_miss_requests_total", "counter",
		"Queries the fast path handed to the control plane, by family and type "
		"(already counted in coredns_dns_requests_total).");
	for (p = 0; p < 8 && set->dns_ports[p] != 0; p++) {
		server_label(set, p, srv, sizeof(srv));
		for (f = 0; f < 2; f++)
			for (t = 0; t < DP_QT_N; t++)
				if (rt->stats.port[p].miss_req[f][t] != 0)
					sb_printf(b, "dpdns_controlplane_miss_requests_total{server="
						  "\"%s\",family=\"%u\",type=\"%s\"} %lu\n", srv, f + 1,
						  cp_qt_name(t),
						  (unsigned long)rt->stats.port[p].miss_req[f][t]);
	}
	sb_head(b, "dpdns_controlplane_miss_responses_total", "counter",
		"Answers the control plane wrote for the fast path's misses, by rcode "
		"(counted in coredns_dns_responses_total when the fast path sends them).");
	for (p = 0; p < 8 && set->dns_ports[p] != 0; p++) {
		server_label(set, p, srv, sizeof(srv));
		for (r = 0; r < CP_RCODE_N; r++)
			if (rt->stats.port[p].miss_resp[r] != 0)
				sb_printf(b, "dpdns_controlplane_miss_responses_total{server=\"%s\","
					  "rcode=\"%s\"} %lu\n", srv, cp_rcode_name(r, nb, sizeof(nb)),
					  (unsigned long)rt->stats.port[p].miss_resp[r]);
	}
}

#define FP_FIELD(f, n, h) { offsetof(struct dp_counters, f), n, h }

static const struct { size_t off; const char *name; const char *help; } fp_fields[] = {
	FP_FIELD(rx_pkts, "rx_packets", "Frames received on the DNS port queue."),
	FP_FIELD(tx_pkts, "tx_packets", "Frames sent on the DNS port queue."),
	FP_FIELD(dns_queries, "queries", "UDP DNS queries seen."),
	FP_FIELD(dns_queries_v6, "queries_v6", "UDP DNS queries seen over IPv6."),
	FP_FIELD(answered, "answered", "Queries answered from the tables."),
	FP_FIELD(hits, "hits", "Exact (name, type) table hits."),
	FP_FIELD(nodata, "nodata", "Answers from a name's exists marker (NODATA)."),
	FP_FIELD(zone_neg, "zone_negative", "Answers from a zone's miss answer (NXDOMAIN)."),
	FP_FIELD(cache_hits, "cache_hits", "Hits on cache entries."),
	FP_FIELD(missed, "missed", "Queries handed to the control plane."),
	FP_FIELD(replies, "replies", "Control plane replies transmitted."),
	FP_FIELD(truncated, "truncated", "Answers sent with TC=1."),
	FP_FIELD(arp, "arp", "ARP requests answered."),
	FP_FIELD(nd, "nd", "IPv6 neighbour solicitations answered."),
	FP_FIELD(icmp_echo, "icmp_echo", "ICMP echo requests answered."),
	FP_FIELD(exception_tx, "exception_tx", "Frames sent to the kernel (exception port)."),
	FP_FIELD(exception_rx, "exception_rx", "Frames from the kernel sent out the port."),
	FP_FIELD(bursts, "bursts", "Loop iterations that received something."),
};

static uint64_t field(const struct dp_counters *c, size_t off)
{
	uint64_t v;

	memcpy(&v, (const uint8_t *)c + off, sizeof(v));
	return v;
}

unsigned cp_fp_field_count(void)
{
	return sizeof(fp_fields) / sizeof(fp_fields[0]);
}

const char *cp_fp_field_name(unsigned i)
{
	return i < cp_fp_field_count() ? fp_fields[i].name : "";
}

uint64_t cp_fp_field_value(const struct dp_counters *c, unsigned i)
{
	return i < cp_fp_field_count() ? field(c, fp_fields[i].off) : 0;
}

static void m_fastpath(struct sb *b, const struct cp_rt *rt, const struct snap *s)
{
	char name[96];
	unsigned f, w, d;

	for (f = 0; f < sizeof(fp_fields) / sizeof(fp_fields[0]); f++) {
		snprintf(name, sizeof(name), "dpdns_fastpath_%s_total", fp_fields[f].name);
		sb_head(b, name, "counter", fp_fields[f].help);
		for (w = 0; w < s->n; w++)
			sb_printf(b, "%s{worker=\"%u\",lcore=\"%u\"} %lu\n", name, w,
				  rt->state->worker_lcore[w],
				  (unsigned long)field(&s->w[w], fp_fields[f].off));
	}
	sb_head(b, "dpdns_fastpath_drops_total", "counter", "Frames dropped, by reason.");
	for (w = 0; w < s->n; w++)
		for (d = 0; d < DP_DROP_MAX; d++)
			sb_printf(b, "dpdns_fastpath_drops_total{worker=\"%u\",lcore=\"%u\","
				  "reason=\"%s\"} %lu\n", w, rt->state->worker_lcore[w],
				  cp_drop_name(d), (unsigned long)s->w[w].drop[d]);
}

/* Families this file writes itself: a family may appear only once in an exposition, so
 * should plugin text ever hold one of them, it is dropped. (coredns_build_info has one
 * source, m_process: the engine does not write it.) */
static const char *const own_families[] = {
	"coredns_reload_failed_total", "coredns_panics_total",
	"coredns_dns_requests_total", "coredns_dns_responses_total",
	"coredns_dns_request_duration_seconds",
};

static bool own_family(const char *line, size_t len)
{
	size_t i, n;

	if (len > 7 && (memcmp(line, "# HELP ", 7) == 0 || memcmp(line, "# TYPE ", 7) == 0)) {
		line += 7;
		len -= 7;
	}
	for (n = 0; n < len && line[n] != ' ' && line[n] != '{'; n++)
		;
	for (i = 0; i < sizeof(own_families) / sizeof(own_families[0]); i++) {
		size_t fl = strlen(own_families[i]);

		if (n >= fl && memcmp(line, own_families[i], fl) == 0 &&
		    (n == fl || strcmp(own_families[i], "coredns_dns_request_duration_seconds") == 0))
			return true;
	}
	return false;
}

/* Remove own families from the text at @p start (in place). */
static void drop_own(struct sb *b, size_t start)
{
	size_t r = start, w = start;

	while (r < b->len) {
		const char *nl = memchr(b->p + r, '\n', b->len - r);
		size_t l = nl != NULL ? (size_t)(nl - (b->p + r)) + 1 : b->len - r;

		if (!own_family(b->p + r, l)) {
			memmove(b->p + w, b->p + r, l);
			w += l;
		}
		r += l;
	}
	b->len = w;
	b->p[w] = '\0';
}

static void m_engine(struct sb *b, const struct cp_rt *rt)
{
	size_t want = 65536, n, start = b->len;

	while (!b->err && sb_reserve(b, want) == 0) {
		n = cp_engine_metrics(rt->engine, b->p + b->len, b->cap - b->len);
		/* A full buffer may mean truncation: retry larger (bounded). */
		if (n + 1 < b->cap - b->len || want >= (4u << 20)) {
			b->len += n < b->cap - b->len ? n : 0;
			drop_own(b, start);
			return;
		}
		want *= 4;
	}
}

char *cp_metrics_render(struct cp_rt *rt, size_t *len)
{
	struct sb b = { 0 };
	struct snap *s = malloc(sizeof(*s));

	if (s == NULL)
		return NULL;
	snap_take(rt, s);
	m_requests(&b, rt, s);
	m_responses(&b, rt, s);
	m_duration(&b, rt);
	m_process(&b, rt);
	m_table(&b, rt);
	m_miss_detail(&b, rt);
	m_fastpath(&b, rt, s);
	if (rt->engine != NULL)
		m_engine(&b, rt);
	free(s);
	if (b.err) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}
