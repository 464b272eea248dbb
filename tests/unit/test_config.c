/*
 * test_config.c - strict configuration loading: the shipped example loads;
 * every kind of refusal names file:line:col and a fix; unsafe files refused.
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "iamgate/config.h"
#include "iamgate/util.h"

#include "settle_fixture.h"

static char err[8192];

/* A small valid config; each test mutates a copy by text replacement. */
static const char *base =
        "{\n"
        "  \"pii_group\": \"pii\",\n"
        "  \"allowlists\": {\n"
        "    \"office\": [\"203.0.113.0/24\", \"2001:db8:10::/48\"],\n"
        "    \"fixed\": [\"203.0.113.7/32\"]\n"
        "  },\n"
        "  \"groups\": {\n"
        "    \"devs\": { \"allow_from\": [\"office\"], \"roles\": [\"ro\"] },\n"
        "    \"pii\": { \"allow_from\": [\"fixed\"], \"roles\": [\"snap\"] }\n"
        "  },\n"
        "  \"roles\": {\n"
        "    \"ro\": { \"arn\": \"arn:aws:iam::111122223333:role/ro\" },\n"
        "    \"snap\": { \"arn\": \"arn:aws:iam::111122223333:role/snap\", \"pii\": true, "
        "\"duration_seconds\": 900 }\n"
        "  },\n"
        "  \"totp\": { \"state_dir\": \"/var/lib/iamgate/totp\", \"digits\": 6, "
        "\"step_seconds\": 30, \"window\": 1, \"max_failures\": 5, \"lockout_seconds\": 900 },\n"
        "  \"audit\": { \"path\": \"/var/log/iamgate/audit.jsonl\", \"syslog\": true }\n"
        "}\n";

static char *replace(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	size_t n;
	char *out;

	assert_non_null(at);
	n = strlen(text) - strlen(from) + strlen(to) + 1;
	out = malloc(n);
	assert_non_null(out);
	memcpy(out, text, (size_t)(at - text));
	memcpy(out + (at - text), to, strlen(to));
	memcpy(out + (at - text) + strlen(to), at + strlen(from), strlen(at + strlen(from)) + 1);
	return out;
}

/* Parse text; expect refusal mentioning each needle (NULL-terminated). */
static void refused(const char *text, ...)
{
	struct ig_config *cfg = (void *)1;
	const char *needle;
	va_list ap;

	assert_int_equal(ig_config_parse(text, strlen(text), "t.json", &cfg, err, sizeof(err)),
	                 IG_ERR_CONFIG);
	assert_null(cfg);
	assert_non_null(strstr(err, "t.json:"));
	va_start(ap, text);
	while ((needle = va_arg(ap, const char *)) != NULL) {
		if (strstr(err, needle) == NULL)
			fail_msg("expected \"%s\" in: %s", needle, err);
	}
	va_end(ap);
}

static void refused_repl(const char *from, const char *to, const char *n1, const char *n2)
{
	char *t = replace(base, from, to);
	refused(t, n1, n2, (const char *)NULL);
	free(t);
}

static void test_base_loads(void **state)
{
	struct ig_config *cfg = NULL;
	(void)state;
	assert_int_equal(ig_config_parse(base, strlen(base), "t.json", &cfg, err, sizeof(err)), 0);
	assert_non_null(cfg);
	assert_int_equal(cfg->n_allowlists, 2);
	assert_int_equal(cfg->n_groups, 2);
	assert_int_equal(cfg->n_roles, 2);
	assert_string_equal(cfg->pii_group, "pii");
	assert_true(ig_config_role(cfg, "snap")->pii);
	assert_false(ig_config_role(cfg, "ro")->pii);
	assert_int_equal(ig_config_role(cfg, "ro")->duration_seconds, 900);
	assert_int_equal(cfg->totp.digits, 6);
	assert_string_equal(cfg->session.dir, "/run/iamgate/sessions");
	assert_false(cfg->session.deny_on_issue_failure);
	assert_null(cfg->aws.region);
	ig_config_free(cfg);
}

static void test_shipped_example_loads(void **state)
{
	struct ig_config *cfg = NULL;
	char path[4096];
	FILE *f;
	char *buf;
	long n;
	(void)state;
	assert_int_equal(ig_bfmt(path, sizeof(path), "%s/config/iamgate.json", IG_SOURCE_DIR), 0);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	if (ig_config_parse(buf, (size_t)n, path, &cfg, err, sizeof(err)) != 0)
		fail_msg("example refused: %s", err);
	assert_string_equal(cfg->aws.region, "ap-northeast-1");
	assert_int_equal(cfg->aws.source, IG_CREDS_IMDS);
	assert_int_equal(cfg->policy.n_pii_buckets, 2);
	ig_config_free(cfg);
	free(buf);
}

static void test_syntax_error_has_position(void **state)
{
	(void)state;
	refused("{\n  \"pii_group\": \"x\",,\n}", "t.json:2:", "not valid JSON",
	        (const char *)NULL);
	refused("", "not valid JSON", (const char *)NULL);
	refused("[]", "top level must be a JSON object", (const char *)NULL);
	refused("{\"pii_group\": \"a\", \"pii_group\": \"b\"}", "not valid JSON",
	        (const char *)NULL);
}

static void test_unknown_key(void **state)
{
	(void)state;
	/* Position of the key: line 2, column 3. */
	refused_repl("  \"pii_group\"", "  \"pii_grup\": 1,\n  \"pii_group\"",
	             "t.json:2:3:", "unknown key");
	refused_repl("\"syslog\": true", "\"syslog\": true, \"sylog\": 1", "\"audit\".\"sylog\"",
	             "unknown key");
	refused_repl("\"pii\": true,", "\"pii\": true, \"arm\": \"x\",",
	             "\"roles\".\"snap\".\"arm\"", "fix:");
}

static void test_wrong_types(void **state)
{
	(void)state;
	refused_repl("\"digits\": 6", "\"digits\": \"6\"", "must be an integer",
	             "\"totp\".\"digits\"");
	refused_repl("\"syslog\": true", "\"syslog\": \"yes\"", "must be a boolean",
	             "t.json:16:64:");
	refused_repl("\"pii\": true", "\"pii\": 1", "must be a boolean", "\"snap\".\"pii\"");
	refused_repl("[\"fixed\"]", "\"fixed\"", "must be an array", "allow_from");
	refused_repl("\"203.0.113.7/32\"", "7", "must be a CIDR string", "\"fixed\"[0]");
}

static void test_out_of_range(void **state)
{
	(void)state;
	refused_repl("\"digits\": 6", "\"digits\": 4", "out of range", "from 6 to 8");
	refused_repl("\"duration_seconds\": 900", "\"duration_seconds\": 7200", "out of range",
	             "900 to 3600");
	refused_repl("\"window\": 1", "\"window\": -1", "out of range", "\"window\"");
	refused_repl("\"max_failures\": 5", "\"max_failures\": 0", "out of range", "max_failures");
	refused_repl("\"/var/lib/iamgate/totp\"", "\"relative/dir\"", "not an absolute path",
	             "state_dir");
}

static void test_undefined_references(void **state)
{
	(void)state;
	refused_repl("\"roles\": [\"ro\"]", "\"roles\": [\"rw\"]", "role \"rw\" is not defined",
	             "t.json:8:");
	refused_repl("[\"office\"]", "[\"ofice\"]", "allowlist \"ofice\" is not defined",
	             "allow_from");
	refused_repl("\"pii_group\": \"pii\"", "\"pii_group\": \"nope\"", "not defined",
	             "pii_group");
}

static void test_bad_cidrs(void **state)
{
	(void)state;
	refused_repl("\"203.0.113.0/24\"", "\"203.0.113.0/33\"", "is not a CIDR", "t.json:4:");
	refused_repl("\"203.0.113.0/24\"", "\"203.0.113.5/24\"", "host bits set", "fix:");
	refused_repl("\"203.0.113.0/24\"", "\"office.example.com\"", "is not a CIDR",
	             "\"office\"[0]");
	refused_repl("\"2001:db8:10::/48\"", "\"2001:db8:10::/129\"", "is not a CIDR", "[1]");
	refused_repl("[\"203.0.113.7/32\"]", "[]", "empty allowlist", "\"fixed\"");
}

static void test_pii_role_outside_pii_group(void **state)
{
	(void)state;
	refused_repl("\"roles\": [\"ro\"]", "\"roles\": [\"ro\", \"snap\"]",
	             "pii role \"snap\" is mapped to group \"devs\"",
	             "\"groups\".\"devs\".\"roles\"[1]");
}

static void test_pii_roles_need_pii_group(void **state)
{
	char *t = replace(base, "  \"pii_group\": \"pii\",\n", "");
	(void)state;
	refused(t, "\"pii_group\" is not set", (const char *)NULL);
	free(t);
}

static void test_bad_role_arn(void **state)
{
	(void)state;
	refused_repl("arn:aws:iam::111122223333:role/ro\"", "arn:aws:iam::1111:role/ro\"",
	             "not an IAM role ARN", "\"roles\".\"ro\".\"arn\"");
	refused_repl("arn:aws:iam::111122223333:role/ro\"", "arn:aws:iam::111122223333:user/ro\"",
	             "not an IAM role ARN", "fix:");
}

static void test_aws_section(void **state)
{
	struct ig_config *cfg = NULL;
	char *t;
	(void)state;
	t = replace(base, "\"audit\":", "\"aws\": {\"region\": \"eu-west-1\"},\n  \"audit\":");
	assert_int_equal(ig_config_parse(t, strlen(t), "t.json", &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg->aws.sts_endpoint, "https://sts.eu-west-1.amazonaws.com");
	assert_int_equal(cfg->aws.source, IG_CREDS_IMDS);
	ig_config_free(cfg);
	free(t);
	refused_repl("\"audit\":",
	             "\"aws\": {\"region\": \"eu-west-1\", \"sts_endpoint\": "
	             "\"http://sts.example\"},\n  \"audit\":",
	             "must be an https:// URL", "sts_endpoint");
	refused_repl("\"audit\":", "\"aws\": {\"sts_endpoint\": \"https://x\"},\n  \"audit\":",
	             "missing required key \"region\"", "\"aws\"");
	refused_repl("\"audit\":", "\"aws\": {\"region\": \"Tokyo\"},\n  \"audit\":",
	             "not an AWS region name", "region");
	refused_repl("\"audit\":",
	             "\"aws\": {\"region\": \"eu-west-1\", \"credentials\": {\"source\": "
	             "\"vault\"}},\n  \"audit\":",
	             "not a credential source", "source");
	/* The helper's environment is empty: "env" could never give anything. */
	refused_repl("\"audit\":",
	             "\"aws\": {\"region\": \"eu-west-1\", \"credentials\": {\"source\": "
	             "\"env\"}},\n  \"audit\":",
	             "\"env\" cannot work: the helper runs with an empty environment", "source");
	/* A lockout cap shorter than the first lockout. */
	refused_repl("\"lockout_seconds\": 900",
	             "\"lockout_seconds\": 900, \"lockout_max_seconds\": 60",
	             "lockout_max_seconds (60) is shorter than lockout_seconds (900)", "totp");
}

/* The metadata lockdown's probe uid: nobody unless set; never root. */
static void test_imds_probe_uid(void **state)
{
	struct ig_config *cfg = NULL;
	char *t;
	(void)state;
	t = replace(base, "\"audit\":", "\"aws\": {\"region\": \"eu-west-1\"},\n  \"audit\":");
	assert_int_equal(ig_config_parse(t, strlen(t), "t.json", &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg->aws.imds_probe_uid, 65534);
	ig_config_free(cfg);
	free(t);
	t = replace(base, "\"audit\":",
	            "\"aws\": {\"region\": \"eu-west-1\", \"credentials\": {\"imds_probe_uid\": "
	            "4294967294}},\n  \"audit\":");
	assert_int_equal(ig_config_parse(t, strlen(t), "t.json", &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg->aws.imds_probe_uid, 4294967294u);
	ig_config_free(cfg);
	free(t);
	refused_repl("\"audit\":",
	             "\"aws\": {\"region\": \"eu-west-1\", \"credentials\": {\"imds_probe_uid\": "
	             "0}},\n  \"audit\":",
	             "imds_probe_uid", "from 1 to 4294967294");
	refused_repl("\"audit\":",
	             "\"aws\": {\"region\": \"eu-west-1\", \"credentials\": {\"imds_probe_uid\": "
	             "4294967295}},\n  \"audit\":",
	             "imds_probe_uid", "out of range");
	refused_repl("\"audit\":",
	             "\"aws\": {\"region\": \"eu-west-1\", \"credentials\": {\"imds_probe_uid\": "
	             "\"nobody\"}},\n  \"audit\":",
	             "imds_probe_uid", "integer");
}

static void test_policy_section(void **state)
{
	(void)state;
	refused_repl("\"audit\":",
	             "\"policy\": {\"pii_buckets\": [\"arn:aws:s3:::Exports\"]},\n  \"audit\":",
	             "S3 bucket name", "\"policy\".\"pii_buckets\"[0]");
	refused_repl("\"audit\":",
	             "\"policy\": {\"bastion_role_arn\": \"arn:aws:iam::1:user/x\"},\n  "
	             "\"audit\":",
	             "not an IAM role ARN", "bastion_role_arn");
	refused_repl("\"audit\":", "\"policy\": {\"sid_pattern\": \"([\"},\n  \"audit\":",
	             "regular expression", "sid_pattern");
}

static void test_session_options(void **state)
{
	(void)state;
	refused_repl("\"audit\":", "\"session\": {\"on_issue_failure\": \"maybe\"},\n  \"audit\":",
	             "use \"continue\" or \"deny\"", "on_issue_failure");
}

static void test_comments_allowed_but_not_elsewhere(void **state)
{
	struct ig_config *cfg = NULL;
	char *t;
	(void)state;
	t = replace(base, "\"pii_group\"", "\"#\": \"a comment\", \"pii_group\"");
	assert_int_equal(ig_config_parse(t, strlen(t), "t.json", &cfg, err, sizeof(err)), 0);
	ig_config_free(cfg);
	free(t);
	/* A '#' key holding a non-string is not a comment. */
	refused_repl("\"pii_group\"", "\"#\": 1, \"pii_group\"", "unknown key", "t.json:2:");
}

static void test_oversize(void **state)
{
	struct ig_config *cfg = NULL;
	size_t n = IG_CONFIG_MAX_BYTES + 1;
	char *big = malloc(n);
	(void)state;
	assert_non_null(big);
	memset(big, ' ', n);
	assert_int_equal(ig_config_parse(big, n, "t.json", &cfg, err, sizeof(err)), IG_ERR_CONFIG);
	assert_non_null(strstr(err, "larger than"));
	free(big);
}

/* Files: owner, mode, symlink, parent checks. */
static char dir[4096], file[4200];

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static int fsetup(void **state)
{
	(void)state;
	if (ig_bfmt(dir, sizeof(dir), "%s/build/t-config.XXXXXX", IG_SOURCE_DIR) != 0 ||
	    mkdtemp(dir) == NULL || chmod(dir, 0755) != 0)
		return -1;
	return ig_bfmt(file, sizeof(file), "%s/iamgate.json", dir);
}

static int fteardown(void **state)
{
	char link[4300];
	(void)state;
	(void)unlink(file);
	if (ig_bfmt(link, sizeof(link), "%s/link.json", dir) == 0)
		(void)unlink(link);
	return rmdir(dir);
}

/*
 * base as a file the loader accepts on any host: its groups renamed to ones
 * every Debian system has (the loader resolves each to its gid).
 */
static char on_disk[4096];

static const char *disk_base(void)
{
	char *a = replace(base, "\"devs\": {", "\"daemon\": {");
	char *b = replace(a, "\"pii_group\": \"pii\"", "\"pii_group\": \"adm\"");
	char *c = replace(b, "\"pii\": { \"allow_from\"", "\"adm\": { \"allow_from\"");

	assert_int_equal(ig_bfmt(on_disk, sizeof(on_disk), "%s", c), 0);
	free(a);
	free(b);
	free(c);
	return on_disk;
}

static void test_file_checks(void **state)
{
	struct ig_config *cfg = NULL;
	char link[4300];
	(void)state;
	write_file(file, disk_base(), 0600);
	assert_int_equal(ig_config_load(file, &cfg, err, sizeof(err)), 0);
	ig_config_free(cfg);
	cfg = NULL;
	write_file(file, disk_base(), 0644);
	assert_int_equal(ig_config_load(file, &cfg, err, sizeof(err)), 0);
	ig_config_free(cfg);
	cfg = NULL;
	/* Group- or world-writable: refused with the fix. */
	write_file(file, disk_base(), 0664);
	assert_int_equal(ig_config_load(file, &cfg, err, sizeof(err)), IG_ERR_CONFIG);
	assert_non_null(strstr(err, "chmod"));
	write_file(file, disk_base(), 0602);
	assert_int_equal(ig_config_load(file, &cfg, err, sizeof(err)), IG_ERR_CONFIG);
	/* Not root-owned. */
	write_file(file, disk_base(), 0600);
	assert_int_equal(chown(file, 1, 1), 0);
	assert_int_equal(ig_config_load(file, &cfg, err, sizeof(err)), IG_ERR_CONFIG);
	assert_non_null(strstr(err, "not root"));
	assert_int_equal(chown(file, 0, 0), 0);
	/* A symlink to a good file is refused. */
	assert_int_equal(ig_bfmt(link, sizeof(link), "%s/link.json", dir), 0);
	assert_int_equal(symlink(file, link), 0);
	assert_int_equal(ig_config_load(link, &cfg, err, sizeof(err)), IG_ERR_CONFIG);
	assert_non_null(strstr(err, "symbolic link"));
	/* A group-writable parent directory is refused. */
	assert_int_equal(chmod(dir, 0775), 0);
	assert_int_equal(ig_config_load(file, &cfg, err, sizeof(err)), IG_ERR_CONFIG);
	assert_non_null(strstr(err, "writable by group"));
	assert_int_equal(chmod(dir, 0755), 0);
	/* Missing file and relative path. */
	assert_int_equal(unlink(file), 0);
	assert_int_equal(ig_config_load(file, &cfg, err, sizeof(err)), IG_ERR_CONFIG);
	assert_int_equal(ig_config_load("relative.json", &cfg, err, sizeof(err)), IG_ERR_CONFIG);
	assert_null(cfg);
}

static char idir[4096];

static void ipath(char *out, size_t cap, const char *name)
{
	assert_int_equal(ig_bfmt(out, cap, "%s/%s", idir, name), 0);
}

static int isetup(void **state)
{
	(void)state;
	if (ig_bfmt(idir, sizeof(idir), "%s/build/t-config-id.XXXXXX", IG_SOURCE_DIR) != 0 ||
	    mkdtemp(idir) == NULL || chmod(idir, 0755) != 0)
		return -1;
	return 0;
}

static int iteardown(void **state)
{
	static const char *const names[] = {"a.json", "b.json", "c.json", "c.tmp", NULL};
	char p[4300];
	(void)state;
	(void)chmod(idir, 0755);
	for (size_t i = 0; names[i]; i++)
		if (ig_bfmt(p, sizeof(p), "%s/%s", idir, names[i]) == 0)
			(void)unlink(p);
	return rmdir(idir);
}

static struct ig_config *load_ok(const char *path)
{
	struct ig_config *cfg = NULL;

	if (ig_config_load(path, &cfg, err, sizeof(err)) != 0)
		fail_msg("load %s: %s", path, err);
	assert_non_null(cfg);
	return cfg;
}

/* Give path the mtime it had (st), as a careful rewrite could. */
static void set_mtime(const char *path, const struct stat *st)
{
	struct timespec ts[2] = {st->st_atim, st->st_mtim};

	assert_int_equal(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
}

static void test_unchanged(void **state)
{
	struct ig_config *ca, *cb, *cc, *cfg = NULL;
	char a[4300], b[4300], c[4300], ctmp[4300], other[4300];
	struct stat before, after;
	(void)state;
	ipath(a, sizeof(a), "a.json");
	ipath(b, sizeof(b), "b.json");
	ipath(c, sizeof(c), "c.json");
	ipath(ctmp, sizeof(ctmp), "c.tmp");
	write_file(a, disk_base(), 0600);
	write_file(b, disk_base(), 0600);
	write_file(c, disk_base(), 0600);
	/* Just written: the load may not vouch for the file's timestamps. */
	cfg = load_ok(a);
	assert_int_equal(cfg->file.valid, 0);
	assert_int_equal(ig_config_unchanged(cfg, a), 0);
	ig_config_free(cfg);
	wait_settled(c);
	ca = load_ok(a);
	cb = load_ok(b);
	cc = load_ok(c);
	assert_int_equal(ca->file.valid, 1);

	/* Unchanged: reusable, again and again. */
	assert_int_equal(ig_config_unchanged(ca, a), 1);
	assert_int_equal(ig_config_unchanged(ca, a), 1);
	assert_int_equal(ig_config_unchanged(cb, b), 1);
	/* Another path, even one naming the same file: not this config. */
	assert_int_equal(ig_config_unchanged(ca, b), 0);
	assert_int_equal(ig_bfmt(other, sizeof(other), "%s/./a.json", idir), 0);
	assert_int_equal(ig_config_unchanged(ca, other), 0);
	assert_int_equal(ig_config_unchanged(ca, NULL), 0);
	assert_int_equal(ig_config_unchanged(NULL, a), 0);
	/* Parsed from text: no file to vouch for. */
	assert_int_equal(ig_config_parse(base, strlen(base), a, &cfg, err, sizeof(err)), 0);
	assert_int_equal(ig_config_unchanged(cfg, a), 0);
	ig_config_free(cfg);

	/* A parent directory turned group-writable (the file itself unchanged):
	 * the loader's path checks fail, so not reused; restored, reused. */
	assert_int_equal(chmod(idir, 0775), 0);
	assert_int_equal(ig_config_unchanged(ca, a), 0);
	assert_int_equal(ig_config_load(a, &cfg, err, sizeof(err)), IG_ERR_CONFIG);
	assert_int_equal(chmod(idir, 0755), 0);
	assert_int_equal(ig_config_unchanged(ca, a), 1);

	/* The file made group-writable: not reused, and the load refuses it. */
	assert_int_equal(chmod(a, 0660), 0);
	assert_int_equal(ig_config_unchanged(ca, a), 0);
	assert_int_equal(ig_config_load(a, &cfg, err, sizeof(err)), IG_ERR_CONFIG);
	assert_null(cfg);
	/* Mode put back: still not the file that was loaded (ctime moved). */
	assert_int_equal(chmod(a, 0600), 0);
	assert_int_equal(ig_config_unchanged(ca, a), 0);

	/* Rewritten in place, same size, mtime put back: ctime tells. */
	assert_int_equal(stat(b, &before), 0);
	{
		char *t = replace(disk_base(), "203.0.113.7/32", "203.0.113.8/32");
		write_file(b, t, 0600);
		free(t);
	}
	set_mtime(b, &before);
	assert_int_equal(stat(b, &after), 0);
	assert_int_equal(after.st_ino, before.st_ino);
	assert_int_equal(after.st_size, before.st_size);
	assert_int_equal(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
	assert_int_equal(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
	assert_int_equal(ig_config_unchanged(cb, b), 0);

	/* Replaced by rename with the same bytes and mtime: the inode tells. */
	assert_int_equal(stat(c, &before), 0);
	write_file(ctmp, disk_base(), 0600);
	set_mtime(ctmp, &before);
	assert_int_equal(rename(ctmp, c), 0);
	assert_int_equal(ig_config_unchanged(cc, c), 0);
	/* Replaced by a symlink to a good file: refused like the loader does. */
	assert_int_equal(unlink(c), 0);
	assert_int_equal(symlink(a, c), 0);
	assert_int_equal(ig_config_unchanged(cc, c), 0);
	/* Gone. */
	assert_int_equal(unlink(c), 0);
	assert_int_equal(ig_config_unchanged(cc, c), 0);

	ig_config_free(ca);
	ig_config_free(cb);
	ig_config_free(cc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_base_loads),
	        cmocka_unit_test(test_shipped_example_loads),
	        cmocka_unit_test(test_syntax_error_has_position),
	        cmocka_unit_test(test_unknown_key),
	        cmocka_unit_test(test_wrong_types),
	        cmocka_unit_test(test_out_of_range),
	        cmocka_unit_test(test_undefined_references),
	        cmocka_unit_test(test_bad_cidrs),
	        cmocka_unit_test(test_pii_role_outside_pii_group),
	        cmocka_unit_test(test_pii_roles_need_pii_group),
	        cmocka_unit_test(test_bad_role_arn),
	        cmocka_unit_test(test_aws_section),
	        cmocka_unit_test(test_imds_probe_uid),
	        cmocka_unit_test(test_policy_section),
	        cmocka_unit_test(test_session_options),
	        cmocka_unit_test(test_comments_allowed_but_not_elsewhere),
	        cmocka_unit_test(test_oversize),
	        cmocka_unit_test_setup_teardown(test_file_checks, fsetup, fteardown),
	        cmocka_unit_test_setup_teardown(test_unchanged, isetup, iteardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
