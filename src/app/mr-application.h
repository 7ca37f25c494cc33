/* mr-application.h: the Mailroom application */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define MR_TYPE_APPLICATION (mr_application_get_type ())

G_DECLARE_FINAL_TYPE (MrApplication, mr_application, MR, APPLICATION, AdwApplication)

MrApplication *mr_application_new (void);

G_END_DECLS
