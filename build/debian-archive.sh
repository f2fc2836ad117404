# Sourced by the scripts that need an apt source of their own (another
# suite, other architectures). Sets DEBIAN_ARCHIVE_URI and
# DEBIAN_ARCHIVE_SUITE from the machine's own apt sources (never the security
# archive), so no registry host is ever written into this project.
debian_archive() {
  local f
  DEBIAN_ARCHIVE_URI="" DEBIAN_ARCHIVE_SUITE=""
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    DEBIAN_ARCHIVE_URI=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' "$f")
    DEBIAN_ARCHIVE_SUITE=$(awk '/^Suites:/ { print $2; exit }' "$f")
    [ -n "$DEBIAN_ARCHIVE_URI" ] && break
  done
  if [ -z "$DEBIAN_ARCHIVE_URI" ] && [ -f /etc/apt/sources.list ]; then
    read -r DEBIAN_ARCHIVE_URI DEBIAN_ARCHIVE_SUITE < <(awk '$1 == "deb" && $2 !~ /security/ { print $2, $3; exit }' /etc/apt/sources.list)
  fi
  if [ -z "$DEBIAN_ARCHIVE_URI" ] || [ -z "$DEBIAN_ARCHIVE_SUITE" ]; then
    echo "no Debian archive URI found in /etc/apt/sources.list.d or /etc/apt/sources.list" >&2
    return 1
  fi
}
