/* SPDX-License-Identifier: BSD-3-Clause */
#include "test_util.h"

/* @return 0 when the whole message decodes exactly (no trailing bytes), else -1. */
int t_decode(const uint8_t *msg, size_t len, struct resp_view *v)
{
	struct dns_wire w;
	int n;

	memset(v, 0, sizeof(*v));
	dns_wire_init(&w, msg, len);
	v->id = dns_wire_read_u16(&w);
	v->flags = dns_wire_read_u16(&w);
	v->qd = dns_wire_read_u16(&w);
	v->an = dns_wire_read_u16(&w);
	v->ns = dns_wire_read_u16(&w);
	v->ar = dns_wire_read_u16(&w);
	if (w.err != 0 || v->qd > 1)
		return -1;
	if (v->qd == 1) {
		n = dns_name_to_str(msg, len, (size_t)(w.pos - msg), v->qname, sizeof(v->qname));
		if (n < 0)
			return -1;
		dns_wire_skip(&w, (size_t)n);
		v->qtype = dns_wire_read_u16(&w);
		v->qclass = dns_wire_read_u16(&w);
	}
	for (unsigned int i = 0; i < (unsigned int)v->an + v->ns + v->ar; i++) {
		struct rr_view *r = &v->rr[v->nrr];

		if (v->nrr >= 64 || w.err != 0)
			return -1;
		n = dns_name_to_str(msg, len, (size_t)(w.pos - msg), r->owner, sizeof(r->owner));
		if (n < 0)
			return -1;
		dns_wire_skip(&w, (size_t)n);
		r->type = dns_wire_read_u16(&w);
		r->cls = dns_wire_read_u16(&w);
		r->ttl = dns_wire_read_u32(&w);
		r->rdlen = dns_wire_read_u16(&w);
		r->rdata_off = (size_t)(w.pos - msg);
		dns_wire_skip(&w, r->rdlen);
		v->nrr++;
	}
	if (w.err != 0 || dns_wire_avail(&w) != 0)
		return -1;
	return 0;
}
