/*
 * creds.h - the helper's own (base) AWS credentials: environment, a
 * root-only shared-credentials file, or EC2 instance metadata (IMDSv2) with a
 * root-only cache file.
 *
 * Every secret read here lands in a struct ig_aws_creds that the caller
 * wipes with ig_aws_creds_clear(); intermediate buffers are wiped before
 * they are freed.  Reasons are static strings safe for the audit log:
 *   "ok", "invalid_config", "base_credentials_missing",
 *   "base_credentials_malformed", "base_credentials_expired",
 *   "credentials_file_missing", "credentials_file_unsafe",
 *   "credentials_file_unreadable", "credentials_file_malformed",
 *   "imds_unavailable" (connect error, timeout, unexpected HTTP status),
 *   "imds_no_role", "imds_error" (IMDS says Code != Success),
 *   "imds_malformed", "imds_cache_unusable", "internal".
 */
#ifndef IAMGATE_CREDS_H
#define IAMGATE_CREDS_H

#include <stddef.h>

#include "iamgate/error.h"
#include "iamgate/sigv4.h"
#include "iamgate/timefmt.h"

#define IG_CREDS_FILE_MAX (64 * 1024) /* shared-credentials file size cap */
#define IG_CREDS_JSON_MAX (16 * 1024) /* IMDS credentials JSON / cache file cap */
#define IG_CREDS_CACHE_NAME "imds-credentials.json"
#define IG_CREDS_REFRESH_MARGIN 300 /* cached IMDS creds used until 5 min before expiry */
#define IG_CREDS_IMDS_DEFAULT "http://169.254.169.254"
#define IG_CREDS_IMDS_TIMEOUT_MS 2000
#define IG_CREDS_IMDS_TOKEN_TTL 21600

/* Same order as the configuration's enum ig_creds_source (config.h). */
enum ig_creds_src { IG_CREDS_SRC_IMDS = 0, IG_CREDS_SRC_FILE, IG_CREDS_SRC_ENV };

struct ig_creds_config {
	enum ig_creds_src source;
	/*
	 * env: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and optional
	 * AWS_SESSION_TOKEN from env, a NULL-terminated "NAME=value" array, or
	 * from the process environment when env is NULL.  The helper runs with
	 * an empty environment (the PAM module execs it so), so this source
	 * serves the `iamgate` command line and tests.
	 */
	char *const *env;
	/*
	 * file: absolute path of an AWS shared-credentials file.  Every parent
	 * directory must be root-owned and not group/world-writable, the file a
	 * root-owned regular file with no group/other permission bits at all
	 * (0600 or 0400), no symlink, one link.  profile: the [section] to use;
	 * NULL means "default".
	 */
	const char *file;
	const char *profile;
	/*
	 * imds: base URL "http://host[:port]" (IMDS is plain HTTP on the
	 * link-local address); NULL means IG_CREDS_IMDS_DEFAULT.  No proxy, no
	 * redirects.  cache_dir: a root-owned directory (not group/world
	 * writable, checked like any trusted path) holding the cache file
	 * IG_CREDS_CACHE_NAME (root, 0600); NULL disables the cache.
	 */
	const char *imds_endpoint;
	const char *cache_dir;
	unsigned imds_timeout_ms; /* all IMDS requests together; 0: IG_CREDS_IMDS_TIMEOUT_MS */
	ig_clock_fn now;          /* expiry checks; NULL: time(NULL) */
	void *now_arg;
};

struct ig_creds_info {
	const char *reason; /* static, see the top of this file */
	int from_cache;     /* imds: served from the cache file */
	int cache_written;  /* imds: fresh credentials written to the cache file */
	char imds_role[65]; /* imds: the instance profile's role name, else "" */
	/* For an unsafe or missing file or directory: a sentence naming the
	 * path and the fix (for `iamgate check` and logs; never a secret). */
	char detail[512];
};

/*
 * Load the base credentials from cfg->source into out (which need not be
 * initialised; on failure it is left wiped).  info (required) gets the
 * reason.  Credentials that carry an expiration (IMDS) and expire within
 * IG_AWS_CREDS_EXPIRY_MARGIN seconds are refused as
 * "base_credentials_expired".
 *
 * imds: the cache file is used when it parses and its credentials expire
 * more than IG_CREDS_REFRESH_MARGIN seconds from now.  Otherwise IMDSv2 is
 * asked (PUT /latest/api/token with a TTL header, GET
 * /latest/meta-data/iam/security-credentials/ for the role name, GET
 * .../ROLE for the JSON) and the result written to the cache atomically.  A
 * cache file that is unsafe (owner, mode, links) or malformed is never
 * read, only replaced.  A cache_dir that cannot be opened as a trusted
 * directory fails the call ("imds_cache_unusable"); a failed cache write
 * does not (info->cache_written stays 0).
 *
 * Returns 0, IG_ERR_INVAL, IG_ERR_NOTFOUND, IG_ERR_UNSAFE, IG_ERR_PARSE,
 * IG_ERR_NET, IG_ERR_TIMEOUT, IG_ERR_AWS, IG_ERR_IO or IG_ERR_NOMEM.
 */
int ig_creds_load(const struct ig_creds_config *cfg, struct ig_aws_creds *out,
                  struct ig_creds_info *info) IG_MUST_CHECK;

/*
 * Parse an AWS shared-credentials file (text of len bytes, need not be
 * NUL-terminated) and take aws_access_key_id, aws_secret_access_key and
 * optional aws_session_token from [profile].  Strict and bounded: lines of
 * "[name]", "key = value", blanks and comments starting with '#' or ';'
 * only; a NUL byte, an indented (continuation) line, a key outside any
 * section, a line without '=' or over 16 KiB, a repeated [profile] section
 * or a repeated key inside it is IG_ERR_PARSE with *bad_line (1-based; 0
 * when not about a line).  Other sections are checked for syntax only.
 * Values must pass the credential character checks.  Returns 0,
 * IG_ERR_PARSE, IG_ERR_NOTFOUND (no such profile, or no key id / secret in
 * it) or IG_ERR_NOMEM.  out need not be initialised; on failure it is wiped.
 */
int ig_creds_parse_ini(const char *text, size_t len, const char *profile, struct ig_aws_creds *out,
                       unsigned *bad_line) IG_MUST_CHECK;

/*
 * Parse an IMDS security-credentials JSON document (also the cache file's
 * format): an object with "Code": "Success", optional "Type": "AWS-HMAC",
 * and string AccessKeyId, SecretAccessKey, Token, Expiration (ISO 8601 UTC);
 * other keys are ignored, duplicate keys refused.  At most
 * IG_CREDS_JSON_MAX bytes.  Returns 0, IG_ERR_PARSE, IG_ERR_AWS (Code is
 * not "Success") or IG_ERR_NOMEM.  out need not be initialised; on failure
 * it is wiped.  The expiration is not compared with any clock here.
 */
int ig_creds_parse_imds_json(const char *json, size_t len, struct ig_aws_creds *out) IG_MUST_CHECK;

#endif
