/* mr-exchange-private.h: what mr-exchange.c shares with mr-oauth.c */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

/* Maps a failure of libsoup or GIO on the way to @url to MR_EXCHANGE_ERROR (or keeps a cancel). */
void      mr_exchange_translate_transport_error (GError       *error,
                                                 const char   *url,
                                                 GError      **out);
/* Sleeps @ms, or less when @cancellable fires; FALSE when it did. */
gboolean  mr_exchange_wait                      (guint         ms,
                                                 GCancellable *cancellable);
/* Sends @message and reads the whole answer (at most 16 MB); NULL with a translated error. */
GBytes   *mr_exchange_send_and_read             (SoupSession  *session,
                                                 SoupMessage  *message,
                                                 GString      *transcript,
                                                 GCancellable *cancellable,
                                                 GError      **error);

G_END_DECLS
