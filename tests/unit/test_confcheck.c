/*
 * test_confcheck.c - a configuration against the host: unknown groups and
 * shared gids refused (by way of roles), an untrusted aws.ca_file refused,
 * the PII allowlists refused when they hold loopback or one of the host's
 * own addresses (unless pii_allow_local), other allowlists only warned
 * about.  The host's addresses and groups are injected.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "iamgate/confcheck.h"
#include "iamgate/util.h"

static char err[8192];

static int lookup(const char *name, gid_t *gid, void *arg)
{
	(void)arg;
	if (strcmp(name, "devs") == 0)
		*gid = 1001;
	else if (strcmp(name, "pii") == 0)
		*gid = 1003;
	else
		return IG_ERR_NOTFOUND;
	return 0;
}

static struct ig_config *parse(const char *office, const char *fixed, const char *extra)
{
	char text[4096];
	struct ig_config *cfg = NULL;

	assert_int_equal(
	        ig_bfmt(text, sizeof(text),
	                "{ \"pii_group\": \"pii\", %s"
	                "  \"allowlists\": { \"office\": [%s], \"fixed\": [%s] },"
	                "  \"groups\": { \"devs\": { \"allow_from\": [\"office\"], \"roles\": "
	                "[\"ro\"] },"
	                "              \"pii\": { \"allow_from\": [\"fixed\"], \"roles\": "
	                "[\"snap\"] } },"
	                "  \"roles\": { \"ro\": { \"arn\": \"arn:aws:iam::111122223333:role/ro\" },"
	                "             \"snap\": { \"arn\": \"arn:aws:iam::111122223333:role/s\", "
	                "\"pii\": true } } }",
	                extra, office, fixed),
	        0);
	assert_int_equal(ig_config_parse(text, strlen(text), "t.json", &cfg, err, sizeof(err)), 0);
	return cfg;
}

static struct ig_addr A(const char *s) {
	struct ig_addr a;
	assert_int_equal(ig_addr_parse(s, &a), 0);
	return a;
}

static int
run(struct ig_config *cfg, const struct ig_addr *own, size_t n)
{
	err[0] = '\0';
	return ig_confcheck_run(cfg, lookup, NULL, own, n, err, sizeof(err));
}

static void test_local_prefix(void **state)
{
	static const char *local[] = {"127.0.0.1/32", "127.0.0.0/8", "0.0.0.0/0",
	                              "::1/128",      "::/0",        "::ffff:127.0.0.3/128",
	                              "126.0.0.0/7"};
	static const char *remote[] = {"203.0.113.7/32", "10.0.0.0/8", "2001:db8::/32",
	                               "128.0.0.0/1", "::2/128"};
	struct ig_cidr c;

	(void)state;
	for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++) {
		assert_int_equal(ig_cidr_parse(local[i], &c), 0);
		if (!ig_confcheck_local_prefix(&c))
			fail_msg("%s is not seen as local", local[i]);
	}
	for (size_t i = 0; i < sizeof(remote) / sizeof(remote[0]); i++) {
		assert_int_equal(ig_cidr_parse(remote[i], &c), 0);
		if (ig_confcheck_local_prefix(&c))
			fail_msg("%s is seen as local", remote[i]);
	}
}

static void test_pii_loopback_refused(void **state)
{
	struct ig_config *cfg = parse("\"203.0.113.0/24\"", "\"127.0.0.3/32\"", "");

	(void)state;
	assert_int_equal(run(cfg, NULL, 0), IG_ERR_CONFIG);
	assert_non_null(strstr(err, "allowlist \"fixed\" of the PII group holds a loopback"));
	ig_config_free(cfg);
	/* A test rig says so explicitly. */
	cfg = parse("\"203.0.113.0/24\"", "\"127.0.0.3/32\"", "\"pii_allow_local\": true,");
	assert_int_equal(run(cfg, NULL, 0), 0);
	ig_config_free(cfg);
}

static void test_pii_own_address_refused(void **state)
{
	struct ig_addr own[] = {A("10.1.2.3"), A("2001:db8:5::9")};
	struct ig_config *cfg = parse("\"203.0.113.0/24\"", "\"10.1.0.0/16\"", "");

	(void)state;
	assert_int_equal(run(cfg, own, 2), IG_ERR_CONFIG);
	assert_non_null(strstr(err, "holds 10.1.2.3, an address of this host"));
	ig_config_free(cfg);
	cfg = parse("\"203.0.113.0/24\"", "\"2001:db8:5::/64\"", "");
	assert_int_equal(run(cfg, own, 2), IG_ERR_CONFIG);
	assert_non_null(strstr(err, "2001:db8:5::9"));
	ig_config_free(cfg);
	cfg = parse("\"203.0.113.0/24\"", "\"203.0.113.7/32\"", "");
	assert_int_equal(run(cfg, own, 2), 0);
	ig_config_free(cfg);
}

static void collect(void *arg, const char *msg)
{
	char *out = arg;
	size_t n = strlen(out);

	if (ig_bfmt(out + n, 4096 - n, "%s\n", msg) != 0)
		fail_msg("too many warnings");
}

/* Not the PII group: loaded, and `iamgate check` warns. */
static void test_other_allowlists_warned(void **state)
{
	struct ig_addr own[] = {A("198.51.100.4")};
	struct ig_config *cfg =
	        parse("\"127.0.0.0/8\", \"198.51.100.0/24\"", "\"203.0.113.7/32\"", "");
	char warnings[4096] = "";

	(void)state;
	assert_int_equal(run(cfg, own, 1), 0);
	ig_confcheck_warnings(cfg, own, 1, collect, warnings);
	assert_non_null(strstr(warnings, "allowlist \"office\" holds a loopback address"));
	ig_config_free(cfg);
	warnings[0] = '\0';
	cfg = parse("\"198.51.100.0/24\"", "\"203.0.113.7/32\"", "");
	ig_confcheck_warnings(cfg, own, 1, collect, warnings);
	assert_non_null(
	        strstr(warnings, "allowlist \"office\" holds this host's address 198.51.100.4"));
	assert_null(strstr(warnings, "\"fixed\""));
	ig_config_free(cfg);
}

static void test_ca_file_trusted(void **state)
{
	char dir[4096], ca[4200], extra[4400];
	struct ig_config *cfg;
	int fd;

	(void)state;
	assert_int_equal(ig_bfmt(dir, sizeof(dir), "%s/build/t-confcheck.XXXXXX", IG_SOURCE_DIR),
	                 0);
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(ig_bfmt(ca, sizeof(ca), "%s/ca.pem", dir), 0);
	fd = open(ca, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(ig_bfmt(extra, sizeof(extra),
	                         "\"aws\": { \"region\": \"eu-west-1\", \"ca_file\": \"%s\" },",
	                         ca),
	                 0);
	cfg = parse("\"203.0.113.0/24\"", "\"203.0.113.7/32\"", extra);
	assert_int_equal(run(cfg, NULL, 0), 0);
	/* Writable by others: whoever can write it can play AWS. */
	assert_int_equal(chmod(ca, 0666), 0);
	assert_int_equal(run(cfg, NULL, 0), IG_ERR_CONFIG);
	assert_non_null(strstr(err, "aws.ca_file"));
	assert_int_equal(chmod(ca, 0644), 0);
	/* Not root's. */
	assert_int_equal(chown(ca, 1, 1), 0);
	assert_int_equal(run(cfg, NULL, 0), IG_ERR_CONFIG);
	ig_config_free(cfg);
	unlink(ca);
	rmdir(dir);
}

static void test_groups_resolved(void **state)
{
	static const char *text =
	        "{ \"allowlists\": { \"a\": [\"203.0.113.0/24\"] },"
	        "  \"groups\": { \"ghosts\": { \"allow_from\": [\"a\"], \"roles\": [] } },"
	        "  \"roles\": {} }";
	struct ig_config *cfg = NULL;

	(void)state;
	assert_int_equal(ig_config_parse(text, strlen(text), "t.json", &cfg, err, sizeof(err)), 0);
	assert_int_equal(run(cfg, NULL, 0), IG_ERR_CONFIG);
	assert_non_null(strstr(err, "group \"ghosts\" does not exist on this host"));
	ig_config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_local_prefix),
	        cmocka_unit_test(test_pii_loopback_refused),
	        cmocka_unit_test(test_pii_own_address_refused),
	        cmocka_unit_test(test_other_allowlists_warned),
	        cmocka_unit_test(test_ca_file_trusted),
	        cmocka_unit_test(test_groups_resolved),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
