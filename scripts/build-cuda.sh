#!/usr/bin/env bash
# build-cuda.sh: build `ser` with candle's `cuda` feature on a machine without a GPU and
# without a CUDA toolkit, from NVIDIA's pip wheels, and prepare the binaries for a GPU
# machine that has a driver and the CUDA 13 runtime libraries but no Rust.
#
# Target: H100/H200 (compute capability 9.0), NVIDIA driver 580 (CUDA 13.0 driver API),
# candle-core/candle-nn/candle-kernels 0.11.1, cudarc 0.19. On a machine with a real CUDA
# toolkit, none of this is needed: `cargo build --release --features cuda` (docs/gpu.md).
#
#   scripts/build-cuda.sh setup                 # once: wheels + fake CUDA root (~1.2 GB)
#   scripts/build-cuda.sh setup-cudnn           # optional, for --features cudnn (~0.9 GB)
#   scripts/build-cuda.sh build [ARGS...]       # cargo build --release --features cuda
#                                               #   --target-dir target/cuda ARGS...
#                                               #   (FEATURES=cudnn for cuDNN convolutions)
#   scripts/build-cuda.sh cargo SUBCOMMAND ...  # any cargo command, with the CUDA variables
#   eval "$(scripts/build-cuda.sh env)"         # or export the variables into this shell
#   scripts/build-cuda.sh check BINARY          # linked libraries, embedded PTX version/target
#   scripts/build-cuda.sh pack BINARY [DIR]     # strip + gzip into DIR (default .gpu)
#   scripts/build-cuda.sh device-cmd NAME [DIR] # the shell line that runs NAME on the GPU box
#
# Run it from the repository root. Builds are CPU-heavy: wrap in `nice -n 19` when other
# work shares the machine (cargo and nvcc inherit the niceness).
#
# Why each piece is there (each was a build or run failure when missing):
#  1. nvcc. candle-kernels' build script (through cudaforge) turns its .cu files into PTX,
#     which is stored as text in the binary and compiled by the driver on first use, and
#     builds a small static library (libmoe.a) of SASS. The nvcc must be a 13.0.x release:
#     its PTX is ISA 9.0, which the CUDA 13.0 driver loads; a later nvcc writes a later PTX
#     ISA that this driver cannot be expected to accept.
#  2. Pinned wheels, all of them, installed without dependency resolution. The nvcc wheel
#     names its companions (nvvm = cicc + libdevice, crt headers) without versions, so a
#     plain `pip install` pairs a 13.0 nvcc with 13.5 parts, which do not work together.
#     The runtime libraries are the versions torch 2.11.0+cu130 pins, so their sonames are
#     the ones the GPU machine's PyTorch environment provides.
#  3. A fake CUDA root. Build scripts look for <root>/include, <root>/lib64 and
#     <root>/bin/nvcc under CUDA_HOME / CUDA_PATH / CUDA_ROOT / CUDA_TOOLKIT_ROOT_DIR.
#     The wheels only ship versioned libraries (libcublas.so.13), so the root gets the
#     unversioned names the linker wants (libcublas.so -> .../libcublas.so.13).
#  4. A libcuda link stub. candle-core turns on cudarc's `dynamic-linking`, so the binary
#     links -lcuda, and no wheel contains libcuda (it is part of the driver). We compile a
#     stub that defines every driver-API function name as a dummy and carries the soname
#     libcuda.so.1: the binary then records "NEEDED libcuda.so.1" and the real driver
#     library satisfies it on the GPU machine. The stub must never be found at run time,
#     so it lives in lib64/stubs and is never put on LD_LIBRARY_PATH.
#     (cudarc's `dynamic-loading` would avoid the link, but candle-core 0.11.1 already
#     enables `dynamic-linking` and cudarc refuses both at once.)
#  5. CUDA_COMPUTE_CAP=90. Without it the kernel build runs nvidia-smi to ask the GPU, and
#     there is neither here. 90 becomes sm_90a, so the result runs on H100/H200 only; set
#     CUDA_COMPUTE_CAP to build for another GPU (then also check the PTX target with
#     `check`).
#  6. CUDARC_CUDA_VERSION=13000 tells cudarc which driver API to bind (it would otherwise
#     parse `nvcc --version`, which gives the same answer).
#  7. cuDNN (optional). `--features cudnn` adds -lcudnn; cudarc ships its own cuDNN 9
#     bindings, so only the library is needed, not the headers. `setup-cudnn` installs the
#     cuDNN wheel torch 2.11.0+cu130 pins (so the GPU machine's venv has the same
#     libcudnn.so.9), or links an existing one: CUDNN_DIR=.../site-packages/nvidia/cudnn.
#  8. target/cuda. A CUDA build must not share target/release with the CPU build: the
#     feature change would rebuild (and overwrite) everything there.
#
# On the GPU machine: the binary needs libcudart.so.13, libcublas.so.13,
# libcublasLt.so.13, libcurand.so.10 and libnvrtc.so.13 on LD_LIBRARY_PATH (the PyTorch
# venv's nvidia/*/lib folders there have them) and libcuda.so.1 from the driver. The first
# use of each kernel module in a fresh process is a PTX JIT compile (about 20-25 s in all);
# the driver caches the result under CUDA_CACHE_PATH. The line `device-cmd` prints restores
# that cache from DIR/jitcache.tgz when present, and it says how to save it for next time.
set -euo pipefail

PREFIX="${CUDA_PREFIX:-$HOME/.cache/ser-cuda-13.0}"   # wheels + fake root, outside the repo
FAKE_ROOT="$PREFIX/root"
CAP="${CUDA_COMPUTE_CAP:-90}"
TARGET_DIR="${CUDA_TARGET_DIR:-target/cuda}"

# name==version   what we take from it
PINNED_WHEELS=(
  nvidia-cuda-nvcc==13.0.88     # nvcc, ptxas, fatbinary, nvlink, cudafe++
  nvidia-nvvm==13.0.88          # cicc and libdevice, same release as nvcc
  nvidia-cuda-crt==13.0.88      # include/crt, same release as nvcc
  nvidia-cuda-cccl==13.0.85     # thrust / cub / libcu++ headers
  nvidia-cuda-runtime==13.0.96  # cuda.h, cuda_runtime.h, fp16/bf16/fp8 headers, libcudart
  nvidia-cuda-nvrtc==13.0.88    # libnvrtc
  nvidia-cublas==13.1.0.3       # libcublas, libcublasLt
  nvidia-curand==10.4.0.35      # libcurand
)
# Versioned libraries the linker needs under their bare names.
LINK_LIBS=(libcudart.so.13 libcublas.so.13 libcublasLt.so.13 libcurand.so.10 libnvrtc.so.13)
CUDNN_WHEEL=nvidia-cudnn-cu13==9.19.0.56   # torch 2.11.0+cu130's pin

fail() {
  echo "build-cuda.sh: $*" >&2
  exit 1
}

cuda_env() {
  cat <<EOF
export CUDA_HOME="$FAKE_ROOT" CUDA_PATH="$FAKE_ROOT" CUDA_ROOT="$FAKE_ROOT" CUDA_TOOLKIT_ROOT_DIR="$FAKE_ROOT"
export NVCC="$FAKE_ROOT/bin/nvcc" PATH="$FAKE_ROOT/bin:\$PATH"
export CUDA_COMPUTE_CAP=$CAP CUDARC_CUDA_VERSION=13000
export CUDAFORGE_THREADS=\${CUDAFORGE_THREADS:-$(nproc)}
EOF
}

do_setup() {
  command -v gcc >/dev/null && command -v g++ >/dev/null ||
    fail "nvcc needs a host C++ compiler: install gcc and g++"
  local site="$PREFIX/wheels"
  if [ ! -e "$site/.complete" ]; then
    rm -rf "$site"
    # --no-deps: the pins above are the whole set (see note 2).
    python3 -m pip install --quiet --no-deps --no-compile --only-binary=:all: \
      --target "$site" "${PINNED_WHEELS[@]}"
    touch "$site/.complete"
  fi
  local cu="$site/nvidia/cu13"
  [ -x "$cu/bin/nvcc" ] || fail "the wheels did not provide $cu/bin/nvcc"
  "$cu/bin/nvcc" --version | grep -q 'release 13\.0' ||
    fail "nvcc is not a 13.0 release: $("$cu/bin/nvcc" --version | grep release)"

  mkdir -p "$FAKE_ROOT/lib64/stubs" "$FAKE_ROOT/src"
  ln -sfn "$cu/bin" "$FAKE_ROOT/bin"
  ln -sfn "$cu/nvvm" "$FAKE_ROOT/nvvm"
  ln -sfn "$cu/include" "$FAKE_ROOT/include"
  local lib
  for lib in "${LINK_LIBS[@]}"; do
    [ -e "$cu/lib/$lib" ] || fail "missing $cu/lib/$lib"
    ln -sfn "$cu/lib/$lib" "$FAKE_ROOT/lib64/${lib%.so.*}.so"
  done

  # The libcuda stub (note 4). Function names: every `CUresult cuXxx(` that CUDA 13.0's
  # cuda.h declares once its macros have renamed the versioned entry points (cuMemAlloc ->
  # cuMemAlloc_v2, ...), plus every function cudarc's driver bindings declare, if cargo
  # has already downloaded cudarc. Each becomes `int name(void) { return 999; }`: only
  # the symbol matters, since the real driver replaces the stub at run time.
  local stub="$FAKE_ROOT/src/libcuda_stub.c"
  {
    echo '#include <cuda.h>' | gcc -E -P -I"$cu/include" - | tr '\n' ' ' |
      grep -oE 'CUresult +cu[A-Za-z0-9_]+ *\(' | sed -E 's/^CUresult +//; s/ *\($//'
    cat "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/cudarc-0.19.*/src/driver/sys/mod.rs \
      2>/dev/null | grep -oE '^pub unsafe fn cu[A-Za-z0-9_]+' | awk '{print $4}' || true
  } | sort -u | sed 's/.*/int &(void) { return 999; }/' >"$stub"
  gcc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$FAKE_ROOT/lib64/stubs/libcuda.so" "$stub"

  echo "nvcc: $("$FAKE_ROOT/bin/nvcc" --version | grep release)"
  echo "libcuda stub: $(wc -l <"$stub") functions," \
    "$(readelf -d "$FAKE_ROOT/lib64/stubs/libcuda.so" | grep -o 'soname: .*')"
  echo "fake CUDA root: $FAKE_ROOT (compute capability $CAP)"
}

do_setup_cudnn() {
  need_setup
  local dir="${CUDNN_DIR:-}"
  if [ -z "$dir" ]; then
    if [ ! -e "$PREFIX/cudnn/.complete" ]; then
      rm -rf "$PREFIX/cudnn"
      python3 -m pip install --quiet --no-deps --no-compile --only-binary=:all: \
        --target "$PREFIX/cudnn" "$CUDNN_WHEEL"
      touch "$PREFIX/cudnn/.complete"
    fi
    dir="$PREFIX/cudnn/nvidia/cudnn"
  fi
  [ -e "$dir/lib/libcudnn.so.9" ] || fail "no $dir/lib/libcudnn.so.9"
  ln -sfn "$dir/lib/libcudnn.so.9" "$FAKE_ROOT/lib64/libcudnn.so"
  echo "cuDNN for linking: $(readlink -f "$FAKE_ROOT/lib64/libcudnn.so")"
}

need_setup() {
  [ -e "$FAKE_ROOT/lib64/stubs/libcuda.so" ] || fail "run '$0 setup' first"
}

do_check() {
  local bin="${1:-}"
  [ -f "$bin" ] || fail "no such file: $bin"
  echo "$bin: $(stat -c %s "$bin") bytes"
  echo "shared libraries (libcuda.so.1 must be among them, no stub path):"
  readelf -d "$bin" | grep NEEDED | sed 's/.*Shared library: /  /'
  if readelf -d "$bin" | grep -qE 'R(UN)?PATH'; then
    echo "warning: the binary carries an RPATH/RUNPATH:"
    readelf -d "$bin" | grep -E 'R(UN)?PATH'
  fi
  echo "embedded PTX modules by ISA version and target (expect 9.0 and sm_${CAP}a):"
  strings -n 8 "$bin" | grep -E '^\.(version [0-9]|target sm_)' | sort | uniq -c |
    sed 's/^/  /'
  echo "CUDA driver functions it imports: $(nm -D --undefined-only "$bin" | grep -cE ' cu[A-Z]')"
}

do_pack() {
  local bin="${1:-}" dir="${2:-.gpu}" name
  [ -f "$bin" ] || fail "no such file: $bin"
  name="$(basename "$bin")"
  mkdir -p "$dir"
  strip -o "$dir/$name" "$bin"
  gzip -9 -f "$dir/$name"
  ls -l "$dir/$name.gz"
  git check-ignore -q "$dir/$name.gz" 2>/dev/null ||
    echo "warning: $dir is not git-ignored (add /$dir/ to .git/info/exclude)"
  echo "total in $dir: $(du -sh "$dir" | cut -f1) (checkout + $dir must stay under 64 MiB)"
}

do_device_cmd() {
  local name="${1:-}" dir="${2:-.gpu}"
  [ -n "$name" ] || fail "usage: $0 device-cmd NAME [DIR]"
  echo "# Start of the GPU machine's command (arguments for $name follow it):"
  # LD_LIBRARY_PATH: the CUDA 13 runtime libraries of the PyTorch venv there.
  # CUDA_CACHE_PATH: the driver's PTX JIT cache, restored from $dir/jitcache.tgz if present.
  cat <<EOF
export LD_LIBRARY_PATH=\$(ls -d /opt/torch/.venv/lib/python3*/site-packages/nvidia/*/lib | paste -sd: -)\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}; export CUDA_CACHE_PATH=/tmp/jc; [ -f $dir/jitcache.tgz ] && tar xzf $dir/jitcache.tgz -C /tmp; gunzip -c $dir/$name.gz > /tmp/$name && chmod +x /tmp/$name && /tmp/$name
EOF
  echo "# To keep the JIT cache for the next machine, end the command with this and store"
  echo "# the returned file as $dir/jitcache.tgz:"
  echo '; tar czf "$OUT/jitcache.tgz" -C /tmp jc'
}

sub="${1:-}"
shift || true
case "$sub" in
  setup) do_setup ;;
  setup-cudnn) do_setup_cudnn ;;
  env) cuda_env ;;
  cargo)
    need_setup
    eval "$(cuda_env)"
    exec cargo "$@"
    ;;
  build)
    need_setup
    eval "$(cuda_env)"
    exec cargo build --release --features "${FEATURES:-cuda}" --target-dir "$TARGET_DIR" "$@"
    ;;
  check) do_check "$@" ;;
  pack) do_pack "$@" ;;
  device-cmd) do_device_cmd "$@" ;;
  *)
    sed -n '2,21p' "$0"
    exit 2
    ;;
esac
