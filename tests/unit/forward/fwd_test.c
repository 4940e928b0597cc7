/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - helpers of the forward/cache unit tests (see fwd_test.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fwd_test.h"

/* ------------------------------------------------------------------------- */
/* Writer                                                                      */

void tm_u8(struct tmsg *m, unsigned v)
{
	if (m->len < sizeof(m->b))
		m->b[m->len++] = (uint8_t)v;
}

void tm_u16(struct tmsg *m, unsigned v)
{
	tm_u8(m, v >> 8);
	tm_u8(m, v);
}

void tm_u32(struct tmsg *m, uint32_t v)
{
	tm_u16(m, v >> 16);
	tm_u16(m, v & 0xffff);
}

void tm_bytes(struct tmsg *m, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		tm_u8(m, b[i]);
}

void tm_labels(struct tmsg *m, const char *name, bool end_root)
{
	while (*name != '\0' && strcmp(name, ".") != 0) {
		const char *d = strchr(name, '.');
		size_t l = d != NULL ? (size_t)(d - name) : strlen(name);

		tm_u8(m, (unsigned)l);
		tm_bytes(m, name, l);
		name += l;
		if (*name == '.')
			name++;
	}
	if (end_root)
		tm_u8(m, 0);
}

void tm_ptr(struct tmsg *m, unsigned off)
{
	tm_u16(m, 0xc000 | off);
}

void tm_header(struct tmsg *m, unsigned id, unsigned flags, unsigned qd, unsigned an,
	       unsigned ns, unsigned ar)
{
	m->len = 0;
	tm_u16(m, id);
	tm_u16(m, flags);
	tm_u16(m, qd);
	tm_u16(m, an);
	tm_u16(m, ns);
	tm_u16(m, ar);
}

void tm_query(struct tmsg *m, unsigned id, const char *name, unsigned qtype)
{
	tm_header(m, id, DNS_F_RD, 1, 0, 0, 0);
	tm_labels(m, name, true);
	tm_u16(m, qtype);
	tm_u16(m, DNS_C_IN);
}

void tm_rr(struct tmsg *m, unsigned type, uint32_t ttl, unsigned rdlen)
{
	tm_u16(m, type);
	tm_u16(m, DNS_C_IN);
	tm_u32(m, ttl);
	tm_u16(m, rdlen);
}

void tm_opt(struct tmsg *m, unsigned size, bool dnssec_ok)
{
	tm_u8(m, 0);
	tm_u16(m, DNS_T_OPT);
	tm_u16(m, size);
	tm_u32(m, dnssec_ok ? 0x8000u : 0);
	tm_u16(m, 0);
}

/* ------------------------------------------------------------------------- */
/* Reader                                                                      */

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Decode a name (pointers followed, at most 32 hops). @return bytes at @p off or -1 */
static int rd_name(const uint8_t *msg, size_t len, size_t off, char *out, size_t cap)
{
	size_t o = 0, pos = off;
	int used = -1, hops = 0;

	out[0] = '\0';
	for (;;) {
		uint8_t l;

		if (pos >= len)
			return -1;
		l = msg[pos];
		if ((l & 0xc0) == 0xc0) {
			if (pos + 1 >= len || ++hops > 32)
				return -1;
			if (used < 0)
				used = (int)(pos + 2 - off);
			pos = rd16(msg + pos) & 0x3fff;
			continue;
		}
		if (l == 0) {
			if (o == 0 && cap > 1)
				snprintf(out, cap, ".");
			return used >= 0 ? used : (int)(pos + 1 - off);
		}
		if (pos + 1 + l > len || o + l + 2 > cap)
			return -1;
		memcpy(out + o, msg + pos + 1, l);
		o += l;
		out[o++] = '.';
		out[o] = '\0';
		pos += 1u + l;
	}
}

int tp_parse(const uint8_t *msg, size_t len, struct tparsed *p)
{
	size_t pos = DNS_HDR_LEN;
	int n;

	memset(p, 0, sizeof(*p));
	if (len < DNS_HDR_LEN)
		return -1;
	p->id = rd16(msg);
	p->flags = rd16(msg + 2);
	p->qd = rd16(msg + 4);
	p->an = rd16(msg + 6);
	p->ns = rd16(msg + 8);
	p->ar = rd16(msg + 10);
	if (p->qd == 1) {
		n = rd_name(msg, len, pos, p->qname, sizeof(p->qname));
		if (n < 0 || pos + (size_t)n + 4 > len)
			return -1;
		pos += (size_t)n;
		p->qtype = rd16(msg + pos);
		pos += 4;
	}
	for (unsigned i = 0; i < p->an + p->ns + p->ar; i++) {
		struct trr *r = &p->rr[p->n];

		if (p->n == 128)
			return -1;
		n = rd_name(msg, len, pos, r->owner, sizeof(r->owner));
		if (n < 0 || pos + (size_t)n + 10 > len)
			return -1;
		pos += (size_t)n;
		r->type = rd16(msg + pos);
		r->ttl = (uint32_t)rd16(msg + pos + 4) << 16 | rd16(msg + pos + 6);
		r->rdlen = rd16(msg + pos + 8);
		r->rdata = msg + pos + 10;
		r->sec = i < p->an ? 0 : i < p->an + p->ns ? 1 : 2;
		pos += 10;
		if (pos + r->rdlen > len)
			return -1;
		if (r->type == DNS_T_CNAME || r->type == DNS_T_NS || r->type == DNS_T_PTR ||
		    r->type == DNS_T_SOA)
			rd_name(msg, len, pos, r->target, sizeof(r->target));
		else if (r->type == DNS_T_MX)
			rd_name(msg, len, pos + 2, r->target, sizeof(r->target));
		else if (r->type == DNS_T_SRV)
			rd_name(msg, len, pos + 6, r->target, sizeof(r->target));
		pos += r->rdlen;
		p->n++;
	}
	return pos == len ? 0 : -1;
}

/* ------------------------------------------------------------------------- */
/* Sockets                                                                     */

static int sa_of(const char *addr, uint16_t port, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(port);
	return inet_pton(AF_INET, addr, &sa->sin_addr) == 1 ? 0 : -1;
}

uint16_t ft_free_port(const char *addr)
{
	for (int tries = 0; tries < 50; tries++) {
		struct sockaddr_in sa;
		socklen_t sl = sizeof(sa);
		int u = socket(AF_INET, SOCK_DGRAM, 0), t = socket(AF_INET, SOCK_STREAM, 0);
		uint16_t port = 0;

		if (u >= 0 && t >= 0 && sa_of(addr, 0, &sa) == 0 &&
		    bind(u, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
		    getsockname(u, (struct sockaddr *)&sa, &sl) == 0) {
			port = ntohs(sa.sin_port);
			if (bind(t, (struct sockaddr *)&sa, sizeof(sa)) != 0)
				port = 0;
		}
		if (u >= 0)
			close(u);
		if (t >= 0)
			close(t);
		if (port != 0)
			return port;
	}
	return 0;
}

int ft_udp_exchange(const char *addr, uint16_t port, const uint8_t *q, size_t qlen,
		    uint8_t *out, size_t cap, int timeout_ms)
{
	struct sockaddr_in sa;
	struct pollfd pfd;
	int fd = socket(AF_INET, SOCK_DGRAM, 0), n = -1;

	if (fd < 0)
		return -1;
	if (sa_of(addr, port, &sa) == 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    send(fd, q, qlen, 0) == (ssize_t)qlen) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, timeout_ms) == 1)
			n = (int)recv(fd, out, cap, 0);
	}
	close(fd);
	return n;
}

/* ------------------------------------------------------------------------- */
/* nsd                                                                         */

static const char *nsd_path(void)
{
	static const char *paths[] = { "/usr/sbin/nsd", "/usr/local/sbin/nsd" };

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if (access(paths[i], X_OK) == 0)
			return paths[i];
	}
	return NULL;
}

static int write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/*
 * The test zone. TTLs are chosen for the tests: www 300 (capped by `cache 30`), short 2
 * (for expiry and serve_stale), big is a TXT RRset over 512 bytes (UDP truncation), the
 * SOA minimum 60 gives the negative TTL.
 */
static void zone_text(char *z, size_t cap)
{
	size_t o = (size_t)snprintf(z, cap,
		"$ORIGIN example.test.\n$TTL 300\n"
		"@ IN SOA ns1.example.test. hostmaster.example.test. 1 7200 1800 86400 60\n"
		"@ IN NS ns1\nns1 IN A 127.0.0.1\n"
		"www IN A 192.0.2.10\nwww IN AAAA 2001:db8::10\n"
		"alias IN CNAME www\n@ IN MX 10 mail\nmail IN A 192.0.2.25\n"
		"txt IN TXT \"hello world\"\n"
		"short 2 IN A 192.0.2.2\n"
		"_dns._udp IN SRV 0 5 53 ns1.example.test.\n");

	for (int i = 0; i < 30 && o < cap; i++)
		o += (size_t)snprintf(z + o, cap - o, "big IN TXT \"%040d-padding-padding\"\n", i);
}

static int nsd_conf(struct ft_nsd *n)
{
	char conf[2048], zone[8192];

	snprintf(conf, sizeof(conf),
		 "server:\n  ip-address: %s@%u\n  username: \"\"\n  chroot: \"\"\n"
		 "  zonesdir: \"%s\"\n  pidfile: \"%s/nsd.pid\"\n  logfile: \"%s/nsd.log\"\n"
		 "  database: \"\"\n  xfrdfile: \"%s/xfrd.state\"\n"
		 "  zonelistfile: \"%s/zone.list\"\n  xfrdir: \"%s\"\n  server-count: 1\n"
		 "  verbosity: 1\n  rrl-ratelimit: 0\nremote-control:\n  control-enable: no\n"
		 "zone:\n  name: example.test\n  zonefile: example.test.zone\n",
		 n->addr, n->port, n->dir, n->dir, n->dir, n->dir, n->dir, n->dir);
	zone_text(zone, sizeof(zone));
	return write_file(n->dir, "nsd.conf", conf) == 0 &&
	       write_file(n->dir, "example.test.zone", zone) == 0 ? 0 : -1;
}

/* nsd is up once it answers the SOA query. */
static int nsd_wait(const struct ft_nsd *n)
{
	struct tmsg q;
	uint8_t r[512];

	tm_query(&q, 0x4242, "example.test", DNS_T_SOA);
	for (int i = 0; i < 100; i++) {
		if (ft_udp_exchange(n->addr, n->port, q.b, q.len, r, sizeof(r), 100) > 0)
			return 0;
		usleep(50 * 1000);
	}
	return -1;
}

int ft_nsd_start(struct ft_nsd *n, const char *addr)
{
	const char *nsd = nsd_path();
	char conf[128];

	memset(n, 0, sizeof(*n));
	if (nsd == NULL)
		return 77;
	snprintf(n->dir, sizeof(n->dir), "/tmp/dpdns-fwdtest.XXXXXX");
	snprintf(n->addr, sizeof(n->addr), "%s", addr);
	if (mkdtemp(n->dir) == NULL)
		return -1;
	n->port = ft_free_port(addr);
	if (n->port == 0 || nsd_conf(n) != 0)
		return -1;
	snprintf(conf, sizeof(conf), "%s/nsd.conf", n->dir);
	n->pid = fork();
	if (n->pid == 0) {
		int devnull = open("/dev/null", O_RDWR);

		dup2(devnull, 1);
		dup2(devnull, 2);
		execl(nsd, "nsd", "-d", "-c", conf, (char *)NULL);
		_exit(127);
	}
	if (n->pid < 0 || nsd_wait(n) != 0) {
		ft_nsd_stop(n);
		return -1;
	}
	return 0;
}

static void rm_dir(const char *dir)
{
	static const char *files[] = { "nsd.conf", "example.test.zone", "nsd.pid", "nsd.log",
				       "xfrd.state", "zone.list", "cookiesecrets.txt" };
	char path[256];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

void ft_nsd_stop(struct ft_nsd *n)
{
	if (n->pid > 0) {
		kill(n->pid, SIGTERM);
		for (int i = 0; i < 50 && waitpid(n->pid, NULL, WNOHANG) == 0; i++)
			usleep(100 * 1000);
		if (waitpid(n->pid, NULL, WNOHANG) == 0) {
			kill(n->pid, SIGKILL);
			waitpid(n->pid, NULL, 0);
		}
		n->pid = 0;
	}
	if (n->dir[0] != '\0')
		rm_dir(n->dir);
	n->dir[0] = '\0';
}

/* ------------------------------------------------------------------------- */
/* Fake upstreams                                                              */

/* Reply to query @p q (@p len) per @p mode into @p out. @return length */
static size_t fake_reply(const uint8_t *q, size_t len, enum ft_fake mode, unsigned nth,
			 uint8_t *out)
{
	size_t qend = len;
	uint16_t id = rd16(q);

	memcpy(out, q, len);
	out[2] = (uint8_t)(0x80 | (q[2] & 0x79)); /* QR, opcode and RD kept */
	out[3] = 0x80;                            /* RA */
	out[6] = out[7] = out[8] = out[9] = out[10] = out[11] = 0;
	if (mode == FT_FAKE_SERVFAIL) {
		out[3] |= DNS_RCODE_SERVFAIL;
		return qend;
	}
	if (mode == FT_FAKE_NXDOMAIN) {
		static const uint8_t soa[] = { 0xc0, 0x0c, 0, 6, 0, 1, 0, 0, 0, 60, 0, 22,
					       0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1,
					       0, 0, 0, 1, 0, 0, 0, 60 };

		out[3] |= DNS_RCODE_NXDOMAIN;
		out[9] = 1;
		memcpy(out + qend, soa, sizeof(soa));
		return qend + sizeof(soa);
	}
	/* An A answer: 192.0.2.99 (spoof test) or .98 (slow). */
	out[7] = 1;
	{
		uint8_t a[] = { 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 99 };

		if (mode == FT_FAKE_SLOW)
			a[15] = 98;
		memcpy(out + qend, a, sizeof(a));
	}
	if (mode == FT_FAKE_SPOOF && nth == 0) {
		out[0] = (uint8_t)((id + 1) >> 8); /* wrong ID */
		out[1] = (uint8_t)(id + 1);
	} else if (mode == FT_FAKE_SPOOF && nth == 1) {
		out[DNS_HDR_LEN + 1] ^= 0x01;     /* another question name */
	}
	return qend + 16;
}

static void fake_loop(int fd, int cfd, enum ft_fake mode)
{
	uint8_t q[4096], r[4200];

	for (;;) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
		size_t rl;

		if (n < DNS_HDR_LEN)
			continue;
		if (write(cfd, "q", 1) < 0)
			_exit(0);
		if (mode == FT_FAKE_SILENT)
			continue;
		if (mode == FT_FAKE_SLOW)
			usleep(300 * 1000);
		for (unsigned k = 0; k < (mode == FT_FAKE_SPOOF ? 3u : 1u); k++) {
			rl = fake_reply(q, (size_t)n, mode, k, r);
			sendto(fd, r, rl, 0, (struct sockaddr *)&from, fl);
		}
	}
}

int ft_fake_start(struct ft_fake_srv *f, const char *addr, enum ft_fake mode)
{
	struct sockaddr_in sa;
	int fd, p[2];

	memset(f, 0, sizeof(*f));
	snprintf(f->addr, sizeof(f->addr), "%s", addr);
	f->port = ft_free_port(addr);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (f->port == 0 || fd < 0 || sa_of(addr, f->port, &sa) != 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || pipe(p) != 0)
		return -1;
	f->pid = fork();
	if (f->pid == 0) {
		close(p[0]);
		fake_loop(fd, p[1], mode);
		_exit(0);
	}
	close(fd);
	close(p[1]);
	f->count_fd = p[0];
	fcntl(f->count_fd, F_SETFL, O_NONBLOCK);
	return f->pid > 0 ? 0 : -1;
}

unsigned ft_fake_count(struct ft_fake_srv *f)
{
	char buf[256];
	ssize_t n;

	while ((n = read(f->count_fd, buf, sizeof(buf))) > 0)
		f->count += (unsigned)n;
	return f->count;
}

void ft_fake_stop(struct ft_fake_srv *f)
{
	if (f->pid > 0) {
		kill(f->pid, SIGTERM);
		waitpid(f->pid, NULL, 0);
		f->pid = 0;
	}
	if (f->count_fd > 0)
		close(f->count_fd);
	f->count_fd = 0;
}
