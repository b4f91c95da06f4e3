/* test_agent_watch.c - inotify wake-ups: a write wakes the waiter at once,
 * a create/rename/delete asks for a rescan, a missing directory falls
 * back to polling and is watched once it exists. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/watch.h"
#include "core/log.h"
#include "core/util.h"
#include "test.h"

static void touch(const char *path, const char *text)
{
    FILE *f = fopen(path, "ab");

    fputs(text, f);
    fclose(f);
}

static void test_events(void)
{
    char dir[256], path[512], path2[512], missing[512];
    struct floe_watch w;
    bool rescan[2] = { false, false };
    int64_t t0;

    CHECK(test_tmpdir(dir, sizeof(dir)) != NULL);
    snprintf(path, sizeof(path), "%s/a.log", dir);
    snprintf(path2, sizeof(path2), "%s/a.log.1", dir);
    snprintf(missing, sizeof(missing), "%s/later", dir);
    touch(path, "");
    CHECK(floe_watch_open(&w, 2) == FLOE_OK);
    CHECK(w.fd >= 0);
    floe_watch_add(&w, 0, dir);
    floe_watch_add(&w, 1, missing); /* not there yet: polled */
    CHECK(w.wd[0] >= 0 && w.wd[1] < 0 && !floe_watch_all(&w));
    /* Nothing happens: the wait times out. */
    CHECK(!floe_watch_wait(&w, 50, rescan));
    /* An append wakes at once but needs no rescan. */
    touch(path, "x\n");
    t0 = floe_mono_ms();
    CHECK(floe_watch_wait(&w, 5000, rescan));
    CHECK(floe_mono_ms() - t0 < 1000);
    CHECK(!rescan[0] && !rescan[1]);
    /* A rename asks for a rescan. */
    CHECK(rename(path, path2) == 0);
    CHECK(floe_watch_wait(&w, 5000, rescan) && rescan[0] && !rescan[1]);
    rescan[0] = false;
    CHECK(unlink(path2) == 0);
    CHECK(floe_watch_wait(&w, 5000, rescan) && rescan[0]);
    /* The missing directory appears: watched from then on. */
    CHECK(mkdir(missing, 0755) == 0);
    floe_watch_add(&w, 1, missing);
    CHECK(w.wd[1] >= 0 && floe_watch_all(&w));
    floe_watch_close(&w);
    floe_watch_close(&w); /* twice is fine */
    floe_rmtree(dir);
}

static void quiet(void)
{
    floe_log_level = FLOE_LOG_ERROR;
}

FLOE_TESTS({ "quiet", quiet }, { "events", test_events });
