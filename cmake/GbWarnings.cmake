# Warnings live on an interface target that our own code links and the
# generated protobuf code does not.
add_library(gb_warnings INTERFACE)
target_compile_options(gb_warnings INTERFACE
  -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
  -Wformat=2 -Wno-format-nonliteral -Wpointer-arith -Wvla)
