/*
 * policy.h - static analysis of the IAM policies of the roles the gate hands
 * out (`iamgate check --policies DIR`).
 *
 * A wrong group -> role mapping silently hands customer data to the wrong
 * people.  This unit reads each mapped role's documents and reports what an
 * admin must fix before it ships:
 *
 *   DIR/ROLE/trust.json   the role's trust policy
 *   DIR/ROLE/<any>.json   the role's permission policies (every other *.json)
 *
 * Each file is an IAM policy document, or the JSON the AWS CLI prints for one:
 * `aws iam get-role-policy` ({"PolicyDocument": ...}), `aws iam
 * get-policy-version` ({"PolicyVersion": {"Document": ...}}) and, for trust.json,
 * `aws iam get-role` ({"Role": {"AssumeRolePolicyDocument": ...}}).  The
 * embedded document may be a JSON object or a (URL-encoded) JSON string; for
 * a string, findings point at the string's line.
 *
 * Findings (ERROR unless noted), each at the file and line of the statement or
 * element concerned:
 *  - malformed JSON (jansson's message and position), duplicate keys, unknown
 *    keys, wrong types, a missing or bad Effect, a statement without Resource/
 *    NotResource (permission) or Principal (trust), a Principal in a permission
 *    policy, a malformed action ("service:action"), a bad Version;
 *  - customer-data reach by a role not marked pii: an Allow statement whose
 *    Action patterns (or everything outside its NotAction) cover a real
 *    sensitive action and whose Resource patterns can name a sensitive
 *    resource (NotResource counts as reaching everything).  Sensitive:
 *    RDS snapshot copy/share/export/restore and point-in-time restore, RDS log
 *    file downloads (any RDS resource); AWS Backup restores, restore metadata,
 *    copies and vault access policies (any resource); reads, ACL/policy and
 *    replication changes on the configured pii buckets; CloudWatch Logs reads,
 *    queries, exports and subscriptions on /aws/rds/ log groups.  Wildcards on
 *    both sides are honoured: "rds:*", "logs:Get*" and "Resource": "*" reach;
 *  - "Action": "*" (or "*:*") with Allow; NotAction with Allow;
 *    NotResource with Allow (WARNING); "Resource": "*" (or "arn:aws:*"-style
 *    blanket ARNs) on a statement whose actions can name a write verb
 *    (Create*, Delete*, Put*, Update*, ...);
 *  - a statement without Sid, a Sid not matching sid_pattern, duplicate Sids;
 *  - trust: an Allow for any principal other than the bastion role ARN
 *    ("*", an account, a root, a service, a federated principal, NotPrincipal);
 *    no Allow of sts:AssumeRole, sts:SetSourceIdentity or sts:TagSession for
 *    the bastion role; for pii roles, an AssumeRole statement whose Condition
 *    does not require the bastion-source-ip session tag
 *    (aws:RequestTag/bastion-source-ip or aws:PrincipalTag/bastion-source-ip)
 *    or the source identity (sts:SourceIdentity or aws:SourceIdentity) -
 *    "...IfExists", "ForAllValues:" and {"Null": "true"} do not require a key.
 *    For non-pii roles a missing source identity condition is a WARNING;
 *  - a pii role none of whose policies reach customer data (WARNING);
 *  - a missing role directory or trust.json, an unreadable file (ERROR); a
 *    role directory without permission policies (WARNING).
 *
 * Conditions on permission statements are ignored (they narrow who may call,
 * not what the role can reach), so the analysis over-approximates: it may
 * report reach that a condition would in fact prevent, never the reverse.
 *
 * Files are opened with O_NOFOLLOW relative to the opened directories, must be
 * regular and at most IG_POLICY_MAX_FILE bytes; role directories must not be
 * symbolic links.  Strings from the documents are sanitised (printable ASCII,
 * truncated) before they appear in a message.
 */
#ifndef IAMGATE_POLICY_H
#define IAMGATE_POLICY_H

#include <stddef.h>

#include "iamgate/error.h"

#define IG_POLICY_MAX_FILE (256 * 1024)
#define IG_POLICY_MAX_FILES 64 /* policy files per role directory */
#define IG_POLICY_DEFAULT_SID_PATTERN "^[A-Z][A-Za-z0-9]+$"

/* A mapped role: its directory name under DIR, its ARN (informational, may be
 * NULL) and whether the configuration marks it pii. */
struct ig_policy_role {
	const char *name; /* must pass ig_name_is_safe() */
	const char *arn;
	int pii;
};

struct ig_policy_opts {
	const char *dir;         /* the --policies directory (ig_policy_check only) */
	const char *sid_pattern; /* POSIX ERE; NULL: IG_POLICY_DEFAULT_SID_PATTERN */
	/* S3 buckets holding snapshot exports / backups: bucket names, where '*'
	 * and '?' are wildcards within the name ([a-z0-9.-*?], 1..63 bytes). */
	const char *const *pii_buckets;
	size_t n_pii_buckets;
	const char *bastion_role_arn; /* the only principal a trust may name */
};

enum ig_policy_sev { IG_POLICY_ERROR, IG_POLICY_WARNING };

/*
 * Receives one finding.  file is the path as built from opts->dir (or the name
 * given to ig_policy_check_text); line is 1-based, or 0 when the finding is
 * about a role or directory rather than a place in a file.  message is one
 * line of printable ASCII without a trailing newline.  Strings are valid only
 * during the call.
 */
typedef void (*ig_policy_report_fn)(void *ctx, const char *file, int line, enum ig_policy_sev sev,
                                    const char *message);

/*
 * Analyse the documents of each role in roles[0..n_roles) under o->dir.
 * Returns the number of ERROR findings (>= 0; warnings are not counted), or a
 * negative IG_ERR_* when the analysis could not run at all: IG_ERR_INVAL (NULL
 * arguments, no bastion_role_arn, a bad bucket name or unsafe role name),
 * IG_ERR_CONFIG (sid_pattern does not compile), IG_ERR_NOTFOUND/IG_ERR_IO
 * (o->dir cannot be opened), IG_ERR_NOMEM.  A missing role directory or file
 * is a finding, not a failure.
 */
int ig_policy_check(const struct ig_policy_opts *o, const struct ig_policy_role *roles,
                    size_t n_roles, ig_policy_report_fn fn, void *ctx) IG_MUST_CHECK;

/*
 * Analyse one document held in memory, as a trust policy (is_trust=1) or a
 * permission policy, for role.  file names it in findings.  *reaches_pii (if
 * not NULL) is set to 1 when the document reaches customer data, else left
 * alone, so it can accumulate over a role's files.  Returns the number of
 * ERROR findings or a negative IG_ERR_* as for ig_policy_check.
 */
int ig_policy_check_text(const struct ig_policy_opts *o, const struct ig_policy_role *role,
                         const char *file, const char *text, size_t len, int is_trust,
                         int *reaches_pii, ig_policy_report_fn fn, void *ctx) IG_MUST_CHECK;

/*
 * 1 if the IAM action pattern matches the action name, else 0.  Both are
 * "service:action"; the comparison is ASCII case-insensitive, '*' matches any
 * run of characters and '?' exactly one, on each side of the colon separately
 * (so "s3:Get*" never matches "s3control:GetJob").  "*" alone matches every
 * action.  An empty or colon-less pattern or action matches nothing.
 */
int ig_iam_action_match(const char *pattern, const char *action);

/*
 * 1 if the IAM resource pattern matches the ARN, else 0.  Case-sensitive;
 * '*' matches any run of characters (colons included, the widest reading of
 * IAM's rule) and '?' exactly one.
 */
int ig_iam_resource_match(const char *pattern, const char *arn);

#endif
