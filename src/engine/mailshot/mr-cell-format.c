/* mr-cell-format.c: a spreadsheet number as the spreadsheet shows it (see mr-cell-format.h) */

#include "config.h"

#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mr-cell-format.h"

/* ECMA-376 part 1, 18.8.30: the formats every reader knows by number. */
const char *
mr_cell_format_builtin (guint id)
{
  static const struct { guint id; const char *code; } builtins[] = {
    { 0, "General" }, { 1, "0" }, { 2, "0.00" }, { 3, "#,##0" }, { 4, "#,##0.00" },
    { 9, "0%" }, { 10, "0.00%" }, { 11, "0.00E+00" }, { 12, "# ?/?" }, { 13, "# ?\?/??" },
    { 14, "yyyy-mm-dd" }, { 15, "d-mmm-yy" }, { 16, "d-mmm" }, { 17, "mmm-yy" },
    { 18, "h:mm AM/PM" }, { 19, "h:mm:ss AM/PM" }, { 20, "h:mm" }, { 21, "h:mm:ss" },
    { 22, "yyyy-mm-dd h:mm" }, { 37, "#,##0 ;(#,##0)" }, { 38, "#,##0 ;[Red](#,##0)" },
    { 39, "#,##0.00;(#,##0.00)" }, { 40, "#,##0.00;[Red](#,##0.00)" }, { 45, "mm:ss" },
    { 46, "[h]:mm:ss" }, { 47, "mm:ss.0" }, { 48, "##0.0E+0" }, { 49, "@" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (builtins); i++)
    if (builtins[i].id == id)
      return builtins[i].code;
  return NULL;
}

/* ---- Sections and tokens ---------------------------------------------------------------------- */

typedef enum {
  TOKEN_LITERAL,   /* text shown as it is */
  TOKEN_DIGITS,    /* 0 # ? , . E+ %: the number's pattern characters */
  TOKEN_YEAR, TOKEN_MONTH_OR_MINUTE, TOKEN_DAY, TOKEN_HOUR, TOKEN_SECOND,
  TOKEN_ELAPSED_HOURS, TOKEN_ELAPSED_MINUTES, TOKEN_ELAPSED_SECONDS,
  TOKEN_AMPM,      /* AM/PM (length 5) or A/P (length 3) */
  TOKEN_TEXT,      /* @ */
  TOKEN_GENERAL,   /* "General" inside a section: the number as General shows it */
} TokenType;

typedef struct {
  TokenType type;
  guint     length;
  char     *text;    /* TOKEN_LITERAL, TOKEN_DIGITS */
} Token;

static void
token_clear (gpointer data)
{
  g_free (((Token *) data)->text);
}

/* Text for a token of @type (TOKEN_LITERAL or TOKEN_DIGITS): joined to the last token when it is
 * of that type, so that "0.00" is one run of digits and "\"pcs\" each" one literal. */
static void
add_text (GArray     *tokens,
          TokenType   type,
          const char *text,
          gssize      length)
{
  Token *last = tokens->len > 0 ? &g_array_index (tokens, Token, tokens->len - 1) : NULL;
  gsize n = length < 0 ? strlen (text) : (gsize) length;

  if (last != NULL && last->type == type)
    {
      char *longer = g_strdup_printf ("%s%.*s", last->text, (int) n, text);

      g_free (last->text);
      last->text = longer;
      return;
    }
  g_array_append_val (tokens, ((Token) { type, 0, g_strndup (text, n) }));
}

static void
add_literal (GArray     *tokens,
             const char *text,
             gssize      length)
{
  add_text (tokens, TOKEN_LITERAL, text, length);
}

static void
add_token (GArray    *tokens,
           TokenType  type,
           guint      length)
{
  g_array_append_val (tokens, ((Token) { type, length, NULL }));
}

static void
add_digit (GArray *tokens,
           char    c)
{
  add_text (tokens, TOKEN_DIGITS, &c, 1);
}

static guint
run_length (const char *p,
            char        lower)
{
  guint n = 0;

  while (g_ascii_tolower (p[n]) == lower)
    n++;
  return n;
}

/* The tokens of one section. A bracket is a colour, a condition, a currency ("[$€-407]": "€") or
 * an elapsed time ("[h]"). Letters that are not format characters are shown, as Excel does for
 * a few of them. */
static GArray *
tokenize (const char *section)
{
  GArray *tokens = g_array_new (FALSE, TRUE, sizeof (Token));
  const char *p = section;

  g_array_set_clear_func (tokens, token_clear);
  while (*p != '\0')
    {
      char c = *p;
      char lower = g_ascii_tolower (c);

      if (c == '"')
        {
          const char *end = strchr (p + 1, '"');

          if (end == NULL)
            end = p + strlen (p);
          add_literal (tokens, p + 1, end - p - 1);
          p = *end ? end + 1 : end;
        }
      else if (c == '\\' && p[1] != '\0')
        {
          const char *next = g_utf8_next_char (p + 1);

          add_literal (tokens, p + 1, next - p - 1);
          p = next;
        }
      else if (c == '_' && p[1] != '\0')
        {
          add_literal (tokens, " ", 1);
          p = g_utf8_next_char (p + 1);
        }
      else if (c == '*' && p[1] != '\0')
        p = g_utf8_next_char (p + 1);
      else if (c == '[')
        {
          const char *end = strchr (p, ']');
          g_autofree char *inside = NULL;

          if (end == NULL)
            break;
          inside = g_strndup (p + 1, end - p - 1);
          if (inside[0] == '$')
            {
              const char *dash = strchr (inside, '-');

              add_literal (tokens, inside + 1, dash ? dash - inside - 1 : (gssize) strlen (inside + 1));
            }
          else if (g_ascii_tolower (inside[0]) == 'h' && run_length (inside, 'h') == strlen (inside))
            add_token (tokens, TOKEN_ELAPSED_HOURS, strlen (inside));
          else if (g_ascii_tolower (inside[0]) == 'm' && run_length (inside, 'm') == strlen (inside))
            add_token (tokens, TOKEN_ELAPSED_MINUTES, strlen (inside));
          else if (g_ascii_tolower (inside[0]) == 's' && run_length (inside, 's') == strlen (inside))
            add_token (tokens, TOKEN_ELAPSED_SECONDS, strlen (inside));
          p = end + 1;
        }
      else if (g_ascii_strncasecmp (p, "AM/PM", 5) == 0)
        {
          add_token (tokens, TOKEN_AMPM, 5);
          p += 5;
        }
      else if (g_ascii_strncasecmp (p, "A/P", 3) == 0)
        {
          add_token (tokens, TOKEN_AMPM, 3);
          p += 3;
        }
      else if (g_ascii_strncasecmp (p, "General", 7) == 0)
        {
          add_token (tokens, TOKEN_GENERAL, 7);
          p += 7;
        }
      else if (lower == 'e' && (p[1] == '+' || p[1] == '-') && tokens->len > 0 &&
               g_array_index (tokens, Token, tokens->len - 1).type == TOKEN_DIGITS)
        {
          add_digit (tokens, 'E');
          add_digit (tokens, p[1]);
          p += 2;
        }
      else if (lower == 'y' || lower == 'e')
        {
          guint n = run_length (p, lower);

          add_token (tokens, TOKEN_YEAR, lower == 'e' ? 4 : n);
          p += n;
        }
      else if (lower == 'm' || lower == 'd' || lower == 'h' || lower == 's')
        {
          guint n = run_length (p, lower);
          TokenType type = lower == 'm' ? TOKEN_MONTH_OR_MINUTE : lower == 'd' ? TOKEN_DAY
                           : lower == 'h' ? TOKEN_HOUR : TOKEN_SECOND;

          add_token (tokens, type, n);
          p += n;
        }
      else if (c == '@')
        {
          add_token (tokens, TOKEN_TEXT, 1);
          p++;
        }
      else if (c == '0' || c == '#' || c == '?' || c == '%' ||
               ((c == '.' || c == ',') && tokens->len > 0 &&
                g_array_index (tokens, Token, tokens->len - 1).type == TOKEN_DIGITS) ||
               ((c == '.') && (p[1] == '0' || p[1] == '#' || p[1] == '?')))
        {
          add_digit (tokens, *p);
          p++;
        }
      else
        {
          const char *next = g_utf8_next_char (p);

          add_literal (tokens, p, next - p);
          p = next;
        }
    }
  return tokens;
}

static gboolean
tokens_are_date (GArray *tokens)
{
  for (guint i = 0; i < tokens->len; i++)
    {
      TokenType type = g_array_index (tokens, Token, i).type;

      if (type >= TOKEN_YEAR && type <= TOKEN_AMPM)
        return TRUE;
    }
  return FALSE;
}

/* The sections of @code, split at semicolons outside quotes and brackets. */
static GPtrArray *
split_sections (const char *code)
{
  GPtrArray *sections = g_ptr_array_new_with_free_func (g_free);
  const char *start = code;
  gboolean quoted = FALSE;
  int bracket = 0;

  for (const char *p = code; ; p++)
    {
      if (*p == '\0' || (*p == ';' && !quoted && bracket == 0))
        {
          g_ptr_array_add (sections, g_strndup (start, p - start));
          if (*p == '\0')
            break;
          start = p + 1;
          continue;
        }
      if (*p == '\\' && p[1] != '\0' && !quoted)
        p++;
      else if (*p == '"')
        quoted = !quoted;
      else if (*p == '[' && !quoted)
        bracket++;
      else if (*p == ']' && !quoted && bracket > 0)
        bracket--;
    }
  return sections;
}

gboolean
mr_cell_format_is_date (const char *code)
{
  g_autoptr(GPtrArray) sections = NULL;
  g_autoptr(GArray) tokens = NULL;

  if (code == NULL || g_ascii_strcasecmp (code, "General") == 0)
    return FALSE;
  sections = split_sections (code);
  tokens = tokenize (g_ptr_array_index (sections, 0));
  return tokens_are_date (tokens);
}

/* ---- Numbers ---------------------------------------------------------------------------------- */

static const char *
decimal_point (void)
{
  const struct lconv *conv = localeconv ();

  return conv->decimal_point && *conv->decimal_point ? conv->decimal_point : ".";
}

static const char *
thousands_separator (void)
{
  const struct lconv *conv = localeconv ();

  if (conv->thousands_sep && *conv->thousands_sep)
    return conv->thousands_sep;
  /* The C locale has none; a spreadsheet program still groups. */
  return g_str_equal (decimal_point (), ",") ? "." : ",";
}

static char *
format_general (double value)
{
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];
  GString *out;

  if (value == floor (value) && fabs (value) < 1e15)
    g_ascii_formatd (buffer, sizeof buffer, "%.0f", value);
  else
    g_ascii_formatd (buffer, sizeof buffer, "%.15g", value);
  out = g_string_new (NULL);
  for (const char *p = buffer; *p; p++)
    {
      if (*p == '.')
        g_string_append (out, decimal_point ());
      else if (*p == 'e')
        g_string_append_c (out, 'E');
      else
        g_string_append_c (out, *p);
    }
  if (g_str_equal (out->str, "-0"))
    g_string_assign (out, "0");
  return g_string_free (out, FALSE);
}

static void
append_grouped (GString    *out,
                const char *digits,
                gboolean    grouping)
{
  gsize n = strlen (digits);

  for (gsize i = 0; i < n; i++)
    {
      if (grouping && i > 0 && (n - i) % 3 == 0)
        g_string_append (out, thousands_separator ());
      g_string_append_c (out, digits[i]);
    }
}

/* @value (not negative) with @decimals places, "1234.50": rounded half away from zero on its
 * first 15 significant digits, as spreadsheets round, so that 1234.5 gives 1235 and a stored
 * 10.9899999999999999998 gives 10.99. */
static char *
round_decimal (double value,
               guint  decimals)
{
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];
  g_autoptr(GString) digits = g_string_new (NULL);
  GString *out;
  const char *p;
  int point;

  g_ascii_formatd (buffer, sizeof buffer, "%.14e", value);
  for (p = buffer; *p != '\0' && *p != 'e'; p++)
    if (g_ascii_isdigit (*p))
      g_string_append_c (digits, *p);
  point = (*p == 'e' ? atoi (p + 1) : 0) + 1;   /* digits before the decimal point */
  if (point <= 0)
    {
      for (int i = point; i <= 0; i++)
        g_string_prepend_c (digits, '0');
      point = 1;
    }
  while (digits->len < (gsize) point + decimals + 1)
    g_string_append_c (digits, '0');
  if (digits->str[point + decimals] >= '5')
    {
      int i = point + decimals - 1;

      for (; i >= 0 && digits->str[i] == '9'; i--)
        digits->str[i] = '0';
      if (i >= 0)
        digits->str[i]++;
      else
        {
          g_string_prepend_c (digits, '1');
          point++;
        }
    }
  out = g_string_new (NULL);
  p = digits->str;
  while (p < digits->str + point - 1 && *p == '0')
    p++;
  g_string_append_len (out, p, digits->str + point - p);
  if (decimals > 0)
    {
      g_string_append_c (out, '.');
      g_string_append_len (out, digits->str + point, decimals);
    }
  return g_string_free (out, FALSE);
}

/* Digits of @value (not negative) for an integer pattern and a fraction pattern. */
static void
append_fixed (GString    *out,
              double      value,
              const char *int_pattern,
              const char *frac_pattern,
              gboolean    has_point)
{
  guint min_int = 0, max_frac = 0, min_frac = 0;
  gboolean grouping = strchr (int_pattern, ',') != NULL;
  g_autofree char *digits = NULL;
  char *point;
  gsize frac_length;

  for (const char *p = int_pattern; *p; p++)
    min_int += *p == '0';
  for (const char *p = frac_pattern; *p; p++)
    if (*p == '0' || *p == '#' || *p == '?')
      {
        max_frac++;
        if (*p == '0')
          min_frac = max_frac;
      }
  digits = round_decimal (value, MIN (max_frac, 30u));
  point = strchr (digits, '.');
  if (point != NULL)
    *point = '\0';
  /* The integer digits: "0" is shown only when the pattern asks for a digit there. */
  if (g_str_equal (digits, "0") && min_int == 0)
    digits[0] = '\0';
  for (gsize n = strlen (digits); n < min_int; n++)
    g_string_append_c (out, '0');
  append_grouped (out, digits, grouping);
  if (!has_point)
    return;
  g_string_append (out, decimal_point ());
  if (point == NULL)
    return;
  frac_length = strlen (point + 1);
  while (frac_length > min_frac && point[frac_length] == '0')
    frac_length--;
  g_string_append_len (out, point + 1, frac_length);
}

/* The number pattern of one section (a TOKEN_DIGITS text) for @value, not negative. Returns FALSE
 * for a pattern this does not render. */
static gboolean
append_number (GString    *out,
               double      value,
               const char *pattern)
{
  g_autofree char *mantissa = NULL;
  const char *exponent = NULL;
  g_autofree char *int_pattern = NULL;
  const char *point;
  gsize int_length;

  if (strchr (pattern, '%'))
    value *= 100;
  {
    const char *e = strchr (pattern, 'E');

    mantissa = e ? g_strndup (pattern, e - pattern) : g_strdup (pattern);
    exponent = e ? e + 1 : NULL;
  }
  point = strchr (mantissa, '.');
  int_length = point ? (gsize) (point - mantissa) : strlen (mantissa);
  int_pattern = g_strndup (mantissa, int_length);
  /* Commas after the last digit scale by a thousand each ("#,##0," shows thousands). */
  while (int_length > 0 && int_pattern[int_length - 1] == ',')
    {
      int_pattern[--int_length] = '\0';
      value /= 1000;
    }
  if (exponent != NULL)
    {
      char sign = exponent[0];
      guint exponent_digits = 0;
      int power = value > 0 ? (int) floor (log10 (value)) : 0;
      double scaled;
      char buffer[32];

      for (const char *p = exponent + 1; *p; p++)
        exponent_digits += *p == '0';
      if (abs (power) > 400)
        return FALSE;
      scaled = value / pow (10, power);
      {
        /* Rounding can carry the mantissa to 10: one more power. */
        guint decimals = 0;
        g_autofree char *rounded = NULL;

        for (const char *p = point ? point + 1 : ""; *p; p++)
          decimals += *p == '0' || *p == '#' || *p == '?';
        rounded = round_decimal (scaled, decimals);

        if (strlen (rounded) > (decimals > 0 ? decimals + 2 : 1))
          {
            power++;
            scaled /= 10;
          }
      }
      append_fixed (out, scaled, int_pattern, point ? point + 1 : "", point != NULL);
      if (power < 0)
        g_string_append (out, "E-");
      else
        g_string_append (out, sign == '+' ? "E+" : "E");
      g_snprintf (buffer, sizeof buffer, "%0*d", (int) MAX (exponent_digits, 1u), abs (power));
      g_string_append (out, buffer);
    }
  else
    {
      if (value >= 1e300)
        return FALSE;
      append_fixed (out, value, int_pattern, point ? point + 1 : "", point != NULL);
    }
  return TRUE;
}

/* ---- Dates ------------------------------------------------------------------------------------ */

static GDateTime *
date_from_serial (double   value,
                  gboolean date1904,
                  double  *elapsed_seconds)
{
  g_autoptr(GDateTime) base = NULL;
  double days = floor (value);
  gint64 seconds = (gint64) llround ((value - days) * 86400);

  if (value < 0 || value > 2958466)   /* before the epoch, or after 9999 */
    return NULL;
  *elapsed_seconds = round (value * 86400);
  if (date1904)
    base = g_date_time_new_utc (1904, 1, 1, 0, 0, 0);
  else if (days >= 61)
    base = g_date_time_new_utc (1899, 12, 30, 0, 0, 0);
  else if (days == 60)   /* Excel's 29 February 1900, which did not exist */
    {
      base = g_date_time_new_utc (1900, 2, 28, 0, 0, 0);
      days = 0;
    }
  else
    base = g_date_time_new_utc (1899, 12, 31, 0, 0, 0);
  return g_date_time_add_seconds (base, days * 86400.0 + seconds);
}

static gboolean
is_date_part (TokenType type)
{
  return type >= TOKEN_YEAR && type <= TOKEN_AMPM;
}

/* Whether the "m" at @index means minutes: after hours, or before seconds. */
static gboolean
m_is_minutes (GArray *tokens,
              guint   index)
{
  for (guint i = index; i-- > 0;)
    {
      TokenType type = g_array_index (tokens, Token, i).type;

      if (is_date_part (type))
        {
          if (type == TOKEN_HOUR || type == TOKEN_ELAPSED_HOURS)
            return TRUE;
          break;
        }
    }
  for (guint i = index + 1; i < tokens->len; i++)
    {
      TokenType type = g_array_index (tokens, Token, i).type;

      if (is_date_part (type))
        return type == TOKEN_SECOND || type == TOKEN_ELAPSED_SECONDS;
    }
  return FALSE;
}

static void
append_padded (GString *out,
               int      number,
               guint    length)
{
  g_string_append_printf (out, length >= 2 ? "%02d" : "%d", number);
}

static void
append_formatted (GString    *out,
                  GDateTime  *date,
                  const char *format)
{
  g_autofree char *text = g_date_time_format (date, format);

  g_string_append (out, text ? text : "");
}

static gboolean
append_date (GString  *out,
             double    value,
             gboolean  date1904,
             GArray   *tokens)
{
  double elapsed;
  g_autoptr(GDateTime) date = date_from_serial (value, date1904, &elapsed);
  gboolean twelve_hours = FALSE;

  if (date == NULL)
    return FALSE;
  for (guint i = 0; i < tokens->len; i++)
    twelve_hours |= g_array_index (tokens, Token, i).type == TOKEN_AMPM;
  for (guint i = 0; i < tokens->len; i++)
    {
      Token *token = &g_array_index (tokens, Token, i);
      int hour = g_date_time_get_hour (date);

      switch (token->type)
        {
        case TOKEN_LITERAL:
        case TOKEN_DIGITS:   /* a "0" after seconds: tenths, which the rounding has made zero */
          for (const char *p = token->text; *p; p++)
            if (*p != '#' && *p != '?')
              g_string_append_c (out, *p == '.' ? decimal_point ()[0] : *p);
          break;
        case TOKEN_YEAR:
          if (token->length <= 2)
            append_padded (out, g_date_time_get_year (date) % 100, 2);
          else
            g_string_append_printf (out, "%04d", g_date_time_get_year (date));
          break;
        case TOKEN_MONTH_OR_MINUTE:
          if (m_is_minutes (tokens, i))
            append_padded (out, g_date_time_get_minute (date), token->length);
          else if (token->length <= 2)
            append_padded (out, g_date_time_get_month (date), token->length);
          else if (token->length == 3)
            append_formatted (out, date, "%b");
          else
            {
              g_autofree char *name = g_date_time_format (date, "%B");

              if (token->length == 5 && name != NULL && *name)
                g_string_append_len (out, name, g_utf8_next_char (name) - name);
              else
                g_string_append (out, name ? name : "");
            }
          break;
        case TOKEN_DAY:
          if (token->length <= 2)
            append_padded (out, g_date_time_get_day_of_month (date), token->length);
          else
            append_formatted (out, date, token->length == 3 ? "%a" : "%A");
          break;
        case TOKEN_HOUR:
          if (twelve_hours)
            hour = hour % 12 == 0 ? 12 : hour % 12;
          append_padded (out, hour, token->length);
          break;
        case TOKEN_SECOND:
          append_padded (out, g_date_time_get_second (date), token->length);
          break;
        case TOKEN_ELAPSED_HOURS:
          g_string_append_printf (out, "%0*.0f", (int) token->length, floor (elapsed / 3600));
          break;
        case TOKEN_ELAPSED_MINUTES:
          g_string_append_printf (out, "%0*.0f", (int) token->length, floor (elapsed / 60));
          break;
        case TOKEN_ELAPSED_SECONDS:
          g_string_append_printf (out, "%0*.0f", (int) token->length, elapsed);
          break;
        case TOKEN_AMPM:
          if (token->length == 5)
            g_string_append (out, hour < 12 ? "AM" : "PM");
          else
            g_string_append (out, hour < 12 ? "A" : "P");
          break;
        case TOKEN_TEXT:
        case TOKEN_GENERAL:
          break;
        default:
          g_assert_not_reached ();
        }
    }
  return TRUE;
}

/* ---- The whole format ------------------------------------------------------------------------- */

char *
mr_cell_format_number (double      value,
                       const char *code,
                       gboolean    date1904)
{
  g_autoptr(GPtrArray) sections = NULL;
  g_autoptr(GArray) tokens = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  const char *section;
  gboolean minus = FALSE;
  guint n_digits = 0;
  guint n_sections;

  if (!isfinite (value))
    return g_strdup ("#NUM!");
  if (code == NULL || *code == '\0' || g_ascii_strcasecmp (code, "General") == 0)
    return format_general (value);
  sections = split_sections (code);
  n_sections = sections->len;
  /* The text section (fourth) never applies to a number. */
  if (n_sections > 3)
    n_sections = 3;
  if (value < 0 && n_sections >= 2)
    {
      section = g_ptr_array_index (sections, 1);
      value = -value;
    }
  else if (value == 0 && n_sections >= 3)
    section = g_ptr_array_index (sections, 2);
  else
    {
      section = g_ptr_array_index (sections, 0);
      if (value < 0)
        {
          minus = TRUE;
          value = -value;
        }
    }
  if (g_ascii_strcasecmp (section, "General") == 0)
    {
      g_autofree char *general = format_general (value);

      return minus ? g_strconcat ("-", general, NULL) : g_steal_pointer (&general);
    }
  tokens = tokenize (section);
  if (tokens_are_date (tokens))
    {
      if (!append_date (out, minus ? -value : value, date1904, tokens))
        return format_general (minus ? -value : value);
      return g_string_free (g_steal_pointer (&out), FALSE);
    }

  for (guint i = 0; i < tokens->len; i++)
    n_digits += g_array_index (tokens, Token, i).type == TOKEN_DIGITS;
  /* Text between the digits ("000-0000") is not rendered: General, with the sign. */
  if (n_digits > 1)
    return format_general (minus ? -value : value);
  for (guint i = 0; i < tokens->len; i++)
    {
      Token *token = &g_array_index (tokens, Token, i);

      if (token->type == TOKEN_LITERAL)
        g_string_append (out, token->text);
      else if (token->type == TOKEN_GENERAL)
        {
          g_autofree char *general = format_general (value);

          if (minus)
            g_string_append_c (out, '-');
          g_string_append (out, general);
          minus = FALSE;
        }
      else if (token->type == TOKEN_DIGITS)
        {
          /* The minus goes before the digits, after a currency symbol in front. */
          if (minus)
            g_string_append_c (out, '-');
          if (strpbrk (token->text, "0#?") == NULL)
            {
              if (strchr (token->text, '%'))
                {
                  g_autofree char *general = format_general (value * 100);

                  g_string_append_printf (out, "%s%%", general);
                }
              else
                g_string_append (out, token->text);
              continue;
            }
          if (!append_number (out, value, token->text))
            return format_general (minus ? -value : value);
          if (strchr (token->text, '%'))
            g_string_append_c (out, '%');
        }
    }
  if (n_digits == 0 && minus)
    g_string_prepend_c (out, '-');
  return g_string_free (g_steal_pointer (&out), FALSE);
}
