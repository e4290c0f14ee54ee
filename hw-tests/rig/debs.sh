# Sourced by hw-tests/rig/run and images/smoke-test: Debian packages fetched with `apt-get
# download` into a cache and unpacked there, never installed (the machine stays as it was).

# rig_fetch CACHE PACKAGE...: downloads the .debs not in CACHE/debs yet.
rig_fetch() {
  local cache=$1 missing=() p
  shift
  mkdir -p "$cache/debs"
  for p in "$@"; do
    compgen -G "$cache/debs/${p}_*.deb" >/dev/null || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  if ! (cd "$cache/debs" && apt-get download -qq "${missing[@]}" >/dev/null 2>&1); then
    echo "debs: refreshing the package lists" >&2
    $([ "$(id -u)" -eq 0 ] || echo sudo) apt-get update -qq
    (cd "$cache/debs" && apt-get download -qq "${missing[@]}" >/dev/null)
  fi
}

# rig_qemu CACHE: QEMU for x86-64 with the libraries the host lacks; prints its root.
rig_qemu() {
  local cache=$1 qpkgs p
  if [ ! -x "$cache/qemu/usr/bin/qemu-system-x86_64" ]; then
    echo "debs: fetching QEMU" >&2
    mapfile -t qpkgs < <(apt-get install -s --no-install-recommends qemu-system-x86 2>/dev/null | awk '/^Inst/ {print $2}')
    ((${#qpkgs[@]})) || qpkgs=(qemu-system-x86 qemu-system-data qemu-system-common seabios ipxe-qemu)
    rig_fetch "$cache" "${qpkgs[@]}"
    rm -rf "$cache/qemu" && mkdir -p "$cache/qemu"
    for p in "${qpkgs[@]}"; do dpkg-deb -x "$cache"/debs/"${p}"_*.deb "$cache/qemu"; done
  fi
  echo "$cache/qemu"
}

# rig_ovmf CACHE: UEFI firmware for QEMU; prints the folder with OVMF_CODE_4M.fd and OVMF_VARS_4M.fd.
rig_ovmf() {
  local cache=$1
  if [ ! -f "$cache/ovmf/usr/share/OVMF/OVMF_CODE_4M.fd" ]; then
    echo "debs: fetching OVMF" >&2
    rig_fetch "$cache" ovmf
    rm -rf "$cache/ovmf" && dpkg-deb -x "$cache"/debs/ovmf_*.deb "$cache/ovmf"
  fi
  echo "$cache/ovmf/usr/share/OVMF"
}
