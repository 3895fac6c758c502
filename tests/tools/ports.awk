# tests/tools/ports.awk - no two test files name the same host port.
# The test files run in two lanes at once (tests/run), and a port is the
# host's whichever LXD a test uses: a proxy device of one test's container
# on another test's port makes the other fail now and then, never twice
# alike. Reads the files; for each number or range "A-B" within
# 62000-64999 (the band the tests take ports from; test uids sit above
# 65000), notes the file. Prints each pair of files that share a port,
# and exits 1 if there is one.
{
	line = $0
	while (match(line, /[0-9]+(-[0-9]+)?/)) {
		tok = substr(line, RSTART, RLENGTH)
		line = substr(line, RSTART + RLENGTH)
		n = split(tok, ab, "-")
		a = ab[1] + 0
		b = a
		if (length(ab[1]) != 5 || a < 62000 || a > 64999)
			continue
		if (n > 1 && length(ab[2]) == 5 && ab[2] + 0 >= a && ab[2] + 0 <= 64999)
			b = ab[2] + 0
		k++
		f[k] = FILENAME
		lo[k] = a
		hi[k] = b
	}
}
END {
	bad = 0
	for (i = 1; i <= k; i++)
		for (j = i + 1; j <= k; j++)
			if (f[i] != f[j] && lo[i] <= hi[j] && lo[j] <= hi[i] &&
			    !((f[i], lo[i], hi[i], f[j], lo[j], hi[j]) in seen)) {
				seen[f[i], lo[i], hi[i], f[j], lo[j], hi[j]] = 1
				printf "%s (%d-%d) and %s (%d-%d) share host ports\n",
				    f[i], lo[i], hi[i], f[j], lo[j], hi[j]
				bad = 1
			}
	exit bad
}
