/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - the control socket dpdnsctl talks to: a unix stream socket, one
 * JSON object per line each way, root peers only.
 */
#pragma once

#include <stdint.h>

struct cp_rt;
struct cp_poll;
struct cp_ctl;

/**
 * Listen on @p path (directory created 0700 when missing, socket 0600; a stale socket
 * file is replaced). @return the server, or NULL with the reason in @p err.
 */
struct cp_ctl *cp_ctl_open(struct cp_rt *rt, const char *path, char *err, size_t errlen);

/** Register the sockets for this loop iteration. */
void cp_ctl_fill(struct cp_ctl *c, struct cp_poll *p);

/** Close connections idle for 60 s. */
void cp_ctl_timer(struct cp_ctl *c, uint64_t now_ms);

/** Close everything and remove the socket file. */
void cp_ctl_free(struct cp_ctl *c);
