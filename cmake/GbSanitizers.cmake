# -DGB_SANITIZE=ON builds everything with ASan and UBSan; CI runs the unit
# tests this way. UBSan errors abort so that a test fails instead of printing.
if(GB_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
