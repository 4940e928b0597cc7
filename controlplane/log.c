/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - the `log` plugin: log [NAMES...] [FORMAT] { class CLASSES... }
 *
 * Query lines in CoreDNS's format, for the queries the control plane answers (misses of
 * the fast path and TCP). The fast path never logs per packet: its answers are counted,
 * not logged.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corefile.h"
#include "plugin.h"

#define LOG_FMT_COMMON \
	"{remote}:{port} - {>id} \"{type} {class} {name} {proto} {size} {>do} {>bufsize}\" " \
	"{rcode} {>rflags} {rsize} {duration}"
#define LOG_FMT_COMBINED LOG_FMT_COMMON " \"{>opcode}\""

enum { LOG_SUCCESS = 1, LOG_DENIAL = 2, LOG_ERROR = 4, LOG_ALL = 8 };

struct log_rule {
	struct cp_zone scope;
	const char *format;  /* points into the Corefile tokens or the constants above */
	unsigned classes;
};

struct log_inst {
	struct log_rule *r;
	unsigned n;
};

static int log_classes(struct cp_setup *s, const struct cf_line *l, unsigned *classes)
{
	static const char *const names[] = { "success", "denial", "error", "all" };

	*classes = 0;
	for (unsigned i = 0; i < l->n_sub; i++) {
		const struct cf_line *o = &l->sub[i];

		if (strcmp(o->tok[0].text, "class") != 0)
			return cp_setup_err(s, &o->tok[0], "unknown option '%s'", o->tok[0].text);
		if (o->n_tok < 2)
			return cp_setup_err(s, &o->tok[0], "class needs at least one class");
		for (unsigned k = 1; k < o->n_tok; k++) {
			unsigned c = 0;

			for (unsigned j = 0; j < 4; j++)
				c |= strcmp(o->tok[k].text, names[j]) == 0 ? 1u << j : 0;
			if (c == 0)
				return cp_setup_err(s, &o->tok[k], "invalid class '%s'", o->tok[k].text);
			*classes |= c;
		}
	}
	if (*classes == 0)
		*classes = LOG_ALL;
	return 0;
}

static int log_line(struct cp_setup *s, struct log_inst *li, const struct cf_line *l)
{
	const char *format = LOG_FMT_COMMON;
	unsigned n_names = l->n_tok - 1, classes;
	int rc;

	if (n_names >= 2 && strchr(l->tok[l->n_tok - 1].text, '{') != NULL) {
		const char *f = l->tok[l->n_tok - 1].text;

		format = strcmp(f, "{common}") == 0 ? LOG_FMT_COMMON :
			 strcmp(f, "{combined}") == 0 ? LOG_FMT_COMBINED : f;
		n_names--;
	}
	if ((rc = log_classes(s, l, &classes)) < 0)
		return rc;
	for (unsigned i = 0; i < (n_names ? n_names : 1); i++) {
		struct log_rule *r = realloc(li->r, (li->n + 1) * sizeof(*r));
		int len;

		if (r == NULL)
			return -ENOMEM;
		li->r = r;
		r = &li->r[li->n];
		len = n_names ? dns_name_from_str(r->scope.wire, sizeof(r->scope.wire),
						  l->tok[1 + i].text)
			      : dns_name_from_str(r->scope.wire, sizeof(r->scope.wire), ".");
		if (len < 0)
			return cp_setup_err(s, &l->tok[1 + i], "invalid name '%s'", l->tok[1 + i].text);
		r->scope.len = (uint16_t)len;
		r->format = format;
		r->classes = classes;
		li->n++;
	}
	return 0;
}

static void log_free(void *inst)
{
	struct log_inst *li = inst;

	if (li != NULL)
		free(li->r);
	free(li);
}

static int log_setup(struct cp_setup *s, const struct cf_line *const *lines, unsigned n,
		     void **inst)
{
	struct log_inst *li = calloc(1, sizeof(*li));
	int rc = 0;

	if (li == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < n && rc == 0; i++)
		rc = log_line(s, li, lines[i]);
	if (rc < 0) {
		log_free(li);
		return rc;
	}
	s->settings->log = 1;
	*inst = li;
	return 0;
}

/* ------------------------------------------------------------------------- */
/* Formatting                                                                  */

struct log_ctx {
	const struct cp_request *rq;
	const uint8_t *resp;
	size_t len;
	uint64_t dur_ns;
};

static unsigned response_class(const uint8_t *resp, size_t len)
{
	unsigned rcode = len >= 12 ? resp[3] & 0xf : 2;

	if (rcode == DNS_RCODE_NOERROR)
		return len >= 12 && (resp[6] | resp[7]) != 0 ? LOG_SUCCESS : LOG_DENIAL;
	return rcode == DNS_RCODE_NXDOMAIN ? LOG_DENIAL : LOG_ERROR;
}

static void client_addr(const struct cp_client *c, char *ip, size_t cap, unsigned *port)
{
	char buf[INET6_ADDRSTRLEN] = "-";

	*port = 0;
	if (c != NULL && c->addr.ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)&c->addr;

		inet_ntop(AF_INET, &a->sin_addr, buf, sizeof(buf));
		*port = ntohs(a->sin_port);
		snprintf(ip, cap, "%s", buf);
	} else if (c != NULL && c->addr.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)&c->addr;

		inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof(buf));
		*port = ntohs(a->sin6_port);
		snprintf(ip, cap, "[%s]", buf); /* RFC 3986 form, as CoreDNS's {remote} */
	} else {
		snprintf(ip, cap, "-");
	}
}

static void rflags(const uint8_t *resp, size_t len, char *out, size_t cap)
{
	static const struct {
		uint16_t bit;
		const char *name;
	} f[] = {
		{ DNS_F_QR, "qr" }, { DNS_F_AA, "aa" }, { DNS_F_TC, "tc" }, { DNS_F_RD, "rd" },
		{ DNS_F_RA, "ra" }, { DNS_F_Z, "z" }, { DNS_F_AD, "ad" }, { DNS_F_CD, "cd" },
	};
	uint16_t flags = len >= 4 ? (uint16_t)(resp[2] << 8 | resp[3]) : 0;
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (flags & f[i].bit)
			o += (size_t)snprintf(out + o, cap - o, "%s%s", o ? "," : "", f[i].name);
	}
}

/* Value of placeholder @p key ("{type}"...). @return false when unknown. */
static bool placeholder(const struct log_ctx *c, const char *key, size_t klen, char *v, size_t cap)
{
	const struct cp_request *rq = c->rq;
	const struct dns_query *q = rq->q;
	char ip[INET6_ADDRSTRLEN + 2];
	unsigned port;

#define IS(k) (klen == sizeof(k) - 1 && memcmp(key, k, klen) == 0)
	client_addr(rq->client, ip, sizeof(ip), &port);
	if (IS("{type}")) {
		const char *t = dns_type_str(rq->qtype);

		t ? snprintf(v, cap, "%s", t) : snprintf(v, cap, "TYPE%u", rq->qtype);
	} else if (IS("{name}")) {
		cp_name_text(rq->qname, rq->qname_len, v, cap);
	} else if (IS("{class}")) {
		q->qclass == DNS_C_IN ? snprintf(v, cap, "IN") : snprintf(v, cap, "CLASS%u", q->qclass);
	} else if (IS("{proto}")) {
		snprintf(v, cap, "%s", rq->client && rq->client->tcp ? "tcp" : "udp");
	} else if (IS("{size}")) {
		snprintf(v, cap, "%zu", rq->len);
	} else if (IS("{remote}")) {
		snprintf(v, cap, "%s", ip);
	} else if (IS("{port}")) {
		snprintf(v, cap, "%u", port);
	} else if (IS("{>id}")) {
		snprintf(v, cap, "%u", q->id);
	} else if (IS("{>opcode}")) {
		snprintf(v, cap, "%u", (q->flags & DNS_F_OPCODE) >> 11);
	} else if (IS("{>do}")) {
		snprintf(v, cap, "%s", q->edns_do ? "true" : "false");
	} else if (IS("{>bufsize}")) {
		snprintf(v, cap, "%u", q->has_edns ? q->edns_size : DNS_UDP_MIN);
	} else if (IS("{rcode}")) {
		snprintf(v, cap, "%s", dns_rcode_str(c->len >= 4 ? c->resp[3] & 0xf : 2));
	} else if (IS("{rsize}")) {
		snprintf(v, cap, "%zu", c->len);
	} else if (IS("{>rflags}")) {
		rflags(c->resp, c->len, v, cap);
	} else if (IS("{duration}")) {
		snprintf(v, cap, "%.9fs", (double)c->dur_ns / 1e9);
	} else {
		return false;
	}
#undef IS
	return true;
}

static void log_print(const struct log_ctx *c, const char *format)
{
	char line[2048], v[1100];
	size_t o = 0;
	const char *p = format;

	while (*p != '\0' && o + 1 < sizeof(line)) {
		const char *end = *p == '{' ? strchr(p, '}') : NULL;

		if (end != NULL && placeholder(c, p, (size_t)(end - p + 1), v, sizeof(v))) {
			o += (size_t)snprintf(line + o, sizeof(line) - o, "%s", v);
			p = end + 1;
			continue;
		}
		line[o++] = *p++;
	}
	line[o < sizeof(line) ? o : sizeof(line) - 1] = '\0';
	printf("[INFO] %s\n", line);
	fflush(stdout);
}

/* First rule whose names cover the query decides (CoreDNS). */
static void log_observe(void *inst, const struct cp_request *rq, const uint8_t *resp, size_t len,
			uint64_t dur_ns)
{
	const struct log_inst *li = inst;
	struct log_ctx c = { rq, resp, len, dur_ns };

	if (rq->q == NULL)
		return;
	for (unsigned i = 0; i < li->n; i++) {
		const struct log_rule *r = &li->r[i];

		if (!cp_name_under(rq->qname, rq->qname_len, r->scope.wire, r->scope.len))
			continue;
		if (r->classes & (LOG_ALL | response_class(resp, len)))
			log_print(&c, r->format);
		return;
	}
}

const struct cp_plugin_ops *cp_log_plugin(void)
{
	static const struct cp_plugin_ops ops = {
		.name = "log",
		.flags = CP_PLUGIN_HANDLER | CP_PLUGIN_MULTI,
		.setup = log_setup,
		.free = log_free,
		.observe = log_observe,
	};
	return &ops;
}
