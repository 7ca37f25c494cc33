/* fuzz-common.h: what the fuzz targets share
 *
 * Each target defines LLVMFuzzerTestOneInput(). Built with -Dfuzzing=true (clang) it is a libFuzzer
 * program (`make fuzz`); otherwise fuzz-replay.c gives it a main() that runs every file of the
 * folders it is given, so that `make test` replays the seed corpus and every crash found so far.
 */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

/* A file holding @data, in a folder made once per process; the same path each time. */
char *fuzz_write_input (const char    *name,
                        const uint8_t *data,
                        size_t         size);
