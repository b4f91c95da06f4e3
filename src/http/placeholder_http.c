/* placeholder so the part library is never empty */
typedef int floe_http_placeholder;
