/*
 * test_roles.c - the configured groups' gids (unknown names and shared gids
 * refused), the login decision by source address and the group -> role
 * resolution with the PII rule, on a fixed configuration and fake groups
 * compared by gid, never by name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "iamgate/config.h"
#include "iamgate/roles.h"

static const char *cfg_text =
        "{ \"pii_group\": \"pii\","
        "  \"allowlists\": { \"office\": [\"203.0.113.0/24\", \"2001:db8:10::/48\"],"
        "                    \"fixed\": [\"203.0.113.7/32\"] },"
        "  \"groups\": { \"devs\": { \"allow_from\": [\"office\"], \"roles\": [\"ro\", \"shared\"] "
        "},"
        "              \"ops\": { \"allow_from\": [\"fixed\"], \"roles\": [\"shared\"] },"
        "              \"pii\": { \"allow_from\": [\"fixed\"], \"roles\": [\"snap\"] } },"
        "  \"roles\": { \"ro\": { \"arn\": \"arn:aws:iam::111122223333:role/ro\" },"
        "             \"shared\": { \"arn\": \"arn:aws:iam::111122223333:role/shared\" },"
        "             \"snap\": { \"arn\": \"arn:aws:iam::111122223333:role/snap\", \"pii\": true "
        "} } }";

static struct ig_config *cfg;

enum { USERS = 100, WHEEL = 10, DEVS = 1001, OPS = 1002, PII = 1003 };

/* The group database of these tests; "pii2" shares the PII group's gid. */
static int fake_lookup(const char *name, gid_t *gid, void *arg)
{
	static const struct {
		const char *name;
		gid_t gid;
	} db[] = {{"devs", DEVS}, {"ops", OPS}, {"pii", PII}, {"pii2", PII}};

	(void)arg;
	for (size_t i = 0; i < sizeof(db) / sizeof(db[0]); i++)
		if (strcmp(db[i].name, name) == 0) {
			*gid = db[i].gid;
			return 0;
		}
	return IG_ERR_NOTFOUND;
}

static int setup(void **state)
{
	char err[2048];
	(void)state;
	if (ig_config_parse(cfg_text, strlen(cfg_text), "t", &cfg, err, sizeof(err)) != 0)
		return -1;
	return ig_roles_resolve_gids(cfg, fake_lookup, NULL, err, sizeof(err));
}

static int teardown(void **state)
{
	(void)state;
	ig_config_free(cfg);
	return 0;
}

static struct ig_addr A(const char *s) {
	struct ig_addr a;
	assert_int_equal(ig_addr_parse(s, &a), 0);
	return a;
}

static const struct ig_role_decision *
find(struct ig_role_decision *d, size_t n, const char *role)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(d[i].role->name, role) == 0)
			return &d[i];
	return NULL;
}

static void test_login_allowed(void **state)
{
	gid_t devs[] = {USERS, DEVS}, none[] = {USERS, WHEEL}, pii[] = {PII};
	struct ig_user_groups gd = {devs, 2}, gn = {none, 2}, gp = {pii, 1};
	struct ig_addr in = A("203.0.113.9"), out = A("198.51.100.1"), fixed = A("203.0.113.7"),
	               v6 = A("2001:db8:10:ffff::1"), mapped = A("::ffff:203.0.113.9");
	(void)state;
	assert_int_equal(ig_roles_login_allowed(cfg, &gd, &in), IG_R_OK);
	assert_int_equal(ig_roles_login_allowed(cfg, &gd, &v6), IG_R_OK);
	assert_int_equal(ig_roles_login_allowed(cfg, &gd, &mapped), IG_R_OK);
	assert_int_equal(ig_roles_login_allowed(cfg, &gd, &out), IG_R_RHOST_NOT_ALLOWED);
	assert_int_equal(ig_roles_login_allowed(cfg, &gn, &in), IG_R_NO_MAPPED_GROUP);
	/* A PII member may log in only from the fixed address. */
	assert_int_equal(ig_roles_login_allowed(cfg, &gp, &in), IG_R_RHOST_NOT_ALLOWED);
	assert_int_equal(ig_roles_login_allowed(cfg, &gp, &fixed), IG_R_OK);
	assert_string_equal(ig_reason_name(IG_R_RHOST_NOT_ALLOWED), "rhost_not_allowed");
}

static void test_pii_rule(void **state)
{
	gid_t both[] = {DEVS, PII}, devs[] = {DEVS};
	struct ig_user_groups gb = {both, 2}, gd = {devs, 1};
	struct ig_addr fixed = A("203.0.113.7"), office = A("203.0.113.9");
	struct ig_role_decision *d = NULL;
	size_t n = 0;
	(void)state;
	/* Member, fixed address, MFA: issued. */
	assert_int_equal(ig_roles_resolve(cfg, &gb, &fixed, 1, &d, &n), 0);
	assert_int_equal(n, 3);
	assert_true(find(d, n, "snap")->issue);
	assert_true(find(d, n, "ro")->issue);
	free(d);
	/* Member from a non-fixed address: pii left out, others issued. */
	assert_int_equal(ig_roles_resolve(cfg, &gb, &office, 1, &d, &n), 0);
	assert_false(find(d, n, "snap")->issue);
	assert_int_equal(find(d, n, "snap")->reason, IG_R_PII_SOURCE_NOT_FIXED);
	assert_true(find(d, n, "ro")->issue);
	free(d);
	/* No MFA in this transaction: pii left out. */
	assert_int_equal(ig_roles_resolve(cfg, &gb, &fixed, 0, &d, &n), 0);
	assert_false(find(d, n, "snap")->issue);
	assert_int_equal(find(d, n, "snap")->reason, IG_R_PII_NO_MFA);
	free(d);
	/* Not a member: the pii role is not even mapped. */
	assert_int_equal(ig_roles_resolve(cfg, &gd, &fixed, 1, &d, &n), 0);
	assert_null(find(d, n, "snap"));
	free(d);
}

static void test_role_via_two_groups_and_source(void **state)
{
	gid_t devs_ops[] = {DEVS, OPS}, ops[] = {OPS};
	struct ig_user_groups g2 = {devs_ops, 2}, go = {ops, 1};
	struct ig_addr office = A("203.0.113.9"), fixed = A("203.0.113.7");
	struct ig_role_decision *d = NULL;
	size_t n = 0;
	(void)state;
	/* "shared" once, allowed through devs from the office. */
	assert_int_equal(ig_roles_resolve(cfg, &g2, &office, 1, &d, &n), 0);
	assert_int_equal(n, 2);
	assert_true(find(d, n, "shared")->issue);
	free(d);
	/* Only ops, from the office: shared is mapped but not from here. */
	assert_int_equal(ig_roles_resolve(cfg, &go, &office, 1, &d, &n), 0);
	assert_int_equal(n, 1);
	assert_false(find(d, n, "shared")->issue);
	assert_int_equal(find(d, n, "shared")->reason, IG_R_SOURCE_NOT_ALLOWED);
	free(d);
	assert_int_equal(ig_roles_resolve(cfg, &go, &fixed, 1, &d, &n), 0);
	assert_true(find(d, n, "shared")->issue);
	free(d);
}

static void test_user_groups_lookup(void **state)
{
	struct ig_user_groups g = {0};
	(void)state;
	assert_int_equal(ig_roles_user_groups("root", &g), 0);
	assert_true(ig_roles_in_group(&g, 0));
	ig_roles_user_groups_free(&g);
	assert_int_equal(ig_roles_user_groups("no-such-user-iamgate", &g), IG_ERR_NOTFOUND);
	assert_int_equal(g.n, 0);
}

/* A group is its gid: a gid other than the configured group's is not the
 * group, whatever it is called. */
static void test_membership_is_by_gid(void **state)
{
	gid_t other_pii[] = {DEVS, 2003};
	struct ig_user_groups g = {other_pii, 2};
	struct ig_addr fixed = A("203.0.113.7");
	struct ig_role_decision *d = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(cfg->groups[2].gid, PII);
	assert_int_equal(ig_roles_resolve(cfg, &g, &fixed, 1, &d, &n), 0);
	assert_null(find(d, n, "snap"));
	free(d);
}

static void test_resolve_refuses(void **state)
{
	static const char *shared =
	        "{ \"pii_group\": \"pii\", \"allowlists\": { \"a\": [\"203.0.113.0/24\"] },"
	        "  \"groups\": { \"pii\": { \"allow_from\": [\"a\"], \"roles\": [\"s\"] },"
	        "              \"pii2\": { \"allow_from\": [\"a\"], \"roles\": [] } },"
	        "  \"roles\": { \"s\": { \"arn\": \"arn:aws:iam::111122223333:role/s\", "
	        "\"pii\": true } } }";
	static const char *unknown =
	        "{ \"allowlists\": { \"a\": [\"203.0.113.0/24\"] },"
	        "  \"groups\": { \"nosuch\": { \"allow_from\": [\"a\"], \"roles\": [] } },"
	        "  \"roles\": {} }";
	struct ig_config *c2 = NULL;
	char err[2048];

	(void)state;
	assert_int_equal(ig_config_parse(shared, strlen(shared), "t", &c2, err, sizeof(err)), 0);
	assert_int_equal(ig_roles_resolve_gids(c2, fake_lookup, NULL, err, sizeof(err)),
	                 IG_ERR_CONFIG);
	assert_non_null(strstr(err, "\"pii\" and \"pii2\" are the same group (gid 1003)"));
	ig_config_free(c2);
	assert_int_equal(ig_config_parse(unknown, strlen(unknown), "t", &c2, err, sizeof(err)), 0);
	assert_int_equal(ig_roles_resolve_gids(c2, fake_lookup, NULL, err, sizeof(err)),
	                 IG_ERR_CONFIG);
	assert_non_null(strstr(err, "group \"nosuch\" does not exist on this host; fix:"));
	ig_config_free(c2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_login_allowed),
	        cmocka_unit_test(test_pii_rule),
	        cmocka_unit_test(test_role_via_two_groups_and_source),
	        cmocka_unit_test(test_user_groups_lookup),
	        cmocka_unit_test(test_membership_is_by_gid),
	        cmocka_unit_test(test_resolve_refuses),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
