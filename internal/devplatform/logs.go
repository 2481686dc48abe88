package devplatform

import (
	"io"
	"os"
	"strings"
)

// logMark starts the line tenantctl writes into a service's log before each
// start, so an error shows the lines of the failed start only.
const logMark = "--- tenantctl: "

// tailLines is how many log lines an error about a failed start carries.
const tailLines = 15

// logTail returns the last lines logged since the last start in the file at
// path, formatted to end an error message, or "" if there are none.
func logTail(path string) string {
	lines := lastLines(path, tailLines)
	if len(lines) == 0 {
		return ""
	}
	return "; last lines of " + path + ":\n    " + strings.Join(lines, "\n    ")
}

func lastLines(path string, n int) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	const window = 64 << 10
	if fi, err := f.Stat(); err == nil && fi.Size() > window {
		if _, err := f.Seek(-window, io.SeekEnd); err != nil {
			return nil
		}
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil
	}
	s := string(b)
	if i := strings.LastIndex(s, logMark); i >= 0 {
		if j := strings.IndexByte(s[i:], '\n'); j >= 0 {
			s = s[i+j+1:]
		} else {
			s = ""
		}
	}
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimRight(l, "\r "); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}

// rotateLog keeps one previous generation of a log that grew past 16 MiB,
// so a long-lived platform does not fill the disk.
func rotateLog(path string) {
	if fi, err := os.Stat(path); err == nil && fi.Size() > 16<<20 {
		os.Rename(path, path+".1")
	}
}
