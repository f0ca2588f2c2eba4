// go_json: encoding/json on the frames wspulse-micro-codec measures, the way the Go client and
// hub code a frame (json.Marshal / json.Unmarshal of Frame, the payload a json.RawMessage).
//
//	go_json -frames DIR [-benchtime 0.3s]
//
// DIR holds the encoded messages `wspulse-micro-codec --write-frames=DIR` wrote. Each message
// is decoded, and encoding the result must give back the very same bytes, or the program
// exits 1: both sides then code identical frames. Prints one JSON line per frame and
// direction: {"frame":"realistic/64","op":"encode","ns_per_op":…,"allocs_per_op":…,"bytes":…}.
// Standard library only. tools/json_vs_go.py runs it next to the C++ codec.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Frame is the wspulse wire frame as the Go client and hub declare it.
type Frame struct {
	ID      string          `json:"id,omitempty"`
	Event   string          `json:"event,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

type result struct {
	Frame       string  `json:"frame"`
	Op          string  `json:"op"`
	NsPerOp     float64 `json:"ns_per_op"`
	AllocsPerOp int64   `json:"allocs_per_op"`
	Bytes       int     `json:"bytes"`
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "go_json: "+format+"\n", args...)
	os.Exit(1)
}

func nsPerOp(r testing.BenchmarkResult) float64 {
	return float64(r.T.Nanoseconds()) / float64(r.N)
}

func main() {
	testing.Init()
	dir := flag.String("frames", "", "directory of encoded messages (wspulse-micro-codec --write-frames=DIR)")
	benchtime := flag.String("benchtime", "0.3s", "time per benchmark (testing's -test.benchtime)")
	flag.Parse()
	if *dir == "" {
		fail("-frames DIR is required")
	}
	if err := flag.Set("test.benchtime", *benchtime); err != nil {
		fail("-benchtime: %v", err)
	}
	files, err := filepath.Glob(filepath.Join(*dir, "*.json"))
	if err != nil || len(files) == 0 {
		fail("no *.json in %s", *dir)
	}
	sort.Strings(files)

	out := json.NewEncoder(os.Stdout)
	for _, file := range files {
		wire, err := os.ReadFile(file)
		if err != nil {
			fail("%v", err)
		}
		name := strings.Replace(strings.TrimSuffix(filepath.Base(file), ".json"), "_", "/", 1)
		var f Frame
		if err := json.Unmarshal(wire, &f); err != nil {
			fail("%s: %v", file, err)
		}
		again, err := json.Marshal(f)
		if err != nil || !bytes.Equal(again, wire) {
			fail("%s: json.Marshal does not give back the message's bytes (%d vs %d bytes)", file, len(again), len(wire))
		}

		encode := testing.Benchmark(func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := json.Marshal(f); err != nil {
					b.Fatal(err)
				}
			}
		})
		decode := testing.Benchmark(func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				var g Frame // fresh, as each inbound message gets
				if err := json.Unmarshal(wire, &g); err != nil {
					b.Fatal(err)
				}
			}
		})
		for _, r := range []result{
			{name, "encode", nsPerOp(encode), encode.AllocsPerOp(), len(wire)},
			{name, "decode", nsPerOp(decode), decode.AllocsPerOp(), len(wire)},
		} {
			if err := out.Encode(r); err != nil {
				fail("%v", err)
			}
		}
	}
}
