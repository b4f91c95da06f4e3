/* rotate.h - rotation by copy, recognised by content. A tracked file keeps
 * a fingerprint of what was handed out of it ([0, offset)): its first
 * FLOE_ROTATE_HEAD bytes and the FLOE_ROTATE_WIN bytes just before the
 * offset. A new file holding the same bytes at the same places is a copy
 * (copytruncate, or cp without truncate) and continues at that offset; a
 * tracked file whose bytes before its offset changed was truncated (and
 * maybe refilled) and restarts at 0, its fingerprint kept as a "ghost" so
 * that a copy noticed later still continues; a parked file (closed for
 * want of descriptors) is compared through that fingerprint. Costs:
 * small preads, only when a size changed or a new file appears. */
#ifndef FLOE_AGENT_ROTATE_H
#define FLOE_AGENT_ROTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLOE_ROTATE_HEAD 256  /* fingerprint: first bytes handed out */
#define FLOE_ROTATE_WIN 4096  /* fingerprint: last bytes handed out */
#define FLOE_ROTATE_GHOSTS 4  /* truncated files remembered */

/* What was handed out of a file, in brief. */
struct floe_rotate_fp {
    unsigned char head[FLOE_ROTATE_HEAD];
    size_t head_len;       /* min(offset, FLOE_ROTATE_HEAD) when known */
    unsigned char win[FLOE_ROTATE_WIN];
    size_t win_len;        /* the bytes just before offset */
};

/* A file that was truncated: what had been read of it. */
struct floe_rotate_ghost {
    bool used;
    uint64_t offset;
    struct floe_rotate_fp fp;
};

struct floe_tail;
struct floe_tail_file;

/* Load f's fingerprint of [0, offset) from its descriptor (two preads;
 * an unreadable part is left empty, which only weakens copy detection). */
void floe_rotate_fp_load(struct floe_tail_file *f, uint64_t offset);
/* Extend f's fingerprint by the `n` bytes at `p` (borrowed) that were just
 * handed out at f->offset (call before advancing the offset). */
void floe_rotate_fp_note(struct floe_tail_file *f, const char *p, size_t n);

/* Are the bytes handed out of `f` still in the file? False when its first
 * bytes or the bytes just before its offset changed (truncated, maybe
 * refilled past the old size between two looks). Two small preads. */
bool floe_rotate_unchanged(const struct floe_tail_file *f);
/* Keep f's fingerprint among t's ghosts before `f` restarts at 0, so that
 * a copy of its old content seen later continues where it stopped. */
void floe_rotate_remember(struct floe_tail *t, const struct floe_tail_file *f);

/* Is the new file `nf` a copy of a tracked file (or of one truncated
 * earlier): same first bytes and same bytes just before the offset that
 * file was read to, and at least that long? Then 1, and *out_offset gets
 * that offset (what came before was sent already). A tracked original
 * whose content changed meanwhile (copytruncate, refilled) restarts at 0.
 * -1: not decided yet, `nf` is shorter but so far matches (a copy being
 * written); *out_offset is where to start if it stays so (its end if all
 * of it was compared, else 0). 0: a file of its own. Updates nf->size. */
int floe_rotate_find_copy(struct floe_tail *t, struct floe_tail_file *nf,
                          uint64_t *out_offset);

#endif
