/*
 * test_creds.c - base credentials: the shared-credentials INI parser, the
 * file source with its ownership/mode checks, the env source, the IMDS
 * JSON parser, and (when the IMDS emulator in tests/sts/ is present) the
 * IMDSv2 flow and its cache.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iamgate/creds.h"
#include "iamgate/sts.h"
#include "iamgate/util.h"

#include "sts_endpoint_fixture.h"

#define AKID "AKIAIOSFODNN7EXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define TOKEN "IQoJb3JpZ2luX2VjEXAMPLE+token/with=chars"
#define NOW 1700000000

static char scratch[512];

static void scratch_path(char *buf, size_t cap, const char *name)
{
	assert_int_equal(ig_bfmt(buf, cap, "%s/%s", scratch, name), 0);
}

static void write_file(const char *path, const char *data, mode_t mode)
{
	int fd;

	(void)unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static int64_t fixed_clock(void *arg)
{
	return arg ? *(int64_t *)arg : NOW;
}

static int group_setup(void **state)
{
	(void)state;
	if (ig_bfmt(scratch, sizeof(scratch), "%s/build/t-creds-%d", IG_SOURCE_DIR,
	            (int)getpid()) != 0 ||
	    mkdir(scratch, 0700) != 0)
		return -1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* INI                                                                 */

static void test_ini_good(void **state)
{
	static const char text[] = "# AWS shared credentials\n"
	                           "; another comment\n"
	                           "\n"
	                           "[other]\n"
	                           "aws_access_key_id = AKIAOTHEROTHEROTHER1\n"
	                           "aws_secret_access_key = other/secret\n"
	                           "\r\n"
	                           "[default]\r\n"
	                           "  \t\n"
	                           "aws_access_key_id=" AKID "\r\n"
	                           "AWS_Secret_Access_Key =\t" SECRET "  \n"
	                           "region = ap-northeast-1\n"
	                           "[ spaced ]\n"
	                           "aws_access_key_id = AKIASPACEDSPACEDSPA1\n"
	                           "aws_secret_access_key = spaced\n"
	                           "aws_session_token = " TOKEN;
	struct ig_aws_creds c;
	unsigned line = 99;

	(void)state;
	assert_int_equal(ig_creds_parse_ini(text, strlen(text), NULL, &c, &line), 0);
	assert_int_equal(line, 0);
	assert_string_equal(c.access_key_id, AKID);
	assert_string_equal(c.secret_access_key, SECRET);
	assert_null(c.session_token);
	assert_int_equal(c.expiration, 0);
	ig_aws_creds_clear(&c);

	assert_int_equal(ig_creds_parse_ini(text, strlen(text), "other", &c, &line), 0);
	assert_string_equal(c.access_key_id, "AKIAOTHEROTHEROTHER1");
	assert_string_equal(c.secret_access_key, "other/secret");
	ig_aws_creds_clear(&c);

	/* Section names are trimmed; the last line has no newline. */
	assert_int_equal(ig_creds_parse_ini(text, strlen(text), "spaced", &c, &line), 0);
	assert_string_equal(c.session_token, TOKEN);
	ig_aws_creds_clear(&c);

	/* Not there, or incomplete. */
	assert_int_equal(ig_creds_parse_ini(text, strlen(text), "nope", &c, &line),
	                 IG_ERR_NOTFOUND);
	assert_string_equal(c.access_key_id, "");
	{
		static const char t2[] = "[default]\naws_access_key_id = " AKID "\n";
		assert_int_equal(ig_creds_parse_ini(t2, strlen(t2), "default", &c, &line),
		                 IG_ERR_NOTFOUND);
		assert_string_equal(c.access_key_id, "");
	}
	/* Profile names are exact (case-sensitive). */
	assert_int_equal(ig_creds_parse_ini(text, strlen(text), "Default", &c, &line),
	                 IG_ERR_NOTFOUND);
	/* len bounds the text: the secret line cut off. */
	assert_int_equal(ig_creds_parse_ini(text, (size_t)(strstr(text, "AWS_Secret") - text), NULL,
	                                    &c, &line),
	                 IG_ERR_NOTFOUND);
}

static void test_ini_bad(void **state)
{
	static const struct {
		const char *text;
		unsigned line;
		int err;
	} cases[] = {
	        {"aws_access_key_id = " AKID "\n[default]\n", 1, IG_ERR_PARSE},
	        {"[default]\naws_access_key_id " AKID "\n", 2, IG_ERR_PARSE},
	        {"[default]\naws_access_key_id = " AKID "\n  continued\n", 3, IG_ERR_PARSE},
	        {"[default\naws_access_key_id = " AKID "\n", 1, IG_ERR_PARSE},
	        {"[]\n", 1, IG_ERR_PARSE},
	        {"[ ]\n", 1, IG_ERR_PARSE},
	        {"[a]b]\n", 1, IG_ERR_PARSE},
	        {"[default] # comment\n", 1, IG_ERR_PARSE},
	        {"[default]\n = value\n", 2, IG_ERR_PARSE},
	        {"[default]\nbad-key = value\n", 2, IG_ERR_PARSE},
	        {"[x]\nbad key = value\n", 2, IG_ERR_PARSE}, /* other sections checked too */
	        {"[default]\naws_access_key_id = " AKID "\naws_access_key_id = " AKID "\n", 3,
	         IG_ERR_PARSE},
	        {"[default]\naws_access_key_id = " AKID "\n[default]\naws_secret_access_key = x\n",
	         3, IG_ERR_PARSE},
	        {"[default]\naws_access_key_id = AKIA SPACE SPACE 12\naws_secret_access_key = "
	         "x\n",
	         0, IG_ERR_PARSE},
	        {"[default]\naws_access_key_id = short\naws_secret_access_key = x\n", 0,
	         IG_ERR_PARSE},
	        {"[default]\naws_access_key_id = " AKID "\naws_secret_access_key = a\"b\n", 0,
	         IG_ERR_PARSE},
	        {"[default]\naws_access_key_id = " AKID "\naws_secret_access_key = " SECRET
	         "\naws_session_token = \n",
	         0, IG_ERR_PARSE},
	        {"[default]\naws_access_key_id = " AKID "\naws_secret_access_key = " SECRET
	         "\naws_session_token = tok;en\n",
	         0, IG_ERR_PARSE},
	};
	struct ig_aws_creds c;
	unsigned line;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = ig_creds_parse_ini(cases[i].text, strlen(cases[i].text), "default", &c,
		                           &line);
		if (r != cases[i].err || line != cases[i].line)
			fail_msg("case %zu: r=%d line=%u, want %d line %u", i, r, line,
			         cases[i].err, cases[i].line);
		assert_null(c.session_token);
		assert_string_equal(c.secret_access_key, "");
	}

	/* An embedded NUL. */
	{
		static const char t[] =
		        "[default]\naws_access_key_id = " AKID "\0\naws_secret_access_key = x\n";
		assert_int_equal(ig_creds_parse_ini(t, sizeof(t) - 1, "default", &c, &line),
		                 IG_ERR_PARSE);
	}
	/* A line over 16 KiB. */
	{
		size_t n = 17000;
		char *t = malloc(n + 32);
		assert_non_null(t);
		memcpy(t, "[default]\nx = ", 14);
		memset(t + 14, 'a', n);
		t[14 + n] = '\0';
		assert_int_equal(ig_creds_parse_ini(t, strlen(t), "default", &c, &line),
		                 IG_ERR_PARSE);
		assert_int_equal(line, 2);
		free(t);
	}
}

/* ------------------------------------------------------------------ */
/* File source                                                         */

static void test_file_source(void **state)
{
	static const char text[] =
	        "[default]\naws_access_key_id = " AKID "\naws_secret_access_key = " SECRET "\n";
	struct ig_creds_config cfg = {0};
	struct ig_creds_info info;
	struct ig_aws_creds c;
	char path[600], sub[600], lnk[600];

	(void)state;
	scratch_path(path, sizeof(path), "credentials");
	cfg.source = IG_CREDS_SRC_FILE;
	cfg.file = path;

	write_file(path, text, 0600);
	assert_int_equal(ig_creds_load(&cfg, &c, &info), 0);
	assert_string_equal(info.reason, "ok");
	assert_string_equal(c.access_key_id, AKID);
	assert_string_equal(c.secret_access_key, SECRET);
	ig_aws_creds_clear(&c);

	write_file(path, text, 0400);
	assert_int_equal(ig_creds_load(&cfg, &c, &info), 0);
	ig_aws_creds_clear(&c);

	/* Readable or writable by anyone else: refused, whatever it holds. */
	static const mode_t bad_modes[] = {0640, 0604, 0644, 0660, 0606, 0610, 0601};
	for (size_t i = 0; i < sizeof(bad_modes) / sizeof(bad_modes[0]); i++) {
		write_file(path, text, bad_modes[i]);
		assert_int_equal(ig_creds_load(&cfg, &c, &info), IG_ERR_UNSAFE);
		assert_string_equal(info.reason, "credentials_file_unsafe");
		assert_non_null(strstr(info.detail, path));
		assert_string_equal(c.access_key_id, "");
	}

	/* Not root's. */
	write_file(path, text, 0600);
	assert_int_equal(chown(path, 1000, 1000), 0);
	assert_int_equal(ig_creds_load(&cfg, &c, &info), IG_ERR_UNSAFE);
	assert_string_equal(info.reason, "credentials_file_unsafe");
	assert_int_equal(chown(path, 0, 0), 0);

	/* A symlink to a good file. */
	scratch_path(lnk, sizeof(lnk), "link");
	(void)unlink(lnk);
	assert_int_equal(symlink(path, lnk), 0);
	cfg.file = lnk;
	assert_int_equal(ig_creds_load(&cfg, &c, &info), IG_ERR_UNSAFE);
	assert_string_equal(info.reason, "credentials_file_unsafe");
	assert_int_equal(unlink(lnk), 0);

	/* A second hard link. */
	assert_int_equal(link(path, lnk), 0);
	cfg.file = path;
	assert_int_equal(ig_creds_load(&cfg, &c, &info), IG_ERR_UNSAFE);
	assert_int_equal(unlink(lnk), 0);

	/* A group-writable parent directory. */
	scratch_path(sub, sizeof(sub), "sub");
	assert_int_equal(mkdir(sub, 0770), 0);
	assert_int_equal(chmod(sub, 0770), 0);
	scratch_path(path, sizeof(path), "sub/credentials");
	write_file(path, text, 0600);
	cfg.file = path;
	assert_int_equal(ig_creds_load(&cfg, &c, &info), IG_ERR_UNSAFE);
	assert_string_equal(info.reason, "credentials_file_unsafe");
	assert_non_null(strstr(info.detail, "sub"));
	assert_int_equal(chmod(sub, 0700), 0);
	assert_int_equal(ig_creds_load(&cfg, &c, &info), 0);
	ig_aws_creds_clear(&c);

	/* Malformed content, missing file, bad paths. */
	write_file(path, "[default]\nno equals sign\n", 0600);
	assert_int_equal(ig_creds_load(&cfg, &c, &info), IG_ERR_PARSE);
	assert_string_equal(info.reason, "credentials_file_malformed");
	cfg.profile = "nope";
	write_file(path, text, 0600);
	assert_int_equal(ig_creds_load(&cfg, &c, &info), IG_ERR_NOTFOUND);
	assert_string_equal(info.reason, "base_credentials_missing");
	cfg.profile = NULL;
	assert_int_equal(unlink(path), 0);
	assert_int_equal(ig_creds_load(&cfg, &c, &info), IG_ERR_NOTFOUND);
	assert_string_equal(info.reason, "credentials_file_missing");
	cfg.file = "relative/credentials";
	assert_int_equal(ig_creds_load(&cfg, &c, &info), IG_ERR_INVAL);
	assert_string_equal(info.reason, "invalid_config");
	cfg.file = NULL;
	assert_int_equal(ig_creds_load(&cfg, &c, &info), IG_ERR_INVAL);
	cfg.file = "/";
	assert_int_equal(ig_creds_load(&cfg, &c, &info), IG_ERR_INVAL);
}

/* ------------------------------------------------------------------ */
/* Env source                                                          */

static void test_env_source(void **state)
{
	char *const good[] = {"PATH=/bin", "AWS_ACCESS_KEY_ID=" AKID,
	                      "AWS_SECRET_ACCESS_KEY=" SECRET, "AWS_SESSION_TOKEN=" TOKEN, NULL};
	char *const no_token[] = {"AWS_ACCESS_KEY_ID=" AKID, "AWS_SECRET_ACCESS_KEY=" SECRET,
	                          "AWS_SESSION_TOKEN=", NULL};
	char *const missing[] = {"AWS_ACCESS_KEY_ID=" AKID, "AWS_SECRET_ACCESS_KEY_X=" SECRET,
	                         NULL};
	char *const bad[] = {"AWS_ACCESS_KEY_ID=" AKID, "AWS_SECRET_ACCESS_KEY=a b", NULL};
	char *const empty[] = {NULL};
	struct ig_creds_config cfg = {0};
	struct ig_creds_info info;
	struct ig_aws_creds c;

	(void)state;
	cfg.source = IG_CREDS_SRC_ENV;
	cfg.env = good;
	assert_int_equal(ig_creds_load(&cfg, &c, &info), 0);
	assert_string_equal(c.access_key_id, AKID);
	assert_string_equal(c.secret_access_key, SECRET);
	assert_string_equal(c.session_token, TOKEN);
	assert_int_equal(c.expiration, 0);
	ig_aws_creds_clear(&c);

	cfg.env = no_token;
	assert_int_equal(ig_creds_load(&cfg, &c, &info), 0);
	assert_null(c.session_token);
	ig_aws_creds_clear(&c);

	cfg.env = missing;
	assert_int_equal(ig_creds_load(&cfg, &c, &info), IG_ERR_NOTFOUND);
	assert_string_equal(info.reason, "base_credentials_missing");
	cfg.env = empty;
	assert_int_equal(ig_creds_load(&cfg, &c, &info), IG_ERR_NOTFOUND);
	cfg.env = bad;
	assert_int_equal(ig_creds_load(&cfg, &c, &info), IG_ERR_PARSE);
	assert_string_equal(info.reason, "base_credentials_malformed");
	assert_string_equal(c.access_key_id, "");

	/* The process environment when env is NULL. */
	assert_int_equal(setenv("AWS_ACCESS_KEY_ID", AKID, 1), 0);
	assert_int_equal(setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1), 0);
	unsetenv("AWS_SESSION_TOKEN");
	cfg.env = NULL;
	assert_int_equal(ig_creds_load(&cfg, &c, &info), 0);
	assert_string_equal(c.access_key_id, AKID);
	ig_aws_creds_clear(&c);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	assert_int_equal(ig_creds_load(&cfg, &c, &info), IG_ERR_NOTFOUND);

	cfg.source = (enum ig_creds_src)42;
	assert_int_equal(ig_creds_load(&cfg, &c, &info), IG_ERR_INVAL);
	assert_int_equal(ig_creds_load(NULL, &c, &info), IG_ERR_INVAL);
}

/* ------------------------------------------------------------------ */
/* IMDS JSON                                                           */

#define IMDS_GOOD                                                                                  \
	"{\n  \"Code\" : \"Success\",\n  \"LastUpdated\" : \"2023-11-14T22:00:00Z\",\n"            \
	"  \"Type\" : \"AWS-HMAC\",\n  \"AccessKeyId\" : \"ASIAIOSFODNN7EXAMPLE\",\n"              \
	"  \"SecretAccessKey\" : \"" SECRET "\",\n  \"Token\" : \"" TOKEN "\",\n"                  \
	"  \"Expiration\" : \"2023-11-14T23:13:20Z\"\n}"

static void test_imds_json(void **state)
{
	static const struct {
		const char *json;
		int err;
	} bad[] = {
	        {"", IG_ERR_PARSE},
	        {"garbage", IG_ERR_PARSE},
	        {"[]", IG_ERR_PARSE},
	        {"\"Success\"", IG_ERR_PARSE},
	        {"{}", IG_ERR_PARSE},
	        {"{\"Code\":\"AssumeRoleUnauthorizedAccess\",\"Message\":\"no\"}", IG_ERR_AWS},
	        {"{\"Code\":\"Success\",\"Type\":\"AWS-HMAC\",\"AccessKeyId\":"
	         "\"ASIAIOSFODNN7EXAMPLE\","
	         "\"SecretAccessKey\":\"" SECRET "\",\"Token\":\"" TOKEN "\"}",
	         IG_ERR_PARSE},
	        {"{\"Code\":\"Success\",\"Type\":\"Other\",\"AccessKeyId\":"
	         "\"ASIAIOSFODNN7EXAMPLE\","
	         "\"SecretAccessKey\":\"" SECRET "\",\"Token\":\"" TOKEN
	         "\",\"Expiration\":\"2023-11-14T23:13:20Z\"}",
	         IG_ERR_PARSE},
	        {"{\"Code\":\"Success\",\"Type\":1,\"AccessKeyId\":\"ASIAIOSFODNN7EXAMPLE\","
	         "\"SecretAccessKey\":\"" SECRET "\",\"Token\":\"" TOKEN
	         "\",\"Expiration\":\"2023-11-14T23:13:20Z\"}",
	         IG_ERR_PARSE},
	        {"{\"Code\":\"Success\",\"AccessKeyId\":\"ASIAIOSFODNN7EXAMPLE\","
	         "\"SecretAccessKey\":42,\"Token\":\"" TOKEN
	         "\",\"Expiration\":\"2023-11-14T23:13:20Z\"}",
	         IG_ERR_PARSE},
	        {"{\"Code\":\"Success\",\"AccessKeyId\":\"ASIAIOSFODNN7EXAMPLE\","
	         "\"SecretAccessKey\":\"" SECRET "\",\"Token\":\"to\\u0000ken\","
	         "\"Expiration\":\"2023-11-14T23:13:20Z\"}",
	         IG_ERR_PARSE},
	        {"{\"Code\":\"Success\",\"AccessKeyId\":\"ASIAIOSFODNN7EXAMPLE\","
	         "\"SecretAccessKey\":\"" SECRET "\",\"Token\":\"to ken\","
	         "\"Expiration\":\"2023-11-14T23:13:20Z\"}",
	         IG_ERR_PARSE},
	        {"{\"Code\":\"Success\",\"AccessKeyId\":\"ASIAIOSFODNN7EXAMPLE\","
	         "\"SecretAccessKey\":\"" SECRET "\",\"Token\":\"" TOKEN "\","
	         "\"Expiration\":\"soon\"}",
	         IG_ERR_PARSE},
	        {"{\"Code\":\"Success\",\"Code\":\"Success\",\"AccessKeyId\":"
	         "\"ASIAIOSFODNN7EXAMPLE\","
	         "\"SecretAccessKey\":\"" SECRET "\",\"Token\":\"" TOKEN "\","
	         "\"Expiration\":\"2023-11-14T23:13:20Z\"}",
	         IG_ERR_PARSE},
	        {IMDS_GOOD "x", IG_ERR_PARSE},
	        {IMDS_GOOD "{}", IG_ERR_PARSE},
	};
	struct ig_aws_creds c;
	char *big;

	(void)state;
	assert_int_equal(ig_creds_parse_imds_json(IMDS_GOOD, strlen(IMDS_GOOD), &c), 0);
	assert_string_equal(c.access_key_id, "ASIAIOSFODNN7EXAMPLE");
	assert_string_equal(c.secret_access_key, SECRET);
	assert_string_equal(c.session_token, TOKEN);
	assert_int_equal(c.expiration, NOW + 3600);
	ig_aws_creds_clear(&c);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = ig_creds_parse_imds_json(bad[i].json, strlen(bad[i].json), &c);
		if (r != bad[i].err)
			fail_msg("bad %zu: r=%d want %d", i, r, bad[i].err);
		assert_null(c.session_token);
		assert_string_equal(c.access_key_id, "");
	}
	/* Every truncation fails. */
	for (size_t n = 0; n < strlen(IMDS_GOOD) - 1; n++) {
		if (ig_creds_parse_imds_json(IMDS_GOOD, n, &c) == 0)
			fail_msg("truncated at %zu accepted", n);
	}
	/* Over the size cap, even if it is valid JSON. */
	big = malloc(IG_CREDS_JSON_MAX + 64);
	assert_non_null(big);
	memset(big, ' ', IG_CREDS_JSON_MAX + 10);
	memcpy(big, IMDS_GOOD, strlen(IMDS_GOOD));
	assert_int_equal(ig_creds_parse_imds_json(big, IG_CREDS_JSON_MAX + 10, &c), IG_ERR_PARSE);
	assert_int_equal(ig_creds_parse_imds_json(big, IG_CREDS_JSON_MAX, &c), 0);
	ig_aws_creds_clear(&c);
	free(big);
}

static void test_imds_config(void **state)
{
	struct ig_creds_config cfg = {0};
	struct ig_creds_info info;
	struct ig_aws_creds c;
	char sub[600];
	static const char *const bad[] = {"https://127.0.0.1:1",       "http://u@127.0.0.1:1",
	                                  "http://127.0.0.1:1/latest", "http://127.0.0.1:1/?a",
	                                  "file:///etc/passwd",        "127.0.0.1"};

	(void)state;
	cfg.source = IG_CREDS_SRC_IMDS;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cfg.imds_endpoint = bad[i];
		assert_int_equal(ig_creds_load(&cfg, &c, &info), IG_ERR_INVAL);
		assert_string_equal(info.reason, "invalid_config");
	}
	/* Nothing listening: unavailable, quickly. */
	cfg.imds_endpoint = "http://127.0.0.1:1";
	assert_int_equal(ig_creds_load(&cfg, &c, &info), IG_ERR_NET);
	assert_string_equal(info.reason, "imds_unavailable");

	/* An unsafe cache directory fails closed before IMDS is asked. */
	scratch_path(sub, sizeof(sub), "cache");
	assert_int_equal(mkdir(sub, 0777), 0);
	assert_int_equal(chmod(sub, 0777), 0);
	cfg.cache_dir = sub;
	assert_int_equal(ig_creds_load(&cfg, &c, &info), IG_ERR_UNSAFE);
	assert_string_equal(info.reason, "imds_cache_unusable");
	assert_non_null(strstr(info.detail, "cache"));
	assert_int_equal(chmod(sub, 0700), 0);
	assert_int_equal(ig_creds_load(&cfg, &c, &info), IG_ERR_NET);
	assert_string_equal(info.reason, "imds_unavailable");
}

/* A valid cache file is served without asking IMDS (which is down here),
 * until 5 minutes before it expires; expired or unsafe cache files are
 * not used. */
static void test_imds_cache_only(void **state)
{
	struct ig_creds_config cfg = {0};
	struct ig_creds_info info;
	struct ig_aws_creds c;
	char sub[600], file[700];
	int64_t now = NOW;

	(void)state;
	scratch_path(sub, sizeof(sub), "cache");
	(void)mkdir(sub, 0700);
	assert_int_equal(chmod(sub, 0700), 0);
	scratch_path(file, sizeof(file), "cache/" IG_CREDS_CACHE_NAME);
	cfg.source = IG_CREDS_SRC_IMDS;
	cfg.imds_endpoint = "http://127.0.0.1:1";
	cfg.cache_dir = sub;
	cfg.now = fixed_clock;
	cfg.now_arg = &now;

	write_file(file, IMDS_GOOD, 0600); /* expires NOW + 3600 */
	assert_int_equal(ig_creds_load(&cfg, &c, &info), 0);
	assert_true(info.from_cache);
	assert_string_equal(c.access_key_id, "ASIAIOSFODNN7EXAMPLE");
	assert_int_equal(c.expiration, NOW + 3600);
	ig_aws_creds_clear(&c);

	now = NOW + 3600 - IG_CREDS_REFRESH_MARGIN - 1;
	assert_int_equal(ig_creds_load(&cfg, &c, &info), 0);
	assert_true(info.from_cache);
	ig_aws_creds_clear(&c);

	now = NOW + 3600 - IG_CREDS_REFRESH_MARGIN; /* refresh due: IMDS is down */
	assert_int_equal(ig_creds_load(&cfg, &c, &info), IG_ERR_NET);
	assert_false(info.from_cache);

	now = NOW;
	write_file(file, IMDS_GOOD, 0644); /* readable by others: never read */
	assert_int_equal(ig_creds_load(&cfg, &c, &info), IG_ERR_NET);
	assert_false(info.from_cache);
	write_file(file, "{\"Code\":", 0600);
	assert_int_equal(ig_creds_load(&cfg, &c, &info), IG_ERR_NET);
	assert_false(info.from_cache);
	assert_int_equal(unlink(file), 0);
}

/* ------------------------------------------------------------------ */
/* Integration: the IMDSv2 emulator (tests/sts/), when present           */

static struct ep E;

static int int_setup(void **state)
{
	char dir[600];

	(void)state;
	if (!ep_available())
		return 0;
	if (ig_bfmt(dir, sizeof(dir), "%s/ep", scratch) != 0 || ep_start(&E, dir, NULL) != 0)
		return -1;
	return 0;
}

static int int_teardown(void **state)
{
	char *rm[] = {(char *)"/bin/rm", (char *)"-rf", (char *)"--", scratch, NULL};

	(void)state;
	ep_stop(&E);
	return ep_run(rm, NULL) == 0 ? 0 : -1;
}

static void imds_faults(const char *json)
{
	assert_int_equal(ep_ctl(&E, "imds", json), 0);
}

/* The IMDSv2 flow, the cache, and the credentials put to use with STS. */
static void it_imds_flow(void **state)
{
	struct ig_creds_config cfg = {0}, fc = {0};
	struct ig_creds_info info;
	struct ig_aws_creds c, want;
	struct ig_sts_config sc = {0};
	struct ig_sts_assume_req req = {0};
	struct ig_sts_role_result res;
	char cache[600], file[700];
	struct stat st;
	long before;
	int64_t now, exp;

	(void)state;
	ep_require(&E);
	imds_faults("{\"reset\":true}");
	/* What IMDS serves: the state's "instance" credentials. */
	fc.source = IG_CREDS_SRC_FILE;
	fc.file = E.aws_credentials;
	fc.profile = "instance";
	assert_int_equal(ig_creds_load(&fc, &want, &info), 0);

	assert_int_equal(ig_bfmt(cache, sizeof(cache), "%s/icache", scratch), 0);
	assert_int_equal(mkdir(cache, 0700), 0);
	assert_int_equal(ig_bfmt(file, sizeof(file), "%s/" IG_CREDS_CACHE_NAME, cache), 0);
	cfg.source = IG_CREDS_SRC_IMDS;
	cfg.imds_endpoint = E.imds_url;
	cfg.cache_dir = cache;
	cfg.imds_timeout_ms = 10000; /* the emulator is Python; the machine may be busy */

	before = ep_requests(&E, "imds");
	assert_int_equal(ig_creds_load(&cfg, &c, &info), 0);
	assert_string_equal(info.reason, "ok");
	assert_string_equal(info.imds_role, "iamgate-bastion-instance");
	assert_false(info.from_cache);
	assert_true(info.cache_written);
	assert_int_equal(ep_requests(&E, "imds") - before, 3);
	assert_string_equal(c.access_key_id, want.access_key_id);
	assert_string_equal(c.secret_access_key, want.secret_access_key);
	assert_string_equal(c.session_token, want.session_token);
	assert_true(c.expiration > (int64_t)time(NULL) + IG_CREDS_REFRESH_MARGIN);
	ig_aws_creds_clear(&c);

	/* The cache file: root, 0600, regular. */
	assert_int_equal(lstat(file, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_uid, 0);

	/* Second load: from the cache, IMDS not asked. */
	before = ep_requests(&E, "imds");
	assert_int_equal(ig_creds_load(&cfg, &c, &info), 0);
	assert_true(info.from_cache);
	assert_int_equal(ep_requests(&E, "imds"), before);
	assert_string_equal(c.access_key_id, want.access_key_id);
	assert_string_equal(c.session_token, want.session_token);

	/* The IMDS credentials work for AssumeRole (temporary base keys). */
	sc.endpoint = E.sts_url;
	sc.region = "us-east-1";
	sc.ca_file = E.sts_ca;
	sc.timeout_ms = 20000;
	req.role_arn = "arn:aws:iam::123456789012:role/iamgate-readonly";
	req.session_name = "alice";
	req.source_identity = "alice";
	assert_int_equal(ig_sts_assume_roles(&sc, &c, &req, 1, &res), 0);
	assert_string_equal(res.reason, "ok");
	ig_sts_role_result_clear(&res);

	/* Five minutes before expiry the cache is not used any more: IMDS is
	 * asked again; what it serves is still valid, but not worth caching. */
	exp = c.expiration;
	now = exp - IG_CREDS_REFRESH_MARGIN;
	cfg.now = fixed_clock;
	cfg.now_arg = &now;
	before = ep_requests(&E, "imds");
	ig_aws_creds_clear(&c);
	assert_int_equal(ig_creds_load(&cfg, &c, &info), 0);
	assert_false(info.from_cache);
	assert_false(info.cache_written);
	assert_int_equal(ep_requests(&E, "imds") - before, 3);
	ig_aws_creds_clear(&c);

	/* Within the expiry margin: refused. */
	now = exp - IG_AWS_CREDS_EXPIRY_MARGIN;
	assert_int_equal(ig_creds_load(&cfg, &c, &info), IG_ERR_INVAL);
	assert_string_equal(info.reason, "base_credentials_expired");
	assert_null(c.session_token);
	ig_aws_creds_clear(&want);
	assert_int_equal(unlink(file), 0);
	assert_int_equal(rmdir(cache), 0);
}

/* Every IMDS fault ends in a clear reason, within the time limit. */
static void it_imds_faults(void **state)
{
	static const struct {
		const char *fault, *reason;
		int err;
		unsigned timeout_ms;
	} cases[] = {
	        {"{\"reset\":true,\"down\":{\"count\":1}}", "imds_unavailable", IG_ERR_NET, 10000},
	        {"{\"reset\":true,\"fail5xx\":{\"count\":1}}", "imds_unavailable", IG_ERR_NET,
	         10000},
	        {"{\"reset\":true,\"notoken\":{\"count\":1}}", "imds_unavailable", IG_ERR_NET,
	         10000},
	        {"{\"reset\":true,\"garbage\":{\"count\":1}}", "imds_malformed", IG_ERR_PARSE,
	         10000},
	        {"{\"reset\":true,\"expired\":{\"count\":1}}", "base_credentials_expired",
	         IG_ERR_INVAL, 10000},
	        {"{\"reset\":true,\"slow\":{\"ms\":3000,\"count\":1}}", "imds_unavailable",
	         IG_ERR_TIMEOUT, 1000},
	};
	struct ig_creds_config cfg = {0};
	struct ig_creds_info info;
	struct ig_aws_creds c;
	struct timespec t0, t1;
	char *stop[] = {(char *)"/bin/bash", (char *)EP_SCRIPT,
	                (char *)"stop",      E.dir,
	                (char *)"imds",      NULL};

	(void)state;
	ep_require(&E);
	cfg.source = IG_CREDS_SRC_IMDS;
	cfg.imds_endpoint = E.imds_url;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long ms;
		int r;
		cfg.imds_timeout_ms = cases[i].timeout_ms;
		imds_faults(cases[i].fault);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		r = ig_creds_load(&cfg, &c, &info);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		if (r != cases[i].err || strcmp(info.reason, cases[i].reason) != 0)
			fail_msg("case %zu (%s): r=%d reason=%s", i, cases[i].fault, r,
			         info.reason);
		assert_null(c.session_token);
		assert_string_equal(c.secret_access_key, "");
		assert_true(ms < (long)cases[i].timeout_ms + 1000);
	}
	cfg.imds_timeout_ms = 10000;
	imds_faults("{\"reset\":true}");
	assert_int_equal(ig_creds_load(&cfg, &c, &info), 0);
	ig_aws_creds_clear(&c);

	/* Gone entirely: connection refused. */
	assert_int_equal(ep_run(stop, NULL), 0);
	assert_int_equal(ig_creds_load(&cfg, &c, &info), IG_ERR_NET);
	assert_string_equal(info.reason, "imds_unavailable");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_ini_good),        cmocka_unit_test(test_ini_bad),
	        cmocka_unit_test(test_file_source),     cmocka_unit_test(test_env_source),
	        cmocka_unit_test(test_imds_json),       cmocka_unit_test(test_imds_config),
	        cmocka_unit_test(test_imds_cache_only),
	};

	const struct CMUnitTest itests[] = {
	        cmocka_unit_test(it_imds_flow),
	        cmocka_unit_test(it_imds_faults),
	};
	int fails;

	if (group_setup(NULL) != 0)
		return 1;
	fails = cmocka_run_group_tests_name("creds_unit", tests, NULL, NULL);
	fails += cmocka_run_group_tests_name("creds_integration", itests, int_setup, int_teardown);
	return fails;
}
