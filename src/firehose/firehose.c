/* firehose.c - stub entry point until this part lands. */
#include <stdio.h>

#include "firehose/firehose.h"

int floe_firehose_main(int argc, char **argv)
{
    (void)argc;
    fprintf(stderr, "floe %s: not built yet\n", argv[0]);
    return 1;
}
