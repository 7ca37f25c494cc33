/* mr-http.h: what every HTTP call to a web service shares (Exchange's EWS and Graph, the sign-ins)
 *
 * Errors are MR_EXCHANGE_ERROR's: _UNREACHABLE, _TLS_UNTRUSTED, _PROTOCOL (an answer over 16 MB).
 */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

/* Maps a failure of libsoup or GIO on the way to @url to MR_EXCHANGE_ERROR (or keeps a cancel);
 * takes @error. */
void      mr_http_translate_error (GError       *error,
                                   const char   *url,
                                   GError      **out);
/* Sleeps @ms, or less when @cancellable fires; FALSE when it did. */
gboolean  mr_http_wait            (guint         ms,
                                   GCancellable *cancellable);
/* Sends @message and reads the whole answer (at most 16 MB), noting the request and its status in
 * @transcript (optional); NULL with a translated error. */
GBytes   *mr_http_send_and_read   (SoupSession  *session,
                                   SoupMessage  *message,
                                   GString      *transcript,
                                   GCancellable *cancellable,
                                   GError      **error);

G_END_DECLS
