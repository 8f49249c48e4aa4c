# Every library comes from Debian; docs/ARCHITECTURE.md says why each.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
pkg_check_modules(RDKAFKA REQUIRED IMPORTED_TARGET rdkafka>=2.0)
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis>=0.14)
pkg_check_modules(PROTOBUFC REQUIRED IMPORTED_TARGET libprotobuf-c>=1.4)
pkg_check_modules(LIBUV REQUIRED IMPORTED_TARGET libuv>=1.44)
pkg_check_modules(JANSSON REQUIRED IMPORTED_TARGET jansson>=2.14)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium>=1.0.18)
pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl>=7.68)
pkg_check_modules(IDN2 REQUIRED IMPORTED_TARGET libidn2)
pkg_check_modules(PSL REQUIRED IMPORTED_TARGET libpsl)
pkg_check_modules(CMOCKA IMPORTED_TARGET cmocka)

# Debian's http-parser ships no pkg-config file.
find_path(HTTP_PARSER_INCLUDE_DIR http_parser.h REQUIRED)
find_library(HTTP_PARSER_LIBRARY http_parser REQUIRED)
add_library(gb_http_parser INTERFACE)
target_include_directories(gb_http_parser INTERFACE ${HTTP_PARSER_INCLUDE_DIR})
target_link_libraries(gb_http_parser INTERFACE ${HTTP_PARSER_LIBRARY})

# yajl: a streaming JSON parser for ingest's hot path (no tree is built).
# Debian's libyajl-dev ships a pkg-config file, but find it like http-parser
# so that the include path is plain <yajl/...>.
find_path(YAJL_INCLUDE_DIR yajl/yajl_parse.h REQUIRED)
find_library(YAJL_LIBRARY yajl REQUIRED)
