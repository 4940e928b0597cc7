/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - hosts data: /etc/hosts-style text parsed into name -> addresses
 * and address -> names maps (CoreDNS hosts plugin semantics), reverse names, and atomic
 * edits of a hosts file. The plugin around it is hosts_plugin.c.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bmap.h"

struct cp_zone;

/** An address as the hosts data keeps it: IPv4-mapped IPv6 is IPv4 (like Go's To4()). */
struct hosts_addr {
	uint8_t fam;     /**< 4 or 6 */
	uint8_t a[16];   /**< network order; IPv4 in a[0..4) */
};

#define HOSTS_END UINT32_MAX

struct hosts_name {
	uint32_t off;    /* wire name at db->wire + off */
	uint16_t len;
	uint16_t n4, n6;
	uint32_t first;  /* first record (db->recs), HOSTS_END when none */
	uint32_t last;
};

struct hosts_rec {
	struct hosts_addr addr;
	uint32_t next;
};

struct hosts_rev {
	struct hosts_addr addr;
	uint32_t first;  /* first reference (db->refs) */
	uint32_t last;
	uint32_t n;
};

struct hosts_ref {
	uint32_t name;
	uint32_t next;
};

/** Names in order of first appearance; each name's addresses in order of appearance. */
struct hosts_db {
	struct hosts_name *names;
	uint32_t n_names, cap_names;
	uint8_t *wire;
	size_t wire_len, wire_cap;
	struct hosts_rec *recs;
	uint32_t n_recs, cap_recs;
	struct hosts_rev *revs;      /* empty without reverse (no_reverse) */
	uint32_t n_revs, cap_revs;
	struct hosts_ref *refs;
	uint32_t n_refs, cap_refs;
	struct cp_bmap name_ix;
	struct cp_bmap rev_ix;
};

/** Outcome of parsing hosts text. */
struct hosts_parse_stats {
	unsigned bad_lines;   /**< lines with content that were skipped (bad address, name...) */
	unsigned first_bad;   /**< line number of the first one */
};

/** @return an empty db, or NULL. */
struct hosts_db *hosts_db_new(void);
void hosts_db_free(struct hosts_db *db);

/**
 * Add hosts-file text: `IP NAME [ALIASES...]` lines, '#' comments. Names are lower-cased
 * FQDNs; names outside @p zones are skipped silently (CoreDNS); bad lines are skipped and
 * counted. An address with a zone index (fe80::1%eth0) is used without it (CoreDNS).
 * @return 0 or -ENOMEM.
 */
int hosts_db_parse(struct hosts_db *db, const char *text, size_t len, const struct cp_zone *zones,
		   unsigned n_zones, bool reverse, struct hosts_parse_stats *st);

/**
 * Add one NAME -> ADDR pair (and ADDR -> NAME when @p reverse); duplicates are ignored.
 * @return 0 or -ENOMEM.
 */
int hosts_db_add(struct hosts_db *db, const uint8_t *name, size_t len,
		 const struct hosts_addr *addr, bool reverse);

/** @return the name's entry, or NULL. */
const struct hosts_name *hosts_db_name(const struct hosts_db *db, const uint8_t *name,
				       size_t len);
/** @return the address's reverse entry, or NULL. */
const struct hosts_rev *hosts_db_rev(const struct hosts_db *db, const struct hosts_addr *a);

/** @return entries as CoreDNS counts them: addresses of every name + names of every address. */
size_t hosts_db_entries(const struct hosts_db *db);

/** Parse an address ("%zone" dropped, IPv4-mapped IPv6 made IPv4). @return 0 or -EINVAL */
int hosts_parse_addr(const char *s, struct hosts_addr *a);

/**
 * Reverse name of @p a into @p out (DNS_MAX_NAME bytes): in-addr.arpa for IPv4, ip6.arpa
 * for IPv6; @p mapped6 asks for the ip6.arpa name of an IPv4 address as ::ffff:a.b.c.d
 * (CoreDNS answers PTR for it too). @return wire length.
 */
int hosts_rev_name(const struct hosts_addr *a, bool mapped6, uint8_t *out);

/** Address named by a reverse name (4 decimal or 32 hex labels). @return 0 or -EINVAL */
int hosts_rev_parse(const uint8_t *name, size_t len, struct hosts_addr *a);

/**
 * Add ("ADDR NAME" line appended) or delete (NAME, on lines of @p addr or of any address
 * when NULL) an entry of the hosts file @p path, written atomically (temporary file in
 * the same directory, fsync, rename). @p name is compared case-insensitively.
 * @return 0, -EEXIST (add: already there), -ENOENT (del: nothing matched), or -errno,
 *         with a message in @p err.
 */
int hosts_file_edit(const char *path, bool add, const char *name, const struct hosts_addr *addr,
		    char *err, size_t errlen);

/** @return the text form of @p a (inet_ntop). */
const char *hosts_addr_str(const struct hosts_addr *a, char *buf, size_t cap);

/* The plugin instance (hosts_plugin.c), for cp_engine_hosts_edit(). */

/** @return true when the instance's FILE was given in the Corefile. */
bool hosts_plugin_has_file(const void *inst);

/**
 * Validate and apply an edit to the instance's file (hosts_file_edit()), then re-read it
 * so the change is visible at once. @p addr may be NULL or "" for a delete of every
 * address of @p name. @return 0 or -errno with a message in @p err.
 */
int hosts_plugin_edit(void *inst, bool add, const char *name, const char *addr, char *err,
		      size_t errlen);
