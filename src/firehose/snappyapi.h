/* snappyapi.h - libsnappy's C API (snappy-c.h), loaded with dlopen on
 * first use. libsnappy is C++: linking it maps libstdc++ (~0.9 MiB
 * resident) into every floe process, yet only the firehose's Snappy and
 * HADOOP_SNAPPY compression calls it. Call floe_snappyapi_load() first;
 * code keeps calling snappy_compress() etc. by name through the loaded
 * table (the duckapi.h pattern). A function not in FLOE_SNAPPYAPI_FUNCS
 * fails to link: add it here. */
#ifndef FLOE_FIREHOSE_SNAPPYAPI_H
#define FLOE_FIREHOSE_SNAPPYAPI_H

#include <snappy-c.h>

#define FLOE_SNAPPYAPI_FUNCS(X)                                                \
    X(snappy_compress) X(snappy_uncompress) X(snappy_max_compressed_length)   \
    X(snappy_uncompressed_length) X(snappy_validate_compressed_buffer)

struct floe_snappyapi {
#define FLOE_SNAPPYAPI_FIELD(f) __typeof__(f) *f;
    FLOE_SNAPPYAPI_FUNCS(FLOE_SNAPPYAPI_FIELD)
#undef FLOE_SNAPPYAPI_FIELD
};

/* Load libsnappy once per process (thread-safe): $FLOE_SNAPPY_LIB if set
 * (never second-guessed), else libsnappy.so.1, the copy floe was built
 * against, then libsnappy.so. FLOE_ENOTFOUND (FLOE_ENOTSUP for a library
 * lacking a function) with what was tried and what to do in err
 * (FLOE_ERR_LEN, may be NULL). Later calls return the first outcome. */
int floe_snappyapi_load(char *err);
/* The loaded table; only valid after floe_snappyapi_load() returned
 * FLOE_OK. */
const struct floe_snappyapi *floe_snappyapi(void);

#ifndef FLOE_SNAPPYAPI_IMPL
#define snappy_compress (floe_snappyapi()->snappy_compress)
#define snappy_uncompress (floe_snappyapi()->snappy_uncompress)
#define snappy_max_compressed_length                                           \
    (floe_snappyapi()->snappy_max_compressed_length)
#define snappy_uncompressed_length                                             \
    (floe_snappyapi()->snappy_uncompressed_length)
#define snappy_validate_compressed_buffer                                      \
    (floe_snappyapi()->snappy_validate_compressed_buffer)
#endif

#endif
