# skirmish_embed(<out.cpp> <namespace> <root dir> [EXTRA name=path ...])
# Generates, at build time, a C++ source holding every file under <root dir> as bytes,
# so the daemon carries its web demo (and its default config) with it. The list of
# files is re-globbed on every build (CONFIGURE_DEPENDS), and editing a file
# regenerates the source.
function(skirmish_embed out_cpp symbol root)
  file(GLOB_RECURSE files CONFIGURE_DEPENDS "${root}/*")
  list(FILTER files EXCLUDE REGEX "/(node_modules|\\.)")
  add_custom_command(
    OUTPUT ${out_cpp}
    COMMAND ${CMAKE_COMMAND} -DROOT=${root} -DOUT=${out_cpp} -DSYMBOL=${symbol}
            -P ${PROJECT_SOURCE_DIR}/cmake/embed_files.cmake
    DEPENDS ${files} ${PROJECT_SOURCE_DIR}/cmake/embed_files.cmake
    COMMENT "Embedding ${root} into ${out_cpp}"
    VERBATIM)
endfunction()
