/* mr-sent-page.h: the Sent page: the sent log, searchable, with the outbox in it */
#pragma once

#include <adwaita.h>

#include "mailroom-log.h"
#include "mailroom-settings.h"

G_BEGIN_DECLS

#define MR_TYPE_SENT_PAGE (mr_sent_page_get_type ())

G_DECLARE_FINAL_TYPE (MrSentPage, mr_sent_page, MR, SENT_PAGE, AdwBin)

MrSentPage *mr_sent_page_new          (MrSettings  *settings,
                                       MrSentLog   *log);
void        mr_sent_page_refresh      (MrSentPage  *self);
/* Shows the mails of mailshot @job alone (0: all mail again). */
void        mr_sent_page_show_mailshot (MrSentPage *self,
                                        gint64      job);
gint64      mr_sent_page_get_mailshot (MrSentPage  *self);
/* Sends, in the background, what waits in the outbox and is due. */
void        mr_sent_page_process_outbox (MrSentPage *self);
guint       mr_sent_page_get_n_shown  (MrSentPage  *self);
/* The subject of shown row @n, for tests. */
const char *mr_sent_page_get_subject  (MrSentPage  *self,
                                       guint        n);

/* Ctrl+F: the search field, focused. */
void            mr_sent_page_focus_search    (MrSentPage     *self);

G_END_DECLS
