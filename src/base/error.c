/* error.c - text for IG_ERR_* codes. */
#include "iamgate/error.h"

const char *ig_strerror(int err)
{
	switch (err) {
	case IG_OK: return "success";
	case IG_ERR_NOMEM: return "out of memory";
	case IG_ERR_INVAL: return "invalid value";
	case IG_ERR_IO: return "input/output error";
	case IG_ERR_CONFIG: return "configuration refused";
	case IG_ERR_UNSAFE: return "unsafe file ownership or permissions";
	case IG_ERR_NOTFOUND: return "not found";
	case IG_ERR_RANGE: return "value out of range";
	case IG_ERR_PARSE: return "malformed input";
	case IG_ERR_DENIED: return "denied";
	case IG_ERR_LOCKED: return "locked out";
	case IG_ERR_REPLAY: return "code already used";
	case IG_ERR_BADCODE: return "wrong code";
	case IG_ERR_TIMEOUT: return "timed out";
	case IG_ERR_NET: return "network error";
	case IG_ERR_CRYPTO: return "cryptographic library error";
	case IG_ERR_LOCK: return "could not take lock";
	case IG_ERR_EXISTS: return "already exists";
	case IG_ERR_AWS: return "AWS returned an error";
	case IG_ERR_INTERNAL: return "internal error";
	case IG_ERR_CONFLICT: return "changed by another writer";
	default: return "unknown error";
	}
}
