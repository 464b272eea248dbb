/* test_policy.c - IAM action/resource matching and every policy rule. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
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

#include "iamgate/policy.h"
#include "iamgate/util.h"

#define BASTION "arn:aws:iam::111122223333:role/iamgate-bastion"
#define MAXF 128

/* ---------------------------------------------------------------------------
 * Finding capture
 */

struct found {
	char file[512];
	int line;
	enum ig_policy_sev sev;
	char msg[1024];
};

static struct found F[MAXF];
static size_t NF;

static void capture(void *ctx, const char *file, int line, enum ig_policy_sev sev,
                    const char *message)
{
	(void)ctx;
	assert_true(NF < MAXF);
	snprintf(F[NF].file, sizeof(F[NF].file), "%s", file);
	F[NF].line = line;
	F[NF].sev = sev;
	snprintf(F[NF].msg, sizeof(F[NF].msg), "%s", message);
	/* Every message is one printable line. */
	for (const char *p = message; *p; p++)
		assert_true(*p >= 0x20 && *p < 0x7f);
	NF++;
}

static void dump(void)
{
	for (size_t i = 0; i < NF; i++)
		print_message("#   %s:%d: %s: %s\n", F[i].file, F[i].line,
		              F[i].sev == IG_POLICY_ERROR ? "error" : "warning", F[i].msg);
}

/* Number of findings of sev whose message contains sub (and at line, if > 0). */
static size_t count(enum ig_policy_sev sev, const char *sub, int line)
{
	size_t n = 0;

	for (size_t i = 0; i < NF; i++)
		if (F[i].sev == sev && strstr(F[i].msg, sub) != NULL &&
		    (line <= 0 || F[i].line == line))
			n++;
	return n;
}

static void expect_error(const char *sub, int line)
{
	if (count(IG_POLICY_ERROR, sub, line) == 0) {
		dump();
		fail_msg("no error containing \"%s\" at line %d", sub, line);
	}
}

static void expect_warning(const char *sub, int line)
{
	if (count(IG_POLICY_WARNING, sub, line) == 0) {
		dump();
		fail_msg("no warning containing \"%s\" at line %d", sub, line);
	}
}

static void expect_none(const char *sub)
{
	if (count(IG_POLICY_ERROR, sub, 0) + count(IG_POLICY_WARNING, sub, 0) != 0) {
		dump();
		fail_msg("unexpected finding containing \"%s\"", sub);
	}
}

static const char *const buckets[] = {"acme-prod-rds-exports", "acme-backup-*"};

static struct ig_policy_opts opts(void)
{
	struct ig_policy_opts o = {
	        .dir = NULL,
	        .sid_pattern = NULL,
	        .pii_buckets = buckets,
	        .n_pii_buckets = 2,
	        .bastion_role_arn = BASTION,
	};
	return o;
}

static int REACH;

/* Check text as a permission (trust=0) or trust policy of role "r". */
static int run_o(const struct ig_policy_opts *o, const char *text, int pii, int trust)
{
	struct ig_policy_role role = {"r", "arn:aws:iam::111122223333:role/r", pii};

	NF = 0;
	REACH = 0;
	return ig_policy_check_text(o, &role, "p.json", text, strlen(text), trust, &REACH, capture,
	                            NULL);
}

static int run(const char *text, int pii, int trust)
{
	struct ig_policy_opts o = opts();
	return run_o(&o, text, pii, trust);
}

/* A one-statement permission policy; the statement is on line 3. */
static int perm(const char *stmt_body, int pii)
{
	char buf[4096];

	snprintf(buf, sizeof(buf),
	         "{\n\"Version\": \"2012-10-17\",\n\"Statement\": [{\"Sid\": \"Test\", "
	         "\"Effect\": \"Allow\", %s}]\n}\n",
	         stmt_body);
	return run(buf, pii, 0);
}

/* ---------------------------------------------------------------------------
 * Matching
 */

static void test_action_match_table(void **state)
{
	(void)state;
	static const struct {
		const char *pattern, *action;
		int want;
	} t[] = {
	        {"s3:GetObject", "s3:GetObject", 1},
	        {"s3:getobject", "S3:GETOBJECT", 1},
	        {"S3:Get*", "s3:GetObjectVersion", 1},
	        {"s3:Get*", "s3:PutObject", 0},
	        {"s3:Get*", "s3:Get", 1},
	        {"s3:*Object", "s3:GetObject", 1},
	        {"s3:*Object", "s3:GetObjectAcl", 0},
	        {"s3:Get*Acl", "s3:GetObjectAcl", 1},
	        {"s3:Get*Acl", "s3:GetBucketAcl", 1},
	        {"s3:Get*Acl", "s3:GetObject", 0},
	        {"s3:*Get*Obj*", "s3:GetObjectVersionTorrent", 1},
	        {"s3:GetObject?", "s3:GetObject", 0},
	        {"s3:GetObjec?", "s3:GetObject", 1},
	        {"s3:?etObject", "s3:GetObject", 1},
	        {"S3:GET?BJECT", "s3:getobject", 1},
	        {"s3:Get*", "s3control:GetJobTagging", 0},
	        {"s3*:Get*", "s3control:GetJobTagging", 1},
	        {"*", "rds:CopyDBSnapshot", 1},
	        {"*:*", "ec2:RunInstances", 1},
	        {"*:Describe*", "ec2:DescribeInstances", 1},
	        {"*:Describe*", "ec2:RunInstances", 0},
	        {"*:*:*", "s3:GetObject", 0},
	        {"rds:*", "rds:CopyDBSnapshot", 1},
	        {"rds:*Snapshot*", "rds:CopyDBSnapshot", 1},
	        {"rds:*Snapshot*", "rds:RestoreDBInstanceFromDBSnapshot", 1},
	        {"rds:*Snapshot*", "rds:DescribeDBInstances", 0},
	        {"rds:*DBSnapshot*", "rds:CopyDBClusterSnapshot", 0},
	        {"rds:*DBClusterSnapshot*", "rds:CopyDBClusterSnapshot", 1},
	        {"rds:Restore*", "rds:RestoreDBInstanceToPointInTime", 1},
	        {"rds:restore*", "rds:RestoreDBClusterFromSnapshot", 1},
	        {"rds:StartExportTask", "rds:StartExportTask", 1},
	        {"rds:StartExport", "rds:StartExportTask", 0},
	        {"rds:Start*Task", "rds:StartExportTask", 1},
	        {"rds:*", "rds-db:connect", 0},
	        {"rds-db:*", "rds-db:connect", 1},
	        {"rds:CopyDBSnapshot", "ec2:CopyDBSnapshot", 0},
	        {"logs:Get*", "logs:GetLogEvents", 1},
	        {"logs:Get*", "logs:FilterLogEvents", 0},
	        {"logs:*Log*", "logs:FilterLogEvents", 1},
	        {"logs:*", "logs:StartQuery", 1},
	        {"backup:*RecoveryPoint*", "backup:GetRecoveryPointRestoreMetadata", 1},
	        {"backup:*RecoveryPoint*", "backup:StartRestoreJob", 0},
	        {"backup:Start*", "backup:StartRestoreJob", 1},
	        {"sts:AssumeRole", "sts:AssumeRoleWithSAML", 0},
	        {"sts:AssumeRole*", "sts:AssumeRoleWithSAML", 1},
	        {"sts:*", "sts:SetSourceIdentity", 1},
	        {"sts:TagSession", "STS:tagsession", 1},
	        {"iam:PassRole", "iam:passrole", 1},
	        {"ec2:*Instances", "ec2:DescribeInstances", 1},
	        {"ec2:*Instances", "ec2:DescribeInstanceStatus", 0},
	        {"ec2:**", "ec2:RunInstances", 1},
	        {"ec2:???Instances", "ec2:RunInstances", 1},
	        {"ec2:???Instances", "ec2:StopInstances", 0},
	        {"kms:Decrypt", "kms:Decrypt:", 0},
	        {"", "s3:GetObject", 0},
	        {"s3:GetObject", "", 0},
	        {"s3GetObject", "s3GetObject", 0},
	        {":GetObject", ":GetObject", 0},
	        {"s3:", "s3:", 0},
	        {"*", "", 0},
	        {"*", "noservice", 0},
	        {"*", ":x", 0},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (ig_iam_action_match(t[i].pattern, t[i].action) != t[i].want)
			fail_msg("row %zu: match(\"%s\", \"%s\") != %d", i, t[i].pattern,
			         t[i].action, t[i].want);
	assert_int_equal(ig_iam_action_match(NULL, "s3:GetObject"), 0);
	assert_int_equal(ig_iam_action_match("s3:*", NULL), 0);
}

static void test_resource_match(void **state)
{
	(void)state;
	assert_int_equal(ig_iam_resource_match("arn:aws:s3:::b/*", "arn:aws:s3:::b/k/x:y"), 1);
	assert_int_equal(ig_iam_resource_match("arn:aws:s3:::B/*", "arn:aws:s3:::b/k"), 0);
	assert_int_equal(ig_iam_resource_match("*", "anything"), 1);
	assert_int_equal(
	        ig_iam_resource_match("arn:aws:logs:*:*:log-group:/aws/rds/*",
	                              "arn:aws:logs:eu-west-1:1:log-group:/aws/rds/i/db/error"),
	        1);
	assert_int_equal(ig_iam_resource_match("arn:aws:rds:eu-west-1:?:db:x",
	                                       "arn:aws:rds:eu-west-1:12:db:x"),
	                 0);
	assert_int_equal(ig_iam_resource_match("arn:aws:rds:eu-west-1:??:db:x",
	                                       "arn:aws:rds:eu-west-1:12:db:x"),
	                 1);
	assert_int_equal(ig_iam_resource_match(NULL, "x"), 0);
}

/* ---------------------------------------------------------------------------
 * Permission policy rules
 */

static void test_clean_policy(void **state)
{
	(void)state;
	assert_int_equal(perm("\"Action\": [\"ec2:DescribeInstances\", \"s3:PutObject\"], "
	                      "\"Resource\": [\"*\", \"arn:aws:s3:::b/*\"]",
	                      0),
	                 1); /* the "*" with a write: one error */
	expect_error("Resource \"*\" on write action \"s3:PutObject\"", 3);
	assert_int_equal(perm("\"Action\": \"ec2:Describe*\", \"Resource\": \"*\"", 0), 0);
	assert_int_equal(NF, 0);
	assert_int_equal(REACH, 0);
}

static void test_action_star(void **state)
{
	(void)state;
	assert_true(perm("\"Action\": \"*\", \"Resource\": \"arn:aws:s3:::b\"", 0) > 0);
	expect_error("Action \"*\" allows every action", 3);
	assert_true(
	        perm("\"Action\": [\"s3:GetObject\", \"*:*\"], \"Resource\": \"arn:aws:s3:::b\"",
	             0) > 0);
	expect_error("Action \"*:*\" allows every action", 3);
	assert_int_equal(perm("\"Action\": \"s3:*\", \"Resource\": \"arn:aws:s3:::b/*\"", 0), 0);
	expect_none("allows every action");
	/* Deny * is fine. */
	assert_int_equal(run("{\"Version\": \"2012-10-17\", \"Statement\": {\"Sid\": \"DenyAll\", "
	                     "\"Effect\": \"Deny\", \"Action\": \"*\", \"Resource\": \"*\"}}",
	                     0, 0),
	                 0);
	assert_int_equal(NF, 0);
}

static void test_notaction_notresource(void **state)
{
	(void)state;
	assert_true(perm("\"NotAction\": \"iam:*\", \"Resource\": \"arn:aws:s3:::b\"", 1) > 0);
	expect_error("NotAction with Effect Allow", 3);
	assert_int_equal(
	        run("{\"Version\": \"2012-10-17\", \"Statement\": [{\"Sid\": \"NoIam\", "
	            "\"Effect\": \"Deny\", \"NotAction\": \"iam:*\", \"Resource\": \"*\"}]}",
	            0, 0),
	        0);
	assert_int_equal(NF, 0);
	/* NotResource: a warning, not an error; and it counts as reaching everything. */
	assert_int_equal(perm("\"Action\": \"ec2:DescribeInstances\", \"NotResource\": \"x\"", 0),
	                 0);
	expect_warning("NotResource with Effect Allow", 3);
	assert_true(perm("\"Action\": \"rds:CopyDBSnapshot\", \"NotResource\": \"x\"", 0) > 0);
	expect_error("reaches customer data", 3);
	/* NotAction reaches what it does not exclude, and only that. */
	perm("\"NotAction\": [\"iam:*\", \"rds:*\", \"logs:*\"], \"Resource\": \"*\"", 0);
	expect_error("(AWS Backup recovery points): backup:StartRestoreJob through \"NotAction\"",
	             3);
	expect_error("(objects in a pii bucket)", 3);
	expect_none("RDS snapshots");
	expect_none("RDS CloudWatch log groups");
	perm("\"NotAction\": [\"rds:*\", \"backup:*\", \"logs:*\", \"s3:*\"], \"Resource\": \"*\"",
	     0);
	expect_none("reaches customer data");
}

static void test_resource_star_write(void **state)
{
	(void)state;
	static const char *const writes[] = {"s3:PutObject",           "ec2:*",
	                                     "ec2:*Instances",         "iam:Create*",
	                                     "ec2:T?rminateInstances", "lambda:InvokeFunction",
	                                     "iam:PassRole",           "ssm:Send*"};
	static const char *const reads[] = {"ec2:Describe*", "s3:GetBucketPolicy", "iam:List*",
	                                    "cloudtrail:LookupEvents",
	                                    "iam:GenerateCredentialReport"};
	static const char *const blankets[] = {"*", "arn:*", "arn:aws:*", "arn:*:*:*:*:*", "**"};
	char body[256];

	for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
		snprintf(body, sizeof(body), "\"Action\": \"%s\", \"Resource\": \"*\"", writes[i]);
		assert_true(perm(body, 1) > 0);
		expect_error("on write action", 3);
		snprintf(body, sizeof(body),
		         "\"Action\": \"%s\", \"Resource\": \"arn:aws:ec2:*:1:x/*\"", writes[i]);
		perm(body, 1);
		expect_none("on write action");
	}
	for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
		snprintf(body, sizeof(body), "\"Action\": \"%s\", \"Resource\": \"*\"", reads[i]);
		assert_int_equal(perm(body, 0), 0);
		expect_none("on write action");
	}
	for (size_t i = 0; i < sizeof(blankets) / sizeof(blankets[0]); i++) {
		snprintf(body, sizeof(body),
		         "\"Action\": \"ec2:StopInstances\", \"Resource\": \"%s\"", blankets[i]);
		assert_true(perm(body, 0) > 0);
		expect_error("on write action \"ec2:StopInstances\" (Stop...)", 3);
	}
	/* A service-wide ARN is not blanket. */
	assert_int_equal(perm("\"Action\": \"s3:PutObject\", \"Resource\": \"arn:aws:s3:::*\"", 0),
	                 0);
	/* The Resource element is the one pointed at. */
	perm("\"Action\": \"s3:PutObject\",\n\"Resource\": [\n\"arn:aws:s3:::b/*\",\n\"*\"]", 0);
	expect_error("Resource \"*\" on write action", 6);
}

static void test_reach_rds(void **state)
{
	(void)state;
	static const char *const reach[] = {
	        "\"Action\": \"rds:CopyDBSnapshot\", \"Resource\": "
	        "\"arn:aws:rds:eu-west-1:1:snapshot:prod\"",
	        "\"Action\": \"rds:*\", \"Resource\": \"arn:aws:rds:*:*:snapshot:*\"",
	        "\"Action\": \"rds:*Snapshot*\", \"Resource\": \"arn:aws:rds:eu-west-1:1:db:x\"",
	        "\"Action\": \"rds:Restore*\", \"Resource\": \"arn:aws:rds:eu-west-1:1:*\"",
	        "\"Action\": \"rds:StartExportTask\", \"Resource\": \"arn:aws:rds:*:*:*\"",
	        "\"Action\": \"RDS:modifydbsnapshotattribute\", \"Resource\": "
	        "\"arn:aws:rds:*:*:*\"",
	        "\"Action\": \"rds:*ClusterSnapshot*\", \"Resource\": "
	        "\"arn:aws:rds:*:*:cluster-snapshot:*\"",
	        "\"Action\": \"rds:Download*\", \"Resource\": \"arn:aws:rds:*:1:db:prod\"",
	        "\"Action\": \"rds:CopyDBSnapshot\", \"Resource\": "
	        "\"arn:aws:rds:*:1:${aws:username}\"",
	};
	static const char *const noreach[] = {
	        "\"Action\": \"rds:DescribeDBSnapshots\", \"Resource\": \"*\"",
	        "\"Action\": \"rds:CreateDBSnapshot\", \"Resource\": \"arn:aws:rds:*:1:db:x\"",
	        "\"Action\": \"rds:CopyDBSnapshot\", \"Resource\": \"arn:aws:s3:::x\"",
	        "\"Action\": \"rds:Describe*\", \"Resource\": \"*\"",
	        "\"Action\": \"ec2:CopySnapshot\", \"Resource\": \"arn:aws:ec2:*::snapshot/*\"",
	};

	for (size_t i = 0; i < sizeof(reach) / sizeof(reach[0]); i++) {
		if (perm(reach[i], 0) < 1 ||
		    count(IG_POLICY_ERROR, "reaches customer data", 3) == 0) {
			dump();
			fail_msg("no reach for %s", reach[i]);
		}
		assert_int_equal(REACH, 1);
		/* The same statement is fine for a pii role, and counts as its reach. */
		perm(reach[i], 1);
		expect_none("reaches customer data");
		assert_int_equal(REACH, 1);
	}
	for (size_t i = 0; i < sizeof(noreach) / sizeof(noreach[0]); i++) {
		perm(noreach[i], 0);
		expect_none("reaches customer data");
		assert_int_equal(REACH, 0);
	}
	perm("\"Action\": \"rds:*\", \"Resource\": \"arn:aws:rds:*:*:*\"", 0);
	expect_error("(RDS snapshots, exports and restores): rds:CopyDBSnapshot through \"rds:*\"",
	             3);
	expect_error("(RDS database log files)", 3);
}

static void test_reach_backup(void **state)
{
	(void)state;
	assert_true(perm("\"Action\": \"backup:StartRestoreJob\", \"Resource\": "
	                 "\"arn:aws:backup:eu-west-1:1:recovery-point:*\"",
	                 0) > 0);
	expect_error("(AWS Backup recovery points): backup:StartRestoreJob", 3);
	assert_true(perm("\"Action\": \"backup:*RecoveryPoint*\", \"Resource\": \"*\"", 0) > 0);
	expect_error("backup:GetRecoveryPointRestoreMetadata", 3);
	perm("\"Action\": [\"backup:List*\", \"backup:Describe*\"], \"Resource\": \"*\"", 0);
	expect_none("reaches customer data");
}

static void test_reach_s3(void **state)
{
	(void)state;
	static const char *const reach[] = {
	        "\"Action\": \"s3:GetObject\", \"Resource\": "
	        "\"arn:aws:s3:::acme-prod-rds-exports/*\"",
	        "\"Action\": \"s3:Get*\", \"Resource\": \"*\"",
	        "\"Action\": \"s3:GetObjectVersion\", \"Resource\": "
	        "\"arn:aws:s3:::acme-*/x.parquet\"",
	        "\"Action\": \"s3:GetObject\", \"Resource\": "
	        "\"arn:aws:s3:::acme-backup-eu/2024/*\"",
	        "\"Action\": \"s3:PutBucketPolicy\", \"Resource\": "
	        "\"arn:aws:s3:::acme-prod-rds-exports\"",
	        "\"Action\": \"s3:*\", \"Resource\": \"arn:aws:s3:::acme-backup-us\"",
	        "\"Action\": \"s3:GetObject\", \"Resource\": "
	        "\"arn:aws:s3:::acme-prod-rds-export?/k\"",
	};
	static const char *const noreach[] = {
	        "\"Action\": \"s3:GetObject\", \"Resource\": "
	        "\"arn:aws:s3:::acme-prod-rds-exports-public/*\"",
	        "\"Action\": \"s3:GetObject\", \"Resource\": "
	        "\"arn:aws:s3:::acme-prod-rds-exports\"",
	        "\"Action\": \"s3:ListBucket\", \"Resource\": "
	        "\"arn:aws:s3:::acme-prod-rds-exports\"",
	        "\"Action\": \"s3:PutObject\", \"Resource\": "
	        "\"arn:aws:s3:::acme-prod-rds-exports/*\"",
	        "\"Action\": \"s3:GetObject\", \"Resource\": \"arn:aws:s3:::acme-dev-artifacts/*\"",
	        "\"Action\": \"s3:GetObject\", \"Resource\": \"arn:aws:s3:::acme-backup/*\"",
	};

	for (size_t i = 0; i < sizeof(reach) / sizeof(reach[0]); i++) {
		if (perm(reach[i], 0) < 1 || count(IG_POLICY_ERROR, "pii bucket", 3) == 0) {
			dump();
			fail_msg("no reach for %s", reach[i]);
		}
	}
	for (size_t i = 0; i < sizeof(noreach) / sizeof(noreach[0]); i++) {
		perm(noreach[i], 0);
		expect_none("reaches customer data");
	}
	/* No buckets configured: S3 cannot reach. */
	struct ig_policy_opts o = opts();
	o.n_pii_buckets = 0;
	run_o(&o,
	      "{\"Version\": \"2012-10-17\", \"Statement\": [{\"Sid\": \"Read\", \"Effect\": "
	      "\"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"*\"}]}",
	      0, 0);
	expect_none("reaches customer data");
}

static void test_reach_logs(void **state)
{
	(void)state;
	static const char *const reach[] = {
	        "\"Action\": \"logs:Get*\", \"Resource\": "
	        "\"arn:aws:logs:eu-west-1:1:log-group:/aws/rds/*\"",
	        "\"Action\": \"logs:FilterLogEvents\", \"Resource\": \"*\"",
	        "\"Action\": \"logs:StartQuery\", \"Resource\": "
	        "\"arn:aws:logs:*:*:log-group:/aws/rds/instance/db/slowquery\"",
	        "\"Action\": \"logs:GetLogEvents\", \"Resource\": "
	        "\"arn:aws:logs:*:*:log-group:/aws/rds/instance/db/error:*\"",
	        "\"Action\": \"logs:*\", \"Resource\": \"arn:aws:logs:*:*:log-group:*\"",
	        "\"Action\": \"logs:GetLogEvents\", \"Resource\": \"arn:aws:logs:*\"",
	        "\"Action\": \"logs:GetLogEvents\", \"Resource\": "
	        "\"arn:aws:logs:*:*:log-group:/aws/rds/cluster/c/general:log-stream:i-1\"",
	        "\"Action\": \"logs:FilterLogEvents\", \"Resource\": "
	        "\"arn:aws:logs:*:*:log-group:${aws:PrincipalTag/group}\"",
	};
	static const char *const noreach[] = {
	        "\"Action\": \"logs:GetLogEvents\", \"Resource\": "
	        "\"arn:aws:logs:*:*:log-group:/aws/lambda/*\"",
	        "\"Action\": \"logs:*\", \"Resource\": "
	        "\"arn:aws:logs:*:*:log-group:/aws/lambda/*:log-stream:*\"",
	        "\"Action\": \"logs:DescribeLogGroups\", \"Resource\": \"*\"",
	        "\"Action\": \"logs:GetLogEvents\", \"Resource\": "
	        "\"arn:aws:logs:*:*:log-group:/aws/rdsx/*\"",
	        "\"Action\": \"logs:GetLogEvents\", \"Resource\": \"arn:aws:s3:::aws/rds/*\"",
	};

	for (size_t i = 0; i < sizeof(reach) / sizeof(reach[0]); i++) {
		if (perm(reach[i], 0) < 1 ||
		    count(IG_POLICY_ERROR, "(RDS CloudWatch log groups)", 3) == 0) {
			dump();
			fail_msg("no reach for %s", reach[i]);
		}
	}
	for (size_t i = 0; i < sizeof(noreach) / sizeof(noreach[0]); i++) {
		perm(noreach[i], 0);
		if (count(IG_POLICY_ERROR, "reaches customer data", 0) != 0) {
			dump();
			fail_msg("false reach for %s", noreach[i]);
		}
	}
}

static void test_sids(void **state)
{
	(void)state;
	const char *nosid =
	        "{\"Version\": \"2012-10-17\",\n\"Statement\": [\n{\"Effect\": \"Allow\", "
	        "\"Action\": \"s3:GetObject\", \"Resource\": \"arn:aws:s3:::b/*\"}]}";
	const char *badsid =
	        "{\"Version\": \"2012-10-17\",\n\"Statement\": [\n{\"Sid\": \"read_b\",\n"
	        "\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": "
	        "\"arn:aws:s3:::b/*\"}]}";
	const char *dup = "{\"Version\": \"2012-10-17\", \"Statement\": [\n{\"Sid\": \"ReadB\", "
	                  "\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": "
	                  "\"arn:aws:s3:::b/*\"},\n{\"Sid\": \"ReadB\", \"Effect\": \"Deny\", "
	                  "\"Action\": \"s3:PutObject\", \"Resource\": \"arn:aws:s3:::b/*\"}]}";
	struct ig_policy_opts o = opts();

	assert_int_equal(run(nosid, 0, 0), 1);
	expect_error("statement has no Sid", 3);
	assert_int_equal(run(badsid, 0, 0), 1);
	expect_error("Sid \"read_b\" does not match the Sid naming rule ^[A-Z][A-Za-z0-9]+$", 3);
	assert_int_equal(run(dup, 0, 0), 1);
	expect_error("duplicate Sid \"ReadB\"", 3);
	/* Deny statements need Sids too. */
	assert_int_equal(run("{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Deny\", "
	                     "\"Action\": \"*\", \"Resource\": \"*\"}]}",
	                     0, 0),
	                 1);
	expect_error("no Sid", 1);
	/* A configured pattern replaces the default. */
	o.sid_pattern = "^[a-z_]+$";
	assert_int_equal(run_o(&o, badsid, 0, 0), 0);
	o.sid_pattern = "^[a-z]+$";
	assert_int_equal(run_o(&o, badsid, 0, 0), 1);
	expect_error("naming rule ^[a-z]+$", 3);
	o.sid_pattern = "(";
	assert_int_equal(run_o(&o, badsid, 0, 0), IG_ERR_CONFIG);
	/* Non-string and hostile Sids. */
	assert_int_equal(perm("\"Action\": \"s3:GetObject\", \"Resource\": \"arn:aws:s3:::b/*\", "
	                      "\"Sid\": 5",
	                      0),
	                 1);
	assert_int_equal(run("{\"Version\": \"2012-10-17\", \"Statement\": [{\"Sid\": \"A\\nb:1: "
	                     "error: forged\\u0007\", \"Effect\": \"Allow\", \"Action\": "
	                     "\"s3:GetObject\", \"Resource\": \"arn:aws:s3:::b/*\"}]}",
	                     0, 0),
	                 1);
	expect_error("Sid \"A?b:1: error: forged?\"", 1);
}

static void test_structure_errors(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		const char *msg;
		int line;
	} t[] = {
	        {"{\n\"Statement\": [\n{\"Sid\": \"Ab\",\n}]}", "malformed JSON", 4},
	        {"{\"Statement\": [], \"Statement\": []}", "duplicate", 1},
	        {"[1]", "not an IAM policy document", 1},
	        {"\"str\"", "malformed JSON", 1},
	        {"{\"Version\": \"2012-10-17\"}", "no Statement", 1},
	        {"{\"Version\": \"2012-10-17\", \"Statement\": []}", "Statement is empty", 1},
	        {"{\"Version\": \"2012-10-17\", \"Statement\": 7}", "Statement must be", 1},
	        {"{\"Version\": \"2012-10-17\", \"Statement\": [7]}", "statement must be an object",
	         1},
	        {"{\"Version\": \"1.0\", \"Statement\": []}", "Version must be", 1},
	        {"{\"Version\": \"2012-10-17\",\n\"Extra\": 1, \"Statement\": []}",
	         "unknown key \"Extra\" in policy document", 2},
	        {"{\"Version\": \"2012-10-17\", \"Statement\": [{\"Sid\": \"Ab\",\n\"Effect\": "
	         "\"allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"*\"}]}",
	         "Effect must be", 2},
	        {"{\"Version\": \"2012-10-17\", \"Statement\": [{\"Sid\": \"Ab\", \"Action\": "
	         "\"s3:GetObject\", \"Resource\": \"*\"}]}",
	         "Effect must be", 1},
	        {"{\"Version\": \"2012-10-17\", \"Statement\": [{\"Sid\": \"Ab\", \"Effect\": "
	         "\"Allow\", \"Resource\": \"*\"}]}",
	         "exactly one of Action and NotAction", 1},
	        {"{\"Version\": \"2012-10-17\", \"Statement\": [{\"Sid\": \"Ab\", \"Effect\": "
	         "\"Allow\", \"Action\": \"s3:GetObject\"}]}",
	         "exactly one of Resource and NotResource", 1},
	        {"{\"Version\": \"2012-10-17\", \"Statement\": [{\"Sid\": \"Ab\", \"Effect\": "
	         "\"Allow\", \"Action\": [], \"Resource\": \"*\"}]}",
	         "Action must be a string or a non-empty array", 1},
	        {"{\"Version\": \"2012-10-17\", \"Statement\": [{\"Sid\": \"Ab\", \"Effect\": "
	         "\"Allow\", \"Action\": [\"s3:GetObject\",\n 5], \"Resource\": \"*\"}]}",
	         "Action[1] must be a string", 2},
	        {"{\"Version\": \"2012-10-17\", \"Statement\": [{\"Sid\": \"Ab\", \"Effect\": "
	         "\"Allow\", \"Action\": \"s3GetObject\", \"Resource\": \"*\"}]}",
	         "malformed action \"s3GetObject\"", 1},
	        {"{\"Version\": \"2012-10-17\", \"Statement\": [{\"Sid\": \"Ab\", \"Effect\": "
	         "\"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"*\",\n\"Principal\": "
	         "\"*\"}]}",
	         "Principal in a permission policy", 2},
	        {"{\"Version\": \"2012-10-17\", \"Statement\": [{\"Sid\": \"Ab\", \"Effect\": "
	         "\"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"*\",\n\"Conditoin\": "
	         "{}}]}",
	         "unknown key \"Conditoin\" in statement", 2},
	        {"{\"Version\": \"2012-10-17\", \"Statement\": [{\"Sid\": \"Ab\", \"Effect\": "
	         "\"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"*\", \"Condition\": "
	         "{\"StringEquals\": 1}}]}",
	         "operator block must be an object", 1},
	        {"{\"Role\": {\"AssumeRolePolicyDocument\": {}}}", "not an IAM policy document", 1},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int r = run(t[i].text, 0, 0);
		if (r < 1 || count(IG_POLICY_ERROR, t[i].msg, t[i].line) == 0) {
			dump();
			fail_msg("case %zu: r=%d, want \"%s\" at line %d", i, r, t[i].msg,
			         t[i].line);
		}
	}
	/* Thousands of findings: all counted, the first 100 shown, then one notice. */
	{
		size_t cap = 200 * 80 + 100, o = 0;
		char *big = malloc(cap);
		assert_non_null(big);
		o += (size_t)snprintf(big, cap, "{\"Version\": \"2012-10-17\", \"Statement\": [");
		for (int i = 0; i < 200; i++)
			o += (size_t)snprintf(
			        big + o, cap - o,
			        "%s\n{\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", "
			        "\"Resource\": \"arn:aws:s3:::b/*\"}",
			        i ? "," : "");
		o += (size_t)snprintf(big + o, cap - o, "]}");
		assert_true(o < cap);
		assert_int_equal(run(big, 0, 0), 200);
		assert_int_equal(NF, 101);
		assert_int_equal(count(IG_POLICY_ERROR, "no Sid", 0), 100);
		assert_int_equal(F[99].line, 101); /* statement i is on line i + 2 */
		expect_warning("counted but not shown", 1);
		free(big);
	}
	/* No Version: a warning only. */
	assert_int_equal(
	        run("{\"Statement\": [{\"Sid\": \"Ab\", \"Effect\": \"Allow\", \"Action\": "
	            "\"s3:GetObject\", \"Resource\": \"arn:aws:s3:::b/*\"}]}",
	            0, 0),
	        0);
	expect_warning("no Version", 1);
}

/* ---------------------------------------------------------------------------
 * Trust policies
 */

static int trust_doc(const char *principal, const char *actions, const char *condition, int pii)
{
	char buf[4096];

	snprintf(buf, sizeof(buf),
	         "{\n"
	         "  \"Version\": \"2012-10-17\",\n"
	         "  \"Statement\": [\n"
	         "    {\n"
	         "      \"Sid\": \"Bastion\",\n"
	         "      \"Effect\": \"Allow\",\n"
	         "      \"Principal\": %s,\n"
	         "      \"Action\": %s%s%s\n"
	         "    }\n"
	         "  ]\n"
	         "}\n",
	         principal, actions, condition ? ",\n      \"Condition\": " : "",
	         condition ? condition : "");
	return run(buf, pii, 1);
}

#define P_BASTION "{\"AWS\": \"" BASTION "\"}"
#define A_ALL "[\"sts:AssumeRole\", \"sts:SetSourceIdentity\", \"sts:TagSession\"]"
#define C_GOOD                                                                                     \
	"{\"StringLike\": {\"sts:SourceIdentity\": \"?*\", \"aws:RequestTag/bastion-source-ip\": " \
	"\"203.0.113.*\"}}"

static void test_trust_good(void **state)
{
	(void)state;
	assert_int_equal(trust_doc(P_BASTION, A_ALL, C_GOOD, 1), 0);
	assert_int_equal(NF, 0);
	assert_int_equal(trust_doc(P_BASTION, A_ALL, C_GOOD, 0), 0);
	assert_int_equal(NF, 0);
	/* Array principal, sts:* (not blanket), alternative keys, case-insensitive keys. */
	assert_int_equal(trust_doc("{\"AWS\": [\"" BASTION "\"]}", "\"sts:*\"",
	                           "{\"StringEquals\": {\"AWS:PrincipalTag/Bastion-Source-Ip\": "
	                           "\"x\"}, \"Null\": {\"aws:SourceIdentity\": \"false\"}}",
	                           1),
	                 0);
	assert_int_equal(NF, 0);
	/* The trust policy may also be `aws iam get-role` output. */
	const char *getrole =
	        "{\"Role\": {\"RoleName\": \"r\", \"AssumeRolePolicyDocument\": {\"Version\": "
	        "\"2012-10-17\", \"Statement\": [{\"Sid\": \"Bastion\", \"Effect\": \"Allow\", "
	        "\"Principal\": " P_BASTION ", \"Action\": " A_ALL ", \"Condition\": " C_GOOD
	        "}]}}}";
	assert_int_equal(run(getrole, 1, 1), 0);
	assert_int_equal(NF, 0);
}

static void test_trust_principals(void **state)
{
	(void)state;
	static const struct {
		const char *principal, *msg;
	} t[] = {
	        {"\"*\"", "trusts any principal (\"*\")"},
	        {"{\"AWS\": \"*\"}", "trusts any AWS principal"},
	        {"{\"AWS\": [\"" BASTION "\", \"arn:aws:iam::444455556666:root\"]}",
	         "trusts account \"arn:aws:iam::444455556666:root\""},
	        {"{\"AWS\": [\"" BASTION "\", \"999988887777\"]}",
	         "trusts account \"999988887777\""},
	        {"{\"AWS\": [\"" BASTION "\", \"arn:aws:iam::111122223333:role/other\"]}",
	         "trusts principal \"arn:aws:iam::111122223333:role/other\""},
	        {"{\"AWS\": \"" BASTION "\", \"Service\": \"ec2.amazonaws.com\"}",
	         "trusts Service principal \"ec2.amazonaws.com\""},
	        {"{\"AWS\": \"" BASTION "\", \"Federated\": \"cognito-identity.amazonaws.com\"}",
	         "trusts Federated principal"},
	        {"{\"AWS\": \"" BASTION "\", \"Robot\": \"x\"}",
	         "unknown principal type \"Robot\""},
	        {"7", "Principal must be"},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (trust_doc(t[i].principal, A_ALL, C_GOOD, 1) < 1 ||
		    count(IG_POLICY_ERROR, t[i].msg, 0) == 0) {
			dump();
			fail_msg("case %zu: want \"%s\"", i, t[i].msg);
		}
	}
	/* The wrong role only: the bastion is not trusted at all. */
	assert_true(trust_doc("{\"AWS\": \"arn:aws:iam::111122223333:role/iamgate-bastion2\"}",
	                      A_ALL, C_GOOD, 0) > 0);
	expect_error("trusts principal", 7);
	expect_error("does not allow the bastion role", 3);
	/* NotPrincipal with Allow. */
	assert_true(
	        run("{\"Version\": \"2012-10-17\", \"Statement\": [{\"Sid\": \"Ab\", \"Effect\": "
	            "\"Allow\", \"NotPrincipal\": {\"AWS\": \"x\"}, \"Action\": \"sts:*\"}]}",
	            0, 1) > 0);
	expect_error("NotPrincipal with Effect Allow", 1);
	/* No Principal. */
	assert_true(
	        run("{\"Version\": \"2012-10-17\", \"Statement\": [{\"Sid\": \"Ab\", \"Effect\": "
	            "\"Allow\", \"Action\": \"sts:AssumeRole\"}]}",
	            0, 1) > 0);
	expect_error("trust statement has no Principal", 1);
	/* A Resource in a trust policy. */
	assert_true(
	        run("{\"Version\": \"2012-10-17\", \"Statement\": [{\"Sid\": \"Ab\", \"Effect\": "
	            "\"Allow\", \"Principal\": " P_BASTION ", \"Action\": " A_ALL
	            ", \"Resource\": \"*\", \"Condition\": " C_GOOD "}]}",
	            1, 1) > 0);
	expect_error("Resource in a trust policy", 1);
	/* Deny statements may name anyone. */
	assert_int_equal(run("{\"Version\": \"2012-10-17\", \"Statement\": [{\"Sid\": \"Ab\", "
	                     "\"Effect\": \"Allow\", \"Principal\": " P_BASTION
	                     ", \"Action\": " A_ALL ", \"Condition\": " C_GOOD
	                     "}, {\"Sid\": \"NoOne\", \"Effect\": \"Deny\", \"Principal\": \"*\", "
	                     "\"Action\": \"sts:*\", \"Condition\": {\"Bool\": {\"aws:x\": "
	                     "\"true\"}}}]}",
	                     1, 1),
	                 0);
}

static void test_trust_actions(void **state)
{
	(void)state;
	assert_int_equal(
	        trust_doc(P_BASTION, "[\"sts:AssumeRole\", \"sts:TagSession\"]", C_GOOD, 0), 1);
	expect_error("does not allow sts:SetSourceIdentity", 3);
	assert_int_equal(
	        trust_doc(P_BASTION, "[\"sts:AssumeRole\", \"sts:SetSourceIdentity\"]", C_GOOD, 0),
	        1);
	expect_error("does not allow sts:TagSession", 3);
	assert_int_equal(
	        trust_doc(P_BASTION, "[\"sts:SetSourceIdentity\", \"sts:TagSession\"]", C_GOOD, 0),
	        1);
	expect_error("does not allow the bastion role " BASTION " to sts:AssumeRole", 3);
	assert_true(trust_doc(P_BASTION, "\"*\"", C_GOOD, 0) > 0);
	expect_error("Action \"*\" allows every action", 8);
	/* sts:AssumeRoleWithSAML is not sts:AssumeRole. */
	assert_true(trust_doc(P_BASTION,
	                      "[\"sts:AssumeRoleWithSAML\", \"sts:SetSourceIdentity\", "
	                      "\"sts:TagSession\"]",
	                      C_GOOD, 0) > 0);
	expect_error("to sts:AssumeRole", 3);
}

static void test_trust_pii_conditions(void **state)
{
	(void)state;
	static const struct {
		const char *cond;
		int tag_ok, sid_ok;
	} t[] = {
	        {NULL, 0, 0},
	        {C_GOOD, 1, 1},
	        {"{\"StringLike\": {\"sts:SourceIdentity\": \"?*\"}}", 0, 1},
	        {"{\"StringLike\": {\"aws:RequestTag/bastion-source-ip\": \"1.*\"}}", 1, 0},
	        {"{\"StringLikeIfExists\": {\"aws:RequestTag/bastion-source-ip\": \"1.*\", "
	         "\"sts:SourceIdentity\": \"?*\"}}",
	         0, 0},
	        {"{\"ForAllValues:StringLike\": {\"aws:RequestTag/bastion-source-ip\": \"1.*\"}, "
	         "\"ForAnyValue:StringLike\": {\"sts:SourceIdentity\": \"?*\"}}",
	         0, 1},
	        {"{\"Null\": {\"aws:RequestTag/bastion-source-ip\": \"true\", "
	         "\"sts:SourceIdentity\": "
	         "false}}",
	         0, 1},
	        {"{\"Null\": {\"aws:RequestTag/bastion-source-ip\": \"false\", "
	         "\"aws:SourceIdentity\": true}}",
	         1, 0},
	        {"{\"StringLike\": {\"aws:RequestTag/bastion-user\": \"?*\", \"aws:SourceIp\": "
	         "\"1.2.3.4\"}}",
	         0, 0},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int r = trust_doc(P_BASTION, A_ALL, t[i].cond, 1);
		size_t tag = count(IG_POLICY_ERROR, "bastion-source-ip session tag", 4);
		size_t sid = count(IG_POLICY_ERROR, "requiring the source identity", 4);
		if (r != (!t[i].tag_ok) + (!t[i].sid_ok) || (tag == 0) != t[i].tag_ok ||
		    (sid == 0) != t[i].sid_ok) {
			dump();
			fail_msg("case %zu: r=%d tag=%zu sid=%zu", i, r, tag, sid);
		}
		/* For a non-pii role only a missing source identity is reported, as a warning. */
		assert_int_equal(trust_doc(P_BASTION, A_ALL, t[i].cond, 0), 0);
		assert_int_equal(count(IG_POLICY_WARNING, "source identity", 4), !t[i].sid_ok);
	}
	/* A second, unconditioned AssumeRole statement is reported at its own line. */
	const char *two = "{\"Version\": \"2012-10-17\", \"Statement\": [\n"
	                  "{\"Sid\": \"Good\", \"Effect\": \"Allow\", \"Principal\": " P_BASTION
	                  ", \"Action\": " A_ALL ", \"Condition\": " C_GOOD "},\n"
	                  "{\"Sid\": \"Loose\", \"Effect\": \"Allow\", \"Principal\": " P_BASTION
	                  ", \"Action\": \"sts:AssumeRole\"}]}";
	assert_int_equal(run(two, 1, 1), 2);
	expect_error("bastion-source-ip session tag", 3);
	expect_error("requiring the source identity", 3);
}

/* ---------------------------------------------------------------------------
 * CLI output wrappers
 */

static void test_wrappers(void **state)
{
	(void)state;
	const char *grp =
	        "{\n  \"RoleName\": \"r\",\n  \"PolicyName\": \"p\",\n"
	        "  \"PolicyDocument\": {\n    \"Version\": \"2012-10-17\",\n"
	        "    \"Statement\": [\n      {\n        \"Sid\": \"Copy\",\n"
	        "        \"Effect\": \"Allow\",\n"
	        "        \"Action\": \"rds:CopyDBSnapshot\",\n"
	        "        \"Resource\": \"arn:aws:rds:*:*:snapshot:*\"\n      }\n    ]\n  }\n}\n";
	const char *gpv =
	        "{\n  \"PolicyVersion\": {\n    \"Document\": {\n"
	        "      \"Version\": \"2012-10-17\",\n      \"Statement\": [\n"
	        "        {\"Sid\": \"Logs\", \"Effect\": \"Allow\", \"Action\": \"logs:*\", "
	        "\"Resource\": \"*\"}\n      ]\n    },\n"
	        "    \"VersionId\": \"v3\",\n    \"IsDefaultVersion\": true\n  }\n}\n";
	/* IAM's API form: a URL-encoded string (on line 3). */
	const char *enc =
	        "{\n\"PolicyName\": \"p\",\n\"PolicyDocument\": \"%7B%22Version%22%3A%22"
	        "2012-10-17%22%2C%22Statement%22%3A%5B%7B%22Sid%22%3A%22Restore%22%2C%22"
	        "Effect%22%3A%22Allow%22%2C%22Action%22%3A%22backup%3AStartRestoreJob%22%2C"
	        "%22Resource%22%3A%22*%22%7D%5D%7D\"\n}";
	const char *plainstr = "{\"PolicyVersion\": {\"Document\": \"{\\\"Version\\\": "
	                       "\\\"2012-10-17\\\", \\\"Statement\\\": [{\\\"Effect\\\": "
	                       "\\\"Allow\\\", \\\"Action\\\": \\\"s3:GetObject\\\", "
	                       "\\\"Resource\\\": \\\"arn:aws:s3:::b/*\\\"}]}\"}}";

	assert_int_equal(run(grp, 0, 0), 1);
	expect_error("rds:CopyDBSnapshot through \"rds:CopyDBSnapshot\"", 10);
	assert_int_equal(run(gpv, 0, 0), 2);
	expect_error("(RDS CloudWatch log groups)", 6);
	expect_error("Resource \"*\" on write action \"logs:*\" (any write verb)", 6);
	assert_int_equal(run(enc, 0, 0), 2);
	expect_error("(AWS Backup recovery points): backup:StartRestoreJob", 3);
	expect_error("on write action \"backup:StartRestoreJob\"", 3);
	assert_int_equal(run(enc, 1, 0), 1); /* pii: only the write on "*" remains */
	assert_int_equal(REACH, 1);
	assert_int_equal(run(plainstr, 0, 0), 1);
	expect_error("statement has no Sid", 1);
	assert_int_equal(run("{\"PolicyDocument\": \"%7B%ZZ\"}", 0, 0), 1);
	expect_error("neither JSON nor URL-encoded JSON", 1);
	assert_int_equal(run("{\"PolicyDocument\": \"%7B%22Version%22\"}", 0, 0), 1);
	expect_error("malformed JSON in the policy document string", 1);
	assert_int_equal(run("{\"PolicyDocument\": 5}", 0, 0), 1);
	expect_error("policy document must be a JSON object", 1);
	assert_int_equal(run("{\"RoleName\": \"r\"}", 0, 0), 1);
	expect_error("not an IAM policy document", 1);
}

/* ---------------------------------------------------------------------------
 * Directories
 */

static char tmpdir[4096];

static void put(const char *rel, const char *text)
{
	char path[8192];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void mk(const char *rel)
{
	char path[8192];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Remove our own mkdtemp tree; FTW_PHYS never follows the symlinks we made. */
static void rm_rf(const char *dir)
{
	assert_int_equal(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

#define GOOD_TRUST                                                                                 \
	"{\"Version\": \"2012-10-17\", \"Statement\": [{\"Sid\": \"Bastion\", \"Effect\": "        \
	"\"Allow\", \"Principal\": " P_BASTION ", \"Action\": " A_ALL ", \"Condition\": " C_GOOD   \
	"}]}"
#define READ_POLICY                                                                                \
	"{\"Version\": \"2012-10-17\", \"Statement\": [{\"Sid\": \"Read\", \"Effect\": "           \
	"\"Allow\", "                                                                              \
	"\"Action\": \"ec2:Describe*\", \"Resource\": \"*\"}]}"
#define PII_POLICY                                                                                 \
	"{\"Version\": \"2012-10-17\", \"Statement\": [{\"Sid\": \"Restore\", \"Effect\": "        \
	"\"Allow\", \"Action\": \"rds:RestoreDBInstanceFromDBSnapshot\", \"Resource\": "           \
	"\"arn:aws:rds:eu-west-1:1:snapshot:prod-*\"}]}"

static int dir_setup(void **state)
{
	(void)state;
	assert_int_equal(
	        ig_bfmt(tmpdir, sizeof(tmpdir), "%s/build/test-policy-XXXXXX", IG_SOURCE_DIR), 0);
	mkdir(IG_SOURCE_DIR "/build", 0755);
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int dir_teardown(void **state)
{
	(void)state;
	rm_rf(tmpdir);
	return 0;
}

static int check_dir(const struct ig_policy_role *roles, size_t n)
{
	struct ig_policy_opts o = opts();

	o.dir = tmpdir;
	NF = 0;
	return ig_policy_check(&o, roles, n, capture, NULL);
}

static void test_dir_rules(void **state)
{
	(void)state;
	char path[8192], target[8192];
	struct ig_policy_role good[] = {{"reader", NULL, 0}, {"pii", NULL, 1}};
	struct ig_policy_role missing[] = {{"ghost", NULL, 0}};
	struct ig_policy_role notrust[] = {{"notrust", NULL, 0}};
	struct ig_policy_role idle[] = {{"idlepii", NULL, 1}};
	struct ig_policy_role links[] = {{"links", NULL, 0}, {"linkdir", NULL, 0}};
	struct ig_policy_role big[] = {{"big", NULL, 0}};
	struct ig_policy_role empty[] = {{"empty", NULL, 0}};
	struct ig_policy_role wrongpii[] = {{"wrongpii", NULL, 0}};

	mk("reader");
	put("reader/trust.json", GOOD_TRUST);
	put("reader/read.json", READ_POLICY);
	put("reader/README.md", "not json, ignored");
	put("reader/.hidden.json", "{ not even json");
	mk("pii");
	put("pii/trust.json", GOOD_TRUST);
	put("pii/a.json", READ_POLICY);
	put("pii/b.json", PII_POLICY);
	assert_int_equal(check_dir(good, 2), 0);
	if (NF != 0) {
		dump();
		fail();
	}

	assert_int_equal(check_dir(missing, 1), 1);
	snprintf(path, sizeof(path), "%s/ghost", tmpdir);
	assert_string_equal(F[0].file, path);
	assert_int_equal(F[0].line, 0);
	expect_error("no policy directory for role \"ghost\": expected ", 0);
	assert_non_null(strstr(F[0].msg, path));

	mk("notrust");
	put("notrust/read.json", READ_POLICY);
	assert_int_equal(check_dir(notrust, 1), 1);
	expect_error("has no trust policy: expected ", 0);
	assert_non_null(strstr(F[0].msg, "notrust/trust.json"));

	mk("idlepii");
	put("idlepii/trust.json", GOOD_TRUST);
	put("idlepii/read.json", READ_POLICY);
	assert_int_equal(check_dir(idle, 1), 0);
	expect_warning("is marked pii but none of its policies reach customer data", 0);

	mk("empty");
	put("empty/trust.json", GOOD_TRUST);
	assert_int_equal(check_dir(empty, 1), 0);
	expect_warning("no permission policy", 0);

	mk("wrongpii");
	put("wrongpii/trust.json", GOOD_TRUST);
	put("wrongpii/x.json", PII_POLICY);
	assert_int_equal(check_dir(wrongpii, 1), 1);
	expect_error("role \"wrongpii\" is not marked pii", 1);
	snprintf(path, sizeof(path), "%s/wrongpii/x.json", tmpdir);
	assert_string_equal(F[0].file, path);

	/* Symbolic links are refused: a policy file and a role directory. */
	mk("links");
	put("links/trust.json", GOOD_TRUST);
	snprintf(path, sizeof(path), "%s/links/evil.json", tmpdir);
	snprintf(target, sizeof(target), "%s/reader/read.json", tmpdir);
	assert_int_equal(symlink(target, path), 0);
	snprintf(path, sizeof(path), "%s/linkdir", tmpdir);
	snprintf(target, sizeof(target), "%s/reader", tmpdir);
	assert_int_equal(symlink(target, path), 0);
	assert_int_equal(check_dir(links, 2), 2);
	expect_error("is a symbolic link", 0);
	expect_error("not a directory (or a symbolic link)", 0);

	/* Oversized files are refused. */
	mk("big");
	put("big/trust.json", GOOD_TRUST);
	{
		char *huge = malloc(IG_POLICY_MAX_FILE + 2);
		assert_non_null(huge);
		memset(huge, ' ', IG_POLICY_MAX_FILE + 1);
		huge[IG_POLICY_MAX_FILE + 1] = '\0';
		put("big/huge.json", huge);
		free(huge);
	}
	assert_int_equal(check_dir(big, 1), 1);
	expect_error("larger than the limit", 0);
}

static void test_dir_invalid(void **state)
{
	(void)state;
	struct ig_policy_role bad[] = {{"../etc", NULL, 0}};
	struct ig_policy_role ok[] = {{"x", NULL, 0}};
	struct ig_policy_opts o = opts();
	static const char *const badb[] = {"Acme_Bad"};

	assert_int_equal(check_dir(bad, 1), IG_ERR_INVAL);
	o.dir = IG_SOURCE_DIR "/build/does-not-exist-policy";
	assert_int_equal(ig_policy_check(&o, ok, 1, capture, NULL), IG_ERR_NOTFOUND);
	o.dir = tmpdir;
	assert_int_equal(ig_policy_check(&o, ok, 1, NULL, NULL), IG_ERR_INVAL);
	o.bastion_role_arn = NULL;
	assert_int_equal(ig_policy_check(&o, ok, 1, capture, NULL), IG_ERR_INVAL);
	o = opts();
	o.dir = tmpdir;
	o.pii_buckets = badb;
	o.n_pii_buckets = 1;
	assert_int_equal(ig_policy_check(&o, ok, 1, capture, NULL), IG_ERR_INVAL);
	o = opts();
	assert_int_equal(ig_policy_check_text(&o, NULL, "f", "{}", 2, 0, NULL, capture, NULL),
	                 IG_ERR_INVAL);
	assert_int_equal(ig_policy_check_text(NULL, ok, "f", "{}", 2, 0, NULL, capture, NULL),
	                 IG_ERR_INVAL);
	assert_int_equal(ig_policy_check(&o, ok, 1, capture, NULL), IG_ERR_INVAL); /* no dir */
}

/* The shipped examples pass: the analyser and config/iam agree. */
static void test_examples(void **state)
{
	(void)state;
	static const struct ig_policy_role roles[] = {
	        {"prod-app-developer", NULL, 0},  {"prod-app-operator", NULL, 0},
	        {"prod-infrastructure", NULL, 0}, {"prod-emergency-maintenance", NULL, 0},
	        {"prod-pii-access", NULL, 1},     {"prod-iam-admin", NULL, 0},
	        {"prod-kms-admin", NULL, 0},      {"prod-readonly-auditor", NULL, 0},
	        {"dev-app-developer", NULL, 0},   {"dev-infrastructure", NULL, 0},
	};
	static const char *const b[] = {"acme-prod-rds-exports", "acme-prod-backups"};
	struct ig_policy_opts o = opts();

	o.dir = IG_SOURCE_DIR "/config/iam";
	o.pii_buckets = b;
	NF = 0;
	assert_int_equal(
	        ig_policy_check(&o, roles, sizeof(roles) / sizeof(roles[0]), capture, NULL), 0);
	if (NF != 0) {
		dump();
		fail();
	}
	/* Marking the PII role non-pii is caught. */
	struct ig_policy_role flipped = {"prod-pii-access", NULL, 0};
	assert_true(ig_policy_check(&o, &flipped, 1, capture, NULL) > 0);
	expect_error("is not marked pii", 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_action_match_table),
	        cmocka_unit_test(test_resource_match),
	        cmocka_unit_test(test_clean_policy),
	        cmocka_unit_test(test_action_star),
	        cmocka_unit_test(test_notaction_notresource),
	        cmocka_unit_test(test_resource_star_write),
	        cmocka_unit_test(test_reach_rds),
	        cmocka_unit_test(test_reach_backup),
	        cmocka_unit_test(test_reach_s3),
	        cmocka_unit_test(test_reach_logs),
	        cmocka_unit_test(test_sids),
	        cmocka_unit_test(test_structure_errors),
	        cmocka_unit_test(test_trust_good),
	        cmocka_unit_test(test_trust_principals),
	        cmocka_unit_test(test_trust_actions),
	        cmocka_unit_test(test_trust_pii_conditions),
	        cmocka_unit_test(test_wrappers),
	        cmocka_unit_test_setup_teardown(test_dir_rules, dir_setup, dir_teardown),
	        cmocka_unit_test_setup_teardown(test_dir_invalid, dir_setup, dir_teardown),
	        cmocka_unit_test(test_examples),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
