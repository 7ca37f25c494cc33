/* mr-key-labels.h: what each settings key is called on screen */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

const char *mr_key_get_label (const char *base_key);

G_END_DECLS
