/* main() of the `wgts` executable: runs the bundle qjsc compiled into
 * wgts_bundle (build/build.mjs), with scriptArgs = argv. */
#include "runtime.h"

extern const uint8_t wgts_bundle[];
extern const uint32_t wgts_bundle_size;

int main(int argc, char **argv)
{
    return wgts_run_bytecode(wgts_bundle, wgts_bundle_size, argc, argv);
}
