# Helpers shared by the benchmark scripts (sourced, not run).
# median: the median of numbers on stdin, one a line.
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# measure CMD...: runs CMD $runs times, each after clearing $work/cache and $work/out, and prints
# "median_seconds median_peak_rss_kib median_cpu_seconds" (from /usr/bin/time; CPU is user +
# system), or "nan nan nan" if it fails.
measure() {
    local t=() r=() c=() s m u k
    for _ in $(seq "$runs"); do
        rm -rf "$work/cache" "$work/out" "$work/curl.out"; mkdir -p "$work/out"; sync
        /usr/bin/time -f "%e %M %U %S" -o "$work/time" "$@" >/dev/null 2>"$work/err" || { echo "failed: $* ($(tail -1 "$work/err"))" >&2; echo "nan nan nan"; return; }
        read -r s m u k < "$work/time"; t+=("$s"); r+=("$m"); c+=("$(echo "$u $k" | awk '{print $1 + $2}')")
    done
    echo "$(printf '%s\n' "${t[@]}" | median) $(printf '%s\n' "${r[@]}" | median) $(printf '%s\n' "${c[@]}" | median)"
}
