/* mr-row-model.h: a list model of rows known only by their position
 *
 * The Mailshots page's recipients list can hold tens of thousands of rows whose data lives in the
 * page. This model holds nothing but their number: an item (a plain GObject) is made only when the
 * view asks for one, so that showing a long job costs what the screen shows, not what the job holds.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define MR_TYPE_ROW_MODEL (mr_row_model_get_type ())

G_DECLARE_FINAL_TYPE (MrRowModel, mr_row_model, MR, ROW_MODEL, GObject)

MrRowModel *mr_row_model_new          (void);
/* Emits items-changed for the rows added or removed at the end. */
void        mr_row_model_set_n_items  (MrRowModel *self,
                                       guint       n_items);

G_END_DECLS
