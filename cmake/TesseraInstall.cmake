# Install rules: a relocatable CMake package (tesseraConfig.cmake + version file) and tessera.pc.
include(CMakePackageConfigHelpers)

set(TESSERA_CMAKE_INSTALL_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/tessera" CACHE STRING
    "Where tesseraConfig.cmake is installed, relative to the prefix")

set(_tessera_targets tessera_headers tessera)
if(TESSERA_HAS_TBB)
  list(APPEND _tessera_targets tessera_tbb_interop)
endif()
install(TARGETS ${_tessera_targets}
  EXPORT tesseraTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/tessera DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT tesseraTargets NAMESPACE tessera:: DESTINATION ${TESSERA_CMAKE_INSTALL_DIR})

configure_package_config_file(cmake/tesseraConfig.cmake.in
  "${PROJECT_BINARY_DIR}/tesseraConfig.cmake"
  INSTALL_DESTINATION ${TESSERA_CMAKE_INSTALL_DIR})
write_basic_package_version_file("${PROJECT_BINARY_DIR}/tesseraConfigVersion.cmake"
  COMPATIBILITY SameMajorVersion)
install(FILES "${PROJECT_BINARY_DIR}/tesseraConfig.cmake" "${PROJECT_BINARY_DIR}/tesseraConfigVersion.cmake"
  DESTINATION ${TESSERA_CMAKE_INSTALL_DIR})

# pkg-config: prefix is derived from the .pc file's own location, so the install relocates.
file(RELATIVE_PATH TESSERA_PC_TO_PREFIX "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")
set(TESSERA_PC_REQUIRES "")
# The static library's private link dependencies (the cache's codecs) must reach the consumer's
# link line too.
set(TESSERA_PC_LIBS "-lzstd -llz4")
if(TESSERA_HAS_MIMALLOC)
  string(APPEND TESSERA_PC_LIBS " -lmimalloc")
endif()
configure_file(cmake/tessera.pc.in "${PROJECT_BINARY_DIR}/tessera.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/tessera.pc" DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
install(FILES LICENSE README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
