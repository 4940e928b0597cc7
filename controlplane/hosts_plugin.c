/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - the `hosts` plugin (CoreDNS semantics):
 *
 *   hosts [FILE [ZONES...]] {
 *       [INLINE: IP NAME...]
 *       ttl SECONDS          (1..65535, default 3600)
 *       no_reverse
 *       reload DURATION      (default 5s, 0 disables)
 *       fallthrough [ZONES...]
 *   }
 *
 * Answers (CoreDNS plugin/hosts): a name outside its zones goes to the next plugin
 * (except PTR, looked up by address whatever the zones); a PTR miss always goes on; a
 * name with addresses answers AA with the records of the asked type, or AA NOERROR and
 * nothing (no SOA) for another type; a name it does not know falls through when it is in
 * the fallthrough zones, else SERVFAIL (hosts has no SOA to deny with).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "corefile.h"
#include "dns.h"
#include "hosts.h"
#include "plugin.h"

#define HOSTS_DEFAULT_FILE   "/etc/hosts"
#define HOSTS_DEFAULT_TTL    3600
#define HOSTS_DEFAULT_RELOAD 5000u       /* ms */
#define HOSTS_MAX_FILE       (256u << 20)

struct hosts {
	char path[PATH_MAX];
	bool file_given;             /* FILE was written in the Corefile */
	struct cp_zone *origins;
	unsigned n_origins;
	struct cp_zone *fall;        /* fallthrough zones ("." when given without zones) */
	unsigned n_fall;
	uint32_t ttl;
	bool reverse;
	uint64_t reload_ms;
	char *inl;                   /* inline entries, one per line */
	size_t inl_len;
	struct hosts_db *db;
	char where[PATH_MAX + 16];   /* "Corefile:12" of the directive */
	/* The file as last read. */
	bool have_file;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	uint64_t hash;
	uint64_t next_check_ms;
	double reload_ts;
	unsigned bad_lines;
	bool read_warned;
};

static const uint16_t hosts_types[] = { DNS_T_A, DNS_T_AAAA, DNS_T_PTR, 0 };

/* ------------------------------------------------------------------------- */
/* Loading                                                                     */

static char *read_all(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	FILE *f = fopen(path, "re");

	if (f == NULL)
		return NULL;
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > HOSTS_MAX_FILE ||
	    (buf = malloc((size_t)st.st_size + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	*len = fread(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	return buf;
}

/* New data from the file text (may be NULL: no file) and the inline entries. */
static struct hosts_db *build_db(struct hosts *h, const char *text, size_t len)
{
	struct hosts_parse_stats st = { 0 };
	struct hosts_db *db = hosts_db_new();

	if (db == NULL)
		return NULL;
	if ((text != NULL &&
	     hosts_db_parse(db, text, len, h->origins, h->n_origins, h->reverse, &st) < 0) ||
	    hosts_db_parse(db, h->inl ? h->inl : "", h->inl_len, h->origins, h->n_origins,
			   h->reverse, NULL) < 0) {
		hosts_db_free(db);
		return NULL;
	}
	h->bad_lines = st.bad_lines;
	if (st.bad_lines > 0)
		cp_plog("WARNING", "hosts", "%s: skipped %u malformed line(s), the first at line %u",
			h->path, st.bad_lines, st.first_bad);
	return db;
}

/*
 * Re-read the file when its identity, size or mtime changed (or @p force). A file that
 * cannot be read keeps the data we have, as CoreDNS does.
 * @return 1 when the data changed, 0, or -ENOMEM.
 */
static int hosts_check(struct hosts *h, bool force)
{
	struct hosts_db *db;
	struct stat st;
	uint64_t hash;
	size_t len = 0;
	char *text;

	if (stat(h->path, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	if (!force && h->have_file && st.st_dev == h->dev && st.st_ino == h->ino &&
	    st.st_size == h->size && st.st_mtim.tv_sec == h->mtime.tv_sec &&
	    st.st_mtim.tv_nsec == h->mtime.tv_nsec)
		return 0;
	text = read_all(h->path, &len);
	if (text == NULL) {
		if (!h->read_warned) /* once, not at every check */
			cp_plog("WARNING", "hosts", "cannot read %s: %s", h->path,
				(uint64_t)st.st_size > HOSTS_MAX_FILE ? "larger than 256 MiB" :
				strerror(errno));
		h->read_warned = true;
		return 0;
	}
	h->read_warned = false;
	hash = dns_name_hash((const uint8_t *)text, len);
	h->dev = st.st_dev;
	h->ino = st.st_ino;
	h->size = st.st_size;
	h->mtime = st.st_mtim;
	h->reload_ts = (double)st.st_mtim.tv_sec + (double)st.st_mtim.tv_nsec / 1e9;
	if (h->have_file && hash == h->hash && h->db != NULL) {
		free(text);
		return 0;
	}
	db = build_db(h, text, len);
	free(text);
	if (db == NULL)
		return -ENOMEM;
	hosts_db_free(h->db);
	h->db = db;
	h->have_file = true;
	h->hash = hash;
	return 1;
}

/* ------------------------------------------------------------------------- */
/* Setup                                                                       */

static int add_inline(struct cp_setup *s, struct hosts *h, const struct cf_line *l)
{
	size_t need = 0;
	uint8_t wire[DNS_MAX_NAME];
	char *p;

	if (h->fall != NULL)
		return cp_setup_err(s, &l->tok[0],
				    "unknown option '%s' (inline entries go before fallthrough)",
				    l->tok[0].text);
	if (l->n_tok < 2 || l->has_block)
		return cp_setup_err(s, &l->tok[0], "inline entry '%s' needs a name", l->tok[0].text);
	for (unsigned i = 0; i < l->n_tok; i++) {
		if (i > 0) {
			int n = dns_name_from_str(wire, sizeof(wire), l->tok[i].text);

			if (n < 0)
				return cp_setup_err(s, &l->tok[i], "invalid name '%s'", l->tok[i].text);
			if (cp_zone_match(h->origins, h->n_origins, wire, (size_t)n) < 0)
				cp_plog("WARNING", "hosts", "%s:%u: %s is outside the plugin's zones: ignored",
					l->tok[i].file, l->tok[i].line, l->tok[i].text);
		}
		need += strlen(l->tok[i].text) + 1;
	}
	p = realloc(h->inl, h->inl_len + need + 1);
	if (p == NULL)
		return -ENOMEM;
	h->inl = p;
	for (unsigned i = 0; i < l->n_tok; i++)
		h->inl_len += (size_t)sprintf(h->inl + h->inl_len, "%s%s", l->tok[i].text,
					      i + 1 < l->n_tok ? " " : "\n");
	return 0;
}

static int opt_args(struct cp_setup *s, const struct cf_line *l, unsigned want)
{
	if (l->has_block)
		return cp_setup_err(s, &l->tok[0], "%s takes no block", l->tok[0].text);
	if (l->n_tok - 1 != want)
		return cp_setup_err(s, &l->tok[0], "%s needs %u argument%s", l->tok[0].text, want,
				    want == 1 ? "" : "s");
	return 0;
}

static int hosts_option(struct cp_setup *s, struct hosts *h, const struct cf_line *l)
{
	const char *opt = l->tok[0].text;
	struct hosts_addr a;
	unsigned long v;
	int64_t ns;
	int n;

	if (strcmp(opt, "fallthrough") == 0) {
		static const struct cp_zone root = { .len = 1 };

		free(h->fall);
		h->fall = NULL;
		n = cp_setup_zones(s, l->tok + 1, l->n_tok - 1, &h->fall);
		if (n < 0)
			return n;
		h->n_fall = (unsigned)n;
		if (n == 0 && (h->fall = malloc(sizeof(root))) == NULL)
			return -ENOMEM;
		if (n == 0) {
			h->fall[0] = root;
			h->n_fall = 1;
		}
		return 0;
	}
	if (strcmp(opt, "no_reverse") == 0) {
		h->reverse = false;
		return opt_args(s, l, 0);
	}
	if (strcmp(opt, "ttl") == 0) {
		if ((n = opt_args(s, l, 1)) < 0)
			return n;
		if (cp_parse_uint(l->tok[1].text, 1, 65535, &v) < 0)
			return cp_setup_err(s, &l->tok[1], "ttl must be 1..65535 seconds, not '%s'",
					    l->tok[1].text);
		h->ttl = (uint32_t)v;
		return 0;
	}
	if (strcmp(opt, "reload") == 0) {
		if ((n = opt_args(s, l, 1)) < 0)
			return n;
		if (cp_parse_duration(l->tok[1].text, &ns) < 0 || ns < 0)
			return cp_setup_err(s, &l->tok[1], "invalid duration for reload '%s'",
					    l->tok[1].text);
		h->reload_ms = (uint64_t)ns / 1000000;
		if (ns > 0 && h->reload_ms == 0)
			h->reload_ms = 1;
		return 0;
	}
	if (hosts_parse_addr(opt, &a) == 0)
		return add_inline(s, h, l);
	return cp_setup_err(s, &l->tok[0], "unknown option '%s'", opt);
}

static int hosts_args(struct cp_setup *s, struct hosts *h, const struct cf_line *l)
{
	int n;

	if (l->n_tok >= 2) {
		const char *f = l->tok[1].text;

		if (f[0] == '\0')
			return cp_setup_err(s, &l->tok[1], "empty file name");
		if (f[0] == '/' || strcmp(s->dir, ".") == 0)
			n = snprintf(h->path, sizeof(h->path), "%s", f);
		else
			n = snprintf(h->path, sizeof(h->path), "%s/%s", s->dir, f);
		if (n >= (int)sizeof(h->path))
			return cp_setup_err(s, &l->tok[1], "file name too long");
		h->file_given = true;
	}
	if (l->n_tok >= 3) {
		n = cp_setup_zones(s, l->tok + 2, l->n_tok - 2, &h->origins);
		if (n < 0)
			return n;
		h->n_origins = (unsigned)n;
		return 0;
	}
	h->origins = malloc(s->n_zones * sizeof(*h->origins));
	if (h->origins == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < s->n_zones; i++) {
		h->origins[i] = s->zones[i];
		h->origins[i].port = 0;
	}
	h->n_origins = s->n_zones;
	return 0;
}

static void hosts_free(void *inst)
{
	struct hosts *h = inst;

	if (h == NULL)
		return;
	hosts_db_free(h->db);
	free(h->origins);
	free(h->fall);
	free(h->inl);
	free(h);
}

static int hosts_open(struct cp_setup *s, struct hosts *h, const struct cf_token *t)
{
	struct stat st;

	if (stat(h->path, &st) < 0) {
		if (errno != ENOENT)
			return cp_setup_err(s, t, "unable to access hosts file '%s': %s", h->path,
					    strerror(errno));
		cp_plog("WARNING", "hosts", "File does not exist: %s", h->path);
	} else if (S_ISDIR(st.st_mode)) {
		cp_plog("WARNING", "hosts", "Hosts file \"%s\" is a directory", h->path);
	}
	if (hosts_check(h, true) < 0)
		return -ENOMEM;
	if (h->db == NULL && (h->db = build_db(h, NULL, 0)) == NULL)
		return -ENOMEM;
	return 0;
}

static int hosts_setup(struct cp_setup *s, const struct cf_line *const *lines, unsigned n,
		       void **inst)
{
	const struct cf_line *l = lines[0];
	struct hosts *h = calloc(1, sizeof(*h));
	int rc;

	(void)n;
	if (h == NULL)
		return -ENOMEM;
	snprintf(h->path, sizeof(h->path), "%s", HOSTS_DEFAULT_FILE);
	snprintf(h->where, sizeof(h->where), "%s:%u", l->tok[0].file, l->tok[0].line);
	h->ttl = HOSTS_DEFAULT_TTL;
	h->reverse = true;
	h->reload_ms = HOSTS_DEFAULT_RELOAD;
	rc = hosts_args(s, h, l);
	for (unsigned i = 0; rc == 0 && i < l->n_sub; i++)
		rc = hosts_option(s, h, &l->sub[i]);
	if (rc == 0)
		rc = hosts_open(s, h, &l->tok[0]);
	if (rc < 0) {
		hosts_free(h);
		return rc;
	}
	*inst = h;
	return 0;
}

/* ------------------------------------------------------------------------- */
/* Answering                                                                   */

/*
 * After adding a record: @return false when it did not fit, and the answer stops there.
 * A table value (sync) then fails, so the name stays with the control plane, whose
 * builder spills past a value's size; an answer that does not fit even that keeps what
 * fitted and is marked truncated (TC=1), never sent as if it were whole.
 */
static bool added(const struct cp_request *rq, struct dns_builder *b, int rc)
{
	if (rc == 0)
		return true;
	if (!rq->sync && rc == -ENOSPC) {
		b->err = 0;
		b->flags |= DNS_F_TC;
	}
	return false;
}

static enum cp_serve hosts_ptr(struct hosts *h, const struct cp_request *rq,
			       struct dns_builder *b)
{
	const struct hosts_rev *r;
	struct hosts_addr a;

	if (hosts_rev_parse(rq->qname, rq->qname_len, &a) < 0 ||
	    (r = hosts_db_rev(h->db, &a)) == NULL)
		return CP_NEXT;
	b->flags = DNS_F_AA;
	for (uint32_t i = r->first; i != HOSTS_END; i = h->db->refs[i].next) {
		const struct hosts_name *n = &h->db->names[h->db->refs[i].name];

		if (!added(rq, b, dns_builder_add_raw(b, DNS_SEC_ANSWER, DNS_OWNER_QNAME,
						      DNS_T_PTR, h->ttl, h->db->wire + n->off,
						      n->len)))
			break;
	}
	return CP_ANSWERED;
}

static enum cp_serve hosts_serve(void *inst, const struct cp_request *rq, struct dns_builder *b)
{
	struct hosts *h = inst;
	const struct hosts_name *n;
	int fam;

	if (rq->qtype == DNS_T_PTR)
		return hosts_ptr(h, rq, b);
	if (cp_zone_match(h->origins, h->n_origins, rq->qname, rq->qname_len) < 0)
		return CP_NEXT;
	n = hosts_db_name(h->db, rq->qname, rq->qname_len);
	if (n == NULL) {
		if (cp_zone_match(h->fall, h->n_fall, rq->qname, rq->qname_len) >= 0)
			return CP_NEXT;
		b->flags = DNS_RCODE_SERVFAIL;
		return CP_ANSWERED;
	}
	b->flags = DNS_F_AA;
	fam = rq->qtype == DNS_T_A ? 4 : rq->qtype == DNS_T_AAAA ? 6 : 0;
	for (uint32_t i = n->first; fam != 0 && i != HOSTS_END; i = h->db->recs[i].next) {
		const struct hosts_addr *a = &h->db->recs[i].addr;

		if (a->fam != fam)
			continue;
		if (!added(rq, b, dns_builder_add_raw(b, DNS_SEC_ANSWER, DNS_OWNER_QNAME,
						      rq->qtype, h->ttl, a->a, fam == 4 ? 4 : 16)))
			break;
	}
	return CP_ANSWERED;
}

/*
 * Names of the region the file does not list: PTR and names outside the hosts zones go
 * on; other names inside the zones fall through or get SERVFAIL.
 */
static void hosts_outcome(void *inst, const struct cp_region *r, struct cp_outcome *o)
{
	struct hosts *h = inst;
	bool inside = false;

	o->next = true;
	for (unsigned i = 0; i < h->n_origins && !inside; i++) {
		const struct cp_zone *z = &h->origins[i];

		if (cp_name_under(r->zone, r->zone_len, z->wire, z->len))
			inside = true;
		else if (cp_name_under(z->wire, z->len, r->zone, r->zone_len))
			inside = cp_zone_match(r->excl, r->n_excl, z->wire, z->len) < 0;
	}
	if (inside && cp_zone_match(h->fall, h->n_fall, r->zone, r->zone_len) < 0)
		cp_outcome_flags(o, DNS_RCODE_SERVFAIL);
}

static int hosts_sync(void *inst, struct cp_sync *s)
{
	struct hosts *h = inst;
	const struct hosts_db *db = h->db;
	uint8_t rev[DNS_MAX_NAME];
	int rc;

	for (uint32_t i = 0; i < db->n_names; i++) {
		rc = cp_sync_name(s, db->wire + db->names[i].off, db->names[i].len);
		if (rc < 0)
			return rc;
	}
	for (uint32_t i = 0; i < db->n_revs; i++) {
		const struct hosts_addr *a = &db->revs[i].addr;

		rc = cp_sync_name(s, rev, (size_t)hosts_rev_name(a, false, rev));
		if (rc == 0 && a->fam == 4)
			rc = cp_sync_name(s, rev, (size_t)hosts_rev_name(a, true, rev));
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int hosts_tick(void *inst, struct cp_tick *t, uint64_t now_ms)
{
	struct hosts *h = inst;

	(void)t;
	if (h->reload_ms == 0 || now_ms < h->next_check_ms)
		return 0;
	h->next_check_ms = now_ms + h->reload_ms;
	return hosts_check(h, false);
}

/* Prometheus label value: backslash, double quote and newline escaped. */
static void label_escape(const char *s, char *out, size_t cap)
{
	size_t o = 0;

	for (; *s != '\0' && o + 3 < cap; s++) {
		if (*s == '\\' || *s == '"' || *s == '\n')
			out[o++] = '\\';
		out[o++] = *s == '\n' ? 'n' : *s;
	}
	out[o] = '\0';
}

static size_t hosts_metrics(void *const *inst, unsigned n, char *buf, size_t cap)
{
	size_t entries = 0, o = 0;
	double ts = 0;
	int k;

	for (unsigned i = 0; i < n; i++) {
		const struct hosts *h = inst[i];

		entries += hosts_db_entries(h->db);
		if (h->reload_ts > ts)
			ts = h->reload_ts;
	}
	k = snprintf(buf, cap,
		     "# HELP coredns_hosts_entries The combined number of entries in hosts and Corefile.\n"
		     "# TYPE coredns_hosts_entries gauge\n"
		     "coredns_hosts_entries %zu\n"
		     "# HELP coredns_hosts_reload_timestamp_seconds The timestamp of the last reload of hosts file.\n"
		     "# TYPE coredns_hosts_reload_timestamp_seconds gauge\n"
		     "coredns_hosts_reload_timestamp_seconds %.9g\n"
		     "# HELP dpdns_hosts_invalid_lines Lines of a hosts file skipped as malformed.\n"
		     "# TYPE dpdns_hosts_invalid_lines gauge\n",
		     entries, ts);
	o = k < 0 ? 0 : (size_t)k < cap ? (size_t)k : cap;
	for (unsigned i = 0; i < n && o < cap; i++) {
		const struct hosts *h = inst[i];
		char label[2 * PATH_MAX + 1];

		label_escape(h->path, label, sizeof(label));
		k = snprintf(buf + o, cap - o, "dpdns_hosts_invalid_lines{file=\"%s\"} %u\n", label,
			     h->bad_lines);
		o += k < 0 ? 0 : (size_t)k < cap - o ? (size_t)k : cap - o;
	}
	return o;
}

/* ------------------------------------------------------------------------- */
/* Editing (cp_engine_hosts_edit)                                              */

bool hosts_plugin_has_file(const void *inst)
{
	const struct hosts *h = inst;

	return h->file_given;
}

int hosts_plugin_edit(void *inst, bool add, const char *name, const char *addr, char *err,
		      size_t errlen)
{
	struct hosts *h = inst;
	struct hosts_addr a;
	uint8_t wire[DNS_MAX_NAME];
	int n = name != NULL ? dns_name_from_str(wire, sizeof(wire), name) : -EINVAL;
	int rc;

	if (n < 0 || n == 1 || strlen(name) > 254) {
		snprintf(err, errlen, "invalid name '%s'", name ? name : "");
		return -EINVAL;
	}
	if (cp_zone_match(h->origins, h->n_origins, wire, (size_t)n) < 0) {
		snprintf(err, errlen, "%s is outside the zones of the hosts plugin at %s", name,
			 h->where);
		return -EINVAL;
	}
	if ((add || (addr != NULL && addr[0] != '\0')) &&
	    (addr == NULL || strchr(addr, '%') != NULL || hosts_parse_addr(addr, &a) < 0)) {
		snprintf(err, errlen, "invalid address '%s'", addr ? addr : "");
		return -EINVAL;
	}
	rc = hosts_file_edit(h->path, add, name,
			     add || (addr != NULL && addr[0] != '\0') ? &a : NULL, err, errlen);
	if (rc < 0)
		return rc;
	/* Visible at once, whatever the reload interval (the runtime syncs next tick). */
	rc = hosts_check(h, true);
	return rc < 0 ? rc : 0;
}

static const struct cp_plugin_ops hosts_ops = {
	.name = "hosts",
	.flags = CP_PLUGIN_HANDLER,
	.setup = hosts_setup,
	.free = hosts_free,
	.serve = hosts_serve,
	.types = hosts_types,
	.outcome = hosts_outcome,
	.sync = hosts_sync,
	.tick = hosts_tick,
	.metrics = hosts_metrics,
};

const struct cp_plugin_ops *cp_hosts_plugin(void)
{
	return &hosts_ops;
}
