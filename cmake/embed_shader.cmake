# Turns one SPIR-V file into a C source that defines its t2g_shader_blob.
#   cmake -DSPV=x.spv -DNAME=x -DID=x -DOUT=x.c -P embed_shader.cmake  (NAME: the blob's name, ID: its C identifier)
file(READ "${SPV}" hex HEX)
string(LENGTH "${hex}" length)
math(EXPR remainder "${length} % 8")
if(NOT remainder EQUAL 0 OR length EQUAL 0)
  message(FATAL_ERROR "${SPV} is not a whole number of 32-bit words")
endif()
# SPIR-V words are little-endian on disk: bytes aa bb cc dd are the word 0xddccbbaa.
string(REGEX REPLACE "(..)(..)(..)(..)" "0x\\4\\3\\2\\1u," words "${hex}")
string(REGEX REPLACE "((0x........u,){8})" "\\1\n    " words "${words}")
file(WRITE "${OUT}" "/* Generated from the shader ${NAME} (shaders/) by cmake/embed_shader.cmake. */
#include \"shaders.h\"
static const uint32_t words[] = {
    ${words}
};
const t2g_shader_blob t2g_shader_${ID} = {\"${NAME}\", words, sizeof words};
")
