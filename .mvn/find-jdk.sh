# Sourced (POSIX sh) by ./mvnw and ./wimg. WIMG needs a JDK >= 25 (java.lang.foreign, FFM
# variadic calls, CRC32C intrinsics). When JAVA_HOME is unset or older, this looks at the `javac`
# on PATH and then at /usr/lib/jvm/* and exports the first JDK >= 25 it finds as JAVA_HOME.
# When none is found JAVA_HOME is left alone, so Maven Enforcer can say what to set.
wimg_jdk_major() {
  [ -r "$1/release" ] && [ -x "$1/bin/javac" ] || return 1
  sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release"
}
wimg_jdk_ok() {
  _m=$(wimg_jdk_major "$1") || return 1
  [ -n "$_m" ] && [ "$_m" -ge 25 ]
}
wimg_find_jdk() {
  if [ -n "${JAVA_HOME-}" ] && wimg_jdk_ok "$JAVA_HOME"; then return 0; fi
  _javac=$(command -v javac 2>/dev/null || true)
  if [ -n "$_javac" ]; then
    _home=$(dirname "$(dirname "$(readlink -f "$_javac")")")
    if wimg_jdk_ok "$_home"; then JAVA_HOME=$_home; export JAVA_HOME; return 0; fi
  fi
  for _home in /usr/lib/jvm/*; do
    if wimg_jdk_ok "$_home"; then JAVA_HOME=$_home; export JAVA_HOME; return 0; fi
  done
  return 1
}
