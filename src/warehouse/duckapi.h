/* duckapi.h - the DuckDB C API, loaded with dlopen on first use.
 * libduckdb is large (about 10 MiB resident once mapped); the agent and the
 * firehose never touch it, so floe does not link it: the warehouse and the
 * demo's reconciliation call floe_duckapi_load() first, and every duckdb_*
 * call below goes through the loaded table, the way sqlite3ext.h does it.
 * Code keeps calling duckdb_query() etc. by name; a function not listed in
 * FLOE_DUCKAPI_FUNCS fails to link, which is the cue to add it here. */
#ifndef FLOE_WAREHOUSE_DUCKAPI_H
#define FLOE_WAREHOUSE_DUCKAPI_H

#include <duckdb.h>

#define FLOE_DUCKAPI_FUNCS(X)                                                  \
    X(duckdb_library_version) X(duckdb_open) X(duckdb_open_ext)                \
    X(duckdb_close) X(duckdb_connect) X(duckdb_disconnect)                     \
    X(duckdb_create_config) X(duckdb_set_config) X(duckdb_destroy_config)      \
    X(duckdb_free) X(duckdb_query) X(duckdb_result_error)                      \
    X(duckdb_destroy_result) X(duckdb_column_count) X(duckdb_column_type)      \
    X(duckdb_fetch_chunk) X(duckdb_destroy_data_chunk)                         \
    X(duckdb_data_chunk_get_size) X(duckdb_data_chunk_get_vector)              \
    X(duckdb_data_chunk_set_size) X(duckdb_data_chunk_reset)                   \
    X(duckdb_create_data_chunk) X(duckdb_vector_get_data)                      \
    X(duckdb_vector_size)                                                      \
    X(duckdb_vector_get_validity) X(duckdb_validity_row_is_valid)              \
    X(duckdb_vector_ensure_validity_writable)                                  \
    X(duckdb_validity_set_row_invalid) X(duckdb_validity_set_row_valid)        \
    X(duckdb_vector_assign_string_element)                                     \
    X(duckdb_vector_assign_string_element_len)                                 \
    X(duckdb_create_logical_type) X(duckdb_destroy_logical_type)               \
    X(duckdb_appender_create) X(duckdb_appender_close)                         \
    X(duckdb_appender_destroy) X(duckdb_appender_flush)                        \
    X(duckdb_appender_error_data) X(duckdb_appender_end_row)                   \
    X(duckdb_appender_column_count) X(duckdb_appender_column_type)             \
    X(duckdb_append_data_chunk) X(duckdb_append_varchar_length)                \
    X(duckdb_append_int64) X(duckdb_append_bool) X(duckdb_append_null)         \
    X(duckdb_error_data_message) X(duckdb_destroy_error_data)                \
    X(duckdb_string_is_inlined) X(duckdb_string_t_length)                      \
    X(duckdb_string_t_data) X(duckdb_rows_changed) X(duckdb_prepare)           \
    X(duckdb_prepare_error) X(duckdb_destroy_prepare)                          \
    X(duckdb_bind_varchar_length) X(duckdb_bind_int64) X(duckdb_bind_null)     \
    X(duckdb_execute_prepared)

struct floe_duckapi {
#define FLOE_DUCKAPI_FIELD(f) __typeof__(f) *f;
    FLOE_DUCKAPI_FUNCS(FLOE_DUCKAPI_FIELD)
#undef FLOE_DUCKAPI_FIELD
};

/* Load libduckdb once per process (thread-safe). Tries $FLOE_DUCKDB_LIB,
 * libduckdb.so beside the floe binary and in ../lib, the copy floe was
 * built against, then the dynamic linker's search path. FLOE_ENOTFOUND
 * with what was tried and what to do. Later calls return the first
 * outcome. */
int floe_duckapi_load(char *err);
/* The loaded table; only valid after floe_duckapi_load() returned FLOE_OK. */
const struct floe_duckapi *floe_duckapi(void);

#ifndef FLOE_DUCKAPI_IMPL
#define duckdb_library_version (floe_duckapi()->duckdb_library_version)
#define duckdb_open (floe_duckapi()->duckdb_open)
#define duckdb_open_ext (floe_duckapi()->duckdb_open_ext)
#define duckdb_close (floe_duckapi()->duckdb_close)
#define duckdb_connect (floe_duckapi()->duckdb_connect)
#define duckdb_disconnect (floe_duckapi()->duckdb_disconnect)
#define duckdb_create_config (floe_duckapi()->duckdb_create_config)
#define duckdb_set_config (floe_duckapi()->duckdb_set_config)
#define duckdb_destroy_config (floe_duckapi()->duckdb_destroy_config)
#define duckdb_free (floe_duckapi()->duckdb_free)
#define duckdb_query (floe_duckapi()->duckdb_query)
#define duckdb_result_error (floe_duckapi()->duckdb_result_error)
#define duckdb_destroy_result (floe_duckapi()->duckdb_destroy_result)
#define duckdb_column_count (floe_duckapi()->duckdb_column_count)
#define duckdb_column_type (floe_duckapi()->duckdb_column_type)
#define duckdb_fetch_chunk (floe_duckapi()->duckdb_fetch_chunk)
#define duckdb_destroy_data_chunk (floe_duckapi()->duckdb_destroy_data_chunk)
#define duckdb_data_chunk_get_size (floe_duckapi()->duckdb_data_chunk_get_size)
#define duckdb_data_chunk_get_vector                                           \
    (floe_duckapi()->duckdb_data_chunk_get_vector)
#define duckdb_data_chunk_set_size (floe_duckapi()->duckdb_data_chunk_set_size)
#define duckdb_data_chunk_reset (floe_duckapi()->duckdb_data_chunk_reset)
#define duckdb_create_data_chunk (floe_duckapi()->duckdb_create_data_chunk)
#define duckdb_vector_get_data (floe_duckapi()->duckdb_vector_get_data)
#define duckdb_vector_size (floe_duckapi()->duckdb_vector_size)
#define duckdb_vector_get_validity (floe_duckapi()->duckdb_vector_get_validity)
#define duckdb_validity_row_is_valid                                           \
    (floe_duckapi()->duckdb_validity_row_is_valid)
#define duckdb_vector_ensure_validity_writable                                 \
    (floe_duckapi()->duckdb_vector_ensure_validity_writable)
#define duckdb_validity_set_row_invalid                                        \
    (floe_duckapi()->duckdb_validity_set_row_invalid)
#define duckdb_validity_set_row_valid                                          \
    (floe_duckapi()->duckdb_validity_set_row_valid)
#define duckdb_vector_assign_string_element                                    \
    (floe_duckapi()->duckdb_vector_assign_string_element)
#define duckdb_vector_assign_string_element_len                                \
    (floe_duckapi()->duckdb_vector_assign_string_element_len)
#define duckdb_create_logical_type (floe_duckapi()->duckdb_create_logical_type)
#define duckdb_destroy_logical_type                                            \
    (floe_duckapi()->duckdb_destroy_logical_type)
#define duckdb_appender_create (floe_duckapi()->duckdb_appender_create)
#define duckdb_appender_close (floe_duckapi()->duckdb_appender_close)
#define duckdb_appender_destroy (floe_duckapi()->duckdb_appender_destroy)
#define duckdb_appender_flush (floe_duckapi()->duckdb_appender_flush)
#define duckdb_appender_error_data (floe_duckapi()->duckdb_appender_error_data)
#define duckdb_appender_end_row (floe_duckapi()->duckdb_appender_end_row)
#define duckdb_appender_column_count                                           \
    (floe_duckapi()->duckdb_appender_column_count)
#define duckdb_appender_column_type                                            \
    (floe_duckapi()->duckdb_appender_column_type)
#define duckdb_append_data_chunk (floe_duckapi()->duckdb_append_data_chunk)
#define duckdb_append_varchar_length                                           \
    (floe_duckapi()->duckdb_append_varchar_length)
#define duckdb_append_int64 (floe_duckapi()->duckdb_append_int64)
#define duckdb_append_bool (floe_duckapi()->duckdb_append_bool)
#define duckdb_append_null (floe_duckapi()->duckdb_append_null)
#define duckdb_error_data_message (floe_duckapi()->duckdb_error_data_message)
#define duckdb_destroy_error_data (floe_duckapi()->duckdb_destroy_error_data)
#define duckdb_string_is_inlined (floe_duckapi()->duckdb_string_is_inlined)
#define duckdb_string_t_length (floe_duckapi()->duckdb_string_t_length)
#define duckdb_string_t_data (floe_duckapi()->duckdb_string_t_data)
#define duckdb_rows_changed (floe_duckapi()->duckdb_rows_changed)
#define duckdb_prepare (floe_duckapi()->duckdb_prepare)
#define duckdb_prepare_error (floe_duckapi()->duckdb_prepare_error)
#define duckdb_destroy_prepare (floe_duckapi()->duckdb_destroy_prepare)
#define duckdb_bind_varchar_length (floe_duckapi()->duckdb_bind_varchar_length)
#define duckdb_bind_int64 (floe_duckapi()->duckdb_bind_int64)
#define duckdb_bind_null (floe_duckapi()->duckdb_bind_null)
#define duckdb_execute_prepared (floe_duckapi()->duckdb_execute_prepared)
#endif

#endif
