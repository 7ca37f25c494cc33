/* mr-key-labels.h: what each settings key is called on screen */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

const char *mr_key_get_label (const char *base_key);

/* @message said in words: the engine starts a settings error with the key it is about
 * ("sender.from_address: …", for mailroom-cli and for matching rows) and may name keys in the
 * text; on screen they are what the rows are called ("From address: …", "“Verified domains”").
 * A key of an application profile keeps the profile's name. Other text is left as it is. */
char       *mr_key_words     (const char *message);

G_END_DECLS
