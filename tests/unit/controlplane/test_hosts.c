/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - hosts data: address and line parsing (CoreDNS rules), reverse names, and
 * atomic edits of a hosts file.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "cp_test.h"
#include "hosts.h"
#include "plugin.h"

static void test_addr(void)
{
	struct hosts_addr a;
	char buf[64];

	CHECK_EQ(hosts_parse_addr("192.0.2.1", &a), 0);
	CHECK_EQ(a.fam, 4);
	CHECK_STR(hosts_addr_str(&a, buf, sizeof(buf)), "192.0.2.1");
	CHECK_EQ(hosts_parse_addr("2001:DB8::1", &a), 0);
	CHECK_EQ(a.fam, 6);
	CHECK_STR(hosts_addr_str(&a, buf, sizeof(buf)), "2001:db8::1");
	CHECK_EQ(hosts_parse_addr("fe80::1%eth0", &a), 0); /* zone index dropped (CoreDNS) */
	CHECK_STR(hosts_addr_str(&a, buf, sizeof(buf)), "fe80::1");
	CHECK_EQ(hosts_parse_addr("::ffff:198.51.100.7", &a), 0); /* Go's To4() */
	CHECK_EQ(a.fam, 4);
	CHECK_STR(hosts_addr_str(&a, buf, sizeof(buf)), "198.51.100.7");
	CHECK_EQ(hosts_parse_addr("192.0.2.256", &a), -EINVAL);
	CHECK_EQ(hosts_parse_addr("01.2.3.4", &a), -EINVAL);
	CHECK_EQ(hosts_parse_addr("1.2.3", &a), -EINVAL);
	CHECK_EQ(hosts_parse_addr("www", &a), -EINVAL);
	CHECK_EQ(hosts_parse_addr("2001:db8:::1", &a), -EINVAL);
}

static const struct hosts_name *name_of(const struct hosts_db *db, const char *text)
{
	uint8_t w[DNS_MAX_NAME];
	int n = dns_name_from_str(w, sizeof(w), text);

	return n < 0 ? NULL : hosts_db_name(db, w, (size_t)n);
}

static void test_parse(void)
{
	static const char text[] =
		"# comment line\n"
		"192.0.2.1 Www.Example.ORG www   # trailing comment\n"
		"192.0.2.1 www.example.org\n"
		"2001:db8::1 www.example.org\n"
		"192.0.2.2 other.example.net\n"
		"bogus line here\n"
		"192.0.2.3\n"
		"999.1.1.1 bad.example.org\n"
		"fe80::1%eth0 ll.example.org\n"
		"::ffff:198.51.100.1 mapped.example.org\n"
		"192.0.2.9 good.example.org a..b\n"
		"\t192.0.2.10\tTAB.example.org\r\n"
		"192.0.2.11 www.example.org\n"
		"   \n"
		"192.0.2.1 alias.example.org";
	struct cp_zone z;
	struct hosts_parse_stats st = { 0 };
	struct hosts_db *db = hosts_db_new();
	const struct hosts_name *n;
	const struct hosts_rev *r;
	struct hosts_addr a;
	char buf[64];

	CHECK_EQ(cp_zone_parse("example.org", &z, 1, NULL, 0), 1);
	CHECK_EQ(hosts_db_parse(db, text, sizeof(text) - 1, &z, 1, true, &st), 0);
	CHECK_EQ(st.bad_lines, 4);
	CHECK_EQ(st.first_bad, 6);
	CHECK_EQ(db->n_names, 6); /* www ll mapped good tab alias */
	n = name_of(db, "www.example.org");
	CHECK(n != NULL);
	if (n != NULL) {
		CHECK_EQ(n->n4, 2);
		CHECK_EQ(n->n6, 1);
		CHECK_STR(hosts_addr_str(&db->recs[n->first].addr, buf, sizeof(buf)), "192.0.2.1");
	}
	CHECK(name_of(db, "other.example.net") == NULL); /* outside the zones */
	CHECK(name_of(db, "www") == NULL);
	CHECK(name_of(db, "bad.example.org") == NULL);
	CHECK(name_of(db, "good.example.org") != NULL);
	CHECK(name_of(db, "tab.example.org") != NULL);
	n = name_of(db, "mapped.example.org");
	CHECK(n != NULL && n->n4 == 1 && n->n6 == 0);
	n = name_of(db, "ll.example.org");
	CHECK(n != NULL && n->n6 == 1);
	hosts_parse_addr("192.0.2.1", &a);
	r = hosts_db_rev(db, &a);
	CHECK(r != NULL && r->n == 2); /* www (once) and alias */
	if (r != NULL)
		CHECK_EQ(db->refs[r->first].name, 0);
	/* CoreDNS Len(): addresses per name + names per address. */
	CHECK_EQ(hosts_db_entries(db), 8 + 8);
	hosts_db_free(db);

	/* no_reverse: no address map at all. */
	db = hosts_db_new();
	hosts_db_parse(db, text, sizeof(text) - 1, &z, 1, false, NULL);
	CHECK_EQ(db->n_revs, 0);
	CHECK_EQ(hosts_db_entries(db), 8);
	hosts_db_free(db);
}

static void rev_is(const char *addr, bool mapped, const char *want)
{
	struct hosts_addr a, back;
	uint8_t w[DNS_MAX_NAME];
	char text[300];
	int n;

	CHECK_EQ(hosts_parse_addr(addr, &a), 0);
	n = hosts_rev_name(&a, mapped, w);
	CHECK(n > 0);
	cp_name_text(w, (size_t)n, text, sizeof(text));
	CHECK_STR(text, want);
	CHECK_EQ(hosts_rev_parse(w, (size_t)n, &back), 0);
	CHECK(memcmp(&a, &back, sizeof(a)) == 0);
}

static void rev_bad(const char *name)
{
	uint8_t w[DNS_MAX_NAME];
	struct hosts_addr a;
	int n = dns_name_from_str(w, sizeof(w), name);

	CHECK(n > 0);
	CHECK_EQ(hosts_rev_parse(w, (size_t)n, &a), -EINVAL);
}

static void test_reverse(void)
{
	rev_is("192.0.2.1", false, "1.2.0.192.in-addr.arpa.");
	rev_is("10.0.0.255", false, "255.0.0.10.in-addr.arpa.");
	rev_is("192.0.2.1", true,
	       "1.0.2.0.0.0.0.c.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.");
	rev_is("2001:db8::53", false,
	       "3.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.");
	rev_bad("2.0.192.in-addr.arpa.");
	rev_bad("1.1.2.0.192.in-addr.arpa.");
	rev_bad("01.2.0.192.in-addr.arpa.");
	rev_bad("256.2.0.192.in-addr.arpa.");
	rev_bad("x.2.0.192.in-addr.arpa.");
	rev_bad("in-addr.arpa.");
	rev_bad("www.example.org.");
	rev_bad("3.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.ip6.arpa.");
	rev_bad("g.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.");
	rev_bad("35.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.");
}

static unsigned count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	unsigned n = 0;

	while (d != NULL && (de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	if (d != NULL)
		closedir(d);
	return n;
}

static void test_edit(void)
{
	const char *dir = t_tmpdir();
	char path[4096], err[256];
	struct hosts_addr a, b;
	struct stat st;

	snprintf(path, sizeof(path), "%s/hosts", dir);
	hosts_parse_addr("192.0.2.1", &a);
	hosts_parse_addr("2001:db8::1", &b);
	CHECK_EQ(hosts_file_edit(path, false, "x.example", &a, err, sizeof(err)), -ENOENT);
	CHECK_EQ(hosts_file_edit(path, true, "a.example", &a, err, sizeof(err)), 0);
	CHECK_STR(t_read(path), "192.0.2.1 a.example\n");
	CHECK_EQ(hosts_file_edit(path, true, "A.Example.", &a, err, sizeof(err)), -EEXIST);
	CHECK_HAS(err, "already has");
	CHECK_EQ(hosts_file_edit(path, true, "a.example", &b, err, sizeof(err)), 0);

	/* Existing content, comments and odd spacing survive; no trailing newline is fixed. */
	t_write(dir, "hosts", "# managed\n192.0.2.1   a.example b.example  # both\n10.0.0.1 c.example");
	chmod(path, 0640);
	CHECK_EQ(hosts_file_edit(path, true, "d.example", &b, err, sizeof(err)), 0);
	CHECK_STR(t_read(path),
		  "# managed\n192.0.2.1   a.example b.example  # both\n10.0.0.1 c.example\n"
		  "2001:db8::1 d.example\n");
	CHECK_EQ(stat(path, &st), 0);
	CHECK_EQ(st.st_mode & 0777, 0640);
	CHECK_EQ(hosts_file_edit(path, false, "A.example", &a, err, sizeof(err)), 0);
	CHECK_STR(t_read(path),
		  "# managed\n192.0.2.1 b.example # both\n10.0.0.1 c.example\n"
		  "2001:db8::1 d.example\n");
	CHECK_EQ(hosts_file_edit(path, false, "b.example", &b, err, sizeof(err)), -ENOENT);
	CHECK_HAS(err, "no entry for b.example");
	CHECK_EQ(hosts_file_edit(path, false, "b.example", NULL, err, sizeof(err)), 0);
	CHECK_STR(t_read(path), "# managed\n10.0.0.1 c.example\n2001:db8::1 d.example\n");
	CHECK_EQ(hosts_file_edit(path, false, "d.example", NULL, err, sizeof(err)), 0);
	CHECK_STR(t_read(path), "# managed\n10.0.0.1 c.example\n");
	CHECK_EQ(hosts_file_edit(path, true, "bad..name", &a, err, sizeof(err)), -EINVAL);
	CHECK_EQ(count_files(dir), 1); /* no temporary file left behind */
	CHECK_EQ(hosts_file_edit("/nonexistent-dir-h3/hosts", true, "a.example", &a, err,
				 sizeof(err)), -ENOENT);
}

/* An address shared by very many names (ad-block lists) must not be quadratic. */
static void test_big(void)
{
	size_t cap = 40u << 20, o = 0;
	char *text = malloc(cap);
	struct cp_zone root = { .len = 1 };
	struct hosts_db *db = hosts_db_new();
	const struct hosts_rev *r;
	struct hosts_addr a;

	for (unsigned i = 0; i < 200000; i++)
		o += (size_t)sprintf(text + o, "0.0.0.0 ad%u.example.com\n", i);
	CHECK_EQ(hosts_db_parse(db, text, o, &root, 1, true, NULL), 0);
	CHECK_EQ(db->n_names, 200000);
	hosts_parse_addr("0.0.0.0", &a);
	r = hosts_db_rev(db, &a);
	CHECK(r != NULL && r->n == 200000);
	CHECK(name_of(db, "ad199999.example.com") != NULL);
	hosts_db_free(db);
	free(text);
}

int main(void)
{
	test_addr();
	test_parse();
	test_reverse();
	test_edit();
	test_big();
	return t_done("test_hosts");
}
