/* mailroom-dns.h: the public headers of the engine's dns part: DNS kept for its TTL, SPF, DKIM,
 * DMARC, domain proofs
 *
 * The window and mailroom-cli include this, not single headers; the part's *-private.h headers
 * stay inside it. */
#pragma once

#include "mr-dns.h"
#include "mr-domain-check.h"
#include "mr-domain-proof.h"
#include "mr-spf.h"
