/* fuzz-oauth.c: what a sign-in service answers (token and device-code endpoints) */

#include "config.h"

#include "fuzz-common.h"
#include "mr-oauth.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GBytes) body = g_bytes_new (data, size);
  JsonObject *answer = mr_oauth_read_answer (body, "https://login.test/token", 200, NULL);

  if (answer != NULL)
    {
      MrOAuthTokens *tokens = mr_oauth_tokens_from_answer (answer);

      mr_oauth_tokens_free (tokens);
      json_object_unref (answer);
    }
  return 0;
}
