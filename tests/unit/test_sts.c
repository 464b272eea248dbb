/*
 * test_sts.c - the STS client: input validation, the form body, the XML
 * response/error parsers (including malformed, truncated, huge, entity-bomb
 * and external-entity inputs), the transport's refusals and failure reasons
 * on loopback sockets, and, when the STS test endpoint (tests/sts/) is
 * present, integration runs against it.  The expiration's time format is
 * test_timefmt.c's, the endpoint URL check test_http.c's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "iamgate/creds.h"
#include "iamgate/sts.h"
#include "iamgate/util.h"

#include "sts_endpoint_fixture.h"

/* ------------------------------------------------------------------ */
/* Fixtures                                                            */

#define NOW 1700000000 /* 2023-11-14T22:13:20Z */
#define KEY_ID "ASIAIOSFODNN7EXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"
#define TOKEN                                                                                      \
	"AQoDYXdzEPT//////////"                                                                    \
	"wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YU" \
	"uwthAx7mSEI/qkPpKPi/"                                                                     \
	"kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8" \
	"YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+"                                     \
	"scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="
#define EXP_TEXT "2023-11-14T23:13:20Z" /* NOW + 3600 */
#define ROLE_ARN "arn:aws:iam::123456789012:role/ops/Admin"
#define ASSUMED_ARN "arn:aws:sts::123456789012:assumed-role/Admin/alice"
#define NS "https://sts.amazonaws.com/doc/2011-06-15/"

/* A CA certificate whose key was thrown away: lets a test give curl a
 * tiny trust store (loading the system bundle is slow under valgrind). */
static const char unit_ca_pem[] =
        "-----BEGIN CERTIFICATE-----\n"
        "MIIBsDCCAVegAwIBAgIUApgNPWnWVXZIhhnrrgIih1LpjrcwCgYIKoZIzj0EAwIw\n"
        "LTErMCkGA1UEAwwiaWFtZ2F0ZSB1bml0IHRlc3QgQ0EgKG5vIGtleSBrZXB0KTAg\n"
        "Fw0yNjExMjkwNDQzMjBaGA8yMTI2MTEwNTA0NDMyMFowLTErMCkGA1UEAwwiaWFt\n"
        "Z2F0ZSB1bml0IHRlc3QgQ0EgKG5vIGtleSBrZXB0KTBZMBMGByqGSM49AgEGCCqG\n"
        "SM49AwEHA0IABOnpWM7M8s21dsIcooJho5HlJ0k+Wy1RCJc8b4mFu+eGXihKZ9y1\n"
        "x9W6B1YHLmM2T8GQIdiYUmOhtZnv+obY7hSjUzBRMB0GA1UdDgQWBBRNax6VyYQH\n"
        "VDLlcWghZKF3saJpWzAfBgNVHSMEGDAWgBRNax6VyYQHVDLlcWghZKF3saJpWzAP\n"
        "BgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0cAMEQCIH42ZCgKRQ4qIYRgxBu6\n"
        "kICrGxpDyn7qfygPHYOF+PGYAiB1AdHoyXJgXR5TmgUCpTuzshPBbzn9lxws85Kx\n"
        "G1NJnA==\n"
        "-----END CERTIFICATE-----\n";

/* Scratch directory under build/ (root-owned parents), made per run. */
static char scratch[512];

static void scratch_path(char *buf, size_t cap, const char *name)
{
	assert_int_equal(ig_bfmt(buf, cap, "%s/%s", scratch, name), 0);
}

static void write_file(const char *path, const char *data, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static int group_setup(void **state)
{
	char ca[600];

	(void)state;
	if (ig_bfmt(scratch, sizeof(scratch), "%s/build/t-sts-%d", IG_SOURCE_DIR, (int)getpid()) !=
	            0 ||
	    mkdir(scratch, 0700) != 0)
		return -1;
	scratch_path(ca, sizeof(ca), "unit-ca.pem");
	write_file(ca, unit_ca_pem, 0644);
	return 0;
}

static int64_t fixed_clock(void *arg)
{
	return arg ? *(int64_t *)arg : NOW;
}

/* The documented AssumeRoleResponse with pieces replaceable. */
static char *success_xml(const char *root_attrs, const char *creds_extra, const char *akid,
                         const char *secret, const char *token, const char *exp, const char *si)
{
	char *buf = malloc(32768);
	int r;

	assert_non_null(buf);
	r = ig_bfmt(buf, 32768,
	            "<AssumeRoleResponse %s>\n"
	            "  <AssumeRoleResult>\n"
	            "    %s%s%s\n"
	            "    <AssumedRoleUser>\n"
	            "      <Arn>" ASSUMED_ARN "</Arn>\n"
	            "      <AssumedRoleId>AROA3XFRBF535PLBIFPI4:alice</AssumedRoleId>\n"
	            "    </AssumedRoleUser>\n"
	            "    <Credentials>\n"
	            "      <AccessKeyId>%s</AccessKeyId>\n"
	            "      <SecretAccessKey>%s</SecretAccessKey>\n"
	            "      <SessionToken>%s</SessionToken>\n"
	            "      <Expiration>%s</Expiration>%s\n"
	            "    </Credentials>\n"
	            "    <PackedPolicySize>6</PackedPolicySize>\n"
	            "  </AssumeRoleResult>\n"
	            "  <ResponseMetadata>\n"
	            "    <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>\n"
	            "  </ResponseMetadata>\n"
	            "</AssumeRoleResponse>\n",
	            root_attrs, si ? "<SourceIdentity>" : "", si ? si : "",
	            si ? "</SourceIdentity>" : "", akid, secret, token, exp, creds_extra);
	assert_int_equal(r, 0);
	return buf;
}

static char *good_xml(void)
{
	return success_xml("xmlns=\"" NS "\"", "", KEY_ID, SECRET, TOKEN, EXP_TEXT, "alice");
}

static int parse_ok(const char *xml, struct ig_sts_role_result *out)
{
	memset(out, 0, sizeof(*out));
	return ig_sts_parse_assume_role(xml, strlen(xml), NOW, out);
}

static void expect_parse_fail(const char *xml)
{
	struct ig_sts_role_result res;

	assert_int_equal(parse_ok(xml, &res), IG_ERR_PARSE);
	assert_null(res.creds.session_token);
	assert_null(res.assumed_role_arn);
	assert_string_equal(res.creds.secret_access_key, "");
}

/* ------------------------------------------------------------------ */
/* Validation                                                          */

static void test_name_valid(void **state)
{
	static const struct {
		const char *s;
		int ok;
	} cases[] = {
	        {"alice", 1},
	        {"al", 1},
	        {"a", 0},
	        {"", 0},
	        {"alice.smith@example.com", 1},
	        {"a_b+c=d,e.f@g-h", 1},
	        {"Alice99", 1},
	        {"alice smith", 0},
	        {"alice/x", 0},
	        {"alice:x", 0},
	        {"al\tice", 0},
	        {"ali\nce", 0},
	        {"alice;", 0},
	        {"ali*", 0},
	        {"j\xc3\xbcrgen", 0}, /* UTF-8: \w in STS is ASCII here, deny */
	        {"1234567890123456789012345678901234567890123456789012345678901234", 1},
	        {"12345678901234567890123456789012345678901234567890123456789012345", 0},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (ig_sts_name_valid(cases[i].s) != cases[i].ok)
			fail_msg("case %zu (%s): want %d", i, cases[i].s, cases[i].ok);
	}
	assert_int_equal(ig_sts_name_valid(NULL), 0);
}

static void test_tag_valid(void **state)
{
	char long_val[258];
	struct ig_sts_tag t[3];

	(void)state;
	assert_true(ig_sts_tag_valid("bastion-user", "alice"));
	assert_true(ig_sts_tag_valid("bastion-source-ip", "2001:db8::1"));
	assert_true(ig_sts_tag_valid("bastion-source-ip", "192.0.2.7"));
	assert_true(ig_sts_tag_valid("bastion-host", "bastion 1.example.com"));
	assert_true(ig_sts_tag_valid("k", ""));
	assert_true(ig_sts_tag_valid("k", "a_b.c:d/e=f+g-h@i"));
	assert_false(ig_sts_tag_valid("", "v"));
	assert_false(ig_sts_tag_valid("aws:foo", "v"));
	assert_false(ig_sts_tag_valid("AWS:foo", "v"));
	assert_false(ig_sts_tag_valid("k", "a,b"));
	assert_false(ig_sts_tag_valid("k", "a\nb"));
	assert_false(ig_sts_tag_valid("k", "a&b"));
	assert_false(ig_sts_tag_valid("k", "fe80::1%eth0"));
	assert_false(ig_sts_tag_valid("k", NULL));
	assert_false(ig_sts_tag_valid(NULL, "v"));
	memset(long_val, 'v', sizeof(long_val));
	long_val[256] = '\0';
	assert_true(ig_sts_tag_valid("k", long_val));
	long_val[256] = 'v';
	long_val[257] = '\0';
	assert_false(ig_sts_tag_valid("k", long_val));

	assert_int_equal(ig_sts_bastion_tags("alice", "10.1.2.3", "bastion1", t), 0);
	assert_string_equal(t[0].key, "bastion-user");
	assert_string_equal(t[1].key, "bastion-source-ip");
	assert_string_equal(t[1].value, "10.1.2.3");
	assert_string_equal(t[2].key, "bastion-host");
	assert_int_equal(ig_sts_bastion_tags("alice", "", "bastion1", t), IG_ERR_INVAL);
	assert_int_equal(ig_sts_bastion_tags("alice", "10.1.2.3", NULL, t), IG_ERR_INVAL);
	assert_int_equal(ig_sts_bastion_tags("al|ce", "10.1.2.3", "b", t), IG_ERR_INVAL);
}

static void test_duration_and_endpoint(void **state)
{
	char buf[128];

	(void)state;
	assert_int_equal(ig_sts_duration(0), 900);
	assert_int_equal(ig_sts_duration(1), 900);
	assert_int_equal(ig_sts_duration(899), 900);
	assert_int_equal(ig_sts_duration(900), 900);
	assert_int_equal(ig_sts_duration(1800), 1800);
	assert_int_equal(ig_sts_duration(3600), 3600);
	assert_int_equal(ig_sts_duration(3601), 3600);
	assert_int_equal(ig_sts_duration(43200), 3600);
	assert_int_equal(ig_sts_default_endpoint("ap-northeast-1", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "https://sts.ap-northeast-1.amazonaws.com");
	assert_int_equal(ig_sts_default_endpoint("AP-1", buf, sizeof(buf)), IG_ERR_INVAL);
	assert_int_equal(ig_sts_default_endpoint("x.evil.com/", buf, sizeof(buf)), IG_ERR_INVAL);
	assert_int_equal(ig_sts_default_endpoint("", buf, sizeof(buf)), IG_ERR_INVAL);
	assert_int_equal(ig_sts_default_endpoint("us-east-1", buf, 10), IG_ERR_RANGE);
}

static void test_form_body(void **state)
{
	struct ig_sts_tag tags[3];
	struct ig_sts_assume_req req = {0};
	char *body = NULL;

	(void)state;
	assert_int_equal(ig_sts_bastion_tags("alice.smith@corp", "2001:db8::1", "bastion 1", tags),
	                 0);
	req.role_arn = ROLE_ARN;
	req.session_name = "alice.smith@corp";
	req.source_identity = "alice.smith@corp";
	req.tags = tags;
	req.n_tags = 3;
	assert_int_equal(ig_sts_assume_role_body(&req, &body), 0);
	assert_string_equal(body,
	                    "Action=AssumeRole&Version=2011-06-15"
	                    "&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fops%2FAdmin"
	                    "&RoleSessionName=alice.smith%40corp&DurationSeconds=900"
	                    "&SourceIdentity=alice.smith%40corp"
	                    "&Tags.member.1.Key=bastion-user&Tags.member.1.Value=alice.smith%40corp"
	                    "&Tags.member.2.Key=bastion-source-ip"
	                    "&Tags.member.2.Value=2001%3Adb8%3A%3A1"
	                    "&Tags.member.3.Key=bastion-host&Tags.member.3.Value=bastion%201");
	free(body);

	/* '+', '=' and ',' are legal in names and must not survive raw. */
	req.session_name = "a+b=c,d";
	req.source_identity = NULL;
	req.n_tags = 0;
	req.duration_seconds = 7200;
	assert_int_equal(ig_sts_assume_role_body(&req, &body), 0);
	assert_string_equal(body, "Action=AssumeRole&Version=2011-06-15"
	                          "&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fops%2FAdmin"
	                          "&RoleSessionName=a%2Bb%3Dc%2Cd&DurationSeconds=3600");
	free(body);
}

static void test_form_body_refusals(void **state)
{
	struct ig_sts_tag tags[IG_STS_MAX_TAGS + 1];
	struct ig_sts_assume_req req = {0}, r;
	char *body = (char *)1;

	(void)state;
	req.role_arn = ROLE_ARN;
	req.session_name = "alice";
	req.source_identity = "alice";

	r = req;
	r.session_name = "a";
	assert_int_equal(ig_sts_assume_role_body(&r, &body), IG_ERR_INVAL);
	assert_null(body);
	r = req;
	r.session_name = "bad name";
	assert_int_equal(ig_sts_assume_role_body(&r, &body), IG_ERR_INVAL);
	r = req;
	r.session_name = NULL;
	assert_int_equal(ig_sts_assume_role_body(&r, &body), IG_ERR_INVAL);
	r = req;
	r.source_identity = "x/y";
	assert_int_equal(ig_sts_assume_role_body(&r, &body), IG_ERR_INVAL);
	r = req;
	r.role_arn = "role/Admin";
	assert_int_equal(ig_sts_assume_role_body(&r, &body), IG_ERR_INVAL);
	r = req;
	r.role_arn = "arn:aws:iam::123456789012:role/A dmin";
	assert_int_equal(ig_sts_assume_role_body(&r, &body), IG_ERR_INVAL);
	r = req;
	r.role_arn = "arn:aws:iam::123456789012:role/A&Action=GetCallerIdentity";
	assert_int_equal(ig_sts_assume_role_body(&r, &body), 0); /* encoded, harmless */
	assert_non_null(strstr(body, "A%26Action%3DGetCallerIdentity"));
	free(body);

	for (size_t i = 0; i < IG_STS_MAX_TAGS + 1; i++) {
		tags[i].key = "k";
		tags[i].value = "v";
	}
	r = req;
	r.tags = tags;
	r.n_tags = 2; /* duplicate key */
	assert_int_equal(ig_sts_assume_role_body(&r, &body), IG_ERR_INVAL);
	tags[1].key = "K"; /* case-insensitively duplicate too */
	assert_int_equal(ig_sts_assume_role_body(&r, &body), IG_ERR_INVAL);
	tags[1].key = "aws:k";
	assert_int_equal(ig_sts_assume_role_body(&r, &body), IG_ERR_INVAL);
	tags[1].key = "k2";
	tags[1].value = "a\nb";
	assert_int_equal(ig_sts_assume_role_body(&r, &body), IG_ERR_INVAL);
	r.n_tags = IG_STS_MAX_TAGS + 1;
	assert_int_equal(ig_sts_assume_role_body(&r, &body), IG_ERR_INVAL);
	r.tags = NULL;
	r.n_tags = 1;
	assert_int_equal(ig_sts_assume_role_body(&r, &body), IG_ERR_INVAL);
	assert_int_equal(ig_sts_assume_role_body(NULL, &body), IG_ERR_INVAL);
}

/* ------------------------------------------------------------------ */
/* XML: success                                                        */

static void test_xml_success(void **state)
{
	struct ig_sts_role_result res;
	char *xml = good_xml();

	(void)state;
	assert_int_equal(parse_ok(xml, &res), 0);
	assert_string_equal(res.creds.access_key_id, KEY_ID);
	assert_string_equal(res.creds.secret_access_key, SECRET);
	assert_string_equal(res.creds.session_token, TOKEN);
	assert_int_equal(res.creds.expiration, NOW + 3600);
	assert_string_equal(res.assumed_role_arn, ASSUMED_ARN);
	assert_string_equal(res.assumed_role_id, "AROA3XFRBF535PLBIFPI4:alice");
	assert_string_equal(res.source_identity, "alice");
	assert_string_equal(res.request_id, "c6104cbe-af31-11e0-8154-cbc7ccf896c7");
	ig_sts_role_result_clear(&res);
	assert_null(res.creds.session_token);
	assert_string_equal(res.creds.secret_access_key, "");
	free(xml);
}

static void test_xml_namespaces(void **state)
{
	struct ig_sts_role_result res;
	char *xml;
	char buf[16384];
	int r;

	(void)state;
	/* No namespace at all: accepted (local names). */
	xml = success_xml("", "", KEY_ID, SECRET, TOKEN, EXP_TEXT, NULL);
	assert_int_equal(parse_ok(xml, &res), 0);
	assert_string_equal(res.source_identity, "");
	ig_sts_role_result_clear(&res);
	free(xml);

	/* A foreign default namespace: these are not STS elements. */
	xml = success_xml("xmlns=\"urn:not-sts\"", "", KEY_ID, SECRET, TOKEN, EXP_TEXT, NULL);
	expect_parse_fail(xml);
	free(xml);

	/* Prefixed STS namespace: matched by local name. */
	r = ig_bfmt(buf, sizeof(buf),
	            "<s:AssumeRoleResponse xmlns:s=\"" NS "\"><s:AssumeRoleResult>"
	            "<s:AssumedRoleUser><s:Arn>" ASSUMED_ARN "</s:Arn>"
	            "<s:AssumedRoleId>AROA3XFRBF535PLBIFPI4:alice</s:AssumedRoleId>"
	            "</s:AssumedRoleUser><s:Credentials><s:AccessKeyId>" KEY_ID
	            "</s:AccessKeyId><s:SecretAccessKey>" SECRET
	            "</s:SecretAccessKey><s:SessionToken>" TOKEN
	            "</s:SessionToken><s:Expiration>" EXP_TEXT "</s:Expiration>"
	            "</s:Credentials></s:AssumeRoleResult></s:AssumeRoleResponse>");
	assert_int_equal(r, 0);
	assert_int_equal(parse_ok(buf, &res), 0);
	assert_string_equal(res.creds.access_key_id, KEY_ID);
	ig_sts_role_result_clear(&res);

	/* A look-alike element in another namespace is not the real one, and
	 * does not count as a duplicate either. */
	xml = success_xml("xmlns=\"" NS "\" xmlns:e=\"urn:evil\"",
	                  "<e:AccessKeyId>ASIAEVILEVILEVILEVIL</e:AccessKeyId>", KEY_ID, SECRET,
	                  TOKEN, EXP_TEXT, NULL);
	assert_int_equal(parse_ok(xml, &res), 0);
	assert_string_equal(res.creds.access_key_id, KEY_ID);
	ig_sts_role_result_clear(&res);
	free(xml);

	/* CDATA is text. */
	xml = success_xml("xmlns=\"" NS "\"", "", KEY_ID, SECRET, "<![CDATA[" TOKEN "]]>", EXP_TEXT,
	                  NULL);
	assert_int_equal(parse_ok(xml, &res), 0);
	assert_string_equal(res.creds.session_token, TOKEN);
	ig_sts_role_result_clear(&res);
	free(xml);
}

/* ------------------------------------------------------------------ */
/* XML: refusals                                                       */

static void test_xml_malformed(void **state)
{
	char *good = good_xml(), *xml;
	char token_big[8200];

	(void)state;
	/* Every truncation of a good response is refused. */
	for (size_t n = 0; n + 1 < strlen(good); n++) {
		struct ig_sts_role_result res;
		memset(&res, 0, sizeof(res));
		if (ig_sts_parse_assume_role(good, n, NOW, &res) == 0)
			fail_msg("truncated at %zu accepted", n);
	}
	expect_parse_fail("");
	expect_parse_fail("not xml at all");
	expect_parse_fail("<AssumeRoleResponse/>");
	expect_parse_fail(
	        "<ErrorResponse><Error><Code>AccessDenied</Code></Error></ErrorResponse>");
	expect_parse_fail("\xff\xfe<\0A\0");

	/* Field by field: wrong character sets, empty, expired. */
	struct {
		const char *akid, *secret, *token, *exp, *si;
	} bad[] = {
	        {"ASIA short", SECRET, TOKEN, EXP_TEXT, NULL},
	        {"ASIASHORT", SECRET, TOKEN, EXP_TEXT, NULL},
	        {"", SECRET, TOKEN, EXP_TEXT, NULL},
	        {KEY_ID, "", TOKEN, EXP_TEXT, NULL},
	        {KEY_ID, "secret with space", TOKEN, EXP_TEXT, NULL},
	        {KEY_ID, "secret\"quote", TOKEN, EXP_TEXT, NULL},
	        {KEY_ID, SECRET, "", EXP_TEXT, NULL},
	        {KEY_ID, SECRET, "tok\nen", EXP_TEXT, NULL},
	        {KEY_ID, SECRET, "tok&#10;en", EXP_TEXT, NULL},
	        {KEY_ID, SECRET, TOKEN, "", NULL},
	        {KEY_ID, SECRET, TOKEN, "tomorrow", NULL},
	        {KEY_ID, SECRET, TOKEN, "2023-11-14T22:13:20Z", NULL}, /* == now: expired */
	        {KEY_ID, SECRET, TOKEN, "2020-01-01T00:00:00Z", NULL},
	        {KEY_ID, SECRET, TOKEN, EXP_TEXT, "a"},
	        {KEY_ID, SECRET, TOKEN, EXP_TEXT, "bad si"},
	        {KEY_ID "<x/>", SECRET, TOKEN, EXP_TEXT, NULL},
	        {KEY_ID, SECRET "&undefined;", TOKEN, EXP_TEXT, NULL},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		xml = success_xml("xmlns=\"" NS "\"", "", bad[i].akid, bad[i].secret, bad[i].token,
		                  bad[i].exp, bad[i].si);
		struct ig_sts_role_result res;
		if (parse_ok(xml, &res) != IG_ERR_PARSE)
			fail_msg("bad case %zu accepted", i);
		assert_null(res.creds.session_token);
		free(xml);
	}

	/* A duplicated element is ambiguous. */
	xml = success_xml("xmlns=\"" NS "\"", "<AccessKeyId>ASIAEVILEVILEVILEVIL</AccessKeyId>",
	                  KEY_ID, SECRET, TOKEN, EXP_TEXT, NULL);
	expect_parse_fail(xml);
	free(xml);

	/* Token longer than 8192. */
	memset(token_big, 'A', sizeof(token_big) - 1);
	token_big[sizeof(token_big) - 1] = '\0';
	xml = success_xml("xmlns=\"" NS "\"", "", KEY_ID, SECRET, token_big, EXP_TEXT, NULL);
	expect_parse_fail(xml);
	free(xml);
	token_big[8192] = '\0';
	xml = success_xml("xmlns=\"" NS "\"", "", KEY_ID, SECRET, token_big, EXP_TEXT, NULL);
	{
		struct ig_sts_role_result res;
		assert_int_equal(parse_ok(xml, &res), 0);
		assert_int_equal(strlen(res.creds.session_token), 8192);
		ig_sts_role_result_clear(&res);
	}
	free(xml);
	free(good);
}

static void test_xml_huge_and_deep(void **state)
{
	size_t n = IG_STS_MAX_RESPONSE + 100;
	char *big = malloc(n + 1), *good = good_xml();
	struct ig_sts_role_result res;
	size_t glen = strlen(good);

	(void)state;
	assert_non_null(big);
	/* A good document padded with whitespace past the cap. */
	memcpy(big, good, glen);
	memset(big + glen, ' ', n - glen);
	big[n] = '\0';
	memset(&res, 0, sizeof(res));
	assert_int_equal(ig_sts_parse_assume_role(big, n, NOW, &res), IG_ERR_PARSE);
	/* The same under the cap is fine. */
	assert_int_equal(ig_sts_parse_assume_role(big, IG_STS_MAX_RESPONSE, NOW, &res), 0);
	ig_sts_role_result_clear(&res);

	/* 20000 nested elements: libxml2's depth limit refuses it. */
	{
		size_t depth = 20000, off = 0;
		char *deep = malloc(depth * 7 + 64);
		assert_non_null(deep);
		off += (size_t)snprintf(deep, 64, "<AssumeRoleResponse>");
		for (size_t i = 0; i < depth && off + 8 < depth * 7; i++) {
			memcpy(deep + off, "<a>", 3);
			off += 3;
		}
		deep[off] = '\0';
		memset(&res, 0, sizeof(res));
		assert_int_equal(ig_sts_parse_assume_role(deep, off, NOW, &res), IG_ERR_PARSE);
		free(deep);
	}
	free(big);
	free(good);
}

static void test_xml_entity_bomb(void **state)
{
	static const char bomb[] =
	        "<?xml version=\"1.0\"?>\n"
	        "<!DOCTYPE lolz [\n"
	        " <!ENTITY lol \"lol\">\n"
	        " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
	        " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
	        " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
	        " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
	        " <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
	        " <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
	        " <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
	        " <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
	        " <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
	        "]>\n"
	        "<ErrorResponse><Error><Code>&lol9;</Code></Error></ErrorResponse>\n";
	char code[64], rid[65];
	struct ig_sts_role_result res;

	(void)state;
	assert_int_equal(
	        ig_sts_parse_error(bomb, strlen(bomb), code, sizeof(code), rid, sizeof(rid)),
	        IG_ERR_PARSE);
	assert_string_equal(code, "");
	memset(&res, 0, sizeof(res));
	assert_int_equal(ig_sts_parse_assume_role(bomb, strlen(bomb), NOW, &res), IG_ERR_PARSE);
}

/* A DOCTYPE is refused even when everything else is a perfect response,
 * and an external entity or DTD is never fetched: the file would make the
 * response valid if it were read, the socket would see a connection. */
static void test_xml_external_entities(void **state)
{
	char path[600], xml[4096], inner[2048];
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	struct ig_sts_role_result res;
	char code[64], rid[65];
	int lfd, fd, r;
	char *good = good_xml();

	(void)state;
	scratch_path(path, sizeof(path), "inner.xml");
	r = ig_bfmt(inner, sizeof(inner),
	            "<AssumeRoleResult><AssumedRoleUser><Arn>" ASSUMED_ARN "</Arn>"
	            "<AssumedRoleId>AROA3XFRBF535PLBIFPI4:alice</AssumedRoleId></AssumedRoleUser>"
	            "<Credentials><AccessKeyId>" KEY_ID "</AccessKeyId><SecretAccessKey>" SECRET
	            "</SecretAccessKey><SessionToken>" TOKEN "</SessionToken><Expiration>" EXP_TEXT
	            "</Expiration></Credentials></AssumeRoleResult>");
	assert_int_equal(r, 0);
	write_file(path, inner, 0600);

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(lfd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);

	/* 1: external parsed entity from a file. */
	r = ig_bfmt(xml, sizeof(xml),
	            "<!DOCTYPE AssumeRoleResponse [<!ENTITY e SYSTEM \"file://%s\">]>"
	            "<AssumeRoleResponse xmlns=\"" NS "\">&e;</AssumeRoleResponse>",
	            path);
	assert_int_equal(r, 0);
	expect_parse_fail(xml);

	/* 2: external DTD and entity over the network. */
	r = ig_bfmt(xml, sizeof(xml),
	            "<!DOCTYPE ErrorResponse SYSTEM \"http://127.0.0.1:%u/x.dtd\" "
	            "[<!ENTITY c SYSTEM \"http://127.0.0.1:%u/code\">]>"
	            "<ErrorResponse><Error><Code>&c;</Code></Error></ErrorResponse>",
	            ntohs(sa.sin_port), ntohs(sa.sin_port));
	assert_int_equal(r, 0);
	assert_int_equal(ig_sts_parse_error(xml, strlen(xml), code, sizeof(code), rid, sizeof(rid)),
	                 IG_ERR_PARSE);
	expect_parse_fail(xml);

	/* 3: a perfectly good response behind an (empty) DOCTYPE. */
	r = ig_bfmt(xml, sizeof(xml), "<!DOCTYPE AssumeRoleResponse>%s", good);
	assert_int_equal(r, 0);
	expect_parse_fail(xml);

	/* 4: XInclude is not processed. */
	r = ig_bfmt(xml, sizeof(xml),
	            "<AssumeRoleResponse xmlns=\"" NS
	            "\" xmlns:xi=\"http://www.w3.org/2001/XInclude\">"
	            "<xi:include href=\"file://%s\" parse=\"xml\"/></AssumeRoleResponse>",
	            path);
	assert_int_equal(r, 0);
	expect_parse_fail(xml);

	/* Nobody knocked. */
	fd = accept(lfd, NULL, NULL);
	assert_int_equal(fd, -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	close(lfd);

	/* Sanity: the good response does parse. */
	memset(&res, 0, sizeof(res));
	assert_int_equal(parse_ok(good, &res), 0);
	ig_sts_role_result_clear(&res);
	free(good);
}

static void test_xml_error(void **state)
{
	static const char err[] =
	        "<ErrorResponse xmlns=\"" NS "\">\n"
	        "  <Error>\n"
	        "    <Type>Sender</Type>\n"
	        "    <Code>AccessDenied</Code>\n"
	        "    <Message>User: arn:aws:iam::123456789012:user/x is not authorized to perform: "
	        "sts:AssumeRole on resource: " ROLE_ARN "</Message>\n"
	        "  </Error>\n"
	        "  <RequestId>4b5d7a2f-ea3a-11e5-8bd4-7b8a4e1e8a2e</RequestId>\n"
	        "</ErrorResponse>\n";
	static const char *const bad[] = {
	        "<ErrorResponse><Error><Code>Access Denied</Code></Error></ErrorResponse>",
	        "<ErrorResponse><Error><Code>Access&lt;Denied</Code></Error></ErrorResponse>",
	        "<ErrorResponse><Error><Code></Code></Error></ErrorResponse>",
	        "<ErrorResponse><Error></Error></ErrorResponse>",
	        "<ErrorResponse><Error><Code>A</Code><Code>B</Code></Error></ErrorResponse>",
	        "<ErrorResponse><Error><Code>A</Code></Error><Error><Code>B</Code></Error>"
	        "</ErrorResponse>",
	        "<Response><Errors><Error><Code>A</Code></Error></Errors></Response>",
	        "<ErrorResponse><Error><Code>"
	        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	        "</Code></Error></ErrorResponse>",
	        "<ErrorResponse><Error><Code>Throttling",
	};
	char code[64], rid[65];

	(void)state;
	assert_int_equal(ig_sts_parse_error(err, strlen(err), code, sizeof(code), rid, sizeof(rid)),
	                 0);
	assert_string_equal(code, "AccessDenied");
	assert_string_equal(rid, "4b5d7a2f-ea3a-11e5-8bd4-7b8a4e1e8a2e");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ig_sts_parse_error(bad[i], strlen(bad[i]), code, sizeof(code), rid,
		                       sizeof(rid)) != IG_ERR_PARSE)
			fail_msg("bad error %zu accepted", i);
		assert_string_equal(code, "");
	}
	/* A bad RequestId is dropped, the code kept. */
	{
		static const char e2[] = "<ErrorResponse><Error><Code>ExpiredToken</Code></Error>"
		                         "<RequestId>x y</RequestId></ErrorResponse>";
		assert_int_equal(
		        ig_sts_parse_error(e2, strlen(e2), code, sizeof(code), rid, sizeof(rid)),
		        0);
		assert_string_equal(code, "ExpiredToken");
		assert_string_equal(rid, "");
	}
}

static void test_xml_caller_identity(void **state)
{
	static const char ok[] = "<GetCallerIdentityResponse xmlns=\"" NS "\">"
	                         "<GetCallerIdentityResult>"
	                         "<Arn>" ASSUMED_ARN "</Arn>"
	                         "<UserId>AROA3XFRBF535PLBIFPI4:alice</UserId>"
	                         "<Account>123456789012</Account>"
	                         "</GetCallerIdentityResult>"
	                         "<ResponseMetadata><RequestId>x</RequestId></ResponseMetadata>"
	                         "</GetCallerIdentityResponse>";
	static const char bad[] = "<GetCallerIdentityResponse><GetCallerIdentityResult>"
	                          "<Arn>" ASSUMED_ARN "</Arn><UserId>u</UserId>"
	                          "<Account>12345</Account>"
	                          "</GetCallerIdentityResult></GetCallerIdentityResponse>";
	struct ig_sts_identity id;

	(void)state;
	memset(&id, 0, sizeof(id));
	assert_int_equal(ig_sts_parse_caller_identity(ok, strlen(ok), &id), 0);
	assert_string_equal(id.arn, ASSUMED_ARN);
	assert_string_equal(id.account, "123456789012");
	assert_string_equal(id.user_id, "AROA3XFRBF535PLBIFPI4:alice");
	assert_int_equal(ig_sts_parse_caller_identity(bad, strlen(bad), &id), IG_ERR_PARSE);
	assert_string_equal(id.arn, "");
}

/* ------------------------------------------------------------------ */
/* Transport refusals and failures without the endpoint                */

static void base_creds(struct ig_aws_creds *c)
{
	memset(c, 0, sizeof(*c));
	memcpy(c->access_key_id, "AKIAIOSFODNN7EXAMPLE", 21);
	memcpy(c->secret_access_key, SECRET, sizeof(SECRET));
}

static void test_assume_refusals(void **state)
{
	struct ig_sts_config cfg = {0};
	struct ig_aws_creds c;
	struct ig_sts_assume_req req[2] = {{0}};
	struct ig_sts_role_result res[2];
	int64_t now = NOW;
	static const char *const bad_endpoints[] = {
	        "http://127.0.0.1:1",
	        "https://user@127.0.0.1:1",
	        "https://127.0.0.1:1/sts",
	        "https://127.0.0.1:1/?x=1",
	        "https://127.0.0.1:1/#f",
	        "ftp://127.0.0.1/",
	        "127.0.0.1:1",
	        "",
	        NULL,
	};

	(void)state;
	base_creds(&c);
	req[0].role_arn = req[1].role_arn = ROLE_ARN;
	req[0].session_name = req[1].session_name = "alice";
	cfg.region = "us-east-1";
	cfg.now = fixed_clock;
	cfg.now_arg = &now;
	for (size_t i = 0; i < sizeof(bad_endpoints) / sizeof(bad_endpoints[0]); i++) {
		cfg.endpoint = bad_endpoints[i];
		assert_int_equal(ig_sts_assume_roles(&cfg, &c, req, 2, res), IG_ERR_INVAL);
		assert_string_equal(res[0].reason, "invalid_config");
		assert_string_equal(res[1].reason, "invalid_config");
		assert_int_equal(res[1].attempts, 0);
	}
	cfg.endpoint = "https://127.0.0.1:1";
	cfg.region = "US EAST";
	assert_int_equal(ig_sts_assume_roles(&cfg, &c, req, 2, res), IG_ERR_INVAL);
	assert_string_equal(res[0].reason, "invalid_config");
	cfg.region = "us-east-1";

	/* Expired (or about to expire) base credentials: nothing is sent. */
	c.session_token = strdup(TOKEN);
	c.expiration = NOW + IG_AWS_CREDS_EXPIRY_MARGIN;
	assert_int_equal(ig_sts_assume_roles(&cfg, &c, req, 2, res), IG_ERR_INVAL);
	assert_string_equal(res[0].reason, "base_credentials_expired");
	assert_string_equal(res[1].reason, "base_credentials_expired");
	assert_int_equal(res[0].attempts, 0);
	ig_aws_creds_clear(&c);

	base_creds(&c);
	c.access_key_id[0] = '\0';
	assert_int_equal(ig_sts_assume_roles(&cfg, &c, req, 2, res), IG_ERR_INVAL);
	assert_string_equal(res[0].reason, "base_credentials_missing");
	assert_int_equal(ig_sts_assume_roles(&cfg, NULL, req, 2, res), IG_ERR_INVAL);
	assert_string_equal(res[1].reason, "base_credentials_missing");

	base_creds(&c);
	assert_int_equal(ig_sts_assume_roles(&cfg, &c, req, 0, res), IG_ERR_INVAL);
	assert_int_equal(ig_sts_assume_roles(&cfg, &c, req, IG_STS_MAX_ROLES + 1, res),
	                 IG_ERR_INVAL);
	assert_int_equal(ig_sts_assume_roles(&cfg, &c, NULL, 2, res), IG_ERR_INVAL);
	assert_string_equal(res[0].reason, "invalid_request");
}

/* Connection refused on loopback: a retryable failure, retried up to
 * max_attempts, while an invalid request next to it is never sent. */
static void test_assume_connect_failed(void **state)
{
	struct ig_sts_config cfg = {0};
	struct ig_aws_creds c;
	struct ig_sts_assume_req req[2] = {{0}};
	struct ig_sts_role_result res[2];
	int r;

	(void)state;
	base_creds(&c);
	req[0].role_arn = req[1].role_arn = ROLE_ARN;
	req[0].session_name = "alice";
	req[1].session_name = "x"; /* too short */
	cfg.endpoint = "https://127.0.0.1:1";
	cfg.region = "us-east-1";
	cfg.timeout_ms = 3000;
	cfg.max_attempts = 3;
	r = ig_sts_assume_roles(&cfg, &c, req, 2, res);
	assert_int_equal(r, IG_ERR_NET);
	assert_string_equal(res[0].reason, "connect_failed");
	assert_int_equal(res[0].err, IG_ERR_NET);
	assert_int_equal(res[0].attempts, 3);
	assert_null(res[0].creds.session_token);
	assert_string_equal(res[1].reason, "invalid_request");
	assert_int_equal(res[1].err, IG_ERR_INVAL);
	assert_int_equal(res[1].attempts, 0);

	memset(&res, 0xa5, sizeof(res)); /* results need not be initialised */
	cfg.max_attempts = 1;
	req[1].session_name = "bob";
	assert_int_equal(ig_sts_assume_roles(&cfg, &c, req, 2, res), IG_ERR_NET);
	assert_int_equal(res[0].attempts, 1);
	assert_int_equal(res[1].attempts, 1);
	assert_string_equal(res[1].reason, "connect_failed");
}

/* A server that accepts the TCP connection and never answers: every
 * attempt times out, the whole call stays inside its total limit. */
static void test_assume_timeout(void **state)
{
	struct ig_sts_config cfg = {0};
	struct ig_aws_creds c;
	struct ig_sts_assume_req req = {0};
	struct ig_sts_role_result res;
	struct ig_sts_identity id;
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	char url[64], ca[600];
	struct timespec t0, t1;
	long ms;
	int lfd;

	(void)state;
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(lfd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 16), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
	assert_int_equal(ig_bfmt(url, sizeof(url), "https://127.0.0.1:%u", ntohs(sa.sin_port)), 0);

	base_creds(&c);
	req.role_arn = ROLE_ARN;
	req.session_name = "alice";
	scratch_path(ca, sizeof(ca), "unit-ca.pem");
	cfg.ca_file = ca;
	cfg.endpoint = url;
	cfg.region = "us-east-1";
	cfg.timeout_ms = 3000;
	cfg.attempt_timeout_ms = 400;
	cfg.max_attempts = 5;
	/* Warm-up: the first TLS use in a process initialises OpenSSL, which
	 * takes seconds under valgrind and would eat the attempts. */
	cfg.max_attempts = 1;
	assert_int_equal(ig_sts_assume_roles(&cfg, &c, &req, 1, &res), IG_ERR_TIMEOUT);
	cfg.max_attempts = 5;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(ig_sts_assume_roles(&cfg, &c, &req, 1, &res), IG_ERR_TIMEOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_string_equal(res.reason, "timeout");
	/* Timeouts are retried (valgrind can slow one attempt past the whole
	 * budget, so there only the bound is checked). */
	if (getenv("IG_VALGRIND") == NULL)
		assert_true(res.attempts >= 2);
	/* Bounded by the total limit, with a margin for a loaded machine: the
	 * point is that the call stops, not how fast. */
	assert_true(ms < 3000 + 3000);
	print_message("# timeout: %u attempts in %ld ms (limit 3000)\n", res.attempts, ms);

	cfg.max_attempts = 1;
	cfg.attempt_timeout_ms = 300;
	assert_int_equal(ig_sts_get_caller_identity(&cfg, &c, &id), IG_ERR_TIMEOUT);
	assert_string_equal(id.reason, "timeout");
	assert_int_equal(id.attempts, 1);
	close(lfd);
}

/* ------------------------------------------------------------------ */

/* ------------------------------------------------------------------ */
/* Integration: the STS test endpoint (tests/sts/), when present         */

#define R_RO "arn:aws:iam::123456789012:role/iamgate-readonly"
#define R_OPEN "arn:aws:iam::123456789012:role/iamgate-open"
#define R_FORBIDDEN "arn:aws:iam::123456789012:role/iamgate-forbidden"

static struct ep E;
static struct ig_aws_creds BASE;     /* long-term keys of the bastion user */
static struct ig_aws_creds INSTANCE; /* temporary, with a session token */

static int int_setup(void **state)
{
	char dir[600];

	(void)state;
	if (!ep_available())
		return 0;
	if (ig_bfmt(dir, sizeof(dir), "%s/ep", scratch) != 0 || ep_start(&E, dir, NULL) != 0)
		return -1;
	if (ep_profile(&E, "bastion", &BASE) != 0 || ep_profile(&E, "instance", &INSTANCE) != 0 ||
	    INSTANCE.session_token == NULL)
		return -1;
	return 0;
}

static int int_teardown(void **state)
{
	char *rm[] = {(char *)"/bin/rm", (char *)"-rf", (char *)"--", scratch, NULL};

	(void)state;
	ig_aws_creds_clear(&BASE);
	ig_aws_creds_clear(&INSTANCE);
	ep_stop(&E);
	return ep_run(rm, NULL) == 0 ? 0 : -1;
}

static void icfg(struct ig_sts_config *c)
{
	memset(c, 0, sizeof(*c));
	c->endpoint = E.sts_url;
	c->region = "us-east-1";
	c->ca_file = E.sts_ca;
	c->timeout_ms = 20000; /* generous: under valgrind a TLS handshake takes a while */
	c->max_attempts = 3;
}

static void faults(const char *json)
{
	assert_int_equal(ep_ctl(&E, "sts", json), 0);
}

static void req_init(struct ig_sts_assume_req *r, const char *arn, const char *user,
                     struct ig_sts_tag tags[3])
{
	memset(r, 0, sizeof(*r));
	assert_int_equal(ig_sts_bastion_tags(user, "192.0.2.10", "bastion-1", tags), 0);
	r->role_arn = arn;
	r->session_name = user;
	r->source_identity = user;
	r->tags = tags;
	r->n_tags = 3;
}

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Assume req and check the expiration is `want` seconds after the moment
 * of issue (bounded by the clock before and after the call, so a loaded
 * machine cannot make it flaky). */
static void expect_duration(const struct ig_sts_config *cfg, const struct ig_sts_assume_req *req,
                            int64_t want)
{
	struct ig_sts_role_result res;
	int64_t t0 = (int64_t)time(NULL), t1;

	assert_int_equal(ig_sts_assume_roles(cfg, &BASE, req, 1, &res), 0);
	t1 = (int64_t)time(NULL);
	if (res.creds.expiration < t0 + want - 1 || res.creds.expiration > t1 + want + 1)
		fail_msg("expiration %lld not in [%lld, %lld]", (long long)res.creds.expiration,
		         (long long)(t0 + want - 1), (long long)(t1 + want + 1));
	ig_sts_role_result_clear(&res);
}

/* One role: credentials that work, as the endpoint proves by answering
 * GetCallerIdentity for them with the assumed-role ARN. */
static void it_assume_one(void **state)
{
	struct ig_sts_config cfg;
	struct ig_sts_assume_req req;
	struct ig_sts_tag tags[3];
	struct ig_sts_role_result res;
	struct ig_sts_identity id;

	(void)state;
	ep_require(&E);
	faults("{\"reset\":true}");
	icfg(&cfg);
	req_init(&req, R_RO, "alice", tags);
	assert_int_equal(ig_sts_assume_roles(&cfg, &BASE, &req, 1, &res), 0);
	assert_string_equal(res.reason, "ok");
	assert_int_equal(res.attempts, 1);
	assert_int_equal(res.http_status, 200);
	assert_true(ig_aws_creds_key_id_ok(res.creds.access_key_id));
	assert_non_null(res.creds.session_token);
	assert_string_equal(res.assumed_role_arn,
	                    "arn:aws:sts::123456789012:assumed-role/iamgate-readonly/alice");
	assert_string_equal(res.source_identity, "alice");
	assert_true(res.request_id[0] != '\0');

	assert_int_equal(ig_sts_get_caller_identity(&cfg, &res.creds, &id), 0);
	assert_string_equal(id.reason, "ok");
	assert_string_equal(id.arn, res.assumed_role_arn);
	assert_string_equal(id.account, "123456789012");
	ig_sts_role_result_clear(&res);

	/* The base identity too. */
	assert_int_equal(ig_sts_get_caller_identity(&cfg, &BASE, &id), 0);
	assert_string_equal(id.arn, "arn:aws:iam::123456789012:user/iamgate-bastion");

	/* DurationSeconds: default 900 (the endpoint's own default is 3600),
	 * asked 1800, and 7200 clamped to 3600. */
	expect_duration(&cfg, &req, 900);
	req.duration_seconds = 1800;
	expect_duration(&cfg, &req, 1800);
	req.duration_seconds = 7200;
	expect_duration(&cfg, &req, 3600);
}

/* Several roles at once, each with its own outcome; the invalid one is
 * never sent. */
static void it_assume_several(void **state)
{
	struct ig_sts_config cfg;
	struct ig_sts_assume_req req[4];
	struct ig_sts_tag tags[4][3];
	struct ig_sts_role_result res[4];
	long before, after;

	(void)state;
	ep_require(&E);
	faults("{\"reset\":true}");
	icfg(&cfg);
	req_init(&req[0], R_RO, "bob", tags[0]);
	req_init(&req[1], R_OPEN, "bob", tags[1]);
	req_init(&req[2], R_FORBIDDEN, "bob", tags[2]);
	req_init(&req[3], R_RO, "bob", tags[3]);
	req[3].session_name = "b"; /* too short */
	before = ep_requests(&E, "sts");
	assert_int_equal(ig_sts_assume_roles(&cfg, &BASE, req, 4, res), IG_ERR_AWS);
	after = ep_requests(&E, "sts");
	assert_string_equal(res[0].reason, "ok");
	assert_string_equal(res[1].reason, "ok");
	assert_string_equal(res[2].reason, "AccessDenied");
	assert_int_equal(res[2].err, IG_ERR_AWS);
	assert_int_equal(res[2].attempts, 1);
	assert_int_equal(res[2].http_status, 403);
	assert_null(res[2].creds.session_token);
	assert_string_equal(res[3].reason, "invalid_request");
	assert_int_equal(res[3].attempts, 0);
	assert_true(strcmp(res[0].creds.access_key_id, res[1].creds.access_key_id) != 0);
	assert_string_equal(res[1].assumed_role_arn,
	                    "arn:aws:sts::123456789012:assumed-role/iamgate-open/bob");
	assert_int_equal(after - before, 3);
	for (int i = 0; i < 4; i++)
		ig_sts_role_result_clear(&res[i]);
}

/* Temporary base credentials: X-Amz-Security-Token is sent and signed. */
static void it_temporary_base(void **state)
{
	struct ig_sts_config cfg;
	struct ig_sts_assume_req req;
	struct ig_sts_tag tags[3];
	struct ig_sts_role_result res;
	struct ig_aws_creds c;

	(void)state;
	ep_require(&E);
	faults("{\"reset\":true}");
	icfg(&cfg);
	req_init(&req, R_RO, "carol", tags);
	assert_int_equal(ig_sts_assume_roles(&cfg, &INSTANCE, &req, 1, &res), 0);
	assert_string_equal(res.reason, "ok");
	ig_sts_role_result_clear(&res);

	/* The same keys without their token are not valid. */
	c = INSTANCE;
	c.session_token = NULL;
	assert_int_equal(ig_sts_assume_roles(&cfg, &c, &req, 1, &res), IG_ERR_AWS);
	assert_int_equal(res.attempts, 1);
	assert_true(strcmp(res.reason, "ok") != 0);
	print_message("# temporary keys without token: %s\n", res.reason);
}

/* Bad base credentials and a skewed clock: the STS error code is the
 * reason, nothing is retried. */
static void it_bad_base(void **state)
{
	struct ig_sts_config cfg;
	struct ig_sts_assume_req req;
	struct ig_sts_tag tags[3];
	struct ig_sts_role_result res;
	struct ig_aws_creds c;
	int64_t skewed = (int64_t)time(NULL) + 3600;

	(void)state;
	ep_require(&E);
	faults("{\"reset\":true}");
	icfg(&cfg);
	req_init(&req, R_RO, "dave", tags);

	c = BASE;
	c.secret_access_key[0] = c.secret_access_key[0] == 'A' ? 'B' : 'A';
	assert_int_equal(ig_sts_assume_roles(&cfg, &c, &req, 1, &res), IG_ERR_AWS);
	assert_string_equal(res.reason, "SignatureDoesNotMatch");
	assert_int_equal(res.attempts, 1);

	c = BASE;
	memcpy(c.access_key_id, "AKIAUNKNOWNUNKNOWN00", 21);
	assert_int_equal(ig_sts_assume_roles(&cfg, &c, &req, 1, &res), IG_ERR_AWS);
	assert_string_equal(res.reason, "InvalidClientTokenId");

	/* The injected clock signs the request. */
	cfg.now = fixed_clock;
	cfg.now_arg = &skewed;
	assert_int_equal(ig_sts_assume_roles(&cfg, &BASE, &req, 1, &res), IG_ERR_AWS);
	assert_string_equal(res.reason, "SignatureDoesNotMatch");
	/* With the endpoint's clock moved the same way, it signs correctly. */
	skewed = (int64_t)time(NULL) + 4000;
	faults("{\"clock_offset\":4000}");
	assert_int_equal(ig_sts_assume_roles(&cfg, &BASE, &req, 1, &res), 0);
	assert_true(res.creds.expiration > skewed);
	ig_sts_role_result_clear(&res);
	faults("{\"reset\":true}");
}

/* Expired base credentials: refused by the endpoint (ExpiredToken), or
 * caught locally before anything is sent. */
static void it_expired_base(void **state)
{
	struct ig_sts_config cfg;
	struct ig_sts_assume_req req;
	struct ig_sts_tag tags[3];
	struct ig_sts_role_result res;
	struct ig_aws_creds c;
	long before;

	(void)state;
	ep_require(&E);
	icfg(&cfg);
	req_init(&req, R_RO, "erin", tags);
	faults("{\"reset\":true,\"expired\":true}");
	assert_int_equal(ig_sts_assume_roles(&cfg, &BASE, &req, 1, &res), IG_ERR_AWS);
	assert_string_equal(res.reason, "ExpiredToken");
	assert_int_equal(res.attempts, 1);
	faults("{\"reset\":true}");

	c = INSTANCE;
	c.expiration = (int64_t)time(NULL) - 1;
	before = ep_requests(&E, "sts");
	assert_int_equal(ig_sts_assume_roles(&cfg, &c, &req, 1, &res), IG_ERR_INVAL);
	assert_string_equal(res.reason, "base_credentials_expired");
	assert_int_equal(res.attempts, 0);
	assert_int_equal(ep_requests(&E, "sts"), before);
}

/* TLS: a CA that did not sign the server, the system store, a server
 * certificate for another name: tls_verify_failed, never retried. */
static void it_tls(void **state)
{
	struct ig_sts_config cfg;
	struct ig_sts_assume_req req;
	struct ig_sts_tag tags[3];
	struct ig_sts_role_result res;
	struct ep e2;
	char other_ca[700], dir[600], cadir[700];
	const char *opts[] = {"--cert", "wrongname-server", "--ca-dir", cadir, "--no-imds", NULL};
	long before;

	(void)state;
	ep_require(&E);
	faults("{\"reset\":true}");
	icfg(&cfg);
	req_init(&req, R_RO, "frank", tags);
	assert_int_equal(ig_bfmt(other_ca, sizeof(other_ca), "%s/ca/other-ca.pem", E.dir), 0);
	cfg.ca_file = other_ca;
	before = ep_requests(&E, "sts");
	assert_int_equal(ig_sts_assume_roles(&cfg, &BASE, &req, 1, &res), IG_ERR_NET);
	assert_string_equal(res.reason, "tls_verify_failed");
	assert_int_equal(res.attempts, 1);
	cfg.ca_file = NULL;
	cfg.timeout_ms = 30000; /* the system bundle loads slowly under valgrind */
	assert_int_equal(ig_sts_assume_roles(&cfg, &BASE, &req, 1, &res), IG_ERR_NET);
	assert_string_equal(res.reason, "tls_verify_failed");
	assert_int_equal(ep_requests(&E, "sts"), before);

	assert_int_equal(ig_bfmt(dir, sizeof(dir), "%s/ep-wrongname", scratch), 0);
	assert_int_equal(ig_bfmt(cadir, sizeof(cadir), "%s/ca", E.dir), 0);
	assert_int_equal(ep_start(&e2, dir, opts), 0);
	cfg.endpoint = e2.sts_url;
	cfg.ca_file = E.sts_ca;
	cfg.timeout_ms = 20000;
	assert_int_equal(ig_sts_assume_roles(&cfg, &BASE, &req, 1, &res), IG_ERR_NET);
	assert_string_equal(res.reason, "tls_verify_failed");
	ep_stop(&e2);
}

/* Throttling and 5xx are retried with backoff; so are dropped
 * connections.  Within max_attempts, the call succeeds. */
static void it_retries(void **state)
{
	struct ig_sts_config cfg;
	struct ig_sts_assume_req req;
	struct ig_sts_tag tags[3];
	struct ig_sts_role_result res;

	(void)state;
	ep_require(&E);
	icfg(&cfg);
	req_init(&req, R_RO, "grace", tags);

	faults("{\"reset\":true,\"throttle\":{\"count\":2}}");
	assert_int_equal(ig_sts_assume_roles(&cfg, &BASE, &req, 1, &res), 0);
	assert_int_equal(res.attempts, 3);
	ig_sts_role_result_clear(&res);

	faults("{\"reset\":true,\"throttle\":{}}");
	assert_int_equal(ig_sts_assume_roles(&cfg, &BASE, &req, 1, &res), IG_ERR_AWS);
	assert_string_equal(res.reason, "Throttling");
	assert_int_equal(res.attempts, 3);

	faults("{\"reset\":true,\"fail5xx\":{\"count\":1}}");
	assert_int_equal(ig_sts_assume_roles(&cfg, &BASE, &req, 1, &res), 0);
	assert_int_equal(res.attempts, 2);
	ig_sts_role_result_clear(&res);

	faults("{\"reset\":true,\"fail5xx\":{\"status\":503}}");
	assert_int_equal(ig_sts_assume_roles(&cfg, &BASE, &req, 1, &res), IG_ERR_AWS);
	assert_string_equal(res.reason, "http_5xx");
	assert_int_equal(res.http_status, 503);
	assert_int_equal(res.attempts, 3);

	faults("{\"reset\":true,\"drop\":{\"count\":1}}");
	assert_int_equal(ig_sts_assume_roles(&cfg, &BASE, &req, 1, &res), 0);
	assert_int_equal(res.attempts, 2);
	ig_sts_role_result_clear(&res);

	faults("{\"reset\":true,\"drop\":{}}");
	assert_int_equal(ig_sts_assume_roles(&cfg, &BASE, &req, 1, &res), IG_ERR_NET);
	assert_string_equal(res.reason, "transport_error");
	assert_int_equal(res.attempts, 3);
	faults("{\"reset\":true}");
}

/* Malformed responses are final (a retry would not fix the server). */
static void it_malformed(void **state)
{
	static const char *const modes[] = {"truncated", "garbage", "empty",
	                                    "html",      "nocreds", "badexpiry"};
	struct ig_sts_config cfg;
	struct ig_sts_assume_req req;
	struct ig_sts_tag tags[3];
	struct ig_sts_role_result res;
	char json[128];

	(void)state;
	ep_require(&E);
	icfg(&cfg);
	req_init(&req, R_RO, "heidi", tags);
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		assert_int_equal(ig_bfmt(json, sizeof(json),
		                         "{\"reset\":true,\"malformed\":{\"mode\":\"%s\"}}",
		                         modes[i]),
		                 0);
		faults(json);
		assert_int_equal(ig_sts_assume_roles(&cfg, &BASE, &req, 1, &res), IG_ERR_PARSE);
		if (strcmp(res.reason, "malformed_response") != 0)
			fail_msg("mode %s: reason %s", modes[i], res.reason);
		assert_int_equal(res.attempts, 1);
		assert_null(res.creds.session_token);
	}
	faults("{\"reset\":true,\"malformed\":{\"mode\":\"huge\",\"bytes\":100000}}");
	assert_int_equal(ig_sts_assume_roles(&cfg, &BASE, &req, 1, &res), IG_ERR_PARSE);
	assert_string_equal(res.reason, "response_too_large");
	assert_int_equal(res.attempts, 1);
	faults("{\"reset\":true}");
}

/* Slow server: a slow first attempt is retried; a server slower than the
 * whole budget ends in "timeout" within the total limit. */
static void it_slow(void **state)
{
	struct ig_sts_config cfg;
	struct ig_sts_assume_req req;
	struct ig_sts_tag tags[3];
	struct ig_sts_role_result res;
	struct timespec t0;
	long ms;

	(void)state;
	ep_require(&E);
	icfg(&cfg);
	req_init(&req, R_RO, "ivan", tags);

	faults("{\"reset\":true,\"slow\":{\"ms\":2500,\"count\":1}}");
	cfg.attempt_timeout_ms = 1000;
	assert_int_equal(ig_sts_assume_roles(&cfg, &BASE, &req, 1, &res), 0);
	assert_true(res.attempts >= 2); /* 2, or 3 on a machine too loaded for 1 s */
	ig_sts_role_result_clear(&res);

	faults("{\"reset\":true,\"slow\":{\"ms\":3000}}");
	cfg.timeout_ms = 3000;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(ig_sts_assume_roles(&cfg, &BASE, &req, 1, &res), IG_ERR_TIMEOUT);
	ms = elapsed_ms(&t0);
	assert_string_equal(res.reason, "timeout");
	assert_true(res.attempts >= 2);
	assert_true(ms < 3000 + 1000);
	print_message("# slow server: timeout after %u attempts, %ld ms (limit 3000)\n",
	              res.attempts, ms);

	/* Slow in the middle of the body. */
	faults("{\"reset\":true,\"slow\":{\"ms\":3000,\"where\":\"body\"}}");
	cfg.max_attempts = 1;
	assert_int_equal(ig_sts_assume_roles(&cfg, &BASE, &req, 1, &res), IG_ERR_TIMEOUT);
	assert_string_equal(res.reason, "timeout");
	faults("{\"reset\":true}");
}

/* k roles with the endpoint adding 100 ms per request: concurrent
 * requests should cost about one round trip.  Printed, not asserted. */
static void it_measure(void **state)
{
	struct ig_sts_config cfg;
	struct ig_sts_assume_req req[8];
	struct ig_sts_tag tags[8][3];
	struct ig_sts_role_result res[8];
	static const size_t ks[] = {1, 2, 4, 8};

	(void)state;
	ep_require(&E);
	icfg(&cfg);
	for (int i = 0; i < 8; i++)
		req_init(&req[i], i % 2 ? R_OPEN : R_RO, "judy", tags[i]);
	faults("{\"reset\":true,\"slow\":{\"ms\":100}}");
	for (size_t t = 0; t < sizeof(ks) / sizeof(ks[0]); t++) {
		struct timespec t0;
		long best = -1;
		for (int rep = 0; rep < 3; rep++) {
			long ms;
			clock_gettime(CLOCK_MONOTONIC, &t0);
			assert_int_equal(ig_sts_assume_roles(&cfg, &BASE, req, ks[t], res), 0);
			ms = elapsed_ms(&t0);
			if (best < 0 || ms < best)
				best = ms;
			for (size_t i = 0; i < ks[t]; i++)
				ig_sts_role_result_clear(&res[i]);
		}
		print_message("# k=%zu roles, endpoint +100 ms/request: %ld ms (best of 3)\n",
		              ks[t], best);
	}
	/* For comparison: the same 8 roles one call after the other. */
	{
		struct timespec t0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (int i = 0; i < 8; i++) {
			assert_int_equal(ig_sts_assume_roles(&cfg, &BASE, &req[i], 1, &res[i]), 0);
			ig_sts_role_result_clear(&res[i]);
		}
		print_message("# k=8 roles one after the other: %ld ms\n", elapsed_ms(&t0));
	}
	faults("{\"reset\":true}");
}

/* IPv6 loopback endpoint: Host header and URL with [::1]. */
static void it_ipv6(void **state)
{
	struct ig_sts_config cfg;
	struct ig_sts_assume_req req;
	struct ig_sts_tag tags[3];
	struct ig_sts_role_result res;
	struct ep e6;
	char dir[600], cadir[700], statef[700];
	const char *opts[] = {"--bind",  "::1",  "--ca-dir",  cadir,
	                      "--state", statef, "--no-imds", NULL};

	(void)state;
	ep_require(&E);
	assert_int_equal(ig_bfmt(dir, sizeof(dir), "%s/ep-v6", scratch), 0);
	assert_int_equal(ig_bfmt(cadir, sizeof(cadir), "%s/ca", E.dir), 0);
	assert_int_equal(ig_bfmt(statef, sizeof(statef), "%s/state.json", E.dir), 0);
	if (ep_start(&e6, dir, opts) != 0) {
		ep_stop(&e6);
		print_message("# no IPv6 loopback here: skipped\n");
		skip();
	}
	icfg(&cfg);
	cfg.endpoint = e6.sts_url;
	assert_non_null(strstr(e6.sts_url, "[::1]"));
	req_init(&req, R_RO, "kim", tags);
	assert_int_equal(ig_sts_assume_roles(&cfg, &BASE, &req, 1, &res), 0);
	ig_sts_role_result_clear(&res);
	ep_stop(&e6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_name_valid),
	        cmocka_unit_test(test_tag_valid),
	        cmocka_unit_test(test_duration_and_endpoint),
	        cmocka_unit_test(test_form_body),
	        cmocka_unit_test(test_form_body_refusals),
	        cmocka_unit_test(test_xml_success),
	        cmocka_unit_test(test_xml_namespaces),
	        cmocka_unit_test(test_xml_malformed),
	        cmocka_unit_test(test_xml_huge_and_deep),
	        cmocka_unit_test(test_xml_entity_bomb),
	        cmocka_unit_test(test_xml_external_entities),
	        cmocka_unit_test(test_xml_error),
	        cmocka_unit_test(test_xml_caller_identity),
	        cmocka_unit_test(test_assume_refusals),
	        cmocka_unit_test(test_assume_connect_failed),
	        cmocka_unit_test(test_assume_timeout),
	};

	const struct CMUnitTest itests[] = {
	        cmocka_unit_test(it_assume_one),     cmocka_unit_test(it_assume_several),
	        cmocka_unit_test(it_temporary_base), cmocka_unit_test(it_bad_base),
	        cmocka_unit_test(it_expired_base),   cmocka_unit_test(it_tls),
	        cmocka_unit_test(it_retries),        cmocka_unit_test(it_malformed),
	        cmocka_unit_test(it_slow),           cmocka_unit_test(it_measure),
	        cmocka_unit_test(it_ipv6),
	};
	int fails;

	if (group_setup(NULL) != 0)
		return 1;
	fails = cmocka_run_group_tests_name("sts_unit", tests, NULL, NULL);
	fails += cmocka_run_group_tests_name("sts_integration", itests, int_setup, int_teardown);
	return fails;
}
