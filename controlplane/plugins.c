/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - the plugin registry, and the plugins that only configure the
 * process (health, ready, prometheus, reload, errors, bind): they fill struct
 * cp_settings with CoreDNS's defaults and validation.
 *
 * dpdns runs one health, one ready and one metrics listener and one reload timer for
 * the whole process: server blocks that set them must agree.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "corefile.h"
#include "forward.h"
#include "k8s_plugin.h"
#include "plugin.h"

/*
 * CoreDNS's plugin.cfg, in order: the order a block's chain runs in. NULL ops: a CoreDNS
 * directive dpdns does not support (an error naming it, never ignored). Add a plugin by
 * giving its line an ops function.
 */
static const struct cp_plugin_reg registry[] = {
	{ "root", NULL }, { "metadata", NULL }, { "geoip", NULL }, { "cancel", NULL },
	{ "tls", NULL }, { "timeouts", NULL }, { "multisocket", NULL },
	{ "reload", cp_reload_plugin }, { "nsid", NULL }, { "bufsize", NULL },
	{ "bind", cp_bind_plugin }, { "debug", NULL }, { "trace", NULL },
	{ "ready", cp_ready_plugin }, { "health", cp_health_plugin }, { "pprof", NULL },
	{ "prometheus", cp_prometheus_plugin }, { "errors", cp_errors_plugin },
	{ "log", cp_log_plugin }, { "dnstap", NULL }, { "local", NULL }, { "dns64", NULL },
	{ "acl", NULL }, { "any", NULL }, { "chaos", NULL },
	{ "loadbalance", cp_loadbalance_plugin },
	{ "tsig", NULL }, { "cache", cp_cache_plugin }, { "rewrite", NULL }, { "header", NULL },
	{ "dnssec", NULL }, { "autopath", NULL }, { "minimal", NULL }, { "template", NULL },
	{ "transfer", NULL }, { "hosts", cp_hosts_plugin }, { "route53", NULL },
	{ "azure", NULL }, { "clouddns", NULL }, { "k8s_external", NULL },
	{ "kubernetes", cp_kubernetes_plugin }, { "file", NULL }, { "auto", NULL }, { "secondary", NULL },
	{ "etcd", NULL }, { "loop", cp_loop_plugin }, { "forward", cp_forward_plugin },
	{ "grpc", NULL }, { "erratic", NULL }, { "whoami", NULL }, { "on", NULL }, { "sign", NULL },
	{ "view", NULL },
	{ NULL, NULL },
};

const struct cp_plugin_reg *cp_plugin_registry(void)
{
	return registry;
}

/* ------------------------------------------------------------------------- */
/* Shared checks                                                               */

/* Instance for plugins that keep nothing but have to exist. */
static char dummy_inst;

static int no_block(struct cp_setup *s, const struct cf_line *l)
{
	if (l->has_block && l->n_sub > 0)
		return cp_setup_err(s, &l->sub[0].tok[0], "unknown option '%s'", l->sub[0].tok[0].text);
	return 0;
}

static int max_args(struct cp_setup *s, const struct cf_line *l, unsigned max)
{
	if (l->n_tok - 1 > max)
		return cp_setup_err(s, &l->tok[max + 1], "unexpected argument '%s'",
				    l->tok[max + 1].text);
	return 0;
}

/* ADDR argument (or @p def), checked like Go's net.SplitHostPort. */
static int addr_arg(struct cp_setup *s, const struct cf_line *l, const char *def, char *out,
		    size_t cap)
{
	const char *a = l->n_tok > 1 ? l->tok[1].text : def;

	if (cp_parse_hostport(a) < 0 || strlen(a) >= cap)
		return cp_setup_err(s, &l->tok[1], "invalid address '%s' (want HOST:PORT)", a);
	snprintf(out, cap, "%s", a);
	return 0;
}

/* One process-wide value: the first block sets it, the others must repeat it. */
static int set_once(struct cp_setup *s, const struct cf_line *l, char *field, size_t cap,
		    const char *val)
{
	if (field[0] != '\0' && strcmp(field, val) != 0)
		return cp_setup_err(s, &l->tok[0],
				    "address '%s' differs from '%s' set in another server block "
				    "(dpdns runs one listener)", val, field);
	snprintf(field, cap, "%s", val);
	return 0;
}

static int duration_ms(const char *text, unsigned *ms)
{
	int64_t ns;

	if (cp_parse_duration(text, &ns) < 0 || ns < 0 || ns / 1000000 > UINT32_MAX)
		return -EINVAL;
	*ms = (unsigned)(ns / 1000000);
	return 0;
}

/* ------------------------------------------------------------------------- */
/* health [ADDR] { lameduck DURATION }                                        */

static int health_setup(struct cp_setup *s, const struct cf_line *const *lines, unsigned n,
			void **inst)
{
	const struct cf_line *l = lines[0];
	unsigned lameduck = 0;
	char addr[64];
	int rc;

	(void)n;
	if ((rc = max_args(s, l, 1)) < 0 || (rc = addr_arg(s, l, ":8080", addr, sizeof(addr))) < 0)
		return rc;
	for (unsigned i = 0; i < l->n_sub; i++) {
		const struct cf_line *o = &l->sub[i];

		if (strcmp(o->tok[0].text, "lameduck") != 0)
			return cp_setup_err(s, &o->tok[0], "unknown option '%s'", o->tok[0].text);
		if (o->n_tok != 2 || o->has_block)
			return cp_setup_err(s, &o->tok[0], "lameduck needs one duration");
		if (duration_ms(o->tok[1].text, &lameduck) < 0)
			return cp_setup_err(s, &o->tok[1],
					    "unable to parse lameduck duration value: '%s'",
					    o->tok[1].text);
	}
	rc = set_once(s, l, s->settings->health_addr, sizeof(s->settings->health_addr), addr);
	if (rc < 0)
		return rc;
	if (s->settings->lameduck_ms != 0 && s->settings->lameduck_ms != lameduck)
		return cp_setup_err(s, &l->tok[0], "lameduck differs from another server block");
	s->settings->lameduck_ms = lameduck;
	*inst = &dummy_inst;
	return 0;
}

/* ------------------------------------------------------------------------- */
/* ready [ADDR] { monitor until-ready|continuously }                          */

static int ready_setup(struct cp_setup *s, const struct cf_line *const *lines, unsigned n,
		       void **inst)
{
	const struct cf_line *l = lines[0];
	char addr[64];
	int rc;

	(void)n;
	if ((rc = max_args(s, l, 1)) < 0 || (rc = addr_arg(s, l, ":8181", addr, sizeof(addr))) < 0)
		return rc;
	for (unsigned i = 0; i < l->n_sub; i++) {
		const struct cf_line *o = &l->sub[i];

		if (strcmp(o->tok[0].text, "monitor") != 0)
			return cp_setup_err(s, &o->tok[0], "unknown property '%s'", o->tok[0].text);
		if (o->n_tok != 2 || (strcmp(o->tok[1].text, "until-ready") != 0 &&
				      strcmp(o->tok[1].text, "continuously") != 0))
			return cp_setup_err(s, &o->tok[0], "monitor needs until-ready or continuously");
	}
	rc = set_once(s, l, s->settings->ready_addr, sizeof(s->settings->ready_addr), addr);
	*inst = &dummy_inst;
	return rc;
}

/* ------------------------------------------------------------------------- */
/* prometheus [ADDR]                                                           */

static int prometheus_setup(struct cp_setup *s, const struct cf_line *const *lines, unsigned n,
			    void **inst)
{
	const struct cf_line *l = lines[0];
	char addr[64];
	int rc;

	(void)n;
	if ((rc = max_args(s, l, 1)) < 0 ||
	    (rc = addr_arg(s, l, "localhost:9153", addr, sizeof(addr))) < 0)
		return rc;
	if (l->n_sub > 0) {
		const struct cf_token *t = &l->sub[0].tok[0];

		if (strcmp(t->text, "tls") == 0)
			return cp_setup_err(s, t, "option 'tls' is not supported by dpdns");
		return cp_setup_err(s, t, "unknown option '%s'", t->text);
	}
	rc = set_once(s, l, s->settings->metrics_addr, sizeof(s->settings->metrics_addr), addr);
	*inst = &dummy_inst;
	return rc;
}

/* ------------------------------------------------------------------------- */
/* reload [INTERVAL [JITTER]]: INTERVAL >= 2s (30s), JITTER >= 1s (15s), <= INTERVAL/2 */

static int reload_setup(struct cp_setup *s, const struct cf_line *const *lines, unsigned n,
			void **inst)
{
	const struct cf_line *l = lines[0];
	unsigned ival = 30000, jit = 15000;
	int rc;

	(void)n;
	if ((rc = max_args(s, l, 2)) < 0 || (rc = no_block(s, l)) < 0)
		return rc;
	if (l->n_tok > 1 && duration_ms(l->tok[1].text, &ival) < 0)
		return cp_setup_err(s, &l->tok[1], "invalid duration '%s'", l->tok[1].text);
	if (ival < 2000)
		return cp_setup_err(s, &l->tok[l->n_tok > 1],
				    "interval value must be greater or equal to 2s");
	if (l->n_tok > 2 && duration_ms(l->tok[2].text, &jit) < 0)
		return cp_setup_err(s, &l->tok[2], "invalid duration '%s'", l->tok[2].text);
	if (jit < 1000)
		return cp_setup_err(s, &l->tok[2], "jitter value must be greater or equal to 1s");
	if (jit > ival / 2)
		jit = ival / 2; /* CoreDNS clamps rather than refuses */
	if (s->settings->reload_ms != 0 &&
	    (s->settings->reload_ms != ival || s->settings->reload_jitter_ms != jit))
		return cp_setup_err(s, &l->tok[0], "settings differ from another server block");
	s->settings->reload_ms = ival;
	s->settings->reload_jitter_ms = jit;
	*inst = &dummy_inst;
	return 0;
}

/* ------------------------------------------------------------------------- */
/* errors [stdout] { stacktrace | consolidate DURATION REGEXP [LEVEL] [show_first] } */

static int consolidate(struct cp_setup *s, const struct cf_line *o)
{
	static const char *const levels[] = { "warning", "error", "info", "debug" };
	unsigned ms;
	regex_t re;
	bool ok = false;

	if (o->n_tok < 3 || o->n_tok > 5)
		return cp_setup_err(s, &o->tok[0], "consolidate needs DURATION REGEXP [LEVEL]");
	if (duration_ms(o->tok[1].text, &ms) < 0)
		return cp_setup_err(s, &o->tok[1], "invalid duration '%s'", o->tok[1].text);
	if (strlen(o->tok[2].text) > 10000)
		return cp_setup_err(s, &o->tok[2], "REGEXP must not exceed 10000 characters");
	if (regcomp(&re, o->tok[2].text, REG_EXTENDED | REG_NOSUB) != 0)
		return cp_setup_err(s, &o->tok[2], "invalid regular expression '%s'", o->tok[2].text);
	regfree(&re);
	for (unsigned i = 3; i < o->n_tok; i++) {
		ok = strcmp(o->tok[i].text, "show_first") == 0;
		for (unsigned k = 0; k < 4 && i == 3; k++)
			ok |= strcmp(o->tok[i].text, levels[k]) == 0;
		if (!ok)
			return cp_setup_err(s, &o->tok[i], "unknown log level argument in consolidate: %s",
					    o->tok[i].text);
	}
	return 0;
}

static int errors_setup(struct cp_setup *s, const struct cf_line *const *lines, unsigned n,
			void **inst)
{
	const struct cf_line *l = lines[0];
	int rc;

	(void)n;
	if ((rc = max_args(s, l, 1)) < 0)
		return rc;
	if (l->n_tok == 2 && strcmp(l->tok[1].text, "stdout") != 0)
		return cp_setup_err(s, &l->tok[1], "invalid log file: %s", l->tok[1].text);
	for (unsigned i = 0; i < l->n_sub; i++) {
		const struct cf_line *o = &l->sub[i];

		if (strcmp(o->tok[0].text, "consolidate") == 0)
			rc = consolidate(s, o);
		else if (strcmp(o->tok[0].text, "stacktrace") == 0)
			rc = o->n_tok == 1 ? 0 : cp_setup_err(s, &o->tok[1], "stacktrace takes no argument");
		else
			rc = cp_setup_err(s, &o->tok[0], "unknown option '%s'", o->tok[0].text);
		if (rc < 0)
			return rc;
	}
	s->settings->errors = 1;
	*inst = &dummy_inst;
	return 0;
}

/* ------------------------------------------------------------------------- */
/* bind ADDRESS|INTERFACE ...                                                  */

struct bind_inst {
	char addr[8][64];
	unsigned n;
	const struct cf_token *where;
};

static int bind_add(struct cp_setup *s, struct bind_inst *b, const struct cf_token *t,
		    const char *a)
{
	for (unsigned i = 0; i < b->n; i++) {
		if (strcmp(b->addr[i], a) == 0)
			return 0;
	}
	if (b->n == 8)
		return cp_setup_err(s, t, "more than 8 addresses");
	snprintf(b->addr[b->n++], sizeof(b->addr[0]), "%s", a);
	return 0;
}

/* An interface name: its addresses except link-local ones (CoreDNS). */
static int bind_iface(struct cp_setup *s, struct bind_inst *b, const struct cf_token *t)
{
	struct ifaddrs *ifa, *p;
	char buf[INET6_ADDRSTRLEN];
	bool found = false;
	int rc = 0;

	if (getifaddrs(&ifa) < 0)
		return cp_setup_err(s, t, "failed to get interfaces list");
	for (p = ifa; p != NULL && rc == 0; p = p->ifa_next) {
		if (p->ifa_addr == NULL || strcmp(p->ifa_name, t->text) != 0)
			continue;
		found = true;
		if (p->ifa_addr->sa_family == AF_INET) {
			inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)p->ifa_addr)->sin_addr, buf,
				  sizeof(buf));
		} else if (p->ifa_addr->sa_family == AF_INET6) {
			const struct in6_addr *a6 =
				&((struct sockaddr_in6 *)(void *)p->ifa_addr)->sin6_addr;

			if (IN6_IS_ADDR_LINKLOCAL(a6) || IN6_IS_ADDR_MC_LINKLOCAL(a6))
				continue;
			inet_ntop(AF_INET6, a6, buf, sizeof(buf));
		} else {
			continue;
		}
		rc = bind_add(s, b, t, buf);
	}
	freeifaddrs(ifa);
	if (rc == 0 && !found)
		rc = cp_setup_err(s, t, "not a valid IP address or interface name: %s", t->text);
	return rc;
}

static int bind_setup(struct cp_setup *s, const struct cf_line *const *lines, unsigned n,
		      void **inst)
{
	struct bind_inst *b = calloc(1, sizeof(*b));
	unsigned char tmp[16];
	int rc = 0;

	if (b == NULL)
		return -ENOMEM;
	b->where = &lines[0]->tok[0];
	for (unsigned k = 0; k < n && rc == 0; k++) {
		const struct cf_line *l = lines[k];

		if (l->n_tok < 2)
			rc = cp_setup_err(s, &l->tok[0], "at least one address or interface name is expected");
		else if (l->has_block)
			rc = cp_setup_err(s, &l->tok[0], "options block (except) is not supported by dpdns");
		for (unsigned i = 1; i < l->n_tok && rc == 0; i++) {
			const char *a = l->tok[i].text;

			if (inet_pton(AF_INET, a, tmp) == 1 || inet_pton(AF_INET6, a, tmp) == 1)
				rc = bind_add(s, b, &l->tok[i], a);
			else
				rc = bind_iface(s, b, &l->tok[i]);
		}
	}
	if (rc < 0) {
		free(b);
		return rc;
	}
	*inst = b;
	return 0;
}

static void bind_free(void *inst)
{
	free(inst);
}

/*
 * dpdns listens on one address set for every port: the blocks must bind the same
 * addresses (or none may bind).
 */
static int bind_finish(struct cp_setup *s, void *const *inst, unsigned n, unsigned n_blocks)
{
	const struct bind_inst *first = n > 0 ? inst[0] : NULL;

	if (n == 0)
		return 0;
	for (unsigned i = 0; i < n; i++) {
		const struct bind_inst *b = inst[i];
		bool same = b->n == first->n;

		for (unsigned k = 0; k < b->n && same; k++)
			same = strcmp(b->addr[k], first->addr[k]) == 0;
		if (!same || n != n_blocks)
			return cp_setup_err(s, b->where,
					    "every server block must bind the same addresses "
					    "(dpdns listens on one address set)");
	}
	for (unsigned k = 0; k < first->n; k++)
		snprintf(s->settings->bind[k], sizeof(s->settings->bind[k]), "%s", first->addr[k]);
	s->settings->n_bind = first->n;
	return 0;
}

/* ------------------------------------------------------------------------- */

static void no_free(void *inst)
{
	(void)inst;
}

#define SIMPLE_PLUGIN(fn, nm, fl, setupfn)                 \
	const struct cp_plugin_ops *fn(void)               \
	{                                                  \
		static const struct cp_plugin_ops ops = {  \
			.name = nm,                        \
			.flags = fl,                       \
			.setup = setupfn,                  \
			.free = no_free,                   \
		};                                         \
		return &ops;                               \
	}

SIMPLE_PLUGIN(cp_health_plugin, "health", 0, health_setup)
SIMPLE_PLUGIN(cp_ready_plugin, "ready", 0, ready_setup)
SIMPLE_PLUGIN(cp_prometheus_plugin, "prometheus", CP_PLUGIN_HANDLER, prometheus_setup)
SIMPLE_PLUGIN(cp_reload_plugin, "reload", 0, reload_setup)
SIMPLE_PLUGIN(cp_errors_plugin, "errors", CP_PLUGIN_HANDLER, errors_setup)

const struct cp_plugin_ops *cp_bind_plugin(void)
{
	static const struct cp_plugin_ops ops = {
		.name = "bind",
		.flags = CP_PLUGIN_MULTI,
		.setup = bind_setup,
		.free = bind_free,
		.finish = bind_finish,
	};
	return &ops;
}
