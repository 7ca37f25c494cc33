/* mr-row-model.c: a list model of rows known only by their position */

#include "config.h"

#include "mr-row-model.h"

struct _MrRowModel
{
  GObject parent_instance;

  guint   n_items;
};

static GType
mr_row_model_get_item_type (GListModel *model)
{
  return G_TYPE_OBJECT;
}

static guint
mr_row_model_get_n_items (GListModel *model)
{
  return MR_ROW_MODEL (model)->n_items;
}

static gpointer
mr_row_model_get_item (GListModel *model,
                       guint       position)
{
  if (position >= MR_ROW_MODEL (model)->n_items)
    return NULL;
  return g_object_new (G_TYPE_OBJECT, NULL);
}

static void
mr_row_model_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = mr_row_model_get_item_type;
  iface->get_n_items = mr_row_model_get_n_items;
  iface->get_item = mr_row_model_get_item;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (MrRowModel, mr_row_model, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, mr_row_model_list_model_init))

static void
mr_row_model_class_init (MrRowModelClass *klass)
{
}

static void
mr_row_model_init (MrRowModel *self)
{
}

MrRowModel *
mr_row_model_new (void)
{
  return g_object_new (MR_TYPE_ROW_MODEL, NULL);
}

void
mr_row_model_set_n_items (MrRowModel *self,
                          guint       n_items)
{
  guint old = self->n_items;

  if (n_items == old)
    return;
  self->n_items = n_items;
  if (n_items > old)
    g_list_model_items_changed (G_LIST_MODEL (self), old, 0, n_items - old);
  else
    g_list_model_items_changed (G_LIST_MODEL (self), n_items, old - n_items, 0);
}
