# Turns SCHEMA_DIR/NNN_*.sql into a C++ table of (version, name, sql), in file-name order,
# returned by the function FUNCTION (store/migrations.hpp).
file(GLOB files "${SCHEMA_DIR}/*.sql")
list(SORT files)
set(body "")
foreach(f ${files})
  get_filename_component(name ${f} NAME)
  string(REGEX MATCH "^[0-9]+" version "${name}")
  math(EXPR version "${version} + 0")
  file(READ ${f} sql)
  string(APPEND body "    {${version}, \"${name}\", R\"runctl_sql(${sql})runctl_sql\"},\n")
endforeach()
file(WRITE "${OUT}.tmp" "// Generated from ${SCHEMA_DIR}/*.sql by cmake/embed_migrations.cmake. Do not edit.
#include \"store/migrations.hpp\"

namespace runctl {

const std::vector<Migration>& ${FUNCTION}() {
  static const std::vector<Migration> kMigrations = {
${body}  };
  return kMigrations;
}

}  // namespace runctl
")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${OUT}.tmp" "${OUT}")
