/* mailroom-message.h: the public headers of the engine's message part: templates, Mustache, the
 * HTML cleaner, signatures, the MIME message
 *
 * The window and mailroom-cli include this, not single headers; the part's *-private.h headers
 * stay inside it. */
#pragma once

#include "mr-html-clean.h"
#include "mr-message.h"
#include "mr-mustache.h"
#include "mr-remote-image.h"
#include "mr-signature.h"
#include "mr-template.h"
