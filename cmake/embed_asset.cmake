# Turns one file of assets/ into a C source holding its bytes, NUL-terminated.
#   cmake -DFILE=assets/x.json -DINDEX=0 -DOUT=asset_0.c -P embed_asset.cmake
file(READ "${FILE}" hex HEX)
string(LENGTH "${hex}" length)
math(EXPR bytes "${length} / 2")
string(REGEX REPLACE "(..)" "0x\\1," data "${hex}")
string(REGEX REPLACE "((0x..,){16})" "\\1\n    " data "${data}")
file(WRITE "${OUT}" "/* Generated from ${FILE} by cmake/embed_asset.cmake. */
#include <stddef.h>
const char t2g_asset_${INDEX}[] = {
    ${data}0x00};
const size_t t2g_asset_${INDEX}_len = ${bytes};
")
