/* mr-remote-image.h: a picture from the web, fetched once to go in the mail itself
 *
 * Mail programs do not show pictures from the web (and loading one tells the sender who opened
 * the mail), so a picture pasted from a web page is offered to be embedded instead: fetched here,
 * it becomes a data: URI in the editor and an inline part when the mail is sent
 * (mr_outgoing_embed_images()).
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define MR_REMOTE_IMAGE_MAX_BYTES (5 * 1024 * 1024)

/* GETs @url (http or https; redirects followed, at most 5), at most MR_REMOTE_IMAGE_MAX_BYTES read
 * within 30 seconds, and returns it as "data:image/…;base64,…" when its first bytes are those of a
 * PNG, JPEG, GIF or WebP picture, whatever the server calls it. Errors: MR_HTML_ERROR_IMAGE
 * (mr-html-clean.h) saying what went wrong in words, G_IO_ERROR_CANCELLED. */
char *mr_remote_image_fetch (const char    *url,
                             GCancellable  *cancellable,
                             GError       **error);

/* The picture type of @data by its first bytes ("image/png", …), or NULL. */
const char *mr_remote_image_sniff (const guint8 *data,
                                   gsize         length);

G_END_DECLS
