# install.cmake: the part of `cmake --install` that writes files naming
# installed paths, run at install time (dist/CMakeLists.txt) so they name
# the prefix installed to, also one given only then (--prefix P):
#
#  - etc/ebb/ebb.yaml: examples/ebb.yaml with its trace file under
#    share/ebb/traces. An existing, different ebb.yaml is kept and the new
#    one is written beside it as ebb.yaml.default.
#  - lib/systemd/system/ebbd.service from ebbd.service.in.
#  - the links share/ebb/examples/traces -> ../traces (the examples name
#    ../traces/...) and the bash completion of ebbd -> ebb.
#
# Set by the caller: EBB_SOURCE_DIR, EBB_WORK_DIR (a build directory) and
# the GNUInstallDirs directories EBB_SBINDIR, EBB_SYSCONFDIR, EBB_DATADIR.

# ebb_full_dir(OUT DIR): DIR as an absolute path, the way GNUInstallDirs
# makes its FULL_ variables (etc of /usr is /etc, of /opt/X /etc/opt/X).
function(ebb_full_dir out dir)
  if(IS_ABSOLUTE "${dir}")
    set(${out} "${dir}" PARENT_SCOPE)
  elseif(dir STREQUAL "etc" AND CMAKE_INSTALL_PREFIX MATCHES "^/usr/?$")
    set(${out} "/etc" PARENT_SCOPE)
  elseif(dir STREQUAL "etc" AND CMAKE_INSTALL_PREFIX MATCHES "^/opt/(.*)")
    set(${out} "/etc/opt/${CMAKE_MATCH_1}" PARENT_SCOPE)
  else()
    set(${out} "${CMAKE_INSTALL_PREFIX}/${dir}" PARENT_SCOPE)
  endif()
endfunction()

ebb_full_dir(sbindir "${EBB_SBINDIR}")
ebb_full_dir(sysconfdir "${EBB_SYSCONFDIR}")
ebb_full_dir(datadir "${EBB_DATADIR}")

# The configuration.
file(READ "${EBB_SOURCE_DIR}/examples/ebb.yaml" text)
string(REPLACE "file: traces/" "file: ${datadir}/ebb/traces/" text "${text}")
string(FIND "${text}" "file: ${datadir}/ebb/traces/" at)
if(text MATCHES "file: traces/" OR at EQUAL -1)
  message(FATAL_ERROR "examples/ebb.yaml: no 'file: traces/...' to point "
          "at the installed traces")
endif()
file(WRITE "${EBB_WORK_DIR}/ebb.yaml" "${text}")
set(conf "$ENV{DESTDIR}${sysconfdir}/ebb/ebb.yaml")
set(name ebb.yaml)
if(EXISTS "${conf}")
  file(READ "${conf}" old)
  if(NOT old STREQUAL text)
    set(name ebb.yaml.default)
    message(STATUS "Keeping the existing ${sysconfdir}/ebb/ebb.yaml; "
            "the new default is ebb.yaml.default beside it")
  endif()
endif()
file(INSTALL "${EBB_WORK_DIR}/ebb.yaml" DESTINATION "${sysconfdir}/ebb"
     RENAME ${name} PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

# The systemd unit.
set(EBB_SBINDIR "${sbindir}")
set(EBB_SYSCONFDIR "${sysconfdir}")
configure_file("${EBB_SOURCE_DIR}/dist/ebbd.service.in"
               "${EBB_WORK_DIR}/ebbd.service" @ONLY)
file(INSTALL "${EBB_WORK_DIR}/ebbd.service"
     DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")

# The links.
foreach(link "${datadir}/ebb/examples/traces:../traces"
             "${datadir}/bash-completion/completions/ebbd:ebb")
  string(REPLACE ":" ";" l "${link}")
  list(GET l 0 path)
  list(GET l 1 target)
  message(STATUS "Installing: $ENV{DESTDIR}${path}")
  file(REMOVE "$ENV{DESTDIR}${path}")
  file(CREATE_LINK "${target}" "$ENV{DESTDIR}${path}" SYMBOLIC)
  list(APPEND CMAKE_INSTALL_MANIFEST_FILES "${path}")
endforeach()
