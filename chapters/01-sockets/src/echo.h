/* echo -- the simplest service (stage 2): every byte a client sends comes
 * back to it, unchanged. No framing, no state: the whole stream is echoed
 * in the pieces it arrives in. */
#ifndef ECHO_H
#define ECHO_H

#include "loop.h"

extern const struct service echo_service;

#endif
