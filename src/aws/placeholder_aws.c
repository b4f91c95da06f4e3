/* placeholder so the part library is never empty */
typedef int floe_aws_placeholder;
