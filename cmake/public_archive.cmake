# The installed libt2g.a: every object of the library partially linked (ld -r) into one object
# whose only global symbols are the t2g_ names of the public headers (include/t2g/*.h).
# Everything else becomes local: volk's vk* function pointers (a program that calls the system
# Vulkan loader itself must not land on them) and the library's internal helpers. A static
# archive ignores hidden visibility, so this is how the archive keeps its internals to itself.
#   cmake -DOBJECT=partial.o -DINCLUDE_DIR=include/t2g -DOBJCOPY=objcopy -DAR=ar -DOUT=libt2g.a
#         -P public_archive.cmake
foreach(var OBJECT INCLUDE_DIR OBJCOPY AR OUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "public_archive.cmake: -D${var}= is required")
  endif()
endforeach()

file(GLOB headers ${INCLUDE_DIR}/*.h)
set(names)
foreach(header ${headers})
  file(READ ${header} text)
  string(REGEX MATCHALL "t2g_[a-z0-9_]+" found "${text}")
  list(APPEND names ${found})
endforeach()
list(REMOVE_DUPLICATES names)
list(SORT names)
string(REPLACE ";" "\n" keep "${names}")
file(WRITE ${OUT}.keep "${keep}\n")

file(REMOVE ${OUT})
execute_process(COMMAND ${OBJCOPY} --keep-global-symbols=${OUT}.keep ${OBJECT} ${OUT}.o
                RESULT_VARIABLE failed)
if(failed)
  message(FATAL_ERROR "public_archive.cmake: ${OBJCOPY} failed on ${OBJECT}")
endif()
execute_process(COMMAND ${AR} rcs ${OUT} ${OUT}.o RESULT_VARIABLE failed)
if(failed)
  message(FATAL_ERROR "public_archive.cmake: ${AR} failed writing ${OUT}")
endif()
