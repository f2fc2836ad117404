/* The QuickJS runtime both executables share: std, os and wgts_native
 * modules, an event loop, and a non-zero exit on an uncaught exception or
 * an unhandled promise rejection. */
#ifndef WGTS_RUNTIME_H
#define WGTS_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

/* Runs precompiled module bytecode (qjsc -c output); scriptArgs = argv. */
int wgts_run_bytecode(const uint8_t *bytecode, size_t len, int argc, char **argv);
/* Runs the JS module file argv[0]; scriptArgs = argv. */
int wgts_run_file(int argc, char **argv);

#endif
