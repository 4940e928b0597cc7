/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - parsing of the `forward` directive (CoreDNS v1.14 setup.go
 * semantics: option names, argument counts, defaults, errors naming file and line).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "corefile.h"
#include "fwd_int.h"
#include "fwd_tls.h"

uint64_t fwd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ------------------------------------------------------------------------- */
/* Shared value parsers                                                        */

/*
 * Go's time.ParseDuration restricted to what a Corefile needs: an optional sign, then one
 * or more decimal numbers (with fraction) each followed by ns, us, µs, ms, s, m or h
 * ("1h30m", "0.5s"); a lone "0" is allowed. Negative values are rejected (every option
 * that takes a duration refuses them).
 */
int fwd_parse_duration(const char *s, uint64_t *ms)
{
	static const struct { const char *u; double ms; } units[] = {
		{ "ns", 1e-6 }, { "us", 1e-3 }, { "\xc2\xb5s", 1e-3 }, { "ms", 1 },
		{ "s", 1e3 }, { "m", 60e3 }, { "h", 3600e3 },
	};
	double total = 0;

	if (*s == '+')
		s++;
	if (strcmp(s, "0") == 0) {
		*ms = 0;
		return 0;
	}
	if (*s == '\0')
		return -EINVAL;
	while (*s != '\0') {
		char *end;
		double v;
		size_t best = 0, bi = 0;

		if (!isdigit((unsigned char)*s) && *s != '.')
			return -EINVAL;
		v = strtod(s, &end);
		if (end == s)
			return -EINVAL;
		s = end;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t l = strlen(units[i].u);

			if (strncmp(s, units[i].u, l) == 0 && l > best) {
				best = l;
				bi = i;
			}
		}
		if (best == 0)
			return -EINVAL;
		total += v * units[bi].ms;
		s += best;
	}
	if (total > 1e15)
		return -ERANGE;
	*ms = (uint64_t)(total + 0.5);
	return 0;
}

/* Unsigned decimal that fits 32 bits. */
static int parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0' || errno != 0 || v > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

int fwd_parse_rcode(const char *s)
{
	for (int rc = 0; rc < 24; rc++) {
		if (strcasecmp(s, dns_rcode_str(rc)) == 0)
			return rc;
	}
	return -EINVAL;
}

/*
 * A zone as CoreDNS's plugin.Host(...).NormalizeExact() takes it: optional dns:// scheme,
 * optional :port, a name, or an IPv4 CIDR on an octet boundary (its reverse zone).
 */
int fwd_parse_zone(const char *in, struct fwd_zone *z, char *txt, size_t txtlen)
{
	char buf[DNS_MAX_NAME * 4 + 8], *p, *slash;
	int n;

	if (strncasecmp(in, "dns://", 6) == 0)
		in += 6;
	snprintf(buf, sizeof(buf), "%s", in);
	p = strrchr(buf, ':');
	if (p != NULL)
		*p = '\0';
	slash = strchr(buf, '/');
	if (slash != NULL) {
		struct in_addr a;
		unsigned bits;
		uint8_t o[4];
		char rev[64];
		size_t rl = 0;

		*slash = '\0';
		if (inet_pton(AF_INET, buf, &a) != 1 || sscanf(slash + 1, "%u", &bits) != 1 ||
		    bits > 32 || bits % 8 != 0)
			return -EINVAL;
		memcpy(o, &a, 4);
		for (int i = (int)bits / 8 - 1; i >= 0; i--)
			rl += (size_t)snprintf(rev + rl, sizeof(rev) - rl, "%u.", o[i]);
		snprintf(rev + rl, sizeof(rev) - rl, "in-addr.arpa.");
		snprintf(buf, sizeof(buf), "%s", rev);
	}
	n = dns_name_from_str(z->name, sizeof(z->name), buf);
	if (n < 0)
		return n;
	z->len = (uint16_t)n;
	if (txt != NULL && dns_name_to_str(z->name, z->len, 0, txt, txtlen) < 0)
		return -EINVAL;
	return 0;
}

/* ------------------------------------------------------------------------- */
/* Upstreams                                                                   */

/* Numeric host + port into @p ss. @return 0 or -EINVAL when @p host is no IP address. */
static int numeric_addr(const char *host, const char *port, struct sockaddr_storage *ss,
			socklen_t *len)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
				  .ai_socktype = SOCK_DGRAM };
	struct addrinfo *res;

	if (getaddrinfo(host, port, &hints, &res) != 0)
		return -EINVAL;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int add_upstream(struct cp_fwd *f, const struct sockaddr_storage *ss, socklen_t len,
			bool tls, const struct cf_token *t, char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 16];
	struct fwd_up *u;
	uint16_t port;

	if (f->n_up == CP_FWD_MAX_UPSTREAMS)
		return cf_errf(err, errlen, t, "forward: more than %d TOs configured",
			       CP_FWD_MAX_UPSTREAMS);
	u = &f->up[f->n_up++];
	memset(u, 0, sizeof(*u));
	fwd_target_init(&u->t, (const struct sockaddr *)ss, len);
	u->t.tls = tls;
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		port = ntohs(a->sin6_port);
		snprintf(u->name, sizeof(u->name), "[%s]:%u", host, port);
	} else {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		port = ntohs(a->sin_port);
		snprintf(u->name, sizeof(u->name), "%s:%u", host, port);
	}
	return 0;
}

/*
 * A resolv.conf-style file: every `nameserver ADDR` line is an upstream on the default
 * port. @return 0, -ENOENT when the file cannot be opened, or -EINVAL (err set).
 */
static int add_resolv_file(struct cp_fwd *f, const char *path, bool tls, const char *port,
			   const struct cf_token *t, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "r");
	char line[512];
	int found = 0, r;

	if (fp == NULL)
		return -ENOENT;
	while (fgets(line, sizeof(line), fp) != NULL) {
		char kw[32], addr[128];
		struct sockaddr_storage ss;
		socklen_t len;

		if (sscanf(line, "%31s %127s", kw, addr) != 2 || strcmp(kw, "nameserver") != 0)
			continue;
		if (numeric_addr(addr, port, &ss, &len) != 0)
			continue; /* like Go's resolv.conf reader: skip what is not an address */
		r = add_upstream(f, &ss, len, tls, t, err, errlen);
		if (r != 0) {
			fclose(fp);
			return r;
		}
		found++;
	}
	fclose(fp);
	if (found == 0)
		return cf_errf(err, errlen, t, "forward: no nameservers found in %s", path);
	return 0;
}

/* Split "[v6]:port", "v4:port", "v6" or "host" into host and port (default @p defport). */
static void split_host_port(char *s, char **host, const char **port, const char *defport)
{
	char *c;

	*port = defport;
	if (*s == '[' && (c = strchr(s, ']')) != NULL) {
		*c = '\0';
		*host = s + 1;
		if (c[1] == ':' && c[2] != '\0')
			*port = c + 2;
		return;
	}
	*host = s;
	c = strchr(s, ':');
	if (c != NULL && strchr(c + 1, ':') == NULL) {
		*c = '\0';
		*port = c + 1;
	}
}

static int parse_to(struct cp_fwd *f, const struct cf_token *t, const char *dir, char *err,
		    size_t errlen)
{
	char buf[1024], path[2048];
	const char *s = t->text, *port;
	char *host;
	bool tls = false;
	struct sockaddr_storage ss;
	socklen_t len;
	int r;

	if (strncasecmp(s, "dns://", 6) == 0) {
		s += 6;
	} else if (strncasecmp(s, "tls://", 6) == 0) {
		s += 6;
		tls = true;
	} else if (strstr(s, "://") != NULL) {
		return cf_errf(err, errlen, t, "forward: '%.*s' is not supported as a destination "
			       "protocol in forward: %s", (int)(strstr(s, "://") - s), s, s);
	}
	snprintf(buf, sizeof(buf), "%s", s);
	split_host_port(buf, &host, &port, tls ? "853" : "53");
	if (numeric_addr(host, port, &ss, &len) == 0)
		return add_upstream(f, &ss, len, tls, t, err, errlen);
	/* Not an address: a resolv.conf-style file (CoreDNS parse.HostPortOrFile). */
	if (s[0] == '/' || dir == NULL || dir[0] == '\0')
		snprintf(path, sizeof(path), "%s", s);
	else
		snprintf(path, sizeof(path), "%s/%s", dir, s);
	r = add_resolv_file(f, path, tls, tls ? "853" : "53", t, err, errlen);
	if (r == -ENOENT)
		return cf_errf(err, errlen, t, "forward: not an IP address or file: \"%s\"", s);
	return r;
}

/* ------------------------------------------------------------------------- */
/* Options                                                                     */

struct tls_args {
	const char *file[3];
	unsigned n;
	bool set;
	const struct cf_token *tok;
	char servername[256];
};

static int arg_err(const struct cf_line *l, char *err, size_t errlen)
{
	return cf_errf(err, errlen, &l->tok[0], "forward: %s: wrong argument count or "
		       "unexpected line ending after '%s'", l->tok[0].text,
		       l->tok[l->n_tok - 1].text);
}

static int opt_rcodes(const struct cf_line *l, uint32_t *mask, bool failover, char *err,
		      size_t errlen)
{
	if (l->n_tok < 2)
		return arg_err(l, err, errlen);
	for (unsigned i = 1; i < l->n_tok; i++) {
		int rc = fwd_parse_rcode(l->tok[i].text);

		if (rc < 0)
			return cf_errf(err, errlen, &l->tok[i], "forward: %s is not a valid rcode",
				       l->tok[i].text);
		if (failover && rc == DNS_RCODE_NOERROR)
			return cf_errf(err, errlen, &l->tok[i], "forward: NoError cannot be used "
				       "in failover");
		*mask |= 1u << rc;
	}
	return 0;
}

static int opt_health_check(struct cp_fwd *f, const struct cf_line *l, char *err,
			    size_t errlen)
{
	if (l->n_tok < 2)
		return arg_err(l, err, errlen);
	if (fwd_parse_duration(l->tok[1].text, &f->hc_ms) != 0)
		return cf_errf(err, errlen, &l->tok[1], "forward: health_check: invalid "
			       "duration '%s'", l->tok[1].text);
	for (unsigned i = 2; i < l->n_tok; i++) {
		if (strcmp(l->tok[i].text, "no_rec") == 0) {
			f->hc_rd = false;
		} else if (strcmp(l->tok[i].text, "domain") == 0) {
			if (++i == l->n_tok)
				return arg_err(l, err, errlen);
			if (fwd_parse_zone(l->tok[i].text, &f->hc_domain, NULL, 0) != 0)
				return cf_errf(err, errlen, &l->tok[i], "forward: health_check: "
					       "invalid domain name %s", l->tok[i].text);
		} else {
			return cf_errf(err, errlen, &l->tok[i], "forward: health_check: unknown "
				       "option %s", l->tok[i].text);
		}
	}
	return 0;
}

static int opt_number(const struct cf_line *l, uint32_t *v, char *err, size_t errlen)
{
	if (l->n_tok != 2)
		return arg_err(l, err, errlen);
	if (parse_u32(l->tok[1].text, v) != 0)
		return cf_errf(err, errlen, &l->tok[1], "forward: %s: invalid number '%s'",
			       l->tok[0].text, l->tok[1].text);
	return 0;
}

static int opt_flag(const struct cf_line *l, bool *v, char *err, size_t errlen)
{
	if (l->n_tok != 1)
		return arg_err(l, err, errlen);
	*v = true;
	return 0;
}

static int opt_policy(struct cp_fwd *f, const struct cf_line *l, char *err, size_t errlen)
{
	static const char *names[] = { "random", "round_robin", "sequential" };

	if (l->n_tok != 2)
		return arg_err(l, err, errlen);
	for (unsigned i = 0; i < 3; i++) {
		if (strcmp(l->tok[1].text, names[i]) == 0) {
			f->policy = (enum fwd_policy)i;
			return 0;
		}
	}
	return cf_errf(err, errlen, &l->tok[1], "forward: unknown policy '%s'", l->tok[1].text);
}

static int opt_except(struct cp_fwd *f, const struct cf_line *l, char *err, size_t errlen)
{
	struct fwd_zone *z;

	if (l->n_tok < 2)
		return arg_err(l, err, errlen);
	z = realloc(f->except, (f->n_except + l->n_tok - 1) * sizeof(*z));
	if (z == NULL)
		return cf_errf(err, errlen, &l->tok[0], "forward: out of memory");
	f->except = z;
	for (unsigned i = 1; i < l->n_tok; i++) {
		if (fwd_parse_zone(l->tok[i].text, &f->except[f->n_except], NULL, 0) != 0)
			return cf_errf(err, errlen, &l->tok[i], "forward: except: invalid name "
				       "'%s'", l->tok[i].text);
		f->n_except++;
	}
	return 0;
}

static int opt_tls(const struct cf_line *l, struct tls_args *ta, char *err, size_t errlen)
{
	if (l->n_tok > 4)
		return arg_err(l, err, errlen);
	ta->set = true;
	ta->tok = &l->tok[0];
	ta->n = l->n_tok - 1;
	for (unsigned i = 1; i < l->n_tok; i++)
		ta->file[i - 1] = l->tok[i].text;
	return 0;
}

static int opt_duration(const struct cf_line *l, uint64_t *ms, char *err, size_t errlen)
{
	if (l->n_tok != 2)
		return arg_err(l, err, errlen);
	if (fwd_parse_duration(l->tok[1].text, ms) != 0)
		return cf_errf(err, errlen, &l->tok[1], "forward: %s: invalid duration '%s'",
			       l->tok[0].text, l->tok[1].text);
	return 0;
}

static int parse_option(struct cp_fwd *f, const struct cf_line *l, struct tls_args *ta,
			char *err, size_t errlen)
{
	const char *o = l->tok[0].text;
	uint32_t dummy;

	if (l->n_sub != 0 || l->has_block)
		return cf_errf(err, errlen, &l->tok[0], "forward: unexpected block after '%s'", o);
	if (strcmp(o, "except") == 0)
		return opt_except(f, l, err, errlen);
	if (strcmp(o, "force_tcp") == 0)
		return opt_flag(l, &f->force_tcp, err, errlen);
	if (strcmp(o, "prefer_udp") == 0)
		return opt_flag(l, &f->prefer_udp, err, errlen);
	if (strcmp(o, "failfast_all_unhealthy_upstreams") == 0)
		return opt_flag(l, &f->failfast, err, errlen);
	if (strcmp(o, "expire") == 0)
		return opt_duration(l, &f->expire_ms, err, errlen);
	if (strcmp(o, "max_fails") == 0)
		return opt_number(l, &f->max_fails, err, errlen);
	if (strcmp(o, "max_concurrent") == 0)
		return opt_number(l, &f->max_concurrent, err, errlen);
	if (strcmp(o, "max_connect_attempts") == 0)
		return opt_number(l, &f->max_connect_attempts, err, errlen);
	if (strcmp(o, "max_idle_conns") == 0)
		return opt_number(l, &dummy, err, errlen); /* idle pool is capped at FWD_IDLE_MAX */
	if (strcmp(o, "health_check") == 0)
		return opt_health_check(f, l, err, errlen);
	if (strcmp(o, "policy") == 0)
		return opt_policy(f, l, err, errlen);
	if (strcmp(o, "next") == 0)
		return opt_rcodes(l, &f->next_mask, false, err, errlen);
	if (strcmp(o, "failover") == 0)
		return opt_rcodes(l, &f->failover_mask, true, err, errlen);
	if (strcmp(o, "tls") == 0)
		return opt_tls(l, ta, err, errlen);
	if (strcmp(o, "tls_servername") == 0) {
		if (l->n_tok != 2)
			return arg_err(l, err, errlen);
		snprintf(ta->servername, sizeof(ta->servername), "%s", l->tok[1].text);
		return 0;
	}
	return cf_errf(err, errlen, &l->tok[0], "forward: unknown property '%s'", o);
}

/* ------------------------------------------------------------------------- */
/* Stanza                                                                       */

struct cp_fwd *fwd_alloc(void)
{
	struct cp_fwd *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	f->up = calloc(CP_FWD_MAX_UPSTREAMS, sizeof(*f->up));
	if (f->up == NULL) {
		free(f);
		return NULL;
	}
	f->expire_ms = 10000;
	f->max_fails = 2;
	f->hc_ms = 500;
	f->hc_rd = true;
	f->hc_domain.name[0] = 0;
	f->hc_domain.len = 1;
	f->policy = FWD_POLICY_RANDOM;
	return f;
}

void fwd_conf_free(struct cp_fwd *f)
{
	fwd_tls_free(f->tls);
	free(f->except);
	free(f->up);
	free(f);
}

/* Resolve a TLS file name against the Corefile's directory. */
static const char *tls_path(const char *name, const char *dir, char *buf, size_t len)
{
	if (name == NULL || name[0] == '/' || dir == NULL || dir[0] == '\0')
		return name;
	snprintf(buf, len, "%s/%s", dir, name);
	return buf;
}

/* CoreDNS pkg/tls: 0 args = system CAs; 1 = CA; 2 = CERT KEY; 3 = CERT KEY CA. */
static int setup_tls(struct cp_fwd *f, const struct tls_args *ta, const struct cf_token *t,
		     const char *dir, char *err, size_t errlen)
{
	char b[3][2048], msg[512];
	const char *cert = NULL, *key = NULL, *ca = NULL;
	bool any_tls = false;

	for (unsigned i = 0; i < f->n_up; i++)
		any_tls |= f->up[i].t.tls;
	if (!any_tls)
		return 0; /* settings only matter for tls:// upstreams (as in CoreDNS) */
	if (ta->n == 1)
		ca = ta->file[0];
	if (ta->n >= 2) {
		cert = ta->file[0];
		key = ta->file[1];
	}
	if (ta->n == 3)
		ca = ta->file[2];
	f->tls = fwd_tls_create(tls_path(cert, dir, b[0], sizeof(b[0])),
				tls_path(key, dir, b[1], sizeof(b[1])),
				tls_path(ca, dir, b[2], sizeof(b[2])),
				ta->servername[0] ? ta->servername : NULL, msg, sizeof(msg));
	if (f->tls == NULL)
		return cf_errf(err, errlen, ta->set ? ta->tok : t, "forward: %s", msg);
	for (unsigned i = 0; i < f->n_up; i++)
		f->up[i].t.tls_ctx = f->tls;
	return 0;
}

static int parse_head(struct cp_fwd *f, const struct cf_line *line, const char *dir,
		      char *err, size_t errlen)
{
	const struct cf_token *t = line->tok;

	if (line->n_tok < 3)
		return cf_errf(err, errlen, &t[0], "forward: wrong argument count or unexpected "
			       "line ending after '%s'", t[line->n_tok - 1].text);
	if (fwd_parse_zone(t[1].text, &f->from, f->from_txt, sizeof(f->from_txt)) != 0)
		return cf_errf(err, errlen, &t[1], "forward: unable to normalize '%s'", t[1].text);
	for (unsigned i = 2; i < line->n_tok; i++) {
		int r = parse_to(f, &t[i], dir, err, errlen);

		if (r != 0)
			return r;
	}
	return 0;
}

struct cp_fwd *cp_fwd_parse(const struct cf_line *line, const char *dir, char *err,
			    size_t errlen)
{
	struct tls_args ta;
	struct cp_fwd *f = fwd_alloc();

	memset(&ta, 0, sizeof(ta));
	if (f == NULL) {
		cf_errf(err, errlen, &line->tok[0], "forward: out of memory");
		return NULL;
	}
	if (parse_head(f, line, dir, err, errlen) != 0)
		goto fail;
	for (unsigned i = 0; i < line->n_sub; i++) {
		if (parse_option(f, &line->sub[i], &ta, err, errlen) != 0)
			goto fail;
	}
	if (setup_tls(f, &ta, &line->tok[0], dir, err, errlen) != 0)
		goto fail;
	f->io = fwd_io_create();
	if (f->io == NULL) {
		cf_errf(err, errlen, &line->tok[0], "forward: %s", strerror(errno));
		goto fail;
	}
	return f;
fail:
	fwd_conf_free(f);
	return NULL;
}
