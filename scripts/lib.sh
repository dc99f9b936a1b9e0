# lib.sh: shell helpers shared by scripts/test and scripts/run (sourced, not run):
# the Debian packages the build and the tests need, and installing the missing ones.

# Everything a fresh Debian 12 needs to build, test and demo vc-mount.
VCM_PACKAGES=(
  meson ninja-build pkg-config gcc
  libglib2.0-dev libglib2.0-dev-bin libglib2.0-bin
  libpolkit-gobject-1-dev libmount-dev libjson-glib-dev
  # ID-mapped mounts: libsubid for the subordinate ID ranges; the tests'
  # rootless user makes its namespaces with newuidmap/newgidmap.
  libsubid-dev uidmap
  dbus-daemon polkitd util-linux
  python3-gi python3-dbus python3-dbusmock
  clang libclang-rt-14-dev
  # The format check and the static analysis of scripts/test.
  clang-format clang-tools
  libxml2-utils scdoc
  systemd
  valgrind
  # The Debian package and the booted-systemd suite: dpkg-buildpackage and
  # debhelper build it, lintian checks it, systemd-nspawn boots the container
  # it is installed in (installed without recommends: libnss-mymachines
  # would change nsswitch.conf).
  dpkg-dev debhelper lintian systemd-container
  # The booted suite once more with dbus-broker as the container's system
  # bus (on this machine, where no systemd runs, installing it changes
  # nothing: the tests start their own dbus-daemon).
  dbus-broker
  # The kernel61 suite: a guest with Debian 12's own kernel (6.1) under qemu,
  # its initramfs made from busybox-static, cpio and the kernel's modules
  # (linux-image-amd64 installs without a bootloader: its hooks only make
  # an initrd with initramfs-tools).
  qemu-system-x86 linux-image-amd64 busybox-static cpio kmod
  # libvcmount's introspection data, its GJS test and its API reference.
  gobject-introspection libgirepository1.0-dev gir1.2-glib-2.0 gjs gi-docgen
  # The Go example of the fd-based interface (GOPATH mode, no download).
  golang-go golang-dbus-dev
)

vcm_log() {
  printf '==> %s\n' "$*" >&2
}

vcm_die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# vcm_missing_packages PKG...: prints the packages that are not installed.
vcm_missing_packages() {
  local pkg status
  for pkg in "$@"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    if [[ "$status" != "install ok installed" ]]; then
      printf '%s\n' "$pkg"
    fi
  done
}

# vcm_install_packages [PKG...]: installs whatever of VCM_PACKAGES (or the
# given packages) is missing; runs apt-get update once, only when needed.
vcm_install_packages() {
  local -a want missing
  if (($# > 0)); then want=("$@"); else want=("${VCM_PACKAGES[@]}"); fi
  command -v dpkg-query >/dev/null || vcm_die "dpkg-query not found: a Debian system is needed"
  mapfile -t missing < <(vcm_missing_packages "${want[@]}")
  if ((${#missing[@]} == 0)); then
    return 0
  fi
  vcm_log "installing ${missing[*]}"
  local sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null || vcm_die "not root and no sudo: install ${missing[*]}"
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# vcm_setup_build DIR [MESON OPTIONS...]: configures DIR (or reconfigures it
# when the options changed) and builds it.
vcm_setup_build() {
  local dir=$1
  shift
  if [[ -f "$dir/build.ninja" ]]; then
    meson setup --reconfigure "$dir" "$@"
  else
    meson setup "$dir" "$@"
  fi
  ninja -C "$dir"
}
