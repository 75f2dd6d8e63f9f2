# Installs what is not a binary; run by `cmake --install` (install(SCRIPT) in CMakeLists.txt),
# where CMAKE_INSTALL_PREFIX is the prefix given at install time and file(INSTALL) adds
# $ENV{DESTDIR} and records each file in the install manifest.
#  - the systemd units of examples/systemd in PREFIX/lib/systemd/system;
#  - examples/ in PREFIX/share/doc/ttyaudit/examples;
#  - examples/config.json as /etc/ttyaudit/config.json (mode 0600: it may hold bucket
#    credentials), only when there is none: an operator's config is never overwritten.
# In the units and the examples (but the Kubernetes ones, which install on nodes), /usr/local/bin/
# (where the sources point) becomes PREFIX/bin/.
set(prefix "${CMAKE_INSTALL_PREFIX}")
set(stage "${TTYAUDIT_BINARY_DIR}/install-stage")
file(REMOVE_RECURSE "${stage}")

# install_with_prefix(SOURCE DESTINATION): SOURCE (relative to the source tree) installed in
# DESTINATION with the binaries' directory made PREFIX/bin, keeping whether it is executable.
function(install_with_prefix source destination)
  file(READ "${TTYAUDIT_SOURCE_DIR}/${source}" text)
  string(REPLACE "/usr/local/bin/" "${prefix}/bin/" text "${text}")
  file(WRITE "${stage}/${source}" "${text}")
  set(mode OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  execute_process(COMMAND test -x "${TTYAUDIT_SOURCE_DIR}/${source}" RESULT_VARIABLE not_exec)
  if(not_exec EQUAL 0)
    list(APPEND mode OWNER_EXECUTE GROUP_EXECUTE WORLD_EXECUTE)
  endif()
  file(INSTALL "${stage}/${source}" DESTINATION "${destination}" FILE_PERMISSIONS ${mode})
endfunction()

file(GLOB units RELATIVE "${TTYAUDIT_SOURCE_DIR}" "${TTYAUDIT_SOURCE_DIR}/examples/systemd/*.service")
foreach(unit ${units})
  install_with_prefix("${unit}" "${prefix}/lib/systemd/system")
endforeach()

file(GLOB_RECURSE examples RELATIVE "${TTYAUDIT_SOURCE_DIR}/examples"
  "${TTYAUDIT_SOURCE_DIR}/examples/*")
list(SORT examples)
foreach(example ${examples})
  get_filename_component(dir "${example}" DIRECTORY)
  set(destination "${prefix}/share/doc/ttyaudit/examples/${dir}")
  if(example MATCHES "^kubernetes/")
    # A node's install (install-node.sh) is in /usr/local/bin whatever this host's PREFIX.
    file(INSTALL "${TTYAUDIT_SOURCE_DIR}/examples/${example}" DESTINATION "${destination}"
      USE_SOURCE_PERMISSIONS)
  else()
    install_with_prefix("examples/${example}" "${destination}")
  endif()
endforeach()

set(config "$ENV{DESTDIR}/etc/ttyaudit/config.json")
if(EXISTS "${config}" OR IS_SYMLINK "${config}")
  message(STATUS "Kept: ${config} (an existing config is never overwritten)")
else()
  file(INSTALL "${TTYAUDIT_SOURCE_DIR}/examples/config.json" DESTINATION "/etc/ttyaudit"
    FILE_PERMISSIONS OWNER_READ OWNER_WRITE)
endif()
