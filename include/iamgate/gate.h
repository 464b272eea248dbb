/*
 * gate.h - the helper's decision point: one request in, one reply out.
 *
 * ig_gate_handle() takes the parsed request (see protocol.h), makes the
 * decision for its phase, writes the audit record(s) and returns the reply
 * object.  It never fails open: any internal error becomes a deny for
 * auth/account and a session error for open_session.  The clock is a
 * parameter so tests can drive it.
 */
#ifndef IAMGATE_GATE_H
#define IAMGATE_GATE_H

#include <time.h>

#include <jansson.h>

#include "iamgate/config.h"
#include "iamgate/error.h"

struct ig_gate_env {
	time_t now;
	const char *host; /* NULL: gethostname() */
};

/* Handle request (borrowed); returns a new reply object (never NULL unless
 * out of memory, which the caller treats as a failure). */
json_t *ig_gate_handle(json_t *request, const struct ig_gate_env *env);

#endif
