# Helpers shared by the benchmark scripts (sourced, not run).
# median: the median of numbers on stdin, one a line.
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# measure CMD...: runs CMD $runs times, each after clearing $work/cache and $work/out, and prints
# "median_seconds median_peak_rss_kib median_cpu_seconds" (seconds to the millisecond from bash's
# clock around the run: /usr/bin/time's own %e has 10 ms steps, 10 % of a 0.1 s listing; RSS and
# CPU from /usr/bin/time, CPU being user + system), or "nan nan nan" if it fails.
measure() {
    local t=() r=() c=() s m u k t0 t1
    for _ in $(seq "$runs"); do
        rm -rf "$work/cache" "$work/out" "$work/curl.out"; mkdir -p "$work/out"; sync
        t0=$EPOCHREALTIME
        /usr/bin/time -f "%e %M %U %S" -o "$work/time" "$@" >/dev/null 2>"$work/err" || { echo "failed: $* ($(tail -1 "$work/err"))" >&2; echo "nan nan nan"; return; }
        t1=$EPOCHREALTIME
        read -r s m u k < "$work/time"; s=$(echo "$t0 $t1" | awk '{printf "%.3f", $2 - $1}')
        t+=("$s"); r+=("$m"); c+=("$(echo "$u $k" | awk '{print $1 + $2}')")
    done
    echo "$(printf '%s\n' "${t[@]}" | median) $(printf '%s\n' "${r[@]}" | median) $(printf '%s\n' "${c[@]}" | median)"
}
