/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - helpers of the forward/cache unit tests (checks: check.h): a DNS message writer and
 * reader, a real upstream (Debian's nsd started in a temporary directory), fake upstreams
 * (forked UDP responders), and an engine driver with an in-memory table sink.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "check.h"
#include "dns.h"

/* ------------------------------------------------------------------------- */
/* Message writer (no validation, names as given: case kept)                  */

struct tmsg {
	uint8_t b[8192];
	size_t len;
};

void tm_u8(struct tmsg *m, unsigned v);
void tm_u16(struct tmsg *m, unsigned v);
void tm_u32(struct tmsg *m, uint32_t v);
void tm_bytes(struct tmsg *m, const void *p, size_t n);
/** Labels of a dotted name; @p end_root adds the root label (else a pointer may follow). */
void tm_labels(struct tmsg *m, const char *name, bool end_root);
/** A compression pointer to @p off. */
void tm_ptr(struct tmsg *m, unsigned off);
void tm_header(struct tmsg *m, unsigned id, unsigned flags, unsigned qd, unsigned an,
	       unsigned ns, unsigned ar);
/** Header (RD) + one question. */
void tm_query(struct tmsg *m, unsigned id, const char *name, unsigned qtype);
/** Fixed record fields after an owner: type, class IN, ttl, rdlength. */
void tm_rr(struct tmsg *m, unsigned type, uint32_t ttl, unsigned rdlen);
/** OPT record: root owner, @p size, DO bit. */
void tm_opt(struct tmsg *m, unsigned size, bool dnssec_ok);

/* ------------------------------------------------------------------------- */
/* Message reader                                                              */

struct trr {
	char owner[300];
	uint16_t type;
	uint32_t ttl;
	uint16_t rdlen;
	const uint8_t *rdata;
	char target[300];  /* first name in the rdata (CNAME/NS/PTR/MX/SRV/SOA), decoded */
	int sec;
};

struct tparsed {
	uint16_t id, flags;
	unsigned qd, an, ns, ar;
	char qname[300];          /* as written (case kept) */
	uint16_t qtype;
	unsigned n;
	struct trr rr[128];
};

/** @return 0 when @p msg parsed (names decompressed), else -1. */
int tp_parse(const uint8_t *msg, size_t len, struct tparsed *p);

/* ------------------------------------------------------------------------- */
/* Upstreams                                                                   */

/** @return a free loopback port (UDP and TCP), or 0. */
uint16_t ft_free_port(const char *addr);

struct ft_nsd {
	pid_t pid;
	char dir[64];
	char addr[32];
	uint16_t port;
};

/**
 * Start nsd in the foreground (its PID is ours to stop) on @p addr and a free port,
 * serving the test zones (example.test). @return 0, 77 when nsd is not installed, -1.
 */
int ft_nsd_start(struct ft_nsd *n, const char *addr);
/** Stop by PID and remove the directory. */
void ft_nsd_stop(struct ft_nsd *n);

/** Fake upstream behaviours. */
enum ft_fake {
	FT_FAKE_SPOOF,     /* first a reply with a wrong ID, then one with a wrong question,
			    * then the right reply (A 192.0.2.99) */
	FT_FAKE_SERVFAIL,  /* every query: SERVFAIL */
	FT_FAKE_NXDOMAIN,  /* every query: NXDOMAIN with an SOA */
	FT_FAKE_SILENT,    /* reads and never answers */
	FT_FAKE_SLOW,      /* answers A 192.0.2.98 after 300 ms */
};

struct ft_fake_srv {
	pid_t pid;
	char addr[32];
	uint16_t port;
	int count_fd;      /* parent end: the child writes one byte per query */
	unsigned count;
};

/** Fork a UDP responder. @return 0 or -1 */
int ft_fake_start(struct ft_fake_srv *f, const char *addr, enum ft_fake mode);
void ft_fake_stop(struct ft_fake_srv *f);
/** @return queries the fake received so far. */
unsigned ft_fake_count(struct ft_fake_srv *f);

/** Send @p q over UDP to addr:port and wait for one reply. @return reply length or -1 */
int ft_udp_exchange(const char *addr, uint16_t port, const uint8_t *q, size_t qlen,
		    uint8_t *out, size_t cap, int timeout_ms);
