// Command testreport prints the output of failed tests from `go test -json`
// on stdin, so CI logs show why a test failed without the whole stream.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"
)

type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

func main() {
	outputs := map[string][]string{}
	var failed []string
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e event
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			continue
		}
		key := e.Package + " " + e.Test
		switch e.Action {
		case "output":
			outputs[key] = append(outputs[key], e.Output)
		case "fail":
			failed = append(failed, key)
		}
	}
	sort.Strings(failed)
	for _, k := range failed {
		fmt.Printf("=== FAIL %s\n", k)
		lines := outputs[k]
		if len(lines) > 200 {
			lines = lines[len(lines)-200:]
		}
		for _, l := range lines {
			fmt.Print(l)
		}
	}
}
