/* placeholder so the part library is never empty */
typedef int floe_warehouse_placeholder;
