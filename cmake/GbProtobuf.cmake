# gb_protobuf_generate(<out-var> <proto-root> <files...>): runs protoc-c on
# each .proto at build time; the generated .pb-c.c/.h land in the build tree.
find_program(PROTOC_C protoc-c REQUIRED)
function(gb_protobuf_generate out root)
  set(srcs)
  foreach(p ${ARGN})
    get_filename_component(rel ${p} ABSOLUTE)
    file(RELATIVE_PATH rel ${root} ${rel})
    string(REGEX REPLACE "\\.proto$" "" base ${rel})
    set(c ${CMAKE_CURRENT_BINARY_DIR}/${base}.pb-c.c)
    set(h ${CMAKE_CURRENT_BINARY_DIR}/${base}.pb-c.h)
    add_custom_command(
      OUTPUT ${c} ${h}
      COMMAND ${PROTOC_C} --proto_path=${root} --c_out=${CMAKE_CURRENT_BINARY_DIR} ${rel}
      DEPENDS ${root}/${rel}
      WORKING_DIRECTORY ${root}
      COMMENT "protoc-c ${rel}")
    list(APPEND srcs ${c})
  endforeach()
  set(${out} ${srcs} PARENT_SCOPE)
endfunction()
