/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - helpers for the kubernetes plugin's unit tests: checks, a store fed from JSON
 * strings, and queries run through the synthesis + renderer + responder, the response
 * decoded with ldns into presentation lines.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "check.h"
#include "dns.h"
#include "k8s_config.h"
#include "k8s_obj.h"
#include "k8s_store.h"
#include "k8s_synth.h"

/** A configured plugin with its store. */
struct kt {
	struct k8s_config cfg;
	struct k8s_store store;
	struct k8s_synth syn;
	struct k8s_conv_opts conv;
};

/** A decoded response. */
struct kt_resp {
	int rcode;
	bool aa, tc;
	int kind;           /* enum k8s_rc of the synthesis */
	bool upstream;
	unsigned an, ns, ar;
	char answer[32768];  /* one RR per line, ldns presentation, tabs as single spaces */
	char authority[1024];
	char additional[32768];
};

/** Zones "cluster.local in-addr.arpa ip6.arpa", then each "name arg arg" option line. */
void kt_init(struct kt *t, const char *zones, const char *const *options);
void kt_fini(struct kt *t);
/** Apply an object given as JSON text (ADDED/MODIFIED). */
void kt_apply(struct kt *t, enum k8s_res res, const char *json);
/** Apply a deletion. */
void kt_delete(struct kt *t, enum k8s_res res, const char *ns, const char *name);
/** Ask @p qname (case kept in the question) for @p qtype. */
void kt_query(struct kt *t, const char *qname, uint16_t qtype, struct kt_resp *r);

/* Object builders (JSON text in a static rotating buffer). */
const char *kt_ns(const char *name);
const char *kt_svc(const char *ns, const char *name, const char *cips, const char *ports);
const char *kt_headless(const char *ns, const char *name, const char *ports);
const char *kt_extname(const char *ns, const char *name, const char *target);
/** @p eps: JSON array body of endpoints; @p ports: JSON array body of ports. */
const char *kt_slice(const char *ns, const char *name, const char *svc, const char *atype,
		     const char *eps, const char *ports);
const char *kt_pod(const char *ns, const char *name, const char *ip);

/* ------------------------------------------------------------------------- */
/* The fake API server (tests/k8s/fake-apiserver) on 127.0.0.1                 */

struct kt_fake {
	int pid;
	int port;
	char dir[64];
	char base[64];   /**< "http://127.0.0.1:PORT" */
	char token[64];
};

/** @return CLOCK_MONOTONIC milliseconds. */
uint64_t kt_ms(void);
/**
 * Start the server with tests/k8s/objects/@p objects (or the absolute path), bearer @p token (NULL: none) and
 * --gone-mode @p gone_mode. @return 0, 77 when it cannot run here, -1 on failure
 */
int kt_fake_start(struct kt_fake *f, const char *root, const char *objects, const char *token,
		  const char *gone_mode);
/** Same, with more server arguments (NULL-terminated); @p https: the URL scheme. */
int kt_fake_start_args(struct kt_fake *f, const char *root, const char *objects,
		       const char *token, const char *gone_mode, const char *const *extra,
		       bool https);
void kt_fake_stop(struct kt_fake *f);
/** @p method @p path with JSON @p body (may be NULL). @return the HTTP status, 0 on failure */
long kt_http(const struct kt_fake *f, const char *method, const char *path, const char *body);
/** The same, keeping the response body in @p out (@p cap bytes, NUL-terminated, cut). */
long kt_http_body(const struct kt_fake *f, const char *method, const char *path,
		  const char *body, char *out, size_t cap);
