#!/usr/bin/env bash
# Install the Debian packages named on the command line that are not installed yet.
# As root: apt-get. Otherwise: sudo when it works without a password. Otherwise: stop with
# one message naming the packages to install. Never downloads a browser or TeX of its own.
#
# Without dpkg-query or apt-get (Fedora, Arch, macOS...): stop with one message naming the
# equivalents to install with dnf, pacman or Homebrew (the one found on PATH, else all
# three). Once they are installed, HANDBOOK_SKIP_PACKAGES=1 skips this script.
set -euo pipefail
[ "${HANDBOOK_SKIP_PACKAGES:-}" = 1 ] && exit 0

# Debian package -> Fedora (dnf) | Arch (pacman) | macOS (Homebrew; "cask:" a cask)
equivalent() {
  case "$1" in
    chromium)                  echo "chromium|chromium|cask:chromium" ;;
    fonts-noto-core)           echo "google-noto-sans-fonts google-noto-serif-fonts|noto-fonts|cask:font-noto-sans cask:font-noto-serif" ;;
    latexmk)                   echo "latexmk|texlive-binextra|cask:mactex-no-gui" ;;
    texlive-latex-recommended) echo "texlive-collection-latexrecommended|texlive-latexrecommended|cask:mactex-no-gui" ;;
    texlive-latex-extra)       echo "texlive-collection-latexextra|texlive-latexextra|cask:mactex-no-gui" ;;
    texlive-fonts-recommended) echo "texlive-collection-fontsrecommended|texlive-fontsrecommended|cask:mactex-no-gui" ;;
    tex-gyre)                  echo "texlive-tex-gyre|tex-gyre-fonts|cask:mactex-no-gui" ;;
    texlive-xetex)             echo "texlive-xetex|texlive-xetex|cask:mactex-no-gui" ;;
    fonts-freefont-otf)        echo "gnu-free-sans-fonts gnu-free-serif-fonts gnu-free-mono-fonts|gnu-free-fonts|cask:font-freefont" ;;
    poppler-utils)             echo "poppler-utils|poppler|poppler" ;;
    default-jre-headless)      echo "java-21-openjdk-headless|jre-openjdk-headless|openjdk" ;;
    epubcheck)                 echo "epubcheck|epubcheck|epubcheck" ;;
    *)                         echo "$1|$1|$1" ;;
  esac
}

not_debian() {
  local fedora=() arch=() brew=() cask=() row f a b w
  for pkg in "$@"; do
    IFS='|' read -r f a b <<<"$(equivalent "$pkg")"
    fedora+=($f); arch+=($a)
    for w in $b; do
      case "$w" in cask:*) cask+=("${w#cask:}") ;; *) brew+=("$w") ;; esac
    done
  done
  # each name once, in order
  dedup() { local seen=" " out=() x; for x in "$@"; do
    [[ "$seen" == *" $x "* ]] || { out+=("$x"); seen+="$x "; }; done; echo "${out[*]}"; }
  local lines=()
  local brew_cmd=""
  [ ${#brew[@]} -eq 0 ] || brew_cmd="brew install $(dedup "${brew[@]}")"
  [ ${#cask[@]} -eq 0 ] || brew_cmd+="${brew_cmd:+ && }brew install --cask $(dedup "${cask[@]}")"
  if command -v dnf >/dev/null 2>&1; then
    lines+=("Fedora:  sudo dnf install $(dedup "${fedora[@]}")")
  elif command -v pacman >/dev/null 2>&1; then
    lines+=("Arch:    sudo pacman -S --needed $(dedup "${arch[@]}")")
  elif command -v brew >/dev/null 2>&1; then
    lines+=("macOS:   $brew_cmd")
  else
    lines+=("Fedora:  sudo dnf install $(dedup "${fedora[@]}")"
            "Arch:    sudo pacman -S --needed $(dedup "${arch[@]}")"
            "macOS:   $brew_cmd")
  fi
  {
    echo "error: no apt-get/dpkg here: install the equivalents of the Debian packages $*"
    for row in "${lines[@]}"; do echo "       $row"; done
    echo "       then run make again with HANDBOOK_SKIP_PACKAGES=1 (this script cannot check them)"
  } >&2
  exit 1
}

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  [ $# -eq 0 ] || not_debian "$@"
  exit 0
fi
missing=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ]; then
  run=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  run=(sudo -n)
else
  echo "error: these Debian packages are needed: ${missing[*]}" >&2
  echo "       install them with: sudo apt-get install --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${run[@]}" apt-get update -qq
"${run[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
