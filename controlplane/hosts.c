/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - hosts data (see hosts.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dns.h"
#include "hosts.h"
#include "plugin.h"

/* ------------------------------------------------------------------------- */
/* Storage                                                                     */

static int grow(void **p, uint32_t *cap, size_t elem, uint32_t need)
{
	uint32_t ncap;
	void *np;

	if (need <= *cap)
		return 0;
	if (need == HOSTS_END)
		return -ENOMEM;
	ncap = *cap ? *cap : 64;
	while (ncap < need)
		ncap = ncap > UINT32_MAX / 2 ? HOSTS_END - 1 : ncap * 2;
	np = realloc(*p, (size_t)ncap * elem);
	if (np == NULL)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

static const uint8_t *name_key(const void *ctx, uint32_t idx, size_t *len)
{
	const struct hosts_db *db = ctx;

	*len = db->names[idx].len;
	return db->wire + db->names[idx].off;
}

static const uint8_t *rev_key(const void *ctx, uint32_t idx, size_t *len)
{
	const struct hosts_db *db = ctx;

	*len = sizeof(struct hosts_addr);
	return (const uint8_t *)&db->revs[idx].addr;
}

struct hosts_db *hosts_db_new(void)
{
	struct hosts_db *db = calloc(1, sizeof(*db));

	if (db == NULL)
		return NULL;
	cp_bmap_init(&db->name_ix, name_key, db);
	cp_bmap_init(&db->rev_ix, rev_key, db);
	return db;
}

void hosts_db_free(struct hosts_db *db)
{
	if (db == NULL)
		return;
	cp_bmap_free(&db->name_ix);
	cp_bmap_free(&db->rev_ix);
	free(db->names);
	free(db->wire);
	free(db->recs);
	free(db->revs);
	free(db->refs);
	free(db);
}

const struct hosts_name *hosts_db_name(const struct hosts_db *db, const uint8_t *name,
				       size_t len)
{
	int64_t i = cp_bmap_find(&db->name_ix, name, len);

	return i < 0 ? NULL : &db->names[i];
}

const struct hosts_rev *hosts_db_rev(const struct hosts_db *db, const struct hosts_addr *a)
{
	int64_t i = cp_bmap_find(&db->rev_ix, (const uint8_t *)a, sizeof(*a));

	return i < 0 ? NULL : &db->revs[i];
}

size_t hosts_db_entries(const struct hosts_db *db)
{
	return (size_t)db->n_recs + db->n_refs;
}

static int64_t name_get(struct hosts_db *db, const uint8_t *name, size_t len)
{
	int64_t i = cp_bmap_find(&db->name_ix, name, len);
	struct hosts_name *n;

	if (i >= 0)
		return i;
	if (db->wire_len + len > db->wire_cap) {
		size_t cap = db->wire_cap ? db->wire_cap * 2 : 4096;
		uint8_t *w;

		while (cap < db->wire_len + len)
			cap *= 2;
		w = realloc(db->wire, cap);
		if (w == NULL)
			return -ENOMEM;
		db->wire = w;
		db->wire_cap = cap;
	}
	if (grow((void **)&db->names, &db->cap_names, sizeof(*n), db->n_names + 1) < 0)
		return -ENOMEM;
	n = &db->names[db->n_names];
	memset(n, 0, sizeof(*n));
	n->off = (uint32_t)db->wire_len;
	n->len = (uint16_t)len;
	n->first = n->last = HOSTS_END;
	memcpy(db->wire + db->wire_len, name, len);
	db->wire_len += len;
	if (cp_bmap_add(&db->name_ix, db->n_names) < 0)
		return -ENOMEM;
	return db->n_names++;
}

static int rev_add(struct hosts_db *db, const struct hosts_addr *a, uint32_t name)
{
	int64_t i = cp_bmap_find(&db->rev_ix, (const uint8_t *)a, sizeof(*a));
	struct hosts_rev *r;
	struct hosts_ref *ref;

	if (i < 0) {
		if (grow((void **)&db->revs, &db->cap_revs, sizeof(*r), db->n_revs + 1) < 0)
			return -ENOMEM;
		r = &db->revs[db->n_revs];
		memset(r, 0, sizeof(*r));
		r->addr = *a;
		r->first = r->last = HOSTS_END;
		if (cp_bmap_add(&db->rev_ix, db->n_revs) < 0)
			return -ENOMEM;
		i = db->n_revs++;
	}
	if (grow((void **)&db->refs, &db->cap_refs, sizeof(*ref), db->n_refs + 1) < 0)
		return -ENOMEM;
	r = &db->revs[i];
	ref = &db->refs[db->n_refs];
	ref->name = name;
	ref->next = HOSTS_END;
	if (r->last == HOSTS_END)
		r->first = db->n_refs;
	else
		db->refs[r->last].next = db->n_refs;
	r->last = db->n_refs++;
	r->n++;
	return 0;
}

/*
 * A pair is a duplicate exactly when the name already has the address: both maps are
 * filled together, so checking the (short) address list of the name is enough, also for
 * an address shared by very many names (ad-block lists).
 */
int hosts_db_add(struct hosts_db *db, const uint8_t *name, size_t len,
		 const struct hosts_addr *addr, bool reverse)
{
	int64_t ni = name_get(db, name, len);
	struct hosts_name *n;
	struct hosts_rec *rec;

	if (ni < 0)
		return (int)ni;
	n = &db->names[ni];
	for (uint32_t r = n->first; r != HOSTS_END; r = db->recs[r].next) {
		if (memcmp(&db->recs[r].addr, addr, sizeof(*addr)) == 0)
			return 0;
	}
	if (grow((void **)&db->recs, &db->cap_recs, sizeof(*rec), db->n_recs + 1) < 0)
		return -ENOMEM;
	n = &db->names[ni];
	rec = &db->recs[db->n_recs];
	rec->addr = *addr;
	rec->next = HOSTS_END;
	if (n->last == HOSTS_END)
		n->first = db->n_recs;
	else
		db->recs[n->last].next = db->n_recs;
	n->last = db->n_recs++;
	if (addr->fam == 4)
		n->n4++;
	else
		n->n6++;
	return reverse ? rev_add(db, addr, (uint32_t)ni) : 0;
}

/* ------------------------------------------------------------------------- */
/* Text                                                                        */

int hosts_parse_addr(const char *s, struct hosts_addr *a)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	char buf[INET6_ADDRSTRLEN + 1];
	size_t n = strcspn(s, "%");

	memset(a, 0, sizeof(*a));
	if (n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (strchr(buf, ':') == NULL) {
		a->fam = 4;
		return inet_pton(AF_INET, buf, a->a) == 1 ? 0 : -EINVAL;
	}
	if (inet_pton(AF_INET6, buf, a->a) != 1)
		return -EINVAL;
	a->fam = 6;
	if (memcmp(a->a, mapped, sizeof(mapped)) == 0) {
		memmove(a->a, a->a + 12, 4);
		memset(a->a + 4, 0, 12);
		a->fam = 4;
	}
	return 0;
}

const char *hosts_addr_str(const struct hosts_addr *a, char *buf, size_t cap)
{
	if (inet_ntop(a->fam == 4 ? AF_INET : AF_INET6, a->a, buf, (socklen_t)cap) == NULL)
		snprintf(buf, cap, "?");
	return buf;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Split @p line (comment already cut) into fields, in place. @return number of fields */
static unsigned split_fields(char *line, char **f, unsigned max)
{
	unsigned n = 0;
	char *p = line;

	while (*p != '\0') {
		while (is_blank(*p))
			*p++ = '\0';
		if (*p == '\0')
			break;
		if (n < max)
			f[n] = p;
		n++;
		while (*p != '\0' && !is_blank(*p))
			p++;
	}
	return n;
}

#define HOSTS_MAX_FIELDS 1024

/* One line. @return 1 when it was bad, 0 when used or empty, -ENOMEM */
static int parse_line(struct hosts_db *db, char *line, const struct cp_zone *zones,
		      unsigned n_zones, bool reverse)
{
	char *f[HOSTS_MAX_FIELDS];
	struct hosts_addr addr;
	uint8_t wire[DNS_MAX_NAME];
	unsigned n, bad = 0;
	char *hash = strchr(line, '#');

	if (hash != NULL)
		*hash = '\0';
	n = split_fields(line, f, HOSTS_MAX_FIELDS);
	if (n == 0)
		return 0;
	if (n < 2 || n > HOSTS_MAX_FIELDS || hosts_parse_addr(f[0], &addr) < 0)
		return 1;
	for (unsigned i = 1; i < n; i++) {
		int len = dns_name_from_str(wire, sizeof(wire), f[i]);

		if (len < 0) {
			bad = 1;
			continue;
		}
		if (cp_zone_match(zones, n_zones, wire, (size_t)len) < 0)
			continue;
		if (hosts_db_add(db, wire, (size_t)len, &addr, reverse) < 0)
			return -ENOMEM;
	}
	return (int)bad;
}

int hosts_db_parse(struct hosts_db *db, const char *text, size_t len, const struct cp_zone *zones,
		   unsigned n_zones, bool reverse, struct hosts_parse_stats *st)
{
	char *buf = malloc(len + 1);
	unsigned lineno = 0;
	char *p, *end;

	if (buf == NULL)
		return -ENOMEM;
	memcpy(buf, text, len);
	buf[len] = '\0';
	for (p = buf; p <= buf + len; p = end + 1) {
		int rc;

		end = memchr(p, '\n', (size_t)(buf + len - p));
		if (end == NULL)
			end = buf + len;
		*end = '\0';
		lineno++;
		rc = parse_line(db, p, zones, n_zones, reverse);
		if (rc < 0) {
			free(buf);
			return rc;
		}
		if (rc > 0 && st != NULL && st->bad_lines++ == 0)
			st->first_bad = lineno;
	}
	free(buf);
	return 0;
}

/* ------------------------------------------------------------------------- */
/* Reverse names                                                               */

int hosts_rev_name(const struct hosts_addr *a, bool mapped6, uint8_t *out)
{
	uint8_t v6[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const uint8_t *b = a->a;
	char text[128];
	size_t o = 0;

	if (a->fam == 4 && !mapped6) {
		snprintf(text, sizeof(text), "%u.%u.%u.%u.in-addr.arpa.", b[3], b[2], b[1], b[0]);
		return dns_name_from_str(out, DNS_MAX_NAME, text);
	}
	if (a->fam == 4) {
		memcpy(v6 + 12, a->a, 4);
		b = v6;
	}
	for (int i = 15; i >= 0; i--)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "%x.%x.", b[i] & 0xf, b[i] >> 4);
	snprintf(text + o, sizeof(text) - o, "ip6.arpa.");
	return dns_name_from_str(out, DNS_MAX_NAME, text);
}

static const uint8_t ARPA4[] = "\7in-addr\4arpa";  /* + root: sizeof() counts the NUL */
static const uint8_t ARPA6[] = "\3ip6\4arpa";

/* Decimal octet as Go's ParseIP takes it: no leading zeros. @return value or -1 */
static int dec_label(const uint8_t *p)
{
	int v = 0;

	if (p[0] < 1 || p[0] > 3 || (p[0] > 1 && p[1] == '0'))
		return -1;
	for (unsigned i = 1; i <= p[0]; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v <= 255 ? v : -1;
}

static int hex_label(const uint8_t *p)
{
	if (p[0] != 1)
		return -1;
	if (p[1] >= '0' && p[1] <= '9')
		return p[1] - '0';
	if (p[1] >= 'a' && p[1] <= 'f')
		return p[1] - 'a' + 10;
	return -1;
}

int hosts_rev_parse(const uint8_t *name, size_t len, struct hosts_addr *a)
{
	struct hosts_addr tmp;
	size_t off = 0;

	memset(a, 0, sizeof(*a));
	if (len > sizeof(ARPA4) && memcmp(name + len - sizeof(ARPA4), ARPA4, sizeof(ARPA4)) == 0) {
		for (int i = 3; i >= 0; i--) {
			int v = off < len - sizeof(ARPA4) ? dec_label(name + off) : -1;

			if (v < 0)
				return -EINVAL;
			a->a[i] = (uint8_t)v;
			off += (size_t)name[off] + 1;
		}
		a->fam = 4;
		return off == len - sizeof(ARPA4) ? 0 : -EINVAL;
	}
	if (len != 64 + sizeof(ARPA6) || memcmp(name + 64, ARPA6, sizeof(ARPA6)) != 0)
		return -EINVAL;
	for (int i = 31; i >= 0; i--, off += 2) {
		int v = hex_label(name + off);

		if (v < 0)
			return -EINVAL;
		a->a[i / 2] |= (uint8_t)(i % 2 ? v : v << 4);
	}
	a->fam = 6;
	tmp = *a;
	/* ::ffff:a.b.c.d is that IPv4 address (Go's String() of the parsed IP). */
	if (tmp.a[10] == 0xff && tmp.a[11] == 0xff && memcmp(tmp.a, "\0\0\0\0\0\0\0\0\0\0", 10) == 0) {
		memset(a, 0, sizeof(*a));
		a->fam = 4;
		memcpy(a->a, tmp.a + 12, 4);
	}
	return 0;
}

/* ------------------------------------------------------------------------- */
/* Editing a hosts file                                                        */

static int edit_err(char *err, size_t errlen, int rc, const char *fmt, const char *a,
		    const char *b)
{
	snprintf(err, errlen, fmt, a, b);
	return rc;
}

/* Read the whole file; a missing file reads as empty with *exists = false. */
static char *slurp(const char *path, size_t *len, bool *exists, mode_t *mode)
{
	struct stat st;
	char *buf;
	FILE *f;

	*len = 0;
	*exists = false;
	*mode = 0644;
	f = fopen(path, "re");
	if (f == NULL)
		return errno == ENOENT ? calloc(1, 1) : NULL;
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode) ||
	    (buf = malloc((size_t)st.st_size + 1)) == NULL) {
		fclose(f);
		errno = EINVAL;
		return NULL;
	}
	*len = fread(buf, 1, (size_t)st.st_size, f);
	buf[*len] = '\0';
	fclose(f);
	*exists = true;
	*mode = st.st_mode & 07777;
	return buf;
}

/* Write @p text to @p path atomically: PATH.tmp.PID, fsync, rename, fsync the directory. */
static int write_atomic(const char *path, const char *text, size_t len, mode_t mode)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	const char *slash;
	size_t off = 0;
	int fd, rc = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	while (off < len && rc == 0) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno != EINTR)
			rc = -errno;
		else if (n > 0)
			off += (size_t)n;
	}
	if (rc == 0 && (fchmod(fd, mode) < 0 || fsync(fd) < 0))
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp);
		return rc;
	}
	slash = strrchr(path, '/');
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) + (slash == path) : 1,
		 slash ? path : ".");
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
}

/* Does name field @p f equal wire name @p w? */
static bool field_is(const char *f, const uint8_t *w, int wlen)
{
	uint8_t x[DNS_MAX_NAME];
	int n = dns_name_from_str(x, sizeof(x), f);

	return n == wlen && memcmp(x, w, (size_t)n) == 0;
}

/*
 * Rewrite one line without the name @p w (when its address matches): the line goes when
 * no name is left; a trailing comment stays. @return names removed
 */
static unsigned del_line(const char *line, size_t len, const uint8_t *w, int wlen,
			 const struct hosts_addr *addr, char *out, size_t *olen)
{
	char *copy = strndup(line, len), *f[HOSTS_MAX_FIELDS], *hash;
	const char *comment;
	struct hosts_addr la;
	unsigned n, removed = 0, kept = 0;
	size_t o = 0;

	if (copy == NULL)
		return 0;
	hash = strchr(copy, '#');
	comment = hash != NULL ? line + (hash - copy) : NULL;
	if (hash != NULL)
		*hash = '\0';
	n = split_fields(copy, f, HOSTS_MAX_FIELDS);
	if (n < 2 || n > HOSTS_MAX_FIELDS || hosts_parse_addr(f[0], &la) < 0 ||
	    (addr != NULL && memcmp(&la, addr, sizeof(la)) != 0)) {
		free(copy);
		return 0;
	}
	o += (size_t)sprintf(out + o, "%s", f[0]);
	for (unsigned i = 1; i < n; i++) {
		if (field_is(f[i], w, wlen)) {
			removed++;
			continue;
		}
		o += (size_t)sprintf(out + o, " %s", f[i]);
		kept++;
	}
	if (removed > 0 && kept == 0)
		o = 0;
	else if (comment != NULL)
		o += (size_t)sprintf(out + o, " %.*s", (int)(len - (size_t)(comment - line)), comment);
	*olen = o;
	free(copy);
	return removed;
}

static bool has_pair(const char *text, size_t len, const uint8_t *w, int wlen,
		     const struct hosts_addr *addr)
{
	struct hosts_db *db = hosts_db_new();
	struct cp_zone root = { .wire = { 0 }, .len = 1 };
	const struct hosts_name *n;
	bool found = false;

	if (db == NULL || hosts_db_parse(db, text, len, &root, 1, false, NULL) < 0) {
		hosts_db_free(db);
		return false;
	}
	n = hosts_db_name(db, w, (size_t)wlen);
	for (uint32_t r = n ? n->first : HOSTS_END; r != HOSTS_END; r = db->recs[r].next)
		found |= memcmp(&db->recs[r].addr, addr, sizeof(*addr)) == 0;
	hosts_db_free(db);
	return found;
}

static int edit_add(const char *path, char *text, size_t len, const uint8_t *w, int wlen,
		    const char *name, const struct hosts_addr *addr, mode_t mode, char *err,
		    size_t errlen)
{
	char abuf[INET6_ADDRSTRLEN];
	size_t cap = len + strlen(name) + sizeof(abuf) + 4, o = len;
	char *out;
	int rc;

	if (has_pair(text, len, w, wlen, addr))
		return edit_err(err, errlen, -EEXIST, "%s already has %s", path, name);
	out = malloc(cap);
	if (out == NULL)
		return -ENOMEM;
	memcpy(out, text, len);
	if (len > 0 && text[len - 1] != '\n')
		out[o++] = '\n';
	o += (size_t)snprintf(out + o, cap - o, "%s %s\n", hosts_addr_str(addr, abuf, sizeof(abuf)),
			      name);
	rc = write_atomic(path, out, o, mode);
	free(out);
	if (rc < 0)
		return edit_err(err, errlen, rc, "cannot write %s: %s", path, strerror(-rc));
	return 0;
}

static int edit_del(const char *path, const char *text, size_t len, const uint8_t *w, int wlen,
		    const char *name, const struct hosts_addr *addr, mode_t mode, char *err,
		    size_t errlen)
{
	char *out = malloc(2 * len + 2);
	unsigned removed = 0;
	size_t o = 0;
	const char *p, *end;
	int rc;

	if (out == NULL)
		return -ENOMEM;
	for (p = text; p < text + len; p = end + 1) {
		size_t llen, nlen;
		unsigned r;

		end = memchr(p, '\n', (size_t)(text + len - p));
		if (end == NULL)
			end = text + len;
		llen = (size_t)(end - p);
		r = del_line(p, llen, w, wlen, addr, out + o, &nlen);
		removed += r;
		if (r == 0) {
			memcpy(out + o, p, llen);
			nlen = llen;
		} else if (nlen == 0) {
			continue; /* the whole line goes, newline included */
		}
		o += nlen;
		if (end < text + len)
			out[o++] = '\n';
	}
	if (removed == 0) {
		free(out);
		return edit_err(err, errlen, -ENOENT, "no entry for %s in %s", name, path);
	}
	rc = write_atomic(path, out, o, mode);
	free(out);
	if (rc < 0)
		return edit_err(err, errlen, rc, "cannot write %s: %s", path, strerror(-rc));
	return 0;
}

int hosts_file_edit(const char *path, bool add, const char *name, const struct hosts_addr *addr,
		    char *err, size_t errlen)
{
	uint8_t w[DNS_MAX_NAME];
	int wlen = dns_name_from_str(w, sizeof(w), name);
	bool exists;
	mode_t mode;
	size_t len;
	char *text;
	int rc;

	if (wlen < 0)
		return edit_err(err, errlen, -EINVAL, "invalid name '%s'%s", name, "");
	if (add && addr == NULL)
		return edit_err(err, errlen, -EINVAL, "%s%s: an address is needed", name, "");
	text = slurp(path, &len, &exists, &mode);
	if (text == NULL)
		return edit_err(err, errlen, -EIO, "cannot read %s: %s", path, strerror(errno));
	if (!add && !exists)
		rc = edit_err(err, errlen, -ENOENT, "no entry for %s in %s (no such file)", name, path);
	else if (add)
		rc = edit_add(path, text, len, w, wlen, name, addr, mode, err, errlen);
	else
		rc = edit_del(path, text, len, w, wlen, name, addr, mode, err, errlen);
	free(text);
	return rc;
}
