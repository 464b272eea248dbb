/*
 * helper_io.h - what iamgate-helper and iamgate-issuer share at their edges:
 * reading the request from the module's pipe, writing the reply, and a
 * free() that wipes (installed into jansson and libxml2, whose internal
 * copies of codes and credentials would otherwise linger in freed memory).
 */
#ifndef IAMGATE_HELPER_IO_H
#define IAMGATE_HELPER_IO_H

#include <stddef.h>

#include <jansson.h>

#include "iamgate/error.h"

/* explicit_bzero the whole malloc'd block, then free it; NULL is fine. */
void ig_wiping_free(void *p);

/* realloc that leaves no copy behind: a new block, the content copied, the
 * old block wiped and freed (realloc may move the data and free the old
 * block as it was).  For libxml2, which grows buffers holding STS replies. */
void *ig_wiping_realloc(void *p, size_t n);

/* Read fd to EOF into buf; the request must be smaller than cap
 * (IG_ERR_RANGE otherwise).  IG_ERR_IO on a read error. */
int ig_read_request(int fd, char *buf, size_t cap, size_t *len) IG_MUST_CHECK;

/* Write all of buf to fd (retrying short writes and EINTR). */
int ig_write_all(int fd, const char *buf, size_t len) IG_MUST_CHECK;

/* The reply to a request that is unreadable, oversize or not JSON (it
 * leaves no audit line: there is no user to name). */
json_t *ig_reply_bad_request(void);

/* Write reply as one compact JSON line to stdout: the program's exit status
 * (0 when written, 1 when not; NULL reply is 1). */
int ig_write_reply(json_t *reply);

#endif
