/*
 * audit_show.h - reading the audit log for people: `iamgate audit show`
 * (filters, a table or JSON Lines) and `iamgate audit verify --against`
 * (the log beside the copy shipped off the host).
 */
#ifndef IAMGATE_AUDIT_SHOW_H
#define IAMGATE_AUDIT_SHOW_H

#include "iamgate/audit_cli.h"
#include "iamgate/audit_line.h"

/* List the events of o->logs that pass o's filters.  Exit status 0 or 2. */
int ig_audit_show(const struct ig_audit_cli_opts *o);

/* Does rec pass o's filters (user, role, decision, reason, event, time)? */
int ig_audit_show_matches(const struct ig_audit_cli_opts *o, const struct ig_audit_record *rec);

/*
 * Compare the log (o->logs) with a copy fetched from CloudWatch Logs: FILE
 * holds the lines one per line, or the JSON that `aws logs get-log-events`
 * prints (each event's message is a line).  Every line of the copy (of the
 * log's host) must be in the log byte for byte at its seq: a line of the
 * copy missing from the log was removed, one that differs was changed.
 * Lines of the log not in the copy are only counted (not shipped yet).
 * Prints the verdict; returns 0 when they agree, 1 when not, 2 when FILE
 * cannot be read.
 */
int ig_audit_show_against(const struct ig_audit_cli_opts *o, const char *file);

#endif
