/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - names: hashing, lower-casing, presentation <-> wire.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dns.h"
#include "dns_internal.h"

/**
 * Hash a wire name 8 bytes at a time. Reads exactly @p len bytes of @p name (no padding
 * needed); a short last word is zero-extended, which is what the parser hashes over the
 * zero-padded key, so both give the same value. The name is hashed as given: callers
 * pass lower-cased names. Deterministic within a build (same code in both processes).
 * @return 64-bit hash, to be finished with dns_hash_mix().
 */
uint64_t dns_name_hash(const uint8_t *name, size_t len)
{
	uint64_t h = dns_hash_seed(len);
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t v;

		memcpy(&v, name + i, 8);
		h = dns_hash_step(h, v);
	}
	if (i < len) {
		uint64_t v = 0;

		memcpy(&v, name + i, len - i);
		h = dns_hash_step(h, v);
	}
	return dns_hash_final(h);
}

/** Hash of a key; a name_len beyond DNS_KEY_NAME_MAX is clamped (never read past the key). */
uint32_t dns_key_hash(const struct dns_key *key)
{
	size_t len = key->name_len > DNS_KEY_NAME_MAX ? DNS_KEY_NAME_MAX : key->name_len;

	return dns_hash_mix(dns_name_hash(key->name, len), key->qtype);
}

/** Lower-case ASCII letters of @p len bytes in place (wire length bytes are never letters). */
void dns_name_lower(uint8_t *name, size_t len)
{
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t v;

		memcpy(&v, name + i, 8);
		v = dns_lower64(v);
		memcpy(name + i, &v, 8);
	}
	for (; i < len; i++) {
		if (name[i] >= 'A' && name[i] <= 'Z')
			name[i] |= 0x20;
	}
}

static inline uint8_t ascii_lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c | 0x20) : c;
}

/* Decode one character of a label at *s (handles \DDD and \X). @return the byte, or -1. */
static int read_char(const char **s)
{
	const char *p = *s;
	int v;

	if (*p != '\\') {
		*s = p + 1;
		return (uint8_t)*p;
	}
	p++;
	if (*p == '\0')
		return -1;
	if (*p >= '0' && *p <= '9') {
		if (p[1] < '0' || p[1] > '9' || p[2] < '0' || p[2] > '9')
			return -1;
		v = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
		if (v > 255)
			return -1;
		*s = p + 3;
		return v;
	}
	*s = p + 1;
	return (uint8_t)*p;
}

/**
 * Presentation name to lower-cased wire form. "." is the root; a trailing dot is
 * optional; "" and empty labels ("a..b", ".a") are -EINVAL; a label over 63 bytes is
 * -EINVAL; a name over 255 wire bytes is -ENAMETOOLONG; a valid name that does not fit
 * @p cap is -ENOSPC. \DDD must have exactly three digits (<= 255).
 * @return wire length (root label included).
 */
int dns_name_from_str(uint8_t *out, size_t cap, const char *name)
{
	uint8_t buf[DNS_MAX_NAME];
	size_t len = 0;
	const char *s = name;

	if (name == NULL || *name == '\0')
		return -EINVAL;
	if (strcmp(name, ".") == 0)
		goto root;
	while (*s != '\0') {
		size_t lpos = len++;
		size_t l = 0;

		while (*s != '\0' && *s != '.') {
			int c = read_char(&s);

			if (c < 0)
				return -EINVAL;
			if (++l > DNS_MAX_LABEL)
				return -EINVAL;
			if (len >= DNS_MAX_NAME - 1)
				return -ENAMETOOLONG;
			buf[len++] = ascii_lower((uint8_t)c);
		}
		if (l == 0)
			return -EINVAL;
		buf[lpos] = (uint8_t)l;
		if (*s == '.')
			s++;
	}
root:
	buf[len++] = 0;
	if (len > cap)
		return -ENOSPC;
	memcpy(out, buf, len);
	return (int)len;
}

/**
 * Key for a presentation name: zero-padded, lower-cased.
 * @return 0, -EINVAL (bad name), -ENAMETOOLONG (over DNS_KEY_NAME_MAX wire bytes).
 */
int dns_key_from_str(struct dns_key *key, const char *name, uint16_t qtype)
{
	uint8_t buf[DNS_MAX_NAME];
	int len = dns_name_from_str(buf, sizeof(buf), name);

	memset(key, 0, sizeof(*key));
	if (len < 0)
		return len;
	if (len > DNS_KEY_NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(key->name, buf, (size_t)len);
	key->name_len = (uint16_t)len;
	key->qtype = qtype;
	return 0;
}

/* Append the presentation form of one label byte. @return chars written or -1 (no room). */
static int put_char(char *out, size_t room, uint8_t c)
{
	if (c == '.' || c == '\\' || c == '"' || c == '(' || c == ')' || c == ';') {
		if (room < 2)
			return -1;
		out[0] = '\\';
		out[1] = (char)c;
		return 2;
	}
	if (c <= 0x20 || c >= 0x7f) {
		if (room < 4)
			return -1;
		out[0] = '\\';
		out[1] = (char)('0' + c / 100);
		out[2] = (char)('0' + c / 10 % 10);
		out[3] = (char)('0' + c % 10);
		return 4;
	}
	if (room < 1)
		return -1;
	out[0] = (char)c;
	return 1;
}

static int put_label(char *out, size_t room, const uint8_t *p, size_t l)
{
	size_t o = 0;

	for (size_t i = 0; i < l; i++) {
		int n = put_char(out + o, room - o, p[i]);

		if (n < 0)
			return -1;
		o += (size_t)n;
	}
	if (o >= room)
		return -1;
	out[o++] = '.';
	return (int)o;
}

/**
 * Wire name at @p off to text ("a.b.c.", root "."), case preserved. Special characters
 * ('.', '\\', '"', '(', ')', ';') are escaped as "\X", bytes <= 0x20 or >= 0x7f as "\DDD",
 * so dns_name_from_str() of the result gives back the (lower-cased) name.
 * Pointers are followed (any direction) up to DNS_PTR_HOPS_MAX hops; a longer chain, which
 * includes every loop, is -ELOOP. Truncated input, label types 0x40/0x80, or a decoded
 * name over 255 bytes: -EBADMSG. @p out too small (1024 always suffices): -ENOSPC.
 * @return bytes the name occupies at @p off (up to its first pointer, included).
 */
int dns_name_to_str(const uint8_t *msg, size_t len, size_t off, char *out, size_t cap)
{
	size_t pos = off, consumed = 0, wire = 0, o = 0;
	unsigned int hops = 0;

	for (;;) {
		uint8_t l;

		if (pos >= len)
			return -EBADMSG;
		l = msg[pos];
		if ((l & 0xc0) == 0xc0) {
			if (pos + 1 >= len)
				return -EBADMSG;
			if (hops == 0)
				consumed = pos + 2 - off;
			if (++hops > DNS_PTR_HOPS_MAX)
				return -ELOOP;
			pos = ((size_t)(l & 0x3f) << 8) | msg[pos + 1];
			continue;
		}
		if (l & 0xc0)
			return -EBADMSG;
		wire += (size_t)l + 1;
		if (wire > DNS_MAX_NAME)
			return -EBADMSG;
		if (l == 0)
			break;
		if (pos + 1 + l > len)
			return -EBADMSG;
		{
			int n = put_label(out + o, cap > o ? cap - o : 0, msg + pos + 1, l);

			if (n < 0)
				return -ENOSPC;
			o += (size_t)n;
		}
		pos += (size_t)l + 1;
	}
	if (hops == 0)
		consumed = pos + 1 - off;
	if (o == 0) {
		if (cap < 1)
			return -ENOSPC;
		out[o++] = '.';
	}
	if (o >= cap)
		return -ENOSPC;
	out[o] = '\0';
	return (int)consumed;
}

int dns_name_unpack(const uint8_t *msg, size_t len, size_t off, uint8_t *out, size_t *out_len)
{
	size_t pos = off, n = 0, consumed = 0;
	unsigned int hops = 0;

	for (;;) {
		uint8_t l;

		if (pos >= len)
			return -EBADMSG;
		l = msg[pos];
		if ((l & 0xc0) == 0xc0) {
			size_t ptr;

			if (pos + 1 >= len || ++hops > DNS_PTR_HOPS_MAX)
				return -EBADMSG;
			ptr = ((size_t)(l & 0x3f) << 8) | msg[pos + 1];
			if (ptr >= pos)
				return -EBADMSG;
			if (hops == 1)
				consumed = pos + 2 - off;
			pos = ptr;
			continue;
		}
		if (l > DNS_MAX_LABEL || pos + 1u + l > len || n + 1u + l > DNS_MAX_NAME)
			return -EBADMSG;
		if (out != NULL)
			memcpy(out + n, msg + pos, 1u + l);
		n += 1u + l;
		pos += 1u + l;
		if (l == 0)
			break;
	}
	if (out_len != NULL)
		*out_len = n;
	return (int)(hops == 0 ? pos - off : consumed);
}
