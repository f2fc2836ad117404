/* main() of `wgts-js`: runs a JS module file on the same runtime as wgts
 * (std, os, wgts_native), for test bundles and benchmarks.
 * Usage: wgts-js MODULE.js [ARGS...]; scriptArgs = [MODULE.js, ARGS...]. */
#include <stdio.h>

#include "runtime.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: wgts-js MODULE.js [ARGS...]\n");
        return 2;
    }
    return wgts_run_file(argc - 1, argv + 1);
}
