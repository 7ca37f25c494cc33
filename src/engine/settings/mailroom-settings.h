/* mailroom-settings.h: the public headers of the engine's settings part: company and personal
 * settings, presets, the keyring, discovery, who mail is from
 *
 * The window and mailroom-cli include this, not single headers; the part's *-private.h headers
 * stay inside it. */
#pragma once

#include "mr-discover.h"
#include "mr-keys.h"
#include "mr-presets.h"
#include "mr-secrets.h"
#include "mr-sender.h"
#include "mr-settings-error.h"
#include "mr-settings-file.h"
#include "mr-settings.h"
