/* truth.c - truth file lines (see truth.h); one sink write per line. */
#include "gen/truth.h"

#include "core/err.h"
#include "gen/line.h"

int floe_truth_add(struct floe_sink *s, enum floe_truth_kind kind,
                   const char *id, enum floe_truth_status status)
{
    static const char *const kinds[] = { "order\t", "customer\t" };
    static const char *const statuses[] = { "\tvalid\n", "\tduplicate\n",
                                            "\tinvalid\n" };
    struct floe_line l;

    floe_line_reset(&l);
    floe_line_adds(&l, kinds[kind]);
    floe_line_adds(&l, id != NULL ? id : "-");
    floe_line_adds(&l, statuses[status]);
    if (l.overflow)
        return FLOE_ETOOBIG;
    return floe_sink_write(s, l.buf, l.len);
}
