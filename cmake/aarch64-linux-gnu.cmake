# Toolchain file: cross-compile rfarm for linux/arm64 on a Debian 12 amd64
# machine with the packages scripts/arm64-deps.sh installs.
#   cmake -S . -B build-arm64 -DRFARM_TESTS=OFF \
#     -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
#   cmake --build build-arm64 --target rfarm
# Run the result with qemu-aarch64 (multiarch puts the arm64 loader and
# libraries where it looks for them: no -L needed).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)

# No sysroot: Debian's cross gcc already searches /usr/include and the
# multiarch /usr/lib/aarch64-linux-gnu, where the :arm64 packages are.
# pkg-config must see only the arm64 .pc files (PKG_CONFIG_LIBDIR replaces
# the amd64 defaults), plus our libwebsockets.pc, since there is no
# libwebsockets-dev:arm64 (see that file).
set(ENV{PKG_CONFIG_LIBDIR}
  /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} ${CMAKE_CURRENT_LIST_DIR}/aarch64-pkgconfig)

# find_library looks in /usr/lib/aarch64-linux-gnu, not the amd64 one.
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# Try to run arm64 test programs under emulation when CMake needs to.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64)
