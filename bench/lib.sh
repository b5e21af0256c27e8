# lib.sh: what the benches that start a private ebbd as root share
# (sourced, bash): bench_root NAME TOOL... checks root and the tools;
# bench_dir NAME makes the scratch directory T (searchable by everyone)
# with copies of ebbd, ebb and ebb-run from BUILD in T/bin, where other
# users can run them (the build may be in a private home), and sets EBBD,
# EBB, EBB_RUN and EBB_SOCKET; bench_ebb_user creates the system user the
# daemon's worker runs as.

bench_root() {
	local name=$1 p
	shift
	[ "$(id -u)" = 0 ] || { echo "$name: run as root (sudo)" >&2; exit 2; }
	for p in "$@"; do
		command -v "$p" >/dev/null || { echo "$name: needs $p" >&2; exit 2; }
	done
}

bench_dir() {
	local b
	T=$(mktemp -d "/tmp/ebb-$1.XXXXXX") || exit 2
	chmod 755 "$T"
	mkdir -p "$T/bin"
	for b in scheduler/ebbd scheduler/cli/ebb runner/ebb-run; do
		cp "$BUILD/$b" "$T/bin/" || exit 2
	done
	EBBD=$T/bin/ebbd
	EBB=$T/bin/ebb
	export EBB_RUN=$T/bin/ebb-run
	export EBB_SOCKET=$T/ebbd.sock
}

bench_ebb_user() {
	id ebb >/dev/null 2>&1 ||
	    useradd --system --no-create-home --shell /usr/sbin/nologin ebb ||
	    exit 2
}
