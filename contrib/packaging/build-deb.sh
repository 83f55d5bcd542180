#!/usr/bin/env bash
# Builds the Debian package from this checkout (or an unpacked source tarball):
#   TARGET_DIR/debian/pjprov_VERSION-1_ARCH.deb          the stripped binary, manual pages, completions,
#                                                        templates, the example, the systemd unit
#   TARGET_DIR/debian/pjprov-dbgsym_VERSION-1_ARCH.ddeb  its debug symbols
# and prints the two paths, the package first. Installs nothing: what it needs and lacks, it names
# (contrib/packaging/README.md). Set PJPROV_COMMIT when building from a tarball, for `pjprov --version`.
set -euo pipefail
cd "$(dirname "$0")/../.."

missing=()
command -v cargo-deb >/dev/null || missing+=("cargo-deb: cargo install cargo-deb --locked --version 3.8.0")
command -v objcopy >/dev/null || missing+=("objcopy: apt-get install binutils")
command -v dpkg-shlibdeps >/dev/null || missing+=("dpkg-shlibdeps: apt-get install dpkg-dev")
if ((${#missing[@]})); then
    printf 'build-deb.sh: missing %s\n' "${missing[@]}" >&2
    exit 1
fi

# Release build: cargo-deb splits the line tables ([profile.release] debug) off into the dbgsym package.
cargo build --release --locked -p pjprov >&2
target=$(cargo metadata --format-version 1 --no-deps --locked |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
bin="$target/release/pjprov"

# Generated from the binary's own command line, so they match it.
assets="$target/release/package"
rm -rf "$assets"
mkdir -p "$assets/man" "$assets/completions"
"$bin" man --dir "$assets/man"
gzip -9n "$assets"/man/*.1
"$bin" completions bash >"$assets/completions/pjprov"
"$bin" completions zsh >"$assets/completions/_pjprov"
"$bin" completions fish >"$assets/completions/pjprov.fish"

cargo deb -p pjprov --no-build --locked >&2
version=$(sed -n '1s/^pjprov (\([^)]*\)).*/\1/p' contrib/packaging/debian/changelog)
arch=$(dpkg --print-architecture)
for file in "$target/debian/pjprov_${version}_${arch}.deb" "$target/debian/pjprov-dbgsym_${version}_${arch}.ddeb"; do
    [ -f "$file" ] || { echo "build-deb.sh: $file was not made" >&2; exit 1; }
    echo "$file"
done
