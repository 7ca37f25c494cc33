/* mr-test-dialog.h: "Send Test Email" and "Check Server", with the advice when they fail
 *
 * The dialog runs the engine's MrDelivery (or MrExchange for "Check Exchange"), never the protocol itself. It shows what is happening
 * ("Sending via SMTP to smtp.example.com…"), can be cancelled, and ends with the result: success,
 * or the advice with the redacted transcript under Details. A certificate that failed verification
 * is shown, and an admin may pin it (smtp.tls_fingerprint) from here.
 */
#pragma once

#include <adwaita.h>

#include "mailroom-settings.h"

G_BEGIN_DECLS

typedef enum {
  MR_TEST_CHECK_SERVER,
  MR_TEST_SEND_EMAIL,
  MR_TEST_CHECK_EXCHANGE,   /* log in to Exchange (EWS or Graph) and read Sent Items */
} MrTestKind;

#define MR_TYPE_TEST_DIALOG (mr_test_dialog_get_type ())

G_DECLARE_FINAL_TYPE (MrTestDialog, mr_test_dialog, MR, TEST_DIALOG, AdwWindow)

/* @app: the application profile, or NULL. @can_pin: the user may change the company settings. */
MrTestDialog *mr_test_dialog_new         (GtkWindow  *parent,
                                          MrSettings *settings,
                                          const char *app,
                                          MrTestKind  kind,
                                          gboolean    can_pin);
/* "ask", "busy" or "result" */
const char   *mr_test_dialog_get_state   (MrTestDialog *self);
gboolean      mr_test_dialog_get_succeeded (MrTestDialog *self);
/* Where the test email goes (or went). */
const char   *mr_test_dialog_get_recipient (MrTestDialog *self);
/* The transcript line the cursor marks: after a failure, the server's failing reply. */
int           mr_test_dialog_get_failing_line (MrTestDialog *self);

G_END_DECLS
