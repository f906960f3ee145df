#!/usr/bin/env bash
# Installs fusectl into a prefix: the binary, the manual page and the bash, zsh and fish completions.
#   bash scripts/install.sh                    # into /usr/local (builds the release binary first)
#   bash scripts/install.sh --prefix ~/.local  # into your home: add ~/.local/bin to PATH
#   bash scripts/install.sh --prefix /opt/fusectl --binary .build/release/fusectl   # an already built binary
# What goes where (PREFIX default /usr/local):
#   PREFIX/bin/fusectl                                   the static release binary (no Swift needed to run it)
#   PREFIX/share/man/man1/fusectl.1                      the manual page (docs/fusectl.1): man fusectl
#   PREFIX/share/bash-completion/completions/fusectl     bash completion (bash-completion loads it on demand)
#   PREFIX/share/zsh/site-functions/_fusectl             zsh completion (in fpath for /usr/local and /usr)
#   PREFIX/share/fish/vendor_completions.d/fusectl.fish  fish completion
# It builds with `swift build -c release --static-swift-stdlib --product fusectl` unless --binary is given,
# and prints every file it wrote. Nothing is downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=/usr/local
binary=""
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix="${2:?--prefix needs a folder}"; shift 2 ;;
        --prefix=*) prefix="${1#--prefix=}"; shift ;;
        --binary) binary="${2:?--binary needs a file}"; shift 2 ;;
        --binary=*) binary="${1#--binary=}"; shift ;;
        -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
if [ -z "$binary" ]; then
    swift build -c release --static-swift-stdlib --product fusectl
    binary=.build/release/fusectl
fi
[ -x "$binary" ] || { echo "install.sh: $binary is not an executable fusectl" >&2; exit 1; }
"$binary" --version >/dev/null || { echo "install.sh: $binary does not run" >&2; exit 1; }

put() {  # put MODE SOURCE DESTINATION
    mkdir -p "$(dirname "$3")"
    install -m "$1" "$2" "$3"
    echo "installed $3"
}
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
put 755 "$binary" "$prefix/bin/fusectl"
put 644 docs/fusectl.1 "$prefix/share/man/man1/fusectl.1"
for shell in bash zsh fish; do
    "$binary" --generate-completion-script "$shell" > "$scratch/$shell"
done
put 644 "$scratch/bash" "$prefix/share/bash-completion/completions/fusectl"
put 644 "$scratch/zsh" "$prefix/share/zsh/site-functions/_fusectl"
put 644 "$scratch/fish" "$prefix/share/fish/vendor_completions.d/fusectl.fish"
case ":$PATH:" in
    *":$prefix/bin:"*) ;;
    *) echo "note: $prefix/bin is not on PATH; add it: export PATH=\"$prefix/bin:\$PATH\"" ;;
esac
