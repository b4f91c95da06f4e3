/* demo.c - stub entry point until this part lands. */
#include <stdio.h>

#include "demo/demo.h"

int floe_demo_main(int argc, char **argv)
{
    (void)argc;
    fprintf(stderr, "floe %s: not built yet\n", argv[0]);
    return 1;
}
