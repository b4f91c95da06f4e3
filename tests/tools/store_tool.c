/* store_tool.c - drives one object store through store.h, for the store
 * test suite (tests/integration/test_store.py) that runs the same cases
 * against every backend. Not installed.
 *   store_tool URL put|putnew|putfile KEY FILE   get|getfile KEY FILE
 *   store_tool URL head KEY   list PREFIX   copy SRC DST   del KEY
 *   store_tool URL putmany PREFIX N   (N small objects PREFIX00000...)
 * Exit 0 on success, 2 when the store cannot be opened, else 10 - rc
 * (FLOE_ENOTFOUND 16, FLOE_EEXIST 17, FLOE_EREMOTE 21...), with the
 * store's reason on stderr. STORE_TOOL_LOG=debug shows each retry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "store/store.h"

static int print_key(const struct floe_obj_info *info, void *ud)
{
    (void)ud;
    printf("%s\t%lld\n", info->key, (long long)info->size);
    return 0;
}

static int run(struct floe_store *st, int argc, char **argv)
{
    const char *cmd = argv[2], *key = argc > 3 ? argv[3] : "";
    struct floe_buf b;
    int rc;

    floe_buf_init(&b, FLOE_BUF_UNLIMITED);
    if ((strcmp(cmd, "put") == 0 || strcmp(cmd, "putnew") == 0) &&
        argc == 5) {
        rc = floe_read_file(argv[4], &b);
        if (rc == FLOE_OK && cmd[3] == 'n')
            rc = floe_store_put_new(st, key, b.data ? b.data : "", b.len);
        else if (rc == FLOE_OK)
            rc = floe_store_put(st, key, b.data ? b.data : "", b.len);
    } else if (strcmp(cmd, "putfile") == 0 && argc == 5) {
        rc = floe_store_put_file(st, key, argv[4], false);
    } else if (strcmp(cmd, "get") == 0 && argc == 5) {
        rc = floe_store_get(st, key, &b);
        if (rc == FLOE_OK)
            rc = floe_write_file_atomic(argv[4], b.data ? b.data : "",
                                        b.len);
    } else if (strcmp(cmd, "getfile") == 0 && argc == 5) {
        rc = floe_store_get_file(st, key, argv[4]);
    } else if (strcmp(cmd, "head") == 0 && argc == 4) {
        struct floe_obj_info info;

        rc = floe_store_head(st, key, &info);
        if (rc == FLOE_OK)
            printf("%lld %lld\n", (long long)info.size,
                   (long long)info.mtime_ms);
    } else if (strcmp(cmd, "list") == 0 && argc == 4) {
        rc = floe_store_list(st, key, print_key, NULL);
    } else if (strcmp(cmd, "copy") == 0 && argc == 5) {
        rc = floe_store_copy(st, key, argv[4]);
    } else if (strcmp(cmd, "del") == 0 && argc == 4) {
        rc = floe_store_delete(st, key);
    } else if (strcmp(cmd, "putmany") == 0 && argc == 5) {
        int n = atoi(argv[4]);

        rc = FLOE_OK;
        for (int i = 0; i < n && rc == FLOE_OK; i++) {
            char k[FLOE_STORE_KEY_MAX + 1];

            snprintf(k, sizeof(k), "%s%05d", key, i);
            rc = floe_store_put(st, k, k, strlen(k));
        }
    } else {
        fprintf(stderr, "store_tool: bad command line\n");
        rc = FLOE_EINVAL;
    }
    if (rc != FLOE_OK)
        fprintf(stderr, "store_tool: %s: %s\n", floe_strerror(rc),
                floe_store_strerror(rc));
    floe_buf_free(&b);
    return rc;
}

int main(int argc, char **argv)
{
    struct floe_store *st = NULL;
    char err[FLOE_ERR_LEN] = "";
    int rc;

    if (argc < 4) {
        fprintf(stderr, "usage: store_tool URL CMD ARGS...\n");
        return 2;
    }
    if (getenv("STORE_TOOL_LOG") != NULL)
        floe_log_level = floe_log_parse_level(getenv("STORE_TOOL_LOG"));
    rc = floe_store_open(argv[1], &st, err);
    if (rc != FLOE_OK) {
        fprintf(stderr, "store_tool: open %s: %s\n", argv[1],
                err[0] ? err : floe_strerror(rc));
        return 2;
    }
    rc = run(st, argc, argv);
    floe_store_close(st);
    return rc == FLOE_OK ? 0 : 10 - rc;
}
